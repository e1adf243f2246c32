import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from accounts.models import Profile
from lib.cache import cached_user


@functools.cache
def _profile_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in Profile._meta.concrete_fields)
    return f"SELECT {columns} FROM {quote(Profile._meta.db_table)} WHERE user_id = %s"


class ProfileModelBackend(ModelBackend):
    """Django's model backend, loading the profile with the user.

    Every signed-in request needs both (the profile holds the time zone), so one query
    instead of two on every page. With a shared cache (REDIS_URL), from the cache: every
    write to the user, their profile or their safety record retires it in every worker
    (lib.cache.user_changed); the session's auth hash is still checked on each request.
    The profile row, whose data and history versions every write to the person's
    records moves on, is kept beside it and read again alone after such a write.
    """

    def get_user(self, user_id):
        user = cached_user(
            user_id,
            lambda: self._load(user_id),
            lambda: self._profile(user_id),
            self._attach_profile,
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        if not hasattr(user, "profile"):
            # Staff made with createsuperuser have none yet; every signed-in page needs one.
            from accounts.services import profile_for

            profile_for(user)
        return user

    @staticmethod
    def _profile(user_id) -> Profile | None:
        # Read after every write to the person's records: the row written out, as the ORM
        # would (half the time of building the query; values converted as the ORM does).
        return next(iter(Profile.objects.raw(_profile_sql(), [user_id])), None)

    @staticmethod
    def _attach_profile(user, profile: Profile) -> None:
        user.profile = profile  # both ways: profile.user is this user, not a query

    @staticmethod
    def _load(user_id):
        try:
            return get_user_model()._default_manager.select_related("profile").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
