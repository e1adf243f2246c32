"""The session engine: Django's database sessions, with the user id in its own column.

With a shared cache (REDIS_URL), ``accounts.cached_sessions`` is the engine instead: the
same rows, read through the cache.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.cache import caches
from django.db import transaction

logger = logging.getLogger(__name__)


class LoginSessionMixin:
    """Store sessions in ``LoginSession`` with their user's id in its indexed column."""

    @classmethod
    def get_model_class(cls):
        from accounts.models import LoginSession

        return LoginSession

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        user_id = data.get(SESSION_KEY)
        try:
            instance.user_id = int(user_id) if user_id is not None else None
        except (TypeError, ValueError):
            instance.user_id = None
        return instance


class SessionStore(LoginSessionMixin, DatabaseSessionStore):
    pass


def end_sessions_of(user, *, keep: str | None = None) -> int:
    """Sign the user out everywhere (except the session ``keep``); returns how many ended."""
    from accounts.models import LoginSession

    sessions = LoginSession.objects.filter(user=user)
    if keep:
        sessions = sessions.exclude(session_key=keep)
    keys = list(sessions.values_list("session_key", flat=True))
    deleted, _ = sessions.delete()
    if settings.SESSION_ENGINE == "accounts.cached_sessions" and keys:
        _forget_cached_sessions(keys)
        # Again once committed: a worker that read a row just before the delete may have
        # put it back in the cache meanwhile.
        transaction.on_commit(lambda: _forget_cached_sessions(keys, quiet=True))
    return deleted


def _forget_cached_sessions(keys: list[str], *, quiet: bool = False) -> None:
    from accounts.cached_sessions import KEY_PREFIX

    try:
        caches[settings.SESSION_CACHE_ALIAS].delete_many([KEY_PREFIX + key for key in keys])
    except Exception:
        # Before the commit, a failure undoes the change (the caller retries); after it,
        # the password or account the session belonged to is gone, so the session's user
        # no longer verifies (accounts.backends) even if its cache entry survives.
        if not quiet:
            raise
        logger.exception("could not delete %d cached sessions", len(keys))
