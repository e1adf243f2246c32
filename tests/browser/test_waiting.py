"""The browser tests' one way of waiting for the page (tests/browser/support.wait_until),
on a real page under the app's CSP: it waits for what a check resolves to, fails at its
deadline even when a check never settles, and lets a broken check fail as it is."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.browser.support import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_waits_for_a_condition_that_comes_true_later(page):
    page.goto("/")
    # The clock starts before the timer is set: evaluate's own round trip, slow on a busy
    # machine, is then part of the 600 ms and never shortens the wait measured.
    started = time.monotonic()
    page.evaluate("setTimeout(() => { window.easebackReady = 'yes'; }, 600)")

    assert wait_until(page, "window.easebackReady") == "yes"
    assert time.monotonic() - started >= 0.5


def test_it_waits_for_what_a_promise_resolves_to_not_the_promise(page):
    page.goto("/")
    page.evaluate("setTimeout(() => { window.easebackCount = 2; }, 600)")

    value = wait_until(page, "() => Promise.resolve(window.easebackCount === 2 && 'two')")

    assert value == "two"


def test_a_check_that_never_settles_fails_at_the_deadline(page):
    page.goto("/")
    started = time.monotonic()

    with pytest.raises(AssertionError, match="after 1.0 s"):
        wait_until(page, "new Promise(() => {})", timeout=1.0)
    assert time.monotonic() - started < 3


def test_a_broken_check_is_raised_at_once_not_retried(page):
    page.goto("/")
    started = time.monotonic()

    with pytest.raises(PlaywrightError, match="navigatorr is not defined"):
        wait_until(page, "navigatorr.serviceWorker.controller !== null", timeout=5)
    assert time.monotonic() - started < 2
