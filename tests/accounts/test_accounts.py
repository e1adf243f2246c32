"""Sign-up, log-in, log-out, the account page, health check, admin and start-up settings."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core.exceptions import ImproperlyConfigured

from accounts.models import Profile
from config.env import env_bool, env_database, env_time_zone
from tests.conftest import PASSWORD, make_user
from tests.pages import messages_of

User = get_user_model()
BASE_DIR = Path(__file__).resolve().parents[2]
STRONG = "quiet-Harbour-81"


def signup_post(**overrides) -> dict:
    data = {
        "username": "newcomer",
        "password1": STRONG,
        "password2": STRONG,
        "time_zone": "Europe/London",
    }
    data.update(overrides)
    return data


# --- Sign-up ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_signup_creates_user_and_profile_logs_in_and_lands_on_screening(client):
    response = client.post("/accounts/signup/", signup_post())

    assert response.status_code == 302
    assert response.url == "/screening/"
    user = User.objects.get(username="newcomer")
    assert user.check_password(STRONG)
    assert Profile.objects.get(user=user).time_zone == "Europe/London"
    assert client.session[SESSION_KEY] == str(user.pk)
    assert client.get("/screening/").status_code == 200


@pytest.mark.django_db
def test_signup_page_shows_the_form(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert 'name="username"' in response.text
    assert 'name="time_zone"' in response.text


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"username": "alice"}, "username", "already exists"),
        ({"password1": "password", "password2": "password"}, "password2", "too common"),
        ({"password1": "12345678", "password2": "12345678"}, "password2", "entirely numeric"),
        ({"password1": "Qw3-rty", "password2": "Qw3-rty"}, "password2", "too short"),
        ({"password2": "quiet-Harbour-82"}, "password2", "didn"),
        ({"time_zone": "Mars/Base"}, "time_zone", "Choose a time zone"),
    ],
    ids=["taken-username", "common", "numeric", "seven-chars", "mismatch", "bad-time-zone"],
)
def test_bad_signup_shows_the_field_error_and_creates_nothing(
    client, user, overrides, field, fragment
):
    users_before = User.objects.count()
    profiles_before = Profile.objects.count()

    response = client.post("/accounts/signup/", signup_post(**overrides))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert any(fragment in message for message in errors[field])
    assert fragment in response.text.replace("&#x27;", "'").replace("’", "'")
    assert User.objects.count() == users_before
    assert Profile.objects.count() == profiles_before
    assert SESSION_KEY not in client.session


def test_signed_in_user_visiting_signup_goes_to_today(signed_in):
    response = signed_in.get("/accounts/signup/")
    assert response.status_code == 302
    assert response.url == "/today/"


# --- Log in and out -----------------------------------------------------------------------


def test_login_with_the_right_password_signs_in_and_goes_to_today(client, user):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == "/today/"
    assert client.session[SESSION_KEY] == str(user.pk)


def test_login_with_the_wrong_password_is_refused(client, user):
    response = client.post("/accounts/login/", {"username": "alice", "password": "not-it-at-all"})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert response.context["form"].non_field_errors()


def test_logout_by_get_is_not_allowed_and_keeps_the_session(signed_in, user):
    response = signed_in.get("/accounts/logout/")

    assert response.status_code == 405
    assert signed_in.session[SESSION_KEY] == str(user.pk)


def test_logout_by_post_ends_the_session(signed_in):
    response = signed_in.post("/accounts/logout/")

    assert response.status_code == 302
    assert response.url == "/"
    assert SESSION_KEY not in signed_in.session
    after = signed_in.get("/today/")
    assert after.status_code == 302
    assert after.url.startswith("/accounts/login/")


def test_landing_page_for_visitors_and_today_for_signed_in_users(client, user):
    assert client.get("/").status_code == 200
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == "/today/"


# --- The account page ------------------------------------------------------------------------


def account_post(profile: Profile, **overrides) -> dict:
    data = {
        "time_zone": profile.time_zone,
        "programme_start": profile.programme_start.isoformat() if profile.programme_start else "",
        "phase": profile.phase,
        "sciatica_side": profile.sciatica_side,
    }
    if profile.desk_work:
        data["desk_work"] = "on"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def profile_state(user) -> tuple:
    profile = Profile.objects.get(user=user)
    return (
        profile.time_zone,
        profile.programme_start,
        profile.phase,
        profile.desk_work,
        profile.sciatica_side,
    )


def test_account_page_shows_the_settings(signed_in):
    response = signed_in.get("/account/")
    assert response.status_code == 200
    for name in ("time_zone", "programme_start", "phase", "desk_work", "sciatica_side"):
        assert f'name="{name}"' in response.text


def test_account_edits_time_zone_phase_start_desk_work_and_sciatica_side(signed_in, user):
    start = user.profile.local_today() - timedelta(days=40)
    response = signed_in.post(
        "/account/",
        account_post(
            user.profile,
            time_zone="Australia/Sydney",
            phase="acute",
            programme_start=start.isoformat(),
            desk_work="on",
            sciatica_side="left",
        ),
    )

    assert response.status_code == 302
    assert response.url == "/account/"
    assert profile_state(user) == ("Australia/Sydney", start, "acute", True, "left")
    page = signed_in.get("/account/")
    assert "Your settings are saved." in messages_of(page)


def test_account_can_turn_desk_work_and_sciatica_off_again(client, db):
    someone = make_user(desk_work=True, sciatica_side="right")
    client.force_login(someone)
    data = account_post(someone.profile, sciatica_side="")
    data.pop("desk_work")

    response = client.post("/account/", data)

    assert response.status_code == 302
    profile = Profile.objects.get(user=someone)
    assert profile.desk_work is False
    assert profile.sciatica_side == ""


@time_machine.travel("2025-06-10 12:00:00+00:00", tick=False)
@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"programme_start": "2025-06-11"}, "programme_start", "cannot be in the future"),
        ({"programme_start": "2023-06-10"}, "programme_start", "more than two years ago"),
        ({"programme_start": "not-a-date"}, "programme_start", "valid date"),
        ({"phase": "heroic"}, "phase", "Choose one of the phases"),
        ({"time_zone": "Mars/Base"}, "time_zone", "Choose a time zone"),
        ({"sciatica_side": "both"}, "sciatica_side", "valid choice"),
    ],
    ids=["future-start", "too-old-start", "garbage-start", "unknown-phase", "unknown-tz", "side"],
)
def test_account_refuses_bad_settings_with_a_message_and_changes_nothing(
    client, db, overrides, field, fragment
):
    # Built under the frozen clock, so the start date it keeps is a valid one.
    someone = make_user(start=date(2025, 5, 1))
    client.force_login(someone)
    before = profile_state(someone)
    valid_changes = {"desk_work": "on", "phase": "acute", "sciatica_side": "right"}

    response = client.post(
        "/account/", account_post(someone.profile, **{**valid_changes, **overrides})
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors
    assert any(fragment in message for message in errors[field])
    assert "Please correct the marked fields. Nothing was saved." in messages_of(response)
    assert profile_state(someone) == before


def test_account_accepts_a_start_exactly_two_years_back(signed_in, user):
    oldest = user.profile.local_today() - timedelta(days=2 * 365)
    response = signed_in.post("/account/", account_post(user.profile, programme_start=oldest))
    assert response.status_code == 302
    assert Profile.objects.get(user=user).programme_start == oldest


def test_account_needs_a_signed_in_user(client):
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


# --- Health check and admin ---------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_200_with_a_tiny_body(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert len(response.content) < 32
    assert response.content.strip() == b"ok"


@pytest.mark.django_db
def test_admin_is_reachable_for_staff(client):
    admin = User.objects.create_superuser("boss", "boss@example.com", STRONG)
    client.force_login(admin)
    response = client.get("/admin/")
    assert response.status_code == 200


def test_admin_redirects_a_normal_user_to_its_login(signed_in):
    response = signed_in.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")


# --- Start-up configuration ------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["maybe", "2", "tru"])
def test_env_bool_names_the_variable_when_the_value_is_not_a_boolean(monkeypatch, raw):
    monkeypatch.setenv("DJANGO_DEBUG", raw)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        env_bool("DJANGO_DEBUG", False)


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("off", False), (" YES ", True)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("DJANGO_DEBUG", raw)
    assert env_bool("DJANGO_DEBUG", not expected) is expected


@pytest.mark.parametrize("raw", ["notaurl", "postgres://", "http://example.com/db"])
def test_env_database_names_the_variable_when_the_url_is_bad(monkeypatch, raw):
    monkeypatch.setenv("DATABASE_URL", raw)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env_database("DATABASE_URL", "sqlite:///x.sqlite3")


def test_env_time_zone_names_the_variable_when_the_zone_is_unknown(monkeypatch):
    monkeypatch.setenv("DJANGO_TIME_ZONE", "Mars/Base")
    with pytest.raises(ImproperlyConfigured, match="DJANGO_TIME_ZONE"):
        env_time_zone("DJANGO_TIME_ZONE", "UTC")


def run_check(**env_changes: str | None) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SECRET_KEY", "DATABASE_URL", "DJANGO_TIME_ZONE", "DJANGO_DEBUG"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env_changes", "name"),
    [
        ({"DJANGO_DEBUG": "false"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_DEBUG": "true", "DATABASE_URL": "notaurl"}, "DATABASE_URL"),
        ({"DJANGO_DEBUG": "true", "DJANGO_TIME_ZONE": "Mars/Base"}, "DJANGO_TIME_ZONE"),
        ({"DJANGO_DEBUG": "perhaps"}, "DJANGO_DEBUG"),
    ],
    ids=["no-secret-key", "bad-database-url", "bad-time-zone", "bad-debug"],
)
def test_bad_environment_stops_start_up_with_one_line_naming_the_variable(env_changes, name):
    result = run_check(**env_changes)

    assert result.returncode != 0
    assert name in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_good_development_environment_passes_the_check():
    result = run_check(DJANGO_DEBUG="true")
    assert result.returncode == 0, result.stderr
