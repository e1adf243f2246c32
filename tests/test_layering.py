"""The apps import one another in one direction only (README: Where things live).

stretches (catalogue, pure rules, gate) <- accounts (users, profiles) <- tracking (sessions
and every page that combines them). ``lib`` is neutral: it imports none of the three.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# For each package, the project packages it must never import.
FORBIDDEN = {
    "stretches": {"tracking", "accounts", "pwa"},
    "accounts": {"tracking", "pwa"},
    "tracking": {"pwa"},  # the installable app sits on top: nothing below imports it
    "lib": {"stretches", "accounts", "tracking", "pwa"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package):
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        wrong = imported_packages(path) & FORBIDDEN[package]
        if wrong:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(sorted(wrong))}")
    assert offenders == []


def test_the_check_sees_an_upward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from tracking.models import Session\nimport accounts.services\n")
    assert imported_packages(bad) >= {"tracking", "accounts"}
