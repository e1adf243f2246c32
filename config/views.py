import sys

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.middleware import DATABASE_UNREACHABLE, database_unavailable_response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


def server_error(request: HttpRequest) -> HttpResponse:
    """500 handler; a lost database connection answers 503 with a page that says to try again.

    Only a lost connection: an IntegrityError or ProgrammingError is a bug or a race the
    view should have handled, and stays a 500.

    Rendered without a RequestContext, so it needs neither the database nor a user.
    """
    if isinstance(sys.exc_info()[1], DATABASE_UNREACHABLE):
        return database_unavailable_response()
    return HttpResponse(loader.get_template("500.html").render({}), status=500)
