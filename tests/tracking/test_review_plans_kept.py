"""A review's attacks on e909e15: plans kept per process by their shared cache key
(``tracking.plan._PLANS_KEPT``, ``keep_plan``, ``PlanAfterSave.fresh``).

The claim attacked: the key names every input of the plan (the data version, the local
day, every setting it reads, the catalogue's rules, the code), so a kept plan is never
stale, only no longer asked for; and a kept plan, shared by every later request of the
person in the worker (and by its threads), is never changed by one of them.

The oracle throughout: the plan the next request is served (``served``: kept plans and
the shared cache allowed) equals the plan made from the database alone
(``plan_from_the_database``: no shared cache, no kept days, no kept plans), and the page
shows that plan's counts. Writes "elsewhere" go through the services (or the admin, in
its own client), as another worker would make them, with this process's kept plans left
as they are. A probe that fails shows a fault; one that passes says in its docstring
what held.
"""

from __future__ import annotations

import os
import pickle
import re
import threading
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.html import conditional_escape

import tracking.plan
import tracking.today
from accounts.models import Profile
from accounts.services import create_account, erase_account, save_profile
from pwa.owner import offline_owner
from stretches.models import Exercise, Screening, StopSignal
from stretches.safety import gate_state, record_screening
from stretches.screening import QUESTIONS, Answer
from tests.factories import PASSWORD, log_stretch, make_user, ready_to_log, session_post
from tests.tracking.test_log_post_races import fresh_user, plan_from_the_database
from tracking.models import Session, Sides
from tracking.plan import build_plan, log_limits
from tracking.services import (
    add_stop_signal,
    delete_session,
    restore_session,
    save_checkin,
    update_session,
)
from tracking.today import counts_text

pytestmark = pytest.mark.django_db(transaction=True)

HX = {"HX-Request": "true"}
LONDON = ZoneInfo("Europe/London")
# Midday in London, far from any midnight of the zones used here (time flows from it).
NOON = datetime(2026, 5, 20, 12, 0, tzinfo=LONDON)
POSTGRES = os.environ.get("DATABASE_URL", "").split(":")[0] in ("postgres", "postgresql")
CAP_TEXT = "allows at most 3 sessions"


@pytest.fixture(autouse=True)
def _midday():
    with time_machine.travel(NOON, tick=True):
        yield


def served(user):
    """The plan the next request of ``user`` in this worker is given (kept plans and the
    shared cache allowed), from the profile as a new request reads it."""
    return build_plan(fresh_user(user).profile)


def kept_for(user) -> dict:
    return {key: plan for key, plan in tracking.plan._PLANS_KEPT.items() if f":{user.pk}:" in key}


def done_count(response) -> int:
    return int(re.search(r"<span data-done-count>(\d+)</span>", response.content.decode())[1])


def shows_counts_of(response, plan) -> bool:
    """Whether the page's status line shows ``plan``'s counts (done today, what is next
    and how much of it is done)."""
    return str(conditional_escape(counts_text(plan))) in response.content.decode()


def person(**fields):
    """Started 20 days ago in London, with sessions 2 days ago and yesterday, and a
    browser that has logged two sessions today (the plans kept in this process)."""
    member = make_user(time_zone="Europe/London", start=NOON.date() - timedelta(days=20), **fields)
    log_stretch(member, when=timezone.now() - timedelta(days=2))
    log_stretch(member, when=timezone.now() - timedelta(days=1))
    browser = ready_to_log(member)
    for _ in range(2):
        answer = browser.post("/today/log/", session_post(), headers=HX)
        assert answer.headers.get("HX-Trigger") == "session-logged"
    assert kept_for(member)
    return member, browser


def todays_first(user) -> Session:
    tz = fresh_user(user).profile.tzinfo
    midnight = datetime.combine(timezone.now().astimezone(tz).date(), time.min, tzinfo=tz)
    return (
        Session.objects.select_related("user__profile", "exercise")
        .filter(user=user, performed_at__gte=midnight)
        .earliest("performed_at", "id")
    )


def edited(user, **changes):
    session = todays_first(user)
    update_session(session=session, version=session.version, stop_signals=[], **changes)


def setting(name, value):
    def change(user):
        profile = Profile.objects.select_related("user").get(user=user)
        setattr(profile, name, value)
        save_profile(profile, [name])

    return change


def deleted_and_restored(user):
    snapshot = delete_session(session=todays_first(user))
    restore_session(user=fresh_user(user), snapshot=snapshot)


def screened_again(user):
    record_screening(
        user=fresh_user(user),
        answers={q.id: Answer.NO for q in QUESTIONS},
        triggers=(),
        reason=Screening.Reason.RETAKE,
    )


def form_errors(answer) -> str:
    return " | ".join(
        re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', answer.content.decode(), re.S)
    )


def staff():
    admin = get_user_model().objects.create_superuser(
        f"admin-{uuid.uuid4().hex[:6]}", "a@example.com", "admin-Pass-91"
    )
    client = Client()
    client.force_login(admin)
    return client


def admin_session_change(user):
    session = todays_first(user)
    form = {
        "user": user.pk,
        "performed_at_0": session.performed_at.astimezone(LONDON).strftime("%Y-%m-%d"),
        "performed_at_1": session.performed_at.astimezone(LONDON).strftime("%H:%M:%S"),
        "exercise": session.exercise_id,
        "sides": session.sides,
        "reps_per_side": session.reps_per_side,
        "hold_seconds": session.hold_seconds,
        "hold_seconds_target": session.hold_seconds_target or "",
        "pain_before": 3,
        "pain_after": 3,
        "note": "typed in by staff",
        "version": session.version,
    }
    with timezone.override(LONDON):
        answer = staff().post(f"/admin/tracking/session/{session.pk}/change/", form)
    assert answer.status_code == 302, form_errors(answer)


def admin_session_delete(user):
    session = todays_first(user)
    answer = staff().post(f"/admin/tracking/session/{session.pk}/delete/", {"post": "yes"})
    assert answer.status_code == 302
    assert not Session.objects.filter(pk=session.pk).exists()


def admin_profile_phase(user):
    profile = Profile.objects.get(user=user)
    form = {
        "time_zone": profile.time_zone,
        "display_name": "",
        "programme_start": profile.programme_start.isoformat(),
        "phase": "acute",
        "sciatica_side": profile.sciatica_side,
        "verified_email": "",
    }
    answer = staff().post(f"/admin/accounts/profile/{profile.pk}/change/", form)
    assert answer.status_code == 302, form_errors(answer)
    assert Profile.objects.get(user=user).phase == "acute"


def stretch_renamed(user):
    stretch = Exercise.objects.get(slug="single-knee-to-chest")
    stretch.name = "Knee hug, one leg"
    stretch.save()


def stretch_rules_by_queryset(user):
    Exercise.objects.filter(slug="single-knee-to-chest").update(hold_max_seconds=25)


def admin_session_add(user):
    form = {
        "user": user.pk,
        "performed_at_0": timezone.now().astimezone(LONDON).strftime("%Y-%m-%d"),
        "performed_at_1": (timezone.now() - timedelta(minutes=30))
        .astimezone(LONDON)
        .strftime("%H:%M:%S"),
        "exercise": Exercise.objects.get(slug="single-knee-to-chest").pk,
        "sides": Sides.LEFT_AND_RIGHT,
        "reps_per_side": 3,
        "hold_seconds": 15,
        "hold_seconds_target": 15,
        "pain_before": 4,
        "pain_after": 4,
        "note": "",
        "version": 1,
    }
    with timezone.override(LONDON):
        answer = staff().post("/admin/tracking/session/add/", form)
    assert answer.status_code == 302, form_errors(answer)


def admin_session_moved_here(user):
    """Another person's session of today, moved to ``user`` by staff."""
    other = make_user(time_zone="Europe/London", start=NOON.date() - timedelta(days=20))
    session, _ = log_stretch(other)
    session = Session.objects.get(pk=session.pk)
    form = {
        "user": user.pk,
        "performed_at_0": session.performed_at.astimezone(LONDON).strftime("%Y-%m-%d"),
        "performed_at_1": session.performed_at.astimezone(LONDON).strftime("%H:%M:%S"),
        "exercise": session.exercise_id,
        "sides": session.sides,
        "reps_per_side": session.reps_per_side,
        "hold_seconds": session.hold_seconds,
        "hold_seconds_target": session.hold_seconds_target or "",
        "pain_before": session.pain_before,
        "pain_after": session.pain_after,
        "note": "",
        "version": session.version,
    }
    with timezone.override(LONDON):
        answer = staff().post(f"/admin/tracking/session/{session.pk}/change/", form)
    assert answer.status_code == 302, form_errors(answer)
    assert Session.objects.get(pk=session.pk).user_id == user.pk


WRITES = {
    "log-today": lambda user: log_stretch(user),
    "log-yesterday": lambda user: log_stretch(user, when=timezone.now() - timedelta(days=1)),
    "log-a-pain-rise": lambda user: log_stretch(user, before=2, after=6),
    "edit-pain": lambda user: edited(user, pain_after=8),
    "edit-moved-to-yesterday": lambda user: edited(
        user, performed_at=timezone.now() - timedelta(days=1)
    ),
    "delete": lambda user: delete_session(session=todays_first(user)),
    "delete-then-undo": deleted_and_restored,
    "sharp-pain-tap": lambda user: add_stop_signal(
        session=todays_first(user), signal=StopSignal.SHARP_PAIN
    ),
    "phase-acute": setting("phase", "acute"),
    "phase-maintenance": setting("phase", "maintenance"),
    "time-zone-past-midnight": setting("time_zone", "Pacific/Kiritimati"),
    "start-date": setting("programme_start", NOON.date() - timedelta(days=40)),
    "desk-work": setting("desk_work", True),
    "sciatica-side": setting("sciatica_side", "left"),
    "check-in": lambda user: save_checkin(user=user, week=3, movement="better", sleep="same"),
    "screening": screened_again,
    "admin-session-change": admin_session_change,
    "admin-session-delete": admin_session_delete,
    "admin-session-add": admin_session_add,
    "admin-session-moved-here": admin_session_moved_here,
    "admin-profile-phase": admin_profile_phase,
    "stretch-renamed": stretch_renamed,
    "stretch-rules-queryset-update": stretch_rules_by_queryset,
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_write_elsewhere_after_a_plan_was_kept_leaves_no_stale_plan(monkeypatch, write):
    """Held: every write another worker (or the admin) can make, to sessions, safety
    records, settings or the catalogue, leads the next request of this worker to a plan
    equal to the database's, and the page and the next log POST show its counts. Kept
    plans of the older keys stay in memory, unused."""
    member, browser = person()
    kept_before = dict(kept_for(member))
    write(member)
    truth = plan_from_the_database(member, monkeypatch)
    assert served(member) == truth
    if not gate_state(fresh_user(member)).decision.allowed:
        page = browser.get("/today/")
        assert page.status_code == 302 and page.url.endswith("/screening/")
        return
    page = browser.get("/today/")
    assert page.status_code == 200
    assert done_count(page) == len(truth.todays_sessions)
    assert shows_counts_of(page, truth)
    answer = browser.post("/today/log/", session_post(), headers=HX)
    after = plan_from_the_database(member, monkeypatch)
    if answer.headers.get("HX-Trigger") == "session-logged":
        assert done_count(answer) == len(after.todays_sessions)
        assert shows_counts_of(answer, after)
    assert served(member) == after
    # Nothing the write made was kept under a key from before it.
    for key, plan in kept_before.items():
        assert tracking.plan._PLANS_KEPT.get(key, plan) is plan


def test_requests_reusing_a_kept_plan_leave_it_as_it_was(monkeypatch):
    """Held: the one kept plan object is handed to every later request of the person in
    the worker. The page, its "done" part, a refused log form (plain and htmx), the
    back-dated and edit forms, an offline-queued session refused, and a lasting-pain
    answer that is not asked leave the plan, its rows, its items and the stretches it
    holds exactly as they were (no attribute set, no deferred field loaded into a
    stretch, no row made with another identity), and it is still the database's plan."""
    member, browser = person()
    plan = served(member)
    key = next(k for k, p in tracking.plan._PLANS_KEPT.items() if p is plan)
    pickled = pickle.dumps(plan)
    stretches = {
        id(exercise): dict(exercise.__dict__)
        for exercise in [entry.exercise for entry in plan.items]
        + list(plan.todays_sessions.exercises.values())
    }
    last, first_row = plan.last_session, plan.todays_sessions[0]
    session = todays_first(member)

    assert browser.get("/today/").status_code == 200
    assert browser.get("/today/?part=done", headers=HX).status_code == 200
    assert browser.post("/today/log/", session_post(pain_after=None)).status_code == 400
    assert browser.post("/today/log/", session_post(pain_after="11"), headers=HX).status_code == 200
    assert browser.get("/sessions/new/").status_code == 200
    assert browser.post("/sessions/new/", session_post()).status_code == 400  # no time
    assert browser.get(f"/sessions/{session.pk}/edit/").status_code == 200
    queued = session_post(
        hold_seconds="999",
        performed_at=timezone.now().isoformat(),
        offline_owner=offline_owner(member),
    )
    assert browser.post("/today/log/queued/", queued).status_code == 400
    assert browser.post("/today/lasting-pain/", {"lasting": "yes"}).status_code == 302
    assert Session.objects.filter(user=member).count() == 4  # nothing was stored

    assert tracking.plan._PLANS_KEPT[key] is plan
    assert served(member) is plan
    assert pickle.dumps(plan) == pickled
    for exercise in [entry.exercise for entry in plan.items] + list(
        plan.todays_sessions.exercises.values()
    ):
        assert exercise.__dict__ == stretches[id(exercise)]
    assert plan.last_session is last and plan.todays_sessions[0] is first_row
    assert plan == plan_from_the_database(member, monkeypatch)
    assert gate_state(fresh_user(member)).decision.allowed  # no stop signal was taken


@pytest.mark.skipif(not POSTGRES, reason="threads with their own connections: PostgreSQL")
def test_tabs_logging_in_threads_of_one_worker_share_kept_plans_safely(monkeypatch):
    """Held: four tabs of the same person log in four threads of one worker at once, each
    a few times, all reading and keeping plans in the one dict. Every answer's "Done
    today" counts at least its own session and at most all of them, and afterwards the
    plan served and the page are the database's."""
    member, _ = person()
    answers, errors = [], []
    barrier = threading.Barrier(4)

    def tab():
        try:
            client = Client()
            client.force_login(member)
            barrier.wait()
            for _ in range(3):
                answers.append(client.post("/today/log/", session_post(), headers=HX))
                client.get("/today/")
        except Exception as error:  # pragma: no cover - shown below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=tab) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    total = Session.objects.filter(user=member).count()
    assert total == 4 + 12
    for answer in answers:
        assert answer.headers.get("HX-Trigger") == "session-logged"
        assert 3 <= done_count(answer) <= total - 2
    truth = plan_from_the_database(member, monkeypatch)
    assert served(member) == truth
    browser = Client()
    browser.force_login(member)
    page = browser.get("/today/")
    assert done_count(page) == total - 2 and shows_counts_of(page, truth)


def test_midnight_passing_leaves_the_kept_plan_of_the_day_before_unused(monkeypatch):
    """Held: a plan kept at 23:58 (sessions today) is not served at 00:02: the page shows
    no session done and asks the question asked before the day's first session, as the
    database says; the plan of that new day (its last session a model instance) is not
    kept."""
    late = datetime(2026, 5, 20, 23, 58, tzinfo=LONDON)
    with time_machine.travel(late, tick=False):
        member = make_user(time_zone="Europe/London", start=late.date() - timedelta(days=10))
        browser = ready_to_log(member)
        for _ in range(2):
            assert browser.post("/today/log/", session_post(), headers=HX).status_code == 200
        assert kept_for(member)
        assert done_count(browser.get("/today/")) == 2
    with time_machine.travel(late + timedelta(minutes=4), tick=False):
        truth = plan_from_the_database(member, monkeypatch)
        assert served(member) == truth and truth.asks_lasting_pain
        page = browser.get("/today/")
        assert done_count(page) == 0
        assert "Before today" in page.content.decode()
        assert not [p for p in kept_for(member).values() if p.today == truth.today]


def test_a_log_post_crossing_midnight_keeps_no_plan_of_the_day_before_as_the_next(monkeypatch):
    """Held: midnight passes between the POST's plan (made at 23:59:59) and its write: its
    answer and what it keeps are the new day's plan (the session is yesterday's), not the
    plan made before the write with the session counted today."""
    late = datetime(2026, 5, 20, 23, 59, 59, tzinfo=LONDON)
    with time_machine.travel(late, tick=False) as traveller:
        member = make_user(time_zone="Europe/London", start=late.date() - timedelta(days=10))
        browser = ready_to_log(member)
        assert browser.post("/today/log/", session_post(), headers=HX).status_code == 200
        real = tracking.today.log_session

        def at_midnight(**kwargs):
            traveller.move_to(late + timedelta(seconds=2))
            return real(**kwargs)

        monkeypatch.setattr(tracking.today, "log_session", at_midnight)
        answer = browser.post("/today/log/", session_post(), headers=HX)
        monkeypatch.undo()
        truth = plan_from_the_database(member, monkeypatch)
        assert truth.today == late.date() + timedelta(days=1)
        assert served(member) == truth
        assert done_count(answer) == 0
        assert not [p for p in kept_for(member).values() if p.today == truth.today]


def test_the_flares_cap_counts_a_session_another_worker_logged_after_the_plan_was_kept(
    monkeypatch,
):
    """Held: in the acute flare this worker logs 2 sessions (its plans kept), another
    worker logs the 3rd: this worker's next log POST, back-dated form and offline queue
    are all refused, the page says the day is done, and ``log_limits`` counts 3. When the
    other worker then deletes one, the next POST here is taken."""
    member = make_user(
        time_zone="Europe/London", phase="acute", start=NOON.date() - timedelta(days=5)
    )
    browser = ready_to_log(member)
    for _ in range(2):
        assert (
            browser.post("/today/log/", session_post(), headers=HX).headers.get("HX-Trigger")
            == "session-logged"
        )
    assert kept_for(member)
    log_stretch(member)  # another worker
    truth = plan_from_the_database(member, monkeypatch)
    assert truth.daily_cap_reached and served(member) == truth
    refused = browser.post("/today/log/", session_post(), headers=HX)
    assert CAP_TEXT in refused.content.decode()
    when = timezone.localtime(timezone.now(), LONDON) - timedelta(minutes=5)
    backdated = browser.post(
        "/sessions/new/", session_post(performed_at=when.strftime("%Y-%m-%dT%H:%M"))
    )
    assert backdated.status_code == 400 and CAP_TEXT in backdated.content.decode()
    queued = browser.post(
        "/today/log/queued/",
        session_post(performed_at=timezone.now().isoformat(), offline_owner=offline_owner(member)),
    )
    assert queued.status_code == 400 and CAP_TEXT in queued.json()["message"]
    assert "sessions for the flare" in browser.get("/today/").content.decode()
    limits = log_limits(fresh_user(member).profile, tracking.plan.catalogue_rules())
    assert limits["sessions_on"](timezone.now().astimezone(LONDON).date()) == 3
    assert Session.objects.filter(user=member).count() == 3

    delete_session(session=todays_first(member))  # another worker
    taken = browser.post("/today/log/", session_post(), headers=HX)
    assert taken.headers.get("HX-Trigger") == "session-logged"
    assert Session.objects.filter(user=member).count() == 3
    assert served(member) == plan_from_the_database(member, monkeypatch)


def test_an_account_erased_and_made_again_never_meets_the_plans_kept_for_the_first(monkeypatch):
    """Held: the key names the user's id, and an erased account's id is never given
    again (PostgreSQL's sequence, SQLite's AUTOINCREMENT): the same name signed up again
    starts with an empty plan, though the first account's plans are still kept."""
    member, _ = person()
    first_id = member.pk
    erase_account(member)
    assert [k for k in tracking.plan._PLANS_KEPT if f":{first_id}:" in k]  # still in memory
    again = create_account(username=member.username, password=PASSWORD, time_zone="Europe/London")
    profile = again.profile
    profile.programme_start = NOON.date() - timedelta(days=20)
    save_profile(profile, ["programme_start"])
    assert again.pk != first_id
    truth = plan_from_the_database(again, monkeypatch)
    assert served(again) == truth and len(truth.todays_sessions) == 0


def test_the_lasting_pain_answer_after_todays_only_session_was_deleted_elsewhere(monkeypatch):
    """Held: this worker kept a plan whose last session is today's; another worker deletes
    it. The page asks the question before the day's first session (the last session is
    yesterday's again, a model instance: that plan is not kept), and "yes" pauses the
    programme with a stop signal on yesterday's session."""
    member = make_user(time_zone="Europe/London", start=NOON.date() - timedelta(days=10))
    yesterday, _ = log_stretch(member, when=timezone.now() - timedelta(days=1))
    browser = ready_to_log(member)
    assert not kept_for(member)  # its last session is yesterday's: not kept
    browser.post("/today/log/", session_post(), headers=HX)
    assert kept_for(member)
    delete_session(session=todays_first(member))
    truth = plan_from_the_database(member, monkeypatch)
    assert truth.asks_lasting_pain and served(member) == truth
    page = browser.get("/today/")
    assert done_count(page) == 0
    # The question was answered "no" for yesterday's session before: not asked again...
    assert 'name="lasting"' not in page.content.decode()
    # ...but a new client (another device) is asked, and its "yes" pauses the programme.
    other = Client()
    other.force_login(member)
    assert 'name="lasting"' in other.get("/today/").content.decode()
    assert other.post("/today/lasting-pain/", {"lasting": "yes"}).url.endswith("/screening/")
    assert Session.objects.get(pk=yesterday.pk).has_stop_signal
    assert not gate_state(fresh_user(member)).decision.allowed
    assert (
        browser.post("/today/log/", session_post(), headers=HX).headers.get("HX-Redirect")
        == "/screening/"
    )


def test_a_stretch_made_again_with_the_same_rules_is_logged_from_a_kept_plan(monkeypatch):
    """Broke (pre-existing: the shared cache's entry under the same key holds the same
    stretch; the kept plan now also outlives that entry, until the person's next write):
    the rules fingerprint in the key names each stretch's slug, name, holds, reps and
    legs, not its id, which the plan reads (its rows and the log form find stretches by
    id). A stretch deleted and made again with the same rules (a shell, a data migration;
    the admin refuses deletes, and a stretch with sessions is protected) leaves the key
    as it was: the plan served holds the deleted stretch, the log form posts its id, and
    the save fails on the foreign key (an error page)."""
    member = make_user(time_zone="Europe/London", start=NOON.date() - timedelta(days=2))
    browser = ready_to_log(member)
    plan = served(member)
    assert kept_for(member)
    slug = plan.main.item.slug
    old = Exercise.objects.get(slug=slug)
    assert not Session.objects.filter(exercise=old).exists()
    fields = {f.attname: getattr(old, f.attname) for f in Exercise._meta.concrete_fields}
    fields.pop("id")
    old.delete()
    Exercise.objects.create(**fields)
    sides = "both" if "double" in slug else "left_right"
    browser.raise_request_exception = False
    answer = browser.post("/today/log/", session_post(exercise=slug, sides=sides), headers=HX)
    assert answer.status_code == 200, f"the log POST answered {answer.status_code}"
    assert answer.headers.get("HX-Trigger") == "session-logged"
    assert served(member) == plan_from_the_database(member, monkeypatch)


def test_the_query_count_test_still_measures_todays_plan_on_a_cold_cache():
    """Broke, fixed (the test suite, not the app): tests/tracking/test_query_counts.py counts
    each page's statements "on a cold cache" by clearing the shared cache after a first
    visit. The first visit to /today/ now keeps its plan in the process (the person has
    a session today), so the measured visit reads no plan at all: the guard that the
    plan's queries do not grow with a year of history no longer looks at them.
    ``queries_for`` now empties what the process keeps (the plans and the days before
    today) with the shared cache."""
    from tests.tracking.test_query_counts import SMALL, queries_for, user_with_history

    user = user_with_history(SMALL)
    client = Client()
    measured = queries_for(client, user, "/today/")

    tracking.plan._PLANS_KEPT.clear()
    tracking.plan._PAST_KEPT.clear()
    from django.core.cache import cache

    cache.clear()
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as cold:
        assert client.get("/today/").status_code == 200
    assert len(measured) == len(cold.captured_queries), (
        f"measured {len(measured)} statements, {len(cold.captured_queries)} with no kept plan"
    )


def test_a_database_restored_from_a_backup_with_the_cache_flushed_and_the_app_restarted(
    monkeypatch,
):
    """Broke as first written (operational): the key is only as good as the data version
    never coming back. A database restored from a backup (or a failover that lost its
    last commits) takes the versions back; the next writes reach the same versions again
    with other data, and a worker that kept a plan under such a key (or the days before
    today, ``_PAST_KEPT``, under a history version) would serve it until it restarts.
    Flushing the shared cache alone is not enough: the README's restore procedure is to
    stop the app, restore, flush the shared cache and start the app again. This follows
    it (the restart empties what each process keeps) and the page shows the database.
    Here: this worker kept the plan of version v+1 (a session with pain 5 -> 3); the
    database goes back to version v, and another worker logs a session with pain 7 -> 7,
    reaching version v+1 again."""
    member, browser = person()
    backup = set(Session.objects.filter(user=member).values_list("pk", flat=True))
    row = Profile.objects.get(user=member)
    versions = (row.data_version, row.history_version)
    assert browser.post("/today/log/", session_post(), headers=HX).status_code == 200
    assert kept_for(member)
    # The restore, the flush of the shared cache and the restart of every worker.
    Session.objects.filter(user=member).exclude(pk__in=backup).delete()
    Profile.objects.filter(user=member).update(
        data_version=versions[0], history_version=versions[1]
    )
    from django.core.cache import cache

    cache.clear()
    tracking.plan._PLANS_KEPT.clear()
    tracking.plan._PAST_KEPT.clear()
    log_stretch(member, before=7, after=7)  # a worker, after the restore
    assert Profile.objects.get(user=member).data_version == versions[0] + 1
    truth = plan_from_the_database(member, monkeypatch)
    page = browser.get("/today/")
    assert "pain 7 → 7" in page.content.decode()
    assert done_count(page) == len(truth.todays_sessions)  # the lost session not among them
    assert served(member) == truth
