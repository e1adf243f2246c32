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


def _admin_form(user, exercise_id: int, **fields) -> dict:
    from django.utils import timezone

    when = timezone.localtime()
    return {
        "user": user.pk,
        "performed_at_0": when.strftime("%Y-%m-%d"),
        "performed_at_1": when.strftime("%H:%M:%S"),
        "exercise": exercise_id,
        "sides": "both",
        "reps_per_side": 3,
        "hold_seconds": 20,
        "hold_seconds_target": 20,
        "pain_before": 4,
        "pain_after": 3,
        "note": "",
        "version": 1,
        **fields,
    }


def test_the_admin_cannot_add_the_double_leg_stretch_before_it_is_earned(staff_client, user):
    """SPEC 1.3: double-leg only once earned. The log, back-dated and edit forms refuse it;
    so does the admin, which was a way around them."""
    from stretches.models import Exercise
    from tracking.models import Session

    double = Exercise.objects.get(slug="double-knee-to-chest")

    response = staff_client.post("/admin/tracking/session/add/", _admin_form(user, double.pk))

    assert response.status_code == 200  # the form again, with the reason
    assert "Double knee to chest is not unlocked for this person yet" in response.text
    assert not Session.objects.filter(user=user).exists()


def test_a_double_leg_session_logged_while_open_can_still_be_corrected(staff_client, user):
    """Once a setback closes it again, the past session keeps its exercise: correcting a
    pain score in the admin must not be refused for it."""

    session = make_session(user, slug="double-knee-to-chest")
    form = _admin_form(
        user, session.exercise_id, pain_before=5, pain_after=2, version=session.version
    )

    response = staff_client.post(f"/admin/tracking/session/{session.pk}/change/", form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    session.refresh_from_db()
    assert (session.pain_before, session.pain_after) == (5, 2)


def test_a_double_leg_session_cannot_be_moved_to_someone_who_has_not_earned_it(
    staff_client, user, other_user
):
    session = make_session(user, slug="double-knee-to-chest")
    form = _admin_form(other_user, session.exercise_id, version=session.version)

    response = staff_client.post(f"/admin/tracking/session/{session.pk}/change/", form)

    assert response.status_code == 200
    assert "Double knee to chest is not unlocked for this person yet" in response.text
    session.refresh_from_db()
    assert session.user == user


def test_the_admin_can_add_the_double_leg_stretch_for_someone_who_has_earned_it(staff_client):
    """The other side of the rule: once earned (two weeks of low-pain knee-to-chest
    sessions here), staff may record it."""
    from datetime import timedelta

    from django.utils import timezone

    from stretches.models import Exercise
    from tests.factories import make_user
    from tracking.models import Session
    from tracking.plan import catalogue_rules, log_limits

    earned = make_user("earner", start=timezone.localdate() - timedelta(days=20))
    for days_ago in range(1, 15):
        make_session(
            earned,
            performed_at=timezone.now() - timedelta(days=days_ago),
            pain_before=2,
            pain_after=2,
        )
    assert "double-knee-to-chest" not in log_limits(earned.profile, catalogue_rules())["locked"]
    double = Exercise.objects.get(slug="double-knee-to-chest")

    response = staff_client.post("/admin/tracking/session/add/", _admin_form(earned, double.pk))

    assert response.status_code == 302
    assert Session.objects.filter(user=earned, exercise=double).exists()
