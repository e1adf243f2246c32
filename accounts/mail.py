"""Mail the app sends: the link that proves an address belongs to its user.

Password reset mails are Django's own (django.contrib.auth.views.PasswordResetView).
"""

from __future__ import annotations

from django.core import signing
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Profile

VERIFY_SALT = "easeback.accounts.verify-email"
VERIFY_MAX_AGE_SECONDS = 3 * 24 * 3600


def verification_token(user) -> str:
    return signing.dumps({"user": user.pk, "email": user.email.lower()}, salt=VERIFY_SALT)


def read_verification_token(token: str) -> dict | None:
    """The signed claim, or None when the link is forged, mangled or older than 3 days."""
    try:
        claim = signing.loads(token, salt=VERIFY_SALT, max_age=VERIFY_MAX_AGE_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(claim, dict) or not {"user", "email"} <= claim.keys():
        return None
    return claim


def send_verification(request: HttpRequest, user) -> None:
    link = request.build_absolute_uri(
        reverse("email-verify", kwargs={"token": verification_token(user)})
    )
    context = {"user": user, "link": link, "days": VERIFY_MAX_AGE_SECONDS // 86400}
    send_mail(
        subject="Confirm your email address for EaseBack",
        message=render_to_string("accounts/verify_email.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )


def confirm_address(claim: dict) -> Profile | None:
    """Mark the address in ``claim`` verified if it is still the user's; the profile or None."""
    profile = (
        Profile.objects.select_related("user")
        .filter(user_id=claim["user"], user__is_active=True)
        .first()
    )
    if profile is None or profile.user.email.lower() != claim["email"]:
        return None
    profile.verified_email = profile.user.email
    profile.save(update_fields=["verified_email"])
    return profile
