"""The log POST makes the plan its save leads to before the write (tracking.plan
``PlanAfterSave``) and writes it to the shared cache with the round trip that keeps the
committed profile row (lib.cache ``ride_with_kept_row``): no round trip of its own at the
end of the request. Written only if the row the write commits shows the session was
stored alone (the data version one up, the history version, the settings and the day as
they were); the oracle is the plan made from the database alone."""

from __future__ import annotations

import os
import pickle
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

import tracking.services
import tracking.today
from accounts.models import Profile
from accounts.services import save_profile
from lib.redis_cache import Pickled
from stretches.models import StopSignal
from tests.factories import exercise, make_user, ready_to_log, session_post
from tests.tracking.test_kept_row_races import in_another_worker
from tests.tracking.test_log_post_races import before_the_write, cached_plan, plan_from_the_database
from tracking.plan import PROVISIONAL_ID, TodayRows, _PlanWithId, micros_of

pytestmark = [
    pytest.mark.usefixtures("clear_of_midnight"),  # a plain session, not the day's last minutes
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
        reason="the committed row comes back from PostgreSQL's one statement",
    ),
]
HX = {"HX-Request": "true"}


def writes_after_the_kept_row(monkeypatch) -> tuple[list, list]:
    """The entries written with the kept row, and every write to the shared cache after
    that round trip, in this request."""
    riding, later = [], []
    real_replace = cache.replace_generation
    real_many = cache.set_many_then_get_many

    def replace(*args, also=(), **kwargs):
        riding.extend(key for key, _, _ in also)
        return real_replace(*args, also=also, **kwargs)

    def many(entries, keys, *args, **kwargs):
        if riding:
            later.extend(key for key, _, _ in entries)
        return real_many(entries, keys, *args, **kwargs)

    monkeypatch.setattr(cache, "replace_generation", replace)
    monkeypatch.setattr(cache, "set_many_then_get_many", many)
    return riding, later


def test_the_next_plan_rides_with_the_kept_row_and_is_the_truth(monkeypatch):
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    riding, later = writes_after_the_kept_row(monkeypatch)
    saved = browser.post("/today/log/", session_post(pain_before=4, pain_after=3), headers=HX)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert b"Done today: <span data-done-count>2</span>" in saved.content
    assert [key.split(":")[0] for key in riding] == ["plan-v7"]
    assert later == [], "a round trip of its own after the kept row"
    truth = plan_from_the_database(member, monkeypatch)
    assert cached_plan(member) == truth
    newest = truth.todays_sessions[0]
    assert newest.pk > PROVISIONAL_ID and truth.last_session == newest
    assert (newest.pain_before, newest.pain_after) == (4, 3)


def _desk_work(profile) -> None:
    profile.desk_work = True
    save_profile(profile, ["desk_work"])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda user: _desk_work(user.profile), id="setting"),
        pytest.param(
            lambda user: tracking.services.log_session(
                user=Profile.objects.select_related("user").get(user=user).user,
                exercise=exercise(),
                performed_at=datetime.now(UTC),
                sides="left_right",
                reps_per_side=3,
                hold_seconds=20,
                hold_seconds_target=20,
                pain_before=2,
                pain_after=2,
                stop_signals=[],
                client_token=uuid.uuid4(),
            ),
            id="another-tab's-session",
        ),
    ],
)
def test_a_write_between_the_plan_and_the_save_leaves_it_unwritten(monkeypatch, change):
    """Another tab's write lands after the POST made its plan and before its statement:
    that plan is not the truth any more; it is not written, and the answer and the next
    request's plan are made from the rows as committed."""
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    riding, _ = writes_after_the_kept_row(monkeypatch)
    before_the_write(
        monkeypatch,
        lambda: in_another_worker(lambda: change(Profile.objects.get(user=member).user)),
    )
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert riding == []
    truth = plan_from_the_database(member, monkeypatch)
    count = len(truth.todays_sessions)
    assert f"Done today: <span data-done-count>{count}</span>".encode() in saved.content
    assert cached_plan(member) == truth


def test_a_save_that_stamps_a_setback_writes_no_plan_made_before_it(monkeypatch):
    """A pain rise of 2 is stamped (the history version moves): the plan made before the
    write is not the plan after it."""
    member = make_user()
    browser = ready_to_log(member)
    riding, _ = writes_after_the_kept_row(monkeypatch)
    saved = browser.post("/today/log/", session_post(pain_before=2, pain_after=5), headers=HX)
    monkeypatch.undo()
    assert saved.status_code == 200
    assert riding == []
    assert cached_plan(member) == plan_from_the_database(member, monkeypatch)


def test_a_stop_signal_makes_no_plan_before_the_write(monkeypatch):
    member = make_user()
    browser = ready_to_log(member)
    made = []
    real = tracking.today.PlanAfterSave.make
    monkeypatch.setattr(
        tracking.today.PlanAfterSave, "make", lambda *a, **k: made.append(1) or real(*a, **k)
    )
    post = {**session_post(), "stop_signals": [StopSignal.NUMBNESS.value]}
    saved = browser.post("/today/log/", post, headers=HX)
    assert saved.headers.get("HX-Redirect") == "/screening/"
    assert made == []


def test_midnight_between_the_plan_and_the_save(monkeypatch):
    """The plan was made for the day that ended before the statement ran: not written,
    and the answer is the new day's."""
    late = datetime(2026, 6, 10, 22, 59, 59, 900000, tzinfo=UTC)  # 23:59:59.9 in London
    with time_machine.travel(late, tick=False) as clock:
        member = make_user(start=late.date() - timedelta(days=5), time_zone="Europe/London")
        browser = ready_to_log(member)
        riding, _ = writes_after_the_kept_row(monkeypatch)
        real = tracking.services.retire_before_write

        def after_midnight(*args):
            clock.shift(timedelta(seconds=1))
            return real(*args)

        monkeypatch.setattr(tracking.services, "retire_before_write", after_midnight)
        saved = browser.post("/today/log/", session_post(), headers=HX)
        monkeypatch.undo()
        assert saved.headers.get("HX-Trigger") == "session-logged"
        assert riding == []
        truth = plan_from_the_database(member, monkeypatch)
        assert truth.today == late.date() + timedelta(days=1)
        assert cached_plan(member) == truth


# --- The plan's new session given its id ------------------------------------------------


def _plan_with(rows_raw, exercises, *, last_is_newest=True):
    from tracking.plan import TodayPlan

    rows = TodayRows(rows_raw, exercises)
    return TodayPlan(
        prescription=None,
        items=[],
        today=datetime(2026, 6, 10).date(),
        todays_sessions=rows,
        last_session=rows[0] if last_is_newest else None,
        last_session_day=None,
    )


@pytest.mark.parametrize("tied", [False, True])
def test_the_id_given_later_puts_the_session_where_the_database_would(tied):
    """Newest first by (time, id): a session stored at the same instant as another is
    ordered by its id, which it only has after the write."""
    stretch = exercise()
    now = datetime(2026, 6, 10, 8, tzinfo=UTC)
    other = (micros_of(now), 41, stretch.pk, 2, 2)
    new_time = now if tied else now + timedelta(minutes=5)
    provisional = (micros_of(new_time), PROVISIONAL_ID, stretch.pk, 3, 1)
    raw = tuple(sorted((other, provisional), reverse=True))
    plan = _plan_with(raw, {stretch.pk: stretch})
    index = raw.index(provisional)
    stored = plan.with_session_id(index, 42)
    assert [row.pk for row in stored.todays_sessions] == [42, 41]
    assert stored.last_session.pk == 42
    again = pickle.loads(Pickled.of(_PlanWithId(pickle.dumps(plan), index, 42)))
    assert [row.pk for row in again.todays_sessions] == [42, 41]
    assert again.last_session == stored.last_session
    with pytest.raises(ValueError):
        stored.with_session_id(0, 43)  # already has its id


def test_a_rider_that_fails_costs_only_its_entry(monkeypatch):
    """Whatever goes wrong making the plan's entry after the commit, the save stands, the
    committed row is still retired and kept, and the next plan is the database's."""
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    riding, _ = writes_after_the_kept_row(monkeypatch)

    def broken(self, committed):
        raise RuntimeError("the rider broke")

    monkeypatch.setattr(tracking.today.PlanAfterSave, "rider", broken)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert b"Done today: <span data-done-count>2</span>" in saved.content
    assert riding == []
    stored = Profile.objects.get(user=member)
    kept = cache.get(f"profile:{member.pk}")
    assert kept is not None and kept[1].data_version == stored.data_version
    assert cached_plan(member) == plan_from_the_database(member, monkeypatch)


def test_a_plan_that_cannot_be_made_before_the_write_does_not_stop_the_save(monkeypatch):
    member = make_user()
    browser = ready_to_log(member)

    def broken(*args, **kwargs):
        raise RuntimeError("no plan before the write")

    monkeypatch.setattr(tracking.today.PlanAfterSave, "make", broken)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert b"Done today: <span data-done-count>1</span>" in saved.content
    assert cached_plan(member) == plan_from_the_database(member, monkeypatch)
