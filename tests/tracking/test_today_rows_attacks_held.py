"""A review's attacks on TodayRows, the plan's pickling and done_rows, kept. One found a
hole, fixed: rows[-len - 1] gave the last row instead of raising IndexError."""

from __future__ import annotations

import pickle
import uuid
import zoneinfo
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from tests.factories import make_user, ready_to_log, session_post
from tests.tracking.test_today_rows import IN_PYTHON, TEMPLATE_LOOP, render
from tracking.models import Session
from tracking.plan import TodayRows, TodaySession, _compute_plan, build_plan, micros_of

A = SimpleNamespace(pk=7, name="Single knee to chest", slug="single-knee-to-chest")
B = SimpleNamespace(pk=8, name='Tom & "Jerry" <b>', slug="double-knee-to-chest")


def rows_of(*raw):
    return TodayRows(tuple(raw), {7: A, 8: B})


# --- Sequence behaviour ----------------------------------------------------------------


def test_negative_index_beyond_the_start_raises_like_a_list():
    """Found (fixed): rows[-len-1] wrapped round to the last row instead of IndexError."""
    rows = rows_of((3, 3, 7, 1, 1), (2, 2, 7, 1, 1), (1, 1, 7, 1, 1))
    as_list = list(rows)
    with pytest.raises(IndexError):
        as_list[-4]
    with pytest.raises(IndexError):
        rows[-4]  # TodayRows returned rows[-1] here


def test_sequence_behaviour_matches_a_list():
    raw = [(5, 9, 7, 2, 3), (5, 4, 8, 0, 10), (1, 1, 7, 4, 4)]
    rows = rows_of(*raw)
    as_list = list(rows)
    for i in range(-3, 3):
        assert rows[i] is rows[i] and rows[i] == as_list[i]
    assert rows[::-1] == as_list[::-1] and rows[1:] == as_list[1:] and rows[5:] == []
    assert rows == as_list and as_list == rows and rows == tuple(as_list)
    assert (rows != as_list) is False and rows != as_list[:2] and rows != [] and bool(rows)
    assert list(reversed(rows)) == as_list[::-1] and as_list[1] in rows
    assert rows.index(as_list[2]) == 2 and rows.count(as_list[0]) == 1
    assert not TodayRows((), {}) and TodayRows((), {}) == []
    with pytest.raises(IndexError):
        rows[3]
    with pytest.raises(TypeError):
        hash(rows)


def test_with_row_orders_equal_times_by_id_and_keeps_older_rows():
    rows = rows_of((100, 5, 7, 1, 1), (100, 3, 7, 1, 1), (50, 9, 8, 1, 1))
    # Same instant as the newest, lower id: goes between, not first.
    added = rows.with_row((100, 4, 8, 2, 2), B)
    assert [r.pk for r in added] == [5, 4, 3, 9]
    assert added.raw == tuple(sorted(added.raw, key=lambda r: (r[0], r[1]), reverse=True))
    # The rows before are untouched (a plan read by another request still holds them).
    assert [r.pk for r in rows] == [5, 3, 9]


def test_pickle_round_trip_keeps_rows_and_identity_of_last_session(django_db_setup, db):
    user = make_user()
    plan = build_plan(user.profile)
    stretch = plan.main.exercise
    now = datetime.now(UTC)
    plan.todays_sessions = TodayRows(
        tuple(
            (micros_of(now - timedelta(seconds=n)), 100 - n, stretch.pk, n % 11, 3)
            for n in range(5)
        ),  # fmt: skip
        {stretch.pk: stretch},
    )
    plan.last_session = plan.todays_sessions[0]
    read = pickle.loads(pickle.dumps(plan, pickle.HIGHEST_PROTOCOL))
    assert read.todays_sessions == plan.todays_sessions
    assert read.last_session is read.todays_sessions[0]
    again = pickle.loads(pickle.dumps(read, pickle.HIGHEST_PROTOCOL))
    assert again.last_session is again.todays_sessions[0]
    assert again.items[0].exercise is again.todays_sessions[0].exercise


# --- "Done today" against the template loop, TodayRows branch ----------------------------


@pytest.mark.parametrize(
    "zone",
    ["Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns", "Europe/London", "UTC"],
)
def test_done_rows_from_todayrows_match_the_template_loop_across_folds(zone):
    tz = zoneinfo.ZoneInfo(zone)
    # Around Lord Howe's 30-minute fold (2025-04-06 02:00 -> 01:30) and London's (26 Oct).
    starts = [datetime(2025, 4, 5, 14, 0, tzinfo=UTC), datetime(2025, 10, 26, 0, 0, tzinfo=UTC)]
    raw = []
    for start in starts:
        for n in range(40):
            at = start + timedelta(minutes=7 * n, microseconds=n)
            raw.append((micros_of(at), 1000 + len(raw), 7 if n % 2 else 8, n % 11, (n * 3) % 11))
    raw.sort(reverse=True)
    rows = TodayRows(tuple(raw), {7: A, 8: B})
    with timezone.override(tz):
        assert render(IN_PYTHON, rows) == render(TEMPLATE_LOOP, rows)
        # The per-process memo cannot leak one zone's rendering into another's.
        with timezone.override(zoneinfo.ZoneInfo("Asia/Kathmandu")):
            assert render(IN_PYTHON, rows) == render(TEMPLATE_LOOP, rows)
        assert render(IN_PYTHON, rows) == render(TEMPLATE_LOOP, rows)


def test_the_same_instant_in_two_folded_hours_renders_each_hour():
    tz = zoneinfo.ZoneInfo("Europe/London")
    first = datetime(2025, 10, 26, 0, 30, tzinfo=UTC)  # 01:30 BST
    second = first + timedelta(hours=1)  # 01:30 GMT: same wall time, other instant
    for at in (first, second):
        rows = TodayRows(((micros_of(at), 1, 7, 2, 3),), {7: A})
        with timezone.override(tz):
            assert "01:30" in render(IN_PYTHON, rows)
            assert render(IN_PYTHON, rows) == render(TEMPLATE_LOOP, rows)


# --- Counts and the daily cap through a day of log POSTs (the with_row chain) ------------


def fresh_plan(profile):
    from tracking.plan import _rules_fingerprint, catalogue_rules

    catalogue = catalogue_rules()
    return _compute_plan(profile, catalogue, profile.local_today(), _rules_fingerprint(catalogue))


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("zone", ["Australia/Lord_Howe", "Asia/Kathmandu"])
def test_a_day_of_logs_at_one_frozen_instant_matches_a_fresh_read(zone, monkeypatch):
    """Every POST at the very same instant (equal times: order falls to the id), each
    answered with a plan grown by with_row; the cached plan and its "Done today" list must
    be what a fresh read of the database gives."""
    import tracking.plan

    grown = []
    real = tracking.plan._todays_with
    monkeypatch.setattr(
        tracking.plan, "_todays_with", lambda *a: grown.append(real(*a)) or grown[-1]
    )
    at = datetime(2025, 6, 10, 3, 0, tzinfo=UTC)
    with time_machine.travel(at, tick=False):
        user = make_user(time_zone=zone, start=at.date() - timedelta(days=10))
        client = ready_to_log(user)
        for n in range(12):
            response = client.post(
                "/today/log/",
                session_post(
                    pain_before=str(n % 6), pain_after=str(n % 5), client_token=str(uuid.uuid4())
                ),  # fmt: skip
                headers={"HX-Request": "true"},
            )
            assert response.status_code == 200, response.content[:300]
            assert f"Done today: <span data-done-count>{n + 1}</span>" in response.content.decode()
        assert sum(rows is not None for rows in grown) >= 8, grown  # the chain was used
        profile = type(user).objects.get(pk=user.pk).profile
        cached = build_plan(profile)
        fresh = fresh_plan(profile)
        assert Session.objects.filter(user=user).count() == 12
        assert cached.todays_sessions == fresh.todays_sessions
        assert [r.exercise.slug for r in cached.todays_sessions] == [
            r.exercise.slug for r in fresh.todays_sessions
        ]
        assert [(e.done_today, e.done_this_week, e.all_today) for e in cached.items] == [
            (e.done_today, e.done_this_week, e.all_today) for e in fresh.items
        ]
        assert cached.last_session == fresh.last_session
        with timezone.override(profile.tzinfo):
            assert render(IN_PYTHON, cached.todays_sessions) == render(
                TEMPLATE_LOOP, fresh.todays_sessions
            )


@pytest.mark.django_db(transaction=True)
def test_the_acute_daily_cap_holds_through_the_chain():
    user = make_user(phase="acute")
    client = ready_to_log(user)
    saved = 0
    for _ in range(5):
        client.post(
            "/today/log/", session_post(pain_before="3", pain_after="3"),
            headers={"HX-Request": "true"},
        )  # fmt: skip
        saved = Session.objects.filter(user=user).count()
        if saved >= 3:
            profile = type(user).objects.get(pk=user.pk).profile
            assert build_plan(profile).daily_cap_reached
    assert saved == 3, saved
    cache.clear()
    profile = type(user).objects.get(pk=user.pk).profile
    assert fresh_plan(profile).daily_cap_reached


def test_plain_list_todays_sessions_still_pickle():
    """A plan whose rows are a list (made by hand, as older tests do) pickles into
    TodayRows and keeps the identity of its last session."""
    now = datetime(2025, 6, 1, tzinfo=UTC)
    rows = [TodaySession(2, now, A, 1, 2), TodaySession(1, now, A, 1, 2)]
    raw = TodayRows.of(rows)
    assert raw == rows and [r.pk for r in raw] == [2, 1]


@pytest.mark.django_db(transaction=True)
def test_a_stretch_renamed_between_two_logs_shows_one_name_as_a_fresh_read():
    from stretches.models import Exercise

    user = make_user()
    client = ready_to_log(user)
    hx = {"HX-Request": "true"}
    for _ in range(2):
        assert client.post("/today/log/", session_post(), headers=hx).status_code == 200
    stretch = Exercise.objects.get(slug="single-knee-to-chest")
    stretch.name = "Knee hug & <renamed>"
    stretch.save()
    response = client.post("/today/log/", session_post(), headers=hx)
    text = response.content.decode()
    assert text.count("Knee hug &amp; &lt;renamed&gt;") >= 3
    assert "Single knee to chest ·" not in text
    profile = type(user).objects.get(pk=user.pk).profile
    assert build_plan(profile).todays_sessions == fresh_plan(profile).todays_sessions
