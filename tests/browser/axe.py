"""axe-core, run inside the page under test, with the WCAG 2.2 A and AA rules only.

``axe_playwright_python`` bundles axe-core's script and injects it with ``page.evaluate``:
DevTools evaluation is not page script, so the site's CSP (nonces, no inline script) stays
exactly as served while axe runs.
"""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
OPTIONS = {
    "runOnly": {"type": "tag", "values": WCAG_22_AA},
    "resultTypes": ["violations"],
}

_axe = Axe()


def violations(page) -> list[dict]:
    """axe's violations of the WCAG 2.2 A/AA rules on the page as it is now."""
    return _axe.run(page, options=OPTIONS).response["violations"]


def describe(found: list[dict]) -> str:
    """One line per rule and element: what to fix, and where."""
    lines = []
    for violation in found:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' '.join(map(str, node['target']))}: {summary[:300]}")
    return "\n".join(lines)
