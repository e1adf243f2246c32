"""The session engine with a shared cache (REDIS_URL set): read from the cache, written
through to the database, which stays the source of truth.

Django's cached_db engine over ``accounts.models.LoginSession``: a page view reads its
session from the shared cache instead of PostgreSQL; a logout deletes it from both, so
every worker refuses it on its next request. Each cache entry carries the session's
expiry, checked on every read like the database row's, so a session ends at the same
moment whichever of the two it is read from.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDatabaseStore
from django.contrib.sessions.backends.db import SessionStore as DatabaseStore
from django.utils import timezone

from accounts.sessions import LoginSessionMixin

__all__ = ["KEY_PREFIX", "SessionStore"]

logger = logging.getLogger("django.contrib.sessions")


class SessionStore(LoginSessionMixin, CachedDatabaseStore):
    def load(self):
        try:
            cached = self._cache.get(self.cache_key)
        except Exception:
            cached = None
        if isinstance(cached, tuple) and len(cached) == 2:
            data, expires_at = cached
            if expires_at > timezone.now().timestamp():
                return data
        row = self._get_session_from_db()  # None (and a new key) when missing or expired
        if row is None:
            return {}
        data = self.decode(row.session_data)
        self._remember(data, row.expire_date)
        return data

    def save(self, must_create=False):
        DatabaseStore.save(self, must_create)
        self._remember(self._session, self.get_expiry_date())

    def _remember(self, data, expire_date) -> None:
        try:
            self._cache.set(
                self.cache_key,
                (data, expire_date.timestamp()),
                self.get_expiry_age(expiry=expire_date),
            )
        except Exception:
            logger.exception("Error saving to cache (%s)", self._cache)
