"""The sessions of one stretch of time (a local day), read with the SQL written out.

The first view after a logged session, and the log POST itself, read today's sessions once
each: building that query through the ORM took longer than running it. These are the
statements the ORM made, with the parameters adapted by the field as the ORM adapts them
and the times made aware as the ORM makes them (SQLite hands back naive UTC).
``tests/tracking/test_day_queries.py`` compares them with the ORM's answers.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone

from stretches.models import Exercise
from tracking.models import Session

_SCORES = (
    "SELECT e.slug, s.pain_before, s.pain_after FROM {session} s "
    "INNER JOIN {exercise} e ON e.id = s.exercise_id "
    "WHERE s.user_id = %s AND s.performed_at >= %s AND s.performed_at < %s "
    "ORDER BY s.performed_at ASC, s.id ASC"
)
_SESSIONS = (
    "SELECT s.id, s.performed_at, s.exercise_id, s.pain_before, s.pain_after FROM {session} s "
    "WHERE s.user_id = %s AND s.performed_at >= %s AND s.performed_at < %s "
    "ORDER BY s.performed_at DESC, s.id DESC"
)


def _rows(statement: str, user_id: int, start: datetime, end: datetime) -> list[tuple]:
    quote = connection.ops.quote_name
    performed_at = Session._meta.get_field("performed_at")
    with connection.cursor() as cursor:
        cursor.execute(
            statement.format(
                session=quote(Session._meta.db_table), exercise=quote(Exercise._meta.db_table)
            ),
            [
                user_id,
                performed_at.get_db_prep_value(start, connection),
                performed_at.get_db_prep_value(end, connection),
            ],
        )
        return cursor.fetchall()


def day_scores(user_id: int, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
    """(exercise slug, pain before, pain after) of each session from ``start`` to ``end``,
    oldest first."""
    return _rows(_SCORES, user_id, start, end)


def day_sessions(
    user_id: int, start: datetime, end: datetime
) -> list[tuple[int, datetime, int, int, int]]:
    """(id, performed at, exercise id, pain before, pain after) of each session from
    ``start`` to ``end``, newest first."""
    return [
        (pk, _aware(performed_at), exercise_id, before, after)
        for pk, performed_at, exercise_id, before, after in _rows(_SESSIONS, user_id, start, end)
    ]


def _aware(value: datetime) -> datetime:
    if timezone.is_naive(value):
        return timezone.make_aware(value, connection.timezone)
    return value
