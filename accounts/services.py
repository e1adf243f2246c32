from django.contrib.auth import get_user_model
from django.db import transaction

from accounts.models import Profile


def create_account(*, username: str, password: str, time_zone: str):
    """Create a user and their profile together, or neither."""
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, password=password)
        Profile.objects.create(user=user, time_zone=time_zone)
    return user


def profile_for(user) -> Profile:
    """The user's profile; staff created with createsuperuser get one on first use."""
    profile = getattr(user, "profile", None)
    if profile is None:
        profile, _ = Profile.objects.get_or_create(user=user)
        user.profile = profile
    return profile
