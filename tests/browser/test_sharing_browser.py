"""A share link as a clinician meets it: a fresh browser, no login, one printed page."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.support import pick_pain
from tests.conftest import browser_login

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(settings):
    settings.DEBUG = True  # seed_demo is a development command and refuses otherwise
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.DEBUG = False
    from tracking.management.commands.seed_demo import DEMO_PASSWORD, DEMO_USERNAME

    return DEMO_USERNAME, DEMO_PASSWORD


def test_peg_answered_on_today_then_shared_opened_in_a_fresh_browser_and_printed(
    page, browser, live_server, demo
):
    username, password = demo
    browser_login(page, username, password)

    # This week's three questions, answered by tapping the number tiles.
    page.goto("/today/")
    for label, value in (("pain on average", 4), ("enjoyment of life", 3), ("general activity", 2)):
        legend = page.get_by_text(re.compile(label)).first.inner_text()
        pick_pain(page, legend, value)
    page.get_by_role("button", name="Save my answers").click()
    expect(page.get_by_text("score is 3.0 out of 10")).to_be_visible()
    page.goto("/progress/")
    expect(page.locator("#chart-peg .chart-focusable")).to_have_count(6)

    # Create a link; the address is shown once, with a working Copy button.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto("/account/")
    page.get_by_role("link", name="Share with a clinician").click()
    page.get_by_label("Who is it for? (optional)").fill("Dr Patel")
    page.get_by_label("30 days").check()
    page.get_by_role("button", name="Create link").click()
    field = page.get_by_label("Link to your report")
    url = field.input_value()
    assert re.fullmatch(re.escape(live_server.url) + r"/shared/[A-Za-z0-9_-]{43}/", url)
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_text("Copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == url

    # A clinician's browser: nothing shared with the patient's (no cookies, no login).
    clinician = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        shared = clinician.new_page()
        errors = []
        shared.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        response = shared.goto(url)
        assert response.status == 200
        assert response.headers["referrer-policy"] == "no-referrer"
        expect(shared.get_by_role("heading", name="EaseBack progress report")).to_be_visible()
        expect(shared.get_by_text("Dr Patel")).to_be_visible()
        expect(shared.get_by_role("columnheader", name="PEG-3")).to_be_visible()
        expect(shared.get_by_text("Week 1 6.7, week 6 3.0: down 3.7 points (55 %)")).to_be_visible()
        expect(shared.get_by_role("button", name="Print this report")).to_be_visible()
        assert shared.get_by_role("link", name="Back to progress").count() == 0

        shared.emulate_media(media="print")
        for paper in ("A4", "Letter"):
            pdf = shared.pdf(format=paper, print_background=True)
            assert pdf.startswith(b"%PDF")
            pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
            assert pages == 1, f"the shared report should print on one {paper} page, got {pages}"
        assert errors == []
    finally:
        clinician.close()

    # The patient sees the open counted.
    page.goto("/account/sharing/")
    expect(page.get_by_text("1 time", exact=True)).to_be_visible()
    assert page.console_errors == []
