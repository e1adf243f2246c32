"""Login sessions: indexed by user, purged when expired, never cached by the browser."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.backends.base import SessionBase
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import LoginSession, ThrottledAttempt
from accounts.services import erase_account
from tests.conftest import PASSWORD, make_user
from tests.hardening.conftest import production_env, run_python

pytestmark = pytest.mark.django_db


def other_sessions(count: int) -> None:
    """Sessions of other people, signed in and anonymous, as the table holds them."""
    people = [make_user() for _ in range(3)]
    encoded = SessionBase().encode({"_auth_user_id": "0"})
    expiry = timezone.now() + timedelta(days=7)
    LoginSession.objects.bulk_create(
        LoginSession(
            session_key=f"other{n:035d}",
            session_data=encoded,
            expire_date=expiry,
            user=people[n % 3] if n % 2 else None,
        )
        for n in range(count)
    )


def erase_queries(count: int) -> list[str]:
    other_sessions(count)
    user = make_user()
    Client().force_login(user)
    with CaptureQueriesContext(connection) as captured:
        erase_account(user)
    return [q["sql"] for q in captured.captured_queries]


def test_ending_a_users_sessions_reads_none_of_anyone_elses():
    few = erase_queries(0)
    LoginSession.objects.all().delete()
    many = erase_queries(500)

    assert len(few) == len(many)
    touching = [sql for sql in many if "accounts_loginsession" in sql]
    assert touching and all("user_id" in sql for sql in touching), touching
    assert LoginSession.objects.count() == 500  # everyone else stays signed in


def test_a_login_records_its_user_on_the_session_row(client):
    user = make_user("alice")
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    row = LoginSession.objects.get(session_key=client.session.session_key)

    assert row.user == user


def test_purge_removes_expired_sessions_and_old_throttle_counts_only():
    other_sessions(4)
    LoginSession.objects.filter(session_key__endswith="1").update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    now = timezone.now()
    ThrottledAttempt.objects.create(action="login", client="a", at=now - timedelta(hours=2))
    ThrottledAttempt.objects.create(action="login", client="a", at=now)

    call_command("purge_expired", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert LoginSession.objects.count() == 3
    assert LoginSession.objects.filter(expire_date__lt=timezone.now()).count() == 0
    assert list(ThrottledAttempt.objects.values_list("at", flat=True)) == [now]


def test_signed_in_pages_are_never_stored_by_the_browser(signed_in):
    for url in ("/today/", "/sessions/", "/progress/", "/account/", "/progress/export.csv"):
        response = signed_in.get(url)
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives, (url, response["Cache-Control"])


def test_pages_for_visitors_are_not_marked_private(client):
    assert "private" not in client.get("/stretches/").get("Cache-Control", "")


def test_messages_ride_in_the_session_not_in_a_cookie_of_their_own(signed_in):
    response = signed_in.post("/account/", {"time_zone": "UTC", "phase": "standard"})

    assert response.status_code == 302
    assert "messages" not in response.cookies
    assert "Your settings are saved." in signed_in.get(response.url).text


@pytest.mark.parametrize(
    "secret", ["change-me-to-a-long-random-string", "change-me", "build-only-not-secret"]
)
def test_the_app_refuses_to_start_with_a_placeholder_secret(secret):
    result = run_python("import django; django.setup()", production_env(DJANGO_SECRET_KEY=secret))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is a placeholder" in result.stderr
