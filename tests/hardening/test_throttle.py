"""Throttles and lockouts that every worker shares, by the client's real address."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import ThrottledAttempt
from lib.client import client_address
from tests.conftest import PASSWORD, make_user
from tests.hardening.conftest import FIGURES

pytestmark = pytest.mark.django_db
THROTTLED = "Too many attempts from your network"
LOCKED = "Too many failed log-in attempts"
PROXY = "10.0.0.2"  # the load balancer's own address, as gunicorn sees it


def sign_up(username: str, *, ip: str = "203.0.113.7", **headers):
    return Client().post(
        "/accounts/signup/",
        {"username": username, "password1": "x", "password2": "y", "time_zone": "UTC"},
        REMOTE_ADDR=ip,
        **headers,
    )


def log_in(username: str, password: str, *, ip: str = "203.0.113.7", **headers):
    return Client().post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        **headers,
    )


def test_sign_up_is_throttled_per_address_so_usernames_cannot_be_listed_quickly(settings):
    make_user("alice")
    limit = settings.THROTTLE_SIGNUP_PER_HOUR
    answers = [sign_up(f"probe{n}").status_code for n in range(limit)]

    refused = sign_up("alice")

    assert answers == [200] * limit
    assert refused.status_code == 429
    assert THROTTLED in refused.text and "60 minutes" in refused.text
    assert "already exists" not in refused.text  # the probe learns nothing
    assert refused["Retry-After"] == "3600"
    assert sign_up("alice", ip="198.51.100.9").status_code == 200  # another address is not
    FIGURES["other"]["throttle: sign-up attempts refused"] += 1


def test_log_in_is_throttled_per_address_across_usernames(settings):
    make_user("alice")
    limit = settings.THROTTLE_LOGIN_PER_HOUR
    for n in range(limit):
        assert log_in(f"someone{n}", "wrong").status_code == 200

    refused = log_in("alice", PASSWORD)

    assert refused.status_code == 429 and THROTTLED in refused.text
    assert log_in("alice", PASSWORD, ip="198.51.100.9").status_code == 302
    assert ThrottledAttempt.objects.filter(action="login").count() == limit + 1
    FIGURES["other"]["throttle: log-in attempts refused"] += 1


# --- Proxies -----------------------------------------------------------------------------


def test_without_trusted_proxies_a_forwarded_header_is_ignored(settings, rf):
    assert settings.TRUSTED_PROXY_HOPS == 0  # the default
    request = rf.get("/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.1")
    assert client_address(request) == "203.0.113.7"

    # An attacker cannot dodge the throttle by inventing a new address each time.
    limit = settings.THROTTLE_SIGNUP_PER_HOUR
    for n in range(limit):
        sign_up(f"probe{n}", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert sign_up("last", HTTP_X_FORWARDED_FOR="198.51.100.250").status_code == 429


def test_behind_one_proxy_the_right_most_forwarded_address_is_the_client(settings, rf):
    settings.TRUSTED_PROXY_HOPS = 1
    # The client wrote "1.2.3.4" itself; the proxy appended the address it saw.
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")
    assert client_address(request) == "203.0.113.7"
    settings.TRUSTED_PROXY_HOPS = 2
    request = rf.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7, 10.0.0.9")
    assert client_address(request) == "203.0.113.7"


def test_behind_a_proxy_one_clients_failures_lock_out_only_that_client(settings):
    settings.TRUSTED_PROXY_HOPS = 1
    make_user("alice")
    attacker = {"ip": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.66"}
    owner = {"ip": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.7"}

    statuses = [log_in("alice", "wrong-guess", **attacker).status_code for _ in range(5)]

    assert statuses[-1] == 429
    assert LOCKED in log_in("alice", PASSWORD, **attacker).text
    # The owner, behind the same load balancer, is not locked out by the attacker.
    assert log_in("alice", PASSWORD, **owner).status_code == 302
    # And a forged left-most entry does not free the attacker.
    forged = {"ip": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.7, 198.51.100.66"}
    assert log_in("alice", PASSWORD, **forged).status_code == 429


def test_without_trusted_proxies_the_lockout_ignores_forwarded_addresses(settings):
    make_user("alice")
    for n in range(5):
        log_in("alice", "wrong-guess", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    assert log_in("alice", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429


# --- Password prompts share the lockout ----------------------------------------------------


def test_wrong_passwords_on_account_deletion_count_towards_the_lockout():
    user = make_user("alice")
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(user)

    statuses = [
        client.post("/account/delete/", {"password": "wrong-guess"}).status_code for _ in range(5)
    ]
    right = client.post("/account/delete/", {"password": PASSWORD})

    assert statuses == [200, 200, 200, 200, 429]
    assert right.status_code == 429 and LOCKED in right.text
    user.refresh_from_db()  # still there
    assert log_in("alice", PASSWORD).status_code == 429  # and logging in is locked too
    FIGURES["other"]["lockout: password prompts refused after 5 wrong"] += 1


def test_wrong_old_passwords_on_password_change_count_towards_the_lockout():
    user = make_user("alice")
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.force_login(user)
    new = {"new_password1": "quiet-Harbour-81", "new_password2": "quiet-Harbour-81"}

    statuses = [
        client.post("/accounts/password/", {"old_password": "wrong", **new}).status_code
        for _ in range(5)
    ]
    right = client.post("/accounts/password/", {"old_password": PASSWORD, **new})

    assert statuses == [200, 200, 200, 200, 429]
    assert right.status_code == 429
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
