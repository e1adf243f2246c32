"""Two checkouts under the same load, taking turns: a change's effect on a ratio.

    git worktree add /tmp/base <commit>            # the code to compare against
    .venv/bin/python bench/run.py --quick --keep   # once: the databases to run against
    .venv/bin/python -m bench.ab --base /tmp/base [--paths /today/log/,/today/] [--rounds 6]

Starts gunicorn from this checkout and from ``--base`` (same config file, same database,
same Redis database, each with its own code fingerprint in its cache keys), warms both,
then in each round runs every path on each server between two signed-in ``/healthz`` runs
of that same server (the order of the two servers alternating round by round) and prints
each ratio as ``bench/run.py`` computes it, then the medians. The machine's speed drifts
within seconds, and two figures measured minutes apart differ by more than most changes;
taking turns is what makes a few points visible. ``--base-args`` passes gunicorn options to
the base server only (``--base . --base-args "--workers 8 --threads 1"`` compares shapes).

The sessions the log POSTs store are deleted after each run, as in ``bench/run.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench import load
from bench.run import CSRF_COOKIE, FULL, cookie
from bench.stack import GUNICORN, PYTHON, ROOT, Gunicorn, Stack, database_url, free_port
from bench.targets import (
    CONNECTIONS,
    LOG_POST,
    _forget_sessions_since,
    _latest_session_id,
    log_post_args,
    post_threads,
)

LOGIN = """
import json
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from bench.seed import LOG_USERS
keys = []
for n in range(1, LOG_USERS + 1):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(get_user_model().objects.get(username=f"bench-year-{n}"))
    keys.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
print(json.dumps(keys))
"""


def log_people(stack: Stack) -> list[str]:
    """The Cookie values of the eight people with a year of sessions who log in the bench,
    each signed in afresh (the kept full database, its static files collected)."""
    stack.manage(FULL, "collectstatic", "--no-input")
    logins = subprocess.run(
        [str(PYTHON), "-c", LOGIN], cwd=ROOT, env=stack.env(FULL), capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    return [cookie(key) for key in json.loads(logins.stdout.strip().splitlines()[-1])]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True, help="the other checkout (a git worktree)")
    parser.add_argument("--base-args", default="", help="gunicorn options for --base only")
    parser.add_argument("--paths", default="/today/log/")
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    base_dir = Path(args.base).resolve()
    paths = args.paths.split(",")
    stack = Stack(keep=True)
    base_process = None
    try:
        pool = log_people(stack)
        env = stack.env(FULL)
        here = stack.gunicorn(FULL)
        port = free_port()
        base_env = {**env, "PYTHONPATH": str(base_dir), "GUNICORN_ACCESS_LOG": ""}
        log = stack.temp / "base.log"
        base_process = subprocess.Popen(
            [str(GUNICORN), "--config", "deploy/gunicorn.conf.py", "config.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--error-logfile", str(log),
             "--log-level", "warning", *args.base_args.split()],
            cwd=base_dir, env=base_env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        base = Gunicorn(base_process, port, log)
        base.wait_ready()
        servers = {"here": here, "base": base}
        script = load.write_script(stack.temp)
        post_script = stack.temp / "log_post.lua"
        post_script.write_text(LOG_POST)
        forms = {
            name: log_post_args(server.port, pool, CSRF_COOKIE, database_url(FULL))
            for name, server in servers.items()
        }

        def run(name: str, path: str) -> tuple[float, float]:
            server = servers[name]
            workers = server.worker_pids()
            before = load.cpu_seconds(workers)
            first_id = _latest_session_id(database_url(FULL))
            posting = path == "/today/log/"
            result = load.run_wrk(
                "wrk", post_script if posting else script, server.base, path,
                cookies=[*(forms[name] if posting else ()), *pool], seconds=args.seconds,
                connections=CONNECTIONS, threads=post_threads(pool) if posting else 2,
            )  # fmt: skip
            cpu = load.cpu_used(before, load.cpu_seconds(workers)) * 1000
            if posting:
                _forget_sessions_since(database_url(FULL), pool, first_id, stack.redis_url)
            return result.requests_per_second, cpu / max(result.requests, 1)

        for server in servers.values():
            for path in ["/healthz", "/today/", "/progress/"]:
                load.run_wrk("wrk", script, server.base, path, cookies=pool, seconds=1)
        ratios: dict[tuple[str, str], list[float]] = {}
        for round_ in range(args.rounds):
            order = ["here", "base"] if round_ % 2 == 0 else ["base", "here"]
            for name in order:
                for path in paths:
                    before, _ = run(name, "/healthz")
                    rps, cpu = run(name, path)
                    after, _ = run(name, "/healthz")
                    ratio = rps / max(before, after)
                    ratios.setdefault((name, path), []).append(ratio)
                    print(
                        f"{name:<4} {path:<14} {rps:7.1f} req/s  {cpu:5.2f} ms CPU/req  "
                        f"signed-in /healthz {max(before, after):7.1f} req/s  {ratio:6.1%}",
                        flush=True,
                    )
        for (name, path), values in sorted(ratios.items()):
            rounds = " ".join(f"{value:.0%}" for value in values)
            print(f"{name:<4} {path:<14} median {statistics.median(values):6.1%}  ({rounds})")
    finally:
        if base_process is not None:
            base_process.terminate()
            base_process.wait(10)
        stack.close()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.fspath(ROOT))
    raise SystemExit(main())
