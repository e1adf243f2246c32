"""Draw the app icons (PNG) from our SVGs with the Chromium the browser tests use.

    .venv/bin/python -m pwa.make_icons

Pillow is not among our dependencies and cannot draw SVG anyway; Playwright and
Chromium are (for the browser tests), so they render the SVG at each size. The PNGs are
committed: run this again only after changing static/img/icon.svg or icon-maskable.svg.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import sync_playwright

STATIC_IMG = Path(__file__).resolve().parent.parent / "static" / "img"
CHROMIUM = os.environ.get("EASEBACK_CHROMIUM", "/usr/bin/chromium")
# (source SVG, output name, size, transparent corners)
ICONS = [
    ("icon.svg", "icon-192.png", 192, True),
    ("icon.svg", "icon-512.png", 512, True),
    # Maskable: full-bleed background, the drawing inside the central safe circle
    # (80 % of the width), so a launcher may cut any shape out of it.
    ("icon-maskable.svg", "icon-maskable-192.png", 192, False),
    ("icon-maskable.svg", "icon-maskable-512.png", 512, False),
]


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for source, target, size, transparent in ICONS:
                svg = (STATIC_IMG / source).read_text()
                page = browser.new_page(viewport={"width": size, "height": size})
                page.set_content(
                    f'<body style="margin:0">{svg.replace("<svg ", f"<svg width={size} height={size} ", 1)}</body>'
                )
                page.screenshot(path=STATIC_IMG / target, omit_background=transparent)
                page.close()
                print(f"static/img/{target}: {size}x{size}")
        finally:
            browser.close()


if __name__ == "__main__":
    main()
