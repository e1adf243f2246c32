"""Logging, listing, editing and deleting sessions, on a desktop and on a phone."""

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.support import pick_pain, static_files_unhashed
from tests.conftest import browser_login, make_session, make_user
from tracking.models import Session

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = Path("/tmp/easeback-shots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture
def phone(browser, live_server, settings):
    static_files_unhashed(settings)
    context = browser.new_context(
        base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()


def test_double_click_on_save_stores_one_session(page):
    user = make_user("dora")
    browser_login(page, user.username)
    page.goto("/today/")
    pick_pain(page, "Pain before the session", 6)
    page.get_by_role("button", name="I did it without the timer").click()
    pick_pain(page, "Pain after the session", 5)
    page.get_by_role("button", name="Save session").dblclick()
    expect(page.locator("[data-saved]")).to_contain_text("pain 6 → 5")
    expect(page.locator("[data-done-count]")).to_have_text("1")
    expect(page.locator("#done-today li")).to_have_count(1)
    assert Session.objects.filter(user=user).count() == 1
    assert page.console_errors == []


def test_a_save_retried_after_a_lost_answer_stores_one_session(browser, live_server, settings):
    # The first save reaches the server but its answer never comes back (a train going
    # into a tunnel); the user taps Save again on the same form. The service worker is
    # kept out so the lost answer is the network's, not a copy the worker would serve.
    static_files_unhashed(settings)
    context = browser.new_context(base_url=live_server.url, service_workers="block")
    page = context.new_page()
    page.set_default_timeout(10_000)
    user = make_user("tunnel")
    browser_login(page, user.username)
    page.goto("/today/")
    lost = []

    def lose_first_answer(route):
        if lost:
            route.continue_()
            return
        lost.append(route.fetch().status)
        route.abort("connectionreset")

    page.route("**/today/log/", lose_first_answer)
    pick_pain(page, "Pain before the session", 6)
    page.get_by_role("button", name="I did it without the timer").click()
    pick_pain(page, "Pain after the session", 5)
    save = page.get_by_role("button", name="Save session")
    save.click()
    expect(save).to_be_enabled()
    # The user is told the save did not get through, rather than left guessing.
    expect(page.locator("[data-save-error]")).to_be_visible()
    assert lost == [200] and Session.objects.filter(user=user).count() == 1
    save.click()
    expect(page.locator("[data-save-error]")).to_be_hidden()
    expect(page.locator("[data-saved]")).to_have_text("That session was already saved.")
    expect(page.locator("[data-done-count]")).to_have_text("1")
    assert Session.objects.filter(user=user).count() == 1
    context.close()


def test_phone_session_list_groups_by_day_and_edits_and_deletes(phone):
    user = make_user("phil")
    noon = datetime.combine(timezone.localdate(), time(12), tzinfo=UTC)
    make_session(user, performed_at=noon - timedelta(hours=3), pain_before=6, pain_after=4)
    make_session(user, performed_at=noon, pain_before=5, pain_after=3)
    make_session(user, performed_at=noon - timedelta(days=1), pain_before=7, pain_after=6)
    page = phone
    browser_login(page, user.username)
    page.goto("/sessions/")

    days = page.locator("section.day-group")
    expect(days).to_have_count(2)
    yesterday = noon - timedelta(days=1)
    expect(days.get_by_role("heading", level=2)).to_have_text(
        [f"{day:%A} {day.day} {day:%B %Y}" for day in (noon, yesterday)]
    )
    # Newest first, each with its pain before → after.
    expect(days.nth(0).locator(".pain-pair")).to_have_text(["5 → 3", "6 → 4"])
    expect(days.nth(1).locator(".pain-pair")).to_have_text(["7 → 6"])
    assert_fits_the_screen(page)

    # Edit the yesterday session's pain after.
    days.nth(1).get_by_role("link", name="Edit").click()
    page.wait_for_url("**/edit/")
    after = page.get_by_role("group", name="Pain after the session")
    expect(after.get_by_role("radio", name="6", exact=True)).to_be_checked()
    pick_pain(page, "Pain after the session", 2)
    page.get_by_role("button", name="Save session").click()
    page.wait_for_url("**/sessions/")
    expect(page.get_by_text("Session updated.")).to_be_visible()
    expect(days.nth(1).locator(".pain-pair")).to_have_text(["7 → 2"])

    # Delete the 09:00 one, through the confirmation page.
    days.nth(0).get_by_role("link", name="Delete session at 09:00").click()
    page.wait_for_url("**/delete/")
    expect(page.get_by_role("heading", name="Delete this session?")).to_be_visible()
    expect(page.get_by_text("Pain 6 → 4")).to_be_visible()
    assert_fits_the_screen(page)
    page.get_by_role("button", name="Delete session").click()
    page.wait_for_url("**/sessions/")
    undo = page.locator("[data-undo]")
    expect(undo).to_contain_text("Session deleted: Single knee to chest")
    expect(days.nth(0).locator(".pain-pair")).to_have_text(["5 → 3"])
    assert sorted(Session.objects.filter(user=user).values_list("pain_after", flat=True)) == [2, 3]

    # Undo brings it back, as it was.
    undo.get_by_role("button", name="Undo").click()
    page.wait_for_url("**/sessions/")
    expect(page.get_by_text("Session restored.")).to_be_visible()
    expect(page.locator("[data-undo]")).to_have_count(0)
    expect(days.nth(0).locator(".pain-pair")).to_have_text(["5 → 3", "6 → 4"])
    assert sorted(Session.objects.filter(user=user).values_list("pain_after", flat=True)) == [
        2,
        3,
        4,
    ]
    assert page.console_errors == []


def test_session_rows_read_pain_in_words_and_give_big_edit_and_delete_targets(phone):
    user = make_user("rows")
    make_session(user, pain_before=5, pain_after=3, reps_per_side=1)
    page = phone
    browser_login(page, user.username)
    page.goto("/sessions/")
    row = page.locator(".session-row")
    # A screen reader hears words, not an arrow; the eye sees "5 → 3".
    expect(row.locator(".visually-hidden").first).to_have_text("Pain before 5, after 3")
    expect(row.locator(".pain-pair")).to_have_attribute("aria-hidden", "true")
    assert row.locator(".pain-pair[aria-label]").count() == 0
    expect(row).to_contain_text("1 rep ·")
    expect(row).not_to_contain_text("1 reps")
    for name in ("Edit", "Delete"):
        box = row.get_by_role("link", name=name).bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, f"{name} is {box}"
    delete = row.get_by_role("link", name="Delete")
    edit = row.get_by_role("link", name="Edit")
    danger = delete.evaluate("e => getComputedStyle(e).color")
    assert danger != edit.evaluate("e => getComputedStyle(e).color")
    assert danger == "rgb(166, 27, 27)"  # --danger


def assert_fits_the_screen(page) -> None:
    """Nothing pushes the page wider than the phone: no sideways scrolling."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_screenshots_of_today_and_a_stretch(browser, live_server, settings, viewport):
    static_files_unhashed(settings)
    user = make_user("shot")
    make_session(user)
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    try:
        page = context.new_page()
        browser_login(page, user.username)
        size = f"{viewport['width']}x{viewport['height']}"
        for path, name in (("/today/", "today"), ("/stretches/single-knee-to-chest/", "stretch")):
            page.goto(path)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            assert_fits_the_screen(page)
            page.screenshot(path=SHOTS / f"{name}-{size}.png", full_page=True)
            assert (SHOTS / f"{name}-{size}.png").stat().st_size > 0
        # The timer as it looks mid-session, the screen a user watches while stretching.
        page.goto("/today/")
        pick_pain(page, "Pain before the session", 4)
        page.get_by_role("button", name="Start guided timer").first.click()
        timer = page.locator("[data-timer]")
        timer.get_by_role("button", name="Start", exact=True).click()
        expect(timer.get_by_role("button", name="Pause")).to_be_visible()
        assert_fits_the_screen(page)
        timer.screenshot(path=SHOTS / f"timer-{size}.png")
    finally:
        context.close()
