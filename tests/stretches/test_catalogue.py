import pytest
from django.db import IntegrityError, transaction

from stretches.models import Exercise

SLUGS = [
    "single-knee-to-chest",
    "double-knee-to-chest",
    "figure-four",
    "standing-knee-hug",
    "morning-in-bed",
]


@pytest.mark.django_db
def test_catalogue_lists_the_five_stretches_without_an_account(client):
    response = client.get("/stretches/")
    assert response.status_code == 200
    body = response.content.decode()
    for exercise in Exercise.objects.all():
        assert exercise.get_absolute_url() in body
    assert sorted(Exercise.objects.values_list("slug", flat=True)) == sorted(SLUGS)


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_each_stretch_page_shows_every_section(client, slug):
    exercise = Exercise.objects.get(slug=slug)
    body = client.get(f"/stretches/{slug}/").content.decode()
    for heading in ("Who it is for", "Setting up", "Steps", "Breathing", "Common mistakes"):
        assert heading in body
    assert "Stop and get advice if" in body
    assert exercise.steps and all(step in body for step in exercise.steps)
    assert all(m["fix"] in body for m in exercise.mistakes)
    assert exercise.rules_text in body


@pytest.mark.django_db
def test_unknown_stretch_is_404(client):
    assert client.get("/stretches/no-such-stretch/").status_code == 404


def _admin_form(exercise, **changes):
    import json

    data = {
        "slug": exercise.slug,
        "name": exercise.name,
        "position": exercise.position,
        "summary": exercise.summary,
        "who_for": exercise.who_for,
        "setup": exercise.setup,
        "steps": json.dumps(exercise.steps),
        "breathing": json.dumps(exercise.breathing),
        "mistakes": json.dumps(exercise.mistakes),
        "warning_signs": json.dumps(exercise.warning_signs),
        "accessories": json.dumps(exercise.accessories),
        "rules_text": exercise.rules_text,
        "hold_min_seconds": exercise.hold_min_seconds,
        "hold_max_seconds": exercise.hold_max_seconds,
        "reps": exercise.reps,
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_admin_refuses_a_double_leg_hold_above_30_seconds(staff_client):
    exercise = Exercise.objects.get(slug="double-knee-to-chest")
    url = f"/admin/stretches/exercise/{exercise.pk}/change/"
    response = staff_client.post(url, _admin_form(exercise, hold_max_seconds=45))
    assert response.status_code == 200
    assert "capped at 30 seconds" in response.content.decode()
    exercise.refresh_from_db()
    assert exercise.hold_max_seconds == 30


@pytest.mark.django_db
def test_admin_refuses_any_hold_above_60_seconds(staff_client):
    exercise = Exercise.objects.get(slug="figure-four")
    url = f"/admin/stretches/exercise/{exercise.pk}/change/"
    response = staff_client.post(url, _admin_form(exercise, hold_max_seconds=90))
    assert "capped at 60 seconds" in response.content.decode()
    exercise.refresh_from_db()
    assert exercise.hold_max_seconds == 30


@pytest.mark.django_db
def test_admin_saves_an_edit_within_the_caps(staff_client):
    exercise = Exercise.objects.get(slug="figure-four")
    url = f"/admin/stretches/exercise/{exercise.pk}/change/"
    response = staff_client.post(url, _admin_form(exercise, hold_min_seconds=25))
    assert response.status_code == 302
    exercise.refresh_from_db()
    assert exercise.hold_min_seconds == 25


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "hold_max"), [("single-knee-to-chest", 61), ("double-knee-to-chest", 31)]
)
def test_database_refuses_a_hold_above_the_cap(slug, hold_max):
    with pytest.raises(IntegrityError), transaction.atomic():
        Exercise.objects.filter(slug=slug).update(hold_max_seconds=hold_max)
