"""The comparison with the baseline week (SPEC 2.2), as a pure function.

Named ``compare``/``Comparison`` so it never clashes with the screening's
``Verdict``/``verdict()``. Thresholds are compared on exact ``Fraction``s: with floats,
5.6 minus 3.6 lands a hair under 2 and would turn a meaningful improvement into none.
Wording lives in ``tracking.presentation``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from stretches.progression import programme_week
from tracking import presentation
from tracking.series import DAYS_PER_WEEK, RECENT_DAYS, DayStats, Totals, week_bounds


@dataclass(frozen=True)
class ComparisonRules:
    """The comparison's thresholds, from the programme (SPEC 2.2)."""

    meaningful_points: int = 2
    meaningful_fraction: Fraction = Fraction(30, 100)
    substantial_fraction: Fraction = Fraction(50, 100)
    worse_points: int = 2
    smallest_baseline: int = 2  # a baseline under this is too small to judge
    days_needed: int = 7  # days with sessions before any comparison
    recent_days: int = RECENT_DAYS
    baseline_days: int = DAYS_PER_WEEK
    baseline_week: int = 1  # the programme week compared with, when it has sessions
    changes_take_weeks: tuple[int, int] = (4, 6)  # the source: signs show over 4-6 weeks

    @property
    def first_programme_day(self) -> int:
        """Day 14 (counting the start date as day 1): the last 7 days clear week 1."""
        return self.baseline_days + self.recent_days


RULES = ComparisonRules()


class ComparisonOutcome(StrEnum):
    PAIN_FREE = "pain_free"
    SUBSTANTIAL = "substantial"
    MEANINGFUL = "meaningful"
    WORSE = "worse"
    NO_CHANGE = "no_change"
    TOO_SMALL = "too_small"
    NOT_YET = "not_yet"
    WAITING = "waiting"

    @property
    def label(self) -> str:
        return presentation.OUTCOME_LABELS[self.value]

    @property
    def tone(self) -> str:
        return presentation.OUTCOME_TONES.get(self.value, "neutral")


@dataclass(frozen=True)
class Comparison:
    outcome: ComparisonOutcome
    baseline: Fraction | None = None
    baseline_week: int | None = None
    recent: Fraction | None = None
    days_logged: int = 0
    days_needed: int = 0
    shown_from: date | None = None
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
    def numbers(self) -> str:
        if self.baseline is None or self.recent is None:
            return ""
        return presentation.change_sentence(self.baseline, self.recent, RULES.recent_days)


def judge(baseline: Fraction, recent: Fraction, recent_max: int, rules=RULES):
    """The outcome for two exact means, first match wins.

    Pain-free > too small to judge > substantial > meaningful > getting worse > no change.
    Substantial is meaningful *and* down by the larger fraction.
    """
    drop = baseline - recent
    meaningful = drop >= rules.meaningful_points and drop >= baseline * rules.meaningful_fraction
    if recent_max == 0:
        return ComparisonOutcome.PAIN_FREE
    if baseline < rules.smallest_baseline:
        return ComparisonOutcome.TOO_SMALL
    if meaningful and drop >= baseline * rules.substantial_fraction:
        return ComparisonOutcome.SUBSTANTIAL
    if meaningful:
        return ComparisonOutcome.MEANINGFUL
    if -drop >= rules.worse_points:
        return ComparisonOutcome.WORSE
    return ComparisonOutcome.NO_CHANGE


def baseline_week(
    stats: Mapping[date, DayStats], start: date, *, first: date | None = None
) -> int | None:
    """Programme week 1, or the first week with sessions when week 1 has none.
    ``first``: the earliest day of ``stats``, when the caller knows it."""
    if not stats:
        return None
    # Programme weeks only grow with the day: the earliest day's week is the first.
    return programme_week(start, min(stats) if first is None else first)


def shown_from(start: date, week: int, rules=RULES) -> date:
    """The first day whose last ``recent_days`` no longer overlap the baseline week."""
    return week_bounds(start, week)[1] + timedelta(days=rules.recent_days)


def _days_in(stats: Mapping[date, DayStats], first: date, last: date) -> list[DayStats]:
    """The days from ``first`` to ``last`` (inclusive) that have sessions."""
    found = []
    day = first
    while day <= last:
        if (s := stats.get(day)) is not None:
            found.append(s)
        day += timedelta(days=1)
    return found


def compare(
    stats: Mapping[date, DayStats],
    *,
    start: date,
    today: date,
    rules=RULES,
    span: tuple[date, date] | None = None,
) -> Comparison:
    """Compare the baseline week's mean pain before with the last days' mean.

    Nothing is judged before the last ``recent_days`` clear the baseline week (programme
    day 14 for week 1). The in-session relief (before minus after) plays no part here.

    ``span``: the first and last days of ``stats``, when the caller knows them (the plan
    keeps them with the days before today): each is otherwise a scan of every day, and
    every log POST compares a year of them.
    """
    if stats and span is None:
        span = (min(stats), max(stats))
    if stats and span[1] > today:
        stats = {day: s for day, s in stats.items() if day <= today}
        span = (min(stats), max(stats)) if stats else None
    days_logged = len(stats)
    week = baseline_week(stats, start, first=span[0] if stats else None) or rules.baseline_week
    first_shown = shown_from(start, week, rules)
    if today < first_shown:
        return Comparison(
            ComparisonOutcome.NOT_YET,
            baseline_week=week if stats else None,
            days_logged=days_logged,
            shown_from=first_shown,
            explanation=presentation.not_yet_sentence(
                first_shown, (first_shown - start).days + 1, rules.recent_days
            ),
        )
    if days_logged < rules.days_needed:
        return Comparison(
            ComparisonOutcome.WAITING,
            days_logged=days_logged,
            days_needed=rules.days_needed - days_logged,
            explanation=presentation.waiting_sentence(days_logged, rules.days_needed),
        )
    first, last = week_bounds(start, week)
    if week == rules.baseline_week:
        first = span[0]  # days before the start date belong to week 1 too
    # Each window's days looked up (a week, or week 1 with the days before the start),
    # not a year of days scanned twice: every log POST compares.
    baseline = Totals.of(_days_in(stats, first, min(last, today)))
    recent_first = today - timedelta(days=rules.recent_days - 1)
    recent = Totals.of(_days_in(stats, recent_first, today))
    common = {"baseline": baseline.before_mean, "baseline_week": week, "days_logged": days_logged}
    if not recent.sessions:
        return Comparison(
            ComparisonOutcome.WAITING,
            **common,
            explanation=(
                f"There are no sessions in the last {presentation.count(rules.recent_days, 'day')}"
                " to compare with your baseline week. Log a session and the comparison comes back."
            ),
        )
    outcome = judge(baseline.before_mean, recent.before_mean, recent.before_max, rules)
    return Comparison(
        outcome,
        **common,
        recent=recent.before_mean,
        explanation=presentation.explanation(outcome.value, rules),
    )
