import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers


class TimezoneMiddleware:
    """Show every time in the signed-in user's own time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        profile = getattr(user, "profile", None) if user and user.is_authenticated else None
        if profile is not None:
            timezone.activate(profile.tzinfo)
        else:
            timezone.deactivate()
        return self.get_response(request)


# At most how often a signed-in visit pushes the session's expiry on. Saving the session on
# every request would cost three queries each time; once an hour keeps the idle
# timeout (SESSION_COOKIE_AGE) accurate to within that hour.
SESSION_REFRESH_SECONDS = 3600


class SlidingSessionMiddleware:
    """Sign a user out after SESSION_COOKIE_AGE without a visit, not after a fixed age."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            every = min(SESSION_REFRESH_SECONDS, settings.SESSION_COOKIE_AGE // 10)
            if now - request.session.get("_seen", 0) >= every:
                request.session["_seen"] = now  # modified: saved with a fresh expiry
        return self.get_response(request)


class PrivatePagesMiddleware:
    """Pages seen while signed in are never stored by the browser or any cache on the way.

    Health data in the browser's disk cache would outlive logging out on a shared computer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
            patch_vary_headers(response, ["Cookie"])
        return response
