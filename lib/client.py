"""The address a request came from, behind a configured number of trusted proxies.

``DJANGO_TRUSTED_PROXY_HOPS`` says how many reverse proxies in front of the app append
to X-Forwarded-For (nginx in compose.yaml is one). With 0, the header is ignored: anyone
can send it, so only the socket's address counts. With N, the address N entries from
the right of ``X-Forwarded-For, REMOTE_ADDR`` is the client: the entries left of it were
written by the client itself and are never trusted.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "") or ""
    hops = settings.TRUSTED_PROXY_HOPS
    if hops <= 0:
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    chain = [*forwarded, remote]
    # Fewer entries than proxies means a proxy was bypassed or misconfigured: the
    # left-most entry is the best that is known, and never one the client added past it.
    return chain[max(len(chain) - 1 - hops, 0)]
