"""Everything the progress page and the report need about pain trends (SPEC 2.2).

``build_trends`` is the one entry the views call; the parts live in ``tracking.series``
(days, weeks, adherence, ranges), ``tracking.comparison`` (against the baseline week),
``tracking.signs`` (the four signs of progress) and ``tracking.presentation`` (words and
number formatting).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils import translation

from stretches.progression import Phase, programme_week
from tracking import presentation
from tracking.comparison import RULES, Comparison, baseline_week, compare
from tracking.series import (
    DAYS_PER_WEEK,
    RECENT_DAYS,
    ROLLING_DAYS,
    Adherence,
    DayRow,
    DayStats,
    Range,
    Totals,
    WeekRow,
    adherence,
    date_span,
    day_rows,
    prescribed_per_day,
    prescribed_per_week,
    range_first_day,
    weekly_rows,
)
from tracking.signs import Sign, checkin_sign, morning_sign, stretching_sign


@dataclass(frozen=True)
class Trends:
    range: Range
    today: date
    start: date | None
    start_is_first_session: bool
    phase: Phase
    days: list[DayRow]
    weeks: list[WeekRow]
    verdict: Comparison
    recent: Totals
    range_totals: Totals
    adherence: Adherence
    signs: list[Sign] = field(default_factory=list)
    total_sessions: int = 0

    @property
    def words(self) -> presentation.TrendWords:
        return _words(translation.get_language())

    @property
    def outcome_labels(self) -> dict[str, str]:
        return presentation.OUTCOME_LABELS

    @property
    def baseline_week_planned(self) -> int:
        return RULES.baseline_week

    @property
    def has_sessions(self) -> bool:
        return self.total_sessions > 0

    @property
    def recent_relief(self) -> str:
        return presentation.relief_sentence(
            self.recent.relief, f"in the last {presentation.count(RECENT_DAYS, 'day')}"
        )

    @property
    def range_relief(self) -> str:
        return presentation.relief_sentence(
            self.range_totals.relief, f"over the {self.range_label}"
        )

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
        week = self.current_week or 1
        return presentation.prescription_phrase(
            prescribed_per_day(self.phase, week), prescribed_per_week(self.phase, week)
        )

    @property
    def current_week(self) -> int | None:
        return programme_week(self.start, self.today) if self.start else None


@functools.cache
def _words(language: str | None) -> presentation.TrendWords:
    """The programme's numbers in words: the same for every page in one language."""
    return presentation.trend_words(RULES, rolling_days=ROLLING_DAYS, days_per_week=DAYS_PER_WEEK)


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
        result = compare(by_day, start=today, today=today)
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
        result = compare(by_day, start=start, today=today)
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
