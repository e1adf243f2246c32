"""A test-only URLconf: the project's URLs plus views that fail on purpose."""

from django.conf import settings
from django.db import IntegrityError, OperationalError, ProgrammingError
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns

SECRET_DETAIL = "detail-that-must-not-leak-7f3a"


def boom(request):
    raise RuntimeError(f"{SECRET_DETAIL} {settings.SECRET_KEY} {settings.DATABASES}")


def database_gone(request):
    raise OperationalError(f"connection to server at 10.0.0.9 failed: {SECRET_DETAIL}")


def integrity_bug(request):
    raise IntegrityError(f"duplicate key value violates unique constraint {SECRET_DETAIL}")


def query_bug(request):
    raise ProgrammingError(f"column does not exist {SECRET_DETAIL}")


urlpatterns = [
    path("test-only/integrity/", integrity_bug),
    path("test-only/query-bug/", query_bug),
    path("test-only/boom/", boom),
    path("test-only/database-gone/", database_gone),
    *project_urlpatterns,
]
handler500 = "config.views.server_error"
