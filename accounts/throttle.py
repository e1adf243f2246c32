"""Attempts per client address, counted in the database so every worker agrees.

django-axes locks one username from one address after repeated wrong passwords; this
limits how often one address may try at all (log-in with many usernames, sign-ups that
probe which usernames exist, reset mails).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import ThrottledAttempt
from lib.client import client_address

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Limit:
    action: str
    setting: str  # attempts per WINDOW, from config/settings.py
    what: str  # for the message: "log-in attempts"

    @property
    def attempts(self) -> int:
        return getattr(settings, self.setting)


LOGIN = Limit("login", "THROTTLE_LOGIN_PER_HOUR", "log-in attempts")
SIGNUP = Limit("signup", "THROTTLE_SIGNUP_PER_HOUR", "sign-up attempts")
PASSWORD_RESET = Limit("password-reset", "THROTTLE_PASSWORD_RESET_PER_HOUR", "reset requests")
EMAIL_CHECK = Limit("email-check", "THROTTLE_PASSWORD_RESET_PER_HOUR", "address checks")


def allow(request: HttpRequest, limit: Limit) -> bool:
    """Count this attempt; False (and not counted) when the address is over its limit."""
    client = client_address(request)[:64]
    now = timezone.now()
    recent = ThrottledAttempt.objects.filter(
        action=limit.action, client=client, at__gt=now - WINDOW
    )
    if recent.count() >= limit.attempts:
        return False
    ThrottledAttempt.objects.create(action=limit.action, client=client, at=now)
    return True


def throttled_response(request: HttpRequest, limit: Limit) -> HttpResponse:
    minutes = int(WINDOW.total_seconds() // 60)
    response = render(
        request,
        "registration/throttled.html",
        {"what": limit.what, "attempts": limit.attempts, "minutes": minutes},
        status=429,
    )
    response["Retry-After"] = str(int(WINDOW.total_seconds()))
    return response


def purge_expired() -> int:
    deleted, _ = ThrottledAttempt.objects.filter(at__lte=timezone.now() - WINDOW).delete()
    return deleted
