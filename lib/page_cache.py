"""Signed-in pages rendered once per data version (issue 15: "render less").

``@page_cache("progress", query={"range": ...})`` on a GET view keeps its rendered HTML in
the cache under the user, their data version, their local day, the path and query, the
htmx headers, the language, named session values and a fingerprint of the deployed code,
templates and static files. The next request with the same key gets the same HTML
without running the view.

What differs per request is never stored: the page is stored with markers where the
CSP nonce, the CSRF token and every ``per_serve`` value (the log form's ``client_token``,
the time in the offline note) were, and every response, the first one too, is the stored
HTML with this request's values put in. Reading the nonce generates it, so the CSP
header of a hit names the nonce in its body; ``get_token`` sets the CSRF cookie just as
rendering ``{% csrf_token %}`` does. The view's own headers (Content-Type, Vary) are
stored with it; the middleware adds the rest to a hit as to any response, so
Cache-Control, Vary and CSP come out exactly as without the cache.

Never stored (the view's response goes out as it is): a request with a query parameter
the page does not list or a value it does not accept, pending flash messages (rendering
them consumes them), a response other than a plain 200 HTML response, one that sets a
cookie or its own CSP, one for which the view changed the session or added a message,
and any request while ``skip_if(request)`` says so.

Freshness. The data version is bumped in the transaction of every write to the user's
sessions, check-ins, safety records or profile and read fresh with the user on every
request (lib.cache), so a new session, a stop signal, a screening, a clearance or a
profile change (time zone, phase, start date, display name) is in the key of the next
request in every worker. The safety gate runs before the lookup: a paused or blocked
user never reaches the cache (``@exercise_gate`` must stay outside ``@page_cache``).

What a page shows that changes with time alone, without a data version bump, and how
it is kept right:

- the local day ("today", this week's check-in, the programme week and day, the chart's
  last day, ranges ending today, sessions today): the local day is in the key, and a
  pause that lasts "for the rest of today" ends at the same local midnight; the gate
  decides it before the cache in any case.
- the 28-day rescreen and a pause that ends at an instant: decided by the gate on every
  request, before the cache; a page is only ever served to someone the gate lets
  through now.
- the deleted-session Undo on /sessions/ (open for a few minutes, held in the login
  session): /sessions/ is not stored while the session holds an undo offer, so the
  list without it is the only one that can be served from the cache. The 10-minute
  correction window (stretches.safety.CORRECTION_WINDOW) changes what an edit does to
  the safety stamps, never what the list or any page shows.
- the guidance after a session whose pain rose (popped from the login session by
  /today/): /today/ is not stored while it is there (``skip_if``), and a view that
  changes the session is never stored anyway.
- "Offline - last updated HH:MM" (pwa offline note): a ``per_serve`` value, the time of
  each response.
- the form's ``client_token`` (one per page load, so two tabs log two sessions): a
  ``per_serve`` value, a new UUID in each response.
- share-link expiry: only on /sharing/ and shared reports, which are not cached.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import uuid
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache as once
from functools import wraps
from pathlib import Path

import django
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csp import get_nonce
from django.middleware.csrf import _unmask_cipher_token
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.functional import SimpleLazyObject

from lib.csrf import get_token

logger = logging.getLogger(__name__)

PAGE_SECONDS = 6 * 3600
HTMX_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_TARGET", "HTTP_HX_HISTORY_RESTORE_REQUEST")
# A marker, in a group so that split keeps it: text, marker, text, marker, ..., text.
_MARKER_SPLIT = re.compile(r"(pcm[0-9a-f]{24})")
_CSRF_LIKE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")


# --- Values made afresh for every response ------------------------------------------


@dataclass
class _Render:
    """What one render that may be stored put in its HTML that must be made per response."""

    values: dict[str, tuple[str, str]] = field(default_factory=dict)  # marker -> kind, arg
    replace: dict[str, tuple[str, str]] = field(default_factory=dict)  # literal -> kind, arg


_current: ContextVar[_Render | None] = ContextVar("page_cache_render", default=None)


def _marker() -> str:
    return "pcm" + secrets.token_hex(12)


# Django date formats with no words in them, as strftime (or isoformat) writes them, for
# the times every response of a stored page puts in (the offline note): the same text
# as date_format, without parsing the format on every response.
_PLAIN_FORMATS = {
    "Y-m-d": lambda moment: moment.strftime("%Y-%m-%d"),
    "H:i": lambda moment: moment.strftime("%H:%M"),
    "c": lambda moment: moment.isoformat(),
}


def _produce(kind: str, arg: str, now=None) -> str:
    if kind == "uuid":
        return str(uuid.uuid4())
    if kind == "now":
        moment = timezone.localtime(now)
        plain = _PLAIN_FORMATS.get(arg)
        return plain(moment) if plain is not None else date_format(moment, arg)
    raise ValueError(kind)


def per_serve_now(fmt: str) -> str:
    """The local time now in Django's date format ``fmt``; on a page that may be stored,
    a marker that every response replaces with its own time."""
    _note_made()
    render = _current.get()
    if render is None:
        return _produce("now", fmt)
    marker = _marker()
    render.values[marker] = ("now", fmt)
    return marker


def fresh_uuid() -> uuid.UUID:
    """A new UUID for this page; a stored page gets a new one in every response."""
    value = uuid.uuid4()
    _note_made()
    render = _current.get()
    if render is not None:
        render.replace[str(value)] = ("uuid", "")
    return value


# Counted wherever a per-response value is made (a CSRF token, a fresh UUID, the time of
# the response), in a stored page or not: a fragment kept for reuse must make none
# (tracking.templatetags.fragments), in any view.
_made: ContextVar[list[int] | None] = ContextVar("page_cache_made", default=None)


def _note_made() -> None:
    counter = _made.get()
    if counter is not None:
        counter[0] += 1


@contextmanager
def counting_made():
    """Counts the per-response values made inside (``counter[0]``); they count for any
    enclosing count too, so a part around a part that made one is not kept either."""
    outer = _made.get()
    counter = [0]
    token = _made.set(counter)
    try:
        yield counter
    finally:
        _made.reset(token)
        if outer is not None:
            outer[0] += counter[0]


_memo: ContextVar[dict | None] = ContextVar("page_cache_memo", default=None)


def memoised[T](name: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per request (``RequestMemoMiddleware``; a cached page's key and
    its view may both need it, a log POST builds two plans); outside a request simply
    ``compute()``."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if name not in memo:
        memo[name] = compute()
    return memo[name]


class RequestMemoMiddleware:
    """Gives every request its own memo for ``memoised`` (the stretch catalogue, read once
    however many plans and forms the request builds), dropped when it ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _memo.set({REQUEST_MEMO: True, REQUEST_PATH: getattr(request, "path_info", None)})
        try:
            return self.get_response(request)
        finally:
            try:
                from lib.cache import write_pending  # lib.cache imports this module

                write_pending()
            finally:
                _memo.reset(token)


# Marks the memo RequestMemoMiddleware gives a request (not the one a page gives itself
# when called without it): what is left to write at the end of the request is written.
REQUEST_MEMO = "request-memo"
REQUEST_PATH = "request-path"  # the request's path (lib.cache.expect_keys)


def request_memo() -> dict | None:
    """This request's memo when RequestMemoMiddleware made it, else None."""
    memo = _memo.get()
    return memo if memo is not None and memo.get(REQUEST_MEMO) else None


@contextmanager
def unmarked():
    """Real values, no markers, inside: for fragments cached on their own (lib.cache)."""
    token = _current.set(None)
    try:
        yield
    finally:
        _current.reset(token)


def csrf(request: HttpRequest) -> dict:
    """``csrf_token`` as Django's own context processor makes it (this one, listed later,
    takes its place); on a page that may be stored, the token is noted so that every
    response gets its own."""

    def token() -> str:
        value = get_token(request)
        _note_made()
        render = _current.get()
        if render is not None:
            render.replace[value] = ("csrf", "")
        return value

    return {"csrf_token": SimpleLazyObject(token)}


# --- The deployed code, templates and static files ----------------------------------


@once
def fingerprint() -> str:
    """A hash of the code, the templates and the static manifest, computed once per process.

    In the key, so HTML rendered by an older deploy is never served by a newer one.
    """
    digest = hashlib.sha256(f"{django.get_version()}|{settings.STATIC_URL}".encode())
    base = Path(settings.BASE_DIR)
    skip = {".venv", "node_modules", "staticfiles", "tests", ".git", "bench"}
    paths = []
    for suffix in ("*.py", "*.html", "*.txt", "*.json"):
        for path in base.rglob(suffix):
            relative = path.relative_to(base)
            if relative.parts and relative.parts[0] in skip:
                continue
            paths.append(relative)
    for relative in sorted(paths):
        digest.update(str(relative).encode())
        digest.update((base / relative).read_bytes())
    # The hashed static file names the pages link to (a CSS change alone moves them).
    if settings.STATIC_ROOT:
        manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
        if manifest.is_file():
            digest.update(manifest.read_bytes())
    return digest.hexdigest()[:16]


# --- The decorator ------------------------------------------------------------------


def _pending_messages(request: HttpRequest) -> int:
    storage = getattr(request, "_messages", None)
    return len(storage) if storage is not None else 0


def _known_query(request: HttpRequest, query: Mapping[str, Callable[[str], bool]]) -> bool:
    for name, values in request.GET.lists():
        accepts = query.get(name)
        if accepts is None or len(values) != 1 or not accepts(values[0]):
            return False
    return True


_USER_FIELDS = ("username", "email", "first_name", "last_name", "is_active", "is_staff")


def _owner_state(user, profile) -> str:
    """Every profile field and the user's names, as loaded for this request.

    Not every profile save bumps the data version (a display name, say), but each one
    retires the cached user, so the next request loads the new row and gets a new key.
    """
    values = [getattr(profile, f.attname) for f in profile._meta.concrete_fields]
    values += [getattr(user, name, None) for name in _USER_FIELDS]
    return repr(values)


def _key(request: HttpRequest, name: str, session_keys: tuple[str, ...], vary_on) -> str:
    profile = request.user.profile
    parts = [
        _owner_state(request.user, profile),
        *(part() for part in vary_on),
        request.path,
        request.META.get("QUERY_STRING", ""),
        translation.get_language() or "",
        *(request.META.get(header, "") for header in HTMX_HEADERS),
        *(repr(request.session.get(key)) for key in session_keys),
    ]
    varying = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]
    return (
        f"page:{fingerprint()}:{name}:{profile.user_id}:{profile.data_version}:"
        f"{profile.local_today():%Y%m%d}:{varying}"
    )


def _fill(entry: dict, request: HttpRequest) -> HttpResponse:
    """The stored page with this request's nonce, CSRF token and per-response values."""
    csrf_token = None
    if entry["csrf_used"] or any(kind == "csrf" for kind, _ in entry["values"].values()):
        csrf_token = get_token(request)  # and the cookie, as rendering would have set it
    now = timezone.now()  # one instant for every time in the page
    values = {
        marker: csrf_token if kind == "csrf" else _produce(kind, arg, now)
        for marker, (kind, arg) in entry["values"].items()
    }
    if entry["nonce"] and (nonce := get_nonce(request)) is not None:
        values[entry["nonce"]] = str(nonce)
    # Stored cut at its markers (``_template``): a join, not a search of the whole page.
    parts = entry["parts"]
    if len(parts) > 1:
        parts = parts.copy()
        for i in range(1, len(parts), 2):
            parts[i] = values.get(parts[i], parts[i])
    return HttpResponse("".join(parts), headers=entry["headers"])


def _template(response: HttpResponse, request: HttpRequest, render: _Render, csrf_used: bool):
    """The response as a stored page: markers in place of everything made per request."""
    html = response.content.decode(response.charset)
    values = dict(render.values)
    for literal, produced in render.replace.items():
        marker = _marker()
        html = html.replace(literal, marker)
        values[marker] = produced
    nonce_marker = None
    nonce = get_nonce(request)
    if nonce:  # generated while rendering: the body uses it
        nonce_marker = _marker()
        html = html.replace(str(nonce), nonce_marker)
    if csrf_used and not any(kind == "csrf" for kind, _ in values.values()):
        # get_token() was called outside the csrf_token context variable: find the
        # token by what it is (a masked form of this request's secret).
        secret = request.META.get("CSRF_COOKIE")
        tokens = {
            token
            for token in _CSRF_LIKE.findall(html)
            if token == secret or _unmask_cipher_token(token) == secret
        }
        for token in tokens:
            marker = _marker()
            html = html.replace(token, marker)
            values[marker] = ("csrf", "")
    headers = {name: value for name, value in response.items()}
    return {
        # The page cut at its markers once, here, so that no response searches it again.
        "parts": _MARKER_SPLIT.split(html),
        "values": values,
        "nonce": nonce_marker,
        "csrf_used": csrf_used,
        "headers": headers,
    }


def _storable(response: HttpResponse, request: HttpRequest, messages_before: int) -> bool:
    return (
        type(response) is HttpResponse
        and response.status_code == 200
        and response.get("Content-Type", "").startswith("text/html")
        and not response.cookies
        and not hasattr(response, "_csp_config")
        and not hasattr(response, "_csp_ro_config")
        and _pending_messages(request) == messages_before
    )


def page_cache(
    name: str,
    *,
    query: Mapping[str, Callable[[str], bool]] | None = None,
    session_keys: tuple[str, ...] = (),
    skip_if: Callable[[HttpRequest], bool] | None = None,
    vary_on: tuple[Callable[[], str], ...] = (),
):
    """Serve the view's GET responses from the cache, per user and data version.

    ``query``: each query parameter the page knows, with a test of its value (anything
    else is rendered and not stored). ``session_keys``: login-session values the page
    shows, put in the key. ``skip_if(request)``: True while the page must not be
    stored or served from the cache (say, while it shows something that ends with time).
    ``vary_on``: more parts of the key, read on every request (the stretch catalogue,
    which an admin may edit: it is no user's data).
    Put it inside ``@login_required`` and ``@exercise_gate``.
    """
    accepted = dict(query or {})

    def decorate(view):
        @wraps(view)
        def cached(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = getattr(request, "user", None)
            if (
                request.method != "GET"
                or user is None
                or not user.is_authenticated
                or getattr(user, "profile", None) is None
            ):
                return view(request, *args, **kwargs)
            if (
                not _known_query(request, accepted)
                or (skip_if is not None and skip_if(request))
                or _pending_messages(request)
            ):
                response = view(request, *args, **kwargs)
                response.page_cache = "skip"
                return response
            if _memo.get() is not None:
                # The request's memo (RequestMemoMiddleware): what the gate read before
                # (the safety record, the catalogue it fetched with it) is not read again.
                return serve(request, *args, **kwargs)
            memo = _memo.set({})
            try:
                return serve(request, *args, **kwargs)
            finally:
                _memo.reset(memo)

        def serve(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            key = _key(request, name, session_keys, vary_on)
            try:
                entry = cache.get(key)
            except Exception:
                logger.exception("page cache unavailable: rendering %s", name)
                return view(request, *args, **kwargs)
            if entry is not None:
                response = _fill(entry, request)
                response.page_cache = "hit"
                return response
            session_modified = request.session.modified
            csrf_before = request.META.get("CSRF_COOKIE_NEEDS_UPDATE", False)
            render = _Render()
            token = _current.set(render)
            try:
                response = view(request, *args, **kwargs)
            finally:
                _current.reset(token)
            csrf_used = bool(request.META.get("CSRF_COOKIE_NEEDS_UPDATE")) and not csrf_before
            if not _storable(response, request, 0):
                if (render.values or render.replace) and not response.streaming:
                    # Markers went into a page that will not be stored: fill them in.
                    response.content = _fill(
                        _template(response, request, render, csrf_used), request
                    ).content
                response.page_cache = "skip"
                return response
            entry = _template(response, request, render, csrf_used)
            stored = request.session.modified == session_modified
            if stored:
                try:
                    cache.set(key, entry, PAGE_SECONDS)
                except Exception:
                    logger.exception("could not store the page %s", name)
            filled = _fill(entry, request)
            filled.page_cache = "miss" if stored else "skip"
            return filled

        return cached

    return decorate


def digits(value: str) -> bool:
    return value.isdigit() and len(value) <= 7


def one_of(*choices: str) -> Callable[[str], bool]:
    allowed = frozenset(choices)
    return allowed.__contains__
