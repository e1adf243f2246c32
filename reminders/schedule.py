"""When reminders fall, as pure functions (no Django).

Times are wall-clock times in the user's own time zone. A time that does not exist on a
day (the hour skipped when the clocks go forward) falls after the gap, and a time that
happens twice (the hour repeated when they go back) falls on its first occurrence: the
rule of RFC 5545 (3.3.5), so the push reminders and the calendar feed agree with every
calendar app. Each day's reminders are numbered 1, 2, 3 in time order; a reminder is
identified by (user, local day, number), which is what makes "sent once" checkable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from stretches.progression import (
    ACUTE_SESSIONS_PER_DAY,
    MAINTENANCE_SESSIONS_PER_WEEK,
    STAGES,
    Phase,
    Stage,
)

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Sessions are meant to be spread through the day, so reminder times stay this far apart.
MIN_GAP_BETWEEN_TIMES = timedelta(hours=2)
# A reminder the sender could not send within this long after its time is dropped rather
# than arriving late (after an outage, say): a stretch reminder at the wrong hour is noise.
SEND_WINDOW = timedelta(minutes=15)
MAINTENANCE_DAYS_ALLOWED = MAINTENANCE_SESSIONS_PER_WEEK  # (3, 4) days a week


class PlanState(StrEnum):
    """What the safety gate says about today's plan, as far as reminders care."""

    OPEN = "open"
    CLOSED = "closed"  # the safety questions (or a clearance) would open it
    PAUSED_TODAY = "paused_today"  # a stop signal today: nothing opens it before tomorrow


class ReminderKind(StrEnum):
    SESSION = "session"  # time for a session of today's plan
    SAFETY = "safety"  # the plan is closed: answer the safety questions instead


@dataclass(frozen=True)
class ReminderRules:
    """One user's reminder settings, as plain values."""

    morning: time
    midday: time
    evening: time
    days_off: frozenset[int] = frozenset()  # 0 = Monday
    maintenance_days: frozenset[int] = frozenset({0, 2, 4})
    quiet_start: time | None = None
    quiet_end: time | None = None

    @property
    def times(self) -> tuple[time, time, time]:
        return (self.morning, self.midday, self.evening)


@dataclass(frozen=True)
class Slot:
    """One reminder: its instant (UTC), the local day it belongs to and its number that day."""

    at: datetime
    day: date
    number: int
    wall_time: time  # the time as the user set it


def sessions_per_day(phase: Phase) -> int:
    """How many daily reminders a phase asks for (maintenance counts per week instead)."""
    if phase is Phase.ACUTE:
        return ACUTE_SESSIONS_PER_DAY
    # Every stage asks for the same number of sessions a day; the stage changes the holds.
    return STAGES[Stage.FOUNDATION].sessions_per_day


def times_for_day(rules: ReminderRules, phase: Phase, day: date) -> tuple[time, ...]:
    """The wall-clock reminder times of one local day, before DST and quiet hours."""
    weekday = day.weekday()
    if weekday in rules.days_off:
        return ()
    if phase is Phase.MAINTENANCE:
        return (rules.morning,) if weekday in rules.maintenance_days else ()
    count = sessions_per_day(phase)
    if count == 1:
        return (rules.morning,)
    if count == 2:
        return (rules.morning, rules.evening)
    return rules.times


def in_quiet_hours(moment: time, start: time | None, end: time | None) -> bool:
    """Whether a wall-clock time lies in [start, end), which may run past midnight."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day (fold=0: RFC 5545's reading)."""
    return datetime.combine(day, wall, tzinfo=tz).astimezone(UTC)


def slots_on(day: date, rules: ReminderRules, phase: Phase, tz: ZoneInfo) -> list[Slot]:
    """The reminders of one local day, in time order, each at a distinct instant."""
    slots: list[Slot] = []
    for number, wall in enumerate(times_for_day(rules, phase, day), start=1):
        at = instant(day, wall, tz)
        local = at.astimezone(tz)
        # A day the zone skipped altogether (Samoa, 30 December 2011) has no reminders:
        # its times belong to the next day, which has its own.
        if local.date() != day:
            continue
        # Shifted past a skipped hour, a time may land in quiet hours: quiet wins.
        if in_quiet_hours(local.time().replace(fold=0), rules.quiet_start, rules.quiet_end):
            continue
        if slots and at <= slots[-1].at:
            continue
        slots.append(Slot(at=at, day=day, number=number, wall_time=wall))
    return slots


def slots_between(
    start: datetime, end: datetime, rules: ReminderRules, phase: Phase, tz: ZoneInfo
) -> list[Slot]:
    """Every reminder with start <= at < end, in time order."""
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    found: list[Slot] = []
    day = first
    while day <= last:
        found.extend(s for s in slots_on(day, rules, phase, tz) if start <= s.at < end)
        day += timedelta(days=1)
    return found


def due_slots(now: datetime, rules: ReminderRules, phase: Phase, tz: ZoneInfo) -> list[Slot]:
    """The reminders whose time has come and is less than SEND_WINDOW old."""
    tick = timedelta(microseconds=1)
    return slots_between(now - SEND_WINDOW + tick, now + tick, rules, phase, tz)


def next_wakeup(now: datetime, rules: ReminderRules, tz: ZoneInfo) -> datetime:
    """The next instant after ``now`` at which any reminder could fall, whatever the phase.

    The sender looks at a user only then; the exact rules (phase, days off, sessions logged,
    the safety gate) are applied at that moment, so a change of phase needs no bookkeeping.
    """
    local_day = now.astimezone(tz).date()
    candidates = [
        instant(local_day + timedelta(days=offset), wall, tz)
        for offset in range(-1, 3)
        for wall in rules.times
    ]
    return min(at for at in candidates if at > now)


def reminder_for(
    slot: Slot,
    *,
    phase: Phase,
    plan: PlanState,
    first_number_today: int,
    sessions_that_day: int,
    sessions_that_week: int,
) -> ReminderKind | None:
    """What, if anything, to send for a slot that is due.

    - The plan is closed (a blocking screening, a stop signal, a screening due): no session
      reminder; the day's first reminder asks for the safety questions instead.
    - Paused for the rest of today after a stop signal: nothing at all (no answer can open
      the plan before tomorrow, whose first reminder then asks for the questions).
    - Otherwise reminder number n is skipped once n sessions are logged that day (a
      session done early counts for the next reminder); in maintenance a session that day,
      or the week's upper aim reached, skips it.
    """
    if plan is PlanState.PAUSED_TODAY:
        return None
    if plan is PlanState.CLOSED:
        return ReminderKind.SAFETY if slot.number == first_number_today else None
    if phase is Phase.MAINTENANCE:
        if sessions_that_day >= 1 or sessions_that_week >= MAINTENANCE_SESSIONS_PER_WEEK[1]:
            return None
        return ReminderKind.SESSION
    if sessions_that_day >= slot.number:
        return None
    return ReminderKind.SESSION


def times_problems(rules: ReminderRules) -> list[str]:
    """What is wrong with a set of times, in plain words (empty when they are fine)."""
    problems = []
    pairs = (("morning", "midday"), ("midday", "evening"))
    for earlier, later in pairs:
        a, b = getattr(rules, earlier), getattr(rules, later)
        if _minutes(b) - _minutes(a) < MIN_GAP_BETWEEN_TIMES.total_seconds() // 60:
            problems.append(
                f"The {later} reminder must be at least "
                f"{int(MIN_GAP_BETWEEN_TIMES.total_seconds() // 3600)} hours after the "
                f"{earlier} one, so sessions are spread through the day."
            )
    for name in ("morning", "midday", "evening"):
        if in_quiet_hours(getattr(rules, name), rules.quiet_start, rules.quiet_end):
            problems.append(
                f"The {name} reminder ({getattr(rules, name):%H:%M}) falls in your quiet hours."
            )
    if len(rules.days_off) >= 7:
        problems.append("Leave at least one day without a day off.")
    low, high = MAINTENANCE_DAYS_ALLOWED
    if not low <= len(rules.maintenance_days) <= high:
        problems.append(f"Choose {low} or {high} days a week for maintenance reminders.")
    clash = rules.maintenance_days & rules.days_off
    if clash:
        names = ", ".join(WEEKDAY_NAMES[d] for d in sorted(clash))
        problems.append(f"{names} cannot be both a day off and a maintenance day.")
    return problems


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute
