"""The history version (lib.cache.data_changed): what is cached under it never differs from
what a fresh read of the database would give.

A plain new session on the user's local today is the one write that leaves the history
version alone; the plan's days before today, the stamped setbacks, the safety record, the
progress page's days before today and the check-ins are cached under it. Every other
write (a stop signal, a pain rise, a severe score, a back-dated session, an edit, a
delete, a check-in, a session minutes before midnight) moves it on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache.backends.dummy import DummyCache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lib.cache
import tracking.plan
from accounts.models import Profile
from stretches.models import StopSignal
from stretches.safety import gate_state, record_screening, safety_record
from stretches.screening import Answer
from tests.factories import all_no, log_stretch, make_user, session_post, spy_cache_reads
from tests.properties import examples
from tracking import series
from tracking.models import Session
from tracking.peg_data import peg_summary_for, weekly_questions_due
from tracking.plan import build_plan
from tracking.progress_views import trends_for
from tracking.services import (
    add_stop_signal,
    delete_session,
    save_checkin,
    save_peg,
    update_session,
)
from tracking.today import weekly_checkin_due

pytestmark = pytest.mark.django_db

AUCKLAND = ZoneInfo("Pacific/Auckland")
# A Wednesday afternoon in Auckland, a week after the programme started.
NOW = datetime(2026, 5, 20, 15, 0, tzinfo=AUCKLAND)


def versions(user) -> tuple[int, int]:
    return tuple(
        Profile.objects.filter(user=user).values_list("data_version", "history_version").get()
    )


def log(user, *, when=None, before=4, after=3, signals=()):
    return log_stretch(user, when=when, before=before, after=after, signals=signals)[0]


@pytest.fixture
def user():
    with time_machine.travel(NOW, tick=False):
        yield make_user(time_zone="Pacific/Auckland", start=NOW.date() - timedelta(days=7))


def test_a_plain_session_today_moves_only_the_data_version(user):
    with time_machine.travel(NOW, tick=False):
        data, history = versions(user)
        log(user, before=4, after=5)  # a rise of 1 is no setback
        assert versions(user) == (data + 1, history)


@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda user: log(user, signals=["numbness"]), id="stop signal"),
        pytest.param(lambda user: log(user, before=3, after=5), id="pain rise"),
        pytest.param(lambda user: log(user, before=8, after=7), id="severe score"),
        pytest.param(
            lambda user: log(user, when=datetime.now(AUCKLAND) - timedelta(days=1)),
            id="back-dated",
        ),
        pytest.param(
            lambda user: save_checkin(user=user, week=2, movement="better", sleep="same"),
            id="check-in",
        ),
        pytest.param(lambda user: delete_session(session=log(user)), id="delete"),
        pytest.param(
            lambda user: update_session(
                session=(s := log(user)), version=s.version, stop_signals=[], pain_after=2
            ),
            id="edit",
        ),
    ],
)
def test_every_other_write_moves_the_history_version(user, write):
    with time_machine.travel(NOW, tick=False):
        _, history = versions(user)
        write(user)
        assert versions(user)[1] > history


def test_a_session_minutes_before_midnight_moves_the_history_version(user):
    # Its transaction may commit after midnight, when its day is already "before today".
    late = datetime.combine(NOW.date(), datetime.min.time(), tzinfo=AUCKLAND) + timedelta(
        hours=23, minutes=57
    )
    with time_machine.travel(late, tick=False):
        _, history = versions(user)
        log(user)
        assert versions(user)[1] == history + 1


def test_a_stop_signal_today_pauses_at_once_although_a_plain_session_came_first(user):
    with time_machine.travel(NOW, tick=False):
        assert gate_state(user).decision.allowed
        log(user)  # cached under the history version: the record is unchanged
        assert gate_state(Profile.objects.get(user=user).user).decision.allowed
        log(user, signals=["numbness"])
        fresh = Profile.objects.select_related("user").get(user=user).user
        assert not gate_state(fresh).decision.allowed


def test_todays_sessions_become_past_days_after_midnight(user):
    """Two plain sessions today (the history version stays), then midnight: the plan and
    the progress page count them on the day before, not as today's."""
    with time_machine.travel(NOW, tick=False) as clock:
        log(user)
        log(user)
        profile = Profile.objects.get(user=user)
        assert build_plan(profile).main.done_today == 2
        clock.move_to(NOW + timedelta(days=1))
        profile = Profile.objects.get(user=user)
        assert build_plan(profile).main.done_today == 0
        days = {row.day: row for row in trends_for(user, profile, series.Range.ALL).days}
        assert days[NOW.date()].sessions == 2


# --- The property: cached parts equal a fresh read ------------------------------------

OPERATIONS = st.sampled_from(
    [
        "plain",
        "plain",
        "plain",
        "rise",
        "stop",
        "severe",
        "back",
        "edit",
        "delete",
        "checkin",
        "peg",
    ]
)
STEPS = st.lists(st.tuples(OPERATIONS, st.integers(0, 20)), min_size=1, max_size=8)


def everything(user):
    """What the pages show from the history caches, read for this request's profile."""
    user = Profile.objects.select_related("user").get(user=user).user
    profile = user.profile
    return (
        build_plan(profile),
        safety_record(user),
        trends_for(user, profile, series.Range.SIX_WEEKS),
        trends_for(user, profile, series.Range.ALL),
        [weekly_questions_due(user, week) for week in (1, 2, 3, 4)],
        [weekly_checkin_due(user, week) for week in (2, 3, 4)],
        peg_summary_for(user, profile),
    )


def uncached(user, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(lib.cache, "cache", DummyCache("none", {}))
        patch.setattr(tracking.plan, "_PAST_KEPT", {})  # nor this process's days before today
        patch.setattr(tracking.plan, "_PLANS_KEPT", {})  # nor its plans
        return everything(user)


@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_what_the_history_caches_hold_equals_a_fresh_read(steps, monkeypatch):
    with time_machine.travel(NOW, tick=False) as clock:
        user = make_user(time_zone="Pacific/Auckland", start=NOW.date() - timedelta(days=20))
        for operation, hours in steps:
            clock.shift(timedelta(hours=hours))
            now = datetime.now(AUCKLAND)
            mine = Session.objects.filter(user=user).order_by("-performed_at")
            if operation == "plain":
                log(user, before=4, after=4)
            elif operation == "rise":
                log(user, before=2, after=5)
            elif operation == "stop":
                log(user, signals=["cramp"])
            elif operation == "severe":
                log(user, before=8, after=8)
            elif operation == "back":
                log(user, when=now - timedelta(days=1 + hours % 6))
            elif operation == "checkin":
                save_checkin(user=user, week=2 + hours % 3, movement="better", sleep="same")
            elif operation == "peg":
                save_peg(user=user, week=1 + hours % 3, pain=hours % 11, enjoyment=5, activity=4)
            elif (session := mine.first()) is not None:
                if operation == "edit":
                    update_session(
                        session=session, version=session.version, stop_signals=[], pain_after=1
                    )
                else:
                    delete_session(session=session)
            assert everything(user) == uncached(user, monkeypatch), (operation, hours)


def test_the_reports_safety_lists_show_a_stop_signal_added_after_a_plain_session(client, user):
    """The report's stop signals and screenings are cached under the history version: a
    plain session keeps them, a stop signal added later (the one-tap 'it was sharp') and
    a new screening show on the next load."""
    with time_machine.travel(NOW, tick=False):
        client.force_login(user)
        assert "None." in client.get("/progress/report/").text  # no stop signal yet
        session = log(user)
        assert "None." in client.get("/progress/report/").text
        add_stop_signal(session=session, signal=StopSignal.SHARP_PAIN)
        report = client.get("/progress/report/").text
        assert "Sharp" in report or "sharp" in report
        screenings = report.count("<tr>")
        answers = {qid: Answer(value) for qid, value in all_no().items()}
        record_screening(user=user, answers=answers, triggers=(), reason="due")
        assert client.get("/progress/report/").text.count("<tr>") == screenings + 1


# --- The log POST's own plan ------------------------------------------------------------

POSTS = st.lists(
    st.tuples(
        st.sampled_from(["post", "post", "post", "again", "back", "checkin"]),
        st.integers(0, 10),  # pain before
        st.integers(0, 10),  # pain after
        st.integers(0, 9),  # hours on
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=POSTS)
def test_the_plan_a_log_post_leaves_behind_is_a_fresh_read(steps, client, monkeypatch):
    """The log POST builds the plan after its write without asking the cache first, and
    reuses the days before today it read before the write (tracking.plan.prefetch_plan)
    and, when its save alone moved the version on, the plan's sessions of today with the
    new one (tracking.plan.build_plan's ``logged``): what it leaves in the cache, and what
    the next page shows, must be what a read of the database makes, whatever came before."""
    with time_machine.travel(NOW, tick=False) as clock:
        user = make_user(time_zone="Pacific/Auckland", start=NOW.date() - timedelta(days=20))
        client.force_login(user)
        for operation, before, after, hours in steps:
            clock.shift(timedelta(hours=hours))
            if operation == "back":
                log(user, when=datetime.now(AUCKLAND) - timedelta(days=1 + hours % 5))
            elif operation == "checkin":
                save_checkin(user=user, week=2 + hours % 3, movement="better", sleep="same")
            else:
                if operation == "post":
                    client.get("/today/")  # the page the form is on: its plan is cached
                # "again": straight after the last POST, from the plan that POST left.
                response = client.post(
                    "/today/log/",
                    session_post(pain_before=str(before), pain_after=str(after)),
                    headers={"HX-Request": "true"},
                )
                if response.headers.get("HX-Trigger") != "session-logged":
                    # Closed by the gate (severe pain on a third day) or the flare's cap.
                    continue
            if not gate_state(user).decision.allowed:
                continue
            assert everything(user)[0] == uncached(user, monkeypatch)[0], (operation, hours)


def test_the_days_before_today_are_read_once_per_process_and_never_changed(user, monkeypatch):
    """tracking.plan keeps the days before today per process under the shared cache's key:
    the next plan after a plain session today reads them from neither the database nor
    the shared cache, and today's sessions never get into the kept days."""
    with time_machine.travel(NOW, tick=False) as clock:
        log(user, when=NOW - timedelta(days=1))
        log(user, when=NOW - timedelta(days=1))
        clock.shift(timedelta(minutes=1))
        profile = Profile.objects.get(user=user)
        assert build_plan(profile).main.done_this_week == 2
        reads = spy_cache_reads(monkeypatch)
        for expected in (1, 2):
            log(user)
            profile = Profile.objects.get(user=user)
            plan = build_plan(profile)
            assert plan.main.done_today == expected
            assert plan.main.done_this_week == 2 + expected
        assert not [key for _, keys in reads for key in _keys(keys) if "plan-past" in key]
        (kept,) = tracking.plan._PAST_KEPT.values()
        assert list(kept.days.by_day) == [(NOW - timedelta(days=1)).date()]
        assert NOW.date() not in {day for _, day in kept.per_exercise_day}


def _keys(keys) -> list[str]:
    return [keys] if isinstance(keys, str) else list(keys)
