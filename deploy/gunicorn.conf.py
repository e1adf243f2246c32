"""gunicorn settings for the image (Dockerfile) and the proxy test; behind nginx only."""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 30
accesslog = "-"
# Forwarded headers that change the request (scheme, SCRIPT_NAME) are trusted only from
# the addresses listed in FORWARDED_ALLOW_IPS, default the local machine: never from "*".
# The app reads X-Forwarded-Proto itself (DJANGO_BEHIND_PROXY) and X-Forwarded-For with
# a fixed number of hops (DJANGO_TRUSTED_PROXY_HOPS).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
