"""The focus ring keeps at least 3:1 against every background it can be drawn on (WCAG 1.4.11).

Read from the stylesheets themselves: the colours are the custom properties in
easeback.css, the backgrounds every ``background`` declared in any of our stylesheets, so a
new surface colour is checked the day it is added.
"""

import re
from pathlib import Path

CSS = Path(__file__).resolve().parent.parent / "static" / "css"
EASEBACK = (CSS / "easeback.css").read_text()

# Dark surfaces: the header holds links, so the ring inside it is the light one; buttons
# and checked tiles are drawn in these colours, and their ring sits outside them (offset).
DARK = {"--brand", "--danger"}


def custom_properties(css: str) -> dict[str, str]:
    root = re.search(r":root\s*{([^}]*)}", css).group(1)
    return dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{3,6})\s*;", root))


def backgrounds(css: str) -> set[str]:
    """Each colour given to a background: a hex literal or a custom property's name."""
    found = set()
    for value in re.findall(r"background(?:-color)?\s*:\s*([^;}]+)", css):
        found.update(re.findall(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b", value))
        found.update(re.findall(r"var\((--[\w-]+)\)", value))
    return found


def luminance(hex_colour: str) -> float:
    """WCAG 2 relative luminance of an sRGB colour."""
    digits = hex_colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = []
    for i in (0, 2, 4):
        c = int(digits[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    red, green, blue = channels
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_contrast_formula_gives_wcags_known_ratios():
    assert round(contrast("#ffffff", "#000000"), 1) == 21.0
    assert round(contrast("#777777", "#ffffff"), 2) == 4.48  # the classic just-failing grey
    assert contrast("#fff", "#ffffff") == 1.0


def test_the_focus_ring_has_3_to_1_against_every_light_background():
    colours = custom_properties(EASEBACK)
    surfaces = set().union(*(backgrounds(p.read_text()) for p in CSS.glob("*.css")))
    light = {s for s in surfaces if s not in DARK}
    assert {"--bg", "--card", "--danger-bg", "--warn-bg", "--ok-bg", "#fff"} <= light
    ring = colours["--focus"]
    low = {s: round(contrast(ring, colours.get(s, s)), 2) for s in light}
    assert all(ratio >= 3 for ratio in low.values()), low


def test_the_header_uses_the_light_ring_and_it_has_3_to_1_against_the_dark_surfaces():
    colours = custom_properties(EASEBACK)
    ring = colours["--focus-on-dark"]
    for surface in DARK:
        assert contrast(ring, colours[surface]) >= 3, surface
    assert re.search(r"\.site-header[^{]*{\s*--focus:\s*var\(--focus-on-dark\)", EASEBACK)
    # Every focus outline is drawn in the one custom property, so the header's swap reaches it.
    outlines = re.findall(r"outline:\s*[^;}]*solid\s+([^;}]+)", EASEBACK)
    assert outlines and set(outlines) == {"var(--focus)"}, outlines
