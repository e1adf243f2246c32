"""Progress and the clinician report on a phone (issue 13): the chart drawn for the
width with the newest days in view, the weekly table as cards, and print sizes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.phone import (
    DESKTOP,
    PHONE,
    SMALL_PHONE,
    assert_fits_the_screen,
    assert_no_axe_violations,
)
from tests.conftest import browser_login
from tests.factories import make_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.layout]

PT = 96 / 72  # CSS px per printer's point


@pytest.fixture
def demo(settings):
    settings.DEBUG = True  # seed_demo is a development command and refuses otherwise
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.DEBUG = False
    from django.contrib.auth import get_user_model

    from tracking.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME

    user = get_user_model().objects.get(username=DEMO_USERNAME)
    return user, DEMO_PASSWORD


def newest_session_day(user):
    from tracking.models import Session

    latest = Session.objects.filter(user=user).latest("performed_at")
    return latest.performed_at.astimezone(user.profile.tzinfo).date()


def test_on_a_phone_the_chart_fits_and_its_newest_day_is_in_view(page, demo):
    from tracking.charts import long_date

    user, password = demo
    page.set_viewport_size(PHONE)
    browser_login(page, user.username, password)
    page.goto("/progress/")

    narrow = page.locator("#chart-pain-narrow")
    expect(narrow).to_be_visible()
    expect(page.locator("#chart-pain")).to_be_hidden()  # the wide drawing is not shown
    assert page.evaluate("window.scrollX") == 0

    points = narrow.locator(".chart-focusable")
    newest = points.last
    label = newest.get_attribute("aria-label")
    assert label.startswith(long_date(newest_session_day(user)))
    box = newest.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    # A finger-sized target round every point (WCAG 2.5.8: 24 by 24 px at least).
    assert box["width"] >= 24 and box["height"] >= 24
    first_box = points.first.bounding_box()
    assert first_box["width"] >= 24 and first_box["x"] >= 0

    # Tapping the newest point shows its date and value.
    newest.click()
    expect(narrow.locator(".chart-point").last.locator(".chart-tip")).to_be_visible()

    # The 0-10 scale stays on screen, at a size that can be read.
    for text in narrow.locator(".chart-y-labels text").all():
        label_box = text.bounding_box()
        assert label_box["x"] >= 0 and label_box["height"] >= 11, label_box
    labels = narrow.locator(".chart-x-labels text")
    assert 2 <= labels.count() <= 4
    for text in labels.all():
        tick = text.bounding_box()
        assert tick["x"] >= 0 and tick["x"] + tick["width"] <= PHONE["width"]

    # The weekly table reads as one card per week, with no sideways scroll.
    rows = page.locator(".weeks-table tbody tr")
    assert rows.count() == 6
    for row in rows.all():
        row_box = row.bounding_box()
        assert row_box["x"] >= 0 and row_box["x"] + row_box["width"] <= PHONE["width"]
    first_cell = page.locator(".weeks-table tbody tr").first.locator("td").first
    assert (
        page.evaluate("el => getComputedStyle(el, '::before').content", first_cell.element_handle())
        == '"Mean before"'
    )
    assert_fits_the_screen(page)
    page.screenshot(path="/tmp/visuals-progress-demo.png", full_page=True)
    page.locator("#pain-chart-h").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/visuals-progress-chart.png")
    page.locator("#weeks-h").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/visuals-progress-weeks.png")
    assert page.console_errors == []


def test_at_320_px_progress_and_the_report_fit_and_pass_axe(page, demo):
    user, password = demo
    browser_login(page, user.username, password)
    for path in ("/progress/", "/progress/?range=all", "/progress/report/"):
        page.set_viewport_size(SMALL_PHONE)
        page.goto(path)
        if path == "/progress/":
            page.locator("details.data-table summary").first.click()  # the daily table too
        assert_fits_the_screen(page)
        for size in (PHONE, DESKTOP):
            page.set_viewport_size(size)
            assert_no_axe_violations(page)
    # The same report behind a clinician's share link.
    from sharing.services import create_link

    _link, token = create_link(user=user, days=7)
    page.set_viewport_size(SMALL_PHONE)
    page.goto(f"/shared/{token}/")
    expect(page.locator("#chart-report-pain-narrow")).to_be_visible()
    assert_fits_the_screen(page)
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        assert_no_axe_violations(page)

    page.set_viewport_size(PHONE)
    page.goto("/progress/report/")
    expect(page.locator("#chart-report-pain-narrow")).to_be_visible()
    page.screenshot(path="/tmp/visuals-report.png", full_page=True)
    page.screenshot(path="/tmp/visuals-report-top.png")
    page.locator("#r-chart-h").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/visuals-report-chart.png")


def test_a_new_user_sees_what_to_do_rather_than_an_empty_chart(page, live_server):
    make_user("newcomer")
    page.set_viewport_size(PHONE)
    browser_login(page, "newcomer")
    page.goto("/progress/")
    empty = page.get_by_role("region", name="No sessions yet")
    expect(empty).to_be_visible()
    expect(empty.get_by_role("link", name="Go to today's plan")).to_be_visible()
    assert page.locator("svg.chart-svg").count() == 0
    assert_fits_the_screen(page)
    page.screenshot(path="/tmp/visuals-progress-new.png", full_page=True)
    assert_no_axe_violations(page)
    page.set_viewport_size(SMALL_PHONE)
    assert_fits_the_screen(page)
    page.set_viewport_size(DESKTOP)
    assert_no_axe_violations(page)


def test_a_range_without_sessions_says_so_instead_of_drawing_an_empty_grid(page, live_server):
    from django.utils import timezone

    from tests.factories import make_session

    user = make_user("returner", start=timezone.localdate() - timedelta(days=80))
    make_session(user, performed_at=timezone.now() - timedelta(days=70))
    page.set_viewport_size(PHONE)
    browser_login(page, "returner")
    page.goto("/progress/?range=4w")
    expect(page.locator("#chart-pain-narrow .chart-empty")).to_contain_text(
        "No sessions in this period"
    )
    assert page.locator("#chart-pain-narrow svg.chart-svg").count() == 0
    assert_no_axe_violations(page)


def test_printed_chart_text_is_at_least_8_points(page, demo):
    user, password = demo
    browser_login(page, user.username, password)
    page.goto("/progress/report/")
    page.emulate_media(media="print")
    chart = page.locator("#chart-report-pain")
    expect(chart).to_be_visible()
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('#chart-report-pain .chart-axis-text text')]
          .map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a)"""
    )
    assert sizes and min(sizes) >= 8 * PT, sizes
    # Still one page.
    pdf = page.pdf(format="A4", print_background=True)
    import re

    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1


@pytest.mark.parametrize(
    ("week_one", "last_week", "verdict"),
    [
        (6, 2, "Substantial improvement"),
        (3, 6, "Getting worse"),
        (5, 5, "No meaningful change yet"),
        (1, 1, "Too small to judge"),
        (4, 0, "Pain-free"),
    ],
)
def test_each_verdict_reads_on_a_phone_and_passes_axe(
    page, live_server, week_one, last_week, verdict
):
    from django.utils import timezone

    from tests.factories import make_session

    today = timezone.localdate()
    start = today - timedelta(days=20)
    user = make_user("vera", start=start)
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    for k in range(21):
        if 7 <= k < 14:
            continue  # a quiet middle week
        pain = week_one if k < 7 else last_week
        make_session(
            user,
            performed_at=noon - timedelta(days=20 - k),
            pain_before=pain,
            pain_after=max(0, pain - 1),
        )
    browser_login(page, "vera")
    page.set_viewport_size(PHONE)
    page.goto("/progress/")
    expect(page.locator(".verdict-label").first).to_contain_text(verdict)
    assert_fits_the_screen(page)
    assert_no_axe_violations(page)
    page.set_viewport_size(SMALL_PHONE)
    assert_fits_the_screen(page)
    page.set_viewport_size(DESKTOP)
    assert_no_axe_violations(page)
