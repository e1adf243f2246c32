"""The source's four signs of progress over 4-6 weeks (SPEC 2.2), as pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from stretches.progression import Phase, programme_week
from tracking.presentation import ANSWER_WORDS, SIGN_STATUS_LABELS, count, fmt, prescribed_text
from tracking.series import RECENT_DAYS, DayStats, Totals, prescribed_per_week, week_bounds

# A morning score counts as "lower" or "higher" only when it moved by a whole point.
MORNING_CHANGE_POINTS = 1


class SignStatus(StrEnum):
    SEEN = "seen"
    NOT_YET = "not_yet"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return SIGN_STATUS_LABELS[self.value]


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
            f"Needs morning scores from your baseline week and from the last {count(RECENT_DAYS, 'day')}.",
        )
    numbers = f"Mean morning score: baseline week {fmt(first_week)}, last {count(RECENT_DAYS, 'day')} {fmt(recent)}"
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
            f"{recent.sessions} in the last {count(RECENT_DAYS, 'day')}.",
        )
    if week is None:
        return Sign("stretching", title, SignStatus.UNKNOWN, "No sessions yet.")
    first, last = week_bounds(start, week)
    base = Totals.of(s for d, s in stats.items() if d <= last and (first <= d or week == 1))
    detail = (
        f"{count(recent.sessions, 'session')} in the last {count(RECENT_DAYS, 'day')}, "
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


def checkin_sign(key: str, title: str, answers: Mapping[int, str]) -> Sign:
    """From the weekly check-ins: seen when the latest answer is "better"."""
    answered = {week: a for week, a in answers.items() if a}
    if not answered:
        return Sign(key, title, SignStatus.UNKNOWN, "No weekly check-in answered yet.")
    latest_week = max(answered)
    latest = answered[latest_week]
    counts = {a: sum(1 for v in answered.values() if v == a) for a in ANSWER_WORDS}
    tally = ", ".join(f"{counts[a]} {a}" for a in ANSWER_WORDS)
    detail = (
        f"Week {latest_week}: {ANSWER_WORDS[latest]} than the week before. All check-ins: {tally}."
    )
    status = SignStatus.SEEN if latest == "better" else SignStatus.NOT_YET
    return Sign(key, title, status, detail)
