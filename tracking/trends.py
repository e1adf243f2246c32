"""Pain trends (SPEC 2.2) as pure functions: per-day numbers in, series, weeks and a verdict out.

No Django imports. The database hands over one ``DayStats`` per day with at least one
session (sums, maxima and counts computed by SQL in the user's time zone) and one
morning score per day; everything else is arithmetic here.

Means are kept as exact ``Fraction``s so that the verdict's thresholds (2 points,
30 %, 50 %) are compared exactly: with floats, 5.6 minus 3.6 lands a hair under 2
and would turn a meaningful improvement into none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction

from stretches.progression import (
    ACUTE_SESSIONS_PER_DAY,
    MAINTENANCE_SESSIONS_PER_WEEK,
    Phase,
    calendar_stage,
    programme_week,
)

# The verdict's thresholds, from the programme (SPEC 2.2).
MEANINGFUL_DROP_POINTS = 2
MEANINGFUL_DROP_FRACTION = Fraction(30, 100)
SUBSTANTIAL_DROP_FRACTION = Fraction(50, 100)
WORSE_RISE_POINTS = 2
DAYS_NEEDED = 7
RECENT_DAYS = 7
ROLLING_DAYS = 7
# A morning score counts as "lower" or "higher" only when it moved by a whole point.
MORNING_CHANGE_POINTS = 1


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


@dataclass(frozen=True)
class DayStats:
    """One local day's sessions, summed by the database."""

    day: date
    sessions: int
    before_total: int
    after_total: int
    before_max: int
    worst: int  # the highest score of the day, before or after

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

    @classmethod
    def of(cls, stats: Iterable[DayStats]) -> Totals:
        stats = list(stats)
        return cls(
            sessions=sum(s.sessions for s in stats),
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


def one_decimal(value: Fraction | float | None) -> float | None:
    """A mean as people read it: one decimal, halves rounded up."""
    if value is None:
        return None
    exact = (
        Decimal(value.numerator) / Decimal(value.denominator)
        if isinstance(value, Fraction)
        else Decimal(str(value))
    )
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _toward_zero(value: Fraction, places: str) -> Decimal:
    """Shown changes are cut toward zero, so a shown "2.0" or "30 %" never hides a 1.97."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(places), rounding=ROUND_DOWN)


def fmt(value: Fraction | float | None) -> str:
    shown = one_decimal(value)
    return "–" if shown is None else f"{shown:.1f}"


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
    for day in days:
        totals = Totals.of(
            stats[d] for d in (day - timedelta(days=k) for k in range(window)) if d in stats
        )
        out[day] = totals.before_mean
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
            "–" if self.morning is None else str(self.morning),
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
    """Sessions a week the current phase asks for, as (fewest, most)."""
    if phase is Phase.MAINTENANCE:
        return MAINTENANCE_SESSIONS_PER_WEEK
    if phase is Phase.ACUTE:
        return ACUTE_SESSIONS_PER_DAY * 7, ACUTE_SESSIONS_PER_DAY * 7
    per_day = calendar_stage((week - 1) * 7).rule.sessions_per_day
    return per_day * 7, per_day * 7


def prescription_phrase(phase: Phase, week: int) -> str:
    """E.g. "2 a day, 14 a week" or "3-4 a week"."""
    low, high = prescribed_per_week(phase, week)
    if phase is Phase.MAINTENANCE:
        return f"{low}-{high} a week"
    return f"{low // 7} a day, {low} a week"


def prescribed_text(prescribed: tuple[int, int]) -> str:
    low, high = prescribed
    return str(low) if low == high else f"{low}-{high}"


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
        return self.days_elapsed < 7

    @property
    def before(self) -> float | None:
        return one_decimal(self.totals.before_mean)

    @property
    def after(self) -> float | None:
        return one_decimal(self.totals.after_mean)

    @property
    def worst(self) -> int | None:
        return self.totals.worst

    @property
    def done(self) -> int:
        return self.totals.sessions

    @property
    def prescribed_label(self) -> str:
        return prescribed_text(self.prescribed)

    @property
    def expected_so_far(self) -> Fraction:
        """The fewest sessions the plan asks for over the days of this week gone so far."""
        return Fraction(self.prescribed[0] * self.days_elapsed, 7)


def week_bounds(start: date, week: int) -> tuple[date, date]:
    first = start + timedelta(days=7 * (week - 1))
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
    by_week: dict[int, list[DayStats]] = {}
    for day, s in stats.items():
        if day <= today:
            by_week.setdefault(programme_week(start, day), []).append(s)
    rows = []
    for week in range(programme_week(start, first_day), programme_week(start, today) + 1):
        first, last = week_bounds(start, week)
        elapsed = max(0, min(7, (today - first).days + 1))
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


# --- The verdict -----------------------------------------------------------------------


class Outcome(StrEnum):
    PAIN_FREE = "pain_free"
    SUBSTANTIAL = "substantial"
    MEANINGFUL = "meaningful"
    WORSE = "worse"
    NO_CHANGE = "no_change"
    WAITING = "waiting"

    @property
    def label(self) -> str:
        return {
            Outcome.PAIN_FREE: "Pain-free",
            Outcome.SUBSTANTIAL: "Substantial improvement",
            Outcome.MEANINGFUL: "Meaningful improvement",
            Outcome.WORSE: "Getting worse",
            Outcome.NO_CHANGE: "No meaningful change yet",
            Outcome.WAITING: "Not enough data yet",
        }[self]

    @property
    def tone(self) -> str:
        return {
            Outcome.PAIN_FREE: "ok",
            Outcome.SUBSTANTIAL: "ok",
            Outcome.MEANINGFUL: "ok",
            Outcome.WORSE: "warn",
            Outcome.NO_CHANGE: "neutral",
            Outcome.WAITING: "neutral",
        }[self]


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    baseline: Fraction | None = None
    baseline_week: int | None = None
    recent: Fraction | None = None
    days_logged: int = 0
    days_needed: int = 0
    explanation: str = ""

    @property
    def label(self) -> str:
        return self.outcome.label

    @property
    def change(self) -> Fraction | None:
        """Recent minus baseline: negative is lower pain."""
        if self.baseline is None or self.recent is None:
            return None
        return self.recent - self.baseline

    @property
    def change_fraction(self) -> Fraction | None:
        if self.change is None or not self.baseline:
            return None
        return self.change / self.baseline

    @property
    def numbers(self) -> str:
        """E.g. "baseline 6.2, last 7 days 3.9: down 2.3 points, 37 %"."""
        if self.change is None:
            return ""
        text = f"baseline {fmt(self.baseline)}, last 7 days {fmt(self.recent)}: "
        if self.change == 0:
            return text + "no change"
        direction = "down" if self.change < 0 else "up"
        points = _toward_zero(abs(self.change), "0.1")
        text += f"{direction} {points} points"
        if self.change_fraction is not None:
            text += f", {_toward_zero(abs(self.change_fraction) * 100, '1')} %"
        return text


def baseline_week(stats: Mapping[date, DayStats], start: date) -> int | None:
    """Programme week 1, or the first week with sessions when week 1 has none."""
    weeks = sorted({programme_week(start, day) for day in stats})
    return weeks[0] if weeks else None


def verdict(stats: Mapping[date, DayStats], *, start: date, today: date) -> Verdict:
    """Compare the baseline week's mean pain before with the last 7 days' mean.

    Precedence: pain-free > substantial > meaningful > getting worse > no change.
    The in-session relief (before minus after) plays no part here.
    """
    stats = {day: s for day, s in stats.items() if day <= today}
    days_logged = len(stats)
    if days_logged < DAYS_NEEDED:
        needed = DAYS_NEEDED - days_logged
        return Verdict(
            Outcome.WAITING,
            days_logged=days_logged,
            days_needed=needed,
            explanation=(
                f"The comparison needs sessions on at least {DAYS_NEEDED} different days. "
                f"You have {days_logged}: {needed} more day{'' if needed == 1 else 's'} to go."
            ),
        )
    week = baseline_week(stats, start)
    first, last = week_bounds(start, week)
    if week == 1:
        first = min(stats)  # days before the start date belong to week 1 too
    baseline = Totals.of(s for day, s in stats.items() if first <= day <= last)
    recent_first = today - timedelta(days=RECENT_DAYS - 1)
    recent = Totals.of(s for day, s in stats.items() if day >= recent_first)
    common = {
        "baseline": baseline.before_mean,
        "baseline_week": week,
        "days_logged": days_logged,
    }
    if not recent.sessions:
        return Verdict(
            Outcome.WAITING,
            **common,
            explanation=(
                "There are no sessions in the last 7 days to compare with your baseline week. "
                "Log a session and the comparison comes back."
            ),
        )
    b, r = baseline.before_mean, recent.before_mean
    common["recent"] = r
    drop = b - r
    if recent.before_max == 0:
        outcome = Outcome.PAIN_FREE
    elif b > 0 and drop >= b * SUBSTANTIAL_DROP_FRACTION:
        outcome = Outcome.SUBSTANTIAL
    elif b > 0 and drop >= MEANINGFUL_DROP_POINTS and drop >= b * MEANINGFUL_DROP_FRACTION:
        outcome = Outcome.MEANINGFUL
    elif -drop >= WORSE_RISE_POINTS:
        outcome = Outcome.WORSE
    else:
        outcome = Outcome.NO_CHANGE
    return Verdict(outcome, **common, explanation=_EXPLANATIONS[outcome])


_EXPLANATIONS = {
    Outcome.PAIN_FREE: "Every score before a session in the last 7 days was 0.",
    Outcome.SUBSTANTIAL: (
        "Your pain before sessions is at least 50 % lower than in your baseline week."
    ),
    Outcome.MEANINGFUL: (
        "Your pain before sessions is at least 2 points and at least 30 % lower than in "
        "your baseline week: the size of change generally counted as meaningful."
    ),
    Outcome.WORSE: (
        "Your pain before sessions is 2 or more points higher than in your baseline week. "
        "If it keeps rising, pause the programme and ask a doctor or physiotherapist."
    ),
    Outcome.NO_CHANGE: (
        "A meaningful change means at least 2 points and at least 30 % lower than your "
        "baseline week. Changes often take 4 to 6 weeks to show."
    ),
}


def relief_sentence(totals: Totals, period: str) -> str:
    """The in-session change, in words; shown apart from the verdict and never feeding it."""
    relief = totals.relief
    if relief is None:
        return f"No sessions {period}."
    opening = period[:1].upper() + period[1:]
    if relief == 0:
        return f"{opening}, pain was on average the same after a session as before it."
    points = fmt(abs(relief))
    direction = "lower" if relief > 0 else "higher"
    return (
        f"{opening}, pain was on average {points} "
        f"points {direction} after a session than before it."
    )


# --- Signs of progress (the source's four) ---------------------------------------------


class SignStatus(StrEnum):
    SEEN = "seen"
    NOT_YET = "not_yet"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return {
            SignStatus.SEEN: "Seen",
            SignStatus.NOT_YET: "Not yet",
            SignStatus.UNKNOWN: "Not enough data",
        }[self]


@dataclass(frozen=True)
class Sign:
    key: str
    title: str
    status: SignStatus
    detail: str


def _mean(values: Iterable[int]) -> Fraction | None:
    values = list(values)
    return Fraction(sum(values), len(values)) if values else None


def morning_sign(
    morning: Mapping[date, int], *, start: date, today: date, week: int | None
) -> Sign:
    title = "Lower pain scores in the morning"
    recent_first = today - timedelta(days=RECENT_DAYS - 1)
    recent = _mean(v for d, v in morning.items() if recent_first <= d <= today)
    first_week = None
    if week is not None:
        first, last = week_bounds(start, week)
        first_week = _mean(v for d, v in morning.items() if d <= last and (first <= d or week == 1))
    if recent is None or first_week is None or week is None:
        return Sign(
            "morning",
            title,
            SignStatus.UNKNOWN,
            "Needs morning scores from your baseline week and from the last 7 days.",
        )
    numbers = f"Mean morning score: baseline week {fmt(first_week)}, last 7 days {fmt(recent)}"
    if first_week - recent >= MORNING_CHANGE_POINTS:
        return Sign("morning", title, SignStatus.SEEN, f"{numbers}: lower.")
    if recent - first_week >= MORNING_CHANGE_POINTS:
        return Sign("morning", title, SignStatus.NOT_YET, f"{numbers}: higher.")
    return Sign("morning", title, SignStatus.NOT_YET, f"{numbers}: about the same.")


def stretching_sign(
    stats: Mapping[date, DayStats],
    *,
    start: date,
    today: date,
    phase: Phase,
    week: int | None,
) -> Sign:
    """Fewer sessions needed: the maintenance phase, or fewer sessions with no more pain."""
    title = "Less need for frequent stretching"
    recent_first = today - timedelta(days=RECENT_DAYS - 1)
    recent = Totals.of(s for d, s in stats.items() if recent_first <= d <= today)
    plan = prescribed_text(prescribed_per_week(phase, programme_week(start, today)))
    phase_words = f"the {phase.label.lower()} phase asks for {plan} a week"
    if phase is Phase.MAINTENANCE:
        return Sign(
            "stretching",
            title,
            SignStatus.SEEN,
            f"You are in the maintenance phase: {plan} sessions a week. "
            f"{recent.sessions} in the last 7 days.",
        )
    if week is None:
        return Sign("stretching", title, SignStatus.UNKNOWN, "No sessions yet.")
    first, last = week_bounds(start, week)
    base = Totals.of(s for d, s in stats.items() if d <= last and (first <= d or week == 1))
    detail = (
        f"{recent.sessions} session{'' if recent.sessions == 1 else 's'} in the last 7 days, "
        f"{base.sessions} in your baseline week ({phase_words})."
    )
    if week == programme_week(start, today):
        return Sign("stretching", title, SignStatus.UNKNOWN, detail)
    pain_not_higher = (
        recent.before_mean is not None
        and base.before_mean is not None
        and recent.before_mean <= base.before_mean
    )
    if recent.sessions < base.sessions and pain_not_higher:
        return Sign(
            "stretching",
            title,
            SignStatus.SEEN,
            detail + " Fewer sessions, and pain before them has not risen.",
        )
    return Sign("stretching", title, SignStatus.NOT_YET, detail)


_ANSWER_WORDS = {"better": "better", "same": "the same", "worse": "worse"}


def checkin_sign(key: str, title: str, answers: Mapping[int, str]) -> Sign:
    """From the weekly check-ins: seen when the latest answer is "better"."""
    answered = {week: a for week, a in answers.items() if a}
    if not answered:
        return Sign(key, title, SignStatus.UNKNOWN, "No weekly check-in answered yet.")
    latest_week = max(answered)
    latest = answered[latest_week]
    counts = {a: sum(1 for v in answered.values() if v == a) for a in _ANSWER_WORDS}
    tally = ", ".join(f"{counts[a]} {a}" for a in _ANSWER_WORDS)
    detail = (
        f"Week {latest_week}: {_ANSWER_WORDS[latest]} than the week before. All check-ins: {tally}."
    )
    status = SignStatus.SEEN if latest == "better" else SignStatus.NOT_YET
    return Sign(key, title, status, detail)


# --- Everything the progress page needs ------------------------------------------------


@dataclass(frozen=True)
class Trends:
    range: Range
    today: date
    start: date | None
    start_is_first_session: bool
    phase: Phase
    days: list[DayRow]
    weeks: list[WeekRow]
    verdict: Verdict
    recent: Totals
    range_totals: Totals
    adherence: Adherence
    signs: list[Sign] = field(default_factory=list)
    total_sessions: int = 0

    @property
    def has_sessions(self) -> bool:
        return self.total_sessions > 0

    @property
    def recent_relief(self) -> str:
        return relief_sentence(self.recent, "in the last 7 days")

    @property
    def range_relief(self) -> str:
        return relief_sentence(self.range_totals, f"over the {self.range_label}")

    @property
    def range_label(self) -> str:
        if self.range is Range.ALL:
            return "whole record"
        return f"last {self.range.label}"

    @property
    def first_day(self) -> date:
        return self.days[0].day

    @property
    def prescription_phrase(self) -> str:
        return prescription_phrase(self.phase, self.current_week or 1)

    @property
    def current_week(self) -> int | None:
        return programme_week(self.start, self.today) if self.start else None


def build_trends(
    *,
    stats: Iterable[DayStats],
    morning: Mapping[date, int],
    checkins: Mapping[int, tuple[str, str]],
    programme_start: date | None,
    today: date,
    phase: Phase,
    range_: Range,
) -> Trends:
    """Series, weekly rows, verdict and signs for one user over the chosen range.

    Without a programme start date the first day with a session stands in for it.
    """
    by_day = {s.day: s for s in stats if s.day <= today}
    earliest = min(by_day) if by_day else None
    start = programme_start or earliest
    start_is_first_session = programme_start is None and earliest is not None
    first_day = range_first_day(range_, today, min(filter(None, [earliest, start]), default=None))
    days = date_span(first_day, today)
    rows = day_rows(by_day, morning, days)
    recent_first = today - timedelta(days=RECENT_DAYS - 1)
    recent = Totals.of(s for d, s in by_day.items() if d >= recent_first)
    range_totals = Totals.of(s for d, s in by_day.items() if d >= first_day)
    if start is None:
        weeks: list[WeekRow] = []
        result = verdict(by_day, start=today, today=today)
        signs = []
        base_week = None
    else:
        weeks = weekly_rows(
            by_day,
            start=start,
            today=today,
            first_day=max(first_day, min(start, earliest or start)),
            phase=phase,
            checkins=checkins,
        )
        result = verdict(by_day, start=start, today=today)
        base_week = baseline_week(by_day, start)
        signs = [
            morning_sign(morning, start=start, today=today, week=base_week),
            stretching_sign(by_day, start=start, today=today, phase=phase, week=base_week),
            checkin_sign(
                "movement",
                "Easier movement in daily activities",
                {w: m for w, (m, _) in checkins.items()},
            ),
            checkin_sign("sleep", "Better sleep", {w: s for w, (_, s) in checkins.items()}),
        ]
    return Trends(
        range=range_,
        today=today,
        start=start,
        start_is_first_session=start_is_first_session,
        phase=phase,
        days=rows,
        weeks=weeks,
        verdict=result,
        recent=recent,
        range_totals=range_totals,
        adherence=adherence(weeks, phase),
        signs=signs,
        total_sessions=sum(s.sessions for s in by_day.values()),
    )
