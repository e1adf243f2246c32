"""The week-by-week programme (SPEC 1.2-1.3) as pure functions.

No Django imports: ``prescription_for`` takes the user's start date, phase, today's
date in their own time zone, a plain summary of their sessions and the catalogue's
hold/rep rules, and returns a ``Prescription`` with the reasons attached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import IntEnum, StrEnum

# Hard caps that no rule, setting or admin edit may break (SPEC 1.3).
MAX_HOLD_SECONDS = 60
MAX_DOUBLE_LEG_HOLD_SECONDS = 30
MAX_ACUTE_SESSIONS_PER_DAY = 3

SINGLE_LEG = "single-knee-to-chest"
DOUBLE_LEG = "double-knee-to-chest"
FIGURE_FOUR = "figure-four"
STANDING_HUG = "standing-knee-hug"
MORNING = "morning-in-bed"
LYING_KNEE_TO_CHEST = frozenset({SINGLE_LEG, DOUBLE_LEG})


def hold_cap(slug: str) -> int:
    return MAX_DOUBLE_LEG_HOLD_SECONDS if slug == DOUBLE_LEG else MAX_HOLD_SECONDS


class Stage(IntEnum):
    FOUNDATION = 1
    BUILD = 2
    FULL = 3

    @property
    def rule(self) -> StageRule:
        return STAGES[self]

    @property
    def label(self) -> str:
        return self.rule.label


class Phase(StrEnum):
    STANDARD = "standard"
    ACUTE = "acute"
    MAINTENANCE = "maintenance"

    @property
    def label(self) -> str:
        return {
            Phase.STANDARD: "Standard",
            Phase.ACUTE: "Acute flare",
            Phase.MAINTENANCE: "Maintenance",
        }[self]


@dataclass(frozen=True)
class StageRule:
    stage: Stage
    label: str
    first_week: int
    hold_min: int
    hold_max: int
    reps_min: int
    reps_max: int
    sessions_per_day: int


# The programme's numbers, in one place (source: the seed article's timeline).
STAGES: dict[Stage, StageRule] = {
    Stage.FOUNDATION: StageRule(Stage.FOUNDATION, "foundation", 1, 15, 20, 2, 3, 2),
    Stage.BUILD: StageRule(Stage.BUILD, "build", 3, 30, 45, 2, 3, 2),
    Stage.FULL: StageRule(Stage.FULL, "full", 5, 45, 60, 2, 3, 2),
}
ACUTE_SESSIONS_PER_DAY = 3
MAINTENANCE_SESSIONS_PER_WEEK = (3, 4)
STANDING_HUG_EVERY_HOURS = 2

UNLOCK_AFTER_DAYS = 14  # double-leg is possible from day 15 (day index 14)
UNLOCK_WINDOW_DAYS = 14
UNLOCK_DAYS_NEEDED = 10
HOLD_BACK_WINDOW_DAYS = 7
HOLD_BACK_PAIN_RISE = 2
MAINTENANCE_SUGGEST_DAYS = 7
MAINTENANCE_SUGGEST_MAX_PAIN = 1


@dataclass(frozen=True)
class SessionFact:
    """What the rules need to know about one logged session."""

    day: date  # in the user's time zone
    exercise: str
    pain_before: int
    pain_after: int
    stop_signal: bool = False

    @property
    def pain_rise(self) -> int:
        return self.pain_after - self.pain_before


@dataclass(frozen=True)
class ExerciseRule:
    """An exercise's own hold/rep rule, as stored in the catalogue."""

    slug: str
    hold_min: int
    hold_max: int
    reps: int


class Frequency(StrEnum):
    PER_DAY = "per_day"
    PER_WEEK = "per_week"
    ON_WAKING = "on_waking"
    WORK_BREAKS = "work_breaks"


@dataclass(frozen=True)
class PlanItem:
    slug: str
    hold_target: int
    hold_min: int
    hold_max: int
    reps: int  # per leg (or per set for the double-leg stretch)
    sides: tuple[str, ...]  # ("left", "right"), ("both",) or one side
    frequency: Frequency
    times: int  # how many times in the frequency's period (sessions a day, per week…)
    times_max: int

    @property
    def per_leg(self) -> bool:
        return self.sides != ("both",)


@dataclass(frozen=True)
class UnlockProgress:
    unlocked: bool
    days_since_start: int
    days_logged: int
    days_needed: int = UNLOCK_DAYS_NEEDED
    blocker: str = ""


@dataclass(frozen=True)
class Prescription:
    week: int
    day_number: int
    calendar_stage: Stage
    stage: Stage
    phase: Phase
    hold_target: int
    hold_min: int
    hold_max: int
    reps_min: int
    reps_max: int
    sessions_per_day: int | None
    sessions_per_week: tuple[int, int] | None
    unlock: UnlockProgress
    items: tuple[PlanItem, ...]
    held_back_reason: str = ""
    suggest_maintenance: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def held_back(self) -> bool:
        return self.stage < self.calendar_stage

    @property
    def main(self) -> PlanItem:
        return self.items[0]


DEFAULT_RULES: dict[str, ExerciseRule] = {
    SINGLE_LEG: ExerciseRule(SINGLE_LEG, 15, 60, 3),
    DOUBLE_LEG: ExerciseRule(DOUBLE_LEG, 15, 30, 3),
    FIGURE_FOUR: ExerciseRule(FIGURE_FOUR, 20, 30, 3),
    STANDING_HUG: ExerciseRule(STANDING_HUG, 30, 30, 1),
    MORNING: ExerciseRule(MORNING, 15, 20, 3),
}


def programme_week(start: date, today: date) -> int:
    """Week 1 is the first 7 days from the start date, counted in the user's own days."""
    return max(0, (today - start).days) // 7 + 1


def calendar_stage(day_index: int) -> Stage:
    week = day_index // 7 + 1
    stage = Stage.FOUNDATION
    for rule in STAGES.values():
        if week >= rule.first_week:
            stage = rule.stage
    return stage


def _is_setback(fact: SessionFact) -> bool:
    return fact.stop_signal or fact.pain_rise >= HOLD_BACK_PAIN_RISE


def _effective_stage(start: date, day_index: int, setback_days: set[date]) -> tuple[Stage, int]:
    """Walk the programme day by day; return the stage today and the day it began.

    A step up needs a clean last 7 days (no stop signal, no rise of 2 or more) and at
    least 7 days on the current stage, so a stage that was held back is never
    skipped: the user climbs one stage at a time and never ahead of the calendar.
    """
    stage, entered = Stage.FOUNDATION, 0
    for d in range(day_index + 1):
        target = calendar_stage(d)
        if target <= stage or d - entered < 7:
            continue
        today = start + timedelta(days=d)
        window = (today - timedelta(days=k) for k in range(HOLD_BACK_WINDOW_DAYS))
        if any(day in setback_days for day in window):
            continue
        stage, entered = Stage(stage + 1), d
    return stage, entered


def _weekday_phrase(day: date, today: date) -> str:
    if day == today:
        return "today's session"
    if day == today - timedelta(days=1):
        return "yesterday's session"
    return f"{day:%A}'s session"


def _held_back_reason(stage: Stage, calendar: Stage, facts: list[SessionFact], today: date) -> str:
    if stage >= calendar:
        return ""
    rule = stage.rule
    window_start = today - timedelta(days=HOLD_BACK_WINDOW_DAYS - 1)
    recent = [f for f in facts if window_start <= f.day <= today and _is_setback(f)]
    prefix = f"Held at {rule.hold_min}-{rule.hold_max} s because "
    if recent:
        latest = max(recent, key=lambda f: (f.day, f.stop_signal, f.pain_rise))
        when = _weekday_phrase(latest.day, today)
        if latest.stop_signal:
            return prefix + f"you reported a stop signal after {when}."
        return prefix + f"your pain rose by {latest.pain_rise} after {when}."
    return prefix + ("you move up one stage at a time, after at least a week on the current one.")


def _unlock_progress(
    day_index: int, facts: list[SessionFact], today: date, phase: Phase
) -> UnlockProgress:
    window_start = today - timedelta(days=UNLOCK_WINDOW_DAYS - 1)
    in_window = [f for f in facts if window_start <= f.day <= today]
    days_logged = len({f.day for f in in_window if f.exercise in LYING_KNEE_TO_CHEST})
    blocker = ""
    if any(f.stop_signal for f in in_window):
        blocker = "a stop signal was reported in the last 14 days"
    else:
        week_start = today - timedelta(days=HOLD_BACK_WINDOW_DAYS - 1)
        if any(f.pain_rise > 0 for f in in_window if f.day >= week_start):
            blocker = "pain was higher after a session than before it in the last 7 days"
    if not blocker and phase is Phase.ACUTE:
        blocker = "the double-leg stretch waits until the acute flare has settled"
    unlocked = day_index >= UNLOCK_AFTER_DAYS and days_logged >= UNLOCK_DAYS_NEEDED and not blocker
    return UnlockProgress(
        unlocked=unlocked,
        days_since_start=day_index,
        days_logged=min(days_logged, UNLOCK_WINDOW_DAYS),
        blocker=blocker,
    )


def _suggest_maintenance(facts: list[SessionFact], today: date, phase: Phase) -> bool:
    """7 days in a row of pain before at 0-1, ending today or (before today's log) yesterday."""
    if phase is Phase.MAINTENANCE:
        return False

    def calm_run_ending(last: date) -> bool:
        for k in range(MAINTENANCE_SUGGEST_DAYS):
            day = last - timedelta(days=k)
            that_day = [f for f in facts if f.day == day]
            if not that_day or any(f.pain_before > MAINTENANCE_SUGGEST_MAX_PAIN for f in that_day):
                return False
        return True

    today_ok = all(f.pain_before <= MAINTENANCE_SUGGEST_MAX_PAIN for f in facts if f.day == today)
    return calm_run_ending(today) or (today_ok and calm_run_ending(today - timedelta(days=1)))


def _capped(slug: str, low: int, high: int, target: int) -> tuple[int, int, int]:
    cap = hold_cap(slug)
    low, high = min(low, cap), min(high, cap)
    return low, high, max(low, min(target, high))


def prescription_for(
    *,
    start: date,
    today: date,
    phase: Phase,
    history: Iterable[SessionFact],
    rules: Mapping[str, ExerciseRule] | None = None,
    desk_work: bool = False,
    sciatica_side: str = "",
) -> Prescription:
    """Today's plan for one user.

    ``history`` must hold every session of the last 14 days and every setback
    (stop signal or pain rise) since ``start``; older clean sessions change nothing.
    """
    rules = {**DEFAULT_RULES, **(rules or {})}
    facts = sorted((f for f in history if start <= f.day <= today), key=lambda f: f.day)
    day_index = max(0, (today - start).days)
    week = day_index // 7 + 1
    calendar = calendar_stage(day_index)
    setback_days = {f.day for f in facts if _is_setback(f)}
    stage, entered = _effective_stage(start, day_index, setback_days)
    stage_rule = stage.rule

    # Lower end of the range in the stage's first week, upper end after.
    in_first_week = day_index - entered < 7
    target = stage_rule.hold_min if in_first_week else stage_rule.hold_max

    if phase is Phase.MAINTENANCE:
        per_day, per_week = None, MAINTENANCE_SESSIONS_PER_WEEK
        frequency, times, times_max = Frequency.PER_WEEK, *MAINTENANCE_SESSIONS_PER_WEEK
    elif phase is Phase.ACUTE:
        per_day = min(ACUTE_SESSIONS_PER_DAY, MAX_ACUTE_SESSIONS_PER_DAY)
        per_week = None
        frequency, times, times_max = Frequency.PER_DAY, per_day, per_day
    else:
        per_day, per_week = stage_rule.sessions_per_day, None
        frequency, times, times_max = Frequency.PER_DAY, per_day, per_day

    unlock = _unlock_progress(day_index, facts, today, phase)
    main_slug = DOUBLE_LEG if unlock.unlocked else SINGLE_LEG
    main_rule = rules[main_slug]
    # An admin may narrow an exercise's range; it can shorten holds, never lengthen them.
    main_high = min(stage_rule.hold_max, main_rule.hold_max)
    low, high, main_target = _capped(
        main_slug, min(stage_rule.hold_min, main_high), main_high, target
    )
    items = [
        PlanItem(
            slug=main_slug,
            hold_target=main_target,
            hold_min=low,
            hold_max=high,
            reps=stage_rule.reps_max,
            sides=("both",) if main_slug == DOUBLE_LEG else ("left", "right"),
            frequency=frequency,
            times=times,
            times_max=times_max,
        )
    ]

    def fixed_item(slug: str, sides: tuple[str, ...], freq: Frequency, n: int, n_max: int):
        rule = rules[slug]
        first_week = day_index < 7
        lo, hi, tgt = _capped(
            slug, rule.hold_min, rule.hold_max, rule.hold_min if first_week else rule.hold_max
        )
        return PlanItem(slug, tgt, lo, hi, rule.reps, sides, freq, n, n_max)

    items.append(fixed_item(MORNING, ("left", "right"), Frequency.ON_WAKING, 1, 1))
    if sciatica_side in ("left", "right"):
        items.append(fixed_item(FIGURE_FOUR, (sciatica_side,), frequency, times, times_max))
    # During an acute flare the 3-a-day cap covers everything, work breaks included.
    if desk_work and phase is not Phase.ACUTE:
        items.append(fixed_item(STANDING_HUG, ("left", "right"), Frequency.WORK_BREAKS, 4, 4))

    notes = []
    if phase is Phase.MAINTENANCE:
        notes.append(
            "Maintenance keeps the holds you have earned; full-stage holds only once you "
            "have reached the full stage."
        )
    if phase is Phase.ACUTE:
        notes.append(
            "During a flare: three short sessions a day, holds stay in the stage's range"
            + (", and work-break hugs pause until it settles." if desk_work else ".")
        )

    return Prescription(
        week=week,
        day_number=day_index + 1,
        calendar_stage=calendar,
        stage=stage,
        phase=phase,
        hold_target=main_target,
        hold_min=low,
        hold_max=high,
        reps_min=stage_rule.reps_min,
        reps_max=stage_rule.reps_max,
        sessions_per_day=per_day,
        sessions_per_week=per_week,
        unlock=unlock,
        items=tuple(items),
        held_back_reason=_held_back_reason(stage, calendar, facts, today),
        suggest_maintenance=_suggest_maintenance(facts, today, phase),
        notes=tuple(notes),
    )
