"""Nothing imports reminders (config only wires it in); its rules module is pure Python."""

import pytest

from tests.test_layering import ROOT, imported_packages


@pytest.mark.parametrize("package", ["stretches", "accounts", "tracking", "lib"])
def test_no_other_app_imports_reminders(package):
    offenders = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / package).rglob("*.py"))
        if "reminders" in imported_packages(path)
    ]
    assert offenders == []


def test_the_schedule_rules_import_no_django():
    assert "django" not in imported_packages(ROOT / "reminders" / "schedule.py")
    assert imported_packages(ROOT / "reminders" / "schedule.py") <= {
        "__future__",
        "dataclasses",
        "datetime",
        "enum",
        "zoneinfo",
        "stretches",
    }
