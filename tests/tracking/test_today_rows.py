"""/today/'s "Done today" list and plan cards in Python: the template loops' very bytes."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.template import engines
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from stretches.progression import DayFacts, Phase, prescription_for
from tests.conftest import exercise, make_session, make_user
from tests.properties import examples
from tracking.models import Session
from tracking.plan import ItemToday, TodaySession, build_plan

# The loop /today/ had before tracking/templatetags/today_rows.py, whitespace and all.
TEMPLATE_LOOP = """<ul>
      {% for s in plan.todays_sessions %}
        <li>{{ s.performed_at|time:"H:i" }} · {{ s.exercise.name }} · <span aria-hidden="true">pain {{ s.pain_before }} → {{ s.pain_after }}</span><span class="visually-hidden">pain before {{ s.pain_before }}, after {{ s.pain_after }}</span></li>
      {% endfor %}
    </ul>"""  # noqa: E501
IN_PYTHON = """{% load today_rows %}<ul>
      {{ plan.todays_sessions|done_rows }}
    </ul>"""

NAMES = [
    "Single knee to chest",
    '<script>alert("x")</script>',
    "Tom & Jerry's <stretch>",
    "Ünïcödé → stretch ‘quoted’",
    "a & b &amp; c",
]


def render(source: str, sessions) -> str:
    return engines["django"].from_string(source).render({"plan": {"todays_sessions": sessions}})


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "Pacific/Auckland", "America/St_Johns"])
def test_done_rows_are_the_template_loops_bytes(zone):
    start = datetime(2025, 3, 30, 0, 30, tzinfo=zoneinfo.ZoneInfo("UTC"))  # a DST change
    sessions = [
        SimpleNamespace(
            performed_at=start + timedelta(minutes=97 * n),
            exercise=SimpleNamespace(name=NAMES[n % len(NAMES)]),
            pain_before=n % 11,
            pain_after=(10 - n) % 11,
        )
        for n in range(23)
    ]
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for some in (sessions[:1], sessions[:2], sessions):
            assert render(IN_PYTHON, some) == render(TEMPLATE_LOOP, some)
        assert render(IN_PYTHON, []) == render(TEMPLATE_LOOP, [])


@pytest.mark.django_db
def test_the_pages_list_is_the_template_loops_for_the_plans_sessions(client):
    stretch = exercise()
    stretch.name = "Knee <to> chest & \"friends\" 'n' more"
    stretch.save()
    noon = datetime(2025, 6, 10, 10, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    with time_machine.travel(noon, tick=False):
        user = make_user(time_zone="Europe/Paris", start=noon.date() - timedelta(days=3))
        for minutes, (before, after) in enumerate([(0, 0), (3, 2), (10, 9), (4, 4)]):
            make_session(user, performed_at=noon - timedelta(minutes=37 * minutes),
                         pain_before=before, pain_after=after)  # fmt: skip
        client.force_login(user)
        for page in (
            client.get("/today/"),
            client.get("/today/?part=done", headers={"HX-Request": "true"}),
        ):
            text = page.content.decode()
            shown = re.search(r"<ul>\n      \n        <li>.*?</ul>", text, re.S)[0]
            plan = build_plan(type(user).objects.get(pk=user.pk).profile)
            assert len(plan.todays_sessions) == 4
            with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
                assert shown == render(TEMPLATE_LOOP, plan.todays_sessions)
            assert "Knee &lt;to&gt; chest &amp; &quot;friends&quot; &#x27;n&#x27; more" in shown


@pytest.mark.django_db
def test_todays_sessions_are_light_rows_and_the_lasting_pain_question_uses_a_full_session(client):
    """The plan keeps today's sessions as TodaySession rows; the lasting-pain question
    (which adds a stop signal to the session it asks about) is only ever asked about the
    last session before today, a full Session."""
    noon = datetime(2025, 6, 10, 12, 0, tzinfo=zoneinfo.ZoneInfo("UTC"))
    with time_machine.travel(noon - timedelta(days=1), tick=False):
        user = make_user(start=noon.date() - timedelta(days=3))
        yesterday = make_session(user)
    with time_machine.travel(noon, tick=False):
        profile = type(user).objects.get(pk=user.pk).profile
        plan = build_plan(profile)
        assert plan.asks_lasting_pain and plan.todays_sessions == []
        assert isinstance(plan.last_session, Session) and plan.last_session.pk == yesterday.pk
        first = make_session(user, pain_before=2, pain_after=1)
        second = make_session(user, performed_at=noon + timedelta(seconds=1))
        plan = build_plan(type(user).objects.get(pk=user.pk).profile)
        assert plan.todays_sessions == [
            TodaySession(second.pk, second.performed_at, exercise(), 5, 4),
            TodaySession(first.pk, first.performed_at, exercise(), 2, 1),
        ]
        assert plan.last_session == plan.todays_sessions[0] and not plan.asks_lasting_pain
        # A "yes" sent after today's first session (an old tab) asks nothing and stamps
        # nothing: the question is not due.
        client.force_login(user)
        assert client.post("/today/lasting-pain/", {"lasting": "yes"}).url == "/today/"
        assert not Session.objects.filter(user=user, has_stop_signal=True).exists()


# --- The plan's cards ---------------------------------------------------------------------

CARDS_LOOP = """{% load plurals %}<div class="grid" id="plan-items"{% if oob %} hx-swap-oob="true"{% endif %}>
{% for entry in plan.items %}
  <article class="card plan-item" aria-labelledby="item-{{ entry.item.slug }}">
    <h3 id="item-{{ entry.item.slug }}"><a href="{% url 'stretch-detail' entry.exercise.slug %}">{{ entry.exercise.name }}</a>{% if entry.complete %} <span class="badge badge-ok">done</span>{% endif %}</h3>
    <ul class="plan-numbers">
      <li>Hold <strong>{{ entry.item.hold_target }} s</strong>{% if entry.item.hold_min != entry.item.hold_max %} <span class="muted">(range {{ entry.item.hold_min }}-{{ entry.item.hold_max }} s)</span>{% endif %}</li>
      <li><strong>{{ entry.item.reps }}</strong> {{ entry.item.reps|noun:"rep" }} {{ entry.sides_text }}</li>
      <li>{{ entry.frequency_text }}</li>
    </ul>
    <p class="muted small" data-item-done>{{ entry.done_text }}</p>
    <p><button type="button" class="button button-secondary" hidden data-timer-start
        data-slug="{{ entry.item.slug }}" data-name="{{ entry.exercise.name }}"
        data-hold="{{ entry.item.hold_target }}" data-reps="{{ entry.item.reps }}"
        data-sides="{{ entry.item.sides|join:',' }}">Start guided timer</button></p>
  </article>
{% endfor %}
</div>"""  # noqa: E501
CARDS_IN_PYTHON = """{% load today_rows %}<div class="grid" id="plan-items"{% if oob %} hx-swap-oob="true"{% endif %}>
{{ plan.items|plan_cards }}
</div>"""  # noqa: E501


def cards(source: str, items, oob: bool) -> str:
    context = {"plan": {"items": items}, "oob": oob}
    return engines["django"].from_string(source).render(context)


@settings(max_examples=examples(150), deadline=None)
@given(
    today=st.integers(0, 120),
    lying=st.sets(st.integers(0, 120), max_size=80),
    phase=st.sampled_from(list(Phase)),
    desk_work=st.booleans(),
    sciatica_side=st.sampled_from(["", "left", "right"]),
    worsening=st.booleans(),
    done=st.lists(st.tuples(st.integers(0, 9), st.integers(0, 30), st.integers(0, 9)), min_size=5),
    names=st.lists(st.text(max_size=12), min_size=5, max_size=5),
    oob=st.booleans(),
)
def test_the_plan_cards_are_the_template_loops_bytes(
    today, lying, phase, desk_work, sciatica_side, worsening, done, names, oob
):
    start = datetime(2025, 1, 6).date()
    days = [DayFacts(start + timedelta(days=n), 2, 2, 6, 3) for n in sorted(lying)]
    prescription = prescription_for(
        start=start,
        today=start + timedelta(days=today),
        phase=phase,
        days=days,
        setbacks=[],
        desk_work=desk_work,
        sciatica_side=sciatica_side,
        worsening=worsening,
    )
    items = [
        ItemToday(
            item=item,
            exercise=SimpleNamespace(slug=item.slug, name=f"{item.slug} {names[n]} <&'\">"),
            done_today=done[n][0],
            done_this_week=done[n][1],
            all_today=done[n][2],
        )
        for n, item in enumerate(prescription.items)
    ]
    assert cards(CARDS_IN_PYTHON, items, oob) == cards(CARDS_LOOP, items, oob)


def test_kept_items_show_each_instants_own_time_across_a_dst_fold():
    """The items are kept by what they show: two instants an hour apart that read the
    same on a New York clock (the November fold) are different times in UTC."""
    new_york = zoneinfo.ZoneInfo("America/New_York")
    first = datetime(2025, 11, 2, 1, 30, tzinfo=new_york)
    second = first.replace(fold=1)  # an hour later
    rows = [
        SimpleNamespace(performed_at=at, exercise=SimpleNamespace(name="Stretch"),
                        pain_before=2, pain_after=1)
        for at in (first, second)
    ]  # fmt: skip
    with timezone.override(zoneinfo.ZoneInfo("UTC")):
        assert "05:30 ·" in render(IN_PYTHON, rows[:1])
        assert "06:30 ·" in render(IN_PYTHON, rows[1:])
