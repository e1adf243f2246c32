"""The trend arithmetic, done the quick way, against its definition (SPEC 2.2).

The 7-day rolling mean slides its window along a run of days, the weekly table sums only
the weeks it shows, the baseline week is the earliest day's week and figures are rounded in
integers: each must give exactly what the plain definition gives, for any record.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from stretches.progression import Phase, programme_week
from tests.properties import examples
from tracking.comparison import baseline_week
from tracking.presentation import one_decimal
from tracking.series import (
    DayStats,
    Totals,
    rolling_before,
    week_bounds,
    weekly_rows,
)

START = date(2026, 3, 2)


@st.composite
def records(draw) -> dict[date, DayStats]:
    offsets = draw(st.sets(st.integers(-10, 120), max_size=60))
    stats = {}
    for offset in offsets:
        day = START + timedelta(days=offset)
        befores = draw(st.lists(st.integers(0, 10), min_size=1, max_size=4))
        afters = draw(st.lists(st.integers(0, 10), min_size=len(befores), max_size=len(befores)))
        stats[day] = DayStats(
            day, len(befores), sum(befores), sum(afters), max(befores), max(befores + afters)
        )
    return stats


def naive_rolling(stats, days, window=7):
    out = {}
    for day in days:
        window_days = [stats.get(day - timedelta(days=k)) for k in range(window)]
        sessions = sum(s.sessions for s in window_days if s)
        before = sum(s.before_total for s in window_days if s)
        out[day] = Fraction(before, sessions) if sessions else None
    return out


@hypothesis_settings(max_examples=examples(300))
@given(stats=records(), first=st.integers(-15, 120), length=st.integers(1, 60), data=st.data())
def test_the_rolling_mean_is_the_mean_of_each_days_window(stats, first, length, data):
    run = [START + timedelta(days=first + k) for k in range(length)]
    assert rolling_before(stats, run) == naive_rolling(stats, run)
    # Any days at all, gaps and repeats included, not only a run.
    days = data.draw(st.lists(st.sampled_from(run), max_size=20))
    assert rolling_before(stats, days) == naive_rolling(stats, days)


@hypothesis_settings(max_examples=examples(300))
@given(stats=records(), shown=st.integers(-5, 120), today=st.integers(0, 125))
def test_weekly_rows_sum_every_day_of_each_week_shown(stats, shown, today):
    today_day = START + timedelta(days=today)
    first_day = min(START + timedelta(days=shown), today_day)
    rows = weekly_rows(
        stats, start=START, today=today_day, first_day=first_day, phase=Phase.STANDARD, checkins={}
    )
    weeks = range(programme_week(START, first_day), programme_week(START, today_day) + 1)
    assert [row.week for row in rows] == list(weeks)
    for row in rows:
        days = [
            s
            for day, s in stats.items()
            if day <= today_day and programme_week(START, day) == row.week
        ]
        assert row.totals == Totals.of(days)
        assert (row.first_day, row.last_day) == week_bounds(START, row.week)


@hypothesis_settings(max_examples=examples(200))
@given(stats=records())
def test_the_baseline_week_is_the_first_week_with_sessions(stats):
    expected = min((programme_week(START, day) for day in stats), default=None)
    assert baseline_week(stats, START) == expected


@hypothesis_settings(max_examples=examples(300))
@example(Fraction(-1, 100))  # a tiny negative rounds to -0.0, as Decimal gives it
@example(Fraction(-1, 20))  # a negative half: away from zero
@example(Fraction(1, 20))
@given(
    st.one_of(
        st.fractions(min_value=-20, max_value=20, max_denominator=400),
        st.integers(-20, 20),
        st.floats(-20, 20),
    )
)
def test_the_integer_rounding_is_the_decimal_rounding(value):
    from decimal import ROUND_HALF_UP, Decimal

    exact = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else Decimal(str(value))
    )
    expected = float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    shown = one_decimal(value)
    assert shown == expected and str(shown) == str(expected)
