"""Every list, chart, report and export page runs a fixed number of queries.

A user with 10 sessions and one with 2,000 must cost the same number of queries:
a count that grows with the history is an N+1 waiting for a year of data.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import tracking.plan
from stretches.models import Exercise
from tests.conftest import make_user
from tracking.models import Session, Sides, WeeklyCheckin

# Cold cache: login session, user+profile, the safety record (2), the catalogue, and the
# page's own reads. Warm, the gate and the plan come from the cache.
MAX_QUERIES = 9
SMALL, LARGE = 10, 2_000
HISTORY_DAYS = 400  # well within the two years a programme may go back

PAGES = [
    "/today/",
    "/sessions/",
    "/progress/",
    "/progress/?range=all",
    "/progress/report/",
    "/progress/export.csv",
    "/progress/export.json",
]


def user_with_history(sessions: int):
    """A screened user whose ``sessions`` are spread evenly over the last 400 days.

    Both exercises, a few setbacks and stop signals, and a weekly check-in appear in
    every history, so the small and the large user walk the same code paths.
    """
    now = timezone.now()
    user = make_user(start=(now - timedelta(days=HISTORY_DAYS)).date())
    catalogue = {e.slug: e for e in Exercise.objects.all()}
    step = timedelta(days=HISTORY_DAYS) / sessions
    rows = []
    for i in range(sessions):
        # i == 0 is a few minutes ago, so "done today" is never empty.
        performed = now - timedelta(minutes=5) - i * step
        morning = i % 3 == 0
        setback = i % 4 == 3
        stop = i % 5 == 4
        rows.append(
            Session(
                user=user,
                performed_at=performed,
                exercise=catalogue["morning-in-bed" if morning else "single-knee-to-chest"],
                sides=Sides.LEFT_AND_RIGHT,
                reps_per_side=3,
                hold_seconds=20,
                hold_seconds_target=20,
                pain_before=4,
                pain_after=6 if setback else 3,
                stop_signals=["cramp"] if stop else [],
                has_stop_signal=stop,
                client_token=uuid.uuid4(),
            )
        )
    Session.objects.bulk_create(rows)
    WeeklyCheckin.objects.create(user=user, week=2, movement="better", sleep="same")
    return user


def queries_for(client, user, path: str) -> list[str]:
    """Every statement one request runs, on a cold cache."""
    client.force_login(user)
    # The first visit after a login made outside a request may refresh the sliding
    # session (a write that a real login does not leave for the first page): not a cost
    # of the page itself.
    client.get(path)
    # A cached aggregate would hide the queries the page needs when the cache is cold,
    # and so would what this process keeps (the days before today, the plans).
    cache.clear()
    tracking.plan.forget_kept()
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, f"{path} answered {response.status_code}"
    return [q["sql"] for q in captured.captured_queries]


@pytest.fixture
def small_and_large(db):
    return user_with_history(SMALL), user_with_history(LARGE)


@pytest.mark.parametrize("path", PAGES)
def test_query_count_does_not_grow_with_history(client, small_and_large, path):
    small, large = small_and_large
    few = queries_for(client, small, path)
    many = queries_for(client, large, path)
    assert len(few) == len(many), (
        f"{path}: {len(few)} queries for {SMALL} sessions but {len(many)} for {LARGE}:\n"
        + "\n".join(many)
    )
    assert len(many) <= MAX_QUERIES, f"{path}: {len(many)} queries:\n" + "\n".join(many)
