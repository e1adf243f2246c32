"""Staff can read the safety record in the admin, never lift a block or a pause there."""

import pytest

from stretches.models import Exercise, SafetyEvent
from stretches.screening import Verdict
from tests.factories import make_screening, make_session

pytestmark = pytest.mark.django_db


def test_a_stop_signal_stamp_cannot_be_changed_or_deleted_in_the_admin(staff_client, user):
    make_session(user, stop_signals=["cramp"])
    event = SafetyEvent.objects.get(user=user, kind="stop_signal")
    url = f"/admin/stretches/safetyevent/{event.pk}/"

    assert staff_client.get(url + "change/").status_code == 200  # readable
    staff_client.post(url + "change/", {"kind": "pain_rise", "signals": "[]"})
    assert staff_client.post(url + "delete/", {"post": "yes"}).status_code == 403
    staff_client.post(
        "/admin/stretches/safetyevent/",
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )

    event.refresh_from_db()
    assert event.kind == "stop_signal" and event.signals == ["cramp"]


def test_a_blocking_screening_cannot_be_rewritten_in_the_admin(staff_client, user):
    screening = make_screening(user, Verdict.URGENT, answers={"fever_unwell": "yes"})
    url = f"/admin/stretches/screening/{screening.pk}/"

    staff_client.post(url + "change/", {"verdict": "clear", "answers": "{}"})
    assert staff_client.post(url + "delete/", {"post": "yes"}).status_code == 403
    assert staff_client.get("/admin/stretches/clearance/add/").status_code == 403

    screening.refresh_from_db()
    assert screening.verdict == "urgent"


def test_an_exercises_kind_and_slug_are_read_only_once_it_exists(staff_client):
    double = Exercise.objects.get(slug="double-knee-to-chest")

    text = staff_client.get(f"/admin/stretches/exercise/{double.pk}/change/").content.decode()

    assert 'name="both_legs"' not in text
    assert 'name="slug"' not in text
