"""Pain series (SPEC 2.2) as pure functions: per-day numbers in, days, weeks and ranges out.

The database hands over one ``DayStats`` per day with at least one session (sums, maxima
and counts computed by SQL in the user's time zone) and one morning score per day;
everything else is arithmetic here. Means are exact ``Fraction``s so that thresholds are
compared exactly; rounding for display happens only in ``tracking.presentation``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple

from stretches.progression import (
    Phase,
    calendar_stage,
    programme_week,
    sessions_per_day,
    sessions_per_week,
)
from tracking.presentation import DASH, fmt, one_decimal, prescribed_text

DAYS_PER_WEEK = 7
RECENT_DAYS = 7
ROLLING_DAYS = 7


class Range(StrEnum):
    FOUR_WEEKS = "4w"
    SIX_WEEKS = "6w"
    ALL = "all"

    @property
    def days(self) -> int | None:
        return {Range.FOUR_WEEKS: 28, Range.SIX_WEEKS: 42, Range.ALL: None}[self]

    @property
    def label(self) -> str:
        return {Range.FOUR_WEEKS: "4 weeks", Range.SIX_WEEKS: "6 weeks", Range.ALL: "All"}[self]


DEFAULT_RANGE = Range.SIX_WEEKS


def parse_range(value: str | None) -> Range:
    """The range asked for in the URL; anything unknown quietly means the default."""
    try:
        return Range(value)
    except ValueError:
        return DEFAULT_RANGE


class DayStats(NamedTuple):
    """One local day's sessions, summed by the database.

    A named tuple, not a dataclass: a year of them is kept in the history cache and read
    back on every first view after a new session, and a tuple unpickles several times
    faster.
    """

    day: date
    sessions: int
    before_total: int
    after_total: int
    before_max: int
    worst: int  # the highest score of the day, before or after
    # Sessions of the prescribed main exercise (knee to chest); None: all of them.
    main_sessions: int | None = None

    @property
    def main(self) -> int:
        return self.sessions if self.main_sessions is None else self.main_sessions

    @property
    def before_mean(self) -> Fraction:
        return Fraction(self.before_total, self.sessions)

    @property
    def after_mean(self) -> Fraction:
        return Fraction(self.after_total, self.sessions)


@dataclass(frozen=True)
class Totals:
    """Sums over several days; means are exact and ``None`` when there were no sessions."""

    sessions: int = 0
    before_total: int = 0
    after_total: int = 0
    before_max: int | None = None
    worst: int | None = None
    days: int = 0
    main_sessions: int = 0  # the prescribed main exercise only: what adherence counts

    @classmethod
    def of(cls, stats: Iterable[DayStats]) -> Totals:
        stats = list(stats)
        return cls(
            sessions=sum(s.sessions for s in stats),
            main_sessions=sum(s.main for s in stats),
            before_total=sum(s.before_total for s in stats),
            after_total=sum(s.after_total for s in stats),
            before_max=max((s.before_max for s in stats), default=None),
            worst=max((s.worst for s in stats), default=None),
            days=len(stats),
        )

    @property
    def before_mean(self) -> Fraction | None:
        return Fraction(self.before_total, self.sessions) if self.sessions else None

    @property
    def after_mean(self) -> Fraction | None:
        return Fraction(self.after_total, self.sessions) if self.sessions else None

    @property
    def relief(self) -> Fraction | None:
        """Mean in-session drop: pain before minus pain after."""
        if not self.sessions:
            return None
        return Fraction(self.before_total - self.after_total, self.sessions)


# --- Days and series -------------------------------------------------------------------


def date_span(first: date, last: date) -> list[date]:
    return [first + timedelta(days=k) for k in range((last - first).days + 1)]


def range_first_day(range_: Range, today: date, earliest: date | None) -> date:
    """First day shown: 4 or 6 weeks back including today, or the earliest record."""
    if range_.days is None:
        return min(earliest, today) if earliest else today
    return today - timedelta(days=range_.days - 1)


def rolling_before(
    stats: Mapping[date, DayStats], days: Sequence[date], window: int = ROLLING_DAYS
) -> dict[date, Fraction | None]:
    """For each day, the mean pain before of every session in the ``window`` days ending then.

    Weighted by sessions, so the value on the last day is exactly the "last 7 days"
    mean that the verdict uses. ``None`` when the window holds no session.
    """
    out = {}
    one_day = timedelta(days=1)
    previous = None
    sessions = before = 0
    for day in days:
        if previous is not None and day - previous == one_day:
            # The next day of a run: the window gains this day and loses its oldest.
            for sign, s in ((1, stats.get(day)), (-1, stats.get(day - window * one_day))):
                if s is not None:
                    sessions += sign * s.sessions
                    before += sign * s.before_total
        else:
            sessions = before = 0
            for k in range(window):
                s = stats.get(day - k * one_day)
                if s is not None:
                    sessions += s.sessions
                    before += s.before_total
        out[day] = Fraction(before, sessions) if sessions else None
        previous = day
    return out


@dataclass(frozen=True)
class DayRow:
    day: date
    sessions: int
    before: float | None
    after: float | None
    rolling: float | None
    morning: int | None

    # Preformatted for the data table, which can run to hundreds of rows.
    @property
    def cells(self) -> tuple[str, str, str, str]:
        return (
            fmt(self.before),
            fmt(self.after),
            fmt(self.rolling),
            DASH if self.morning is None else str(self.morning),
        )


def day_rows(
    stats: Mapping[date, DayStats], morning: Mapping[date, int], days: Sequence[date]
) -> list[DayRow]:
    """One row per calendar day in ``days``; a day without sessions has ``None``, not 0."""
    rolling = rolling_before(stats, days)
    rows = []
    for day in days:
        s = stats.get(day)
        rows.append(
            DayRow(
                day=day,
                sessions=s.sessions if s else 0,
                before=one_decimal(s.before_mean) if s else None,
                after=one_decimal(s.after_mean) if s else None,
                rolling=one_decimal(rolling[day]),
                morning=morning.get(day),
            )
        )
    return rows


# --- Weeks and the prescription --------------------------------------------------------


def prescribed_per_week(phase: Phase, week: int) -> tuple[int, int]:
    """Main-exercise sessions a week the phase asks for in programme week ``week``."""
    return sessions_per_week(phase, calendar_stage((week - 1) * DAYS_PER_WEEK))


def prescribed_per_day(phase: Phase, week: int) -> int | None:
    return sessions_per_day(phase, calendar_stage((week - 1) * DAYS_PER_WEEK))


@dataclass(frozen=True)
class WeekRow:
    week: int
    first_day: date
    last_day: date
    totals: Totals
    prescribed: tuple[int, int]
    days_elapsed: int  # 7 for a finished week, fewer for the current one
    movement: str = ""
    sleep: str = ""

    @property
    def in_progress(self) -> bool:
        return self.days_elapsed < DAYS_PER_WEEK

    @property
    def before(self) -> float | None:
        return one_decimal(self.totals.before_mean)

    @property
    def after(self) -> float | None:
        return one_decimal(self.totals.after_mean)

    @property
    def before_text(self) -> str:
        return fmt(self.totals.before_mean)

    @property
    def after_text(self) -> str:
        return fmt(self.totals.after_mean)

    @property
    def checkin_asked(self) -> bool:
        """The weekly check-in compares a week with the one before, so the first has none."""
        return self.week > 1

    @property
    def worst(self) -> int | None:
        return self.totals.worst

    @property
    def done(self) -> int:
        """Main-exercise sessions: the prescription counts those, not the extras."""
        return self.totals.main_sessions

    @property
    def prescribed_label(self) -> str:
        return prescribed_text(self.prescribed)

    @property
    def expected_so_far(self) -> Fraction:
        """The fewest sessions the plan asks for over the days of this week gone so far."""
        return Fraction(self.prescribed[0] * self.days_elapsed, DAYS_PER_WEEK)


def week_bounds(start: date, week: int) -> tuple[date, date]:
    first = start + timedelta(days=DAYS_PER_WEEK * (week - 1))
    return first, first + timedelta(days=6)


def weekly_rows(
    stats: Mapping[date, DayStats],
    *,
    start: date,
    today: date,
    first_day: date,
    phase: Phase,
    checkins: Mapping[int, tuple[str, str]],
) -> list[WeekRow]:
    """Programme weeks that overlap ``first_day``..``today``, oldest first.

    Days before the programme start count in week 1, as ``programme_week`` says.
    """
    first_week = programme_week(start, first_day)
    # Weeks before the first one shown are not summed (a long record's year of days):
    # programme weeks only grow with the day, so their days all come before this one.
    shown_from = week_bounds(start, first_week)[0] if first_week > 1 else date.min
    by_week: dict[int, list[DayStats]] = {}
    for day, s in stats.items():
        if shown_from <= day <= today:
            by_week.setdefault(programme_week(start, day), []).append(s)
    rows = []
    for week in range(first_week, programme_week(start, today) + 1):
        first, last = week_bounds(start, week)
        elapsed = max(0, min(DAYS_PER_WEEK, (today - first).days + 1))
        movement, sleep = checkins.get(week, ("", ""))
        rows.append(
            WeekRow(
                week=week,
                first_day=first,
                last_day=last,
                totals=Totals.of(by_week.get(week, [])),
                prescribed=prescribed_per_week(phase, week),
                days_elapsed=elapsed,
                movement=movement,
                sleep=sleep,
            )
        )
    return rows


@dataclass(frozen=True)
class Adherence:
    done: int
    expected: int
    phase: Phase

    @property
    def percent(self) -> int | None:
        if not self.expected:
            return None
        return math.floor(Fraction(100 * self.done, self.expected))


def adherence(weeks: Sequence[WeekRow], phase: Phase) -> Adherence:
    """Sessions done against the fewest the current phase asks for, over the weeks shown."""
    expected = sum((w.expected_so_far for w in weeks), Fraction(0))
    return Adherence(done=sum(w.done for w in weeks), expected=math.ceil(expected), phase=phase)
