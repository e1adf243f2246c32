"""Today's sessions read with the SQL written out (tracking.day_queries) are what the ORM
reads: the same rows, order and times, at the edges of a local day in any time zone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.factories import exercise, make_user
from tests.properties import examples
from tracking.day_queries import day_scores, day_sessions
from tracking.models import Session

pytestmark = pytest.mark.django_db

ZONES = ["Pacific/Kiritimati", "America/Adak", "Pacific/Pago_Pago", "Asia/Kathmandu",
         "Australia/Lord_Howe", "Europe/London", "UTC"]  # fmt: skip
# A day on which most of these zones change their clocks, and an ordinary one.
DAYS = [datetime(2026, 3, 29).date(), datetime(2026, 10, 4).date(), datetime(2026, 6, 10).date()]


def orm_sessions(user, start, end):
    return list(
        Session.objects.filter(user=user, performed_at__gte=start, performed_at__lt=end)
        .order_by("-performed_at", "-id")
        .values_list("id", "performed_at", "exercise_id", "pain_before", "pain_after")
    )


def orm_scores(user, start, end):
    return list(
        Session.objects.filter(user=user, performed_at__gte=start, performed_at__lt=end)
        .order_by("performed_at", "id")
        .values_list("exercise__slug", "pain_before", "pain_after")
    )


@hypothesis_settings(
    max_examples=examples(60), suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    zone=st.sampled_from(ZONES),
    day=st.sampled_from(DAYS),
    offsets=st.lists(st.integers(-90_000, 90_000), max_size=8),
    micro=st.sampled_from([0, 1, 999_999]),
)
def test_the_written_out_queries_read_what_the_orm_reads(zone, day, offsets, micro):
    tz = ZoneInfo(zone)
    user = make_user(time_zone=zone, screened=False)
    midnight = datetime.combine(day, time.min, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    # Sessions around the day's start and end, one exactly on each edge, to the microsecond.
    moments = [midnight, end, midnight - timedelta(microseconds=1)]
    moments += [midnight + timedelta(seconds=s, microseconds=micro) for s in offsets]
    for k, moment in enumerate(moments):
        Session.objects.create(
            user=user,
            performed_at=moment,
            exercise=exercise("morning-in-bed" if k % 2 else "single-knee-to-chest"),
            sides="left_right",
            reps_per_side=3,
            hold_seconds=15,
            pain_before=k % 11,
            pain_after=(k * 3) % 11,
        )
    assert day_sessions(user.pk, midnight, end) == orm_sessions(user, midnight, end)
    assert day_scores(user.pk, midnight, end) == orm_scores(user, midnight, end)
    assert all(at.utcoffset() is not None for _, at, *_ in day_sessions(user.pk, midnight, end))
