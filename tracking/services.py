"""Every write that touches sessions goes through here, in one transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Profile
from accounts.services import data_changed
from stretches.models import Exercise, StopSignal
from tracking.models import Session, WeeklyCheckin


class StaleEdit(Exception):
    """The session changed since the form was opened (another tab or device saved first)."""


def _pause_programme(user, stop_signals: list[str]) -> None:
    # Stamped with the time of logging, not of the session: a back-dated session with
    # a stop signal still needs a screening taken after it was reported.
    Profile.objects.filter(user=user).update(
        last_stop_signal_at=timezone.now(), last_stop_signals=sorted(stop_signals)
    )


def log_session(
    *,
    user,
    exercise: Exercise,
    performed_at: datetime,
    sides: str,
    reps_per_side: int,
    hold_seconds: int,
    hold_seconds_target: int | None,
    pain_before: int,
    pain_after: int,
    stop_signals: list[str],
    note: str = "",
    client_token: uuid.UUID,
) -> tuple[Session, bool]:
    """Store one session, once per client token; a stop signal pauses the programme.

    Returns the session and whether it was new. A resubmitted form (double tap, a
    retry on a flaky connection) finds the first one and changes nothing.
    """
    signals = sorted({s for s in stop_signals if s in StopSignal.values})
    with transaction.atomic():
        session, created = Session.objects.get_or_create(
            user=user,
            client_token=client_token,
            defaults={
                "exercise": exercise,
                "performed_at": performed_at,
                "sides": sides,
                "reps_per_side": reps_per_side,
                "hold_seconds": hold_seconds,
                "hold_seconds_target": hold_seconds_target,
                "pain_before": pain_before,
                "pain_after": pain_after,
                "stop_signals": signals,
                "has_stop_signal": bool(signals),
                "note": note,
            },
        )
        if created:
            data_changed(user)
        if created and signals:
            _pause_programme(user, signals)
    return session, created


EDITABLE_FIELDS = tuple(name for name in Session.RECORDED_FIELDS if name != "stop_signals")


def update_session(
    *, session: Session, version: int, stop_signals: list[str], **changes
) -> Session:
    """Save an edit made on ``version`` of the session, or raise StaleEdit.

    Stop signals can be added but not taken away: removing one must not reopen a
    programme that it paused.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"not editable: {sorted(unknown)}")
    added = sorted(set(stop_signals) & set(StopSignal.values) - set(session.stop_signals))
    signals = sorted(set(session.stop_signals) | set(added))
    with transaction.atomic():
        updated = Session.objects.filter(pk=session.pk, user=session.user, version=version).update(
            **changes,
            stop_signals=signals,
            has_stop_signal=bool(signals),
            version=F("version") + 1,
            updated_at=timezone.now(),
        )
        if not updated:
            raise StaleEdit
        data_changed(session.user)
        if added:
            _pause_programme(session.user, added)
    session.refresh_from_db()
    return session


def delete_session(*, session: Session) -> None:
    with transaction.atomic():
        session.delete()
        data_changed(session.user)


def save_checkin(*, user, week: int, movement: str, sleep: str) -> WeeklyCheckin:
    """Store this week's check-in; answering again the same week replaces it."""
    with transaction.atomic():
        checkin, _ = WeeklyCheckin.objects.update_or_create(
            user=user, week=week, defaults={"movement": movement, "sleep": sleep}
        )
        data_changed(user)
    return checkin
