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


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_each_stretch_page_draws_its_start_and_end_with_words_for_them(client, slug):
    from django.contrib.staticfiles import finders
    from django.utils.html import escape

    from stretches.illustrations import illustrations_for

    body = client.get(f"/stretches/{slug}/").content.decode()
    drawings = illustrations_for(slug)
    assert [d.caption.split(":")[0] for d in drawings] == ["Start", "End"]
    for drawing in drawings:
        assert finders.find(drawing.file), drawing.file  # the file ships with the app
        assert f'alt="{escape(drawing.alt)}"' in body and len(drawing.alt) > 40
        assert f"<figcaption>{escape(drawing.caption)}</figcaption>" in body
    # Two different positions, not one picture shown twice.
    assert drawings[0].file != drawings[1].file and drawings[0].alt != drawings[1].alt


@pytest.mark.django_db
@pytest.mark.parametrize("slug", SLUGS)
def test_each_stretch_page_lists_every_stop_signal(client, slug):
    from stretches.models import StopSignal

    body = client.get(f"/stretches/{slug}/").content.decode()
    section = body.split('id="stop-h"')[1].split("</section>")[0]
    for _value, label in StopSignal.choices:
        assert f"<li>{label}</li>" in section


def test_the_drawings_are_our_own_svg_with_nothing_fetched_from_elsewhere():
    from pathlib import Path

    from django.conf import settings

    from stretches.illustrations import ILLUSTRATIONS

    for drawings in ILLUSTRATIONS.values():
        for drawing in drawings:
            svg = (Path(settings.BASE_DIR) / "static" / drawing.file).read_text()
            assert svg.startswith("<svg") and "<title>" in svg
            assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
            assert "<image" not in svg and "<script" not in svg
