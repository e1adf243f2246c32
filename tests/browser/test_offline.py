"""The installable app in Chromium: the worker, /today/ with no network, sessions logged
offline and sent once, log-out on a shared phone, and a block that started meanwhile."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.browser.support import pick_pain, wait_for_worker, wait_until
from tests.conftest import browser_login, make_session, make_user
from tracking.models import Session

pytestmark = pytest.mark.django_db(transaction=True)

HAS_COPY_OF_TODAY = """async () => {
  const cache = await caches.open('easeback-pages');
  return Boolean(await cache.match('/today/'));
}"""
QUEUED_SESSIONS = """() => new Promise((resolve, reject) => {
  const request = indexedDB.open('easeback-offline', 1);
  request.onupgradeneeded = () => request.result.createObjectStore('sessions', { keyPath: 'token' });
  request.onsuccess = () => {
    const get = request.result.transaction('sessions').objectStore('sessions').count();
    get.onsuccess = () => resolve(get.result);
    get.onerror = () => reject(get.error);
  };
})"""


def visit_today_online(page, user) -> None:
    """One online visit: signed in, the worker controls the page and keeps a copy of /today/."""
    # Through the form: the worker is installed on the pages before /today/, as for a person.
    browser_login(page, user.username, through_form=True)
    page.goto("/today/")
    wait_for_worker(page)
    wait_until(page, HAS_COPY_OF_TODAY)


def log_offline(page, before: int, after: int) -> None:
    pick_pain(page, "Pain before the session", before)
    page.get_by_role("button", name="I did it without the timer").click()  # the flow's step 3
    pick_pain(page, "Pain after the session", after)
    page.get_by_role("button", name="Save session").click()
    expect(page.locator("[data-queue-message]")).to_contain_text(
        f"Saved on this phone, will send when online: Single knee to chest, pain {before} → {after}."
    )


def test_manifest_is_valid_and_the_worker_controls_the_page(page):
    user = make_user("ines")
    visit_today_online(page, user)

    cdp = page.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    assert manifest["url"].endswith("/manifest.webmanifest")
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    # Playwright's contexts are incognito windows, where Chromium never offers to install;
    # that is the only objection allowed (a missing icon or worker would be listed too).
    assert [error["errorId"] for error in errors] in ([], ["in-incognito"]), errors
    scope = page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)")
    assert scope == page.url.removesuffix("today/")
    assert page.console_errors == []


def test_an_install_cut_short_is_tried_again_on_the_next_page(page):
    """One of the files the worker keeps does not arrive while it installs on the log-in
    page (a dropped connection): that worker is discarded, and /today/ installs it again."""
    user = make_user("ivo")
    dropped = []

    def drop_the_first(route):
        if not dropped and route.request.service_worker is not None:
            dropped.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.context.route("**/static/img/icon-192.png", drop_the_first)
    browser_login(page, user.username, through_form=True)
    page.goto("/today/")
    # Not wait_for_worker: its own reload must not be what brings the worker back.
    wait_until(page, "navigator.serviceWorker.controller !== null")
    wait_until(page, HAS_COPY_OF_TODAY)
    assert dropped, "the worker's install was never cut short"


def test_today_opens_offline_after_one_visit_with_timer_and_log_form(page):
    user = make_user("olga")
    visit_today_online(page, user)
    page.context.set_offline(True)

    page.reload()

    banner = page.locator("[data-offline-copy]")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(re.compile(r"Offline — last updated \d\d:\d\d"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Week 1")
    page.get_by_role("button", name="Start guided timer").first.click()
    timer = page.locator("[data-timer]")
    timer.get_by_role("button", name="Start", exact=True).click()
    expect(timer.get_by_role("button", name="Pause")).to_be_visible()
    # A form missing its answers is not kept (the server would refuse it later).
    page.get_by_role("button", name="I did it without the timer").click()  # the flow's step 3
    page.get_by_role("button", name="Save session").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Not saved yet: please fill in Pain before the session, Pain after the session."
    )
    assert page.evaluate(QUEUED_SESSIONS) == 0
    # Any other page needs the network: the offline page says so, with nothing personal.
    page.goto("/progress/")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    assert user.username not in page.content()


def test_a_session_logged_offline_arrives_once_after_two_reloads(page):
    user = make_user("paul")
    visit_today_online(page, user)
    page.context.set_offline(True)
    page.reload()

    log_offline(page, 6, 4)
    assert page.evaluate(QUEUED_SESSIONS) == 1
    page.reload()
    page.reload()
    expect(page.locator("[data-queue-pending]")).to_contain_text("1 session waiting on this phone")
    assert not Session.objects.filter(user=user).exists()

    page.context.set_offline(False)

    expect(page.locator("[data-queue-message]")).to_contain_text(
        "Sent: 1 session saved on this phone is now in your account."
    )
    expect(page.locator("[data-done-count]")).to_have_text("1")
    session = Session.objects.get(user=user)
    assert (session.pain_before, session.pain_after) == (6, 4)
    assert page.evaluate(QUEUED_SESSIONS) == 0
    page.reload()
    assert Session.objects.filter(user=user).count() == 1


def test_two_offline_sessions_from_one_copy_are_two_sessions_and_two_tabs_send_them_once(page):
    user = make_user("quinn")
    visit_today_online(page, user)
    other_tab = page.context.new_page()
    other_tab.goto("/today/")
    page.bring_to_front()  # a tab behind another gets few animation frames: slow clicks
    page.context.set_offline(True)
    page.reload()
    log_offline(page, 5, 3)
    page.reload()  # the copy brings back the same form: the second session needs its own token
    log_offline(page, 4, 2)
    other_tab.reload()
    assert page.evaluate(QUEUED_SESSIONS) == 2

    page.context.set_offline(False)  # both tabs hear "online" and send at once

    wait_until(page, f"({QUEUED_SESSIONS})().then(n => n === 0)")
    pains = sorted(Session.objects.filter(user=user).values_list("pain_before", "pain_after"))
    assert pains == [(4, 2), (5, 3)]
    # Whichever tab sent them, both say so and count both.
    for tab in (page, other_tab):
        expect(tab.locator("[data-done-count]")).to_have_text("2")
        expect(tab.locator("[data-queue-message]")).to_contain_text(
            "Sent: 2 sessions saved on this phone are now in your account."
        )


def test_logging_out_leaves_no_copy_of_today_and_no_queued_session(page):
    user = make_user("rosa")
    visit_today_online(page, user)
    page.context.set_offline(True)
    page.reload()
    log_offline(page, 7, 6)
    # Back online, but the session cannot get through (the server is unreachable).
    page.context.route("**/today/log/queued/", lambda route: route.abort())
    page.context.set_offline(False)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))

    with page.expect_response(lambda response: "/accounts/logout/" in response.url) as logout:
        page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"^http://[^/]+/$"))

    assert dialogs and "1 session saved on this phone has not been sent yet" in dialogs[0]
    assert page.evaluate(HAS_COPY_OF_TODAY) is False
    assert page.evaluate(QUEUED_SESSIONS) == 0
    assert not Session.objects.filter(user=user).exists()
    # ...and the browser was told to forget the site.
    assert logout.value.all_headers().get("clear-site-data") == '"cache", "storage"'
    # The next person on this phone, offline, gets no signed-in page.
    page.context.set_offline(True)
    with contextlib.suppress(PlaywrightError):  # the browser's own "no internet" page
        page.goto("/today/")
    page.wait_for_load_state()
    text = page.locator("body").inner_text()
    assert "rosa" not in text and "Week 1" not in text and "Save session" not in text


def test_a_stop_signal_pause_that_started_while_offline_is_shown_after_sync(page):
    user = make_user("sara")
    visit_today_online(page, user)
    page.context.set_offline(True)
    page.reload()
    log_offline(page, 5, 5)
    # Meanwhile, on another device, a stop signal paused the programme.
    make_session(user, stop_signals=["cramp"])

    page.context.set_offline(False)

    page.wait_for_url("**/screening/")
    expect(page.get_by_text("Your programme is paused").first).to_be_visible()
    assert Session.objects.filter(user=user, pain_before=5, pain_after=5).count() == 1
    assert page.evaluate(HAS_COPY_OF_TODAY) is False


def test_a_stop_signal_logged_offline_stops_the_timer_at_once_and_pauses_after_sync(page):
    user = make_user("vera")
    visit_today_online(page, user)
    page.context.set_offline(True)
    page.reload()
    page.get_by_role("button", name="I did it without the timer").click()  # the flow's step 3
    page.get_by_label("Sharp or shooting pain instead of a gentle stretch").check()
    pick_pain(page, "Pain before the session", 4)
    pick_pain(page, "Pain after the session", 6)
    page.get_by_role("button", name="Save session").click()
    expect(page.locator("[data-queue-message]")).to_contain_text(
        "Saved on this phone, will send when online: Single knee to chest, pain 4 → 6."
    )

    expect(page.locator("[data-offline-pause]")).to_contain_text("please stop stretching for now")
    expect(page.get_by_role("button", name="Start guided timer")).to_have_count(0)
    page.reload()  # still paused on the copy, until the server has it
    expect(page.locator("[data-offline-pause]")).to_be_visible()
    expect(page.locator("[data-timer-start]").first).to_be_hidden()
    page.context.set_offline(False)
    page.wait_for_url("**/screening/")
    session = Session.objects.get(user=user)
    assert session.stop_signals == ["sharp_pain"]


def test_lasting_pain_answered_offline_stops_the_timer_and_asks_again_online(page):
    user = make_user("wanda", start=timezone.localdate() - timedelta(days=3))
    make_session(user, performed_at=timezone.now() - timedelta(days=1))
    visit_today_online(page, user)
    page.context.set_offline(True)
    page.reload()

    page.get_by_label("Yes").check()
    page.get_by_role("button", name="Answer", exact=True).click()

    expect(page.locator("[data-offline-pause]")).to_be_visible()
    expect(page.locator("[data-queue-message]")).to_contain_text("not recorded yet")
    expect(page.locator("[data-timer-start]").first).to_be_hidden()
    assert page.url.endswith("/today/")  # no browser error page


def test_a_pain_rise_logged_offline_brings_the_guidance_once_sent(page):
    user = make_user("xena")
    visit_today_online(page, user)
    page.context.set_offline(True)
    page.reload()
    log_offline(page, 2, 6)

    page.context.set_offline(False)

    expect(
        page.get_by_role("heading", name="Saved, and a word about your pain").first
    ).to_be_visible()
    expect(page.get_by_text("Your pain went from 2 to 6").first).to_be_visible()
    assert Session.objects.filter(user=user).count() == 1


def test_no_javascript_log_still_works(browser, live_server, settings):
    from tests.browser.support import static_files_unhashed

    static_files_unhashed(settings)
    user = make_user("tom")
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        browser_login(page, user.username)
        page.goto("/today/")
        expect(page.locator("[data-offline-status]")).to_be_hidden()
        pick_pain(page, "Pain before the session", 3)
        pick_pain(page, "Pain after the session", 2)
        page.get_by_role("button", name="Save session").click()
        expect(page.get_by_text("Session saved.")).to_be_visible()
        assert Session.objects.filter(user=user).count() == 1
    finally:
        context.close()


def test_a_new_version_waits_for_the_reload_prompt_and_never_interrupts_the_timer(
    page, monkeypatch
):
    user = make_user("uma")
    visit_today_online(page, user)
    page.get_by_role("button", name="Start guided timer").first.click()
    timer = page.locator("[data-timer]")
    timer.get_by_role("button", name="Start", exact=True).click()

    # A release: the worker's version changes while a hold is running.
    monkeypatch.setattr("pwa.views.worker_version", lambda: "0123456789abcdef")
    page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
    wait_until(page, "navigator.serviceWorker.getRegistration().then(r => !!r.waiting)")

    prompt = page.locator("[data-update-ready]")
    page.wait_for_timeout(1500)
    expect(prompt).to_be_hidden()  # never in the middle of a timer
    expect(timer.get_by_role("button", name="Pause")).to_be_visible()
    timer.get_by_role("button", name="Stop and log").click()
    expect(prompt).to_be_visible()
    prompt.get_by_role("button", name="Reload to update").click()

    wait_until(
        page,
        "caches.keys().then(k => k.includes('easeback-static-0123456789abcdef') && k.length <= 3)",
    )
    wait_for_worker(page)
    wait_until(page, HAS_COPY_OF_TODAY)  # today's copy, now with the new files
    expect(prompt).to_be_hidden()
    names = page.evaluate("caches.keys()")
    assert [n for n in names if n.startswith("easeback-static-")] == [
        "easeback-static-0123456789abcdef"
    ]
