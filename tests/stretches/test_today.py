"""The /today/ page: the week's prescription, its reasons, and days counted in the user's zone."""

from __future__ import annotations

import re
import zoneinfo
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from tests.conftest import exercise, make_session, make_user
from tests.pages import page_text
from tracking.models import Session, Sides
from tracking.plan import catalogue_rules

UTC = zoneinfo.ZoneInfo("UTC")
# A Tuesday; every test that depends on the calendar freezes time around it.
TODAY = date(2025, 6, 10)
NOON = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


def item_block(text: str, slug: str) -> str:
    """The card of one plan item on /today/."""
    start = text.index(f'id="item-{slug}"')
    return text[start : text.index("</article>", start)]


def done_today(text: str) -> int:
    return int(re.search(r"Done today: <span data-done-count>(\d+)</span>", text).group(1))


def today_for(client, user):
    client.force_login(user)
    response = client.get("/today/")
    assert response.status_code == 200, response.get("Location")
    return response


@pytest.fixture
def frozen(db):
    with time_machine.travel(NOON, tick=False) as traveller:
        yield traveller


# --- The week's prescription ---------------------------------------------------------------


@pytest.mark.parametrize("days_in", [0, 7, 14, 35, 200])
def test_without_sessions_every_start_date_gives_foundation(client, frozen, days_in):
    # The calendar only caps the stage: nothing logged, nothing earned.
    someone = make_user(start=TODAY - timedelta(days=days_in))

    text = page_text(today_for(client, someone))

    assert f"<h1>Week {days_in // 7 + 1} · Foundation stage</h1>" in text
    assert f"Day {days_in + 1} of your programme" in text
    main = item_block(text, "single-knee-to-chest")
    assert "Hold <strong>15 s</strong>" in main
    assert "(range 15-20 s)" in main
    assert "<strong>3</strong> reps per leg" in main


def test_two_weeks_of_sessions_earn_the_build_stage(client, frozen):
    someone = make_user(start=TODAY - timedelta(days=14))
    for days_ago in range(1, 15):  # pain before 4: the double-leg stretch stays locked
        make_session(
            someone, performed_at=NOON - timedelta(days=days_ago), pain_before=4, pain_after=3
        )

    text = page_text(today_for(client, someone))

    assert "<h1>Week 3 · Build stage</h1>" in text
    assert "Up to 30-45 s" in text
    assert "(range 30-45 s)" in item_block(text, "single-knee-to-chest")


@pytest.mark.parametrize(
    ("phase", "lead", "frequency"),
    [
        ("standard", "Standard phase · 2 sessions a day", "2 sessions a day"),
        (
            "acute",
            "Acute flare phase · at most 3 sessions today in total",
            "3 sessions a day in total",
        ),
        ("maintenance", "Maintenance phase · 3-4 sessions a week", "3-4 sessions a week"),
    ],
)
def test_today_shows_sessions_per_day_or_week_for_the_phase(client, frozen, phase, lead, frequency):
    someone = make_user(start=TODAY - timedelta(days=3), phase=phase)

    text = page_text(today_for(client, someone))

    assert lead in text
    assert frequency in item_block(text, "single-knee-to-chest")


@pytest.mark.parametrize(
    "profile_fields",
    [{}, {"desk_work": True}, {"sciatica_side": "right"}, {"phase": "maintenance"}],
)
def test_the_morning_routine_is_always_in_the_plan(client, frozen, profile_fields):
    someone = make_user(start=TODAY - timedelta(days=10), **profile_fields)

    text = page_text(today_for(client, someone))

    morning = item_block(text, "morning-in-bed")
    assert "Morning stretch in bed" in morning
    assert "Once a day, before you get out of bed" in morning


def test_standing_knee_hug_appears_only_with_desk_work(client, frozen):
    desk = make_user(start=TODAY, desk_work=True)
    no_desk = make_user(start=TODAY, desk_work=False)

    with_desk = page_text(today_for(client, desk))
    without_desk = page_text(today_for(client, no_desk))

    hug = item_block(with_desk, "standing-knee-hug")
    assert "Every 2 hours during desk work" in hug
    assert "Hold <strong>30 s</strong>" in hug
    assert 'id="item-standing-knee-hug"' not in without_desk


@pytest.mark.parametrize("side", ["left", "right"])
def test_figure_four_is_on_the_profiles_sciatica_side(client, frozen, side):
    someone = make_user(start=TODAY - timedelta(days=2), sciatica_side=side)

    text = page_text(today_for(client, someone))

    figure_four = item_block(text, "figure-four")
    assert f"{side} side only" in figure_four
    other = "right" if side == "left" else "left"
    assert f"{other} side only" not in figure_four


def test_no_figure_four_without_sciatica(client, frozen):
    someone = make_user(start=TODAY, sciatica_side="")
    assert 'id="item-figure-four"' not in page_text(today_for(client, someone))


# --- The reasons shown ------------------------------------------------------------------------


def test_why_text_counts_the_days_towards_the_double_leg_unlock(client, frozen):
    someone = make_user(start=TODAY - timedelta(days=20))
    for days_ago in (1, 2, 4, 6):
        make_session(someone, performed_at=NOON - timedelta(days=days_ago))

    text = page_text(today_for(client, someone))

    assert "Double-leg stretch: 4 of 10 days of single-leg sessions so far" in text
    assert 'id="item-double-knee-to-chest"' not in text


def test_double_leg_is_prescribed_once_earned_starting_at_15_s(client, frozen):
    someone = make_user(start=TODAY - timedelta(days=40))
    for days_ago in range(1, 15):
        make_session(
            someone, performed_at=NOON - timedelta(days=days_ago), pain_before=2, pain_after=1
        )

    text = page_text(today_for(client, someone))

    assert "The double-leg stretch is unlocked." in text
    double = item_block(text, "double-knee-to-chest")
    assert "Hold <strong>15 s</strong>" in double
    assert "both legs together" in double
    assert 'id="item-single-knee-to-chest"' not in text


def test_a_setback_steps_the_stage_down_and_says_why(client, frozen):
    someone = make_user(start=TODAY - timedelta(days=20))
    for days_ago in range(2, 21):
        make_session(
            someone, performed_at=NOON - timedelta(days=days_ago), pain_before=2, pain_after=1
        )
    make_session(someone, performed_at=NOON - timedelta(days=1), pain_before=2, pain_after=5)

    text = page_text(today_for(client, someone))

    assert "<h1>Week 3 · Foundation stage</h1>" in text
    assert "Back to 15-20 s because your pain rose by 3 after a session yesterday." in text


def test_no_held_back_text_on_a_clean_record(client, frozen):
    someone = make_user(start=TODAY - timedelta(days=30))
    make_session(someone, performed_at=NOON - timedelta(days=3))
    assert "Back to" not in page_text(today_for(client, someone))


def test_maintenance_is_suggested_after_7_calm_days(client, frozen):
    someone = make_user(start=TODAY - timedelta(days=20))
    for days_ago in range(7):
        make_session(someone, performed_at=NOON - timedelta(days=days_ago, hours=1), pain_before=1)

    text = page_text(today_for(client, someone))

    assert "You could move to the maintenance phase" in text


def test_maintenance_is_not_suggested_after_6_calm_days(client, frozen):
    someone = make_user(start=TODAY - timedelta(days=20))
    for days_ago in range(1, 7):
        make_session(someone, performed_at=NOON - timedelta(days=days_ago), pain_before=0)
    make_session(someone, performed_at=NOON - timedelta(days=7), pain_before=4)

    assert "You could move to the maintenance phase" not in page_text(today_for(client, someone))


def test_maintenance_is_not_suggested_to_a_user_already_in_maintenance(client, frozen):
    someone = make_user(start=TODAY - timedelta(days=20), phase="maintenance")
    for days_ago in range(7):
        make_session(someone, performed_at=NOON - timedelta(days=days_ago, hours=1), pain_before=0)

    assert "You could move to the maintenance phase" not in page_text(today_for(client, someone))


# --- A user without a start date -------------------------------------------------------------


def test_user_without_a_start_date_is_asked_for_it(client, frozen):
    someone = make_user(start=None)

    text = page_text(today_for(client, someone))

    assert "When does your programme start?" in text
    assert 'action="/account/start/"' in text
    assert 'name="programme_start"' in text
    assert "<h1>Week" not in text


def test_start_date_saved_from_today_opens_week_1(client, frozen):
    someone = make_user(start=None)
    client.force_login(someone)

    response = client.post("/account/start/", {"programme_start": TODAY.isoformat()})

    assert response.status_code == 302
    assert response.url == "/today/"
    assert Profile.objects.get(user=someone).programme_start == TODAY
    assert "<h1>Week 1 · Foundation stage</h1>" in page_text(client.get("/today/"))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ((TODAY + timedelta(days=1)).isoformat(), "cannot be in the future"),
        ((TODAY - timedelta(days=800)).isoformat(), "more than two years ago"),
        ("next tuesday", "valid date"),
    ],
)
def test_a_bad_start_date_is_refused_with_a_message(client, frozen, value, message):
    someone = make_user(start=None)
    client.force_login(someone)

    response = client.post("/account/start/", {"programme_start": value}, follow=True)

    assert Profile.objects.get(user=someone).programme_start is None
    messages = [str(m) for m in response.context["messages"]]
    assert any(message in m for m in messages), messages
    assert "When does your programme start?" in page_text(response)


def test_start_date_form_needs_post(client, frozen):
    someone = make_user(start=None)
    client.force_login(someone)
    assert client.get("/account/start/").status_code == 405


# --- Query count ------------------------------------------------------------------------------


def add_sessions(user, count: int, *, per_day: int = 2) -> None:
    """``count`` clean sessions, ``per_day`` a day, ending an hour ago."""
    single = exercise()
    Session.objects.bulk_create(
        Session(
            user=user,
            performed_at=NOON - timedelta(hours=1 + 24 * (n // per_day) + 6 * (n % per_day)),
            exercise=single,
            sides=Sides.LEFT_AND_RIGHT,
            reps_per_side=3,
            hold_seconds=30,
            hold_seconds_target=30,
            pain_before=4,
            pain_after=3,
        )
        for n in range(count)
    )


def test_today_query_count_does_not_grow_with_history(client, frozen, django_assert_num_queries):
    few = make_user(start=TODAY - timedelta(days=600))
    many = make_user(start=TODAY - timedelta(days=600))
    add_sessions(few, 10)
    add_sessions(many, 1000)
    # A stop signal and a pain rise long ago are always part of what the plan reads.
    for someone in (few, many):
        make_session(someone, performed_at=NOON - timedelta(days=400), pain_before=2, pain_after=6)

    # The catalogue is everyone's (with REDIS_URL, read into the shared cache once):
    # read before either count, so both count the same thing.
    catalogue_rules()
    client.force_login(few)
    with CaptureQueriesContext(connection) as few_queries:
        assert client.get("/today/").status_code == 200
    client.force_login(many)
    with django_assert_num_queries(len(few_queries)):
        response = client.get("/today/")
    assert response.status_code == 200

    # SAVEPOINT/RELEASE wrap the session save only because the test runs in a transaction.
    real = [q for q in few_queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    print(
        f"\n/today/ runs {len(few_queries)} queries ({len(real)} without savepoints) at 10 and 1,000 sessions"
    )
    assert len(real) <= 9
    assert done_today(response.content.decode()) == 2


# --- Days in the user's own time zone ----------------------------------------------------------


SYDNEY = zoneinfo.ZoneInfo("Australia/Sydney")


def test_a_late_evening_session_in_sydney_counts_for_that_sydney_day(client, db):
    # 23:30 on 10 June in Sydney is 13:30 UTC; 00:30 on 10 June is 14:30 UTC on the 9th.
    late = datetime(2025, 6, 10, 23, 30, tzinfo=SYDNEY)
    early = datetime(2025, 6, 10, 0, 30, tzinfo=SYDNEY)
    day_before = datetime(2025, 6, 9, 23, 30, tzinfo=SYDNEY)
    with time_machine.travel(datetime(2025, 6, 10, 23, 45, tzinfo=SYDNEY), tick=False) as trip:
        someone = make_user(time_zone="Australia/Sydney", start=date(2025, 6, 1))
        for when in (day_before, early, late):
            make_session(someone, performed_at=when)
        client.force_login(someone)

        text = page_text(client.get("/today/"))
        assert done_today(text) == 2
        assert "23:30 · Single knee to chest" in text
        assert "00:30 · Single knee to chest" in text

        listing = client.get("/sessions/")
        days = Counter(s.local_day for s in listing.context["page"].object_list)
        assert days == {date(2025, 6, 10): 2, date(2025, 6, 9): 1}
        listed = page_text(listing)
        assert listed.index("Tuesday 10 June 2025") < listed.index("Monday 9 June 2025")

        # Fifteen minutes later it is the 11th in Sydney: nothing done yet that day.
        trip.move_to(datetime(2025, 6, 11, 0, 1, tzinfo=SYDNEY))
        assert done_today(page_text(client.get("/today/"))) == 0


def test_week_1_starts_in_the_users_own_time_zone(client, db):
    auckland = zoneinfo.ZoneInfo("Pacific/Auckland")
    # 22:00 UTC on 10 June is already 10:00 on 11 June in Auckland.
    with time_machine.travel(datetime(2025, 6, 10, 22, 0, tzinfo=UTC), tick=False) as trip:
        someone = make_user(time_zone="Pacific/Auckland", start=None)
        client.force_login(someone)

        response = client.post("/account/start/", {"programme_start": "2025-06-11"})
        assert response.url == "/today/"
        assert Profile.objects.get(user=someone).programme_start == date(2025, 6, 11)
        text = page_text(client.get("/today/"))
        assert "<h1>Week 1 · Foundation stage</h1>" in text
        assert "Day 1 of your programme" in text

        trip.move_to(datetime(2025, 6, 17, 23, 59, tzinfo=auckland))
        assert "Day 7 of your programme" in page_text(client.get("/today/"))

        # Midnight in Auckland (noon UTC): week 2 begins there, not at midnight UTC.
        trip.move_to(datetime(2025, 6, 18, 0, 1, tzinfo=auckland))
        text = page_text(client.get("/today/"))
        assert "<h1>Week 2 · Foundation stage</h1>" in text
        assert "Day 8 of your programme" in text


LONDON = zoneinfo.ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    "dst_sunday",
    [date(2025, 3, 30), date(2025, 10, 26)],
    ids=["clocks-forward", "clocks-back"],
)
def test_per_day_counts_are_right_around_midnight_on_dst_change_days(client, db, dst_sunday):
    saturday = dst_sunday - timedelta(days=1)
    monday = dst_sunday + timedelta(days=1)

    def at(day: date, hour: int, minute: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)

    with time_machine.travel(at(saturday, 8, 0), tick=False) as trip:
        someone = make_user(time_zone="Europe/London", start=saturday - timedelta(days=3))
        client.force_login(someone)
        make_session(someone, performed_at=at(saturday, 23, 50))

        trip.move_to(at(dst_sunday, 0, 15))
        make_session(someone, performed_at=at(dst_sunday, 0, 10))
        assert done_today(page_text(client.get("/today/"))) == 1

        trip.move_to(at(dst_sunday, 23, 55))
        make_session(someone, performed_at=at(dst_sunday, 23, 50))
        text = page_text(client.get("/today/"))
        assert done_today(text) == 2
        assert "Day 5 of your programme" in text

        trip.move_to(at(monday, 0, 20))
        make_session(someone, performed_at=at(monday, 0, 10))
        text = page_text(client.get("/today/"))
        assert done_today(text) == 1
        assert "Day 6 of your programme" in text

        listing = client.get("/sessions/")
        days = Counter(s.local_day for s in listing.context["page"].object_list)
        assert days == {saturday: 1, dst_sunday: 2, monday: 1}
