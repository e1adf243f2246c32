"""Push in Chromium: push.js subscribes this device; sw-push.js shows and opens reminders."""

from __future__ import annotations

import json
import time

import pytest
from playwright.sync_api import expect

from reminders.models import PushSubscription
from reminders.push import generate_vapid_keys
from tests.browser.support import wait_for_worker
from tests.conftest import browser_login
from tests.factories import make_user
from tests.reminders.push_receiver import Device

pytestmark = pytest.mark.django_db(transaction=True)


class FakePushService:
    origin = "https://push.example"


@pytest.fixture(autouse=True)
def push_setup(transactional_db, settings):
    settings.ROOT_URLCONF = "tests.browser.urls_push"
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = generate_vapid_keys()
    settings.VAPID_SUBJECT = "mailto:reminders@easeback.test"


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def under_test_worker(page):
    """Register the test /sw.js, let it control the page; return a CDP session and its id."""
    cdp = page.context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(
            r["registrationId"] for r in event["registrations"] if not r.get("isDeleted")
        ),
    )
    cdp.send("ServiceWorker.enable")
    page.evaluate(
        "navigator.serviceWorker.register('/sw.js', {scope: '/'})"
        ".then(() => navigator.serviceWorker.ready).then(() => true)"
    )
    page.reload()
    wait_for_worker(page)
    return cdp, wait_for(lambda: registrations[-1] if registrations else None)


def push_until_shown(page, cdp, origin: str, registration: str, payload: dict) -> list:
    """Deliver a push and wait for its notification; on a loaded machine the first
    delivery can reach a worker that is still starting, so try up to three times."""
    for _ in range(3):
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": origin, "registrationId": registration, "data": json.dumps(payload)},
        )
        try:
            return wait_for(lambda: shown_notifications(page), timeout=5)
        except AssertionError:
            continue
    raise AssertionError("no notification after three pushes")


def shown_notifications(page):
    return page.evaluate(
        "navigator.serviceWorker.ready.then((r) => r.getNotifications())"
        ".then((list) => list.map((n) => ({title: n.title, body: n.body, tag: n.tag,"
        " url: n.data && n.data.url})))"
    )


def test_the_button_subscribes_this_device_and_the_page_lists_it(page, live_server):
    make_user("pat")
    browser_device = Device(FakePushService(), "pat-phone")
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    # Headless Chromium has no push service to subscribe with: stand in for the browser's
    # PushManager only, with the keys a real browser would hand over.
    subscription = {
        "endpoint": browser_device.endpoint,
        "keys": {"p256dh": browser_device.p256dh, "auth": browser_device.auth},
    }
    page.add_init_script(
        "PushManager.prototype.subscribe = async function (options) {"
        "  sessionStorage.setItem('serverKeyBytes', options.applicationServerKey.length);"
        "  sessionStorage.setItem('userVisibleOnly', options.userVisibleOnly);"
        f"  const sub = {json.dumps(subscription)};"
        "  return { ...sub, toJSON: () => sub };"
        "};"
    )
    browser_login(page, "pat")
    page.goto("/account/reminders/")

    page.get_by_role("button", name="Get notifications on this device").click()

    expect(page.get_by_role("button", name="Remove Chrome on Linux")).to_be_visible()
    row = PushSubscription.objects.get()
    assert (row.user.username, row.endpoint) == ("pat", browser_device.endpoint)
    # Subscribed with our VAPID public key (a 65-byte P-256 point), visible notifications only.
    assert page.evaluate("sessionStorage.getItem('serverKeyBytes')") == "65"
    assert page.evaluate("sessionStorage.getItem('userVisibleOnly')") == "true"
    assert page.console_errors == []


def test_a_push_shows_the_reminder_and_clicking_it_opens_today(page, live_server):
    make_user("quinn")
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    browser_login(page, "quinn")
    page.goto("/account/reminders/")
    cdp, registration = under_test_worker(page)
    payload = {
        "title": "Back stretches",
        "body": "Time for your stretches: today's plan is ready.",
        "url": "/today/",
        "tag": "easeback-2026-12-01-1",
    }

    shown = push_until_shown(page, cdp, live_server.url, registration, payload)
    assert shown == [
        {
            "title": "Back stretches",
            "body": "Time for your stretches: today's plan is ready.",
            "tag": "easeback-2026-12-01-1",
            "url": f"{live_server.url}/today/",
        }
    ]

    page.evaluate("navigator.serviceWorker.controller.postMessage('click-the-reminder')")

    page.wait_for_url(f"{live_server.url}/today/")
    assert (
        page.evaluate(
            "navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((l) => l.length)"
        )
        == 0
    )  # the click closed it


def test_a_payload_pointing_elsewhere_still_opens_our_own_site(page, live_server):
    make_user("rio")
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    browser_login(page, "rio")
    page.goto("/account/reminders/")
    cdp, registration = under_test_worker(page)

    payload = {"url": "https://evil.example/phish"}
    [shown] = push_until_shown(page, cdp, live_server.url, registration, payload)
    assert (shown["title"], shown["url"]) == ("Back stretches", f"{live_server.url}/today/")
