"""Sessions, log-out, password rules, the idle timeout and brute-force protection."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from accounts.models import LoginSession
from tests.conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "quiet-Harbour-81"
LOCKED_TEXT = "Too many failed log-in attempts"


def log_in(client: Client, username: str, password: str = PASSWORD, ip: str = "203.0.113.7"):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def signed_in(client: Client) -> bool:
    response = client.get("/account/")
    return response.status_code == 200


# --- Sessions -------------------------------------------------------------------------


def test_session_key_changes_at_login_so_a_planted_key_is_useless(client):
    make_user("alice")
    planted = client.session  # a session the attacker knows, before login
    planted["seen"] = True
    planted.save()
    before = planted.session_key

    response = log_in(client, "alice")

    assert response.status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    assert not LoginSession.objects.filter(session_key=before).exists()
    assert client.session[SESSION_KEY]


def test_logout_needs_a_post_and_ends_the_session(client):
    client.force_login(make_user())
    key = client.session.session_key

    refused = client.get("/accounts/logout/")
    assert refused.status_code == 405
    assert signed_in(client)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert not LoginSession.objects.filter(session_key=key).exists()
    assert client.get("/today/").status_code == 302
    assert not signed_in(client)


def test_password_change_signs_out_the_users_other_sessions(client):
    user = make_user("alice")
    laptop, phone = client, Client()
    laptop.force_login(user)
    phone.force_login(user)
    stranger = Client()
    stranger.force_login(make_user("bob"))

    response = laptop.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    assert signed_in(laptop)  # the device that changed it stays in
    assert not signed_in(phone)
    assert phone.get("/today/").url.startswith("/accounts/login/")
    assert signed_in(stranger)  # nobody else is affected
    assert log_in(Client(), "alice", NEW_PASSWORD).status_code == 302


def test_idle_session_expires_after_the_documented_limit(settings):
    # Whatever limit is configured (14 days unless DJANGO_SESSION_IDLE_SECONDS says
    # otherwise; test_deploy checks that default) is the one enforced.
    idle = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    # Visits slide the expiry on (at most hourly), without writing on every request.
    assert not settings.SESSION_SAVE_EVERY_REQUEST
    user = make_user()
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        client = Client()
        client.force_login(user)
        assert client.get("/today/").status_code == 200

        # Every visit pushes the expiry on: two gaps just under the limit stay signed in.
        traveller.shift(idle - timedelta(minutes=5))
        assert client.get("/today/").status_code == 200
        traveller.shift(idle - timedelta(minutes=5))
        assert client.get("/today/").status_code == 200

        traveller.shift(idle + timedelta(minutes=1))
        response = client.get("/today/")

    assert response.status_code == 302
    assert response.url == "/accounts/login/?next=/today/"


# --- Passwords ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Ab1-xyz", "too short"),  # 7 characters
        ("iloveyou", "too common"),  # on Django's list of common passwords
        ("qwertyuiop", "too common"),
        ("38172940561", "entirely numeric"),
    ],
)
def test_weak_passwords_are_refused_at_sign_up_and_at_change(client, password, reason):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "newcomer",
            "password1": password,
            "password2": password,
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 200
    assert reason in response.text
    assert not LoginSession.objects.exists()

    user = make_user("alice")
    client.force_login(user)
    change = client.post(
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert change.status_code == 200
    assert reason in change.text
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


# --- Brute force ----------------------------------------------------------------------


def test_five_failures_lock_that_username_from_that_address(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    make_user("alice")
    make_user("bob")
    attacker = Client()

    statuses = [log_in(attacker, "alice", "wrong-guess").status_code for _ in range(5)]
    locked = log_in(attacker, "alice")  # even the right password is refused now

    assert statuses == [200, 200, 200, 200, 429]
    assert locked.status_code == 429
    assert LOCKED_TEXT in locked.text
    assert "15 minutes" in locked.text
    assert SESSION_KEY not in attacker.session
    # Another username from the same address, and the same username from elsewhere, are not.
    assert log_in(Client(), "bob").status_code == 302
    assert log_in(Client(), "alice", ip="198.51.100.20").status_code == 302


def test_lockout_lifts_after_the_cool_off(settings):
    make_user("alice")
    for _ in range(5):
        log_in(Client(), "alice", "wrong-guess")
    assert log_in(Client(), "alice").status_code == 429

    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(minutes=1)):
        assert log_in(Client(), "alice").status_code == 302


def normalised(response, username: str) -> str:
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "csrf", text)
    text = re.sub(r'"X-CSRFToken": "[^"]+"', "csrf", text)
    text = re.sub(r'nonce="[^"]+"', "nonce", text)
    return text.replace(f'value="{username}"', 'value="USERNAME"')


def test_unknown_username_and_wrong_password_get_the_same_answer():
    make_user("alice")

    unknown = log_in(Client(), "nobody-here", "wrong-guess")
    wrong = log_in(Client(), "alice", "wrong-guess")

    assert unknown.status_code == wrong.status_code == 200
    assert normalised(unknown, "nobody-here") == normalised(wrong, "alice")
    assert "Please enter a correct username and password" in wrong.text
