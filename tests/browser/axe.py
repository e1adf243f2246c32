"""axe-core, run inside the page under test, with the WCAG 2.2 A and AA rules only.

``axe_playwright_python`` bundles axe-core's script and injects it with ``page.evaluate``:
DevTools evaluation is not page script, so the site's CSP (nonces, no inline script) stays
exactly as served while axe runs.

The script (about 570 kB) is injected once per document: a page checked again after a
resize, or after an action that changed it without loading a new page, reuses the copy
already there. Only violations are collected in full: axe still runs every rule on every
element, but it does not build a selector and an HTML snippet for each element that passed
(the slow part on a page with a chart), which no test reads.
"""

from __future__ import annotations

import json

from axe_playwright_python.sync_playwright import Axe, AxeResults

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_22_AA},
    "resultTypes": ["violations"],
}

_SCRIPT = Axe().axe_script
_LOADED = "() => typeof window.axe === 'object' && typeof window.axe.run === 'function'"


def run(page, options: dict = OPTIONS) -> AxeResults:
    """axe's results on the page as it is now (injecting axe-core if this document lacks it).

    It waits for the document's load event first: a page judged before its stylesheet is
    applied shows axe unstyled links (17 px tall, the skip link on screen), which no user
    sees. A click that opens a new page returns once the navigation commits, not when it
    has loaded, and a run there failed CI on exactly that.
    """
    page.wait_for_load_state("load")
    if not page.evaluate(_LOADED):
        page.evaluate(_SCRIPT)
    return AxeResults(page.evaluate(f"axe.run({json.dumps(options)})"))


def violations(page) -> list[dict]:
    """axe's violations of the WCAG 2.2 A/AA rules on the page as it is now."""
    return run(page).response["violations"]


def describe(found: list[dict]) -> str:
    """One line per rule and element: what to fix, and where."""
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary[:300]}")
    return "\n".join(lines)
