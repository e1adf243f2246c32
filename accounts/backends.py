from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from accounts.models import Profile
from lib.cache import cached_user


class ProfileModelBackend(ModelBackend):
    """Django's model backend, loading the profile with the user.

    Every signed-in request needs both (the profile holds the time zone), so one query
    instead of two on every page. With a shared cache (REDIS_URL), from the cache: every
    write to the user, their profile or their safety record retires it in every worker
    (lib.cache.user_changed); the session's auth hash is still checked on each request.
    The profile's data and history versions, which every write to the person's records
    moves on, are kept beside it and read again alone after such a write.
    """

    def get_user(self, user_id):
        user = cached_user(
            user_id,
            lambda: self._load(user_id),
            lambda: self._versions(user_id),
            self._apply_versions,
        )
        if user is None or not self.user_can_authenticate(user):
            return None
        if not hasattr(user, "profile"):
            # Staff made with createsuperuser have none yet; every signed-in page needs one.
            from accounts.services import profile_for

            profile_for(user)
        return user

    @staticmethod
    def _versions(user_id) -> tuple[int, int] | None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT data_version, history_version FROM "
                f"{connection.ops.quote_name(Profile._meta.db_table)} WHERE user_id = %s",
                [user_id],
            )
            row = cursor.fetchone()
        return tuple(row) if row is not None else None

    @staticmethod
    def _apply_versions(user, versions: tuple[int, int]) -> None:
        profile = getattr(user, "profile", None)
        if profile is not None:
            profile.data_version, profile.history_version = versions

    @staticmethod
    def _load(user_id):
        try:
            return get_user_model()._default_manager.select_related("profile").get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
