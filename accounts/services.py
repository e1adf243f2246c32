from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session as LoginSession
from django.db import transaction

from accounts.models import Profile
from lib.cache import data_changed


def create_account(*, username: str, password: str, time_zone: str):
    """Create a user and their profile together, or neither."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, password=password)
        Profile.objects.create(user=user, time_zone=time_zone)
    return user


def save_profile(profile: Profile, fields: list[str]) -> None:
    """Save the named settings and retire every cached page made from the old ones.

    Only ``fields`` are written: the version and any safety state on the row were
    possibly changed by another request since this copy was read.
    """
    with transaction.atomic():
        profile.save(update_fields=fields)
        data_changed(profile.user)


def profile_for(user) -> Profile:
    """The user's profile; staff created with createsuperuser get one on first use."""
    profile = getattr(user, "profile", None)
    if profile is None:
        profile, _ = Profile.objects.get_or_create(user=user)
        user.profile = profile
    return profile


def erase_account(user) -> None:
    """Delete the user and every row that belongs to them, in one transaction.

    Profile, screenings, clearances, sessions and check-ins cascade from the user. Two
    kinds of row only name the user: login sessions (the user id sits inside the encoded
    session data) and django-axes' records of log-in attempts (by username).
    """
    user_id, username = str(user.pk), user.get_username()
    with transaction.atomic():
        # Decoding every live session is linear in their number; fine for an action a
        # user takes once, and it also signs the user out on their other devices.
        signed_in = [
            login.pk
            for login in LoginSession.objects.iterator()
            if login.get_decoded().get("_auth_user_id") == user_id
        ]
        LoginSession.objects.filter(pk__in=signed_in).delete()
        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            model.objects.filter(username=username).delete()
        user.delete()
