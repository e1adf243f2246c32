"""axe-core (WCAG 2.2 AA rules) on today's page in each state of the flow, and on /sessions/."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser import axe
from tests.browser.support import pick_pain, static_files_unhashed
from tests.conftest import browser_login, make_session, make_user

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.layout,
    pytest.mark.layout_postgres,
]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def screen(request, browser, live_server, settings):
    static_files_unhashed(settings)
    context = browser.new_context(
        base_url=live_server.url, viewport=VIEWPORTS[request.param], reduced_motion="reduce"
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def assert_no_violations(page, state: str) -> None:
    results = axe.run(page)  # the WCAG 2.2 A/AA rules
    if results.violations_count:
        print(f"\naxe, {state} ({page.viewport_size['width']} px):\n{results.generate_report()}")
    assert results.violations_count == 0, f"{state}: {results.violations_count} violations"


def test_todays_page_passes_axe_in_every_state_of_the_flow(screen):
    page = screen
    user = make_user("axel")  # screened clear, no sessions yet
    page.clock.install()
    browser_login(page, user.username)
    page.goto("/today/")
    page.clock.pause_at(datetime.now() + timedelta(minutes=5))
    page.clock.resume()  # axe waits on timers of its own: never run it on a paused clock
    assert_no_violations(page, "a new user after a clear screening")
    page.clock.pause_at(datetime.now() + timedelta(minutes=10))

    pick_pain(page, "Pain before the session", 5)
    timer = page.locator("[data-timer]")
    timer.get_by_role("button", name="Start", exact=True).click()
    page.clock.run_for(8_000)
    expect(timer.get_by_role("button", name="Pause")).to_be_focused()
    page.clock.resume()
    assert_no_violations(page, "the timer running")

    page.clock.pause_at(datetime.now() + timedelta(minutes=15))
    page.clock.run_for(120_000)
    page.clock.resume()
    expect(page.get_by_role("group", name="Pain after the session")).to_be_visible()
    assert_no_violations(page, "pain after, due")

    # Save without the pain after: the errors shown in place.
    page.get_by_role("button", name="Save session").click()
    expect(page.locator("#log-form .alert-danger")).to_be_visible()
    assert_no_violations(page, "errors shown")

    pick_pain(page, "Pain after the session", 3)
    page.get_by_role("button", name="Save session").click()
    expect(page.locator("[data-saved]")).to_contain_text("pain 5 → 3")
    assert_no_violations(page, "after a save")


def test_the_lasting_pain_question_passes_axe(screen):
    page = screen
    user = make_user("asked")
    make_session(user, performed_at=datetime.now().astimezone() - timedelta(days=1))
    browser_login(page, user.username)
    page.goto("/today/")
    expect(page.locator("#lasting-pain")).to_be_visible()
    assert_no_violations(page, "the lasting-pain question first")


def test_the_sessions_list_passes_axe_with_and_without_an_undo_offer(screen):
    page = screen
    user = make_user("lister")
    make_session(user, pain_before=6, pain_after=4)
    make_session(user, pain_before=5, pain_after=3, stop_signals=["cramp"], note="tight")
    browser_login(page, user.username)
    page.goto("/sessions/")
    assert_no_violations(page, "the sessions list")
    page.get_by_role("link", name="Delete").first.click()
    expect(page.get_by_role("button", name="Delete session")).to_be_visible()
    assert_no_violations(page, "the delete confirmation")
    page.get_by_role("button", name="Delete session").click()
    expect(page.locator("[data-undo]")).to_be_visible()
    assert_no_violations(page, "the list with its undo offer")
