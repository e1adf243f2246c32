"""The installable app: its manifest, its service worker and the offline fallback page."""

from __future__ import annotations

import functools
import hashlib
import json
import os

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

THEME_COLOUR = "#1d5c63"
BACKGROUND_COLOUR = "#f7f8f6"

# Fetched by the worker when it installs, so the daily loop (plan, timer, log form)
# runs with no network. Every name is served by its hashed URL in production.
PRECACHE = (
    "css/easeback.css",
    "js/easeback.js",
    "js/timer.js",
    "js/offline.js",
    "js/offline-queue.js",
    "django_htmx/htmx-2.min.js",
    "img/icon.svg",
    "img/icon-192.png",
)

# How long the copy of /today/ kept on the phone may be shown offline. Older than this
# the plan may have moved on (a stage, a screening due), so the offline page says to
# connect instead of showing a stale plan.
OFFLINE_PAGE_MAX_AGE_HOURS = 72
SYNC_TAG = "easeback-send-sessions"

ICONS = (
    {"src": "img/icon-192.png", "sizes": "192x192", "purpose": "any"},
    {"src": "img/icon-512.png", "sizes": "512x512", "purpose": "any"},
    {"src": "img/icon-maskable-192.png", "sizes": "192x192", "purpose": "maskable"},
    {"src": "img/icon-maskable-512.png", "sizes": "512x512", "purpose": "maskable"},
)


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    body = {
        "id": "/today/",
        "name": "EaseBack",
        "short_name": "EaseBack",
        "description": "Your daily knee-to-chest stretches: a safety check, today's plan, "
        "a guided timer and a pain log that works offline.",
        "lang": "en-GB",
        "start_url": reverse("today"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [{**icon, "src": static(icon["src"]), "type": "image/png"} for icon in ICONS],
    }
    response = JsonResponse(body, json_dumps_params={"indent": 1})
    response["Content-Type"] = "application/manifest+json"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    config = {
        "version": worker_version(),
        "precache": [static(name) for name in PRECACHE] + [reverse("pwa-offline")],
        "queueScript": static("js/offline-queue.js"),
        "pushScript": static("js/sw-push.js"),
        "todayUrl": reverse("today"),
        "offlineUrl": reverse("pwa-offline"),
        "sendUrl": reverse("log-queued"),
        "staticUrl": static(""),
        "pageMaxAgeMs": OFFLINE_PAGE_MAX_AGE_HOURS * 3600 * 1000,
        "syncTag": SYNC_TAG,
    }
    body = render_to_string("pwa/sw.js", {"config": json.dumps(config, indent=1)})
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # Browsers look for a new worker on every visit; never let a cache answer for it.
    response["Cache-Control"] = "no-cache, max-age=0"
    return response


@never_cache
@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    # Precached by the worker and shown for any page that needs the network: it holds
    # nothing about the person who happened to be signed in when it was fetched.
    context = {"max_age_hours": OFFLINE_PAGE_MAX_AGE_HOURS, "today_url": reverse("today")}
    return HttpResponse(render_to_string("pwa/offline.html", context))


def worker_version() -> str:
    """Changes whenever the worker or a file it precaches changes (so does its hashed URL)."""
    digest = hashlib.sha256(get_template("pwa/sw.js").template.source.encode())
    for name in PRECACHE:
        digest.update(static(name).encode())
        path = finders.find(name)
        if path:
            digest.update(_file_digest(path, os.stat(path).st_mtime_ns).encode())
    digest.update(render_to_string("pwa/offline.html", {}).encode())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, mtime_ns: int) -> str:
    with open(path, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()
