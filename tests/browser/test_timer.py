"""The guided timer on /today/, driven by a faked browser clock, and the page without JS."""

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.support import SINGLE_LEG, pick_pain, static_files_unhashed
from tests.conftest import browser_login, make_user
from tracking.models import Session

pytestmark = pytest.mark.django_db(transaction=True)

# Week 1 (foundation stage, first week): 15 s holds, 3 reps, left leg then right leg.
HOLD, REPS = 15, 3
READY, REST, SWITCH = 5, 5, 8  # the timer's get-ready, rest and switch-legs pauses


def seconds(n: float) -> int:
    return int(n * 1000)


def test_guided_timer_runs_a_whole_single_leg_session_and_fills_in_the_log(page):
    user = make_user("timo")
    # Fake Date and the timers before any page script runs, then freeze time so that
    # only run_for() moves it: the countdown below is exact, not "about right".
    page.clock.install()
    browser_login(page, user.username)
    page.goto("/today/")
    page.clock.pause_at(datetime.now() + timedelta(minutes=5))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Week 1")

    timer = page.locator("[data-timer]")
    phase = timer.locator("[data-timer-phase]")
    clock = timer.locator("[data-timer-clock]")
    breath = timer.locator("[data-timer-breath]")
    rep = timer.locator("[data-timer-rep]")
    side = timer.locator("[data-timer-side]")
    live = timer.locator("[data-timer-live]")
    # The timer waits for the pain score before the session (the flow's first step).
    expect(timer).to_be_hidden()

    pick_pain(page, "Pain before the session", 5)
    item = page.get_by_role("article", name=SINGLE_LEG)
    item.get_by_role("button", name="Start guided timer").click()
    expect(timer).to_be_visible()
    expect(timer.get_by_role("heading")).to_have_text(f"Guided timer: {SINGLE_LEG}")
    expect(phase).to_have_text(f"Ready: {REPS} holds of {HOLD} s, left leg then right leg")
    expect(live).to_contain_text("Timer ready")
    expect(timer.locator("[data-timer-reps]")).to_have_text(str(REPS))

    # Get ready: a 5-second countdown, announced to screen readers.
    timer.get_by_role("button", name="Start", exact=True).click()
    expect(phase).to_have_text("Get ready: lie on your back, left leg first.")
    expect(live).to_have_text("Get ready: lie on your back, left leg first.")
    expect(clock).to_have_text(str(READY))
    expect(side).to_have_text("left leg")
    page.clock.run_for(seconds(1))
    expect(clock).to_have_text(str(READY - 1))
    page.clock.run_for(seconds(2))
    expect(clock).to_have_text(str(READY - 3))
    expect(breath).to_have_text("")

    # First hold: the breathing cue alternates (in for 2 s, out for 3 s).
    page.clock.run_for(seconds(READY - 3))
    expect(phase).to_contain_text(f"Hold 1 of {REPS}, left leg")
    expect(live).to_contain_text(f"Hold 1 of {REPS}, left leg")
    expect(rep).to_have_text("1")
    page.clock.run_for(seconds(1))
    expect(breath).to_have_text("Breathe in")
    expect(clock).to_have_text(str(HOLD - 1))
    page.clock.run_for(seconds(2))
    expect(breath).to_have_text("Breathe out")
    expect(clock).to_have_text(str(HOLD - 3))

    # Pause: time passes on the wall clock but not on the countdown.
    timer.get_by_role("button", name="Pause").click()
    expect(timer.get_by_role("button", name="Resume")).to_be_visible()
    expect(breath).to_have_text("Paused")
    expect(live).to_contain_text("Paused.")
    page.clock.run_for(seconds(10))
    expect(clock).to_have_text(str(HOLD - 3))
    expect(rep).to_have_text("1")
    timer.get_by_role("button", name="Resume").click()
    expect(live).to_have_text("Resumed.")
    expect(timer.get_by_role("button", name="Pause")).to_be_visible()
    page.clock.run_for(seconds(1))
    expect(clock).to_have_text(str(HOLD - 4))

    # Rest, then the second hold moves the rep counter on.
    page.clock.run_for(seconds(HOLD - 4))
    expect(phase).to_have_text("Release slowly and rest.")
    expect(live).to_have_text("Release slowly and rest.")
    expect(breath).to_have_text("")
    page.clock.run_for(seconds(REST))
    expect(rep).to_have_text("2")
    expect(phase).to_contain_text(f"Hold 2 of {REPS}, left leg")

    # After the last left hold: switch legs.
    page.clock.run_for(seconds(HOLD + REST + HOLD))
    expect(phase).to_have_text("Switch legs: now the right leg.")
    expect(live).to_have_text("Switch legs: now the right leg.")
    expect(side).to_have_text("right leg")
    expect(clock).to_have_text(str(SWITCH))
    page.clock.run_for(seconds(SWITCH))
    expect(phase).to_contain_text(f"Hold 1 of {REPS}, right leg")
    expect(rep).to_have_text("1")

    # The three right-leg holds, then the end.
    page.clock.run_for(seconds(HOLD + REST + HOLD + REST + HOLD))
    expect(phase).to_contain_text("All holds done.")
    expect(live).to_contain_text("Now rate your pain after the session")
    expect(timer.get_by_role("button", name="Start again")).to_be_visible()
    expect(timer.get_by_role("button", name="Pause")).to_be_hidden()

    # The form holds what was done (the fields are summarised in one line, with Change).
    form = page.locator("[data-log-form]")
    expect(form.locator("[name=exercise]")).to_have_value("single-knee-to-chest")
    expect(form.locator("input[name=sides][value=left_right]")).to_be_checked()
    expect(form.locator("[name=reps_per_side]")).to_have_value(str(REPS))
    expect(form.locator("[name=hold_seconds]")).to_have_value(str(HOLD))
    form.get_by_role("button", name="Change the stretch, reps or hold").click()
    expect(form.get_by_role("combobox", name="Stretch")).to_be_focused()
    expect(form.get_by_role("spinbutton", name="Reps per side")).to_have_value(str(REPS))
    expect(form.locator("input[name=pain_before][value='5']")).to_be_checked()

    # Saving goes through htmx: the "Done today" count changes without a reload.
    page.clock.resume()
    page.evaluate("window.__marker = 1")
    pick_pain(page, "Pain after the session", 3)
    form.get_by_role("button", name="Save session").click()
    expect(page.locator("[data-done-count]")).to_have_text("1")
    expect(page.locator("[data-saved]")).to_contain_text("pain 5 → 3")
    assert page.evaluate("window.__marker") == 1

    session = Session.objects.get(user=user)
    assert (session.exercise.slug, session.sides) == ("single-knee-to-chest", "left_right")
    assert (session.reps_per_side, session.hold_seconds, session.hold_seconds_target) == (3, 15, 15)
    assert (session.pain_before, session.pain_after) == (5, 3)
    assert page.console_errors == []


def test_today_works_without_javascript(browser, live_server, settings):
    static_files_unhashed(settings)
    user = make_user("nojs")
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        browser_login(page, user.username)
        page.goto("/today/")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Week 1")
        item = page.get_by_role("article", name=SINGLE_LEG)
        expect(item).to_contain_text(f"Hold {HOLD} s")
        # The timer needs JS, so it stays out of sight rather than showing dead buttons.
        expect(page.get_by_role("button", name="Start guided timer")).to_have_count(0)
        expect(page.get_by_role("link", name="Skip to the guided timer")).to_be_hidden()
        expect(page.locator("[data-timer]")).to_be_hidden()

        form = page.locator("[data-log-form]")
        expect(form).to_be_visible()
        expect(form.get_by_role("spinbutton", name="Reps per side")).to_have_value(str(REPS))
        pick_pain(page, "Pain before the session", 6)
        pick_pain(page, "Pain after the session", 4)
        form.get_by_role("button", name="Save session").click()
        page.wait_for_url("**/today/")
        expect(page.get_by_text("Session saved.")).to_be_visible()
        expect(page.locator("[data-done-count]")).to_have_text("1")
        session = Session.objects.get(user=user)
        assert (session.pain_before, session.pain_after, session.hold_seconds) == (6, 4, HOLD)
    finally:
        context.close()
