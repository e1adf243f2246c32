"""Every response carries the security headers: each URL pattern, fragments, static, 404, 500."""

from __future__ import annotations

import importlib

import pytest
from axes.models import AccessAttempt, AccessLog
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.models import Group
from django.db import OperationalError
from django.test import Client

from stretches.models import Clearance
from stretches.screening import Verdict
from tests.conftest import PASSWORD, make_screening, make_session, make_user, session_post
from tests.hardening.checks import check_html_obeys_csp, check_security_headers
from tests.hardening.conftest import FIGURES
from tests.hardening.routes import all_routes, fill, param_values
from tests.hardening.urls_faults import SECRET_DETAIL
from tracking.models import WeeklyCheckin

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def population(client):
    """Rows behind every URL: a user with data, a superuser, and one row in each admin model."""
    user = make_user("alice")
    session = make_session(user)
    WeeklyCheckin.objects.create(user=user, week=1, movement="same", sleep="better")
    patient = make_user("bob")
    urgent = make_screening(patient, Verdict.URGENT)
    Clearance.objects.create(user=patient, screening=urgent, cleared_on=urgent.taken_at.date())
    staff = get_user_model().objects.create_superuser("root", password=PASSWORD)
    Group.objects.create(name="physiotherapists")
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, secure=True)
    Client().post("/accounts/login/", {"username": "alice", "password": "wrong"}, secure=True)
    assert AccessAttempt.objects.exists() and AccessLog.objects.exists()
    values = param_values(session_pk=session.pk, user_pk=user.pk, slug=session.exercise.slug)
    return {"visitor": None, "user": user, "staff": staff}, values


def client_for(person) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person)
    return client


def test_every_url_pattern_sends_every_security_header(production, population):
    people, values = population
    routes = all_routes()
    responses = headers = 0

    def check(response, *, html: bool) -> None:
        nonlocal responses, headers
        assert response.status_code < 500, response.request["PATH_INFO"]
        headers += check_security_headers(response, https=True)
        if html:
            check_html_obeys_csp(response)
        responses += 1

    # Reads first, in one signed-in client per identity...
    for person in people.values():
        client = client_for(person)
        for route in routes:
            url = fill(route, values)
            check(client.get(url, secure=True), html=not route.is_admin)
            if not route.is_admin:
                check(client.get(url, secure=True, headers=HTMX), html=True)
    # ...then an empty POST to every URL (one of them logs out: sign in again after it).
    for person in people.values():
        client = client_for(person)
        for route in routes:
            check(client.post(fill(route, values), {}, secure=True), html=not route.is_admin)
            if person is not None and SESSION_KEY not in client.session:
                client.force_login(person)

    assert len(routes) >= 90  # the walk saw the admin too, not only our own pages
    FIGURES["headers"]["URL patterns walked"] = len(routes)
    FIGURES["headers"]["responses checked in the walk"] = responses
    FIGURES["headers"][
        "headers checked per response (CSP, HSTS, nosniff, referrer, COOP, CORP, XFO)"
    ] = 7
    FIGURES["headers"]["header checks in the walk"] = headers
    print(f"\n{len(routes)} URL patterns, {responses} responses, {headers} header checks")


def test_htmx_fragments_send_every_security_header(production, client):
    user = make_user()
    make_session(user)
    client.force_login(user)

    done = client.get("/today/?part=done", secure=True, headers=HTMX)
    logged = client.post("/today/log/", session_post(), secure=True, headers=HTMX)
    invalid = client.post("/today/log/", session_post(pain_before="11"), secure=True, headers=HTMX)

    for fragment in (done, logged, invalid):
        assert fragment.status_code == 200
        assert "<html" not in fragment.text  # a fragment, not a page
        check_security_headers(fragment)
        check_html_obeys_csp(fragment)
    assert logged.headers["HX-Trigger"] == "session-logged"


@pytest.mark.parametrize(
    "path",
    [
        "/static/css/easeback.css",
        "/static/js/easeback.js",
        "/static/js/timer.js",
        "/static/img/icon.svg",
        "/static/admin/css/base.css",
    ],
)
def test_static_files_send_every_security_header(production, client, path):
    response = client.get(path, secure=True)

    assert response.status_code == 200
    assert b"".join(response.streaming_content)  # WhiteNoise served the real file
    check_security_headers(response)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_missing_static_file_and_missing_page_send_headers_and_our_404(production, client):
    for path in ("/static/css/no-such-file.css", "/no-such-page/", "/sessions/999999/edit/"):
        client.force_login(make_user())
        response = client.get(path, secure=True)

        assert response.status_code in (404, 302)
        check_security_headers(response)
        if response.status_code == 404:
            assert "We could not find that page" in response.text
            for detail in ("No Session matches", "URLconf", "Traceback", "Raised by"):
                assert detail not in response.text
            check_html_obeys_csp(response)


@pytest.mark.urls("tests.hardening.urls_faults")
def test_server_error_sends_headers_and_our_500_page(production, settings):
    client = Client(raise_request_exception=False)

    response = client.get("/test-only/boom/", secure=True)

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert SECRET_DETAIL not in response.text
    assert settings.SECRET_KEY not in response.text
    assert "Traceback" not in response.text
    check_security_headers(response)
    check_html_obeys_csp(response)


@pytest.mark.urls("tests.hardening.urls_faults")
@pytest.mark.parametrize("url", ["/test-only/integrity/", "/test-only/query-bug/"])
def test_a_database_bug_is_a_500_not_a_database_outage(production, url):
    # Only a lost connection means "try again later"; a constraint or query error is ours.
    response = Client(raise_request_exception=False).get(url, secure=True)

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.text
    assert "Retry-After" not in response.headers
    assert SECRET_DETAIL not in response.text


@pytest.mark.urls("tests.hardening.urls_faults")
@pytest.mark.parametrize("debug", [False, True])
def test_unreachable_database_in_a_view_answers_503_with_headers(production, settings, debug):
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)

    response = client.get("/test-only/database-gone/", secure=True)

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert "briefly unavailable" in response.text
    assert SECRET_DETAIL not in response.text and "Traceback" not in response.text
    check_security_headers(response)


@pytest.mark.parametrize("debug", [False, True])
def test_unreachable_database_in_the_session_middleware_answers_503(
    production, settings, monkeypatch, debug
):
    """The session lookup happens in middleware, before any view: it gets the 503 page too."""
    settings.DEBUG = debug
    client = Client(raise_request_exception=False)
    client.force_login(make_user())

    def unreachable(self):
        raise OperationalError(f"server closed the connection unexpectedly {SECRET_DETAIL}")

    # The engine in use: accounts.sessions, or accounts.cached_sessions with REDIS_URL.
    engine = importlib.import_module(django_settings.SESSION_ENGINE).SessionStore
    monkeypatch.setattr(engine, "load", unreachable)
    response = client.get("/today/", secure=True)

    assert response.status_code == 503
    assert "briefly unavailable" in response.text
    assert SECRET_DETAIL not in response.text and "Traceback" not in response.text
    check_security_headers(response)
