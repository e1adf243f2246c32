"""One way to cache what a page computes from a user's records.

Every key holds the user, their data version and their local day. The data version is
bumped in the same transaction as every write to the user's sessions, check-ins, safety
records or profile (``accounts.services.data_changed``), and each request reads it
fresh with the user, so a cached value can never outlive the data it was made from in
any worker; the local day in the key starts a fresh one at the user's midnight.
"""

from collections.abc import Callable, Hashable

from django.apps import apps
from django.core.cache import cache
from django.db.models import F

CACHE_SECONDS = 6 * 3600


def cached_for_user[T](
    profile, name: str, compute: Callable[[], T], *, extra: tuple[Hashable, ...] = ()
) -> T:
    """``compute()``'s result for this user, data version and local day (and ``extra``)."""
    parts = (name, profile.user_id, profile.data_version, profile.local_today(), *extra)
    key = ":".join(str(part) for part in parts)
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value


def data_changed(user) -> None:
    """Every write to a user's records or profile calls this, in the same transaction.

    The profile is looked up by name so that every app can call this without importing
    ``accounts`` (the apps import one another in one direction only).
    """
    profile_model = apps.get_model("accounts", "Profile")
    profile_model.objects.filter(user=user).update(data_version=F("data_version") + 1)
    # The request goes on with this user: what it reads next must not come from the
    # cache entries the write just retired.
    loaded = getattr(getattr(user, "_state", None), "fields_cache", {}).get("profile")
    if loaded is not None:
        loaded.refresh_from_db(fields=["data_version"])
