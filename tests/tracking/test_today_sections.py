"""/today/'s parts built in Python (tracking/templatetags/today_sections.py) print the very
bytes their templates printed: the templates are kept here, verbatim, and both are
rendered from the same context, for the page, the log POST's answer, a refused form, an
edit form, the flare's cap, the pain guidance and names full of markup."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.template import engines
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from stretches.models import Exercise
from tests.factories import earlier_today, make_session, make_user, session_post
from tests.properties import examples
from tracking.forms import EditSessionForm
from tracking.plan import build_plan, catalogue_rules
from tracking.today import _context, _form, pain_response, saved_text

pytestmark = pytest.mark.django_db

HEAD = "{% load paths fragments plurals today_rows %}"
# The partials as they were templates (the hidden inputs of _session_fields.html inlined
# where the log form included them).
FLOW_COUNTS = (
    HEAD
    + '<span id="flow-counts" data-flow-counts{% if oob_counts %} hx-swap-oob="true"{% endif %}>{{ status.counts }}</span>'
)
FLOW_STATUS = (
    HEAD
    + '\n<p id="flow-status" class="flow-status" role="status" aria-live="polite" tabindex="-1" data-flow-status{% if oob %} hx-swap-oob="innerHTML"{% endif %}>{% if saved %}<span data-saved>{{ status.saved }}</span> {% endif %}<span id="flow-counts" data-flow-counts{% if oob_counts %} hx-swap-oob="true"{% endif %}>{{ status.counts }}</span></p>\n'
)
LOG_FORM = (
    HEAD
    + '\n<section id="log-form" class="card" aria-labelledby="log-h">\n  <h2 id="log-h">Today\'s session</h2>\n  {% if saved and guidance %}\n    {% include "tracking/_pain_guidance.html" with s=guidance %}\n  {% endif %}\n  {% if plan.daily_cap_reached %}<p class="message">That is today\'s {{ plan.prescription.daily_cap }} sessions for the flare. Rest now; the plan starts again tomorrow.</p>{% endif %}\n  <p class="muted small" data-flow-intro>Three steps: your pain now, the guided timer, then your pain after it. The timer fills in what you did.</p>\n  <p class="message message-warning" data-flow-waiting hidden>First answer the question above: whether the pain from your last session lasted more than {{ lasting_hours }} hours.</p>\n  {% include "_form_errors.html" %}\n  <form method="post" action="{% path \'log-session\' %}" hx-post="{% path \'log-session\' %}" hx-target="#log-form" hx-swap="outerHTML" hx-disabled-elt="find button[type=submit]" data-log-form{% if form.errors %} data-flow-open{% endif %} autocomplete="off" novalidate>\n    {% csrf_token %}\n    {# "in form.fields": a missing field looked up as form.version costs a dir(form) #}\n{% if "client_token" in form.fields %}<input type="hidden" name="{{ form.client_token.html_name }}" value="{{ form.client_token.value }}">{% endif %}\n{% if "version" in form.fields %}<input type="hidden" name="{{ form.version.html_name }}" value="{{ form.version.value }}">{% endif %}\n\n    {# The three steps are the same HTML for everyone with the same next stretch and an #}\n    {# empty form: kept once per process (tracking.today.steps_key: None for a form #}\n    {# holding the user\'s input, which is rendered every time). #}\n    {% fragment "tracking/today.html#log-steps" steps_key %}\n  </form>\n</section>\n'
)
DONE_TODAY = (
    HEAD
    + '\n<section id="done-today" class="card" aria-labelledby="done-h" data-counts-url="{% path \'today\' %}?part=done"{% if oob %} hx-swap-oob="true"{% endif %}>\n  <h2 id="done-h">Done today: <span data-done-count>{{ plan.todays_sessions|length }}</span> session{{ plan.todays_sessions|length|pluralize }}</h2>\n  {% if plan.next_item %}\n    <p data-next-hint>Next: <strong>{{ plan.next_item.exercise.name }}</strong>, {{ plan.next_item.item.hold_target }} s holds, {{ plan.next_item.item.reps|counted:"rep" }} {{ plan.next_item.sides_text }} ({{ plan.next_item.done_text }}).</p>\n  {% else %}\n    <p data-next-hint>Everything planned for today is done. Well done: rest is part of the programme too.</p>\n  {% endif %}\n  {% if plan.todays_sessions %}{# each <li> built in Python: tracking/templatetags/today_rows.py #}\n    <ul>\n      {{ plan.todays_sessions|done_rows }}\n    </ul>\n  {% endif %}\n</section>\n'
)
PLAN_ITEMS = (
    HEAD
    + '\n<div class="grid" id="plan-items"{% if oob %} hx-swap-oob="true"{% endif %}>{# each card built in Python: tracking/templatetags/today_rows.py #}\n{{ plan.items|plan_cards }}\n</div>\n'
)
HIDDEN = (
    HEAD
    + '{# "in form.fields": a missing field looked up as form.version costs a dir(form) #}\n{% if "client_token" in form.fields %}<input type="hidden" name="{{ form.client_token.html_name }}" value="{{ form.client_token.value }}">{% endif %}\n{% if "version" in form.fields %}<input type="hidden" name="{{ form.version.html_name }}" value="{{ form.version.value }}">{% endif %}\n'
)
TAGS = {
    FLOW_COUNTS: "flow_counts",
    FLOW_STATUS: "flow_status",
    LOG_FORM: "log_form",
    DONE_TODAY: "done_today",
    PLAN_ITEMS: "plan_items",
    HIDDEN: "hidden_fields",
}
MARKUP = ["Knee <to> chest & \"friends\" 'n' more", "a &amp; b", "<script>alert(1)</script>"]


def rendered(source: str, context: dict, request) -> str:
    return engines["django"].from_string(source).render(context, request)


def same_bytes(context: dict, request) -> None:
    # A fixed CSRF token: each render would otherwise mask its own.
    context = {**context, "csrf_token": "fixed-csrf-token"}
    for template, tag in TAGS.items():
        new = rendered("{% load today_sections %}{% " + tag + " %}", context, request)
        assert new == rendered(template, context, request), tag


def request_for(user):
    request = RequestFactory().post("/today/log/")
    request.user = user
    request.session = {}
    return request


def page_context(user, *, data=None, **extra) -> tuple[dict, object]:
    user = type(user).objects.get(pk=user.pk)
    request = request_for(user)
    plan = build_plan(user.profile)
    form = _form(request, plan, data=data)
    if data is not None:
        form.is_valid()
    return {**_context(request, plan, form), **extra}, request


def test_a_first_visit_prints_the_same_bytes():
    user = make_user()
    context, request = page_context(user)
    same_bytes(context, request)
    same_bytes({**context, "oob": True, "oob_counts": True}, request)


@settings(max_examples=examples(25), deadline=None)
@given(
    # No NUL: PostgreSQL refuses it in text, and the admin's form never lets one through.
    names=st.lists(
        st.sampled_from(MARKUP) | st.text(st.characters(exclude_characters="\x00"), max_size=8),
        min_size=1,
        max_size=3,
    ),
    pains=st.lists(st.tuples(st.integers(0, 10), st.integers(0, 10)), min_size=0, max_size=6),
    phase=st.sampled_from(["standard", "acute", "maintenance"]),
    oob=st.booleans(),
    guided=st.booleans(),
)
def test_after_a_save_every_part_prints_the_same_bytes(names, pains, phase, oob, guided):
    user = make_user(phase=phase, start=None)
    user.profile.programme_start = user.profile.local_today() - timedelta(days=30)
    user.profile.save()
    # The stretches' names (the cards, "Next" and the list print them), in catalogue order.
    for exercise, name in zip(Exercise.objects.order_by("pk"), names, strict=False):
        Exercise.objects.filter(pk=exercise.pk).update(name=name or "x")
    saved = None
    for minutes, (before, after) in enumerate(pains):
        saved = make_session(
            user,
            performed_at=earlier_today(user, timedelta(minutes=3 * minutes + 1)),
            pain_before=before,
            pain_after=after,
        )
    context, request = page_context(user, oob=oob, oob_counts=oob)
    if saved is not None:
        response = pain_response(saved)
        context |= {
            "saved": saved,
            "guidance": saved if guided else None,
            "response": response,
            "severe_pain": 7,
            "status": {
                **context["status"],
                "saved": saved_text(saved, created=True, guided=guided),
            },
        }
    same_bytes(context, request)


def test_a_refused_form_prints_the_same_bytes():
    user = make_user()
    data = session_post(pain_before="11", hold_seconds="<b>", note="<i>x</i>", client_token="")
    context, request = page_context(user, data=data)
    assert context["form"].errors
    same_bytes(context, request)


@pytest.mark.parametrize("bound", [False, True])
def test_an_edit_forms_hidden_inputs_print_the_same_bytes(bound):
    user = make_user()
    session = make_session(user)
    catalogue = catalogue_rules()
    form = EditSessionForm(
        session_post(version="<3>") if bound else None,
        session=session,
        catalogue=catalogue,
        initial=EditSessionForm.initial_for(session),
    )
    request = request_for(type(user).objects.get(pk=user.pk))
    new = rendered("{% load today_sections %}{% hidden_fields %}", {"form": form}, request)
    assert new == rendered(HIDDEN, {"form": form}, request)
    assert 'name="version"' in new and 'name="client_token"' not in new
    if bound:
        assert 'value="&lt;3&gt;"' in new
    else:
        assert re.search(r'name="version" value="1"', new)


def test_each_answers_csrf_token_takes_the_next_post():
    """The log form in an htmx answer carries its own CSRF token (the parts are called
    outside a template): posting it, with CSRF checks on, is taken, three times over."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user())
    token_in = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    token = token_in.search(client.get("/today/").content.decode())[1]
    for n in range(3):
        answer = client.post(
            "/today/log/", session_post(csrfmiddlewaretoken=token), headers={"HX-Request": "true"}
        )
        assert answer.status_code == 200, n
        assert answer.headers["HX-Trigger"] == "session-logged"
        token = token_in.search(answer.content.decode())[1]
