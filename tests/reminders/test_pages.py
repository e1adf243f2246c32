"""/account/reminders/ and the calendar feed."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from dateutil.rrule import rrulestr
from django.test import Client
from icalendar import Calendar

from reminders.models import CalendarFeed, PushSubscription, ReminderSettings
from reminders.schedule import slots_between
from stretches.progression import Phase
from tests.factories import make_user
from tests.reminders.factories import make_reminders

pytestmark = pytest.mark.django_db
FEED_URL = re.compile(r'value="(http://testserver/calendar/([\w-]+)\.ics)"')


def settings_post(**overrides) -> dict:
    data = {
        "push_enabled": "on",
        "morning": "07:30",
        "midday": "12:30",
        "evening": "18:45",
        "quiet_start": "22:00",
        "quiet_end": "07:00",
        "days_off": ["6"],
        "maintenance_days": ["0", "2", "4"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_the_account_page_links_to_reminders(signed_in):
    assert 'href="/account/reminders/"' in signed_in.get("/account/").text


def test_the_page_shows_todays_rhythm_and_upcoming_times_in_the_users_zone(client):
    user = make_user("sydney", time_zone="Australia/Sydney", phase=Phase.ACUTE.value)
    client.force_login(user)
    with time_machine.travel(datetime(2026, 12, 1, 20, 0, tzinfo=UTC)):  # 07:00 in Sydney
        page = client.get("/account/reminders/")
    assert page.status_code == 200
    assert "Acute flare phase: 3 sessions a day, so 3 reminders a day." in page.text
    assert "Wednesday 2 December, 08:00" in page.text  # Sydney's morning, not UTC's
    assert page.headers["Cache-Control"].startswith("max-age=0")


def test_saving_times_quiet_hours_and_days_off(signed_in, user):
    response = signed_in.post("/account/reminders/", settings_post())

    assert response.status_code == 302
    saved = ReminderSettings.objects.get(user=user)
    assert (saved.morning, saved.evening, saved.quiet_start) == (
        time(7, 30),
        time(18, 45),
        time(22),
    )
    assert saved.rules.days_off == {6} and saved.rules.maintenance_days == {0, 2, 4}
    assert saved.next_due_at is None  # the sender looks again at once


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"midday": "08:00"}, "must be at least 2 hours after the morning one"),
        ({"morning": "06:30"}, "The morning reminder (06:30) falls in your quiet hours."),
        ({"maintenance_days": ["0", "2"]}, "Choose 3 or 4 days a week"),
        ({"maintenance_days": ["0", "2", "6"]}, "Sunday cannot be both a day off"),
        ({"days_off": [str(d) for d in range(7)]}, "Leave at least one day"),
        ({"quiet_end": ""}, "Give both ends of your quiet hours, or neither."),
        ({"morning": "25:00"}, "Enter a valid time."),
        ({"days_off": ["9"]}, "Select a valid choice."),
    ],
)
def test_bad_settings_get_a_clear_message_and_change_nothing(signed_in, user, overrides, message):
    signed_in.get("/account/reminders/")
    before = list(ReminderSettings.objects.filter(user=user).values())

    response = signed_in.post("/account/reminders/", settings_post(**overrides))

    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert list(ReminderSettings.objects.filter(user=user).values()) == before


def test_removing_a_device_and_another_users_device_is_404(client):
    owner, intruder = make_user("owner"), make_user("intruder")
    device = PushSubscription.objects.create(
        user=owner, endpoint="https://push.example/abc", p256dh="x", auth="y", device="Phone"
    )
    client.force_login(intruder)
    assert (
        client.post("/account/reminders/devices/remove/", {"device": device.pk}).status_code == 404
    )
    assert client.post("/account/reminders/devices/remove/", {"device": "x"}).status_code == 404
    assert PushSubscription.objects.filter(pk=device.pk).exists()

    client.force_login(owner)
    assert "Phone" in client.get("/account/reminders/").text
    assert (
        client.post("/account/reminders/devices/remove/", {"device": device.pk}).status_code == 302
    )
    assert not PushSubscription.objects.exists()


def test_a_subscription_is_stored_once_per_device_and_bad_ones_are_refused(signed_in, user):
    from tests.reminders.push_receiver import Device

    class Origin:
        origin = "https://push.example"

    browser = Device(Origin(), "phone")
    body = {
        "endpoint": browser.endpoint,
        "keys": {"p256dh": browser.p256dh, "auth": browser.auth},
        "device": "Chrome on Android",
    }
    url = "/account/reminders/devices/"
    assert signed_in.post(url, body, content_type="application/json").status_code == 201
    assert signed_in.post(url, body, content_type="application/json").status_code == 201
    assert PushSubscription.objects.filter(user=user).count() == 1

    bad = [
        {},
        {"endpoint": "http://push.example/x", "keys": body["keys"]},
        {"endpoint": browser.endpoint, "keys": {"p256dh": "AAAA", "auth": browser.auth}},
        {"endpoint": browser.endpoint, "keys": {"p256dh": browser.p256dh, "auth": "short"}},
        "not json",
    ]
    for sent in bad:
        response = signed_in.post(url, sent, content_type="application/json")
        assert response.status_code == 400, sent
    assert PushSubscription.objects.count() == 1


# --- The calendar feed ------------------------------------------------------------------


def new_feed(client) -> tuple[str, str]:
    page = client.post("/account/reminders/calendar/")
    assert page.status_code == 200
    url, token = FEED_URL.search(page.text).groups()
    return url, token


def test_the_feed_token_is_long_random_hashed_and_shown_once(signed_in, user):
    url, token = new_feed(signed_in)

    assert len(token) >= 43
    stored = CalendarFeed.objects.get(user=user)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(CalendarFeed.objects.values()))
    assert token not in signed_in.get("/account/reminders/").text  # shown once only
    feed = Client().get(url)
    assert feed.status_code == 200
    assert feed.headers["Cache-Control"] == "private, no-store"
    assert feed.headers["Content-Type"].startswith("text/calendar")


def test_a_new_feed_address_retires_the_old_one(signed_in):
    old_url, _ = new_feed(signed_in)
    new_url, _ = new_feed(signed_in)

    assert Client().get(old_url).status_code == 404
    assert Client().get(new_url).status_code == 200
    signed_in.post("/account/reminders/calendar/off/")
    assert Client().get(new_url).status_code == 404


def test_the_feed_is_rate_limited_per_address_across_workers(signed_in, settings):
    settings.REMINDERS_FEED_REQUESTS_PER_HOUR = 3
    url, _ = new_feed(signed_in)
    other_worker = Client()  # the count is in the database, not in a process

    answers = [Client().get(url).status_code for _ in range(2)]
    answers.append(other_worker.get(url).status_code)
    answers.append(other_worker.get("/calendar/guess.ics").status_code)
    elsewhere = Client(REMOTE_ADDR="203.0.113.9").get(url).status_code

    assert answers == [200, 200, 200, 429]
    assert elsewhere == 200


def feed_events(client, url):
    calendar = Calendar.from_ical(Client().get(url).content)
    return calendar, [c for c in calendar.walk("VEVENT")]


def test_feed_events_repeat_at_the_reminder_times_with_an_alarm_and_no_health_data(client):
    user = make_user("erin", time_zone="Europe/London", phase=Phase.ACUTE.value)
    make_reminders(user, days_off=0b1000000)  # Sundays off
    client.force_login(user)
    url, _ = new_feed(client)

    calendar, events = feed_events(client, url)

    assert [e["summary"] for e in events] == ["Back stretches"] * 3
    assert sorted(e.decoded("dtstart").time() for e in events) == [time(8), time(13), time(19)]
    for event in events:
        assert event["url"] == "http://testserver/today/"
        assert event["rrule"]["byday"] == ["MO", "TU", "WE", "TH", "FR", "SA"]
        [alarm] = event.walk("VALARM")
        assert alarm["action"] == "DISPLAY" and alarm.decoded("trigger") == timedelta(0)
    assert calendar.walk("VTIMEZONE")[0]["tzid"] == "Europe/London"
    text = Client().get(url).content.decode()
    for private in ("pain", "screening", "acute", "flare", "erin", "sciatica"):
        assert private not in text.lower()


@pytest.mark.parametrize(
    ("zone", "change"),
    [("Europe/London", date(2027, 3, 28)), ("America/New_York", date(2027, 11, 7))],
)
def test_feed_times_keep_their_wall_clock_across_a_dst_change_like_the_push_reminders(
    client, zone, change
):
    tz = ZoneInfo(zone)
    user = make_user(f"user-{zone[:6]}", time_zone=zone)
    make_reminders(user)
    with time_machine.travel(datetime.combine(change - timedelta(days=3), time(12), tzinfo=tz)):
        client.force_login(user)
        url, _ = new_feed(client)
    _, events = feed_events(client, url)

    fired = []
    for event in events:
        rule = rrulestr(event["rrule"].to_ical().decode(), dtstart=event.decoded("dtstart"))
        fired += rule.between(
            datetime.combine(change - timedelta(days=2), time(), tzinfo=tz),
            datetime.combine(change + timedelta(days=2), time(), tzinfo=tz),
        )
    local_times = {moment.time() for moment in fired}
    offsets = {moment.utcoffset() for moment in fired}
    assert local_times == {time(8), time(19)}  # the same wall-clock times...
    assert len(offsets) == 2  # ...on both sides of the change
    # ...and at exactly the instants the push sender uses.
    instants = sorted(moment.astimezone(UTC) for moment in fired)
    reminders = ReminderSettings.objects.get(user=user)
    expected = slots_between(
        instants[0], instants[-1] + timedelta(seconds=1), reminders.rules, Phase.STANDARD, tz
    )
    assert instants == [s.at for s in expected]


def test_the_reminders_page_reads_a_constant_number_of_rows(
    signed_in, user, django_assert_max_num_queries
):
    def add_devices(count: int) -> None:
        for n in range(count):
            PushSubscription.objects.create(
                user=user,
                endpoint=f"https://push.example/{user.pk}-{n}-{count}",
                p256dh="k",
                auth="a",
                device=f"Device {n}",
            )

    add_devices(1)
    signed_in.get("/account/reminders/")
    with django_assert_max_num_queries(12) as few:
        signed_in.get("/account/reminders/")
    add_devices(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = signed_in.get("/account/reminders/")
    assert page.text.count("Remove<span") == 7
