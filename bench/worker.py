"""In-process measurements through Django's test client, driven by bench/run.py.

Reads one JSON command per line on stdin and answers one JSON line on stdout, so
bench/run.py can keep a worker per database alive and alternate between them.
The test environment is not set up: no template instrumentation slows the render.
"""

from __future__ import annotations

import json
import re
import sys
import time
import traceback

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

# Tables big enough that a sequential scan grows with the number of users.
PER_USER_TABLES = (
    "tracking_session",
    "tracking_weeklycheckin",
    "stretches_screening",
    "stretches_clearance",
    "accounts_profile",
    "auth_user",
    "accounts_loginsession",
)
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")
# Below this many rows the planner rightly reads a whole table rather than an index.
SMALL_TABLE_ROWS = 10_000


def client_for(cookie: str | None) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    if cookie:
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return client


def fetch(client: Client, path: str) -> tuple[int, int]:
    response = client.get(path)
    if response.streaming:
        size = sum(len(chunk) for chunk in response.streaming_content)
    else:
        size = len(response.content)
    return response.status_code, size


def check(cookie: str, paths: list[str]) -> dict:
    client = client_for(cookie)
    return {path: fetch(client, path) for path in paths}


def timings(cookie: str, paths: list[str], rounds: int) -> dict[str, list[float]]:
    """Milliseconds per request; the paths take turns so drift hits them all alike.

    A path written "anon:/healthz" is requested without the session cookie.
    """
    signed_in, anonymous = client_for(cookie), client_for(None)
    times: dict[str, list[float]] = {path: [] for path in paths}
    for _ in range(rounds):
        for path in paths:
            client = anonymous if path.startswith("anon:") else signed_in
            started = time.perf_counter()
            status, _ = fetch(client, path.removeprefix("anon:"))
            times[path].append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
    return times


def forget_kept() -> None:
    """The shared cache emptied, and what this process keeps by the same keys (the days
    before today and the plans, ``tracking.plan``): a cold per-user cache."""
    import tracking.plan

    cache.clear()
    tracking.plan.forget_kept()


def queries(cookie: str, path: str) -> list[str]:
    client = client_for(cookie)
    fetch(client, path)  # first request of the process: fill Django's own lazy caches
    forget_kept()  # the count that matters is the one with a cold per-user cache
    with CaptureQueriesContext(connection) as captured:
        status, _ = fetch(client, path)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    return [q["sql"] for q in captured.captured_queries]


def explain(cookie: str, path: str) -> list[dict]:
    """EXPLAIN ANALYZE of every SELECT the page runs, with the tables read by Seq Scan."""
    plans = []
    for sql in queries(cookie, path):
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            scans = {}
            for table in sorted(set(SEQ_SCAN.findall(plan))):
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
                scans[table] = cursor.fetchone()[0]
        plans.append(
            {
                "sql": sql,
                "plan": plan,
                "seq_scans": scans,
                "bad_scans": [
                    f"{table} ({rows:,} rows)"
                    for table, rows in scans.items()
                    if table in PER_USER_TABLES
                    and (table == "tracking_session" or rows >= SMALL_TABLE_ROWS)
                ],
            }
        )
    return plans


COMMANDS = {"check": check, "timings": timings, "queries": queries, "explain": explain}


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        command = COMMANDS[request.pop("command")]
        try:
            answer = {"result": command(**request)}
        except Exception:
            answer = {"error": traceback.format_exc()}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
