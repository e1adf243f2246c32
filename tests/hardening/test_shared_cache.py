"""Two real gunicorn workers sharing one real Redis: a revocation in one is obeyed by the
other on its very next request (issue 15).

gunicorn runs the production settings (bench.settings: the same, with static files
collected into a temp folder) with 2 worker processes, REDIS_URL pointing at the test
run's own Redis database and DATABASE_URL at the test database. Each test signs in through
the real login form, holds one keep-alive connection to each worker (told apart by which
process owns the server side of the socket), loads /today/ in both so each has the
session and the user in the shared cache, then signs out, changes the password, deletes
the account, reports a stop signal or answers a red flag in one worker, and the other
worker's next request is refused or sent to the screening.
"""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest
from django.conf import global_settings
from django.core.cache import cache

from accounts.cached_sessions import KEY_PREFIX as SESSION_PREFIX
from tests.factories import make_user, session_post
from tests.hardening.conftest import BASE_DIR, production_env
from tests.hardening.test_proxy import free_port, wait_for_port

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)"),
]

SESSION_COOKIE, CSRF_COOKIE = "__Host-sessionid", "__Host-csrftoken"
PASSWORD = "amber-meadow-kettle-47"  # noqa: S105
NEW_PASSWORD = "quiet-harbour-lantern-91"  # noqa: S105
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def gunicorn(django_db_setup, django_db_blocker):
    from django.db import connection

    with django_db_blocker.unblock():
        db = connection.settings_dict
    folder = Path(tempfile.mkdtemp(prefix="easeback-shared-cache-"))
    port = free_port()
    env = production_env(
        DJANGO_SETTINGS_MODULE="bench.settings",
        EASEBACK_BENCH_STATIC_ROOT=str(folder / "static"),
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=os.environ["REDIS_URL"],
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=300,
    )
    binary = Path(sys.executable).parent / "gunicorn"
    log = (folder / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [str(binary), "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "2", "--threads", "2", "--keep-alive", "120"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port)
        yield Server(process, port, folder / "gunicorn.log")
    finally:
        process.terminate()
        process.wait(20)
        log.close()


class Server:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process, self.port, self.log = process, port, log

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            pids = [int(pid) for pid in children.read_text().split()]
            if len(pids) == 2:
                return pids
            time.sleep(0.1)
        raise AssertionError(f"gunicorn has not 2 workers: {pids}")

    def worker_of(self, conn: http.client.HTTPConnection) -> int:
        """The worker process that holds the server side of this keep-alive connection."""
        client_port = conn.sock.getsockname()[1]
        inode = None
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.split(":")[1], 16) == self.port and (
                int(remote.split(":")[1], 16) == client_port
            ):
                inode = fields[9]
        assert inode, "no server-side socket for this connection"
        for pid in self.worker_pids():
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        raise AssertionError("no worker holds this connection")


class Browser:
    """One keep-alive connection (so one worker) and its own cookie jar."""

    def __init__(self, server: Server, cookies: dict[str, str] | None = None):
        self.server = server
        self.cookies = cookies if cookies is not None else {}
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)

    def request(self, method: str, path: str, form: dict | None = None):
        headers = {"Host": "127.0.0.1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            token = self.csrf_token
            body = urllib.parse.urlencode({**form, "csrfmiddlewaretoken": token}, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        text = response.read().decode()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie_name, cookie_value = value.split(";", 1)[0].split("=", 1)
                if cookie_value and "max-age=0" not in value.lower():
                    self.cookies[cookie_name] = cookie_value
                else:
                    self.cookies.pop(cookie_name, None)
        match = CSRF_TOKEN.search(text)
        if match:
            self._csrf = match.group(1)
        return response.status, response.getheader("Location", ""), text

    @property
    def csrf_token(self) -> str:
        if not getattr(self, "_csrf", None):
            self.request("GET", "/accounts/login/")
        return self._csrf

    def sign_in(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        status, location, _ = self.request(
            "POST", "/accounts/login/", {"username": username, "password": PASSWORD}
        )
        assert status == 302 and SESSION_COOKIE in self.cookies, (status, location)

    def close(self) -> None:
        self.conn.close()


def one_browser_per_worker(server: Server, sessions: list[dict[str, str]]) -> list[Browser]:
    """Keep-alive connections to two different workers, carrying the given cookies."""
    found: dict[int, Browser] = {}
    for _ in range(60):
        browser = Browser(server, dict(sessions[len(found)]))
        assert browser.request("GET", "/healthz")[0] == 200
        pid = server.worker_of(browser.conn)
        if pid in found:
            browser.close()
            continue
        found[pid] = browser
        if len(found) == 2:
            return list(found.values())
    raise AssertionError("every connection went to the same worker")


@pytest.fixture
def member(settings):
    # gunicorn checks passwords with the production hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    user = make_user("two-workers", start="today")
    user.set_password(PASSWORD)
    user.save()
    return user


def signed_in_everywhere(gunicorn: Server, member, *, same_session: bool) -> list[Browser]:
    first = Browser(gunicorn)
    first.sign_in(member.username)
    second_cookies = dict(first.cookies)
    if not same_session:  # another device: a login session of its own
        other = Browser(gunicorn)
        other.sign_in(member.username)
        second_cookies = dict(other.cookies)
        other.close()
    first.close()
    a, b = one_browser_per_worker(gunicorn, [dict(first.cookies), second_cookies])
    for browser in (a, b):
        status, location, text = browser.request("GET", "/today/")
        assert status == 200, (status, location, gunicorn.log.read_text()[-3000:])
    # Both workers now read this user and these sessions from the shared cache.
    assert cache.get(f"account:{member.pk}") is not None
    assert cache.get(f"profile:{member.pk}") is not None
    for browser in (a, b):
        assert cache.get(SESSION_PREFIX + browser.cookies[SESSION_COOKIE]) is not None
    return [a, b]


def assert_signed_out(browser: Browser) -> None:
    status, location, _ = browser.request("GET", "/today/")
    assert (status, location) == (302, "/accounts/login/?next=/today/")


def assert_sent_to_screening(browser: Browser) -> None:
    status, location, _ = browser.request("GET", "/today/")
    assert (status, location) == (302, "/screening/")


def test_logout_in_one_worker_signs_the_session_out_in_the_other(gunicorn, member):
    a, b = signed_in_everywhere(gunicorn, member, same_session=True)
    assert a.request("POST", "/accounts/logout/", {})[0] == 302

    assert_signed_out(b)


def test_password_change_in_one_worker_signs_other_devices_out_in_the_other(gunicorn, member):
    a, b = signed_in_everywhere(gunicorn, member, same_session=False)
    a.request("GET", "/accounts/password/")
    form = {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    status, location, _ = a.request("POST", "/accounts/password/", form)
    assert (status, location) == (302, "/account/")

    assert_signed_out(b)
    assert a.request("GET", "/today/")[0] == 200  # the device that changed it stays in


def test_deleting_the_account_in_one_worker_signs_it_out_in_the_other(gunicorn, member):
    a, b = signed_in_everywhere(gunicorn, member, same_session=False)
    a.request("GET", "/account/delete/")
    status, _, _ = a.request("POST", "/account/delete/", {"password": PASSWORD})
    assert status == 302

    assert_signed_out(b)


def test_a_stop_signal_in_one_worker_pauses_the_plan_in_the_other(gunicorn, member):
    a, b = signed_in_everywhere(gunicorn, member, same_session=False)
    form = session_post(stop_signals=["cramp"])
    status, location, _ = a.request("POST", "/today/log/", form)
    assert (status, location) == (302, "/screening/")

    assert_sent_to_screening(b)


def test_a_session_logged_in_one_worker_shows_at_once_in_the_other(gunicorn, member):
    """A plain session retires only the profile row kept beside the user (lib.cache): the
    other worker still reads it again, so its progress page counts the new session."""

    def shown(browser) -> str:
        status, _, text = browser.request("GET", "/progress/")
        assert status == 200
        match = re.search(r": (\d+) sessions? on \d+ days?", text)
        return match.group(1) if match else "0"

    a, b = signed_in_everywhere(gunicorn, member, same_session=False)
    assert shown(b) == "0"  # and now cached in b's worker, under the old versions
    a.request("POST", "/today/lasting-pain/", {"lasting": "no"})
    status, location, _ = a.request("POST", "/today/log/", session_post())
    assert (status, location) == (302, "/today/")

    assert shown(b) == "1"


def test_a_red_flag_in_one_worker_blocks_the_plan_in_the_other(gunicorn, member):
    from stretches.screening import QUESTIONS

    a, b = signed_in_everywhere(gunicorn, member, same_session=False)
    a.request("GET", "/screening/")
    answers = {f"q_{q.id}": "no" for q in QUESTIONS} | {"q_bladder_bowel": "yes", "step": "all"}
    status, location, _ = a.request("POST", "/screening/", answers)
    assert (status, location) == (302, "/screening/")

    assert_sent_to_screening(b)


def test_a_stretch_edited_elsewhere_shows_at_once_in_both_workers(gunicorn, member):
    """The catalogue is read from the shared cache too: a save anywhere (here the test
    process, as the admin in any worker would) retires it for every worker."""
    from stretches.models import Exercise

    a, b = signed_in_everywhere(gunicorn, member, same_session=False)
    stretch = Exercise.objects.get(slug="single-knee-to-chest")
    for browser in (a, b):
        assert stretch.name in browser.request("GET", "/today/")[2]
    stretch.name = "One knee to the chest"
    stretch.save()

    for browser in (a, b):
        status, _, text = browser.request("GET", "/today/")
        assert status == 200 and "One knee to the chest" in text
