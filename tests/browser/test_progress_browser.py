"""The demo user's progress, as a person sees it: charts, range switch, printed report."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.conftest import browser_login

pytestmark = pytest.mark.django_db(transaction=True)

A4_HEIGHT_PX = 1123  # 297 mm at 96 px per inch


@pytest.fixture
def demo(settings):
    settings.DEBUG = True  # seed_demo is a development command and refuses otherwise
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.DEBUG = False
    from tracking.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME

    return DEMO_USERNAME, DEMO_PASSWORD


def test_demo_user_sees_both_charts_switches_range_and_prints_the_report(page, demo):
    username, password = demo
    browser_login(page, username, password)
    page.goto("/progress/")

    pain_points = page.locator("#chart-pain .chart-focusable")
    morning_points = page.locator("#chart-morning .chart-focusable")
    expect(pain_points.first).to_be_visible()
    six_weeks = pain_points.count()
    assert six_weeks >= 30  # about six weeks of daily points
    assert morning_points.count() >= 30

    # A point read by keyboard: focus shows its date and value.
    pain_points.first.focus()
    label = pain_points.first.get_attribute("aria-label")
    assert re.search(r"\d", label) and re.search(
        r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)", label
    )
    # Its readout: white 11-unit text on the dark box, over an invisible target.
    tip = page.locator("#chart-pain .chart-focusable:focus + .chart-tip")
    expect(tip).to_be_visible()
    drawn = tip.evaluate(
        """tip => {
            const style = element => getComputedStyle(element);
            const box = style(tip.querySelector("rect")), text = style(tip.querySelector("text"));
            const target = style(tip.previousElementSibling);
            return [box.fill, box.stroke, text.fill, text.fontSize, target.fill];
        }"""
    )
    assert drawn == [
        "rgb(27, 38, 41)", "none", "rgb(255, 255, 255)", "11px", "rgba(0, 0, 0, 0)"
    ]  # fmt: skip

    page.evaluate("window.__stayed = true")
    page.get_by_role("link", name=re.compile("4 weeks")).click()
    page.wait_for_url(re.compile(r"/progress/\?range=4w$"))
    expect(page.locator("#range-4w")).to_have_attribute("aria-current", "true")
    assert page.evaluate("window.__stayed") is True  # swapped by htmx, not reloaded
    four_weeks = pain_points.count()
    assert 20 <= four_weeks < six_weeks

    page.get_by_role("link", name=re.compile("6 weeks")).click()
    page.wait_for_url(re.compile(r"range=6w$"))
    expect(pain_points).to_have_count(six_weeks)

    page.goto("/progress/report/")
    page.emulate_media(media="print")
    chart = page.locator("svg.chart-svg").first
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["y"] + box["height"] < A4_HEIGHT_PX  # on page one
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper, print_background=True)
        assert pdf.startswith(b"%PDF")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
        assert pages == 1, f"the report should print on one {paper} page, got {pages}"
    assert page.console_errors == []
