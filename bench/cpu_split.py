"""Where the whole machine's CPU goes per request, by process: gunicorn, PostgreSQL, Redis, wrk.

    .venv/bin/python bench/run.py --quick --keep     # once: the databases to run against
    .venv/bin/python -m bench.cpu_split [--paths /healthz,/today/log/] [--rounds 3]

The bench's ratios are requests per second on a machine whose CPUs every process shares:
a request costs what gunicorn spends on it and also what PostgreSQL, Redis and the load
generator spend for it. This starts gunicorn as ``bench/run.py`` does, against the full
database it kept, runs each path under the bench's load (wrk, 8 connections, the eight
people with a year of sessions; the log POST as in the bench, its sessions deleted after
each run) and prints, for each run, the CPU milliseconds per request of each group of
processes (from /proc) and of the machine as a whole (from /proc/stat).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

from bench import load
from bench.ab import log_people
from bench.run import CSRF_COOKIE, FULL
from bench.stack import ROOT, Stack, database_url
from bench.targets import (
    CONNECTIONS,
    LOG_POST,
    _forget_sessions_since,
    _latest_session_id,
    log_post_args,
    post_threads,
)

GROUPS = ("gunicorn", "postgres", "redis", "wrk")


def _pids_by_group(workers: list[int]) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {name: [] for name in GROUPS}
    groups["gunicorn"] = list(workers)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if name.startswith(("postgres", "postmaster")):
            groups["postgres"].append(int(entry.name))
        elif name.startswith("redis-server"):
            groups["redis"].append(int(entry.name))
    return groups


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine (every CPU), from /proc/stat."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / load.TICKS


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", default="/healthz,/today/log/")
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    stack = Stack(keep=True)
    try:
        pool = log_people(stack)
        server = stack.gunicorn(FULL)
        script = load.write_script(stack.temp)
        post_script = stack.temp / "log_post.lua"
        post_script.write_text(LOG_POST)
        form = log_post_args(server.port, pool, CSRF_COOKIE, database_url(FULL))
        for path in ["/healthz", "/today/", "/progress/"]:
            load.run_wrk("wrk", script, server.base, path, cookies=pool, seconds=1)
        table: dict[str, list[dict[str, float]]] = {}
        for _ in range(args.rounds):
            for path in args.paths.split(","):
                posting = path == "/today/log/"
                groups = _pids_by_group(server.worker_pids())
                first_id = _latest_session_id(database_url(FULL))
                before = {name: load.cpu_seconds(pids) for name, pids in groups.items()}
                children_before = os.times()
                busy_before = _machine_busy()
                result = load.run_wrk(
                    "wrk", post_script if posting else script, server.base, path,
                    cookies=[*(form if posting else ()), *pool], seconds=args.seconds,
                    connections=CONNECTIONS, threads=post_threads(pool) if posting else 2,
                )  # fmt: skip
                busy = _machine_busy() - busy_before
                children = os.times()
                groups = _pids_by_group(server.worker_pids())
                after = {name: load.cpu_seconds(pids) for name, pids in groups.items()}
                requests = max(result.requests, 1)
                row = {
                    name: load.cpu_used(before[name], after[name]) * 1000 / requests
                    for name in GROUPS
                    if name != "wrk"
                }
                # wrk is a child of this process and has exited: its CPU is in os.times().
                row["wrk"] = (
                    (
                        (children.children_user - children_before.children_user)
                        + (children.children_system - children_before.children_system)
                    )
                    * 1000
                    / requests
                )
                row["machine"] = busy * 1000 / requests
                row["rps"] = result.requests_per_second
                table.setdefault(path, []).append(row)
                if posting:
                    _forget_sessions_since(database_url(FULL), pool, first_id, stack.redis_url)
                print(
                    f"{path:<14} {row['rps']:7.1f} req/s  "
                    + "  ".join(f"{name} {row[name]:5.2f}" for name in (*GROUPS, "machine"))
                    + "  ms CPU/req",
                    flush=True,
                )
        print("medians:")
        for path, rows in table.items():
            medians = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
            print(
                f"{path:<14} {medians['rps']:7.1f} req/s  "
                + "  ".join(f"{name} {medians[name]:5.2f}" for name in (*GROUPS, "machine"))
            )
    finally:
        stack.close()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.fspath(ROOT))
    raise SystemExit(main())
