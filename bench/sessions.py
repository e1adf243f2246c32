"""Time to delete an account while 100,000 other login sessions exist (issue 14).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/easeback_bench_sessions \
        .venv/bin/python bench/sessions.py

Creates (and drops at the end) the named PostgreSQL database, migrates it, writes 100,000
sessions of 1,000 other users and anonymous visitors, then times erase_account() for a
user with 3 sessions of their own, and, for comparison, the old way of finding them
(decoding every session row).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ["DJANGO_DB_STATEMENT_TIMEOUT_MS"] = "0"

OTHER_SESSIONS = 100_000
OTHER_USERS = 1_000
RUNS = 5


def admin_url(url: str) -> tuple[str, str]:
    base, name = url.rsplit("/", 1)
    return base.replace("postgres://", "postgresql://") + "/postgres", name


def main() -> None:
    url = os.environ["DATABASE_URL"]
    server, name = admin_url(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        run()
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def run() -> None:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.utils import timezone

    from accounts.models import LoginSession
    from accounts.services import create_account, erase_account
    from accounts.sessions import SessionStore

    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model

    User = get_user_model()
    password = make_password("not-used-here")
    User.objects.bulk_create(
        User(username=f"other{n}", password=password) for n in range(OTHER_USERS)
    )
    others = list(User.objects.values_list("pk", flat=True))

    def erase_timings(prefix: str) -> list[float]:
        timings = []
        for run_number in range(RUNS):
            user = create_account(username=f"{prefix}{run_number}", password="x", time_zone="UTC")
            own_sessions(user)
            started = time.perf_counter()
            erase_account(user)
            timings.append(time.perf_counter() - started)
        return timings

    def own_sessions(user) -> None:
        for k in range(3):
            LoginSession.objects.create(
                session_key=f"own{user.pk:010d}{k:027d}",
                session_data=store.encode({"_auth_user_id": str(user.pk)}),
                expire_date=expiry,
                user=user,
            )

    expiry = timezone.now() + timedelta(days=14)
    store = SessionStore()
    baseline = erase_timings("alone")
    batch = []
    for n in range(OTHER_SESSIONS):
        owner = others[n % len(others)] if n % 2 else None
        data = {"_auth_user_id": str(owner)} if owner else {"_csrftoken": "x"}
        batch.append(
            LoginSession(
                session_key=f"s{n:039d}",
                session_data=store.encode(data),
                expire_date=expiry,
                user_id=owner,
            )
        )
        if len(batch) == 5_000:
            LoginSession.objects.bulk_create(batch)
            batch = []
    LoginSession.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    timings = erase_timings("leaving")

    # The old way: decode every session to find the user's (what erase_account did before).
    user = create_account(username="leaving-old-way", password="x", time_zone="UTC")
    own_sessions(user)
    started = time.perf_counter()
    mine = [
        s.pk
        for s in LoginSession.objects.iterator()
        if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    old_way = time.perf_counter() - started
    assert len(mine) == 3

    total = LoginSession.objects.count()
    print(
        f"erase_account with no other sessions, median of {RUNS}: "
        f"{statistics.median(baseline) * 1000:.1f} ms"
    )
    print(f"other sessions present: {total - 3:,}")
    print(
        f"erase_account, median of {RUNS}: {statistics.median(timings) * 1000:.1f} ms "
        f"(max {max(timings) * 1000:.1f} ms)"
    )
    print(f"old way (decode every session) to find 3 sessions: {old_way * 1000:.0f} ms")


if __name__ == "__main__":
    main()
