"""Everything a user has recorded, as CSV or JSON, streamed row by row.

CSV layout: one file, one header row, one row per record. The ``record`` column says
what the row is (``session``, ``screening`` or ``clearance``); columns that do not
apply to that kind of record are left empty. Sessions come first (oldest first),
then screenings, then clearances. List values are joined with "; " (stop signals) or
written as a JSON object (screening answers). Text that a spreadsheet would run as a
formula (starting with = + - @, a tab or a carriage return) is prefixed with an
apostrophe.

JSON layout: ``{"format", "version", "exported_at", "time_zone", "sessions": [...],
"screenings": [...], "clearances": [...]}``.

Times are ISO 8601 with the offset of the user's own time zone.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from stretches.models import Clearance, Screening
from tracking.models import Session

CHUNK_SIZE = 500
FORMAT_VERSION = 1

# A session's columns: what the user recorded (one list, on the model), the exercise's
# name beside its slug, and the hold the plan prescribed.
SESSION_COLUMNS = [
    "id",
    *Session.RECORDED_FIELDS[:2],
    "exercise_name",
    *Session.RECORDED_FIELDS[2:],
    "hold_seconds_target",
]
CSV_COLUMNS = [
    "record",
    *SESSION_COLUMNS,
    "taken_at",
    "verdict",
    "reason",
    "answers",
    "screening_id",
    "cleared_on",
    "recorded_at",
    "created_at",
    "updated_at",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _local(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return moment.astimezone(tz).isoformat() if moment else None


def session_record(session: Session, tz: ZoneInfo) -> dict:
    shown = {
        "performed_at": _local(session.performed_at, tz),
        "exercise": session.exercise.slug,
        "exercise_name": session.exercise.name,
        "stop_signals": list(session.stop_signals),
    }
    return {
        **{
            name: shown[name] if name in shown else getattr(session, name)
            for name in SESSION_COLUMNS
        },
        "created_at": _local(session.created_at, tz),
        "updated_at": _local(session.updated_at, tz),
    }


def screening_record(screening: Screening, tz: ZoneInfo) -> dict:
    return {
        "id": screening.pk,
        "taken_at": _local(screening.taken_at, tz),
        "verdict": screening.verdict,
        "reason": screening.reason,
        "answers": screening.answers,
    }


def clearance_record(clearance: Clearance, tz: ZoneInfo) -> dict:
    return {
        "id": clearance.pk,
        "screening_id": clearance.screening_id,
        "cleared_on": clearance.cleared_on.isoformat(),
        "note": clearance.note,
        "recorded_at": _local(clearance.recorded_at, tz),
    }


def _sessions(user):
    return (
        Session.objects.filter(user=user)
        .select_related("exercise")
        .order_by("performed_at", "id")
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _screenings(user):
    return (
        Screening.objects.filter(user=user)
        .order_by("taken_at", "id")
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _clearances(user):
    return (
        Clearance.objects.filter(user=user)
        .order_by("recorded_at", "id")
        .iterator(chunk_size=CHUNK_SIZE)
    )


def csv_safe(value) -> str | int:
    """Spreadsheet-safe cell: text that would run as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def _csv_row(kind: str, record: dict) -> list:
    flat = dict(record)
    if "stop_signals" in flat:
        flat["stop_signals"] = "; ".join(flat["stop_signals"])
    if "answers" in flat:
        flat["answers"] = json.dumps(flat["answers"], sort_keys=True)
    flat["record"] = kind
    return [csv_safe(flat.get(column)) for column in CSV_COLUMNS]


def csv_lines(user, tz: ZoneInfo) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for session in _sessions(user):
        yield writer.writerow(_csv_row("session", session_record(session, tz)))
    for screening in _screenings(user):
        yield writer.writerow(_csv_row("screening", screening_record(screening, tz)))
    for clearance in _clearances(user):
        yield writer.writerow(_csv_row("clearance", clearance_record(clearance, tz)))


def _json_list(name: str, records: Iterator[dict], *, first: bool = False) -> Iterator[str]:
    yield ("" if first else ", ") + json.dumps(name) + ": ["
    for index, record in enumerate(records):
        yield ("" if index == 0 else ", ") + json.dumps(record, ensure_ascii=False)
    yield "]"


def json_chunks(user, tz: ZoneInfo, time_zone: str) -> Iterator[str]:
    head = {
        "format": "easeback-export",
        "version": FORMAT_VERSION,
        "exported_at": _local(timezone.now(), tz),
        "time_zone": time_zone,
    }
    # The header object without its closing brace, then the three lists stream in.
    yield json.dumps(head, ensure_ascii=False)[:-1] + ", "
    yield from _json_list("sessions", (session_record(s, tz) for s in _sessions(user)), first=True)
    yield from _json_list("screenings", (screening_record(s, tz) for s in _screenings(user)))
    yield from _json_list("clearances", (clearance_record(c, tz) for c in _clearances(user)))
    yield "}\n"
