"""The database goes away and comes back: 503 with a friendly page, then recovery, no restart.

Runs the real app (gunicorn, one worker with a persistent connection) against a
throwaway PostgreSQL of its own, so the shared server other tests use keeps running.
"""

from __future__ import annotations

import contextlib
import glob
import http.cookiejar
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import date
from pathlib import Path

import pytest

from stretches.screening import QUESTIONS
from tests.conftest import PASSWORD, session_post
from tests.hardening.conftest import BASE_DIR, FIGURES

FRIENDLY = "EaseBack is briefly unavailable"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


class ThrowawayPostgres:
    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="easeback-pg-"))
        self.port = free_port()
        shutil.chown(self.dir, "postgres", "postgres")

    def as_postgres(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def init(self) -> None:
        self.as_postgres(
            str(self.bin / "initdb"),
            "-D",
            str(self.dir / "data"),
            "--auth=trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.as_postgres(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.dir / "data"),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self.as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", mode, "-w", "stop"
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def count_sessions(self, client_token: str) -> int:
        import psycopg

        with psycopg.connect(self.url.replace("postgres://", "postgresql://")) as conn:
            return conn.execute(
                "SELECT count(*) FROM tracking_session WHERE client_token = %s", (client_token,)
            ).fetchone()[0]

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Browser:
    """urllib with cookies, no redirect following, and the CSRF token kept from each page."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect()
        )
        self.csrf = ""

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, dict]:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": self.csrf}, doseq=True)
        req = urllib.request.Request(self.base + path, data=body and body.encode())
        try:
            with self.opener.open(req, timeout=15) as response:
                status, text, headers = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, headers = error.code, error.read().decode(), error.headers
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', text)
        if token:
            self.csrf = token[1]
        return status, text, dict(headers)


def start_app(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [str(gunicorn), "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "30"],
        cwd=BASE_DIR,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def wait_until_healthy(app: Browser, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if app.request("/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the app did not answer /healthz with 200")


def assert_friendly_503(status: int, text: str, headers: dict) -> None:
    assert status == 503, (status, text[:300])
    assert FRIENDLY in text
    for detail in ("Traceback", "OperationalError", "psycopg", "127.0.0.1", "SECRET_KEY", "File "):
        assert detail not in text
    assert headers.get("Retry-After") == "30"
    assert "default-src 'none'" in headers.get("Content-Security-Policy", "")


@pytest.mark.postgres_only
def test_database_outage_answers_503_writes_nothing_and_recovers_without_restart():
    bin_dir = postgres_bin()
    if bin_dir is None or shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL's initdb/pg_ctl and root (to run them as postgres)")
    database = ThrowawayPostgres(bin_dir)
    app_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env |= {"DJANGO_DEBUG": "true", "DATABASE_URL": database.url, "PYTHONDONTWRITEBYTECODE": "1"}
    log = database.dir / "app.log"
    app_process = None
    try:
        database.init()
        database.start()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input"],
            cwd=BASE_DIR,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        app_process = start_app(env, app_port, log)
        base = f"http://127.0.0.1:{app_port}"
        user, visitor = Browser(base), Browser(base)
        wait_until_healthy(user)

        # A user who signs up, is screened clear, starts today and logs one session.
        user.request("/accounts/signup/")
        signup = {"username": "outage", "time_zone": "UTC"}
        signup |= {"password1": PASSWORD, "password2": PASSWORD}
        assert user.request("/accounts/signup/", signup)[0] == 302
        user.request("/screening/")
        answers = {f"q_{q.id}": "no" for q in QUESTIONS} | {"step": "all"}
        assert user.request("/screening/", answers)[0] == 302
        user.request("/today/")
        start = {"programme_start": date.today().isoformat()}
        assert user.request("/account/start/", start)[0] == 302
        assert user.request("/today/")[0] == 200
        before = session_post(client_token=str(uuid.uuid4()))
        assert user.request("/today/log/", before)[0] == 302
        assert database.count_sessions(before["client_token"]) == 1
        visitor.request("/accounts/login/")

        database.stop("fast")

        assert visitor.request("/healthz")[0] == 503
        assert_friendly_503(*user.request("/today/"))
        assert_friendly_503(*user.request("/sessions/"))
        assert_friendly_503(*visitor.request("/stretches/"))
        login = {"username": "outage", "password": PASSWORD}
        assert_friendly_503(*visitor.request("/accounts/login/", login))
        during = session_post(client_token=str(uuid.uuid4()))
        assert_friendly_503(*user.request("/today/log/", during))

        database.start()

        wait_until_healthy(visitor, seconds=10)
        assert app_process.poll() is None  # the same app process, never restarted
        status, text, _ = user.request("/today/")
        assert status == 200, text[:300]  # still signed in: the session survived
        assert database.count_sessions(before["client_token"]) == 1  # nothing lost
        assert database.count_sessions(during["client_token"]) == 0  # nothing half-written
        assert user.request("/today/log/", during)[0] == 302  # the retry goes through
        assert database.count_sessions(during["client_token"]) == 1
        FIGURES["other"]["outage: rows lost / half-written"] = 0
    finally:
        if app_process is not None:
            app_process.terminate()
            try:
                app_process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                app_process.kill()
        if log.exists() and app_process is not None and app_process.returncode not in (0, -15):
            print(log.read_text()[-3000:])
        database.remove()
