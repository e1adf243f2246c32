"""A review's attacks (helper-17, kept) on 6687c70: the flare chosen in another tab caps a
save whose form read no cap.

Each test asserts the safe behaviour (SPEC 1.3: at most 3 sessions on a flare day; SPEC
1.5: a reported stop signal is never lost; no 500s). Five failed at 6687c70 and are fixed:
an edit moving a session onto the day and an undo onto it with the flare chosen meanwhile
(update_session and restore_session read the phase under the profile's lock when their
caller read no cap), an admin add racing a capped log (Session.clean locks the profile row
inside the admin's transaction), and a stop signal sent with a save refused at the cap
(stamped all the same: it pauses, and the pause page says the session was not saved).

PostgreSQL: the other tab runs in its own worker (thread + connection).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

import tracking.services
import tracking.views
from accounts.models import Profile
from pwa.owner import offline_owner
from tests.factories import exercise, log_stretch, make_user, ready_to_log, session_post
from tests.tracking.test_acute_cap_race import (
    CAP_TEXT,
    HX,
    before_the_store,
    edit_post,
    flare_elsewhere,
    standard_with,
    today_count,
)
from tests.tracking.test_kept_row_races import in_another_worker
from tracking.models import Session
from tracking.services import DailyCapReached, log_session

ON_PG = os.environ.get("DATABASE_URL", "").startswith("postgres")
pg_only = pytest.mark.skipif(not ON_PG, reason="two connections at once: PostgreSQL")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clear_of_midnight"),  # sessions of one day, away from midnight
]


def run_before(monkeypatch, module, name, action):
    """Wrap ``module.name`` so that ``action`` runs once in another worker just before it
    (after the view read the phase and validated the form)."""
    real = getattr(module, name)
    main = threading.get_ident()
    fired = []

    def hooked(*args, **kwargs):
        if not fired and threading.get_ident() == main:
            fired.append(True)
            in_another_worker(action)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, hooked)
    return fired


def standard_three_today_and_one_earlier():
    member = make_user(phase="standard", start=timezone.localdate() - timedelta(days=5))
    now = timezone.now()
    for minutes in (10, 20, 30):
        log_stretch(member, when=now - timedelta(minutes=minutes))
    moved, _ = log_stretch(member, when=now - timedelta(days=2))
    return member, moved, now


# --- Findings candidates: writes the change did not cover --------------------------------


@pg_only
def test_edit_moving_a_session_onto_today_after_the_flare_was_chosen_meanwhile_is_capped(
    monkeypatch,
):
    """The edit form read 'standard' (no cap); another tab chose the flare; the edit moves
    a session from two days ago onto today, which has 3: a 4th session on a flare day."""
    member, moved, now = standard_three_today_and_one_earlier()
    tab = ready_to_log(member)
    fired = run_before(monkeypatch, tracking.views, "update_session", flare_elsewhere(member))
    answer = tab.post(f"/sessions/{moved.pk}/edit/", edit_post(moved, now - timedelta(minutes=40)))
    monkeypatch.undo()
    assert fired
    assert Profile.objects.get(user=member).phase == "acute"
    assert today_count(member) == 3, "a 4th session on a flare day (edit)"
    assert answer.status_code == 400 and CAP_TEXT in answer.content.decode()


@pg_only
def test_undo_onto_today_after_the_flare_was_chosen_meanwhile_is_capped(monkeypatch):
    """Standard, 3 today; one deleted, another logged (3 again); the undo's view read
    'standard' (no cap), the flare chosen in another tab before restore_session: 4."""
    member = make_user(phase="standard", start=timezone.localdate() - timedelta(days=5))
    now = timezone.now()
    for minutes in (10, 20, 30):
        log_stretch(member, when=now - timedelta(minutes=minutes))
    tab = ready_to_log(member)
    victim = Session.objects.filter(user=member).order_by("performed_at").first()
    tab.post(f"/sessions/{victim.pk}/delete/")
    log_stretch(member)
    assert today_count(member) == 3
    fired = run_before(monkeypatch, tracking.views, "restore_session", flare_elsewhere(member))
    undone = tab.post("/sessions/undo/", follow=True)
    monkeypatch.undo()
    assert fired
    assert undone.status_code == 200
    assert today_count(member) == 3, "a 4th session on a flare day (undo)"


@pg_only
def test_admin_adding_a_session_while_a_capped_log_lands_keeps_the_cap(monkeypatch):
    """The admin's form counted the day (2) and locked the profile row (its clean runs in
    the admin's transaction); the person's capped log sent meanwhile waits for that lock,
    then finds 3 and is refused. Before: Session.clean counted without a lock and the log
    landed between the clean and the save: 4 on a flare day."""
    member = make_user(phase="acute", start=timezone.localdate() - timedelta(days=5))
    log_stretch(member, when=timezone.now() - timedelta(minutes=30), token=uuid.uuid4())
    log_stretch(member, when=timezone.now() - timedelta(minutes=20), token=uuid.uuid4())
    person = ready_to_log(member)
    staff = get_user_model().objects.create_superuser("staff-review", "s@example.com", "pw-x-123")
    admin = Client()
    admin.force_login(staff)
    import tracking.admin

    logged, waiting, threads = [], [], []

    def person_logs():
        try:
            logged.append(person.post("/today/log/", session_post(), headers=HX))
        finally:
            connection.close()

    real = tracking.admin.SessionAdmin.save_model

    def save_model(self, *args, **kwargs):
        thread = threading.Thread(target=person_logs)
        threads.append(thread)
        thread.start()
        time.sleep(0.5)
        waiting.append(thread.is_alive())  # waiting for the admin's lock
        return real(self, *args, **kwargs)

    monkeypatch.setattr(tracking.admin.SessionAdmin, "save_model", save_model)
    local = timezone.localtime() - timedelta(minutes=5)
    answer = admin.post(
        "/admin/tracking/session/add/",
        {
            "user": str(member.pk),
            "performed_at_0": local.strftime("%Y-%m-%d"),
            "performed_at_1": local.strftime("%H:%M:%S"),
            "exercise": str(exercise().pk),
            "sides": "left_right",
            "reps_per_side": "3",
            "hold_seconds": "15",
            "hold_seconds_target": "15",
            "pain_before": "4",
            "pain_after": "3",
            "note": "",
            "version": "1",
        },
    )
    monkeypatch.undo()
    for thread in threads:
        thread.join(10)
    assert answer.status_code == 302  # the admin's add went through
    assert waiting == [True], "the person's log did not wait for the admin's save"
    assert logged[0].headers.get("HX-Trigger") != "session-logged"
    assert CAP_TEXT in logged[0].content.decode()
    assert today_count(member) == 3, "a 4th session on a flare day (admin add)"


# --- Attacks that should hold -----------------------------------------------------------


def test_an_uncapped_save_for_a_person_in_the_flare_at_the_cap_is_refused():
    """The service alone (both databases): the profile is acute, the caller passed no cap."""
    member = make_user(phase="standard", start=timezone.localdate() - timedelta(days=5))
    for minutes in (10, 20, 30):
        log_stretch(member, when=timezone.now() - timedelta(minutes=minutes))
    flare_elsewhere(member)()
    for signals in ((), ("numbness",)):
        with pytest.raises(DailyCapReached):
            log_stretch(member, signals=signals)
    assert Session.objects.filter(user=member).count() == 3


def test_an_uncapped_back_dated_save_onto_a_full_flare_day_is_refused():
    member = make_user(phase="standard", start=timezone.localdate() - timedelta(days=5))
    yesterday = timezone.now() - timedelta(days=1)
    for minutes in (10, 20, 30):
        log_stretch(member, when=yesterday - timedelta(minutes=minutes))
    flare_elsewhere(member)()
    with pytest.raises(DailyCapReached):
        log_stretch(member, when=yesterday)
    log_stretch(member)  # today is not full
    assert Session.objects.filter(user=member).count() == 4


@pg_only
@pytest.mark.parametrize("signals", [[], ["numbness"]], ids=["one-statement", "transaction"])
def test_back_dated_form_with_the_flare_chosen_meanwhile_is_refused(monkeypatch, signals):
    member, browser = standard_with(3)
    fired, statement_fired, wrapper = before_the_store(monkeypatch, flare_elsewhere(member))
    when = timezone.localtime() - timedelta(minutes=20)
    post = session_post(performed_at=when.strftime("%Y-%m-%dT%H:%M"))
    if signals:
        post["stop_signals"] = signals
    with connection.execute_wrapper(wrapper):
        refused = browser.post("/sessions/new/", post)
    monkeypatch.undo()
    assert fired or statement_fired
    assert Session.objects.filter(user=member).count() == 3
    if signals:
        # Refused, but the stop signal is recorded and pauses: the pause page says why.
        assert stop_signal_events(member) == 1
        assert refused.status_code == 302 and refused.url == "/screening/"
        page = browser.get("/screening/").content.decode()
        assert CAP_TEXT in page and "recorded all the same" in page
    else:
        assert refused.status_code == 400 and CAP_TEXT in refused.content.decode()


@pg_only
def test_queued_session_with_the_flare_chosen_meanwhile_is_refused(monkeypatch):
    member, browser = standard_with(3)
    fired, statement_fired, wrapper = before_the_store(monkeypatch, flare_elsewhere(member))
    when = timezone.now() - timedelta(minutes=5)
    post = session_post(performed_at=when.isoformat(), offline_owner=offline_owner(member))
    with connection.execute_wrapper(wrapper):
        refused = browser.post("/today/log/queued/", post)
    monkeypatch.undo()
    assert fired or statement_fired
    assert refused.status_code == 400
    assert refused.json()["status"] == "invalid" and CAP_TEXT in refused.json()["message"]
    assert Session.objects.filter(user=member).count() == 3


@pg_only
def test_a_double_tap_around_the_flare_is_already_saved_not_refused_nor_a_5th():
    """The 3rd saved in standard; the flare chosen; the same form sent again."""
    member, browser = standard_with(2)
    form = session_post()
    first = browser.post("/today/log/", form, headers=HX)
    flare_elsewhere(member)()
    again = browser.post("/today/log/", form, headers=HX)
    assert first.headers.get("HX-Trigger") == "session-logged"
    assert again.status_code == 200
    assert Session.objects.filter(user=member).count() == 3


@pg_only
def test_a_double_tap_both_uncapped_while_the_flare_is_chosen_stores_once(monkeypatch):
    """Two requests with the same client token, both with forms read in standard, the
    flare committed before either statement: one stored (the 3rd), the other finds it."""
    member, browser = standard_with(2)
    form = session_post()
    other = ready_to_log(member)
    answers = []
    fired, statement_fired, wrapper = before_the_store(monkeypatch, flare_elsewhere(member))
    with connection.execute_wrapper(wrapper):
        answers.append(browser.post("/today/log/", form, headers=HX))
    monkeypatch.undo()
    answers.append(other.post("/today/log/", form, headers=HX))
    assert all(a.status_code == 200 for a in answers)
    assert Session.objects.filter(user=member).count() == 3


@pg_only
def test_an_admin_profile_save_choosing_the_flare_meanwhile_caps_the_save(monkeypatch):
    """The admin's profile save (update_fields, no save_profile) while the save is under way."""
    member, browser = standard_with(3)

    def admin_flare():
        profile = Profile.objects.get(user_id=member.pk)
        profile.phase = "acute"
        profile.save(update_fields=["phase"])

    fired, statement_fired, wrapper = before_the_store(monkeypatch, admin_flare)
    with connection.execute_wrapper(wrapper):
        refused = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired or statement_fired
    assert Session.objects.filter(user=member).count() == 3
    assert CAP_TEXT in refused.content.decode()


@pg_only
def test_account_page_choosing_the_flare_meanwhile_caps_the_save(monkeypatch):
    member, browser = standard_with(3)
    account = ready_to_log(member)
    form = account.get("/account/").context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data = {
        k: (str(v) if not isinstance(v, bool) else ("on" if v else "")) for k, v in data.items()
    }
    data = {k: v for k, v in data.items() if v != ""}
    data["phase"] = "acute"

    def via_account_page():
        answer = account.post("/account/", data)
        assert answer.status_code == 302, answer.content.decode()[:3000]

    fired, statement_fired, wrapper = before_the_store(monkeypatch, via_account_page)
    with connection.execute_wrapper(wrapper):
        refused = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired or statement_fired
    assert Profile.objects.get(user=member).phase == "acute"
    assert Session.objects.filter(user=member).count() == 3
    assert CAP_TEXT in refused.content.decode()


@pg_only
def test_a_flare_switch_waiting_on_the_transaction_paths_lock_neither_hangs_nor_breaks(
    monkeypatch,
):
    """The flare switch starts after _phase_locked took the row: it waits, the save
    commits (a save before the flare), the switch then commits; no deadlock, no 500."""
    member, browser = standard_with(3)
    real = tracking.services._phase_locked
    main = threading.get_ident()
    workers, done = [], []

    def hooked(user):
        phase = real(user)
        if threading.get_ident() == main and not workers:
            worker = threading.Thread(
                target=lambda: in_another_worker(
                    lambda: (flare_elsewhere(member)(), done.append(True))
                )
            )
            workers.append(worker)
            worker.start()
            time.sleep(0.5)
            assert not done, "the flare switch did not wait for the save's lock"
        return phase

    monkeypatch.setattr(tracking.services, "_phase_locked", hooked)
    saved = browser.post("/today/log/", session_post(pain_before="2", pain_after="5"), headers=HX)
    workers[0].join(20)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert done
    assert Profile.objects.get(user=member).phase == "acute"
    assert Session.objects.filter(user=member).count() == 4  # saved before the flare


@pg_only
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "pooler-fallback"])
def test_the_rewritten_statement_stores_awkward_values(prepared):
    """Note text with SQL-looking pieces, NULL prescribed hold, on the prepared path and
    the plain fallback (PgBouncer in transaction mode)."""
    member = make_user(phase="standard")
    note = "x) RETURNING 1; VALUES ( %s $1 'q' FROM guard ) -- "
    connection.ensure_connection()
    if not prepared:
        setattr(connection.connection, tracking.services.PREPARED, False)
    session, created = log_session(
        user=member,
        exercise=exercise(),
        performed_at=timezone.now(),
        sides="left_right",
        reps_per_side=3,
        hold_seconds=15,
        hold_seconds_target=None,
        pain_before=4,
        pain_after=3,
        stop_signals=[],
        note=note,
        client_token=uuid.uuid4(),
    )
    assert created
    stored = Session.objects.get(pk=session.pk)
    assert stored.note == note and stored.hold_seconds_target is None
    assert stored.stop_signals == []
    flare_elsewhere(member)()
    for _ in range(2):
        log_stretch(member)
    with pytest.raises(DailyCapReached):
        log_stretch(member)
    assert Session.objects.filter(user=member).count() == 3


@pg_only
def test_a_deallocated_statement_is_prepared_again_and_still_guarded():
    member = make_user(phase="standard")
    log_stretch(member)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    log_stretch(member)
    flare_elsewhere(member)()
    log_stretch(member)
    with pytest.raises(DailyCapReached):
        log_stretch(member)
    assert Session.objects.filter(user=member).count() == 3


# --- Stop signals sent with a save the flare's cap refuses ------------------------------


def stop_signal_events(member):
    from stretches.models import SafetyEvent

    return SafetyEvent.objects.filter(user=member, kind=SafetyEvent.Kind.STOP_SIGNAL).count()


@pg_only
def test_a_stop_signal_sent_with_a_save_the_flare_meanwhile_refuses_is_still_recorded(
    monkeypatch,
):
    """Standard form (no cap), numbness reported; the flare chosen in another tab; the day
    has 3: the save is refused (the cap holds), but the stop signal must not be lost."""
    member, browser = standard_with(3)
    fired, statement_fired, wrapper = before_the_store(monkeypatch, flare_elsewhere(member))
    with connection.execute_wrapper(wrapper):
        answer = browser.post("/today/log/", session_post(stop_signals=["numbness"]), headers=HX)
    monkeypatch.undo()
    assert fired or statement_fired
    assert Session.objects.filter(user=member).count() == 3  # refused by the cap
    assert stop_signal_events(member) == 1, "the reported stop signal was lost"
    assert answer.headers.get("HX-Redirect") == "/screening/"  # paused by it
    page = browser.get("/screening/").content.decode()
    assert CAP_TEXT in page and "recorded all the same" in page


@pg_only
def test_a_stop_signal_sent_with_a_capped_save_another_tab_filled_is_still_recorded(
    monkeypatch,
):
    """Pre-existing analogue: the form read the flare with 2 today; another tab logs the
    3rd before this save's lock; this save carried numbness."""
    from tests.tracking.test_acute_cap_race import acute_with_two, once_before_the_lock

    member, first_tab, other_tab = acute_with_two()
    fired = once_before_the_lock(
        monkeypatch, lambda: other_tab.post("/today/log/", session_post(), headers=HX)
    )
    answer = first_tab.post("/today/log/", session_post(stop_signals=["numbness"]), headers=HX)
    monkeypatch.undo()
    assert fired
    assert Session.objects.filter(user=member).count() == 3
    assert stop_signal_events(member) == 1, "the reported stop signal was lost"
    assert answer.headers.get("HX-Redirect") == "/screening/"
    page = first_tab.get("/screening/").content.decode()
    assert CAP_TEXT in page and "recorded all the same" in page


def test_a_refused_report_sent_twice_is_stamped_once():
    """The same form refused at the cap twice (a double tap, a retry after a lost answer,
    the offline queue sending again): one stop signal, not two (two in 14 days would send
    the person to a clinician, SPEC 1.5)."""
    member = make_user(phase="acute", start=timezone.localdate() - timedelta(days=5))
    for minutes in (30, 20, 10):
        log_stretch(member, when=timezone.now() - timedelta(minutes=minutes))
    token = uuid.uuid4()
    stamped = []
    for _ in range(2):
        with pytest.raises(DailyCapReached) as refused:
            log_stretch(member, signals=["numbness"], token=token)
        stamped.append(refused.value.stamped)
    assert stop_signal_events(member) == 1
    assert stamped == [1, 1]  # both say it is recorded
    with pytest.raises(DailyCapReached):
        log_stretch(member, signals=["numbness"], token=uuid.uuid4())  # another report
    assert stop_signal_events(member) == 2
