import sys
from collections.abc import Callable

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.template import loader

# Errors that mean "the database cannot be reached", not "our query is wrong": a
# ProgrammingError or IntegrityError is a bug and stays a 500 with its traceback logged.
DATABASE_UNREACHABLE = (OperationalError, InterfaceError)


def database_unavailable_response() -> HttpResponse:
    """The friendly 503 page; rendered without a RequestContext, so it needs no database."""
    body = loader.get_template("503.html").render({})
    return HttpResponse(body, status=503, headers={"Retry-After": "30"})


class SecurityHeadersMiddleware:
    """Headers Django has no setting for, added to every response, static files included.

    It sits above WhiteNoise so files served from there get them too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=()"
        )
        return response


@receiver(got_request_exception, dispatch_uid="easeback-database-unreachable")
def _mark_database_unreachable(sender, request=None, **kwargs) -> None:
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_UNREACHABLE):
        request.database_unreachable = True


class DatabaseUnavailableMiddleware:
    """Answer 503 with a friendly page while the database is down, with DEBUG on or off.

    Django turns an exception into a 500 response right where it is raised, also inside
    the session and time zone middleware below this one, and with DEBUG on that response
    is the technical page with a traceback. The got_request_exception receiver above marks
    the request when the cause was an unreachable database, and the 500 is swapped here.
    It sits below the header middleware so the 503 carries the same security headers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(request, "database_unreachable", False) and response.status_code == 500:
            return database_unavailable_response()
        return response
