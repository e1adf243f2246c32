"""The week-by-week programme (SPEC 1.2-1.3) as pure functions.

No Django imports. ``prescription_for`` takes the user's start date, phase, today's date
in their own time zone, one summary per day with sessions, the setbacks stamped when
they were logged and the catalogue's hold/rep rules, and returns a ``Prescription``
with the reason for its stage attached.

The calendar only caps the stage: every step up is earned by logged sessions, and
setbacks and gaps step it down again.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import IntEnum, StrEnum
from typing import NamedTuple

# Hard caps that no rule, setting, form or admin edit may break (SPEC 1.3).
MAX_HOLD_SECONDS = 60
MAX_DOUBLE_LEG_HOLD_SECONDS = 30
MAX_ACUTE_SESSIONS_PER_DAY = 3

SINGLE_LEG = "single-knee-to-chest"
DOUBLE_LEG = "double-knee-to-chest"
FIGURE_FOUR = "figure-four"
STANDING_HUG = "standing-knee-hug"
MORNING = "morning-in-bed"
LYING_KNEE_TO_CHEST = frozenset({SINGLE_LEG, DOUBLE_LEG})


def hold_cap(both_legs: bool) -> int:
    """The longest hold an exercise may ever prescribe or log: its kind decides, not its name."""
    return MAX_DOUBLE_LEG_HOLD_SECONDS if both_legs else MAX_HOLD_SECONDS


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

    @property
    def hold_range(self) -> str:
        return f"{self.hold_min}-{self.hold_max} s"

    @property
    def weeks_label(self) -> str:
        later = [r.first_week for r in STAGES.values() if r.first_week > self.first_week]
        if not later:
            return f"week {self.first_week} onwards"
        last = min(later) - 1
        if last == self.first_week:
            return f"week {self.first_week}"
        return f"weeks {self.first_week}-{last}"


# The programme's numbers, in one place (source: the seed article's timeline).
STAGES: dict[Stage, StageRule] = {
    Stage.FOUNDATION: StageRule(Stage.FOUNDATION, "foundation", 1, 15, 20, 2, 3, 2),
    Stage.BUILD: StageRule(Stage.BUILD, "build", 3, 30, 45, 2, 3, 2),
    Stage.FULL: StageRule(Stage.FULL, "full", 5, 45, 60, 2, 3, 2),
}
ACUTE_SESSIONS_PER_DAY = MAX_ACUTE_SESSIONS_PER_DAY
MAINTENANCE_SESSIONS_PER_WEEK = (3, 4)
STANDING_HUG_EVERY_HOURS = 2
STANDING_HUG_TIMES = 4

# Earning a step up (SPEC 1.3).
STEP_UP_DAYS_AT_STAGE = 7
EVIDENCE_WINDOW_DAYS = 7
EVIDENCE_DAYS_NEEDED = 5
SETBACK_PAIN_RISE = 2
REPEAT_SETBACK_WINDOW_DAYS = 14
GAP_STEP_DOWN_DAYS = 7
GAP_RESTART_DAYS = 14
# The double-leg stretch.
UNLOCK_AFTER_DAYS = 14
UNLOCK_WINDOW_DAYS = 14
UNLOCK_DAYS_NEEDED = 10
UNLOCK_PAIN_WINDOW_DAYS = 7
UNLOCK_MAX_MEAN_PAIN = 3
DOUBLE_LEG_START_HOLD = 15
DOUBLE_LEG_FULL_AFTER_DAYS = 7
# Phase suggestions.
ACUTE_SUGGEST_PAIN = 7
ACUTE_SUGGEST_DAYS = 2
ACUTE_SUGGEST_WINDOW = 3
MAINTENANCE_SUGGEST_DAYS = 7
MAINTENANCE_SUGGEST_MAX_PAIN = 1


def is_setback(*, pain_before: int, pain_after: int, stop_signal: bool) -> bool:
    """A session with a stop signal, or pain after at least SETBACK_PAIN_RISE above before.

    ``tracking.models.SessionQuerySet.setbacks`` is the same rule in SQL.
    """
    return stop_signal or pain_after - pain_before >= SETBACK_PAIN_RISE


def sessions_per_day(phase: Phase, stage: Stage = Stage.FOUNDATION) -> int | None:
    """Main-exercise sessions a day, or None in maintenance (counted per week)."""
    if phase is Phase.MAINTENANCE:
        return None
    return ACUTE_SESSIONS_PER_DAY if phase is Phase.ACUTE else stage.rule.sessions_per_day


def sessions_per_week(phase: Phase, stage: Stage = Stage.FOUNDATION) -> tuple[int, int]:
    """Sessions a week the phase asks for, as (fewest, most): the one home of this number."""
    per_day = sessions_per_day(phase, stage)
    if per_day is None:
        return MAINTENANCE_SESSIONS_PER_WEEK
    return per_day * 7, per_day * 7


class DayFacts(NamedTuple):
    """One local day with at least one session, summed by the database.

    A named tuple (immutable, like the frozen dataclass it was): a plan builds one per day
    of the programme on every fresh plan, a year of them after every logged session, and
    a tuple is made three times faster."""

    day: date
    sessions: int
    lying_sessions: int  # single- or double-leg knee to chest
    before_total: int
    before_max: int


class DaysByDate(NamedTuple):
    """The days as ``prescription_for`` reads them: by date, from ``start`` to ``today``,
    and the dates with a lying session among them. For a caller that keeps the days
    before today (tracking.plan, once per history version) and adds today's on every plan
    (``with_today``): a year of days is then not sorted by date again on every log."""

    start: date
    today: date
    by_day: Mapping[date, DayFacts]
    lying_days: frozenset[date]

    @classmethod
    def of(cls, days: Iterable[DayFacts], *, start: date, today: date) -> DaysByDate:
        """As ``prescription_for`` reads a list (of a day given twice, the last)."""
        by_day = {d.day: d for d in days if start <= d.day <= today}
        lying = frozenset(d for d, f in by_day.items() if f.lying_sessions)
        return cls(start, today, by_day, lying)

    def with_today(self, facts: DayFacts | None) -> DaysByDate:
        """These days with today's ``facts`` (after them, as in a list: they replace any)."""
        if facts is None:
            return self
        if facts.day != self.today:
            raise ValueError(f"{facts.day} is not {self.today}")
        lying = self.lying_days
        if facts.lying_sessions:
            lying = lying | {facts.day}
        elif facts.day in lying:
            lying = lying - {facts.day}
        return self._replace(by_day={**self.by_day, facts.day: facts}, lying_days=lying)


class SetbackKind(StrEnum):
    STOP_SIGNAL = "stop_signal"
    PAIN_RISE = "pain_rise"


@dataclass(frozen=True)
class Setback:
    """A setback as stamped when it was logged (an edit or delete later does not erase it)."""

    day: date
    kind: SetbackKind
    rise: int = 0


@dataclass(frozen=True)
class ExerciseRule:
    """An exercise's own hold/rep rule, as stored in the catalogue."""

    slug: str
    hold_min: int
    hold_max: int
    reps: int
    both_legs: bool = False


class Frequency(StrEnum):
    PER_DAY = "per_day"
    PER_WEEK = "per_week"
    ON_WAKING = "on_waking"
    WORK_BREAKS = "work_breaks"
    SHARED_DAILY = "shared_daily"  # part of the acute flare's daily total


@dataclass(frozen=True)
class PlanItem:
    slug: str
    hold_target: int
    hold_min: int
    hold_max: int
    reps: int  # per leg (or per set for the double-leg stretch)
    sides: tuple[str, ...]  # ("left", "right"), ("both",) or one side
    frequency: Frequency
    times: int  # how many times in the frequency's period
    times_max: int

    @property
    def per_leg(self) -> bool:
        return self.sides != ("both",)


@dataclass(frozen=True)
class UnlockProgress:
    unlocked: bool
    days_since_start: int
    days_logged: int
    mean_pain: float | None
    blocker: str = ""
    unlocked_days: int = 0
    days_needed: int = UNLOCK_DAYS_NEEDED


class Change(StrEnum):
    START = "start"
    STEP_UP = "step_up"
    SETBACK = "setback"
    REPEAT_SETBACK = "repeat_setback"
    GAP = "gap"
    RESTART = "restart"


@dataclass(frozen=True)
class StageHistory:
    stage: Stage
    entered: date
    change: Change
    cause_day: date | None = None  # the setback's day, or the last session before a gap
    cause: Setback | None = None


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
    history: StageHistory
    stage_reason: str = ""
    next_step: str = ""
    worsening: bool = False
    suggest_acute: bool = False
    suggest_maintenance: bool = False
    daily_cap: int | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def main(self) -> PlanItem:
        return self.items[0]

    @property
    def held_back(self) -> bool:
        return self.stage < self.calendar_stage


DEFAULT_RULES: dict[str, ExerciseRule] = {
    SINGLE_LEG: ExerciseRule(SINGLE_LEG, 15, 60, 3),
    DOUBLE_LEG: ExerciseRule(DOUBLE_LEG, 15, 30, 3, both_legs=True),
    FIGURE_FOUR: ExerciseRule(FIGURE_FOUR, 20, 30, 3),
    STANDING_HUG: ExerciseRule(STANDING_HUG, 30, 30, 1),
    MORNING: ExerciseRule(MORNING, 15, 20, 3),
}


def programme_week(start: date, today: date) -> int:
    """Week 1 is the first 7 days from the start date, counted in the user's own days."""
    return max(0, (today - start).days) // 7 + 1


def calendar_stage(day_index: int) -> Stage:
    """The highest stage the calendar allows on this day of the programme (0 = first day)."""
    week = day_index // 7 + 1
    stage = Stage.FOUNDATION
    for rule in STAGES.values():
        if week >= rule.first_week:
            stage = rule.stage
    return stage


def _weekday(day: date, today: date) -> str:
    if day == today - timedelta(days=1):
        return "yesterday"
    if today - day < timedelta(days=7):
        return f"{day:%A}"
    return f"{day.day} {day:%B}"


def stage_history(
    *,
    start: date,
    today: date,
    lying_days: set[date],
    setbacks: Iterable[Setback],
    worsening: bool = False,
) -> StageHistory:
    """Walk the programme day by day and return today's stage with how it was reached.

    Each day is judged on the days before it, so a day's plan does not change under the
    user's feet: a setback steps the stage down from the next day.

    A pure function of its arguments (and this module's constants), remembered per
    process for the last 128 calls: every log POST builds a fresh plan, and a session
    logged today changes none of them after the day's first lying session, so the walk
    over a year of days would give the same answer again. The key is every argument, whole
    (today's lying day and setbacks included, though the walk reads only the days before).
    """
    return _stage_history(start, today, frozenset(lying_days), tuple(setbacks), worsening)


@functools.lru_cache(maxsize=128)
def _stage_history(
    start: date,
    today: date,
    lying_days: frozenset[date],
    setbacks: tuple[Setback, ...],
    worsening: bool,
) -> StageHistory:
    per_day: Counter[date] = Counter(s.day for s in setbacks)
    latest_setback: dict[date, Setback] = {}
    for setback in setbacks:
        kept = latest_setback.get(setback.day)
        if kept is None or (setback.kind, setback.rise) > (kept.kind, kept.rise):
            latest_setback[setback.day] = setback
    state = StageHistory(Stage.FOUNDATION, start, Change.START)
    last_session: date | None = None
    day = start
    while day < today:
        day += timedelta(days=1)
        yesterday = day - timedelta(days=1)
        if yesterday in lying_days:
            last_session = yesterday
        if per_day[yesterday]:
            window = [yesterday - timedelta(days=k) for k in range(REPEAT_SETBACK_WINDOW_DAYS)]
            if sum(per_day[d] for d in window) >= 2:
                state = StageHistory(
                    Stage.FOUNDATION,
                    day,
                    Change.REPEAT_SETBACK,
                    yesterday,
                    latest_setback[yesterday],
                )
            else:
                lower = Stage(max(Stage.FOUNDATION, state.stage - 1))
                state = StageHistory(
                    lower, day, Change.SETBACK, yesterday, latest_setback[yesterday]
                )
            continue
        if last_session is not None:
            gap = (day - last_session).days
            if gap == GAP_RESTART_DAYS:
                state = StageHistory(Stage.FOUNDATION, day, Change.RESTART, last_session)
                continue
            if gap == GAP_STEP_DOWN_DAYS:
                lower = Stage(max(Stage.FOUNDATION, state.stage - 1))
                state = StageHistory(lower, day, Change.GAP, last_session)
                continue
        # "Getting worse" compares the last 7 days with the baseline: while it holds, no
        # step up inside that window, so a frozen stage does not climb on replaying it.
        frozen = worsening and (today - day).days < EVIDENCE_WINDOW_DAYS
        if _may_step_up(state, day, start, lying_days, per_day) and not frozen:
            state = StageHistory(Stage(state.stage + 1), day, Change.STEP_UP)
    return state


def _evidence(day: date, lying_days: set[date], per_day: Counter[date]) -> tuple[int, int]:
    window = [day - timedelta(days=k) for k in range(1, EVIDENCE_WINDOW_DAYS + 1)]
    return sum(1 for d in window if d in lying_days), sum(per_day[d] for d in window)


def _may_step_up(
    state: StageHistory, day: date, start: date, lying_days: set[date], per_day: Counter[date]
) -> bool:
    if calendar_stage((day - start).days) <= state.stage:
        return False
    if (day - state.entered).days < STEP_UP_DAYS_AT_STAGE:
        return False
    logged, setbacks = _evidence(day, lying_days, per_day)
    return logged >= EVIDENCE_DAYS_NEEDED and setbacks == 0


def _stage_reason(history: StageHistory, today: date) -> str:
    rule = history.stage.rule
    holds = rule.hold_range
    if history.change is Change.SETBACK and history.cause is not None:
        when = _weekday(history.cause_day, today)
        if history.cause.kind is SetbackKind.STOP_SIGNAL:
            why = f"you reported a stop signal after a session {when}"
        else:
            why = f"your pain rose by {history.cause.rise} after a session {when}"
        return f"Back to {holds} because {why}. A new week of evidence starts from there."
    if history.change is Change.REPEAT_SETBACK:
        return (
            f"Back to the foundation holds ({holds}) because of a second setback within "
            f"{REPEAT_SETBACK_WINDOW_DAYS} days. Build up again from the start."
        )
    if history.change in (Change.GAP, Change.RESTART):
        since = f"{history.cause_day.day} {history.cause_day:%B}"
        return (
            f"Back to {holds} because you have not stretched since {since}: "
            "build up again over a week."
        )
    if history.change is Change.STEP_UP:
        return (
            f"Up to {holds}: you earned it with a week at the last stage, sessions on "
            f"{EVIDENCE_DAYS_NEEDED} of {EVIDENCE_WINDOW_DAYS} days and no setback."
        )
    return f"Everyone starts with the foundation holds ({holds}), whatever the start date."


def _next_step(
    history: StageHistory,
    *,
    start: date,
    today: date,
    lying_days: set[date],
    setbacks: Iterable[Setback],
    worsening: bool,
) -> str:
    """What the next stage still needs, in plain words; empty at the top stage."""
    if history.stage is Stage.FULL:
        return ""
    nxt = Stage(history.stage + 1).rule
    if worsening:
        return (
            f"Step-ups to {nxt.hold_range} are paused while your pain is getting worse "
            "compared with your first week."
        )
    needs = []
    calendar_day = start + timedelta(days=7 * (nxt.first_week - 1))
    if calendar_day > today:
        needs.append(f"programme week {nxt.first_week} (from {calendar_day.day} {calendar_day:%B})")
    at_stage = (today - history.entered).days
    if at_stage < STEP_UP_DAYS_AT_STAGE:
        left = STEP_UP_DAYS_AT_STAGE - at_stage
        needs.append(f"{left} more {'day' if left == 1 else 'days'} at this stage")
    per_day: Counter[date] = Counter(s.day for s in setbacks)
    logged, recent_setbacks = _evidence(today, lying_days, per_day)
    if logged < EVIDENCE_DAYS_NEEDED:
        needs.append(
            f"sessions on {EVIDENCE_DAYS_NEEDED} of the last {EVIDENCE_WINDOW_DAYS} days "
            f"(you have {logged})"
        )
    if recent_setbacks:
        needs.append(f"{EVIDENCE_WINDOW_DAYS} days without a setback")
    if not needs:
        return f"Tomorrow's plan moves up to {nxt.hold_range} if today goes well."
    return f"Next stage ({nxt.hold_range}) needs: " + "; ".join(needs) + "."


# How far back ``_unlock`` reads: the unlock window of the day before the run of unlocked
# days it counts (at most DOUBLE_LEG_FULL_AFTER_DAYS) began.
UNLOCK_READS_DAYS = UNLOCK_WINDOW_DAYS + DOUBLE_LEG_FULL_AFTER_DAYS


def _unlock(
    *,
    start: date,
    today: date,
    by_day: Mapping[date, DayFacts],
    setbacks: Iterable[Setback],
    phase: Phase,
) -> UnlockProgress:
    """Double-leg unlock (SPEC 1.3), judged on the days before today; a setback today locks.

    Reads only the last ``UNLOCK_READS_DAYS`` days before today and the setbacks from then
    to today: those, whole, are the key of a per-process memory of the last 256 answers
    (every log POST builds two plans, and a session logged today changes none of them).
    """
    read = tuple(by_day.get(today - timedelta(days=k)) for k in range(1, UNLOCK_READS_DAYS + 1))
    first = today - timedelta(days=UNLOCK_READS_DAYS)
    near = tuple(sorted(s.day for s in setbacks if first <= s.day <= today))
    return _unlock_on(start, today, read, near, phase)


@functools.lru_cache(maxsize=256)
def _unlock_on(
    start: date,
    today: date,
    read: tuple[DayFacts | None, ...],
    setback_days: tuple[date, ...],
    phase: Phase,
) -> UnlockProgress:
    """``_unlock`` on what it reads: ``read[k - 1]`` is the day ``k`` days before today."""
    by_day = {today - timedelta(days=k): facts for k, facts in enumerate(read, start=1) if facts}
    day_index = max(0, (today - start).days)

    def state_on(day: date) -> tuple[bool, int, float | None, str]:
        window = [day - timedelta(days=k) for k in range(1, UNLOCK_WINDOW_DAYS + 1)]
        logged = sum(1 for d in window if d in by_day and by_day[d].lying_sessions)
        recent = [
            by_day.get(day - timedelta(days=k)) for k in range(1, UNLOCK_PAIN_WINDOW_DAYS + 1)
        ]
        sessions = sum(f.sessions for f in recent if f)
        mean = sum(f.before_total for f in recent if f) / sessions if sessions else None
        first = day - timedelta(days=UNLOCK_WINDOW_DAYS)
        blocker = ""
        if any(first <= setback <= day for setback in setback_days):
            blocker = f"a setback in the last {UNLOCK_WINDOW_DAYS} days"
        elif mean is None or mean > UNLOCK_MAX_MEAN_PAIN:
            blocker = (
                f"mean pain before sessions over the last {UNLOCK_PAIN_WINDOW_DAYS} days "
                f"needs to be {UNLOCK_MAX_MEAN_PAIN} or less"
            )
        ok = (
            (day - start).days >= UNLOCK_AFTER_DAYS and logged >= UNLOCK_DAYS_NEEDED and not blocker
        )
        return ok, logged, mean, blocker

    unlocked, logged, mean, blocker = state_on(today)
    if phase is Phase.ACUTE and unlocked:
        blocker = "the double-leg stretch waits until the acute flare has settled"
        unlocked = False
    run = 0
    if unlocked:
        day = today
        while run < DOUBLE_LEG_FULL_AFTER_DAYS and state_on(day - timedelta(days=1))[0]:
            run += 1
            day -= timedelta(days=1)
    return UnlockProgress(
        unlocked=unlocked,
        days_since_start=day_index,
        days_logged=logged,
        mean_pain=mean,
        blocker=blocker,
        unlocked_days=run,
    )


def _suggest_acute(by_day: Mapping[date, DayFacts], today: date, phase: Phase) -> bool:
    if phase is Phase.ACUTE:
        return False
    days = [today - timedelta(days=k) for k in range(ACUTE_SUGGEST_WINDOW)]
    painful = sum(1 for d in days if d in by_day and by_day[d].before_max >= ACUTE_SUGGEST_PAIN)
    return painful >= ACUTE_SUGGEST_DAYS


def _suggest_maintenance(by_day: Mapping[date, DayFacts], today: date, phase: Phase) -> bool:
    """7 days in a row of pain before at 0-1, ending today or (before today's log) yesterday."""
    if phase is Phase.MAINTENANCE:
        return False

    def calm_run_ending(last: date) -> bool:
        for k in range(MAINTENANCE_SUGGEST_DAYS):
            facts = by_day.get(last - timedelta(days=k))
            if facts is None or facts.before_max > MAINTENANCE_SUGGEST_MAX_PAIN:
                return False
        return True

    today_facts = by_day.get(today)
    today_ok = today_facts is None or today_facts.before_max <= MAINTENANCE_SUGGEST_MAX_PAIN
    return calm_run_ending(today) or (today_ok and calm_run_ending(today - timedelta(days=1)))


def _capped(rule: ExerciseRule, low: int, high: int, target: int) -> tuple[int, int, int]:
    cap = hold_cap(rule.both_legs)
    low, high = min(low, cap), min(high, cap)
    low = min(low, high)
    return low, high, max(low, min(target, high))


def prescription_for(
    *,
    start: date,
    today: date,
    phase: Phase,
    days: Iterable[DayFacts] | DaysByDate,
    setbacks: Iterable[Setback],
    rules: Mapping[str, ExerciseRule] | None = None,
    desk_work: bool = False,
    sciatica_side: str = "",
    worsening: bool = False,
) -> Prescription:
    """Today's plan for one user.

    ``days`` holds one summary per local day with sessions since ``start`` (a list, or a
    ``DaysByDate`` of the same days: one made for this start and today is read as it is);
    ``setbacks``
    every setback stamped since ``start``. ``worsening`` is the pain comparison's "getting
    worse": it freezes step-ups.
    """
    rules = {**DEFAULT_RULES, **(rules or {})}
    if not isinstance(days, DaysByDate) or (days.start, days.today) != (start, today):
        days = DaysByDate.of(
            days.by_day.values() if isinstance(days, DaysByDate) else days,
            start=start,
            today=today,
        )
    by_day, lying_days = days.by_day, days.lying_days
    setbacks = [s for s in setbacks if start <= s.day <= today]
    day_index = max(0, (today - start).days)
    history = stage_history(
        start=start, today=today, lying_days=lying_days, setbacks=setbacks, worsening=worsening
    )
    stage = history.stage
    # During a flare every hold drops to the foundation range, whatever was earned.
    hold_rule = STAGES[Stage.FOUNDATION] if phase is Phase.ACUTE else stage.rule
    # The range's lower end in the stage's first week, and until a week of sessions at it
    # (a new user with an old start date has logged nothing yet).
    logged, _ = _evidence(today, lying_days, Counter())
    settled = (today - history.entered).days >= 7 and logged >= EVIDENCE_DAYS_NEEDED
    target = hold_rule.hold_max if settled else hold_rule.hold_min

    daily_cap = None
    if phase is Phase.MAINTENANCE:
        per_day, per_week = None, MAINTENANCE_SESSIONS_PER_WEEK
        frequency, times, times_max = Frequency.PER_WEEK, *MAINTENANCE_SESSIONS_PER_WEEK
    elif phase is Phase.ACUTE:
        per_day, per_week = ACUTE_SESSIONS_PER_DAY, None
        daily_cap = MAX_ACUTE_SESSIONS_PER_DAY
        frequency, times, times_max = Frequency.SHARED_DAILY, per_day, per_day
    else:
        per_day, per_week = stage.rule.sessions_per_day, None
        frequency, times, times_max = Frequency.PER_DAY, per_day, per_day

    unlock = _unlock(start=start, today=today, by_day=by_day, setbacks=setbacks, phase=phase)
    if unlock.unlocked:
        main_rule = rules[DOUBLE_LEG]
        full = unlock.unlocked_days >= DOUBLE_LEG_FULL_AFTER_DAYS
        high = min(main_rule.hold_max, stage.rule.hold_max, MAX_DOUBLE_LEG_HOLD_SECONDS)
        low = min(DOUBLE_LEG_START_HOLD, high)
        low, high, main_target = _capped(main_rule, low, high, high if full else low)
        sides: tuple[str, ...] = ("both",)
    else:
        main_rule = rules[SINGLE_LEG]
        # An admin may narrow an exercise's range; it can shorten holds, never lengthen them.
        high = min(hold_rule.hold_max, main_rule.hold_max)
        low, high, main_target = _capped(main_rule, min(hold_rule.hold_min, high), high, target)
        sides = ("left", "right")
    items = [
        PlanItem(
            slug=main_rule.slug,
            hold_target=main_target,
            hold_min=low,
            hold_max=high,
            reps=hold_rule.reps_max,
            sides=sides,
            frequency=frequency,
            times=times,
            times_max=times_max,
        )
    ]

    def fixed_item(slug: str, sides: tuple[str, ...], freq: Frequency, n: int, n_max: int):
        rule = rules[slug]
        lo, hi = rule.hold_min, rule.hold_max
        if phase is Phase.ACUTE:
            hi = min(hi, STAGES[Stage.FOUNDATION].hold_max)
        lo, hi, tgt = _capped(rule, lo, hi, lo if day_index < 7 else hi)
        return PlanItem(slug, tgt, lo, hi, rule.reps, sides, freq, n, n_max)

    waking = Frequency.SHARED_DAILY if phase is Phase.ACUTE else Frequency.ON_WAKING
    items.append(fixed_item(MORNING, ("left", "right"), waking, 1, 1))
    if sciatica_side in ("left", "right"):
        items.append(fixed_item(FIGURE_FOUR, (sciatica_side,), frequency, times, times_max))
    # During an acute flare the daily cap covers everything, so work-break hugs pause.
    if desk_work and phase is not Phase.ACUTE:
        items.append(
            fixed_item(
                STANDING_HUG,
                ("left", "right"),
                Frequency.WORK_BREAKS,
                STANDING_HUG_TIMES,
                STANDING_HUG_TIMES,
            )
        )

    notes = []
    if phase is Phase.MAINTENANCE:
        notes.append(
            "Maintenance keeps the holds you have earned; it never adds new ones. "
            f"Aim for {MAINTENANCE_SESSIONS_PER_WEEK[0]}-{MAINTENANCE_SESSIONS_PER_WEEK[1]} "
            "sessions a week."
        )
    if phase is Phase.ACUTE:
        notes.append(
            f"During a flare: at most {MAX_ACUTE_SESSIONS_PER_DAY} short sessions a day in "
            f"total, whichever stretches they are, all at the foundation holds "
            f"({STAGES[Stage.FOUNDATION].hold_range})"
            + (", and work-break hugs pause until it settles." if desk_work else ".")
        )

    return Prescription(
        week=day_index // 7 + 1,
        day_number=day_index + 1,
        calendar_stage=calendar_stage(day_index),
        stage=stage,
        phase=phase,
        hold_target=main_target,
        hold_min=low,
        hold_max=high,
        reps_min=hold_rule.reps_min,
        reps_max=hold_rule.reps_max,
        sessions_per_day=per_day,
        sessions_per_week=per_week,
        unlock=unlock,
        items=tuple(items),
        history=history,
        stage_reason=_stage_reason(history, today),
        next_step=_next_step(
            history,
            start=start,
            today=today,
            lying_days=lying_days,
            setbacks=setbacks,
            worsening=worsening,
        ),
        worsening=worsening,
        suggest_acute=worsening or _suggest_acute(by_day, today, phase),
        suggest_maintenance=not worsening and _suggest_maintenance(by_day, today, phase),
        daily_cap=daily_cap,
        notes=tuple(notes),
    )


def programme_rules() -> tuple[str, ...]:
    """The rules behind every plan, in words, built from the numbers above (never typed twice)."""
    stages = "; ".join(f"{r.weeks_label} {r.hold_range}" for r in STAGES.values())
    return (
        f"Holds grow in stages at the earliest: {stages}. In a stage's first week you aim for "
        "the shorter end.",
        f"A step up needs {STEP_UP_DAYS_AT_STAGE} days at the current stage, sessions on "
        f"{EVIDENCE_DAYS_NEEDED} of the last {EVIDENCE_WINDOW_DAYS} days and no setback. "
        f"A setback (a stop signal, or pain {SETBACK_PAIN_RISE} or more points higher after a "
        "session than before) steps you down one stage the next day; a second within "
        f"{REPEAT_SETBACK_WINDOW_DAYS} days takes you back to the start.",
        f"No sessions for {GAP_STEP_DOWN_DAYS} days steps you down one stage; "
        f"{GAP_RESTART_DAYS} days takes you back to the foundation holds.",
        f"The double-leg stretch unlocks from day {UNLOCK_AFTER_DAYS + 1} after single-leg "
        f"sessions on {UNLOCK_DAYS_NEEDED} of the last {UNLOCK_WINDOW_DAYS} days, no setback "
        f"in that time and mean pain before sessions of {UNLOCK_MAX_MEAN_PAIN} or less over "
        f"the last {UNLOCK_PAIN_WINDOW_DAYS} days. It starts at {DOUBLE_LEG_START_HOLD} s.",
        f"No hold ever goes above {MAX_HOLD_SECONDS} s ({MAX_DOUBLE_LEG_HOLD_SECONDS} s for the "
        f"double-leg stretch), and an acute flare never has more than "
        f"{MAX_ACUTE_SESSIONS_PER_DAY} sessions a day.",
    )
