"""A review's attacks on 137b6b2: the log POST's plan made before its write
(tracking.plan ``PlanAfterSave``) and written with the round trip that keeps the committed
profile row (lib.cache ``ride_with_kept_row``, lib.redis_cache
``replace_generation(also=...)``).

Attacked: two POSTs at the same microsecond; another tab's whole log POST (its own rider)
landing before this POST's write, and between this POST's commit and its round trip to
Redis (the entry under each data version must be that version's plan, never another
state's); another tab's delete, stop signal (lasting pain "yes"), offline-queue session,
double tap (same client token) and an admin's catalogue edit between the plan and the
write; the acute flare's third session (capped path, transaction, ``on_stored``) and two
tabs racing for it; midnight of a DST change in the person's zone; Redis's script cache
flushed (NOSCRIPT) and the pipeline failing at the after-commit step; a refused form.

The oracle throughout: the plan served to the next request (``cached_plan``) is the plan
made from the database alone (``plan_from_the_database``), and the POST's answer shows
the database's counts. The other tab always runs in another thread (its own request memo
and connection), as a second worker would.
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import redis
import time_machine
from django.core.cache import cache
from django.test import Client

import tracking.today
from lib.cache import user_key
from pwa.owner import offline_owner
from stretches.models import Exercise
from tests.factories import exercise, log_stretch, make_user, ready_to_log, session_post
from tests.tracking.test_kept_row_races import current_profile, in_another_worker
from tests.tracking.test_log_post_races import (
    cached_plan,
    fresh_user,
    plan_from_the_database,
)
from tracking.models import Session
from tracking.plan import PROVISIONAL_ID, _plan_entry, _rules_fingerprint, catalogue_rules
from tracking.services import delete_session

pytestmark = [
    pytest.mark.usefixtures("clear_of_midnight"),  # a plain session, not the day's last minutes
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
        reason="the committed row comes back from PostgreSQL",
    ),
]
HX = {"HX-Request": "true"}
CAP_TEXT = "allows at most 3 sessions"


def before_the_write(monkeypatch, action) -> list:
    """``action`` once, in this thread's POST, after it made its plan and before its
    write (the other tab's POST, run meanwhile, goes through the same view unhooked)."""
    real = tracking.today.log_session
    main = threading.get_ident()
    fired = []

    def wrapped(**kwargs):
        if not fired and threading.get_ident() == main:
            fired.append(True)
            action()
        return real(**kwargs)

    monkeypatch.setattr(tracking.today, "log_session", wrapped)
    return fired


def done_today(count: int) -> bytes:
    return f"Done today: <span data-done-count>{count}</span>".encode()


def riding_plans(monkeypatch) -> list:
    """The keys written with the kept row from now on (this thread's requests)."""
    riding = []
    real = cache.replace_generation
    main = threading.get_ident()

    def replace(*args, also=(), **kwargs):
        if threading.get_ident() == main:
            riding.extend(key for key, _, _ in also)
        return real(*args, also=also, **kwargs)

    monkeypatch.setattr(cache, "replace_generation", replace)
    return riding


def entry_under(user, data_version):
    """The plan the shared cache holds under ``data_version`` (settings, day and catalogue
    as now), or None."""
    profile = fresh_user(user).profile
    name, key = _plan_entry(profile, _rules_fingerprint(catalogue_rules()), profile.local_today())
    return cache.get(user_key(profile, name, data_version=data_version, **key))


def version_of(user) -> int:
    return fresh_user(user).profile.data_version


def assert_truth_served(user, monkeypatch):
    truth = plan_from_the_database(user, monkeypatch)
    assert cached_plan(user) == truth
    assert all(row.pk != PROVISIONAL_ID for row in truth.todays_sessions)
    return truth


# --- Same instant ------------------------------------------------------------------------


def test_two_posts_at_the_same_microsecond_are_ordered_as_the_database_orders_them(
    monkeypatch,
):
    """Frozen clock: both sessions have the same performed_at; the second's provisional
    id (0) sorts it after the first until its id is set. The answer, the cached plan and
    the last session must be the database's (newest by id)."""
    instant = datetime(2026, 6, 10, 9, 30, 0, 123456, tzinfo=UTC)
    with time_machine.travel(instant, tick=False):
        member = make_user(start=instant.date() - timedelta(days=3))
        browser = ready_to_log(member)
        browser.post("/today/log/", session_post(pain_before=3, pain_after=3), headers=HX)
        riding = riding_plans(monkeypatch)
        second = browser.post("/today/log/", session_post(pain_before=4, pain_after=2), headers=HX)
        assert second.headers.get("HX-Trigger") == "session-logged"
        assert [key.split(":")[0] for key in riding] == ["plan-v7"]
        assert done_today(2) in second.content
        truth = assert_truth_served(member, monkeypatch)
        newest = Session.objects.filter(user=member).order_by("-performed_at", "-id").first()
        assert [row.pk for row in truth.todays_sessions][0] == newest.pk
        assert truth.last_session.pk == newest.pk
        assert (truth.last_session.pain_before, truth.last_session.pain_after) == (4, 2)


# --- Another tab's whole log POST --------------------------------------------------------


def test_another_tabs_post_before_this_write(monkeypatch):
    """The other tab's POST (its rider writes its plan under v+1) lands after this POST
    made its plan under v+1 too, before its statement: this one's plan must not be written
    (it lacks the other session), and v+1 holds the other tab's state only."""
    member = make_user()
    browser = ready_to_log(member)
    other_tab = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    start = version_of(member)
    answers = []
    fired = before_the_write(
        monkeypatch,
        lambda: in_another_worker(
            lambda: answers.append(other_tab.post("/today/log/", session_post(), headers=HX))
        ),
    )
    riding = riding_plans(monkeypatch)
    saved = browser.post("/today/log/", session_post(pain_before=6, pain_after=6), headers=HX)
    monkeypatch.undo()
    assert fired, "the other tab's write did not run before this one's"
    assert answers[0].headers.get("HX-Trigger") == "session-logged"
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert riding == []
    assert version_of(member) == start + 2
    assert done_today(3) in saved.content
    assert_truth_served(member, monkeypatch)
    mine = Session.objects.filter(user=member, pain_before=6).get()
    other_state = entry_under(member, start + 1)
    if other_state is not None:  # the other tab's plan: without this POST's session
        assert mine.pk not in [row.pk for row in other_state.todays_sessions]
        assert len(other_state.todays_sessions) == 2


def test_another_tabs_post_between_this_commit_and_its_round_trip(monkeypatch):
    """This POST's statement committed (v+1); before its after-commit round trip, the
    other tab's whole POST runs (v+2, its own rider). The entry this POST then writes
    under v+1 must be the v+1 state (without the other tab's session), the cache's plan
    the database's, and this POST's answer its own state's counts."""
    member = make_user()
    browser = ready_to_log(member)
    other_tab = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    start = version_of(member)
    real = cache.replace_generation
    main = threading.get_ident()
    snapshot, answers = [], []

    def replacing(generation_key, value_key, *args, **kwargs):
        if not snapshot and threading.get_ident() == main and value_key == f"profile:{member.pk}":
            snapshot.append(plan_from_the_database(member, monkeypatch))  # the v+1 state
            in_another_worker(
                lambda: answers.append(other_tab.post("/today/log/", session_post(), headers=HX))
            )
        return real(generation_key, value_key, *args, **kwargs)

    monkeypatch.setattr(cache, "replace_generation", replacing)
    saved = browser.post("/today/log/", session_post(pain_before=6, pain_after=6), headers=HX)
    monkeypatch.undo()
    assert snapshot and answers[0].headers.get("HX-Trigger") == "session-logged"
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert version_of(member) == start + 2
    assert done_today(2) in saved.content  # the state its own write made
    under = entry_under(member, start + 1)
    assert under is None or under == snapshot[0]
    truth = assert_truth_served(member, monkeypatch)
    assert len(truth.todays_sessions) == 3
    kept = current_profile(member)
    assert kept is None or kept.data_version == start + 2


def test_the_same_form_sent_from_another_worker_first(monkeypatch):
    """A double tap: the same client token's POST lands in another worker before this
    one's statement. One session; this answer says "saved again" with the true counts."""
    member = make_user()
    browser = ready_to_log(member)
    other_tab = ready_to_log(member)
    post = session_post()
    fired = before_the_write(
        monkeypatch,
        lambda: in_another_worker(lambda: other_tab.post("/today/log/", post, headers=HX)),
    )
    riding = riding_plans(monkeypatch)
    saved = browser.post("/today/log/", post, headers=HX)
    monkeypatch.undo()
    assert fired, "the other tab's write did not run before this one's"
    assert saved.status_code == 200
    assert Session.objects.filter(user=member).count() == 1
    assert riding == []
    assert done_today(1) in saved.content
    assert_truth_served(member, monkeypatch)


# --- Other writes between the plan and the write -----------------------------------------


def test_a_session_deleted_in_another_tab(monkeypatch):
    member = make_user()
    browser = ready_to_log(member)
    earlier, _ = log_stretch(member, when=datetime.now(UTC) - timedelta(minutes=1))
    browser.get("/today/")
    fired = before_the_write(
        monkeypatch,
        lambda: in_another_worker(
            lambda: delete_session(
                session=Session.objects.select_related("user").get(pk=earlier.pk)
            )
        ),
    )
    riding = riding_plans(monkeypatch)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired, "the other tab's write did not run before this one's"
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert riding == []
    assert done_today(1) in saved.content
    truth = assert_truth_served(member, monkeypatch)
    assert earlier.pk not in [row.pk for row in truth.todays_sessions]


def test_lasting_pain_yes_in_another_tab_closes_the_answer(monkeypatch):
    """Another tab answers "yes" to the lasting-pain question (a stop signal on yesterday's
    session) before this POST's write: the answer is no plan but the screening, and the
    next request is gated."""
    member = make_user(start=(datetime.now(UTC) - timedelta(days=5)).date())
    log_stretch(member, when=datetime.now(UTC) - timedelta(days=1, hours=1))
    browser = Client()
    browser.force_login(member)
    browser.get("/today/")
    browser.post("/today/lasting-pain/", {"lasting": "no"})
    other_tab = Client()
    other_tab.force_login(member)

    def yes():
        last = Session.objects.filter(user=member).select_related("user").first()
        from stretches.models import StopSignal
        from tracking.services import add_stop_signal

        add_stop_signal(session=last, signal=StopSignal.LASTING_PAIN)

    fired = before_the_write(monkeypatch, lambda: in_another_worker(yes))
    riding = riding_plans(monkeypatch)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired, "the other tab's write did not run before this one's"
    assert riding == []
    assert saved.headers.get("HX-Redirect") == "/screening/"
    assert browser.get("/today/").status_code == 302


def test_an_offline_queued_session_sent_from_another_worker(monkeypatch):
    member = make_user()
    browser = ready_to_log(member)
    phone = ready_to_log(member)
    when = datetime.now(UTC) - timedelta(minutes=3)
    queued = session_post(performed_at=when.isoformat(), offline_owner=offline_owner(member))
    answers = []
    fired = before_the_write(
        monkeypatch,
        lambda: in_another_worker(lambda: answers.append(phone.post("/today/log/queued/", queued))),
    )
    riding = riding_plans(monkeypatch)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired, "the other tab's write did not run before this one's"
    assert answers[0].status_code == 200, answers[0].content
    assert riding == []
    assert done_today(2) in saved.content
    assert_truth_served(member, monkeypatch)


def test_the_catalogue_edited_by_an_admin_between_the_plan_and_the_write(monkeypatch):
    """An admin changes the stretch's prescribed holds after this POST made its plan: the
    plan then written is under the old catalogue's key, never served to a request that
    reads the new one."""
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)

    def edit():
        stretch = Exercise.objects.get(pk=exercise().pk)
        stretch.hold_max_seconds = stretch.hold_max_seconds - 5
        stretch.name = stretch.name + " (edited)"
        stretch.save()

    fired = before_the_write(monkeypatch, lambda: in_another_worker(edit))
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired, "the other tab's write did not run before this one's"
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert done_today(2) in saved.content
    truth = assert_truth_served(member, monkeypatch)
    assert truth.items[0].exercise.name.endswith("(edited)") or any(
        entry.exercise.name.endswith("(edited)") for entry in truth.items
    )


# --- The acute flare ---------------------------------------------------------------------


def acute_with_two():
    member = make_user(phase="acute")
    browser = ready_to_log(member)
    log_stretch(member)
    log_stretch(member)
    browser.get("/today/")
    return member, browser


def test_the_flares_third_session_answers_with_the_cap_and_the_next_is_refused(monkeypatch):
    """The capped path (lock, count, transaction, on_stored): the plan made before the
    write rides, and shows the day full; a fourth is refused."""
    member, browser = acute_with_two()
    riding = riding_plans(monkeypatch)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert [key.split(":")[0] for key in riding] == ["plan-v7"]
    assert done_today(3) in saved.content
    truth = assert_truth_served(member, monkeypatch)
    assert truth.daily_cap_reached and truth.prescription.daily_cap == 3
    newest = Session.objects.filter(user=member).order_by("-performed_at", "-id").first()
    assert truth.last_session.pk == newest.pk
    refused = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert refused.headers.get("HX-Trigger") != "session-logged"
    assert CAP_TEXT in refused.content.decode()
    assert Session.objects.filter(user=member).count() == 3


def test_two_tabs_race_for_the_flares_third_session(monkeypatch):
    member, browser = acute_with_two()
    other_tab = ready_to_log(member)
    answers = []
    fired = before_the_write(
        monkeypatch,
        lambda: in_another_worker(
            lambda: answers.append(other_tab.post("/today/log/", session_post(), headers=HX))
        ),
    )
    riding = riding_plans(monkeypatch)
    refused = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired, "the other tab's write did not run before this one's"
    assert answers[0].headers.get("HX-Trigger") == "session-logged"
    assert refused.headers.get("HX-Trigger") != "session-logged"
    assert CAP_TEXT in refused.content.decode()
    assert riding == []
    assert Session.objects.filter(user=member).count() == 3
    truth = assert_truth_served(member, monkeypatch)
    assert truth.daily_cap_reached


# --- Midnight of a DST change ------------------------------------------------------------


def test_the_hour_santiago_lives_twice_before_midnight(monkeypatch):
    """Chile's clocks go back at midnight (2026-04-05 00:00 -03 -> 2026-04-04 23:00 -04):
    23:30 happens twice on the 4th. A session at the first 23:30 and a POST at the
    second are the same local day; the plan made before the write is that day's."""
    first = datetime(2026, 4, 5, 2, 30, tzinfo=UTC)  # 23:30 -03 on the 4th
    second = datetime(2026, 4, 5, 3, 30, tzinfo=UTC)  # 23:30 -04 on the 4th, again
    with time_machine.travel(first, tick=False) as clock:
        member = make_user(time_zone="America/Santiago", start=datetime(2026, 3, 30).date())
        browser = ready_to_log(member)
        browser.post("/today/log/", session_post(), headers=HX)
        clock.move_to(second)
        riding = riding_plans(monkeypatch)
        saved = browser.post("/today/log/", session_post(), headers=HX)
        assert saved.headers.get("HX-Trigger") == "session-logged"
        assert [key.split(":")[0] for key in riding] == ["plan-v7"]
        assert done_today(2) in saved.content
        truth = assert_truth_served(member, monkeypatch)
        assert truth.today == datetime(2026, 4, 4).date()


# --- Redis at the after-commit step ------------------------------------------------------


def _redis():
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def test_the_script_cache_flushed_before_the_round_trip(monkeypatch):
    """NOSCRIPT in the pipeline: the plan's SET has gone through, the script runs again on
    its own. The committed row is still kept (compare-and-keep not lost) and the plan is
    the database's."""
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    real = cache.replace_generation
    riding = []

    def flushed_first(*args, also=(), **kwargs):
        riding.extend(key for key, _, _ in also)
        _redis().script_flush()
        return real(*args, also=also, **kwargs)

    monkeypatch.setattr(cache, "replace_generation", flushed_first)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert [key.split(":")[0] for key in riding] == ["plan-v7"]
    kept = current_profile(member)
    assert kept is not None and kept.data_version == version_of(member)
    assert entry_under(member, version_of(member)) == plan_from_the_database(member, monkeypatch)
    assert_truth_served(member, monkeypatch)


def test_the_pipeline_failing_at_the_after_commit_step(monkeypatch):
    """The connection drops in the round trip (EVALSHA + SET): no error page, the answer
    is the truth, no stale row is kept, and the next plan is the database's."""
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    start = version_of(member)
    real = redis.client.Pipeline.execute
    failed = []

    def execute(self, *args, **kwargs):
        if not failed and any(
            command[0][0] == "EVALSHA" for command in getattr(self, "command_stack", [])
        ):
            failed.append(True)
            self.reset()
            raise redis.ConnectionError("dropped")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert failed
    assert saved.status_code == 200
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert done_today(2) in saved.content
    kept = current_profile(member)
    assert kept is None or kept.data_version == start + 1
    assert_truth_served(member, monkeypatch)


def test_the_plans_set_failing_keeps_the_row_all_the_same(monkeypatch):
    """The plan's SET refused in the pipeline (say, over maxmemory): logged, the script's
    answer stands; the row is kept; nothing wrong is served."""
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    real = redis.client.Pipeline.execute

    def execute(self, *args, **kwargs):
        stack = list(getattr(self, "command_stack", []))
        if stack and stack[0][0][0] == "EVALSHA" and len(stack) == 2:
            answers = real(self, *args, **kwargs)
            return [answers[0], redis.ResponseError("OOM command not allowed")]
        return real(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    kept = current_profile(member)
    assert kept is not None and kept.data_version == version_of(member)
    assert_truth_served(member, monkeypatch)


# --- A refused form ----------------------------------------------------------------------


def test_a_refused_form_writes_nothing_and_makes_no_plan(monkeypatch):
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    start = version_of(member)
    made = []
    real = tracking.today.PlanAfterSave.make
    monkeypatch.setattr(
        tracking.today.PlanAfterSave, "make", lambda *a, **k: made.append(1) or real(*a, **k)
    )
    riding = riding_plans(monkeypatch)
    refused = browser.post(
        "/today/log/", session_post(hold_seconds="999", client_token=str(uuid.uuid4())), headers=HX
    )
    monkeypatch.undo()
    assert refused.headers.get("HX-Trigger") != "session-logged"
    assert made == [] and riding == []
    assert version_of(member) == start
    assert Session.objects.filter(user=member).count() == 1
    assert entry_under(member, start + 1) is None
    assert_truth_served(member, monkeypatch)
