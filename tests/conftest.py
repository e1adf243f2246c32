"""Shared fixtures: users in a known state, sessions, and the real browser."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import settings as hypothesis_settings

# Helpers live in tests/factories.py and tests/pages.py; imported here for the fixtures
# and for older tests that import them from conftest.
from tests.factories import (  # noqa: F401
    PASSWORD,
    all_no,
    exercise,
    make_screening,
    make_session,
    make_user,
    session_post,
)

# Hypothesis: quick while developing, the full counts in CI (the "ci" profile whenever CI
# is set; .ci/run sets it; HYPOTHESIS_PROFILE picks one by hand).
hypothesis_settings.register_profile("ci", deadline=None, database=None)
hypothesis_settings.register_profile("dev", max_examples=25, deadline=None, database=None)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)

# Playwright's sync API runs an event loop in the test thread; the ORM calls made by
# the test itself (fixtures, assertions) are still plain synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("EASEBACK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session", autouse=True)
def _dedicated_redis_database():
    """With REDIS_URL (CI's PostgreSQL pass) the tests share one Redis database: their own.

    It is flushed at the start and before every test, so it must not be database 0, where
    a developer's own data would be.
    """
    url = os.environ.get("REDIS_URL")
    if not url:
        return
    from urllib.parse import urlsplit

    from django.core.cache import cache

    number = urlsplit(url).path.strip("/") or "0"
    if number == "0":
        pytest.exit(
            "REDIS_URL for the tests must name a Redis database of their own (not 0), "
            "e.g. redis://127.0.0.1:6379/5: the tests flush it.",
            returncode=4,
        )
    cache.clear()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """SQLite: the test database in a file, not in memory. Django shares one in-memory
    connection between the test and every live-server thread (browser tests), so two
    requests at once (a page and the service worker's fetch) can interleave their
    savepoints on it ("no such savepoint"); with a file each thread has its own."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        folder = tmp_path_factory.mktemp("sqlite")
        database.setdefault("TEST", {})["NAME"] = str(folder / "test.sqlite3")


# Rows Django's post_migrate signal writes after every flush, the same each time: a flush
# keeps them instead of deleting them for the signal to insert them again.
KEPT_BY_FLUSH = frozenset({"django_content_type", "auth_permission"})


@pytest.fixture(scope="session", autouse=True)
def _quicker_flush():
    """After each transactional test (every browser test) Django empties every table.

    Two costs in it do nothing for a test. On PostgreSQL the emptying is one TRUNCATE of
    all ~30 tables, which PostgreSQL makes durable file by file: about 0.1 s, for tables
    holding a few rows; DELETE empties them just as well, in the same transaction (the
    foreign keys are deferred, so the order does not matter). Then post_migrate inserts
    the content types and permissions again (~80 rows): they are kept instead, and the
    signal still runs and finds them all. Every other table, the ones tests write (users,
    groups, their permissions, sessions...), is emptied as before.
    """
    from django.db import connection

    operations = type(connection.ops)
    original = operations.sql_flush
    delete = connection.vendor == "postgresql"  # SQLite's flush is DELETE already

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        tables = [t for t in tables if t not in KEPT_BY_FLUSH]
        if reset_sequences or allow_cascade or not delete:
            return original(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [f"{style.SQL_KEYWORD('DELETE FROM')} {self.quote_name(t)};" for t in tables]

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = original


@pytest.fixture(autouse=True)
def _empty_cache():
    # Each test's database starts afresh (and may reuse ids), so its cache must too.
    from django.core.cache import cache

    import tracking.plan

    cache.clear()
    tracking.plan.forget_kept()  # keyed like the cache's entries: the same ids again


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is deliberately slow; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _uses_transactional_db(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture(autouse=True)
def _catalogue_after_flush(request):
    """Transactional tests empty every table, the shipped catalogue included: reload it.

    The catalogue is data the app ships with (migration 0002), so every test, like every
    real database, starts with the five stretches.
    """
    if _uses_transactional_db(request):
        request.getfixturevalue("transactional_db")
        import importlib

        from django.apps import apps

        importlib.import_module("stretches.migrations.0002_catalogue").load_catalogue(apps, None)


@pytest.fixture
def user(db):
    return make_user("alice")


@pytest.fixture
def other_user(db):
    return make_user("mallory")


@pytest.fixture
def staff_client(client, db):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("admin", "a@example.com", "admin-Pass-91")
    client.force_login(admin)
    return client


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


# --- The real browser -------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it with 'apt-get install -y chromium'. "
            "Browser tests never skip silently."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    # Hashed static names do not exist under live_server: serve the plain files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console_errors = []
    page.on(
        "console",
        lambda msg: page.console_errors.append(msg.text) if msg.type == "error" else None,
    )
    yield page
    context.close()


# The live server's address, for cookies given to a browser before its first page.
_live_server_url: list[str] = []


@pytest.fixture(scope="session")
def live_server(live_server):
    _live_server_url[:] = [live_server.url]
    return live_server


def browser_login(page, username: str, password: str = PASSWORD, *, through_form=False) -> None:
    """Sign ``username`` in on ``page``'s browser.

    ``through_form`` fills in and sends the log-in form, and leaves the page where the form
    redirects to. Otherwise the session is made the way the form's view makes it (the
    password checked, then ``django.contrib.auth.login`` through the backend that accepts
    it, so the log-in signals run), and its cookie given to the browser; the page stays
    where it was, usually blank before the test's first ``goto``. This spares each test
    the log-in page, the form's post and the page it lands on (about a second each on a
    busy machine); logging in through the form in a real browser is itself tested by the
    tests that pass ``through_form=True`` and by the accessibility walk's log-in pages.
    """
    if through_form:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state()
        return
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user = get_user_model().objects.get(username=username)
    assert user.check_password(password), f"{username}'s password is not {password!r}"
    client = Client()
    client.force_login(user, backend="accounts.backends.ProfileModelBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": cookie.value,
                "url": _live_server_url[0],
                "httpOnly": settings.SESSION_COOKIE_HTTPONLY,
                "secure": settings.SESSION_COOKIE_SECURE,
                "sameSite": settings.SESSION_COOKIE_SAMESITE or "None",
            }
        ]
    )


# --- Proof that browser tests ran -----------------------------------------------------

_browser_outcomes: list[str] = []


def pytest_runtest_logreport(report):
    if "browser" in report.keywords and (report.when == "call" or report.skipped):
        _browser_outcomes.append(report.outcome)


def pytest_sessionfinish(session, exitstatus):
    # CI sets EASEBACK_REQUIRE_BROWSER=1: a run where no browser test passed, or one
    # was skipped, fails instead of looking green.
    if os.environ.get("EASEBACK_REQUIRE_BROWSER") != "1":
        return
    if not _browser_outcomes or "skipped" in _browser_outcomes:
        print(f"\nBrowser tests required but outcomes were {_browser_outcomes or 'none'}: failing.")
        session.exitstatus = 1


@pytest.fixture
def clear_of_midnight():
    """Noon today (UTC, the factories' default zone), the clock ticking on from there,
    for tests whose sessions must all fall on one day.

    A plain session moves only the data version when it is logged more than
    ``MIDNIGHT_MARGIN`` (5 minutes) before the person's day ends
    (``tracking.services._on_local_today``); in those last minutes it moves the history
    too, and the plan made before the write is not written. And a session placed minutes
    or hours before now (the flare's full day) lands on yesterday in the first hours after
    midnight. Such tests failed when CI ran just before or after midnight UTC (found by
    moving every test's clock to 23:57, 00:04 and 00:50)."""
    import time_machine
    from django.utils import timezone

    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon, tick=True):
        yield
