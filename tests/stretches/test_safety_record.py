"""The stamped safety record in the database: setbacks and pauses survive later rewrites,
caps are refused by every form, and pain gets an answer (SPEC 1.3, 1.5, 1.6)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from stretches.models import Clearance, ExaminationConfirmation, SafetyEvent, Screening, StopSignal
from stretches.progression import (
    Change,
    Phase,
    SetbackKind,
    Stage,
    stage_history,
)
from stretches.safety import gate_state, setbacks_since
from stretches.screening import EMERGENCY_QUESTION_IDS, QUESTIONS, GateReason, Verdict
from tests.conftest import make_screening, make_session, make_user, session_post
from tests.pages import messages_of, page_text
from tracking.models import Session
from tracking.plan import build_plan
from tracking.services import EDITABLE_FIELDS, add_stop_signal, delete_session, update_session

UTC = zoneinfo.ZoneInfo("UTC")
NOON = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


def edit_post(session: Session, **overrides) -> dict:
    data = {
        "performed_at": session.performed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"),
        "exercise": session.exercise.slug,
        "sides": session.sides,
        "reps_per_side": str(session.reps_per_side),
        "hold_seconds": str(session.hold_seconds),
        "pain_before": str(session.pain_before),
        "pain_after": str(session.pain_after),
        "note": session.note,
        "version": str(session.version),
    }
    data.update(overrides)
    return data


def fresh(user):
    """The user as the next request reads them: the profile's data version keys the cache."""
    return type(user).objects.get(pk=user.pk)


def gate(user) -> GateReason:
    return gate_state(fresh(user)).decision.reason


def kinds(user) -> list[str]:
    return sorted(SafetyEvent.objects.filter(user=user).values_list("kind", flat=True))


def edit_kwargs(session: Session, **changes) -> dict:
    fields = {name: getattr(session, name) for name in EDITABLE_FIELDS}
    fields.update(changes)
    return {"version": session.version, "stop_signals": list(session.stop_signals), **fields}


# --- Stamps survive rewrites; a correction within 10 minutes removes only a pain rise --------


@pytest.mark.django_db
def test_a_pain_rise_deleted_after_the_correction_window_still_counts_as_a_setback():
    with time_machine.travel(NOON, tick=False):
        user = make_user("rise")
        session = make_session(
            user, performed_at=NOON - timedelta(minutes=1), pain_before=3, pain_after=7
        )
    with time_machine.travel(NOON + timedelta(minutes=11), tick=False):
        delete_session(session=session)
    assert kinds(user) == ["pain_rise"]
    assert [s.kind for s in setbacks_since(user, NOON.date())] == [SetbackKind.PAIN_RISE]


@pytest.mark.django_db
def test_a_pain_rise_deleted_within_10_minutes_is_a_correction_and_goes():
    with time_machine.travel(NOON, tick=False):
        user = make_user("typo")
        session = make_session(user, pain_before=3, pain_after=7)
    with time_machine.travel(NOON + timedelta(minutes=9), tick=False):
        delete_session(session=session)
    assert kinds(user) == []


@pytest.mark.django_db
def test_a_pain_rise_edited_away_within_10_minutes_goes_but_after_it_stays():
    with time_machine.travel(NOON, tick=False):
        user = make_user("edit")
        quick = make_session(user, pain_before=3, pain_after=7)
        late = make_session(user, pain_before=2, pain_after=6)
    with time_machine.travel(NOON + timedelta(minutes=5), tick=False):
        update_session(session=quick, **edit_kwargs(quick, pain_after=3))
    with time_machine.travel(NOON + timedelta(minutes=30), tick=False):
        update_session(session=late, **edit_kwargs(late, pain_after=2))
    rises = SafetyEvent.objects.filter(user=user, kind="pain_rise")
    assert list(rises.values_list("session_ref", flat=True)) == [late.pk]


@pytest.mark.django_db
def test_a_stop_signal_is_never_taken_back_even_by_a_delete_within_10_minutes():
    with time_machine.travel(NOON, tick=False):
        user = make_user("stop")
        session = make_session(user, stop_signals=["cramp"])
    with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
        delete_session(session=session)
        assert kinds(user) == ["stop_signal"]
        assert gate(user) is GateReason.PAUSED_TODAY


@pytest.mark.django_db
def test_deleting_a_setback_session_does_not_lift_the_next_days_step_down():
    start = NOON.date() - timedelta(days=21)
    with time_machine.travel(NOON - timedelta(days=1), tick=False):
        user = make_user("steady", start=start)
        for k in range(1, 21):
            make_session(user, performed_at=NOON - timedelta(days=k, hours=2))
        assert build_plan(fresh(user).profile).prescription.stage is Stage.BUILD
        bad = make_session(user, pain_before=2, pain_after=6)
    with time_machine.travel(NOON, tick=False):
        delete_session(session=bad)
        plan = build_plan(fresh(user).profile)
    assert plan.prescription.stage is Stage.FOUNDATION
    assert "pain rose by 4" in plan.prescription.stage_reason


# --- The form paths: caps, locked stretches and the acute flare's daily total ----------------


@pytest.mark.django_db
def test_the_today_log_form_refuses_a_hold_above_the_cap_and_saves_nothing(client):
    user = make_user("cap")
    client.force_login(user)
    response = client.post(reverse("log-session"), session_post(hold_seconds="61"))
    assert response.status_code == 400
    assert "capped at 60 seconds" in page_text(response)
    assert not Session.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_the_backdated_form_refuses_a_hold_above_the_cap_and_saves_nothing(client):
    user = make_user("cap2")
    client.force_login(user)
    when = (NOON - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    with time_machine.travel(NOON, tick=False):
        response = client.post(
            reverse("session-new"), session_post(hold_seconds="90", performed_at=when)
        )
    assert response.status_code == 400
    assert "capped at 60 seconds" in page_text(response)
    assert not Session.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_the_edit_form_refuses_a_hold_above_the_cap_and_changes_nothing(client):
    user = make_user("cap3")
    session = make_session(user)
    client.force_login(user)
    response = client.post(
        reverse("session-edit", args=[session.pk]), edit_post(session, hold_seconds="75")
    )
    assert response.status_code == 400
    assert "capped at 60 seconds" in page_text(response)
    session.refresh_from_db()
    assert session.hold_seconds == 20


@pytest.mark.django_db
def test_the_backdated_and_edit_forms_refuse_a_locked_double_leg_stretch(client):
    user = make_user("locked")
    session = make_session(user)
    client.force_login(user)
    when = (NOON - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    double = {"exercise": "double-knee-to-chest", "sides": "both", "hold_seconds": "15"}
    with time_machine.travel(NOON, tick=False):
        new = client.post(reverse("session-new"), session_post(performed_at=when, **double))
    edit = client.post(reverse("session-edit", args=[session.pk]), edit_post(session, **double))
    assert new.status_code == edit.status_code == 400
    assert "not unlocked yet" in page_text(new)
    assert "not unlocked yet" in page_text(edit)
    assert list(Session.objects.filter(user=user).values_list("exercise__slug", flat=True)) == [
        "single-knee-to-chest"
    ]


@pytest.mark.django_db
def test_the_acute_flares_fourth_session_of_the_day_is_refused_by_the_today_and_backdated_forms(
    client,
):
    with time_machine.travel(NOON, tick=False):
        user = make_user("acute", phase=Phase.ACUTE.value)
        make_session(user, performed_at=NOON - timedelta(hours=3), hold_seconds=15)
        make_session(
            user, performed_at=NOON - timedelta(hours=2), slug="morning-in-bed", hold_seconds=15
        )
        make_session(user, performed_at=NOON - timedelta(hours=1), hold_seconds=15)
        client.force_login(user)
        today = client.post(reverse("log-session"), session_post(hold_seconds="15"))
        when = (NOON - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
        backdated = client.post(
            reverse("session-new"), session_post(hold_seconds="15", performed_at=when)
        )
    assert today.status_code == backdated.status_code == 400
    assert "at most 3 sessions" in page_text(today)
    assert "at most 3 sessions" in page_text(backdated)
    assert Session.objects.filter(user=user).count() == 3


@pytest.mark.django_db
def test_an_edit_cannot_move_a_session_onto_a_full_acute_day(client):
    with time_machine.travel(NOON, tick=False):
        user = make_user("acute2", phase=Phase.ACUTE.value, start=NOON.date() - timedelta(days=3))
        earlier = make_session(user, performed_at=NOON - timedelta(days=1), hold_seconds=15)
        for hours in (3, 2, 1):
            make_session(user, performed_at=NOON - timedelta(hours=hours), hold_seconds=15)
        client.force_login(user)
        moved = (NOON - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M")
        response = client.post(
            reverse("session-edit", args=[earlier.pk]), edit_post(earlier, performed_at=moved)
        )
        today = Session.objects.filter(user=user, performed_at__date=NOON.date()).count()
    assert response.status_code == 400
    assert today == 3


@pytest.mark.django_db
def test_the_stored_target_is_the_servers_whatever_the_form_sends(client):
    user = make_user("target")
    client.force_login(user)
    client.post(reverse("log-session"), session_post(hold_seconds_target="120"))
    assert Session.objects.get(user=user).hold_seconds_target == 15


# --- Pain gets an answer -------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pain_rise_shows_guidance_and_the_sharp_button_instead_of_saved(client):
    user = make_user("risen")
    client.force_login(user)
    response = client.post(
        reverse("log-session"), session_post(pain_before="3", pain_after="7"), follow=True
    )
    text = page_text(response)
    session = Session.objects.get(user=user)
    assert "Session saved." not in messages_of(response)
    assert "Your pain went from 3 to 7" in text
    assert reverse("session-sharp", args=[session.pk]) in text
    assert kinds(user) == ["pain_rise"]


@pytest.mark.django_db
def test_the_sharp_button_adds_a_stop_signal_and_pauses_the_day(client):
    with time_machine.travel(NOON, tick=False):
        user = make_user("sharp")
        session = make_session(user, pain_before=3, pain_after=7)
        client.force_login(user)
        response = client.post(reverse("session-sharp", args=[session.pk]))
        assert response.url == reverse("screening")
        session.refresh_from_db()
        assert "sharp_pain" in session.stop_signals
        assert gate(user) is GateReason.PAUSED_TODAY
        assert client.get(reverse("today")).url == reverse("screening")


@pytest.mark.django_db
def test_the_sharp_button_is_the_owners_only(client):
    owner = make_user("owner")
    session = make_session(owner, pain_before=3, pain_after=7)
    client.force_login(make_user("someone"))
    assert client.post(reverse("session-sharp", args=[session.pk])).status_code == 404
    assert client.get(reverse("session-sharp", args=[session.pk])).status_code == 405
    assert not SafetyEvent.objects.filter(user=owner, kind="stop_signal").exists()


@pytest.mark.django_db
def test_severe_pain_shows_advice_and_offers_the_emergency_questions(client):
    user = make_user("severe")
    client.force_login(user)
    response = client.post(
        reverse("log-session"), session_post(pain_before="8", pain_after="8"), follow=True
    )
    text = page_text(response)
    assert "You rated your pain 8 or more" in text
    assert f"{reverse('screening')}?step=check" in text


@pytest.mark.django_db
def test_severe_pain_on_3_of_7_days_needs_a_rescreen_that_gives_clinician_first(client):
    with time_machine.travel(NOON - timedelta(days=5), tick=False):
        user = make_user("severe3", start=NOON.date() - timedelta(days=5))
    for k in (4, 2, 0):
        with time_machine.travel(NOON - timedelta(days=k), tick=False):
            make_session(user, pain_before=8, pain_after=8)
    with time_machine.travel(NOON + timedelta(minutes=1), tick=False):
        assert gate(user) is GateReason.SEVERE_PAIN
        client.force_login(user)
        emergency = {f"q_{qid}": "no" for qid in EMERGENCY_QUESTION_IDS}
        rest = client.post(reverse("screening"), {"step": "emergency", **emergency})
        assert rest.status_code == 200
        every = {f"q_{q.id}": "no" for q in QUESTIONS}
        client.post(reverse("screening"), {"step": "rest", **every})
        assert gate(user) is GateReason.NEEDS_CLINICIAN
        assert Screening.objects.filter(user=user).latest("taken_at").triggers == [
            "severe_pain_days"
        ]


# --- The lasting-pain question ------------------------------------------------------------


@pytest.mark.django_db
def test_the_log_form_refuses_until_the_lasting_pain_question_is_answered(client):
    with time_machine.travel(NOON - timedelta(days=1), tick=False):
        user = make_user("lasting")
        make_session(user)
    with time_machine.travel(NOON, tick=False):
        client.force_login(user)
        assert "Before today's first session" in page_text(client.get(reverse("today")))
        refused = client.post(reverse("log-session"), session_post())
        assert refused.status_code == 400
        assert Session.objects.filter(user=user).count() == 1
        client.post(reverse("lasting-pain"), {"lasting": "no"})
        client.post(reverse("log-session"), session_post())
        assert Session.objects.filter(user=user).count() == 2


@pytest.mark.django_db
def test_a_lasting_pain_yes_is_a_stop_signal_of_the_last_session_and_pauses_today(client):
    with time_machine.travel(NOON - timedelta(days=1), tick=False):
        user = make_user("lasting2")
        last = make_session(user)
    with time_machine.travel(NOON, tick=False):
        client.force_login(user)
        response = client.post(reverse("lasting-pain"), {"lasting": "yes"})
        assert response.url == reverse("screening")
        last.refresh_from_db()
        assert last.stop_signals == ["lasting_pain"]
        assert gate(user) is GateReason.PAUSED_TODAY
        assert client.post(reverse("log-session"), session_post()).url == reverse("screening")
    with time_machine.travel(NOON + timedelta(days=1), tick=False):
        assert gate(user) is GateReason.STOP_SIGNAL


# --- Refused paths while a block or pause stands --------------------------------------------


@pytest.mark.django_db
def test_posting_the_examination_form_without_an_emergency_records_nothing(client):
    user = make_user("exam")
    make_screening(user, Verdict.URGENT)
    client.force_login(user)
    client.post(reverse("screening-examined"), {"examined": "on", "examined_on": "2026-03-20"})
    assert not ExaminationConfirmation.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_posting_the_clearance_form_on_a_pause_day_records_nothing(client):
    with time_machine.travel(NOON, tick=False):
        user = make_user("pause")
        make_screening(user, Verdict.URGENT)
        make_session(user, stop_signals=["cramp"])
        client.force_login(user)
        client.post(
            reverse("screening-clearance"),
            {"cleared_by": "gp", "cleared_on": "2026-03-20", "note": ""},
        )
    assert not Clearance.objects.filter(user=user).exists()


@pytest.mark.django_db
def test_the_emergency_result_has_tap_to_call_links(client):
    user = make_user("emerg")
    make_screening(user, Verdict.EMERGENCY)
    client.force_login(user)
    text = page_text(client.get(reverse("screening")))
    for number in ("999", "112", "911"):
        assert f'href="tel:{number}"' in text


# --- Progression: suspected rule breaks -----------------------------------------------------


def steady_days(start: date, today: date) -> set[date]:
    return {start + timedelta(days=k) for k in range((today - start).days)}


def test_getting_worse_keeps_step_ups_frozen_on_the_days_after_the_first():
    start = date(2026, 3, 1)
    eligible = start + timedelta(days=14)  # week 3: build allowed, 14 steady days
    days = steady_days(start, eligible + timedelta(days=3))
    frozen = stage_history(
        start=start, today=eligible, lying_days=days, setbacks=[], worsening=True
    )
    assert frozen.stage is Stage.FOUNDATION
    still = stage_history(
        start=start,
        today=eligible + timedelta(days=1),
        lying_days=days,
        setbacks=[],
        worsening=True,
    )
    assert still.stage is Stage.FOUNDATION


@pytest.mark.django_db
def test_one_session_with_a_pain_rise_and_a_later_stop_signal_is_one_setback():
    start = NOON.date() - timedelta(days=35)
    with time_machine.travel(NOON - timedelta(days=1), tick=False):
        user = make_user("once", start=start)
        for k in range(1, 35):
            make_session(user, performed_at=NOON - timedelta(days=k, hours=2))
        assert build_plan(fresh(user).profile).prescription.stage is Stage.FULL
        bad = make_session(user, pain_before=2, pain_after=5)
    with time_machine.travel(NOON - timedelta(days=1) + timedelta(minutes=20), tick=False):
        add_stop_signal(session=bad, signal=StopSignal.SHARP_PAIN)
    with time_machine.travel(NOON + timedelta(days=1), tick=False):
        prescription = build_plan(fresh(user).profile).prescription
    assert prescription.history.change is Change.SETBACK
    assert prescription.stage is Stage.BUILD
