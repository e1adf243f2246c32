""" "Done today" lists the day's newest sessions and links to the rest.

The count above the list always counts every session of the day; the list shows the
newest ``DONE_TODAY_SHOWN``, on the page and in a log POST's answer alike, so neither
grows with every session of a long day."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import make_session, make_user, ready_to_log, session_post
from tracking.templatetags.today_sections import DONE_TODAY_SHOWN

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HX = {"HX-Request": "true"}


def done_section(text: str) -> str:
    start = text.index('<section id="done-today"')
    return text[start : text.index("</section>", start)]


def listed(section: str) -> list[str]:
    """The list's rows as "HH:MM pain B → A", top to bottom."""
    return [
        f"{at} pain {before} → {after}"
        for at, before, after in re.findall(
            r"<li>(\d\d:\d\d) · [^<]* · <span aria-hidden=\"true\">pain (\d+) → (\d+)</span>",
            section,
        )
    ]


def count(section: str) -> int:
    return int(re.search(r"<span data-done-count>(\d+)</span>", section)[1])


def day_of(user, sessions: int) -> list[str]:
    """``sessions`` sessions this morning, a minute apart (the newest at 11:00 - 1 min):
    their rows as ``listed`` shows them, newest first."""
    rows = []
    for k in range(sessions):
        at = NOON - timedelta(hours=1, minutes=k + 1)
        make_session(user, performed_at=at, pain_before=k % 11, pain_after=(k + 3) % 11)
        rows.append(f"{at:%H:%M} pain {k % 11} → {(k + 3) % 11}")
    return rows


def test_a_long_day_lists_the_newest_sessions_and_links_to_all_of_them(client):
    with time_machine.travel(NOON, tick=False):
        user = make_user()
        rows = day_of(user, DONE_TODAY_SHOWN + 2)
        client.force_login(user)
        section = done_section(client.get("/today/").content.decode())
    assert count(section) == DONE_TODAY_SHOWN + 2
    assert listed(section) == rows[:DONE_TODAY_SHOWN]
    assert f"The latest {DONE_TODAY_SHOWN} of {DONE_TODAY_SHOWN + 2}." in section
    assert '<a href="/sessions/">All your sessions</a>' in section


def test_a_day_that_fits_lists_every_session_and_no_link(client):
    with time_machine.travel(NOON, tick=False):
        user = make_user()
        rows = day_of(user, DONE_TODAY_SHOWN)
        client.force_login(user)
        section = done_section(client.get("/today/").content.decode())
    assert count(section) == DONE_TODAY_SHOWN
    assert listed(section) == rows
    assert "data-done-more" not in section


def test_a_log_posts_answer_lists_the_new_session_first_and_counts_every_one():
    with time_machine.travel(NOON, tick=False):
        user = make_user()
        rows = day_of(user, DONE_TODAY_SHOWN + 1)
        browser = ready_to_log(user)
        answer = browser.post(
            "/today/log/", session_post(pain_before="6", pain_after="2"), headers=HX
        )
    assert answer.headers.get("HX-Trigger") == "session-logged"
    section = done_section(answer.content.decode())
    assert count(section) == DONE_TODAY_SHOWN + 2
    assert listed(section) == ["12:00 pain 6 → 2", *rows[: DONE_TODAY_SHOWN - 1]]
    assert f"The latest {DONE_TODAY_SHOWN} of {DONE_TODAY_SHOWN + 2}." in section
