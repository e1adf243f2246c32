"""axe-core finds no WCAG 2.2 A/AA violation on any page, in any state, on a phone or a desk.

One test per state and width: the person is built once, signed in once in one browser
context, and walks every page they can reach (tests/browser/walk.py); each page is its
own subtest, so one failing page names itself and the walk goes on.
"""

import pytest

from tests.browser import axe, walk
from tests.browser.support import static_files_unhashed

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = {"phone": 390, "desktop": 1280}


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
@pytest.mark.parametrize("state", walk.STATES)
def test_no_wcag_violations(state, width, browser, live_server, settings, subtests):
    static_files_unhashed(settings)
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": width, "height": 900}
    )
    try:
        page = context.new_page()
        page.set_default_timeout(10_000)
        for visit in walk.prepare(state, page):
            with subtests.test(msg=visit.name):
                visit.reach(page)
                found = axe.violations(page)
                assert not found, f"{page.url} at {width}px:\n{axe.describe(found)}"
    finally:
        context.close()
