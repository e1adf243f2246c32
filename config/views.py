import sys

from django.apps import apps
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.middleware import DATABASE_UNREACHABLE, database_unavailable_response

# The tables every signed-in page reads. Naming them (LIMIT 0 reads no row) takes the same
# lock a page takes, so a table held by a long lock (a migration, a manual ALTER) makes
# /healthz fail within the lock timeout, as the pages do, instead of answering "ok".
HEALTH_TABLES = (
    ("auth", "User"),
    ("accounts", "Profile"),
    ("accounts", "LoginSession"),
    ("tracking", "Session"),
)
# PostgreSQL's codes for "gave up waiting for a lock" and "statement took too long".
BUSY_CODES = {"55P03", "57014"}


def _health_query() -> str:
    names = [
        connection.ops.quote_name(apps.get_model(app, model)._meta.db_table)
        for app, model in HEALTH_TABLES
    ]
    return f"SELECT 1 FROM {', '.join(names)} LIMIT 0"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute(_health_query())
            cursor.fetchall()
    except DatabaseError as error:
        if getattr(error.__cause__, "sqlstate", None) in BUSY_CODES:
            body = "database busy: a table is locked or a query timed out\n"
        else:
            body = "database unavailable\n"
        return HttpResponse(body, status=503, content_type="text/plain")
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
