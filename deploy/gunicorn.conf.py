"""gunicorn settings for the image (Dockerfile) and the proxy test; behind nginx only."""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Two workers per CPU (the image is sized for 2 CPUs), each with 2 threads: the same 8
# requests at once as 2 workers of 4 threads, but Python runs one thread of a worker at a
# time, and a worker holds every keep-alive connection it accepts. With 2 workers, all of a
# client's (or nginx's) connections landing on one left a CPU idle: anonymous /healthz
# under wrk ran at half speed in 4 of 12 runs (1,400 against 720 req/s); with 4 workers in
# none of 12 (bench/README.md, part 7).
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 30
# One line per request on stdout; GUNICORN_ACCESS_LOG="" turns it off (the bench does, or
# it would time the terminal).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# Forwarded headers that change the request (scheme, SCRIPT_NAME) are trusted only from
# the addresses listed in FORWARDED_ALLOW_IPS, default the local machine: never from "*".
# The app reads X-Forwarded-Proto itself (DJANGO_BEHIND_PROXY) and X-Forwarded-For with
# a fixed number of hops (DJANGO_TRUSTED_PROXY_HOPS).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Python's collector pauses every thread of a worker while it walks all tracked objects:
# a full collection of a worker that has served its first pages walks about 120,000 of
# them, some 60 ms, and under load that pause was the p99 of every page. Frozen objects
# (the app, loaded once; then the compiled templates and warmed caches of the first
# requests) are left out of every later collection.
WARM_REQUESTS = 200


def post_worker_init(worker):
    gc.freeze()


def post_request(worker, req, environ, resp):
    worker.easeback_served = getattr(worker, "easeback_served", 0) + 1
    if worker.easeback_served == WARM_REQUESTS:
        gc.freeze()
