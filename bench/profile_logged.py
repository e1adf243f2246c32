"""Where the first view after a logged session goes, in-process (the bench's uncached row).

    DATABASE_URL=postgres://.../easeback_bench_full REDIS_URL=redis://127.0.0.1:6379/7 \
        DJANGO_SETTINGS_MODULE=bench.settings EASEBACK_BENCH_STATIC_ROOT=/tmp/static \
        DJANGO_SECRET_KEY=bench DJANGO_DEBUG=false DJANGO_ALLOWED_HOSTS=testserver \
        DJANGO_SECURE_SSL_REDIRECT=false \
        .venv/bin/python -m bench.profile_logged /progress/ /progress/report/ [--post] [--times]

Run against ``bench/run.py --keep``'s full database. As in the bench, the eight people
with a year of sessions (``bench-year-N``) take turns: one logs a session through the htmx
form, then opens the page. ``--post`` times the log POST itself. The sessions it logged
are deleted at the end (and the users' caches retired), so runs do not pile up.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import pstats
import statistics
import time
import uuid
from urllib.parse import urlencode

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from bench.seed import LOG_USERS  # noqa: E402
from bench.targets import CSRF_INPUT, LASTING_ACTION, _LogForm  # noqa: E402
from lib.cache import data_changed  # noqa: E402
from tracking.models import Session  # noqa: E402

# Called once every person is signed in and has the form (e.g. to reset counters that
# should time only the rounds).
READY_HOOKS: list = []


def _person(user) -> tuple[Client, dict]:
    client = Client()
    client.force_login(user)
    text = client.get("/today/").content.decode()
    if LASTING_ACTION in text:
        token = CSRF_INPUT.search(text)[1]
        client.post("/today/lasting-pain/", {"csrfmiddlewaretoken": token, "lasting": "no"})
        text = client.get("/today/").content.decode()
    form = _LogForm()
    form.feed(text)
    return client, {**form.values, "pain_before": "3", "pain_after": "2"}


def _log(client: Client, values: dict):
    response = client.post(
        "/today/log/",
        urlencode({**values, "client_token": str(uuid.uuid4())}),
        content_type="application/x-www-form-urlencoded",
        headers={"HX-Request": "true"},
    )
    assert response.headers.get("HX-Trigger") == "session-logged", response.status_code
    return response


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="*", default=["/progress/"])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--post", action="store_true", help="time the log POST itself")
    parser.add_argument("--times", action="store_true", help="medians only, no profiler")
    args = parser.parse_args()
    users = list(
        get_user_model().objects.filter(
            username__in=[f"bench-year-{n}" for n in range(1, LOG_USERS + 1)]
        )
    )
    before = Session.objects.order_by("-id").values_list("id", flat=True).first() or 0
    people = itertools.cycle([_person(user) for user in users])
    for hook in READY_HOOKS:
        hook()
    try:
        if args.times:
            _interleaved(args, people)
            return
        for path in ["log POST"] if args.post else args.paths:
            profiler = cProfile.Profile()
            for _ in range(args.rounds):
                client, values = next(people)
                if not args.post:
                    _log(client, values)
                profiler.enable()
                response = _log(client, values) if args.post else client.get(path)
                profiler.disable()
                assert response.status_code == 200, (path, response.status_code)
            print(f"===== {path}: {args.rounds} rounds")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
    finally:
        Session.objects.filter(user__in=users, id__gt=before).delete()
        for user in users:
            data_changed(user)


def _interleaved(args, people) -> None:
    """Medians, each page against a signed-in /healthz timed right after it (as the bench
    does): the machine's speed drifts, and a ratio from one moment is what is compared."""
    paths = ["log POST"] if args.post else args.paths
    times: dict[str, list[float]] = {path: [] for path in [*paths, "/healthz"]}
    for _ in range(args.rounds):
        for path in paths:
            client, values = next(people)
            if not args.post:
                _log(client, values)
            started = time.perf_counter()
            response = _log(client, values) if args.post else client.get(path)
            times[path].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            started = time.perf_counter()
            client.get("/healthz")
            times["/healthz"].append((time.perf_counter() - started) * 1000)
    healthz = statistics.median(times["/healthz"])
    for path in paths:
        page = statistics.median(times[path])
        print(f"{path:<20} {page:6.2f} ms  /healthz {healthz:5.2f} ms  ratio {healthz / page:4.0%}")


if __name__ == "__main__":
    main()
