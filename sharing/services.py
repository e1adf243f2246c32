"""Share links: create, revoke, open; and the per-address limit on opening them."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from sharing.models import ShareLink, ShareOpenCount
from sharing.tokens import new_token, token_hash

VALID_DAYS = (7, 30)
MAX_ACTIVE_LINKS = 20
RATE_WINDOW = timedelta(minutes=10)


class TooManyLinks(Exception):
    """The user already has MAX_ACTIVE_LINKS links that work."""


def active_links(user, moment: datetime):
    return ShareLink.objects.filter(user=user).open_at(moment)


def create_link(*, user, days: int, name: str = "") -> tuple[ShareLink, str]:
    """A new link valid for ``days`` days; returns it with the raw token (shown once)."""
    if days not in VALID_DAYS:
        raise ValueError(f"a share link lasts {VALID_DAYS} days, not {days}")
    now = timezone.now()
    with transaction.atomic():
        # Counted under a lock on the user's row so two quick taps cannot pass the cap.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if active_links(user, now).count() >= MAX_ACTIVE_LINKS:
            raise TooManyLinks
        token = new_token()
        link = ShareLink.objects.create(
            user=user,
            name=name.strip(),
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + timedelta(days=days),
        )
    return link, token


def revoke_link(link: ShareLink) -> None:
    """Stops the link at once; revoking twice keeps the first time."""
    ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


def open_link(token: str, moment: datetime) -> ShareLink | None:
    """The link behind ``token`` if it works at ``moment``, counting this open; else None.

    One query by the unique hash, with expiry and revocation in the same WHERE clause:
    unknown, expired and revoked tokens are answered by the identical index probe.
    """
    link = (
        ShareLink.objects.open_at(moment)
        .select_related("user__profile")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if link is not None:
        ShareLink.objects.filter(pk=link.pk).update(
            open_count=F("open_count") + 1, last_opened_at=moment
        )
    return link


# --- Rate limit ------------------------------------------------------------------------


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    retry_after: int  # seconds until the window ends


def _address_key(address: str) -> str:
    # Keyed, so the table holds no address that could be read back or looked up.
    return hmac.new(settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256).hexdigest()


def window_start(moment: datetime) -> datetime:
    seconds = int(RATE_WINDOW.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=UTC)


def count_open(address: str, moment: datetime) -> RateDecision:
    """Count one open from ``address`` in the current window and say if it is allowed.

    One atomic upsert (INSERT ... ON CONFLICT DO UPDATE ... RETURNING, on PostgreSQL
    and SQLite alike), so concurrent workers never lose a count.
    """
    start = window_start(moment)
    table = connection.ops.quote_name(ShareOpenCount._meta.db_table)
    opens_column = connection.ops.quote_name("opens")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (address, window_start, opens) VALUES (%s, %s, 1) "
            f"ON CONFLICT (address, window_start) "
            f"DO UPDATE SET {opens_column} = {table}.{opens_column} + 1 RETURNING {opens_column}",
            [_address_key(address), connection.ops.adapt_datetimefield_value(start)],
        )
        (opens,) = cursor.fetchone()
    if opens == 1:
        # The first open of a window: a good moment to forget windows that have ended.
        ShareOpenCount.objects.filter(window_start__lt=start).delete()
    retry_after = max(1, int((start + RATE_WINDOW - moment).total_seconds()))
    return RateDecision(opens <= settings.SHARE_OPEN_LIMIT, retry_after)
