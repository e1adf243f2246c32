"""Helpers shared by the browser tests (not a conftest: imported where used)."""

from __future__ import annotations

SINGLE_LEG = "Single knee to chest"


def static_files_unhashed(settings) -> None:
    # Hashed static names do not exist under live_server: serve the plain files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def pain_scale(page, label: str):
    """The 0-10 pain fieldset whose legend is ``label``."""
    return page.get_by_role("group", name=label)


def pick_pain(page, label: str, value: int) -> None:
    """Tap the number on a pain scale, as a user does (the radio itself is visually hidden)."""
    pain_scale(page, label).get_by_text(str(value), exact=True).click()
