"""EaseBack benchmark: every figure of the performance issue, measured in one run.

    make bench                          # full run, about 10 minutes
    .venv/bin/python bench/run.py --quick   # 100,000 sessions, 2 s load runs
    .venv/bin/python bench/run.py --keep    # leave the databases for a look afterwards

Needs the PostgreSQL at 127.0.0.1:5432 (user postgres, no password) and wrk. It
creates easeback_bench_full and easeback_bench_one, seeds them, starts gunicorn on
free ports, measures, prints one table (figure | measured | target | result) and
removes everything it started. Targets are ratios and counts from this one run on
this one machine; the table marks misses FAIL and the exit status is 1 when one is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import targets  # noqa: E402
from bench.freshness import check_freshness  # noqa: E402
from bench.memory import export_peak  # noqa: E402
from bench.stack import PYTHON, ROOT, Stack, database_url, need_wrk  # noqa: E402
from bench.weight import page_weight  # noqa: E402

FULL, ONE = "easeback_bench_full", "easeback_bench_one"
SESSION_COOKIE, CSRF_COOKIE = "__Host-sessionid", "__Host-csrftoken"
MAX_QUERIES = 9
RENDER_RATIO_MAX = 10
SCALE_RATIO_MAX = 1.5
EXPORT_EXTRA_MB = 50
PAGE_WEIGHT_KB = 100
QUERY_PAGES = [
    "/today/",
    "/sessions/",
    "/progress/",
    "/progress/report/",
    "/progress/export.csv",
    "/progress/export.json",
]
EXPLAIN_SHOWN = ["/today/", "/progress/"]
# Transaction control the session save wraps around its UPDATE; Django logs it, but
# it reads and writes no data (and the test suite's savepoints would differ anyway).
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")


@dataclass(frozen=True)
class Size:
    sessions: int
    users: int
    export_sessions: int
    load_seconds: int
    load_cycles: int
    uncached_rounds: int
    timing_blocks: int
    timing_rounds: int


SIZES = {
    "full": Size(1_000_000, 5_000, 100_000, 4, 6, 60, 10, 20),
    "quick": Size(100_000, 500, 20_000, 2, 5, 20, 4, 10),
}


class Table:
    def __init__(self):
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, figure: str, measured: str, target: str = "", ok: bool | None = None):
        result = "info" if ok is None else ("pass" if ok else "FAIL")
        self.rows.append((figure, measured, target or "-", result))

    def render(self) -> str:
        header = ("figure", "measured", "target", "result")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(4)]
        line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
        out = [
            line,
            "| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |",
            line,
        ]
        for row in self.rows:
            out.append(
                "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
            )
        out.append(line)
        return "\n".join(out)

    @property
    def failures(self) -> list[str]:
        return [r[0] for r in self.rows if r[3] == "FAIL"]


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def prepare(stack: Stack, size: Size) -> tuple[dict, dict]:
    step("creating, migrating and seeding easeback_bench_full and easeback_bench_one")
    for name in (FULL, ONE):
        stack.create_database(name)
    with ThreadPoolExecutor(max_workers=3) as pool:
        migrations = [
            pool.submit(stack.manage, name, "migrate", "--no-input") for name in (FULL, ONE)
        ]
        static = pool.submit(stack.manage, FULL, "collectstatic", "--no-input")
        for future in [*migrations, static]:
            future.result()

    def seed(name: str, *args: str) -> dict:
        started = time.perf_counter()
        result = subprocess.run(
            [str(PYTHON), "-m", "bench.seed", *args],
            cwd=ROOT,
            env=stack.env(name),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"seeding {name} failed:\n{result.stderr[-3000:]}")
        seeded = json.loads(result.stdout)
        seeded["seconds"] = time.perf_counter() - started
        return seeded

    full_args = ["--mode", "full", "--sessions", str(size.sessions), "--users", str(size.users)]
    full_args += ["--export-sessions", str(size.export_sessions)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        full = pool.submit(seed, FULL, *full_args)
        one = pool.submit(seed, ONE, "--mode", "one")
        seeded = full.result(), one.result()
    # The seed writes rows with raw SQL, past data_changed: nothing it cached may outlive it.
    stack.flush_redis()
    return seeded


def cookie(session_key: str) -> str:
    return f"{SESSION_COOKIE}={session_key}"


def db_label(size: Size) -> str:
    return f"{size.sessions / 1e6:g}M-session DB"


def in_process(stack: Stack, size: Size, full: dict, one: dict, table: Table) -> None:
    step("in-process: status, query counts, EXPLAIN plans (Django test client)")
    full_worker, one_worker = stack.worker(FULL), stack.worker(ONE)
    demo_full, demo_one = full["cookies"]["demo"], one["cookies"]["demo"]
    pages = ["/healthz", *QUERY_PAGES]
    for worker, key in ((full_worker, demo_full), (one_worker, demo_one)):
        statuses = worker.call("check", cookie=key, paths=pages)
        wrong = {p: s for p, (s, _) in statuses.items() if s != 200}
        if wrong:
            raise RuntimeError(f"pages do not answer 200 for the demo user: {wrong}")

    users = [("10", "ten"), (f"{full['sessions']['demo']:,}", "demo")]
    users.append((f"{full['sessions']['export_big']:,}", "export_big"))
    for path in QUERY_PAGES:
        counts, control = [], set()
        for _, key in users:
            sql = full_worker.call("queries", cookie=full["cookies"][key], path=path)
            data = [q for q in sql if not q.upper().startswith(TRANSACTION_CONTROL)]
            counts.append(len(data))
            control.add(len(sql) - len(data))
        label = " / ".join(n for n, _ in users)
        table.add(
            f"queries {path} ({label} sessions)",
            " / ".join(str(c) for c in counts) + f" (+{'/'.join(map(str, control))} BEGIN/COMMIT)",
            f"equal, <= {MAX_QUERIES}",
            len(set(counts)) == 1 and max(counts) <= MAX_QUERIES,
        )

    print(f"\n=== EXPLAIN (ANALYZE, BUFFERS) in {FULL}, demo user ===")
    bad, small = [], set()
    for path in QUERY_PAGES:
        plans = full_worker.call("explain", cookie=demo_full, path=path)
        for entry in plans:
            bad += [f"{path}: {t}" for t in entry["bad_scans"]]
            small |= {f"{t} ({n:,} rows)" for t, n in entry["seq_scans"].items()}
            if path in EXPLAIN_SHOWN or entry["bad_scans"]:
                print(f"\n--- {path}\n{entry['sql'][:400]}\n{entry['plan']}")
    table.add(
        f"Seq Scans on per-user tables ({db_label(size)})",
        ", ".join(bad) or "none",
        "none",
        not bad,
    )
    table.add("Seq Scans anywhere (all pages)", ", ".join(sorted(small)) or "none")

    step(
        f"in-process timing: {size.timing_blocks} blocks x {size.timing_rounds} rounds, "
        "alternating the full and the one-user database"
    )
    timed = ["/healthz", "/today/", "/progress/", "anon:/healthz"]
    full_worker.call("timings", cookie=demo_full, paths=timed, rounds=5)
    one_worker.call("timings", cookie=demo_one, paths=timed, rounds=5)
    times = {FULL: {p: [] for p in timed}, ONE: {p: [] for p in timed}}
    for _ in range(size.timing_blocks):
        for name, worker, key in ((FULL, full_worker, demo_full), (ONE, one_worker, demo_one)):
            block = worker.call("timings", cookie=key, paths=timed, rounds=size.timing_rounds)
            for path, values in block.items():
                times[name][path] += values
    stack.stop(full_worker.process)
    stack.stop(one_worker.process)

    median = {
        db: {p: statistics.median(v) for p, v in paths.items()} for db, paths in times.items()
    }
    rounds = len(times[FULL]["/healthz"])
    for path in timed:
        table.add(
            f"median {path.replace('anon:', '')} in-process"
            + (", anonymous" if path.startswith("anon:") else ", signed in"),
            f"{median[FULL][path]:.2f} ms ({rounds} rounds)",
        )
    for path in ("/today/", "/progress/"):
        ratio = median[FULL][path] / median[FULL]["/healthz"]
        table.add(
            f"render cost {path} / signed-in /healthz",
            f"{ratio:.1f}x",
            f"<= {RENDER_RATIO_MAX}x",
            ratio <= RENDER_RATIO_MAX,
        )
    for path in ("/today/", "/progress/"):
        ratio = median[FULL][path] / median[ONE][path]
        table.add(
            f"scale {path}: {db_label(size)} / one-user DB",
            f"{ratio:.2f}x ({median[FULL][path]:.1f} / {median[ONE][path]:.1f} ms)",
            f"<= {SCALE_RATIO_MAX}x",
            ratio <= SCALE_RATIO_MAX,
        )


def serving_pids(stack: Stack, server) -> list[int]:
    """The gunicorn workers and the PostgreSQL backends they hold open."""
    with stack.admin() as conn:
        backends = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", [FULL]
        ).fetchall()
    return server.worker_pids() + [pid for (pid,) in backends]


def under_load(
    stack: Stack, size: Size, full: dict, wrk: str, threads: int | None, table: Table
) -> None:
    server = stack.gunicorn(FULL, threads=threads)  # the image's workers and threads
    demo = cookie(full["cookies"]["demo"])
    pool = [cookie(key) for key in full["cookies"]["demo_pool"]]
    log_pool = [cookie(key) for key in full["cookies"]["log_pool"]]

    step("page weight of /today/ (first load, gzip/br accepted)")
    weight = page_weight(server.base, "/today/", demo)
    for r in weight.resources:
        print(
            f"  {r.kind:<12} {r.status} {r.encoding or 'identity':<8} "
            f"{r.transferred:>7,} B on the wire ({r.decoded:,} B decoded)  {r.url}"
        )
    table.add(
        "/today/ first-load transfer (HTML + own static)",
        f"{weight.total / 1024:.1f} KB in {len(weight.resources)} responses",
        f"<= {PAGE_WEIGHT_KB} KB",
        weight.total <= PAGE_WEIGHT_KB * 1024,
    )
    html = weight.resources[0]
    table.add(
        "/today/ HTML as served",
        f"{html.transferred / 1024:.1f} KB, encoding {html.encoding or 'none'}",
    )
    table.add(
        "/today/ resources from other origins",
        str(len(weight.foreign)) + (f": {', '.join(weight.foreign)}" if weight.foreign else ""),
        "0",
        not weight.foreign,
    )
    timer_ok = (
        weight.timer_button
        and weight.timer_script is not None
        and not weight.blocking_scripts
        and weight.inline_scripts_without_nonce == 0
        and not weight.foreign
    )
    table.add(
        "timer: own deferred script, nothing else awaited",
        f"{weight.timer_script or 'no timer script'}; blocking scripts "
        f"{len(weight.blocking_scripts)}; inline without nonce "
        f"{weight.inline_scripts_without_nonce}",
        "own static only",
        timer_ok,
    )

    step(
        f"load: wrk -t2 -c{targets.CONNECTIONS} (the log POSTs -t{targets.CONNECTIONS}: one "
        f"person or tab per connection), {size.load_seconds} s per run, "
        f"{size.load_cycles} rounds of every figure in turn, each between two signed-in "
        "/healthz runs"
    )
    figures = targets.under_load(
        wrk, stack.temp, server.base, pool, log_pool, server.port, seconds=size.load_seconds,
        rounds=size.load_cycles, csrf_cookie_name=CSRF_COOKIE, database_url=database_url(FULL),
        redis_url=stack.redis_url, worker_pids=server.worker_pids(),
    )  # fmt: skip
    step(f"uncached: {size.uncached_rounds} rounds of each page right after a data change")
    csrf, body = targets.log_post_args(server.port, log_pool, CSRF_COOKIE, database_url(FULL))
    logged_ms = targets.after_logging(
        server.port, log_pool, csrf, body, database_url(FULL), stack.redis_url,
        rounds=size.uncached_rounds,
    )  # fmt: skip
    uncached_ms = targets.uncached(
        server.port, demo, database_url(FULL), stack.redis_url, rounds=size.uncached_rounds
    )
    history_ms = targets.uncached(
        server.port, demo, database_url(FULL), stack.redis_url, rounds=size.uncached_rounds,
        history=True,
    )  # fmt: skip
    targets.add_rows(table, figures, logged_ms, uncached_ms, history_ms)
    errors = server.errors().strip()
    if errors:
        print(f"gunicorn error log:\n{errors}")

    step("freshness: log a session, reload /today/ and /progress/ on both workers")
    fresh = check_freshness(server.port, demo, CSRF_COOKIE)
    table.add(
        "new session on next load (/today/, /progress/)",
        f"log {fresh.log_status}; today {sorted(set(fresh.today_before))}->"
        f"{sorted(set(fresh.today_after))}; progress {sorted(set(fresh.progress_before))}->"
        f"{sorted(set(fresh.progress_after))}",
        "+1 on every reload",
        fresh.fresh,
    )
    stack.stop(server.process)


def exports_memory(stack: Stack, full: dict, threads: int | None, table: Table) -> None:
    step("memory: peak RSS of a fresh gunicorn worker per export")
    small, big = full["sessions"]["export_small"], full["sessions"]["export_big"]
    for path in ("/progress/export.csv", "/progress/export.json"):
        peaks = [
            export_peak(stack, FULL, path, cookie(full["cookies"][key]), n, threads=threads)
            for key, n in (("export_small", small), ("export_big", big))
        ]
        for peak in peaks:
            print(
                f"  {path} {peak.sessions:>7,} sessions: {peak.bytes / 1e6:6.1f} MB in "
                f"{peak.seconds:5.1f} s, worker VmHWM {peak.peak_kb / 1024:6.1f} MB"
            )
        extra = (peaks[1].peak_kb - peaks[0].peak_kb) / 1024
        table.add(
            f"{path.rsplit('/', 1)[1]} peak RSS, {big:,} vs {small} sessions",
            f"+{extra:.1f} MB ({peaks[1].bytes / 1e6:.0f} MB streamed in {peaks[1].seconds:.1f} s)",
            f"<= +{EXPORT_EXTRA_MB} MB",
            extra <= EXPORT_EXTRA_MB,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 sessions, 2 s load runs")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument(
        "--no-redis", action="store_true", help="run without the shared cache (REDIS_URL unset)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="gunicorn threads per worker (default: deploy/gunicorn.conf.py's, as the image)",
    )
    args = parser.parse_args()
    size = SIZES["quick" if args.quick else "full"]
    wrk = need_wrk()
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so the finally below cleans up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    if load_at_start > (os.cpu_count() or 1):
        print(
            f"warning: load average {load_at_start:.1f} on {os.cpu_count()} CPUs; "
            "other work on this machine will add noise to every figure"
        )
    table = Table()
    stack = Stack(keep=args.keep, redis=not args.no_redis)
    try:
        full, one = prepare(stack, size)
        step(
            f"seeded: {full['total_sessions']:,} sessions for {full['users_with_sessions']:,} "
            f"users in {full['seconds']:.0f} s; demo user {full['sessions']['demo']:,} sessions"
        )
        table.add(
            f"{db_label(size)}: sessions / users with sessions",
            f"{full['total_sessions']:,} / {full['users_with_sessions']:,}",
        )
        table.add(
            "demo user: a year of sample_sessions",
            f"{full['sessions']['demo']:,} sessions (one-user DB: {one['total_sessions']:,})",
        )
        in_process(stack, size, full, one, table)
        under_load(stack, size, full, wrk, args.threads, table)
        exports_memory(stack, full, args.threads, table)
    finally:
        stack.close()
        step("stopped every process started; " + ("kept" if args.keep else "dropped") + " DBs")
    minutes = (time.perf_counter() - started) / 60
    table.add(
        "machine: CPUs / load average at start, at end",
        f"{os.cpu_count()} / {load_at_start:.1f}, {os.getloadavg()[0]:.1f}",
    )
    print(f"\nEaseBack benchmark ({'quick' if args.quick else 'full'}, {minutes:.1f} min)")
    print(table.render())
    if table.failures:
        print(f"{len(table.failures)} target(s) missed: " + "; ".join(table.failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
