"""Production start-up: the deploy check passes and the cookies are locked down."""

from __future__ import annotations

import subprocess
import sys

import pytest
from django.test import Client

from tests.conftest import PASSWORD, make_user
from tests.hardening.checks import ONE_YEAR
from tests.hardening.conftest import BASE_DIR, production_env

STRICT_ENOUGH = {"Lax", "Strict"}


def test_deploy_check_passes_with_production_environment():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_with_a_weak_secret():
    """Proves the check above really runs the security checks with these variables."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_env(DJANGO_SECRET_KEY="short"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


def test_production_settings_lock_down_transport_and_cookies(production_settings):
    s = production_settings

    assert s["DEBUG"] is False
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] >= ONE_YEAR
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert s["CSRF_COOKIE_NAME"].startswith("__Host-")
    # __Host- cookies are only accepted when Secure, with Path=/ and no Domain.
    for cookie in ("SESSION", "CSRF"):
        assert s[f"{cookie}_COOKIE_SECURE"] is True
        assert s[f"{cookie}_COOKIE_SAMESITE"] in STRICT_ENOUGH
        assert s[f"{cookie}_COOKIE_DOMAIN"] is None
        assert s[f"{cookie}_COOKIE_PATH"] == "/"
    assert s["SESSION_COOKIE_HTTPONLY"] is True
    # The idle timeout the README states: two weeks without a visit, reset by each visit.
    assert s["SESSION_COOKIE_AGE"] == 14 * 24 * 3600
    assert s["SESSION_SAVE_EVERY_REQUEST"] is False  # the expiry slides in middleware


@pytest.mark.django_db
def test_cookies_set_in_production_are_secure_host_only_and_same_site(production):
    make_user("alice")
    client = Client()

    page = client.get("/accounts/login/", secure=True)
    login = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, secure=True
    )

    assert login.status_code == 302
    csrf = page.cookies[production.CSRF_COOKIE_NAME]
    session = login.cookies[production.SESSION_COOKIE_NAME]
    assert csrf.key == "__Host-csrftoken" and session.key == "__Host-sessionid"
    for cookie in (csrf, session):
        assert cookie["secure"] is True
        assert cookie["samesite"] in STRICT_ENOUGH
        assert cookie["path"] == "/"
        assert not cookie["domain"]
    assert session["httponly"] is True


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_in_production(production, client):
    response = client.get("/accounts/login/")

    assert response.status_code == 301
    assert response.url.startswith("https://")
