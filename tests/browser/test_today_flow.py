"""Today's page as a guided flow on a 390 px phone: pain now, the timer, pain after, save.

Each step is checked where the person meets it: shown when it is due (not before), its
controls within one screen of scrolling, the earlier steps summarised, and after the save
every count on the page telling the same story.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.support import SINGLE_LEG, pick_pain, static_files_unhashed
from tests.conftest import browser_login, make_session, make_user
from tracking.models import Session

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
SCREEN = PHONE["height"]
HOLD, REPS = 15, 3  # week 1, foundation: 15 s holds, 3 reps, left leg then right leg
READY, REST, SWITCH = 5, 5, 8  # the timer's get-ready, rest and switch-legs pauses
PER_SIDE = REPS * HOLD + (REPS - 1) * REST
WHOLE_SESSION = READY + PER_SIDE + SWITCH + PER_SIDE


def ms(seconds: float) -> int:
    return int(seconds * 1000)


@pytest.fixture
def phone(browser, live_server, settings):
    static_files_unhashed(settings)
    context = browser.new_context(
        base_url=live_server.url,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        reduced_motion="reduce",  # scrolling jumps instead of gliding: positions are final
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    yield page
    context.close()


def shot(page, name: str) -> None:
    # caret="initial": Playwright's caret hiding writes inline styles that our CSP (rightly)
    # reports once htmx moves them into a swapped form.
    page.screenshot(path=f"/tmp/today-{name}.png", caret="initial", animations="allow")


def assert_within_a_screen(page, control) -> None:
    """The control is on screen now, or at most one screen (844 px) of scrolling away."""
    box = control.bounding_box()
    assert box is not None, "the control is not displayed"
    assert box["y"] >= 0, f"the control is above the screen ({box['y']:.0f} px)"
    assert box["y"] + box["height"] <= 2 * SCREEN, (
        f"the control ends {box['y'] + box['height']:.0f} px below the top of the screen"
    )


def start_on_today(page, username: str):
    page.clock.install()
    browser_login(page, username)
    page.goto("/today/")
    # Frozen from here: only run_for() moves the timer.
    page.clock.pause_at(datetime.now() + timedelta(minutes=5))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Week 1")
    return page.locator("[data-timer]")


def counts(page) -> dict:
    return {
        "done": page.locator("[data-done-count]").inner_text(),
        "card": page.get_by_role("article", name=SINGLE_LEG)
        .locator("[data-item-done]")
        .inner_text(),
        "status": page.locator("[data-flow-counts]").inner_text(),
    }


def test_the_whole_flow_on_a_phone_shows_each_step_when_due_and_every_count_agrees(phone):
    page = phone
    user = make_user("flow")
    timer = start_on_today(page, user.username)
    before = page.get_by_role("group", name="Pain before the session")
    after = page.get_by_role("group", name="Pain after the session")
    save = page.get_by_role("button", name="Save session")
    status = page.get_by_role("status").filter(has=page.locator("[data-flow-counts]"))

    # Step 1, pain now: on the first screen; the timer and the after-questions wait.
    expect(status).to_have_text(
        "Done today: 0 sessions. Next: Single knee to chest, 0 of 2 done today."
    )
    expect(before).to_be_visible()
    assert_within_a_screen(page, before.locator("label").last)
    expect(timer).to_be_hidden()
    expect(after).to_be_hidden()
    expect(save).to_be_hidden()
    shot(page, "1-pain-now")

    # Step 2, the timer: choosing a number moves on, the choice summarised above it.
    pick_pain(page, "Pain before the session", 5)
    expect(page.locator("[data-flow-summary]")).to_contain_text("Pain before: 5")
    expect(page.get_by_role("button", name="Change pain before")).to_be_visible()
    expect(before).to_be_hidden()
    expect(timer).to_be_visible()
    start = timer.get_by_role("button", name="Start", exact=True)
    assert_within_a_screen(page, start)
    expect(timer.locator("[data-timer-phase]")).to_have_text(
        f"Ready: {REPS} holds of {HOLD} s, left leg then right leg"
    )
    expect(after).to_be_hidden()
    shot(page, "2-timer-ready")

    start.click()  # tap 1
    pause = timer.get_by_role("button", name="Pause")
    expect(pause).to_be_focused()
    assert_within_a_screen(page, pause)
    page.clock.run_for(ms(READY + 3))
    expect(timer.locator("[data-timer-phase]")).to_contain_text(f"Hold 1 of {REPS}, left leg")
    shot(page, "3-timer-running")

    # Step 3, pain after: revealed when the last hold ends, with what was done summarised.
    page.clock.run_for(ms(WHOLE_SESSION - READY - 3))
    expect(timer.locator("[data-timer-phase]")).to_have_text("All holds done. Well done.")
    expect(after).to_be_visible()
    expect(page.locator("[data-flow-details-summary]")).to_contain_text(
        f"{SINGLE_LEG} · left and right, one at a time · {REPS} reps per side · longest hold {HOLD} s"
    )
    assert_within_a_screen(page, after.locator("label").last)
    shot(page, "4-pain-after")
    page.clock.resume()
    pick_pain(page, "Pain after the session", 3)
    assert_within_a_screen(page, save)
    save.click()  # tap 2: two taps beyond choosing the two numbers

    # After the save: one story everywhere, announced from the status region, which has focus.
    expect(page.locator("[data-saved]")).to_have_text("Saved: Single knee to chest, pain 5 → 3.")
    expect(status).to_be_focused()
    expect(page.locator("[data-done-count]")).to_have_text("1")
    assert counts(page) == {
        "done": "1",
        "card": "1 of 2 done today",
        "status": "Done today: 1 session. Next: Single knee to chest, 1 of 2 done today.",
    }
    expect(page.locator("#done-today")).to_contain_text(
        "Single knee to chest, 15 s holds, 3 reps per leg (1 of 2 done today)"
    )
    shot(page, "5-saved")

    # The timer starts afresh for the next session: clock, words and buttons.
    expect(timer).to_be_hidden()
    expect(before.get_by_role("radio", name="5", exact=True)).not_to_be_checked()
    pick_pain(page, "Pain before the session", 4)
    expect(timer.locator("[data-timer-phase]")).to_have_text(
        f"Ready: {REPS} holds of {HOLD} s, left leg then right leg"
    )
    expect(timer.locator("[data-timer-clock]")).to_have_text(str(HOLD))
    expect(timer.locator("[data-timer-rep]")).to_have_text("0")
    expect(timer.get_by_role("button", name="Start", exact=True)).to_be_visible()
    expect(timer.get_by_role("button", name="Pause")).to_be_hidden()
    expect(timer.get_by_role("button", name="Stop and log")).to_be_hidden()

    session = Session.objects.get(user=user)
    assert (session.sides, session.reps_per_side, session.hold_seconds) == (
        "left_right",
        REPS,
        HOLD,
    )
    assert (session.pain_before, session.pain_after) == (5, 3)
    assert page.console_errors == []


def test_stopping_early_logs_the_reps_and_the_longest_hold_done(phone):
    page = phone
    user = make_user("early")
    timer = start_on_today(page, user.username)
    pick_pain(page, "Pain before the session", 4)
    timer.get_by_role("button", name="Start", exact=True).click()
    # Two full left holds, then 7 s into the third.
    page.clock.run_for(ms(READY + HOLD + REST + HOLD + REST + 7))
    timer.get_by_role("button", name="Stop and log").click()

    expect(timer.locator("[data-timer-phase]")).to_have_text(
        "Stopped after 3 reps, longest hold 15 s."
    )
    expect(page.locator("[data-flow-details-summary]")).to_contain_text(
        f"{SINGLE_LEG} · left leg · 3 reps per side · longest hold {HOLD} s"
    )
    form = page.locator("[data-log-form]")
    expect(form.locator("input[name=sides][value=left]")).to_be_checked()
    expect(form.locator("[name=reps_per_side]")).to_have_value("3")
    expect(form.locator("[name=hold_seconds]")).to_have_value(str(HOLD))
    page.clock.resume()
    pick_pain(page, "Pain after the session", 3)
    page.get_by_role("button", name="Save session").click()
    expect(page.locator("[data-saved]")).to_contain_text("pain 4 → 3")
    session = Session.objects.get(user=user)
    assert (session.sides, session.reps_per_side, session.hold_seconds) == ("left", 3, HOLD)


def test_stopping_early_in_the_first_hold_logs_the_seconds_held(phone):
    page = phone
    user = make_user("short")
    timer = start_on_today(page, user.username)
    pick_pain(page, "Pain before the session", 4)
    timer.get_by_role("button", name="Start", exact=True).click()
    page.clock.run_for(ms(READY + 6.5))
    timer.get_by_role("button", name="Stop and log").click()
    form = page.locator("[data-log-form]")
    expect(form.locator("[name=reps_per_side]")).to_have_value("1")
    expect(form.locator("[name=hold_seconds]")).to_have_value("6")


def test_stopping_during_get_ready_never_logs_the_plan(phone):
    page = phone
    user = make_user("ready")
    timer = start_on_today(page, user.username)
    pick_pain(page, "Pain before the session", 4)
    timer.get_by_role("button", name="Start", exact=True).click()
    page.clock.run_for(ms(READY - 2))
    timer.get_by_role("button", name="Stop and log").click()

    expect(timer.locator("[data-timer-phase]")).to_have_text(
        "Stopped before the first hold: nothing is logged for it."
    )
    expect(page.locator("[data-flow-nothing]")).to_be_visible()
    form = page.locator("[data-log-form]")
    reps = form.get_by_role("spinbutton", name="Reps per side")
    hold = form.get_by_role("spinbutton", name="Longest hold achieved")
    expect(reps).to_be_visible()
    expect(reps).to_have_value("")
    expect(hold).to_have_value("")
    page.clock.resume()
    pick_pain(page, "Pain after the session", 4)
    page.get_by_role("button", name="Save session").click()
    expect(page.locator("#log-form .alert-danger")).to_be_visible()
    assert not Session.objects.filter(user=user).exists()


def test_the_skip_link_takes_the_keyboard_to_the_timer(phone):
    page = phone
    user = make_user("keys")
    browser_login(page, user.username)
    page.goto("/today/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    # The second Tab, before the navigation: the timer is two presses and Enter away.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the guided timer")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    timer = page.locator("[data-timer]")
    expect(timer).to_be_visible()
    expect(timer.get_by_role("button", name="Start", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(timer.get_by_role("button", name="Pause")).to_be_focused()


def test_keyboard_choice_of_pain_keeps_the_scale_open_and_shows_the_timer(phone):
    # Arrow keys move through the numbers: the scale must not fold away under them.
    page = phone
    user = make_user("arrows")
    browser_login(page, user.username)
    page.goto("/today/")
    before = page.get_by_role("group", name="Pain before the session")
    before.get_by_role("radio", name="0", exact=False).first.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    expect(before.get_by_role("radio", name="2", exact=True)).to_be_checked()
    expect(before).to_be_visible()
    expect(page.locator("[data-timer]")).to_be_visible()


def test_the_lasting_pain_question_comes_first_and_the_flow_waits_for_it(phone):
    page = phone
    user = make_user("lasting")
    make_session(user, performed_at=timezone.now() - timedelta(days=1))
    browser_login(page, user.username)
    page.goto("/today/")
    question = page.get_by_role("group", name="Did the pain from your last session")
    expect(question).to_be_visible()
    assert_within_a_screen(page, page.get_by_role("button", name="Answer", exact=True))
    expect(page.locator("[data-flow-waiting]")).to_be_visible()
    expect(page.get_by_role("group", name="Pain before the session")).to_be_hidden()
    expect(page.get_by_role("link", name="Skip to the guided timer")).to_have_count(0)
    shot(page, "0-lasting-first")

    question.get_by_text("No").click()
    page.get_by_role("button", name="Answer", exact=True).click()
    page.wait_for_load_state()
    expect(page.get_by_role("group", name="Pain before the session")).to_be_visible()
    expect(page.locator("[data-flow-waiting]")).to_be_hidden()


def test_a_plan_cards_timer_button_runs_the_flow_for_that_stretch(phone):
    page = phone
    user = make_user("cards")
    timer = start_on_today(page, user.username)
    pick_pain(page, "Pain before the session", 3)
    page.get_by_role("article", name="Morning stretch in bed").get_by_role(
        "button", name="Start guided timer"
    ).click()
    expect(timer.get_by_role("heading")).to_have_text("Guided timer: Morning stretch in bed")
    expect(timer.get_by_role("button", name="Start", exact=True)).to_be_focused()
    form = page.locator("[data-log-form]")
    expect(form.locator("[name=exercise]")).to_have_value("morning-in-bed")


CUE_RECORDER = """
window.__spoken = []; window.__tones = 0; window.__buzz = 0;
class FakeUtterance { constructor(text) { this.text = text; } }
window.SpeechSynthesisUtterance = FakeUtterance;
Object.defineProperty(window, 'speechSynthesis', { value: {
  speaking: false, pending: false,
  speak(u) { window.__spoken.push(u.text); }, cancel() {},
}});
class FakeAudio {
  constructor() { this.currentTime = 0; this.destination = {}; }
  createOscillator() { window.__tones += 1; return { frequency: {}, connect: (g) => g,
    start() {}, stop() {} }; }
  createGain() { const g = { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} },
    connect: (d) => d }; return g; }
}
window.AudioContext = FakeAudio;
navigator.vibrate = () => { window.__buzz += 1; return true; };
"""


def test_hands_free_cues_speak_sound_and_buzz_and_their_switches_are_remembered(phone):
    page = phone
    page.add_init_script(CUE_RECORDER)
    user = make_user("cues")
    timer = start_on_today(page, user.username)
    pick_pain(page, "Pain before the session", 4)
    sound = timer.get_by_role("checkbox", name="Sound cues")
    voice = timer.get_by_role("checkbox", name="Spoken cues")
    expect(sound).to_be_checked()
    expect(voice).to_be_checked()
    timer.get_by_role("button", name="Start", exact=True).click()
    page.clock.run_for(ms(READY + 3))
    page.clock.run_for(ms(PER_SIDE - 3 + 1))
    spoken = page.evaluate("window.__spoken")
    assert spoken[0] == "Get ready. Lie on your back, left leg first."
    assert "Hold 1, left leg. Breathe out as you draw the knee in." in spoken
    assert "Breathe in" in spoken
    assert "Switch legs. Now the right leg." in spoken
    assert page.evaluate("window.__tones") >= 4
    assert page.evaluate("window.__buzz") >= 3

    # Muted: no more tones or words, and the choice outlives a reload.
    sound.uncheck()
    voice.uncheck()
    tones, words = page.evaluate("window.__tones"), len(page.evaluate("window.__spoken"))
    page.clock.run_for(ms(SWITCH + PER_SIDE))
    expect(timer.locator("[data-timer-phase]")).to_have_text("All holds done. Well done.")
    assert page.evaluate("window.__tones") == tones
    assert len(page.evaluate("window.__spoken")) == words
    page.reload()
    pick_pain(page, "Pain before the session", 4)
    expect(timer.get_by_role("checkbox", name="Sound cues")).not_to_be_checked()
    expect(timer.get_by_role("checkbox", name="Spoken cues")).not_to_be_checked()


def test_without_javascript_today_is_one_plain_form_that_saves(browser, live_server, settings):
    static_files_unhashed(settings)
    user = make_user("plain")
    context = browser.new_context(
        base_url=live_server.url, java_script_enabled=False, viewport=PHONE
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        browser_login(page, user.username)
        page.goto("/today/")
        form = page.locator("[data-log-form]")
        expect(form).to_have_count(1)
        for group in (
            "Pain before the session",
            "Pain after the session",
            "Stop signals",
            "Side(s)",
        ):
            expect(form.get_by_role("group", name=group)).to_be_visible()
        expect(form.get_by_role("spinbutton", name="Reps per side")).to_have_value(str(REPS))
        expect(form.get_by_role("spinbutton", name="Longest hold achieved")).to_have_value(
            str(HOLD)
        )
        expect(page.locator("[data-timer]")).to_be_hidden()
        expect(page.get_by_role("link", name="Skip to the guided timer")).to_be_hidden()
        expect(page.get_by_role("button", name="Start guided timer")).to_have_count(0)
        pick_pain(page, "Pain before the session", 6)
        pick_pain(page, "Pain after the session", 4)
        form.get_by_role("button", name="Save session").click()
        page.wait_for_url("**/today/")
        expect(page.get_by_text("Session saved.")).to_be_visible()
        assert counts(page) == {
            "done": "1",
            "card": "1 of 2 done today",
            "status": "Done today: 1 session. Next: Single knee to chest, 1 of 2 done today.",
        }
        session = Session.objects.get(user=user)
        assert (session.pain_before, session.pain_after, session.hold_seconds) == (6, 4, HOLD)
    finally:
        context.close()
