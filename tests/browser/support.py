"""Helpers shared by the browser tests (not a conftest: imported where used)."""

from __future__ import annotations

import time

from playwright.sync_api import Error as PlaywrightError

SINGLE_LEG = "Single knee to chest"


def static_files_unhashed(settings) -> None:
    # Hashed static names do not exist under live_server: serve the plain files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def pain_scale(page, label: str):
    """The 0-10 pain fieldset whose legend is ``label``."""
    return page.get_by_role("group", name=label)


def pick_pain(page, label: str, value: int) -> None:
    """Tap the number on a pain scale, as a user does (the radio itself is visually hidden)."""
    pain_scale(page, label).get_by_text(str(value), exact=True).click()


def wait_until(page, script: str, timeout: float = 10.0):
    """Poll ``script`` (an expression or a function, which may return a promise) in the page
    until it gives a truthy value, and return that value.

    Not ``page.wait_for_function``: after its first check it evaluates the string with
    ``eval`` inside the page, which our CSP (no 'unsafe-eval') refuses, and it takes a
    returned promise as truthy without waiting for what it resolves to. ``page.evaluate``
    goes through the DevTools protocol, which the page's CSP does not govern, and awaits
    promises; each check races the time left, so one that never settles still fails at
    the deadline. A check cut short by a navigation is tried again; any other error in
    the script is raised as it is.
    """
    deadline = time.monotonic() + timeout
    value = None
    while True:
        left_ms = max(1, int((deadline - time.monotonic()) * 1000))
        bounded = (
            f"Promise.race([Promise.resolve((v => typeof v === 'function' ? v() : v)(({script}))),"
            f" new Promise(resolve => setTimeout(() => resolve(null), {left_ms}))])"
        )
        try:
            value = page.evaluate(bounded)
        except PlaywrightError as error:
            if not any(cut in str(error) for cut in NAVIGATION_ERRORS):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value!r} after {timeout} s: {script}")
        page.wait_for_timeout(100)


# The page's worker registration as a sentence, for a failure message.
WORKER_STATE = """navigator.serviceWorker.getRegistration().then(r => r
  ? ['installing', 'waiting', 'active'].map(k => k + '=' + (r[k] ? r[k].state : 'none')).join(' ')
  : 'no registration')"""


def wait_for_worker(page, timeout: float = 15.0) -> None:
    """Wait until the service worker controls ``page``.

    A worker whose install failed (one of the files it keeps did not arrive: a connection
    dropped by a busy test server) is discarded, and the browser installs it again on the
    next page that registers it, as a person's next visit does. So, once: when after
    ``timeout`` the registration holds no worker at all, the page is loaded again and
    waited for as long. A worker that is there but never takes control, or an install
    that fails twice, fails the test with the registration's state.
    """
    try:
        wait_until(page, "navigator.serviceWorker.controller !== null", timeout=timeout)
        return
    except AssertionError:
        first = page.evaluate(WORKER_STATE)
    no_worker = first == "no registration" or first.count("=none") == 3
    if not no_worker:
        raise AssertionError(f"the worker never took control of {page.url}: {first}")
    page.reload()
    try:
        wait_until(page, "navigator.serviceWorker.controller !== null", timeout=timeout)
    except AssertionError:
        second = page.evaluate(WORKER_STATE)
        raise AssertionError(
            f"no worker controls {page.url}: first {first}; after a reload {second}"
        ) from None


# What Playwright says when a navigation destroys the page a check was running in.
NAVIGATION_ERRORS = ("Execution context was destroyed", "because of a navigation")
