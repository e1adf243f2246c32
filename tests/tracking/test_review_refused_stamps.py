"""A review's attacks (helper, third review) on 6687c70 and 0ebd04c: the safety events of a
session refused at the flare's cap are stamped all the same; edits, undos and the admin
read the phase under the profile row's lock.

Each test asserts the safe behaviour. Six failed at 0ebd04c, all fixed: a refused report
sent twice stamped twice (two stop signals send a person to a clinician) and counted as
two setbacks (SafetyEvent.report_token: once per form); a stop signal sent with a form the
FORM refused at the cap (another tab had filled the day) or that the offline queue's form
refused by today's count for another day was lost (the cap is now judged only where the
session is stored, by its own day, which records what it reports); a queued refusal that
paused did not tell the phone (``paused``/``next`` in its answer); the admin's change form
locked the profile before the session row and deadlocked with a stop-signal tap (it locks
the profile for new sessions only).
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from datetime import datetime, timedelta
from datetime import time as clock

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from pwa.owner import offline_owner
from stretches.models import SafetyEvent, StopSignal
from stretches.safety import safety_record, setbacks_for
from stretches.screening import Trigger, record_triggers
from tests.factories import exercise, log_stretch, make_user, session_post
from tests.tracking.test_acute_cap_race import CAP_TEXT, HX, acute_with_two
from tracking.models import Session
from tracking.services import DailyCapReached, add_stop_signal

ON_PG = os.environ.get("DATABASE_URL", "").startswith("postgres")
pg_only = pytest.mark.skipif(not ON_PG, reason="two connections at once: PostgreSQL")
pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clear_of_midnight"),  # sessions of one day, away from midnight
]


def events(member, kind=SafetyEvent.Kind.STOP_SIGNAL):
    return SafetyEvent.objects.filter(user=member, kind=kind).count()


def acute_with_three_today():
    member = make_user(phase="acute", start=timezone.localdate() - timedelta(days=5))
    now = timezone.now()
    for minutes in (10, 20, 30):
        log_stretch(member, when=now - timedelta(minutes=minutes))
    return member


def acute_with_three_yesterday():
    member = make_user(phase="acute", start=timezone.localdate() - timedelta(days=5))
    noon = datetime.combine(
        timezone.localdate() - timedelta(days=1), clock(12), tzinfo=member.profile.tzinfo
    )
    for hours in (0, 1, 2):
        log_stretch(member, when=noon + timedelta(hours=hours))
    return member, noon + timedelta(hours=5)


# --- 1. The refused path is not idempotent: one report, two stop signals ---------------


def not_blocked_by_repeat(member) -> bool:
    """No "two stop signals in 14 days" in the record as stored now (the user read again:
    a user object loaded before the requests would be served its old record)."""
    member = get_user_model().objects.select_related("profile").get(pk=member.pk)
    today = member.profile.local_today()
    return Trigger.REPEAT_STOP_SIGNALS not in record_triggers(safety_record(member), today)


def test_the_same_refused_report_sent_twice_stamps_one_stop_signal():
    """Service level (both databases): two requests carrying the same form (same client
    token, a double tap or a retry whose answer was lost), both past their form check,
    both refused at the cap. A stored session is found by its token the second time; a
    refused one is not, so its stop signal is stamped again."""
    member = acute_with_three_today()
    token = uuid.uuid4()
    for _ in range(2):
        with pytest.raises(DailyCapReached):
            log_stretch(member, signals=[StopSignal.NUMBNESS.value], token=token)
    assert Session.objects.filter(user=member).count() == 3
    assert events(member) == 1, "one report, stamped as two stop signals"
    assert not_blocked_by_repeat(member), (
        "one report counts as 'two stop signals in 14 days': clinician first"
    )


def test_a_queued_session_resent_after_a_lost_answer_stamps_one_stop_signal():
    """HTTP, sequential, no race needed: a session queued offline yesterday (a flare day
    with 3 already) carrying numbness. The queued form counts TODAY's sessions (0:
    passes), the service counts yesterday's (3: refused, stamped). The phone's fetch fails
    after the server committed (outcome 'offline': kept and sent again): stamped again."""
    member, when = acute_with_three_yesterday()
    phone = Client()
    phone.force_login(member)
    post = session_post(
        performed_at=when.isoformat(),
        offline_owner=offline_owner(member),
        stop_signals=[StopSignal.NUMBNESS.value],
    )
    answers = [phone.post("/today/log/queued/", post) for _ in range(3)]
    assert all(a.status_code == 400 for a in answers)
    assert Session.objects.filter(user=member).count() == 3
    assert events(member) == 1, f"one queued report stamped {events(member)} stop signals"
    assert not_blocked_by_repeat(member)


def test_a_refused_pain_rise_sent_twice_is_one_setback():
    """The same for a pain rise: each refused copy is a setback of its own (session_ref
    None, keyed by the event's id in stretches.safety._setbacks)."""
    member = acute_with_three_today()
    token = uuid.uuid4()
    for _ in range(2):
        with pytest.raises(DailyCapReached):
            log_stretch(member, before=2, after=6, token=token)
    assert events(member, SafetyEvent.Kind.PAIN_RISE) == 1
    assert len(setbacks_for(member)) == 1


# --- 2. The fix covers the service's refusal only: the form's refusal still loses it ---


def test_a_stop_signal_on_a_form_refused_because_another_tab_filled_the_day_is_recorded():
    """The everyday form of 0ebd04c's case: tab 1's form was opened at 2 sessions; tab 2
    logs the 3rd (seconds, not microseconds, before); tab 1 sends numbness. At 0ebd04c the
    fresh plan in the log view counted 3 and the FORM refused: log_session never ran, the
    stop signal was lost and the plan stayed open. The cap is now judged only where the
    session would be stored, which records what it reports."""
    member, first_tab, other_tab = acute_with_two()
    assert (
        other_tab.post("/today/log/", session_post(), headers=HX).headers.get("HX-Trigger")
        == "session-logged"
    )
    answer = first_tab.post(
        "/today/log/", session_post(stop_signals=[StopSignal.NUMBNESS.value]), headers=HX
    )
    assert Session.objects.filter(user=member).count() == 3
    assert events(member) == 1, "the stop signal reported with a form-refused save was lost"
    # Refused where it would be stored, recorded, paused: the pause page says so.
    assert answer.headers.get("HX-Redirect") == "/screening/"
    page = first_tab.get("/screening/").content.decode()
    assert CAP_TEXT in page and "recorded all the same" in page


def test_a_queued_stop_signal_refused_by_the_queued_forms_count_is_recorded():
    """Queued from the offline phone with numbness, sent after the day filled on another
    device: the queued form refuses it before the service; the stop signal is lost."""
    member = acute_with_three_today()
    phone = Client()
    phone.force_login(member)
    post = session_post(
        performed_at=(timezone.now() - timedelta(minutes=1)).isoformat(),
        offline_owner=offline_owner(member),
        stop_signals=[StopSignal.NUMBNESS.value],
    )
    answer = phone.post("/today/log/queued/", post)
    assert answer.status_code == 400
    assert events(member) == 1, "the queued stop signal was lost with the refused session"


def test_a_queued_session_from_yesterday_is_not_refused_by_todays_count():
    """Pre-existing: the queued form counts today's sessions for a session from another day
    (SessionForm.for_plan: sessions_on ignores the day). Today full, yesterday empty:
    yesterday's queued session (with numbness) is refused, and its stop signal lost."""
    member = acute_with_three_today()
    yesterday = datetime.combine(
        timezone.localdate() - timedelta(days=1), clock(12), tzinfo=member.profile.tzinfo
    )
    phone = Client()
    phone.force_login(member)
    post = session_post(
        performed_at=yesterday.isoformat(),
        offline_owner=offline_owner(member),
        stop_signals=[StopSignal.NUMBNESS.value],
    )
    answer = phone.post("/today/log/queued/", post)
    assert answer.status_code == 200, answer.json()
    assert events(member) == 1


# --- 3. The queued answer does not say the programme is paused -------------------------


def test_a_queued_refusal_whose_stop_signal_paused_tells_the_phone():
    """Refused by the service (yesterday full), numbness stamped: the gate is closed, but
    the JSON has no paused/next, so the phone (offline-queue.js: report.next) stays on
    the page with its plan and timer."""
    member, when = acute_with_three_yesterday()
    phone = Client()
    phone.force_login(member)
    post = session_post(
        performed_at=when.isoformat(),
        offline_owner=offline_owner(member),
        stop_signals=[StopSignal.NUMBNESS.value],
    )
    answer = phone.post("/today/log/queued/", post).json()
    assert events(member) == 1
    assert answer.get("paused") is True and answer.get("next") == "/screening/", answer


# --- 4. Lock order: the admin's clean takes the profile before the session's row -------


@pg_only
def test_admin_change_racing_a_stop_signal_tap_neither_deadlocks_nor_loses_it(monkeypatch):
    """Session.clean (0ebd04c) locks the profile row inside the admin's transaction, then
    save_model updates the session row: profile -> session. add_stop_signal (and
    update_session, delete_session) take session -> profile. The tap lands between the
    admin's clean and its save: a deadlock, one of the two rolled back."""
    import tracking.admin

    member = make_user(phase="standard", start=timezone.localdate() - timedelta(days=5))
    session, _ = log_stretch(member, when=timezone.now() - timedelta(minutes=30))
    staff = get_user_model().objects.create_superuser(
        f"staff-{uuid.uuid4().hex[:6]}", "s@example.com", "pw-x-123"
    )
    admin = Client()
    admin.force_login(staff)
    tap_errors, threads = [], []

    def tap():
        try:
            add_stop_signal(
                session=Session.objects.select_related("user").get(pk=session.pk),
                signal=StopSignal.NUMBNESS,
            )
        except Exception as error:  # noqa: BLE001
            tap_errors.append(error)
        finally:
            connection.close()

    real = tracking.admin.SessionAdmin.save_model

    def save_model(self, *args, **kwargs):
        thread = threading.Thread(target=tap)
        threads.append(thread)
        thread.start()
        time.sleep(0.5)  # the tap holds the session row, waits for the profile
        return real(self, *args, **kwargs)

    monkeypatch.setattr(tracking.admin.SessionAdmin, "save_model", save_model)
    local = timezone.localtime(session.performed_at)
    try:
        answer = admin.post(
            f"/admin/tracking/session/{session.pk}/change/",
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
                "note": "staff note",
                "version": str(session.version),
            },
        )
        admin_error = None
    except Exception as error:  # noqa: BLE001
        answer, admin_error = None, error
    monkeypatch.undo()
    for thread in threads:
        thread.join(15)
    assert threads
    assert not tap_errors, f"the stop-signal tap failed: {tap_errors!r}"
    assert admin_error is None, f"the admin's save failed: {admin_error!r}"
    assert answer.status_code == 302
    assert events(member) == 1
