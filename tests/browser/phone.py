"""Checks shared by the phone tests: nothing wider than the screen, and axe-core."""

from __future__ import annotations

PHONE = {"width": 390, "height": 844}
SMALL_PHONE = {"width": 320, "height": 700}
DESKTOP = {"width": 1280, "height": 900}

# Every displayed element whose right edge passes the screen's; hidden ones measure 0.
_TOO_WIDE = """() => {
  const limit = window.innerWidth + 0.5;
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.right > limit) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className.baseVal ?? el.className} right=${Math.round(box.right)}`);
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, wide: out.slice(0, 8)};
}"""


def assert_fits_the_screen(page) -> None:
    """No sideways scroll: the page and every element in it end inside the viewport."""
    found = page.evaluate(_TOO_WIDE)
    assert found["scrollWidth"] <= found["innerWidth"], (page.url, found)
    assert found["wide"] == [], (page.url, found)


def assert_no_axe_violations(page) -> None:
    from tests.browser import axe

    results = axe.run(page)
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def at_each_width(page, path: str, check) -> None:
    """Open ``path`` at a phone's width and a desktop's, and run ``check(page, width)``."""
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        page.goto(path)
        check(page, size["width"])
