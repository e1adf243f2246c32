"""Every page, as the browser sees it: nothing breaks the CSP, nothing leaves our origin."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.support import pick_pain
from tests.conftest import browser_login, make_session, make_user

pytestmark = pytest.mark.django_db(transaction=True)

VISITOR_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/stretches/",
    "/stretches/figure-four/",
]
MEMBER_PAGES = [
    "/",
    "/stretches/",
    "/stretches/figure-four/",
    "/screening/",
    "/screening/?retake=1",
    "/today/",
    "/sessions/",
    "/sessions/new/",
    "/account/",
    "/accounts/password/",
    "/account/delete/",
    "/account/reminders/",
    "/progress/",
    "/progress/report/",
]

# Listens from before any page script runs (Playwright injects it outside the page's CSP),
# so a violation is caught even when Chromium words its console message differently.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
});
"""


def exists(path: str) -> bool:
    try:
        resolve(urlsplit(path).path)
    except Resolver404:
        return False
    return True


class Recorder:
    def __init__(self, page):
        self.requests: list[str] = []
        self.console: list[str] = []
        self.violations: list[str] = []
        page.context.on("request", lambda request: self.requests.append(request.url))
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.add_init_script(RECORD_VIOLATIONS)

    def collect(self, page) -> None:
        found = page.evaluate("window.__cspViolations || []")
        self.violations += [f"{page.url}: {v}" for v in found]

    def assert_clean(self, origin: str) -> None:
        foreign = [url for url in self.requests if not url.startswith(origin + "/")]
        assert foreign == [], f"requests outside {origin}: {foreign}"
        csp = [m for m in self.console if "Content Security Policy" in m or "Refused to" in m]
        assert csp == [], csp
        assert self.violations == []
        assert [m for m in self.console if m.startswith("error:")] == []


def visit(page, recorder: Recorder, paths) -> None:
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, f"{path} answered {response.status}"
        page.wait_for_load_state("load")
        recorder.collect(page)


def test_visitor_pages_stay_on_our_origin_and_within_the_csp(page, live_server):
    recorder = Recorder(page)
    visit(page, recorder, VISITOR_PAGES)
    assert len(recorder.requests) >= len(VISITOR_PAGES) * 2  # pages plus their CSS and JS
    recorder.assert_clean(live_server.url)


def test_signed_in_pages_timer_and_htmx_stay_on_our_origin_and_within_the_csp(page, live_server):
    user = make_user("sam")
    now = timezone.now()
    # A few days of history so the progress page draws its chart, not an empty state.
    sessions = [
        make_session(user, performed_at=now - timedelta(days=days), pain_before=6, pain_after=4)
        for days in range(1, 9)
    ]
    one = sessions[0].pk
    pages = [*MEMBER_PAGES, f"/sessions/{one}/edit/", f"/sessions/{one}/delete/"]
    recorder = Recorder(page)
    browser_login(page, user.username, through_form=True)  # the log-in page is recorded too
    visit(page, recorder, [path for path in pages if exists(path)])

    # The scripts that do the most at run time: the timer and an htmx save and swap.
    page.goto("/today/")
    # Before the day's first session: did yesterday's pain last over 2 hours? No.
    page.locator("#lasting-pain").get_by_label("No", exact=True).check()
    page.locator("#lasting-pain").get_by_role("button", name="Answer").click()
    page.wait_for_url("**/today/")
    page.get_by_role("button", name="Start guided timer").first.click()
    page.locator("[data-timer]").get_by_role("button", name="Start", exact=True).click()
    pick_pain(page, "Pain before the session", 5)
    page.get_by_role("button", name="I did it without the timer").click()  # the flow's step 3
    pick_pain(page, "Pain after the session", 4)
    page.get_by_role("button", name="Save session").click()
    expect(page.locator("[data-done-count]")).to_have_text("1")
    recorder.collect(page)

    static = [url for url in recorder.requests if "/static/" in url]
    assert any(url.endswith("/timer.js") for url in static)
    assert any("htmx" in url for url in static)
    recorder.assert_clean(live_server.url)
