"""Fixtures for the hardening suite: production settings, PostgreSQL-only tests, counters."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]

# Filled by the tests, printed at the end of the run so the closing note can quote them.
FIGURES: dict[str, Counter] = {
    "hypothesis examples per form": Counter(),
    "headers": Counter(),
    "other": Counter(),
}

# The settings a production deployment reads from the environment and that the
# hardening tests apply: taken from a real start-up with production variables, so a
# test never checks a hand-copied value.
PRODUCTION_SECURITY_SETTINGS = (
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SECURE_CSP",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_AGE",
    "SESSION_SAVE_EVERY_REQUEST",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
    "CSRF_COOKIE_DOMAIN",
    "CSRF_COOKIE_PATH",
)


def production_env(**extra: str) -> dict[str, str]:
    """The environment of a production start: debug off, a real secret, hosts set.

    Every DJANGO_* and AXES_* variable of the test run is dropped first, so the
    production defaults of config/settings.py are what gets checked.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "AXES_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="easeback.example",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def run_python(code: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def production_settings() -> dict:
    code = (
        "import json, django\n"
        "django.setup()\n"
        "from django.conf import settings\n"
        f"names = {PRODUCTION_SECURITY_SETTINGS + ('DEBUG',)!r}\n"
        "print(json.dumps({n: getattr(settings, n) for n in names}, default=str))\n"
    )
    result = run_python(code, production_env())
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def production(settings, production_settings):
    """Apply the production security settings to this test (requests must use secure=True)."""
    for name in PRODUCTION_SECURITY_SETTINGS:
        setattr(settings, name, production_settings[name])
    return settings


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres_only") and connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")


def pytest_terminal_summary(terminalreporter):
    if not any(FIGURES.values()):
        return
    terminalreporter.section("hardening figures")
    examples = FIGURES["hypothesis examples per form"]
    if examples:
        for form, count in sorted(examples.items()):
            terminalreporter.write_line(f"hypothesis examples, {form}: {count}")
        terminalreporter.write_line(f"hypothesis examples, total: {sum(examples.values())}")
    for name, count in sorted(FIGURES["headers"].items()):
        terminalreporter.write_line(f"headers: {name}: {count}")
    for name, count in sorted(FIGURES["other"].items()):
        terminalreporter.write_line(f"{name}: {count}")
