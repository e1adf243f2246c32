"""The private iCalendar feed: recurring events at the reminder times, no health data."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from reminders.schedule import ReminderRules, times_for_day
from stretches.progression import Phase

EVENT_TITLE = "Back stretches"
EVENT_MINUTES = 15
ICAL_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def build_feed(
    *,
    rules: ReminderRules,
    phase: Phase,
    tz: ZoneInfo,
    start: date,
    uid_prefix: str,
    today_url: str,
    stamp: datetime,
) -> bytes:
    """The feed as bytes. Only times, a title and a link: nothing about pain or screening.

    Each reminder time is one event that repeats at the same wall-clock time in the user's
    zone (with its VTIMEZONE), so calendar apps move it correctly across DST changes.
    """
    calendar = Calendar()
    calendar.add("prodid", "-//EaseBack//Reminders//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", EVENT_TITLE)
    calendar.add("x-published-ttl", "PT6H")
    working_days = [d for d in range(7) if d not in rules.days_off]
    if phase is Phase.MAINTENANCE:
        days = [d for d in sorted(rules.maintenance_days) if d in working_days]
        walls = (rules.morning,)
    else:
        days = working_days
        # The times of an ordinary day (every working day has the same ones).
        walls = times_for_day(rules, phase, _first_of(start, days))
    # The first occurrence must itself match the rule, or calendars count it as an extra.
    first = _first_of(start, days)
    for number, wall in enumerate(walls, start=1):
        if not days:
            break
        event = Event()
        event.add("uid", f"{uid_prefix}-{number}@easeback")
        event.add("dtstamp", stamp)
        event.add("summary", EVENT_TITLE)
        event.add("description", f"Today's plan: {today_url}")
        event.add("url", today_url)
        event.add("dtstart", datetime.combine(first, wall, tzinfo=tz))
        event.add("duration", timedelta(minutes=EVENT_MINUTES))
        if phase is Phase.MAINTENANCE or len(days) < 7:
            event.add("rrule", {"freq": "weekly", "byday": [ICAL_DAYS[d] for d in days]})
        else:
            event.add("rrule", {"freq": "daily"})
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", EVENT_TITLE)
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _first_of(start: date, weekdays: list[int]) -> date:
    day = start
    for _ in range(7):
        if day.weekday() in weekdays:
            return day
        day += timedelta(days=1)
    return start
