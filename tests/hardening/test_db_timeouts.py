"""A table held by a long lock: pages give a quick 503, /healthz says so, then all recovers."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.conftest import make_user
from tests.hardening.conftest import FIGURES

FRIENDLY = "EaseBack is briefly unavailable"


def other_connection() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_every_connection_carries_the_statement_and_lock_timeouts():
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        statement = cursor.fetchone()[0]
        cursor.execute("SHOW lock_timeout")
        lock = cursor.fetchone()[0]

    assert statement == f"{settings.DATABASE_STATEMENT_TIMEOUT_MS // 1000}s" == "15s"
    assert lock == f"{settings.DATABASE_LOCK_TIMEOUT_MS // 1000}s" == "2s"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_locked_table_gives_a_quick_503_page_and_healthz_says_so():
    client = Client(raise_request_exception=False)
    client.force_login(make_user("alice"))
    # Not loaded before the lock: a page already rendered for this data version comes
    # from the page cache without touching the locked table (and rightly answers 200).
    assert client.get("/healthz").status_code == 200
    limit = settings.DATABASE_LOCK_TIMEOUT_MS / 1000

    locker = other_connection()  # a migration or a manual ALTER holding the table
    try:
        locker.execute("LOCK TABLE tracking_session IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        page = client.get("/sessions/")
        page_seconds = time.monotonic() - started
        started = time.monotonic()
        health = client.get("/healthz")
        health_seconds = time.monotonic() - started
    finally:
        locker.rollback()
        locker.close()

    assert page.status_code == 503 and FRIENDLY in page.text
    assert page["Retry-After"] == "30"
    assert page_seconds < limit + 1.5
    assert health.status_code == 503
    assert "database busy" in health.text
    assert health_seconds < limit + 1.5
    # The lock gone, everything answers again without a restart.
    assert client.get("/sessions/").status_code == 200
    assert client.get("/healthz").status_code == 200
    FIGURES["other"]["locked table: 503 page after (ms)"] = round(page_seconds * 1000)
