"""CSV and JSON exports (SPEC 2.3): every record, streamed, in the user's time zone, and safe."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.http import StreamingHttpResponse

from accounts.services import create_account
from stretches.models import Clearance, Exercise, Screening
from tests.factories import SIGNED_IN_QUERIES
from tracking.exports import CSV_COLUMNS
from tracking.models import Session

PASSWORD = "calm-Stretch-42"
AUCKLAND = ZoneInfo("Pacific/Auckland")
NOW = datetime(2026, 5, 20, 18, 0, tzinfo=AUCKLAND)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def make_account(username: str, time_zone: str = "Pacific/Auckland"):
    user = create_account(username=username, password=PASSWORD, time_zone=time_zone)
    user.profile.programme_start = date(2026, 5, 1)
    user.profile.save()
    return user


def make_session(user, when: datetime, **fields) -> Session:
    values = {
        "exercise": Exercise.objects.get(slug="single-knee-to-chest"),
        "sides": "left_right",
        "reps_per_side": 3,
        "hold_seconds": 18,
        "hold_seconds_target": 20,
        "pain_before": 6,
        "pain_after": 4,
        "stop_signals": [],
        "note": "",
    }
    values.update(fields)
    values["has_stop_signal"] = bool(values["stop_signals"])
    return Session.objects.create(user=user, performed_at=when, **values)


@pytest.fixture
def kiri(client):
    user = make_account("kiri")
    client.force_login(user)
    return user


@pytest.fixture
def records(kiri):
    """One of everything, with values that are easy to find again."""
    first = make_session(
        kiri,
        datetime(2026, 5, 18, 7, 5, tzinfo=AUCKLAND),
        exercise=Exercise.objects.get(slug="figure-four"),
        sides="right",
        reps_per_side=3,
        hold_seconds=25,
        hold_seconds_target=30,
        pain_before=7,
        pain_after=2,
        note="stiff, then easier; “quotes” and, commas",
    )
    second = make_session(
        kiri,
        datetime(2026, 5, 19, 21, 40, tzinfo=AUCKLAND),
        pain_before=3,
        pain_after=8,
        stop_signals=["sharp_pain", "cramp"],
        note='=HYPERLINK("http://evil.example")',
    )
    screening = Screening.objects.create(
        user=kiri,
        taken_at=datetime(2026, 5, 1, 9, 0, tzinfo=AUCKLAND),
        answers={"recent_surgery": True, "fever_unwell": False},
        verdict="clinician_first",
        reason="first",
    )
    clearance = Clearance.objects.create(
        user=kiri, screening=screening, cleared_on=date(2026, 5, 3), note="+physio agreed"
    )
    return first, second, screening, clearance


def body(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def csv_rows(client) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body(client.get("/progress/export.csv")))))


def json_export(client) -> dict:
    return json.loads(body(client.get("/progress/export.json")))


# --- Files and headers -------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "content_type", "extension"),
    [
        ("/progress/export.csv", "text/csv; charset=utf-8", "csv"),
        ("/progress/export.json", "application/json", "json"),
    ],
)
def test_exports_stream_as_attachments_that_are_never_cached(
    client, kiri, url, content_type, extension
):
    response = client.get(url)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == (
        f'attachment; filename="easeback-2026-05-20.{extension}"'
    )
    assert "no-store" in response["Cache-Control"]


def test_empty_account_gets_a_csv_with_its_header_row(client, kiri):
    text = body(client.get("/progress/export.csv"))
    assert text == ",".join(f'"{name}"' for name in CSV_COLUMNS) + "\r\n"


def test_empty_account_gets_valid_json_with_empty_lists(client, kiri):
    exported = json_export(client)
    assert exported["sessions"] == []
    assert exported["screenings"] == []
    assert exported["clearances"] == []
    assert exported["time_zone"] == "Pacific/Auckland"
    assert exported["exported_at"] == "2026-05-20T18:00:00+12:00"


# --- Round trips -------------------------------------------------------------------


def test_every_session_value_comes_back_from_the_csv(client, records):
    first, second, *_ = records
    rows = [r for r in csv_rows(client) if r["record"] == "session"]
    assert [r["id"] for r in rows] == [str(first.pk), str(second.pk)]
    row = rows[0]
    assert row["performed_at"] == "2026-05-18T07:05:00+12:00"
    assert row["exercise"] == "figure-four"
    assert row["exercise_name"] == first.exercise.name
    assert row["sides"] == "right"
    assert row["reps_per_side"] == "3"
    assert row["hold_seconds"] == "25"
    assert row["hold_seconds_target"] == "30"
    assert row["pain_before"] == "7"
    assert row["pain_after"] == "2"
    assert row["stop_signals"] == ""
    assert row["note"] == "stiff, then easier; “quotes” and, commas"
    assert row["created_at"].endswith("+12:00")
    assert rows[1]["stop_signals"] == "sharp_pain; cramp"
    assert rows[1]["performed_at"] == "2026-05-19T21:40:00+12:00"
    assert (rows[1]["pain_before"], rows[1]["pain_after"]) == ("3", "8")


def test_screenings_and_clearances_come_back_from_the_csv(client, records):
    *_, screening, clearance = records
    rows = csv_rows(client)
    assert [r["record"] for r in rows] == ["session", "session", "screening", "clearance"]
    screening_row, clearance_row = rows[2], rows[3]
    assert screening_row["id"] == str(screening.pk)
    assert screening_row["taken_at"] == "2026-05-01T09:00:00+12:00"
    assert screening_row["verdict"] == "clinician_first"
    assert screening_row["reason"] == "first"
    assert json.loads(screening_row["answers"]) == {"fever_unwell": False, "recent_surgery": True}
    assert screening_row["performed_at"] == "" and screening_row["pain_before"] == ""
    assert clearance_row["id"] == str(clearance.pk)
    assert clearance_row["screening_id"] == str(screening.pk)
    assert clearance_row["cleared_on"] == "2026-05-03"
    assert clearance_row["recorded_at"] == "2026-05-20T18:00:00+12:00"


def test_csv_escapes_text_that_a_spreadsheet_would_run_as_a_formula(client, records):
    rows = csv_rows(client)
    assert rows[1]["note"] == '\'=HYPERLINK("http://evil.example")'
    assert rows[3]["note"] == "'+physio agreed"
    # No cell anywhere starts a formula.
    for row in rows:
        assert not any(v.startswith(("=", "+", "-", "@")) for v in row.values())


def test_every_value_comes_back_from_the_json(client, records):
    first, second, screening, clearance = records
    exported = json_export(client)
    assert exported["sessions"][0] == {
        "id": first.pk,
        "performed_at": "2026-05-18T07:05:00+12:00",
        "exercise": "figure-four",
        "exercise_name": first.exercise.name,
        "sides": "right",
        "reps_per_side": 3,
        "hold_seconds": 25,
        "hold_seconds_target": 30,
        "pain_before": 7,
        "pain_after": 2,
        "stop_signals": [],
        "note": "stiff, then easier; “quotes” and, commas",
        "created_at": "2026-05-20T18:00:00+12:00",
        "updated_at": "2026-05-20T18:00:00+12:00",
    }
    assert exported["sessions"][1]["stop_signals"] == ["sharp_pain", "cramp"]
    # JSON is data, not a spreadsheet: the note comes back exactly as typed.
    assert exported["sessions"][1]["note"] == '=HYPERLINK("http://evil.example")'
    assert exported["screenings"] == [
        {
            "id": screening.pk,
            "taken_at": "2026-05-01T09:00:00+12:00",
            "verdict": "clinician_first",
            "reason": "first",
            "answers": {"recent_surgery": True, "fever_unwell": False},
        }
    ]
    assert exported["clearances"] == [
        {
            "id": clearance.pk,
            "screening_id": screening.pk,
            "cleared_on": "2026-05-03",
            "note": "+physio agreed",
            "recorded_at": "2026-05-20T18:00:00+12:00",
        }
    ]


def test_times_follow_the_users_time_zone_across_a_dst_change(client):
    user = make_account("lon", time_zone="Europe/London")
    client.force_login(user)
    make_session(user, datetime(2026, 1, 10, 9, 0, tzinfo=ZoneInfo("UTC")))
    make_session(user, datetime(2026, 5, 10, 9, 0, tzinfo=ZoneInfo("UTC")))
    times = [s["performed_at"] for s in json_export(client)["sessions"]]
    assert times == ["2026-01-10T09:00:00+00:00", "2026-05-10T10:00:00+01:00"]


def test_many_sessions_stream_in_order(client, kiri):
    exercise = Exercise.objects.get(slug="single-knee-to-chest")
    start = datetime(2026, 1, 1, 8, 0, tzinfo=AUCKLAND)
    Session.objects.bulk_create(
        Session(
            user=kiri,
            performed_at=start + timedelta(hours=5 * k),
            exercise=exercise,
            sides="left_right",
            reps_per_side=2,
            hold_seconds=15,
            pain_before=k % 11,
            pain_after=(k * 7) % 11,
        )
        for k in range(1200)
    )
    rows = csv_rows(client)
    assert len(rows) == 1200
    assert [int(r["pain_before"]) for r in rows] == [k % 11 for k in range(1200)]
    exported = json_export(client)
    assert [s["pain_after"] for s in exported["sessions"]] == [(k * 7) % 11 for k in range(1200)]


def test_export_queries_do_not_grow_with_sessions(client, kiri, django_assert_num_queries):
    exercise = Exercise.objects.get(slug="single-knee-to-chest")
    Session.objects.bulk_create(
        Session(
            user=kiri,
            performed_at=NOW - timedelta(hours=k + 1),
            exercise=exercise,
            sides="left_right",
            reps_per_side=2,
            hold_seconds=15,
            pain_before=3,
            pain_after=2,
        )
        for k in range(300)
    )
    # Session, user with profile, then one query per kind of record while it streams
    # (sessions, screenings, clearances, PEG-3 answers).
    with django_assert_num_queries(SIGNED_IN_QUERIES + 4):
        response = client.get("/progress/export.json")
        body(response)


# --- Privacy -----------------------------------------------------------------------


def test_exports_never_hold_another_users_records(client, records):
    other = make_account("mallory")
    make_session(other, NOW - timedelta(days=1), note="mallory-private", pain_before=9)
    screening = Screening.objects.create(
        user=other, taken_at=NOW, answers={"weight_loss": True}, verdict="urgent", reason="due"
    )
    Clearance.objects.create(user=other, screening=screening, cleared_on=date(2026, 5, 20))
    csv_text = body(client.get("/progress/export.csv"))
    json_text = body(client.get("/progress/export.json"))
    for text in (csv_text, json_text):
        assert "mallory-private" not in text
        assert "urgent" not in text
        assert "weight_loss" not in text
    assert len(json.loads(json_text)["sessions"]) == 2
