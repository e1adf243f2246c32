"""Today's plan as the shared cache keeps it (``TodayPlan.__reduce__``): read back, it is the
plan that was written, whatever the day held; and a day of sessions does not make it grow
by a stretch per session."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import make_user, ready_to_log, session_post
from tests.properties import examples
from tracking.plan import TodayPlan, TodayRows, TodaySession, build_plan, micros_of

pytestmark = pytest.mark.django_db


def plan_with(user, rows: list[tuple[datetime, int, int]], *, copies: bool) -> TodayPlan:
    """``user``'s plan with today's sessions replaced by ``rows`` (time, pain before,
    pain after), newest first; ``copies``: each row holds its own copy of the stretch,
    as rows carried over from an earlier plan do."""
    plan = build_plan(user.profile)
    stretch = plan.main.exercise
    todays = [
        TodaySession(1000 + n, when, copy.copy(stretch) if copies else stretch, before, after)
        for n, (when, before, after) in enumerate(rows)
    ]
    plan.todays_sessions = todays
    plan.last_session = todays[0] if todays else plan.last_session
    return plan


def same_plan(read: TodayPlan, written: TodayPlan) -> None:
    assert read.prescription == written.prescription
    assert read.items == written.items
    assert [entry.exercise.name for entry in read.items] == [
        entry.exercise.name for entry in written.items
    ]
    assert read.today == written.today
    assert read.todays_sessions == written.todays_sessions
    assert [row.exercise.name for row in read.todays_sessions] == [
        row.exercise.name for row in written.todays_sessions
    ]
    assert read.last_session == written.last_session
    assert read.last_session_day == written.last_session_day
    # What the page shows from it.
    assert read.next_item == written.next_item
    assert read.daily_cap_reached == written.daily_cap_reached
    assert read.asks_lasting_pain == written.asks_lasting_pain


@settings(max_examples=examples(40), deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            # In UTC, as the database and timezone.now() give them.
            st.datetimes(
                min_value=datetime(1969, 12, 31), max_value=datetime(2100, 1, 1),
                timezones=st.just(UTC),
            ),
            st.integers(0, 10),
            st.integers(0, 10),
        ),
        max_size=60,
    ),
    copies=st.booleans(),
)  # fmt: skip
def test_a_plan_read_back_is_the_plan_written(rows, copies):
    user = make_user()
    written = plan_with(user, rows, copies=copies)
    read = pickle.loads(pickle.dumps(written, pickle.HIGHEST_PROTOCOL))
    same_plan(read, written)
    # Every instant to the microsecond, in UTC as it was.
    for row, original in zip(read.todays_sessions, written.todays_sessions, strict=True):
        assert (row.performed_at, row.performed_at.utcoffset()) == (
            original.performed_at,
            timedelta(0),
        )
    if read.todays_sessions:
        # The last session is today's newest, the very row ("did the pain last?" asks
        # about it and may add a stop signal to it).
        assert read.last_session is read.todays_sessions[0]


def test_a_day_of_sessions_pickles_each_stretch_once():
    user = make_user()
    now = datetime.now(UTC)
    rows = [(now - timedelta(minutes=n), 3, 2) for n in range(50)]
    one_copy = pickle.dumps(plan_with(user, rows, copies=False), pickle.HIGHEST_PROTOCOL)
    copies = pickle.dumps(plan_with(user, rows, copies=True), pickle.HIGHEST_PROTOCOL)
    for entry in build_plan(user.profile).items:
        assert copies.count(entry.exercise.name.encode()) == 1, entry.exercise.name
    assert len(copies) == len(one_copy)


def test_the_plan_after_many_log_posts_is_the_plan_from_the_database():
    """Each log POST builds the next plan from the one before it (``_todays_with``) and
    writes it to the cache: after a day of them, the cached plan is the one the database
    gives."""
    user = make_user()
    client = ready_to_log(user)
    for n in range(12):
        response = client.post(
            "/today/log/",
            session_post(pain_before="3", pain_after="2"),
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 200, n
        assert response.headers["HX-Trigger"] == "session-logged"
    user.profile.refresh_from_db()
    cached = build_plan(user.profile)
    fresh = build_plan(user.profile, after_write=True)  # made from the database again
    assert len(fresh.todays_sessions) == 12
    same_plan(pickle.loads(pickle.dumps(cached, pickle.HIGHEST_PROTOCOL)), fresh)


def test_the_last_session_before_today_is_each_plans_own():
    """The days before today are kept per process (``_PAST_KEPT``) and every plan made
    from them gets a copy of the last session before today: a change one request makes to
    it (the lasting-pain question adds a stop signal) reaches no other plan."""
    import time_machine

    from tests.factories import make_session

    noon = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)
    with time_machine.travel(noon - timedelta(days=1), tick=False):
        user = make_user(start=noon.date() - timedelta(days=3))
        make_session(user)
    with time_machine.travel(noon, tick=False):
        profile = type(user).objects.get(pk=user.pk).profile
        first = build_plan(profile, after_write=True)
        first.last_session.stop_signals.append("sharp_pain")
        again = build_plan(profile, after_write=True)  # from the kept days, not the cache
        assert again.last_session.stop_signals == []
        assert again.last_session is not first.last_session


# --- Today's sessions as numbers (TodayRows) ---------------------------------------------


@settings(max_examples=examples(100), deadline=None)
@given(
    times=st.lists(st.integers(0, 10**6), max_size=30),
    new_time=st.integers(0, 10**6),
    new_pk=st.integers(1, 50),
)
def test_a_row_added_lands_where_the_database_would_order_it(times, new_time, new_pk):
    """``with_row`` (the log POST's next plan) orders today's sessions as the query does:
    newest first by time, then by id; the rows read back are the sessions put in."""
    stretch = SimpleNamespace(pk=7, name="Single knee to chest", slug="single")
    base = datetime(2026, 12, 7, tzinfo=UTC)
    sessions = sorted(
        (
            TodaySession(100 + n, base + timedelta(seconds=t), stretch, n % 11, (n * 3) % 11)
            for n, t in enumerate(times)
        ),
        key=lambda row: (row.performed_at, row.pk),
        reverse=True,
    )
    rows = TodayRows.of(sessions)
    assert rows == sessions and len(rows) == len(sessions)
    new = TodaySession(new_pk, base + timedelta(seconds=new_time), stretch, 3, 2)
    added = rows.with_row((micros_of(new.performed_at), new.pk, 7, 3, 2), stretch)
    expected = sorted([*sessions, new], key=lambda row: (row.performed_at, row.pk), reverse=True)
    assert added == expected
    assert added[-1] == expected[-1] and added[1:3] == expected[1:3]
    # The same row is the same object each time it is asked for.
    assert added[0] is added[0]


def test_rows_keep_each_stretch_once_and_pickle_small():
    user = make_user()
    now = datetime.now(UTC)
    plan = plan_with(user, [(now - timedelta(minutes=n), 3, 2) for n in range(50)], copies=True)
    rows = TodayRows.of(plan.todays_sessions)
    assert list(rows.exercises) == [plan.main.exercise.pk]
    read = pickle.loads(pickle.dumps(rows, pickle.HIGHEST_PROTOCOL))
    assert read == rows and read.raw == rows.raw
