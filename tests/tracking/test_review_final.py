"""A fourth review's attacks (helper-19, kept) on cd0df00 and 9afc6dd: the cap judged only
where a session is stored; a refused report stamped once per form token. Each test asserts
the safe behaviour. Two failed and are fixed: a stop signal ticked in an edit refused at
the cap was rolled back with the move (update_session now adds it to the session as
stored); and a form refused at the cap, then stored with the same token once the day had
room, stamped its stop signal a second time, a false "clinician first" (stamp_session
makes the refusal's events the stored session's)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from pwa.owner import offline_owner
from stretches.models import SafetyEvent, StopSignal
from tests.factories import log_stretch, make_user, session_post
from tests.tracking.test_acute_cap_race import edit_post
from tests.tracking.test_review_refused_stamps import (
    acute_with_three_today,
    acute_with_three_yesterday,
    events,
    not_blocked_by_repeat,
)
from tracking.models import Session
from tracking.services import DailyCapReached, delete_session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clear_of_midnight"),  # sessions of one day, away from midnight
]


def client_for(member):
    c = Client()
    c.force_login(member)
    return c


# --- 1. An edit moving a session onto a full day, adding a stop signal ----------------------


def test_edit_onto_a_full_day_adding_a_stop_signal_keeps_the_stop_signal():
    """Three today; a session two days ago is edited: moved onto today AND numbness ticked.
    The service refuses the move (the day is full) and rolls the whole update back,
    including the added stop signal; the view shows the cap error only."""
    member = acute_with_three_today()
    old, _ = log_stretch(member, when=timezone.now() - timedelta(days=2))
    c = client_for(member)
    data = edit_post(old, timezone.now() - timedelta(minutes=5))
    data["stop_signals"] = [StopSignal.NUMBNESS.value]
    answer = c.post(f"/sessions/{old.pk}/edit/", data)
    assert answer.status_code in (200, 302, 400)  # no 500
    old.refresh_from_db()
    # The cap held: the session did not move onto today.
    assert old.performed_at < timezone.now() - timedelta(days=1)
    assert Session.objects.filter(user=member).count() == 4
    # The stop signal reported with the refused edit must not be lost (SPEC 1.5).
    assert events(member) == 1, "a stop signal ticked in an edit refused at the cap was lost"


def test_edit_onto_a_full_day_is_refused_with_the_cap_message():
    member = acute_with_three_today()
    old, _ = log_stretch(member, when=timezone.now() - timedelta(days=2))
    c = client_for(member)
    answer = c.post(
        f"/sessions/{old.pk}/edit/", edit_post(old, timezone.now() - timedelta(minutes=5))
    )
    assert answer.status_code == 400
    assert "allows at most 3 sessions" in answer.content.decode()
    old.refresh_from_db()
    assert old.performed_at < timezone.now() - timedelta(days=1)


# --- 2. A refused report and then the same form stored (the day freed) ---------------------


def test_refused_then_stored_with_the_same_token_is_one_stop_signal():
    """The queue sends numbness at the cap (refused, stamped with report_token T); the
    answer is lost. Meanwhile the person deletes one of today's sessions; the queue sends
    the same form (T) again: now stored, and its stop signal stamped again (session_ref).
    Two stop signals from one report -> 'clinician first': a false block."""
    member = acute_with_three_today()
    token = uuid.uuid4()
    with pytest.raises(DailyCapReached):
        log_stretch(member, signals=[StopSignal.NUMBNESS.value], token=token)
    assert events(member) == 1
    delete_session(session=Session.objects.filter(user=member).first())
    session, created = log_stretch(member, signals=[StopSignal.NUMBNESS.value], token=token)
    assert created
    assert events(member) == 1, f"one report stamped {events(member)} stop signals"
    assert not_blocked_by_repeat(member)


def test_refused_then_stored_via_the_queue_is_one_stop_signal():
    member = acute_with_three_today()
    phone = client_for(member)
    post = session_post(
        performed_at=(timezone.now() - timedelta(minutes=1)).isoformat(),
        offline_owner=offline_owner(member),
        stop_signals=[StopSignal.NUMBNESS.value],
    )
    first = phone.post("/today/log/queued/", post)
    assert first.status_code == 400
    assert events(member) == 1
    delete_session(session=Session.objects.filter(user=member).first())
    phone.post("/today/log/queued/", post)
    assert not_blocked_by_repeat(member), "one queued report: 'clinician first' (false block)"
    assert events(member) == 1, f"one queued report stamped {events(member)} stop signals"


def test_stored_then_resent_at_the_cap_is_already_saved_and_stamped_once():
    """Double tap the other way round: the 3rd (stored, numbness), then the same form
    again at the cap: found by its token, not refused, nothing stamped again."""
    member = make_user(phase="acute", start=timezone.localdate() - timedelta(days=5))
    log_stretch(member, when=timezone.now() - timedelta(minutes=30))
    log_stretch(member, when=timezone.now() - timedelta(minutes=20))
    token = uuid.uuid4()
    _, created = log_stretch(member, signals=[StopSignal.NUMBNESS.value], token=token)
    assert created
    from tests.factories import exercise
    from tracking.services import log_session  # noqa: F401
    from tracking.services import log_session as log

    again, created = log(
        user=member,
        exercise=exercise(),
        performed_at=timezone.now(),
        sides="left_right",
        reps_per_side=3,
        hold_seconds=15,
        hold_seconds_target=15,
        pain_before=4,
        pain_after=3,
        stop_signals=[StopSignal.NUMBNESS.value],
        client_token=token,
        daily_cap=3,
    )
    assert not created
    assert events(member) == 1
    assert Session.objects.filter(user=member).count() == 3


# --- 3. The cap holds on every path once the form no longer judges it -----------------


def test_backdated_form_onto_a_full_yesterday_is_refused_not_500():
    member, when = acute_with_three_yesterday()
    c = client_for(member)
    data = session_post(performed_at=timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"))
    answer = c.post("/sessions/new/", data)
    assert answer.status_code == 400
    assert "allows at most 3 sessions" in answer.content.decode()
    assert Session.objects.filter(user=member).count() == 3


def test_backdated_stop_signal_refused_is_recorded_with_a_pause_from_today():
    """A refused back-dated report: its stop signal counts from the day reported (today),
    its pause ends at the end of today (not yesterday's, already over)."""
    member, when = acute_with_three_yesterday()
    c = client_for(member)
    data = session_post(
        performed_at=timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"),
        stop_signals=[StopSignal.NUMBNESS.value],
    )
    answer = c.post("/sessions/new/", data)
    assert answer.status_code in (302, 400)
    assert Session.objects.filter(user=member).count() == 3
    event = SafetyEvent.objects.get(user=member, kind=SafetyEvent.Kind.STOP_SIGNAL)
    assert event.reported_on == member.profile.local_today()
    assert event.pause_ends_at > timezone.now()
    # and the person is told it was recorded
    if answer.status_code == 302:
        texts = " ".join(str(m) for m in get_messages(answer.wsgi_request))
        assert "recorded all the same" in texts


def test_queued_refusal_without_a_stop_signal_is_a_clean_400():
    member = acute_with_three_today()
    phone = client_for(member)
    post = session_post(
        performed_at=(timezone.now() - timedelta(minutes=1)).isoformat(),
        offline_owner=offline_owner(member),
    )
    answer = phone.post("/today/log/queued/", post)
    assert answer.status_code == 400
    assert answer.json().get("paused") in (None, False)
    assert Session.objects.filter(user=member).count() == 3


def test_undo_onto_a_full_day_is_refused():
    member = acute_with_three_today()
    c = client_for(member)
    victim = Session.objects.filter(user=member).first()
    assert c.post(f"/sessions/{victim.pk}/delete/").status_code == 302
    log_stretch(member)  # the day is full again
    answer = c.post("/sessions/undo/")
    assert answer.status_code == 302
    assert Session.objects.filter(user=member).count() == 3
    texts = " ".join(str(m) for m in get_messages(answer.wsgi_request))
    assert "not restored" in texts


def test_plain_log_form_fourth_is_refused():
    member = acute_with_three_today()
    from tests.factories import ready_to_log

    c = ready_to_log(member)
    answer = c.post("/today/log/", session_post())
    assert answer.status_code in (200, 302, 400)
    assert Session.objects.filter(user=member).count() == 3
