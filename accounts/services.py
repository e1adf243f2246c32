from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import Profile
from accounts.sessions import end_sessions_of
from lib.cache import data_changed


def create_account(*, username: str, password: str, time_zone: str, email: str = ""):
    """Create a user and their profile together, or neither."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(
            username=username, password=password, email=email
        )
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

    Profile, screenings, clearances, sessions, check-ins and login sessions cascade from
    the user; the login sessions go first by their indexed user column, so this takes the
    same time however many sessions other people have. django-axes' records of log-in
    attempts only name the user (by username).
    """
    username = user.get_username()
    with transaction.atomic():
        end_sessions_of(user)
        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            model.objects.filter(username=username).delete()
        user.delete()
