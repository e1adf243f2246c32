"""Where a page's time goes, in-process: median times and the top functions by own time.

    DATABASE_URL=postgres://... DJANGO_SETTINGS_MODULE=bench.settings \
        EASEBACK_BENCH_STATIC_ROOT=/tmp/static .venv/bin/python -m bench.profile \
        --cookie SESSION_KEY /today/ /progress/

Run against a database seeded by ``python -m bench.seed --mode one``. ``--cold`` clears the
cache, and what the process keeps by its keys, before every request (the path after a new
session was logged).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.worker import forget_kept  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--cookie", required=True)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    signed_in, anonymous = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
    signed_in.cookies[settings.SESSION_COOKIE_NAME] = args.cookie
    paths = ["anon:/healthz", "/healthz", *args.paths]

    def get(path: str):
        if args.cold and not path.startswith("anon:"):
            forget_kept()
        client = anonymous if path.startswith("anon:") else signed_in
        response = client.get(path.removeprefix("anon:"))
        assert response.status_code == 200, (path, response.status_code)
        return response

    for path in paths:
        get(path)
    times = {path: [] for path in paths}
    for _ in range(args.rounds):
        for path in paths:
            started = time.perf_counter()
            get(path)
            times[path].append((time.perf_counter() - started) * 1000)
    for path in paths:
        with CaptureQueriesContext(connection) as queries:
            get(path)
        print(f"{path:<24} {statistics.median(times[path]):6.2f} ms  {len(queries)} queries")
    for path in dict.fromkeys(paths[1:]):
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.rounds):
            get(path)
        profiler.disable()
        print(f"\n===== {path}: top {args.top} by own time, {args.rounds} requests")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
