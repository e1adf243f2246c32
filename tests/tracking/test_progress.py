"""The progress page and the clinician report (SPEC 2.2, 2.3): charts, verdict, weeks, privacy."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts.services import create_account
from stretches.models import Clearance, Exercise, Screening
from tests.factories import SIGNED_IN_QUERIES
from tracking.models import Session, WeeklyCheckin
from tracking.progress_views import daily_numbers

PASSWORD = "calm-Stretch-42"
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 5, 20, 18, 0, tzinfo=LONDON)  # a Wednesday evening
TODAY = NOW.date()
START = TODAY - timedelta(days=41)  # 9 April: today is the last day of week 6
PAGES = ["/progress/", "/progress/report/", "/progress/export.csv", "/progress/export.json"]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def make_account(username: str, *, time_zone: str = "Europe/London", start: date | None = START):
    user = create_account(username=username, password=PASSWORD, time_zone=time_zone)
    user.profile.programme_start = start
    user.profile.save()
    return user


def make_session(
    user,
    when: datetime,
    *,
    slug: str = "single-knee-to-chest",
    pain_before: int = 5,
    pain_after: int = 4,
    **fields,
) -> Session:
    stop_signals = fields.pop("stop_signals", [])
    return Session.objects.create(
        user=user,
        performed_at=when,
        exercise=Exercise.objects.get(slug=slug),
        sides="left_right",
        reps_per_side=3,
        hold_seconds=20,
        hold_seconds_target=20,
        pain_before=pain_before,
        pain_after=pain_after,
        stop_signals=stop_signals,
        has_stop_signal=bool(stop_signals),
        **fields,
    )


def at(day: date, hour: int, tz: ZoneInfo = LONDON) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz)


def fill_days(user, days, *, before: int, after: int, per_day: int = 2) -> None:
    """``per_day`` sessions on each of ``days``, bulk-created."""
    exercise = Exercise.objects.get(slug="single-knee-to-chest")
    Session.objects.bulk_create(
        Session(
            user=user,
            performed_at=at(day, 8 + 2 * k),
            exercise=exercise,
            sides="left_right",
            reps_per_side=3,
            hold_seconds=20,
            hold_seconds_target=20,
            pain_before=before,
            pain_after=after,
        )
        for day in days
        for k in range(per_day)
    )


def span(first: date, count: int) -> list[date]:
    return [first + timedelta(days=k) for k in range(count)]


def improving(user) -> None:
    """Week 1 at 6 before, the last 7 days at 4 before: a meaningful improvement."""
    fill_days(user, span(START, 7), before=6, after=4)
    fill_days(user, span(TODAY - timedelta(days=6), 7), before=4, after=3)


@pytest.fixture
def amy(client):
    user = make_account("amy")
    client.force_login(user)
    return user


def text_of(response) -> str:
    return response.content.decode()


# --- Access ------------------------------------------------------------------------


@pytest.mark.parametrize("url", PAGES)
def test_progress_pages_need_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_progress_is_not_gated_by_the_screening(client):
    # No screening at all: history stays readable.
    user = make_account("no-screening")
    client.force_login(user)
    assert client.get("/progress/").status_code == 200
    assert client.get("/progress/report/").status_code == 200


# --- Empty states and the verdict --------------------------------------------------


def test_no_sessions_shows_a_friendly_empty_state_with_a_link_to_today(client, amy):
    html = text_of(client.get("/progress/"))
    assert "No sessions yet" in html
    assert 'href="/today/"' in html
    assert "<svg" not in html.split('id="data-h"')[0].split("No sessions yet")[1]
    # Exports and the report stay reachable.
    assert 'href="/progress/export.csv"' in html
    assert 'href="/progress/report/"' in html


def test_before_the_last_7_days_clear_the_baseline_week_the_page_says_when(client, amy):
    # Sessions only in the current week: that week is the baseline, so nothing is judged
    # until 7 days after it ends, and the page names the day.
    fill_days(amy, span(TODAY - timedelta(days=2), 3), before=5, after=3)
    html = text_of(client.get("/progress/"))
    assert "Not yet" in html
    shown = START + timedelta(days=6 * 7 - 1 + 7)
    assert f"The comparison appears from programme day {(shown - START).days + 1}" in html
    assert f"{shown:%A} {shown.day} {shown:%B}" in html
    assert "Meaningful improvement" not in html.split("How the comparison works")[0]


def test_verdict_shows_its_numbers_and_the_relief_apart(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/"))
    assert "Meaningful improvement" in html
    assert "Baseline 6.0, last 7 days 4.0: down 2.0 points, 33.3 %." in html
    assert "programme week 1" in html
    assert "In the last 7 days, pain was on average 1.0 points lower after a session" in html
    assert "does not change the comparison above" in html


def test_getting_worse_is_said_calmly(client, amy):
    fill_days(amy, span(START, 7), before=3, after=3)
    fill_days(amy, span(TODAY - timedelta(days=6), 7), before=6, after=6)
    html = text_of(client.get("/progress/"))
    assert "Getting worse" in html
    assert "up 3.0 points" in html
    assert "ask a doctor or physiotherapist" in html


# --- Charts ------------------------------------------------------------------------


def test_charts_are_inline_svg_with_a_summary_and_focusable_points(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/"))
    chart = html.split('id="chart-pain"')[1].split("</figure>")[0]
    assert 'role="img" aria-label="Pain chart on a 0 to 10 scale' in chart
    assert 'tabindex="0"' in chart
    assert re.search(r'aria-label="Thu 9 Apr 2026: pain before 6\.0, after 4\.0', chart)
    # Non-focusable markers read on hover through their <title>.
    assert "<title>Thu 9 Apr 2026: pain after 4.0</title>" in chart
    # Lines differ by dash, not only by colour; the legend says which is which.
    assert 'stroke-dasharray="7 4"' in chart and 'stroke-dasharray="1 5"' in chart
    assert "(solid line)" in chart and "(dashed line)" in chart and "(dotted line)" in chart
    # A dated x axis ending today, and the 0-10 scale.
    assert ">20 May</text>" in chart
    assert ">10</text>" in chart
    assert "<script" not in chart
    assert 'id="chart-morning"' in html


def test_days_without_sessions_split_the_lines(client, amy):
    fill_days(amy, [TODAY - timedelta(days=k) for k in (9, 8, 5, 4, 3, 0)], before=5, after=3)
    html = text_of(client.get("/progress/"))
    chart = html.split('id="chart-pain"')[1].split("</figure>")[0]
    # 9-8 and 5-4-3 draw as lines; today alone is a marker.
    before_lines = chart.split('class="chart-line-before"')[1].split("</g>")[0]
    assert before_lines.count("<polyline") == 2
    assert chart.count('tabindex="0"') == 6


def test_data_table_repeats_the_chart_numbers(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/"))
    table = html.split("Show data as table")[1].split("</details>")[0]
    assert "Wed 20 May 2026" in table
    assert "Thu 9 Apr 2026" in table
    assert table.count("<tr>") == 1 + 42  # header and one row per day of the 6 weeks


def test_days_are_counted_in_the_users_time_zone():
    auckland = ZoneInfo("Pacific/Auckland")
    user = make_account("kiri", time_zone="Pacific/Auckland")
    # 00:30 on 20 May in Auckland is still 19 May in UTC.
    make_session(user, at(TODAY, 0, auckland) + timedelta(minutes=30), pain_before=7)
    make_session(user, at(TODAY, 23, auckland), pain_before=3)
    make_session(user, at(TODAY - timedelta(days=1), 23, auckland), pain_before=1)
    stats, morning = daily_numbers(user, user.profile)
    by_day = {s.day: s for s in stats}
    assert by_day[TODAY].sessions == 2
    assert by_day[TODAY].before_mean == 5
    assert by_day[TODAY - timedelta(days=1)].sessions == 1
    assert morning[TODAY] == 7


def test_morning_series_prefers_the_morning_in_bed_routine_then_the_first_session():
    user = make_account("morgan")
    day1, day2 = TODAY - timedelta(days=1), TODAY
    make_session(user, at(day1, 7), pain_before=6)
    make_session(user, at(day1, 8), slug="morning-in-bed", pain_before=3)
    make_session(user, at(day2, 9), pain_before=5)
    make_session(user, at(day2, 17), pain_before=2)
    _, morning = daily_numbers(user, user.profile)
    assert morning == {day1: 3, day2: 5}


# --- Range switch and htmx ---------------------------------------------------------


def test_range_links_work_with_and_without_javascript(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/"))
    for value in ("4w", "6w", "all"):
        link = re.search(rf'<a id="range-{value}"[^>]*>', html).group(0)
        assert f'href="/progress/?range={value}"' in link
        assert f'hx-get="/progress/?range={value}"' in link
        assert 'hx-target="#progress-charts"' in link
        assert 'hx-push-url="true"' in link
    assert re.search(r'<a id="range-6w"[^>]*aria-current="true"', html)


def test_unknown_range_falls_back_to_6_weeks(client, amy):
    improving(amy)
    response = client.get("/progress/?range=52w")
    assert response.status_code == 200
    assert re.search(r'<a id="range-6w"[^>]*aria-current="true"', text_of(response))


def test_4_weeks_range_shows_28_days_and_the_weeks_they_touch(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/?range=4w"))
    assert "23 Apr 2026 to 20 May 2026" in html
    table = html.split("Show data as table")[1].split("</details>")[0]
    assert table.count("<tr>") == 1 + 28
    assert "Week 1\n" not in html and "Week 3" in html


def test_all_range_starts_at_the_programme_start(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/?range=all"))
    assert "9 Apr 2026 to 20 May 2026" in html


def test_htmx_gets_only_the_charts_partial(client, amy):
    improving(amy)
    response = client.get("/progress/?range=4w", headers={"HX-Request": "true"})
    html = text_of(response)
    assert response.status_code == 200
    assert "<html" not in html
    assert html.strip().startswith('<div id="progress-charts"')
    assert 'id="chart-pain"' in html and "Week by week" in html
    assert re.search(r'<a id="range-4w"[^>]*aria-current="true"', html)
    assert "HX-Request" in response["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client, amy):
    improving(amy)
    response = client.get(
        "/progress/?range=4w",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in text_of(response)


# --- Weekly table and check-ins ----------------------------------------------------


def test_weekly_table_shows_means_worst_and_sessions_against_the_phase(client, amy):
    improving(amy)
    make_session(amy, at(START + timedelta(days=1), 20), pain_before=6, pain_after=9)
    WeeklyCheckin.objects.create(user=amy, week=6, movement="better", sleep="same")
    html = text_of(client.get("/progress/"))
    table = html.split('class="weeks-table')[1].split("</table>")[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]
    assert len(rows) == 6
    week1 = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rows[0]))
    assert "Week 1" in week1 and "6.0" in week1 and "4.3" in week1 and " 9 " in week1
    assert "15 / 14" in week1
    week6 = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", rows[5]))
    assert "14 / 14" in week6 and "Better" in week6 and "Same" in week6
    assert "your current phase, standard" in html


def test_the_current_week_is_marked_and_unasked_check_ins_say_so(client):
    """The rows as a person reads them: this week marked, with how far into it they
    are; week 1 (nothing to compare with) "not asked"; a later week left unanswered a
    dash; an answer capitalised and escaped."""
    user = make_account("bea", start=TODAY - timedelta(days=37))  # today: day 3 of week 6
    client.force_login(user)
    fill_days(user, span(TODAY - timedelta(days=37), 38), before=5, after=4)
    WeeklyCheckin.objects.create(user=user, week=5, movement="better", sleep="worse")
    html = text_of(client.get("/progress/"))
    table = html.split('class="weeks-table')[1].split("</table>")[0]
    rows = re.findall(r"<tr([^>]*)>(.*?)</tr>", table, re.S)[1:]
    assert [attributes for attributes, _ in rows] == [""] * 5 + [' class="week-current"']
    cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for _, row in rows]
    assert cells[5].startswith("Week 6 18 May – 24 May, day 3 of 7 so far 5.0 4.0 5 6 / 14")
    assert cells[0].endswith("not asked not asked")
    assert cells[4].endswith("Better Worse")
    assert cells[3].endswith("– –")
    assert "so far" not in "".join(cells[:5])


def test_maintenance_users_see_3_to_4_a_week(client, amy):
    amy.profile.phase = "maintenance"
    amy.profile.save()
    improving(amy)
    html = text_of(client.get("/progress/"))
    assert "14 / 3-4" in html
    assert "3-4 a week" in html


def test_checkin_form_is_offered_when_due_and_returns_to_progress(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/"))
    assert "Week 6 check-in" in html
    form = html.split("Week 6 check-in")[1].split("</form>")[0]
    assert 'action="/checkin/"' in form
    assert 'name="next" value="/progress/"' in form
    response = client.post(
        "/checkin/", {"movement": "better", "sleep": "worse", "next": "/progress/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/progress/"
    html = text_of(client.get("/progress/"))
    assert "Week 6 check-in" not in html
    assert "Week 6: better than the week before" in html


def test_signs_of_progress_are_each_shown(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/"))
    signs = html.split('id="signs-h"')[1].split("</section>")[0]
    for title in (
        "Lower pain scores in the morning",
        "Less need for frequent stretching",
        "Easier movement in daily activities",
        "Better sleep",
    ):
        assert title in signs


# --- Query counts ------------------------------------------------------------------

# Every request pays 2 queries before the view's own: the session, and the user with
# its profile (accounts.backends); 1 with the shared cache (tests.factories). The session
# is not written on every request.
FRAMEWORK_QUERIES = SIGNED_IN_QUERIES
# Cold cache: per-day numbers and morning scores before today (1), today's sessions (1),
# weekly check-ins (1), is a check-in due (1), PEG-3 answers (1).
PROGRESS_QUERIES = FRAMEWORK_QUERIES + 5
# Per-day numbers before today (1), today's sessions (1), check-ins (1), stop signals (1),
# screenings with clearances (1), PEG-3 answers (1), and the stretch catalogue in the
# cached page's key (1): the report names the stretch of each stop signal.
REPORT_QUERIES = FRAMEWORK_QUERIES + 7


def many_sessions(user, count: int) -> None:
    exercise = Exercise.objects.get(slug="single-knee-to-chest")
    morning = Exercise.objects.get(slug="morning-in-bed")
    Session.objects.bulk_create(
        Session(
            user=user,
            performed_at=NOW - timedelta(hours=7 * k + 1),
            exercise=morning if k % 3 == 0 else exercise,
            sides="left_right",
            reps_per_side=3,
            hold_seconds=20,
            pain_before=k % 11,
            pain_after=(k + 3) % 11,
            stop_signals=["cramp"] if k % 50 == 0 else [],
            has_stop_signal=k % 50 == 0,
        )
        for k in range(count)
    )


@pytest.mark.parametrize("count", [10, 1000])
@pytest.mark.parametrize("range_", ["4w", "6w", "all"])
def test_progress_queries_do_not_grow_with_sessions(
    client, amy, django_assert_num_queries, count, range_
):
    many_sessions(amy, count)
    with django_assert_num_queries(PROGRESS_QUERIES):
        response = client.get(f"/progress/?range={range_}")
    assert response.status_code == 200


@pytest.mark.parametrize("count", [10, 1000])
def test_progress_partial_queries_do_not_grow_with_sessions(
    client, amy, django_assert_num_queries, count
):
    many_sessions(amy, count)
    # Per-day numbers before today, today's sessions, check-ins.
    with django_assert_num_queries(FRAMEWORK_QUERIES + 3):
        client.get("/progress/?range=all", headers={"HX-Request": "true"})


@pytest.mark.parametrize("count", [10, 1000])
def test_report_queries_do_not_grow_with_sessions(client, amy, django_assert_num_queries, count):
    many_sessions(amy, count)
    Screening.objects.create(user=amy, taken_at=NOW, answers={}, verdict="clear", reason="first")
    with django_assert_num_queries(REPORT_QUERIES):
        response = client.get("/progress/report/?range=all")
    assert response.status_code == 200


# --- Privacy -----------------------------------------------------------------------


@pytest.fixture
def mallory():
    """Another user whose every record is recognisable."""
    user = make_account("mallory")
    fill_days(user, span(START, 42), before=9, after=9)
    make_session(
        user,
        at(TODAY, 7),
        pain_before=9,
        pain_after=10,
        stop_signals=["sharp_pain"],
        note="mallory-private",
    )
    screening = Screening.objects.create(
        user=user, taken_at=NOW, answers={"fever_unwell": True}, verdict="urgent", reason="due"
    )
    Clearance.objects.create(
        user=user, screening=screening, cleared_on=TODAY, note="mallory-clearance"
    )
    WeeklyCheckin.objects.create(user=user, week=6, movement="worse", sleep="worse")
    return user


def test_progress_never_shows_another_users_data(client, amy, mallory):
    improving(amy)
    html = text_of(client.get("/progress/?range=all"))
    assert "pain before 9" not in html
    assert "1 worse" not in html
    assert "No weekly check-in answered yet." in html
    assert "Baseline 6.0, last 7 days 4.0" in html


def test_report_shows_only_the_signed_in_users_data(client, amy, mallory):
    improving(amy)
    make_session(amy, at(TODAY, 12), pain_before=4, pain_after=3, stop_signals=["cramp"])
    screening = Screening.objects.create(
        user=amy,
        taken_at=NOW,
        answers={"cancer_history": True},
        verdict="clinician_first",
        reason="first",
    )
    Clearance.objects.create(user=amy, screening=screening, cleared_on=TODAY, note="GP said fine")
    html = text_of(client.get("/progress/report/"))
    assert "Muscle cramping or spasm" in html
    assert "Sharp or shooting pain" not in html
    assert "See a clinician first" in html
    assert "See a doctor within days" not in html
    assert "GP said fine" in html
    assert "mallory" not in html
    assert "pain before 9" not in html


# --- The clinician report ----------------------------------------------------------


def test_report_holds_chart_table_verdict_adherence_screenings_and_stop_signals(client, amy):
    improving(amy)
    make_session(amy, at(TODAY, 12), pain_before=4, pain_after=3, stop_signals=["numbness"])
    Screening.objects.create(
        user=amy, taken_at=NOW - timedelta(days=41), answers={}, verdict="clear", reason="first"
    )
    html = text_of(client.get("/progress/report/"))
    assert 'id="chart-report-pain"' in html
    assert 'class="weeks-table stack-table"' in html
    assert "Meaningful improvement" in html
    assert re.search(r"Adherence over the weeks shown: 29 sessions done of at least 84", html)
    assert "Numbness or tingling that got worse" in html
    assert "Before first use" in html
    assert "it is not a diagnosis" in html


def test_report_shows_a_doctors_examination_confirmed_after_an_emergency_result(client, amy):
    """SPEC 1.4: every screening, clearance and confirmation is kept and shown in the report."""
    from stretches.safety import record_examination

    emergency = Screening.objects.create(
        user=amy, taken_at=NOW - timedelta(days=3), answers={}, verdict="emergency", reason="due"
    )
    assert "Examined by a doctor" not in text_of(client.get("/progress/report/"))
    record_examination(user=amy, screening_id=emergency.pk, examined_on=TODAY - timedelta(days=1))
    html = text_of(client.get("/progress/report/"))
    assert "Examined by a doctor on 19 May 2026 (confirmed by the patient)" in html


def test_report_styles_print_from_its_own_file_and_runs_no_inline_script(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/report/"))
    assert 'href="/static/css/report.css"' in html
    assert '<script type="module" src="/static/js/report.js"></script>' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert "data-print hidden" in html
    assert "browser's Print command" in html
    css = (Path(settings.BASE_DIR) / "static/css/report.css").read_text()
    assert "@page" in css and "@media print" in css


def test_report_for_an_account_with_no_sessions(client, amy):
    html = text_of(client.get("/progress/report/"))
    assert "No sessions have been recorded yet." in html
    assert "No screenings recorded." in html


def test_times_on_the_report_are_in_the_users_time_zone(client):
    user = make_account("kiri", time_zone="Pacific/Auckland")
    client.force_login(user)
    make_session(
        user,
        timezone.make_aware(datetime(2026, 5, 19, 12, 30), ZoneInfo("UTC")),
        stop_signals=["cramp"],
    )
    assert "20 May 2026, 00:30" in text_of(client.get("/progress/report/"))


# --- On a phone: the narrow chart, the patient's name, adherence (issue 13) ----------


def _day_rows(count: int):
    from tracking.series import DayStats, day_rows

    days = [TODAY - timedelta(days=count - 1 - k) for k in range(count)]
    stats = {d: DayStats(d, 2, 10, 8, 5, 5, 2) for d in days}
    return day_rows(stats, {d: 5 for d in days}, days)


def test_the_phone_chart_keeps_the_newest_six_weeks_with_fewer_dates():
    from tracking import charts

    rows = _day_rows(90)  # the "all" range after three months
    wide = charts.pain_chart(rows)
    narrow = wide.narrow
    assert narrow is not None and narrow.layout is charts.NARROW
    before = next(s for s in narrow.series if s.key == "before")
    assert len(before.points) == 42
    # The newest day is the last point, drawn at the right edge of the plot, inside the box.
    assert before.points[-1].label.startswith(charts.long_date(TODAY))
    assert before.points[-1].x == narrow.right < narrow.width
    assert before.points[0].label.startswith(charts.long_date(TODAY - timedelta(days=41)))
    assert all(narrow.left <= p.x <= narrow.right for p in before.points)
    assert "last 6 weeks" in narrow.note
    # The wide chart keeps every day; the phone's has fewer dates along the bottom.
    assert len(next(s for s in wide.series if s.key == "before").points) == 90
    assert 2 <= len(narrow.x_ticks) <= charts.NARROW.max_x_labels < len(wide.x_ticks)
    assert narrow.x_ticks[-1].label == charts.short_date(TODAY)  # today always labelled
    # Larger tap targets and text on the phone, whose drawing is shown about 0.9:1.
    assert narrow.hit_radius * 2 * 0.9 >= 24 and narrow.font_size > wide.font_size
    assert narrow.dom_id == "chart-pain-narrow"


def test_a_range_that_fits_is_drawn_whole_on_the_phone_without_a_note():
    from tracking import charts

    narrow = charts.morning_chart(_day_rows(28)).narrow
    assert len(narrow.series[0].points) == 28 and narrow.note == ""


def test_the_progress_page_draws_both_layouts_and_says_why_when_empty(client, amy):
    make_session(amy, at(START, 9))  # in week 1, outside the last 4 weeks
    html = text_of(client.get("/progress/?range=4w"))
    assert 'id="chart-pain"' in html and 'id="chart-pain-narrow"' in html
    narrow = html.split('id="chart-pain-narrow"')[1].split("</figure>")[0]
    assert "No sessions in this period. Log a session on today" in narrow
    assert '<svg class="chart-svg"' not in narrow  # a message, not an empty grid


def test_the_weekly_table_labels_each_cell_for_the_phone_cards(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/"))
    table = html.split('class="weeks-table')[1].split("</table>")[0]
    for label in ("Mean before", "Mean after", "Worst", "Sessions done / prescribed", "Sleep"):
        assert f'<th scope="col">{label}</th>' in table  # the real headers stay
        assert table.count(f'data-label="{label}"') == 6  # and each week's cell repeats it


def test_the_display_name_is_optional_stripped_and_at_most_80_characters(amy):
    from accounts.forms import ProfileForm

    def post(name):
        data = {"time_zone": "Europe/London", "phase": "standard", "display_name": name}
        return ProfileForm(data, instance=amy.profile, today=TODAY)

    form = post("  Amy\u200b Ng\u202e  ")
    assert form.is_valid(), form.errors
    form.save()
    amy.profile.refresh_from_db()
    assert amy.profile.display_name == "Amy Ng"
    assert post("").is_valid()
    too_long = post("A" * 81)
    assert not too_long.is_valid()
    assert "keep it to 80 characters" in too_long.errors["display_name"][0]
    assert post("A" * 80).is_valid()


def test_the_account_page_edits_the_display_name(client, amy):
    page = text_of(client.get("/account/"))
    assert 'name="display_name"' in page and 'maxlength="80"' in page
    response = client.post(
        "/account/",
        {"display_name": "Amy Ng", "time_zone": "Europe/London", "phase": "standard"},
    )
    assert response.status_code == 302
    amy.profile.refresh_from_db()
    assert amy.profile.display_name == "Amy Ng"


def test_the_report_names_the_patient_or_says_no_name_was_given(client, amy):
    improving(amy)
    html = text_of(client.get("/progress/report/"))
    facts = html.split('class="report-facts"')[1].split("</dl>")[0]
    assert "No name given" in facts and "(account username: amy)" in facts
    assert "Account</dt>" not in facts
    amy.profile.display_name = "Amy Ng"
    amy.profile.save()
    facts = text_of(client.get("/progress/report/")).split('class="report-facts"')[1]
    facts = facts.split("</dl>")[0]
    assert "<dt>Name</dt><dd>Amy Ng</dd>" in facts
    assert "amy)" not in facts  # the username is shown only when no name was given


def test_the_share_page_names_the_patient_too(client, amy):
    from sharing.services import create_link

    improving(amy)
    amy.profile.display_name = "Amy <Ng>"
    amy.profile.save()
    _link, token = create_link(user=amy, days=7)
    client.logout()
    html = text_of(client.get(f"/shared/{token}/"))
    assert "<dt>Name</dt><dd>Amy &lt;Ng&gt;</dd>" in html


def test_report_adherence_for_the_demo_history_counts_the_main_exercise_only(client, amy):
    from tracking.demo import sample_sessions

    # Three sessions a day (the morning routine and two single-leg), two prescribed.
    Session.objects.bulk_create(sample_sessions(amy, start=START, days=41, tz=LONDON))
    main = Session.objects.filter(user=amy, exercise__slug="single-knee-to-chest").count()
    html = text_of(client.get("/progress/report/"))
    found = re.search(
        r"Adherence over the weeks shown: (\d+) sessions done of at least (\d+) prescribed "
        r"\((\d+) %\)",
        html,
    )
    done, expected, percent = map(int, found.groups())
    assert done == main < Session.objects.filter(user=amy).count()
    assert expected == 84  # 2 a day over 42 days
    assert percent <= 100


def test_report_shows_every_examination_confirmed_for_a_screening(client, amy):
    """SPEC 1.4: every confirmation is kept and shown in the report. Two confirmations of
    the same emergency result (a double-clicked submit: both requests pass the gate before
    either writes) are both kept; the report must show both, not only the first."""
    from stretches.safety import record_examination

    emergency = Screening.objects.create(
        user=amy, taken_at=NOW - timedelta(days=3), answers={}, verdict="emergency", reason="due"
    )
    record_examination(user=amy, screening_id=emergency.pk, examined_on=TODAY - timedelta(days=2))
    record_examination(user=amy, screening_id=emergency.pk, examined_on=TODAY - timedelta(days=1))
    html = text_of(client.get("/progress/report/"))
    assert "18 May 2026" in html
    assert "19 May 2026" in html  # the later confirmation is dropped (only the first shown)
