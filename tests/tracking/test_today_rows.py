"""/today/'s "Done today" list, built in Python: the same bytes as the template loop gave."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.template import engines
from django.utils import timezone

from tests.conftest import exercise, make_session, make_user
from tracking.models import Session
from tracking.plan import TodaySession, build_plan

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
