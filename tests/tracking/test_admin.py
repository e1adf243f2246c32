"""The sessions admin: a usable list for staff, and no back door around the stop-signal pause."""

import pytest

from tests.conftest import make_session

pytestmark = pytest.mark.django_db


def test_the_session_list_has_columns_and_filters(staff_client, user):
    make_session(user, pain_before=6, pain_after=2)

    response = staff_client.get("/admin/tracking/session/")

    text = response.content.decode()
    assert response.status_code == 200
    for column in ("column-performed_at", "column-pain_before", "column-has_stop_signal"):
        assert column in text
    assert 'id="changelist-filter"' in text


def test_the_add_form_asks_for_a_user_id_not_a_list_of_every_user(staff_client, user, other_user):
    text = staff_client.get("/admin/tracking/session/add/").content.decode()

    assert 'class="vForeignKeyRawIdAdminField"' in text
    assert "mallory" not in text  # no <option> per user


def test_stop_signals_cannot_be_changed_in_the_admin(staff_client, user):
    session = make_session(user, stop_signals=["cramp"])
    url = f"/admin/tracking/session/{session.pk}/change/"

    text = staff_client.get(url).content.decode()

    assert 'name="stop_signals"' not in text
    assert 'name="has_stop_signal"' not in text


def test_a_pain_rise_or_severe_score_saved_in_the_admin_is_stamped_as_a_setback(staff_client, user):
    """Sessions typed in or corrected by staff are stamped as logged ones are (SPEC 1.3,
    1.6): the admin is no way to enter a setback the plan would not see."""
    from stretches.models import SafetyEvent

    session = make_session(user, pain_before=3, pain_after=3)
    assert not SafetyEvent.objects.filter(session_ref=session.pk).exists()
    form = {
        "user": user.pk,
        "performed_at_0": session.performed_at.strftime("%Y-%m-%d"),
        "performed_at_1": session.performed_at.strftime("%H:%M:%S"),
        "exercise": session.exercise_id,
        "sides": session.sides,
        "reps_per_side": session.reps_per_side,
        "hold_seconds": session.hold_seconds,
        "hold_seconds_target": session.hold_seconds_target,
        "pain_before": 3,
        "pain_after": 8,
        "note": "",
        "version": session.version,
    }
    response = staff_client.post(f"/admin/tracking/session/{session.pk}/change/", form)
    assert response.status_code == 302

    kinds = set(SafetyEvent.objects.filter(session_ref=session.pk).values_list("kind", flat=True))
    assert kinds == {SafetyEvent.Kind.PAIN_RISE, SafetyEvent.Kind.SEVERE_PAIN}
