"""Sessions prescribed per phase, written once (SPEC 1.2). Pure: no Django.

A new tiny module so that tracking never re-derives the programme's numbers; it is meant
to be folded into ``stretches/progression.py`` at merge.
"""

from __future__ import annotations

from stretches.progression import (
    ACUTE_SESSIONS_PER_DAY,
    MAINTENANCE_SESSIONS_PER_WEEK,
    Phase,
    Stage,
)

DAYS_PER_WEEK = 7


def sessions_per_day(phase: Phase, stage: Stage = Stage.FOUNDATION) -> int | None:
    """Main-exercise sessions a day, or ``None`` in maintenance (counted per week)."""
    if phase is Phase.MAINTENANCE:
        return None
    if phase is Phase.ACUTE:
        return ACUTE_SESSIONS_PER_DAY
    return stage.rule.sessions_per_day


def sessions_per_week(phase: Phase, stage: Stage = Stage.FOUNDATION) -> tuple[int, int]:
    """Main-exercise sessions a week the phase (and stage) asks for, as (fewest, most)."""
    per_day = sessions_per_day(phase, stage)
    if per_day is None:
        return MAINTENANCE_SESSIONS_PER_WEEK
    return per_day * DAYS_PER_WEEK, per_day * DAYS_PER_WEEK
