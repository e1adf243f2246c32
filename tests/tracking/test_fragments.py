"""Kept fragments (tracking/templatetags/fragments.py): the same HTML a fresh render gives,
never anything per visitor or per response."""

from __future__ import annotations

import re

import pytest
from django.template import engines
from django.test import Client, RequestFactory

from accounts.models import Profile
from lib import page_cache
from stretches.models import Exercise
from tests.factories import log_stretch, make_session, make_user
from tracking.forms import SessionForm
from tracking.plan import build_plan
from tracking.presentation import OUTCOME_LABELS
from tracking.templatetags import fragments
from tracking.trends import _words

pytestmark = pytest.mark.django_db

PARTS = ("pain-before", "pain-after", "signals", "details", "note")


def form(data=None, **initial) -> SessionForm:
    catalogue = {e.slug: e for e in Exercise.objects.filter(both_legs=False)}
    initial = {"exercise": "single-knee-to-chest", "sides": "left_right",
               "reps_per_side": 3, "hold_seconds": 20, **initial}  # fmt: skip
    return SessionForm(data, catalogue=catalogue, ask_lasting_pain=False, initial=initial)


def fresh(part: str, the_form: SessionForm) -> str:
    name = f"tracking/_session_fields.html#{part}"
    return engines["django"].get_template(name).render({"form": the_form})


def through_fragment(part: str, the_form: SessionForm, context: dict | None = None) -> str:
    source = "{% load fragments %}{% fragment name form.static_key %}"
    template = engines["django"].from_string(source)
    name = f"tracking/_session_fields.html#{part}"
    return template.render({"form": the_form, "name": name, **(context or {})})


@pytest.fixture(autouse=True)
def empty():
    fragments._kept.clear()
    yield
    fragments._kept.clear()


@pytest.mark.parametrize("part", PARTS)
def test_a_kept_part_is_what_a_fresh_render_gives(part):
    first = through_fragment(part, form())
    again = through_fragment(part, form())
    assert first == again == fresh(part, form())
    assert len(fragments._kept) == 1


def test_different_plan_numbers_are_different_parts():
    twenty = through_fragment("details", form(hold_seconds=20))
    forty = through_fragment("details", form(hold_seconds=40, reps_per_side=5))
    assert 'value="20"' in twenty and 'value="40"' not in twenty
    assert 'value="40"' in forty and 'value="5"' in forty
    assert len(fragments._kept) == 2


def test_the_users_own_input_is_never_kept():
    typed = {"pain_before": "11", "hold_seconds": "abc", "note": "<b>mine</b>"}
    bound = form(data=typed)
    bound.is_valid()
    html = through_fragment("pain-before", bound) + through_fragment("note", bound)
    assert "aria-invalid" in html or "errorlist" in html
    assert "&lt;b&gt;mine&lt;/b&gt;" in html  # escaped as ever
    assert fragments._kept == {}


def test_a_part_that_makes_a_per_response_value_is_never_kept():
    """The PEG-3 card holds a CSRF token: rendered inside a page that may be stored, the
    token is recorded as per response, and the part is not kept."""
    request = RequestFactory().get("/today/")
    source = '{% load fragments %}{% fragment "tracking/_peg.html" "card" %}'
    template = engines["django"].from_string(source)
    tokens = []
    for _ in range(2):
        render = page_cache._Render()
        marker = page_cache._current.set(render)
        try:
            html = template.render({"peg_week": 2, **page_cache.csrf(request)})
        finally:
            page_cache._current.reset(marker)
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1])
        assert render.replace  # the token was noted as made for this response
    assert ("tracking/_peg.html", "card") not in fragments._kept
    # Its questions, inside it, hold no token: they are kept.
    assert list(fragments._kept) == [("tracking/_peg.html#questions", "empty")]
    assert not any("csrfmiddlewaretoken" in html for html in fragments._kept.values())
    assert tokens[0] != tokens[1]  # each render masked its own token


def test_a_part_with_a_csrf_token_is_never_kept_outside_a_stored_page_either():
    """The tag's promise ("a part that made a per-response value while rendering is never
    kept") holds outside a render that page_cache may store too (the log POST's htmx
    answer and its 400 page, any view without @page_cache): a part holding a CSRF token
    kept there would be handed, token and all, to the next visitor in this process."""
    source = '{% load fragments %}{% fragment "tracking/_peg.html" "card" %}'
    template = engines["django"].from_string(source)
    tokens = []
    for _ in range(2):
        request = RequestFactory().post("/log/")  # a different visitor each time
        html = template.render({"peg_week": 2, **page_cache.csrf(request)})
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)[1])
    assert ("tracking/_peg.html", "card") not in fragments._kept
    assert tokens[0] != tokens[1]


def test_how_the_comparison_works_is_kept_once_and_reads_as_rendered_fresh():
    """/progress/'s "How the comparison works" shows the programme's numbers, the same for
    everyone reading the same words: kept once per process, as a fresh render writes it."""
    pages = []
    for name in ("ann", "bob"):
        user = make_user(name)
        make_session(user)
        client = Client()
        client.force_login(user)
        pages.append(client.get("/progress/").content.decode())
    kept = [key for key in fragments._kept if key[0] == "tracking/_progress_verdict.html#how"]
    assert len(kept) == 1
    words = _words(None)
    fresh_part = (
        engines["django"]
        .get_template("tracking/_progress_verdict.html#how")
        .render({"words": words, "trends": {"outcome_labels": OUTCOME_LABELS, "words": words}})
    )
    for page in pages:
        assert "How the comparison works" in page and fresh_part in page
    assert words.meaningful_points in fresh_part and words.recent in fresh_part


def _timer(html: str) -> dict[str, str]:
    tag = re.search(r'<section id="timer"[^>]*>', html)[0]
    return dict(re.findall(r'data-(slug|name|hold|reps|sides)="([^"]*)"', tag))


def test_the_log_forms_steps_are_each_persons_own_next_stretch():
    """today.html#log-steps is kept per process (tracking.today.steps_key): two people
    whose next stretch differs, in turn and twice, each get the timer of their own plan."""
    people = [make_user(phase="standard"), make_user(phase="standard")]
    # The first has done today's main stretch: the morning one is next for them.
    for _ in range(6):
        plan = build_plan(Profile.objects.get(user=people[0]))
        if plan.next_item is None or plan.next_item.item.slug != plan.main.item.slug:
            break
        log_stretch(people[0], before=3, after=3)
    first, second = (build_plan(Profile.objects.get(user=p)).next_item for p in people)
    assert first.item.slug != second.item.slug
    for round_ in range(2):
        for person in people:
            client = Client()
            client.force_login(person)
            page = client.get("/today/").content.decode()
            plan = build_plan(Profile.objects.get(user=person))
            entry = plan.next_item or plan.main
            assert _timer(page) == {
                "slug": entry.item.slug,
                "name": entry.exercise.name,
                "hold": str(entry.item.hold_target),
                "reps": str(entry.item.reps),
                "sides": ",".join(entry.item.sides),
            }, (round_, person.profile.phase)
    assert any(key[0] == "tracking/today.html#log-steps" for key in fragments._kept)


def test_a_refused_log_form_shows_what_the_person_entered_not_the_kept_steps():
    person = make_user()
    client = Client()
    client.force_login(person)
    client.get("/today/")  # the empty steps kept
    client.post("/today/lasting-pain/", {"lasting": "no"})
    refused = client.post(
        "/today/log/",
        {
            "exercise": "single-knee-to-chest",
            "sides": "left_right",
            "reps_per_side": "3",
            "hold_seconds": "25",
            "pain_before": "4",
            "note": "left hip tight",
            "client_token": "8a0e6f55-6c6b-4d3c-9a57-5b8d0c1f2e3a",
        },  # fmt: skip
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "left hip tight" in refused
    assert re.search(r'name="hold_seconds"[^>]*value="25"', refused)
    assert re.search(r'name="pain_before" value="4"[^>]*checked', refused)
