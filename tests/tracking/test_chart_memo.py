"""The chart points and table rows kept between views (``tracking.charts.PieceMemo``).

After a session is logged, /progress/ and the report draw only today's pieces anew and
take the days before today from the last view. What they show must be exactly what a
view without the memo shows, whatever the rows, and nothing of today may be kept.
"""

from __future__ import annotations

import pickle
import re
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.factories import make_session, make_user, session_post, spy_cache_reads
from tests.properties import examples
from tracking import charts
from tracking.series import DayRow
from tracking.templatetags.chart_markup import day_rows, figure

TODAY = date(2026, 5, 20)

scores = st.one_of(
    st.none(), st.integers(0, 10).map(float), st.floats(0, 10).map(lambda v: round(v, 1))
)


@st.composite
def day_rows_strategy(draw) -> list[DayRow]:
    n = draw(st.integers(1, 60))
    rows = []
    for k in range(n):
        day = TODAY - timedelta(days=n - 1 - k)
        before = draw(scores)
        sessions = 0 if before is None else draw(st.integers(1, 4))
        rows.append(
            DayRow(
                day=day,
                sessions=sessions,
                before=before,
                after=None if before is None else draw(scores),
                rolling=draw(scores),
                morning=draw(st.one_of(st.none(), st.integers(0, 10))),
            )
        )
    return rows


def _drawn(rows: list[DayRow], memo: charts.PieceMemo | None) -> str:
    pain = charts.pain_chart(rows, memo=memo)
    morning = charts.morning_chart(rows, memo=memo)
    return figure(pain) + figure(morning) + day_rows(rows, "7-day", memo)


@hypothesis_settings(max_examples=examples(300))
@given(rows=day_rows_strategy(), changed=st.data())
def test_drawing_from_the_memo_is_drawing_without_it(rows, changed):
    plain = _drawn(rows, None)
    cold = charts.PieceMemo(TODAY)
    assert _drawn(rows, cold) == plain
    # As the next request finds it: through the shared cache's pickling.
    warm = charts.PieceMemo(TODAY, pickle.loads(pickle.dumps(cold.pieces)))
    assert _drawn(rows, warm) == plain
    assert not warm.added  # every day before today came from the memo

    # Today's row changes (a session logged): the page is the page drawn without a memo.
    today = rows[-1]
    new_today = DayRow(
        today.day,
        today.sessions + 1,
        changed.draw(scores),
        changed.draw(scores),
        changed.draw(scores),
        changed.draw(st.one_of(st.none(), st.integers(0, 10))),
    )
    later = [*rows[:-1], new_today]
    assert _drawn(later, warm) == _drawn(later, None)


@hypothesis_settings(max_examples=examples(200))
@given(rows=day_rows_strategy())
def test_nothing_of_today_is_kept(rows):
    memo = charts.PieceMemo(TODAY)
    _drawn(rows, memo)
    kept_days = {key[-1][0] for key in memo.pieces}  # each key ends with the row's key
    assert all(date.fromordinal(day) < TODAY for day in kept_days)


def test_a_past_day_drawn_with_other_values_is_not_taken_from_the_memo():
    """The key holds every value a piece shows: an edited day is drawn anew, not reused."""
    rows = [
        DayRow(TODAY - timedelta(days=2), 1, 6.0, 5.0, 6.0, 6),
        DayRow(TODAY - timedelta(days=1), 1, 5.0, 4.0, 5.5, 5),
        DayRow(TODAY, 1, 4.0, 3.0, 5.0, 4),
    ]
    memo = charts.PieceMemo(TODAY)
    _drawn(rows, memo)
    edited = [rows[0], DayRow(TODAY - timedelta(days=1), 2, 8.0, 9.0, 7.0, 8), rows[2]]
    drawn = _drawn(edited, memo)
    assert drawn == _drawn(edited, None)
    assert "pain before 8.0, after 9.0" in drawn


# --- Through the views ---------------------------------------------------------------

pytestmark = pytest.mark.django_db

PER_RESPONSE = re.compile(
    r'(nonce|value|content)="[^"]*"|X-CSRFToken": "[^"]*"|<time datetime="[^"]*"[^>]*>[^<]*</time>'
)


def _page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return PER_RESPONSE.sub("", response.content.decode())


@pytest.fixture
def ben(client):
    user = make_user("ben", start=timezone.localdate() - timedelta(days=30))
    for days_ago in range(1, 30):
        make_session(
            user,
            performed_at=timezone.now() - timedelta(days=days_ago),
            pain_before=3 + days_ago % 5,
            pain_after=2 + days_ago % 4,
        )
    client.force_login(user)
    client.post("/today/lasting-pain/", {"lasting": "no"})  # asked before the day's first
    return user


@pytest.mark.parametrize(
    "path", ["/progress/", "/progress/?range=4w", "/progress/?range=all", "/progress/report/"]
)
def test_the_first_view_after_a_session_is_the_page_drawn_from_scratch(client, ben, path):
    _page(client, path)  # draws the days before today and keeps them
    # Through the htmx form, as the timer sends it (no "saved" message for the next page).
    logged = client.post(
        "/today/log/", session_post(pain_before=2, pain_after=1), headers={"HX-Request": "true"}
    )
    assert logged.headers["HX-Trigger"] == "session-logged"
    from_memo = _page(client, path)
    assert "Sessions" in from_memo
    cache.clear()  # no memo, no history caches, no stored page
    assert _page(client, path) == from_memo


@pytest.mark.parametrize("path", ["/progress/", "/progress/report/"])
def test_the_first_view_after_a_session_reads_its_history_entries_in_one_round_trip(
    client, ben, path, monkeypatch
):
    """Everything kept under the history version that the page reads (the days before
    today, check-ins, PEG-3, the drawn pieces, the report's safety lists) comes from one
    get_many (lib.cache.prefetch), not from one round trip each."""
    _page(client, path)
    client.post("/today/log/", session_post(), headers={"HX-Request": "true"})
    history = f":{ben.pk}:h{ben.profile.__class__.objects.get(user=ben).history_version}:"
    reads = spy_cache_reads(monkeypatch)
    assert client.get(path).status_code == 200
    asked_alone = [key for kind, key in reads if kind == "get" and history in key]
    assert asked_alone == []
