"""Everything a user has recorded, as CSV or JSON, streamed row by row.

CSV layout: one file, one header row, one row per record. The ``record`` column says
what the row is (``session``, ``screening``, ``clearance`` or ``peg``); columns that do
not apply to that kind of record are left empty. Sessions come first (oldest first),
then screenings, then clearances, then the weekly PEG-3 answers (the ``week`` and
``peg_*`` columns, added at the end so earlier columns keep their places). List values
are joined with "; " (stop signals) or written as a JSON object (screening answers).
Every text cell is quoted, and any part of a cell that a spreadsheet would run as a
formula (= + - @ at the start of the cell or after a separator inside it: , ; | a tab or
a line break, as a spreadsheet with another list separator splits it) gets an
apostrophe in front.

JSON layout: ``{"format", "version", "exported_at", "time_zone", "sessions": [...],
"screenings": [...], "clearances": [...], "peg": [...]}``; each PEG-3 record holds the
programme week, the three 0-10 answers and their mean (``score``, one decimal).

Times are ISO 8601 with the offset of the user's own time zone.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

from stretches.models import Clearance, Screening
from tracking.models import PegScore, Session
from tracking.peg import peg_score

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
    "week",
    "peg_pain",
    "peg_enjoyment",
    "peg_activity",
    "peg_score",
]
# A formula may start the cell or any piece of it that a spreadsheet with another list
# separator (";" in much of Europe, tab, "|") splits off; spaces and quotes before the
# sign do not stop it. Full-width signs are read as formulas by some spreadsheets too.
FORMULA_PIECE = re.compile(r"(^|[,;|\t\r\n])([\s\"']*)(?=[=+\-@\uff1d\uff0b\uff0d\uff20])")


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


def peg_record(peg: PegScore, tz: ZoneInfo) -> dict:
    return {
        "id": peg.pk,
        "week": peg.week,
        "pain": peg.pain,
        "enjoyment": peg.enjoyment,
        "activity": peg.activity,
        "score": float(peg_score(peg.pain, peg.enjoyment, peg.activity)),
        "recorded_at": _local(peg.answered_at, tz),
    }


def _peg_csv_row(record: dict) -> list:
    flat = {
        "id": record["id"],
        "week": record["week"],
        "recorded_at": record["recorded_at"],
        **{f"peg_{item}": record[item] for item in ("pain", "enjoyment", "activity", "score")},
    }
    return _csv_row("peg", flat)


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


def _pegs(user):
    # Skipped weeks hold no answers: nothing to export for them.
    return PegScore.objects.filter(user=user).answered().order_by("week", "id").iterator()


def csv_safe(value) -> str | int:
    """Spreadsheet-safe cell: every piece of text that would run as a formula gets an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return value
    text = FORMULA_PIECE.sub(r"\1\2'", str(value))
    # A leading tab or carriage return is dropped by some spreadsheets before they look.
    return "'" + text if text.startswith(("\t", "\r")) else text


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
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_NONNUMERIC)
    yield writer.writerow(CSV_COLUMNS)
    for session in _sessions(user):
        yield writer.writerow(_csv_row("session", session_record(session, tz)))
    for screening in _screenings(user):
        yield writer.writerow(_csv_row("screening", screening_record(screening, tz)))
    for clearance in _clearances(user):
        yield writer.writerow(_csv_row("clearance", clearance_record(clearance, tz)))
    for peg in _pegs(user):
        yield writer.writerow(_peg_csv_row(peg_record(peg, tz)))


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
    yield from _json_list("peg", (peg_record(p, tz) for p in _pegs(user)))
    yield "}\n"
