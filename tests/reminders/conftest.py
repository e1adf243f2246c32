"""Fixtures for the reminders tests: VAPID keys, a local push service, figures."""

from __future__ import annotations

import pytest
from django.db import connection

from reminders.push import generate_vapid_keys
from tests.reminders.push_receiver import PushReceiver

SUBJECT = "mailto:reminders@easeback.test"
# Filled by the tests and printed at the end of the run, for the closing note.
FIGURES: dict[str, str] = {}


@pytest.fixture
def vapid(settings):
    public, private = generate_vapid_keys()
    settings.VAPID_PUBLIC_KEY = public
    settings.VAPID_PRIVATE_KEY = private
    settings.VAPID_SUBJECT = SUBJECT
    return public, private


@pytest.fixture
def receiver(vapid):
    with PushReceiver(vapid_public_key=vapid[0], subject=SUBJECT) as running:
        yield running


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres_only") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("reminders figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
