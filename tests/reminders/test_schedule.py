"""The pure reminder rules: local times, DST gaps and repeats, quiet hours, days off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reminders.schedule import (
    SEND_WINDOW,
    PlanState,
    ReminderKind,
    ReminderRules,
    Slot,
    due_slots,
    in_quiet_hours,
    next_wakeup,
    reminder_for,
    slots_between,
    slots_on,
    times_problems,
)
from stretches.progression import Phase

ZONES = sorted(
    z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/"))
)
# Zones with clock changes in both directions, including a half-hour one and the southern
# hemisphere, so the generated days hit skipped and repeated hours often.
DST_ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "America/Santiago",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Auckland",
    "America/Havana",
    "Asia/Jerusalem",
]
RULES = ReminderRules(morning=time(8), midday=time(13), evening=time(19))


def wall(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment)


def exists(day: date, moment: time, tz: ZoneInfo) -> bool:
    naive = wall(day, moment)
    return any(
        naive.replace(tzinfo=tz, fold=fold).astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        == naive
        for fold in (0, 1)
    )


@cache
def transitions(zone: str, year: int) -> tuple[datetime, ...]:
    """The local wall-clock moments just before each offset change of a zone in a year."""
    tz = ZoneInfo(zone)
    found = []
    day = datetime(year, 1, 1, tzinfo=UTC)
    while day.year == year:
        following = day + timedelta(days=1)
        if following.astimezone(tz).utcoffset() != day.astimezone(tz).utcoffset():
            moment, step = day, timedelta(minutes=30)
            while moment < following:
                if (moment + step).astimezone(tz).utcoffset() != moment.astimezone(tz).utcoffset():
                    found.append(moment.astimezone(tz).replace(tzinfo=None))
                moment += step
        day = following
    return tuple(found)


@st.composite
def near_a_clock_change(draw):
    """(zone, day, time) with the time within 90 minutes of a DST change on that day."""
    zone = draw(st.sampled_from(DST_ZONES))
    year = draw(st.integers(2000, 2037))
    changes = transitions(zone, year)
    assume(changes)
    change = draw(st.sampled_from(changes))
    offset = draw(st.integers(-90, 90))
    moment = (change + timedelta(minutes=offset)).replace(second=0)
    return zone, change.date(), moment.time()


any_day = st.dates(min_value=date(2000, 1, 1), max_value=date(2037, 12, 31))
any_time = st.times().map(lambda t: t.replace(second=0, microsecond=0))
phases = st.sampled_from(list(Phase))


def rules_with(moment: time) -> ReminderRules:
    """Rules whose morning is ``moment`` (the others pushed later, still in order)."""
    minutes = moment.hour * 60 + moment.minute
    later = [min(minutes + 120, 22 * 60), min(minutes + 240, 23 * 60 + 59)]
    return ReminderRules(
        morning=moment,
        midday=time(*divmod(max(later[0], minutes + 1) % 1440, 60)),
        evening=time(*divmod(max(later[1], minutes + 2) % 1440, 60)),
    )


def check_day(slots: list[Slot], day: date, tz: ZoneInfo) -> None:
    instants = [s.at for s in slots]
    assert instants == sorted(set(instants)), "one reminder per instant, in order"
    for slot in slots:
        local = slot.at.astimezone(tz)
        assert local.date() == day
        if exists(day, slot.wall_time, tz):
            # An existing time is kept exactly; a repeated one is its first occurrence.
            assert local.replace(tzinfo=None) == wall(day, slot.wall_time)
            first = wall(day, slot.wall_time).replace(tzinfo=tz, fold=0).astimezone(UTC)
            second = wall(day, slot.wall_time).replace(tzinfo=tz, fold=1).astimezone(UTC)
            assert slot.at == min(first, second)
        else:
            # A skipped time falls just after the gap, never before it and never lost.
            shift = local.replace(tzinfo=None) - wall(day, slot.wall_time)
            assert timedelta(0) < shift <= timedelta(hours=3)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ZONES), any_day, any_time, phases)
def test_every_reminder_falls_on_its_own_local_day_at_its_own_time(zone, day, moment, phase):
    tz = ZoneInfo(zone)
    rules = rules_with(moment)
    if rules.morning < rules.midday < rules.evening:
        check_day(slots_on(day, rules, phase, tz), day, tz)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_a_clock_change(), phases)
def test_skipped_and_repeated_hours_give_exactly_one_reminder(case, phase):
    zone, day, moment = case
    tz = ZoneInfo(zone)
    rules = ReminderRules(morning=moment, midday=time(23, 58), evening=time(23, 59))
    if not rules.morning < rules.midday:
        return
    slots = slots_on(day, rules, Phase.STANDARD if phase is Phase.MAINTENANCE else phase, tz)
    check_day(slots, day, tz)
    morning = [s for s in slots if s.number == 1]
    assert len(morning) == 1, "the morning reminder is neither lost nor doubled"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_a_clock_change(), phases)
def test_a_sender_waking_every_minute_sends_each_reminder_once_across_a_clock_change(case, phase):
    """What send_reminders does, without the database: wake at next_wakeup, send what is due."""
    zone, day, moment = case
    tz = ZoneInfo(zone)
    rules = ReminderRules(
        morning=moment,
        midday=time(23, 58),
        evening=time(23, 59),
        maintenance_days=frozenset(range(7)),
    )
    if not rules.morning < rules.midday:
        return
    start = datetime.combine(day - timedelta(days=1), time(12), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(12), tzinfo=tz).astimezone(UTC)
    expected = slots_between(start, end, rules, phase, tz)
    sent: dict[tuple[date, int], datetime] = {}
    tick = start
    wake = start
    while tick < end:
        if tick >= wake:
            for slot in due_slots(tick, rules, phase, tz):
                assert (slot.day, slot.number) not in sent or sent[(slot.day, slot.number)] < tick
                sent.setdefault((slot.day, slot.number), tick)
            wake = next_wakeup(tick, rules, tz)
        tick += timedelta(seconds=60)
    assert sorted(sent) == sorted((s.day, s.number) for s in expected)
    for slot in expected:
        assert timedelta(0) <= sent[(slot.day, slot.number)] - slot.at < timedelta(seconds=60)


def test_london_spring_forward_moves_0130_to_0230_summer_time():
    london = ZoneInfo("Europe/London")
    rules = ReminderRules(morning=time(1, 30), midday=time(12), evening=time(20))
    [first, _] = slots_on(date(2026, 3, 29), rules, Phase.STANDARD, london)
    assert first.at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert first.at.astimezone(london).strftime("%H:%M %Z") == "02:30 BST"


def test_london_fall_back_sends_0130_once_at_its_first_occurrence():
    london = ZoneInfo("Europe/London")
    rules = ReminderRules(morning=time(1, 30), midday=time(12), evening=time(20))
    slots = slots_on(date(2026, 10, 25), rules, Phase.STANDARD, london)
    assert [s.at for s in slots][0] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    assert len(slots) == 2


def test_a_day_the_zone_skipped_has_no_reminders_and_the_next_day_has_its_own():
    apia = ZoneInfo("Pacific/Apia")  # 30 December 2011 never happened in Samoa
    assert slots_on(date(2011, 12, 30), RULES, Phase.STANDARD, apia) == []
    assert len(slots_on(date(2011, 12, 31), RULES, Phase.STANDARD, apia)) == 2


def test_the_number_of_reminders_follows_the_phase():
    day = date(2026, 11, 30)  # a Monday
    tz = ZoneInfo("Europe/Paris")
    times = lambda phase: [s.wall_time for s in slots_on(day, RULES, phase, tz)]  # noqa: E731
    assert times(Phase.STANDARD) == [time(8), time(19)]
    assert times(Phase.ACUTE) == [time(8), time(13), time(19)]
    assert times(Phase.MAINTENANCE) == [time(8)]  # Monday is a default maintenance day
    week = slots_between(
        datetime(2026, 11, 30, tzinfo=UTC),
        datetime(2026, 12, 7, tzinfo=UTC),
        RULES,
        Phase.MAINTENANCE,
        tz,
    )
    assert len(week) == 3


@settings(deadline=None)
@given(
    st.sampled_from(DST_ZONES),
    any_day,
    any_time,
    any_time,
    st.frozensets(st.integers(0, 6), max_size=6),
    phases,
)
def test_no_reminder_in_quiet_hours_or_on_a_day_off(zone, day, quiet_start, quiet_end, off, phase):
    tz = ZoneInfo(zone)
    rules = ReminderRules(
        morning=time(7, 30),
        midday=time(12, 45),
        evening=time(21, 15),
        days_off=off,
        quiet_start=quiet_start,
        quiet_end=quiet_end,
    )
    for slot in slots_between(
        datetime.combine(day, time(), tzinfo=UTC),
        datetime.combine(day, time(), tzinfo=UTC) + timedelta(days=8),
        rules,
        phase,
        tz,
    ):
        local = slot.at.astimezone(tz)
        assert not in_quiet_hours(local.time(), quiet_start, quiet_end)
        assert local.weekday() not in off


def test_quiet_hours_may_run_past_midnight():
    assert in_quiet_hours(time(23), time(22), time(7))
    assert in_quiet_hours(time(6, 59), time(22), time(7))
    assert not in_quiet_hours(time(7), time(22), time(7))
    assert not in_quiet_hours(time(12), time(22), time(7))


def slot(number: int) -> Slot:
    return Slot(
        at=datetime(2026, 12, 1, 8, tzinfo=UTC),
        day=date(2026, 12, 1),
        number=number,
        wall_time=time(8),
    )


def test_a_session_already_logged_skips_that_reminder():
    decide = lambda n, done: reminder_for(  # noqa: E731
        slot(n),
        phase=Phase.STANDARD,
        plan=PlanState.OPEN,
        first_number_today=1,
        sessions_that_day=done,
        sessions_that_week=done,
    )
    assert decide(1, 0) is ReminderKind.SESSION
    assert decide(1, 1) is None  # the morning session was done before its reminder
    assert decide(2, 1) is ReminderKind.SESSION
    assert decide(2, 2) is None


def test_a_closed_plan_gets_one_safety_reminder_a_day_and_no_session_reminder():
    kinds = [
        reminder_for(
            slot(n),
            phase=Phase.ACUTE,
            plan=PlanState.CLOSED,
            first_number_today=1,
            sessions_that_day=0,
            sessions_that_week=0,
        )
        for n in (1, 2, 3)
    ]
    assert kinds == [ReminderKind.SAFETY, None, None]


def test_nothing_at_all_while_paused_for_the_rest_of_the_day():
    kinds = [
        reminder_for(
            slot(n),
            phase=Phase.STANDARD,
            plan=PlanState.PAUSED_TODAY,
            first_number_today=1,
            sessions_that_day=0,
            sessions_that_week=0,
        )
        for n in (1, 2)
    ]
    assert kinds == [None, None]


def test_maintenance_skips_a_day_already_done_and_a_full_week():
    decide = lambda day, week: reminder_for(  # noqa: E731
        slot(1),
        phase=Phase.MAINTENANCE,
        plan=PlanState.OPEN,
        first_number_today=1,
        sessions_that_day=day,
        sessions_that_week=week,
    )
    assert decide(0, 2) is ReminderKind.SESSION
    assert decide(1, 1) is None
    assert decide(0, 4) is None


def test_due_means_at_most_the_send_window_old():
    tz = ZoneInfo("UTC")
    at = datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert due_slots(at - timedelta(seconds=1), RULES, Phase.STANDARD, tz) == []
    assert len(due_slots(at, RULES, Phase.STANDARD, tz)) == 1
    assert len(due_slots(at + SEND_WINDOW - timedelta(seconds=1), RULES, Phase.STANDARD, tz)) == 1
    assert due_slots(at + SEND_WINDOW, RULES, Phase.STANDARD, tz) == []


def test_times_problems_are_plain_sentences():
    bad = ReminderRules(
        morning=time(8),
        midday=time(9),
        evening=time(23),
        quiet_start=time(22),
        quiet_end=time(7),
        days_off=frozenset({0}),
        maintenance_days=frozenset({0, 1}),
    )
    problems = times_problems(bad)
    assert (
        "The midday reminder must be at least 2 hours after the morning one, so sessions are spread through the day."
        in problems
    )
    assert "The evening reminder (23:00) falls in your quiet hours." in problems
    assert "Choose 3 or 4 days a week for maintenance reminders." in problems
    assert "Monday cannot be both a day off and a maintenance day." in problems
    assert times_problems(RULES) == []
