"""On a 320 px phone nothing is wider than the screen, on any page, in any state.

The one exception is a region that scrolls sideways on purpose and that the keyboard can
reach (focusable itself, or holding focusable content, as axe's scrollable-region rule
asks): a chart keeps a readable size and scrolls instead of shrinking.
"""

import pytest

from tests.browser import walk
from tests.browser.support import static_files_unhashed

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.layout,
    pytest.mark.layout_postgres,
]

NARROWEST = 320

# Every visible element whose right edge is past the viewport, unless a keyboard-reachable
# sideways scroller holds it.
WIDER_THAN_SCREEN = """() => {
  const width = window.innerWidth;
  const found = [];
  if (document.documentElement.scrollWidth > width) {
    found.push(`the page is ${document.documentElement.scrollWidth}px wide`);
  }
  const focusable = "a[href], button, input, select, textarea, summary, [tabindex]";
  const inScroller = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if ((overflow === "auto" || overflow === "scroll")
          && (up.tabIndex >= 0 || up.querySelector(focusable))) return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + (el.classList.length ? "." + [...el.classList].join(".") : "");
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || box.right <= width + 1) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.clip === "rect(0px, 0px, 0px, 0px)") continue;
    if (inScroller(el)) continue;
    found.push(`${name(el)} reaches ${Math.round(box.right)}px`);
  }
  return found;
}"""


@pytest.mark.parametrize("state", walk.STATES)
def test_nothing_is_wider_than_a_320px_screen(state, browser, live_server, settings, subtests):
    static_files_unhashed(settings)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": NARROWEST, "height": 800}
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        for visit in walk.prepare(state, page):
            with subtests.test(msg=visit.name):
                visit.reach(page)
                too_wide = page.evaluate(WIDER_THAN_SCREEN)
                assert not too_wide, f"{page.url} at {NARROWEST}px:\n" + "\n".join(too_wide[:15])
    finally:
        context.close()


def test_a_note_with_a_long_link_stays_inside_a_320px_screen(browser, live_server, settings):
    # A note is the user's own words: a pasted link has no place to break by itself.
    from tests.conftest import browser_login, make_session, make_user

    static_files_unhashed(settings)
    user = make_user("noter")
    link = "https://youtu.be/watch?v=kNeeToChestStretchForLowerBackPainWeekTwoPlaylist0123456789"
    session = make_session(user, note=f"Followed {link} again")
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": NARROWEST, "height": 700}
    )
    try:
        page = context.new_page()
        browser_login(page, user.username)
        page.goto("/sessions/")
        assert page.get_by_text(link).is_visible()
        assert page.evaluate(WIDER_THAN_SCREEN) == []
        page.goto(f"/sessions/{session.pk}/delete/")
        page.get_by_role("button", name="Delete session").click()
        page.wait_for_url("**/sessions/")
        assert page.locator("[data-undo]").is_visible()
        assert page.evaluate(WIDER_THAN_SCREEN) == []
    finally:
        context.close()
