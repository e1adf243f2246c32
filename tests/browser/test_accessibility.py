"""axe-core finds no WCAG 2.2 A/AA violation on any page, in any state, on a phone or a desk.

One test per state: the person is built once and signed in once, in one browser context,
and walks every page they can reach (tests/browser/walk.py) at each width. Each page at
each width is its own subtest, so a failing one names itself and the walk goes on.
"""

import pytest
from playwright.sync_api import expect

from tests.browser import axe, walk
from tests.browser.support import pick_pain, static_files_unhashed
from tests.conftest import browser_login, make_user

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = (390, 1280)
HEIGHT = 900


@pytest.mark.layout
@pytest.mark.parametrize("state", walk.STATES)
def test_no_wcag_violations(state, browser, live_server, settings, subtests):
    static_files_unhashed(settings)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": WIDTHS[0], "height": HEIGHT}
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        for visit in walk.prepare(state, page):
            for n, width in enumerate(WIDTHS):
                with subtests.test(msg=f"{visit.name} @ {width}px"):
                    page.set_viewport_size({"width": width, "height": HEIGHT})
                    if n == 0 or visit.reload:
                        visit.reach(page)
                    found = axe.violations(page)
                    assert not found, f"{page.url} at {width}px:\n{axe.describe(found)}"
    finally:
        context.close()


def test_axe_runs_under_the_sites_own_csp(page):
    response = page.goto("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert axe.violations(page) == []
    assert page.evaluate("typeof axe.run") == "function"  # it really ran in the page
    assert not [e for e in page.console_errors if "Content Security Policy" in e]


# Each link of the summary, with whether its target is a form control on this page.
SUMMARY_LINKS = """() => [...document.querySelectorAll('.error-summary a[href^="#"]')].map(a => {
  const target = document.getElementById(a.getAttribute("href").slice(1));
  return [a.textContent.trim(), !!target && target.matches("input, select, textarea")];
})"""


def test_an_error_summary_takes_focus_and_links_each_error_to_its_field(page):
    page.goto("/accounts/signup/")
    page.get_by_role("button", name="Create account").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    links = page.evaluate(SUMMARY_LINKS)
    assert [text.split(":")[0] for text, _ in links] == [
        "Username",
        "Password",
        "Password confirmation",
    ]
    assert all(is_field for _, is_field in links), links

    summary.get_by_role("link", name="Password confirmation").click()
    expect(page.locator("#id_password2")).to_be_focused()

    # Listed in the order the fields come on the page.
    page.locator("#id_username").fill("newcomer")
    page.locator("#id_password1").fill("calm-Stretch-42")
    page.locator("#id_password2").fill("calm-Stretch-43")
    page.locator("#id_email").fill("not an address")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator(".error-summary")).to_be_focused()
    assert [text.split(":")[0] for text, _ in page.evaluate(SUMMARY_LINKS)] == [
        "Password confirmation",
        "Email (optional)",
    ]


def test_the_log_forms_error_summaries_reach_the_pain_scales(page):
    user = make_user("summary")
    browser_login(page, user.username)
    page.goto("/sessions/new/")
    page.get_by_role("button", name="Save").first.click()
    expect(page.locator(".error-summary")).to_be_focused()
    links = page.evaluate(SUMMARY_LINKS)
    assert links and all(is_field for _, is_field in links), links

    # Today's form comes back by an htmx swap: the summary still takes focus, and its link
    # reaches the pain-after scale that was left unanswered.
    page.goto("/today/")
    pick_pain(page, "Pain before the session", 4)
    page.get_by_role("button", name="I did it without the timer").click()
    page.locator("[data-log-form]").get_by_role("button", name="Save session").click()
    expect(page.locator(".error-summary")).to_be_focused()
    links = page.evaluate(SUMMARY_LINKS)
    assert links and all(is_field for _, is_field in links), links
    page.locator(".error-summary a").first.click()
    expect(page.locator("#id_pain_after_0")).to_be_focused()
