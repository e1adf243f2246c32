"""Pages rendered once per data version (lib.page_cache): the same page, fresh, private, safe."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django.utils.dateformat import format as date_format
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.services import data_changed
from lib import page_cache
from stretches.safety import record_clearance, safety_record
from stretches.screening import Verdict
from tests.factories import make_screening, make_session, make_user, session_post
from tracking.models import Session

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 20, 15, 0, tzinfo=UTC)
CACHED_PAGES = [
    "/today/",
    "/progress/",
    "/progress/?range=all",
    "/progress/report/",
    "/progress/report/?range=6w",
    "/sessions/",
    "/sessions/?page=2",
]
NONCE = re.compile(r"'nonce-([^']+)'")
TOKEN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as clock:
        yield clock


@pytest.fixture
def amy(db):
    user = make_user("amy", start=NOW.date() - timedelta(days=20))
    for days_ago in range(21):
        make_session(user, performed_at=NOW - timedelta(days=days_ago, hours=1))
    return user


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def nonce_of(response) -> str | None:
    found = NONCE.search(response["Content-Security-Policy"])
    return found and found.group(1)


def screened(user, verdict: Verdict = Verdict.CLEAR):
    """A screening saved as the screening views save one (the data version bumped with it)."""
    make_screening(user, verdict=verdict)
    data_changed(user)


def normalised(response) -> str:
    """The body with this response's nonce, CSRF token and client token taken out."""
    html = response.content.decode()
    if nonce := nonce_of(response):
        html = html.replace(nonce, "NONCE")
    html = TOKEN.sub("CSRF", html)
    return UUID.sub("UUID", html)


def headers_of(response) -> dict:
    return {
        name: NONCE.sub("'nonce-N'", value)
        for name, value in response.items()
        if name not in {"Content-Length"}
    }


@pytest.mark.parametrize("url", CACHED_PAGES)
def test_a_cached_page_is_the_page_rendered_without_the_cache(amy, url, monkeypatch):
    client = signed_in(amy)
    first, second = client.get(url), client.get(url)
    assert (first.page_cache, second.page_cache) == ("miss", "hit")
    with monkeypatch.context() as patched:
        patched.setattr(page_cache, "_known_query", lambda request, query: False)
        plain = client.get(url)
    assert plain.page_cache == "skip"
    assert plain.status_code == second.status_code == 200
    assert normalised(second) == normalised(first) == normalised(plain)
    assert headers_of(second) == headers_of(first) == headers_of(plain)
    assert "no-store" in second["Cache-Control"] and "Cookie" in second["Vary"]


@pytest.mark.parametrize(
    "headers",
    [
        {"HX-Request": "true", "HX-Target": "progress-charts"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ],
)
def test_htmx_variants_of_progress_are_kept_apart(amy, headers):
    client = signed_in(amy)
    full = client.get("/progress/?range=all")
    partial = client.get("/progress/?range=all", headers=headers)
    again = client.get("/progress/?range=all", headers=headers)
    assert again.page_cache == "hit"
    assert normalised(again) == normalised(partial)
    restore = "HX-History-Restore-Request" in headers
    assert ("<html" in partial.content.decode()) is restore
    assert "HX-Request" in again["Vary"] and "<html" in full.content.decode()


def test_each_hit_carries_its_own_nonce_named_in_its_csp_header(amy):
    client = signed_in(amy)
    client.get("/progress/")
    hits = [client.get("/progress/") for _ in range(2)]
    nonces = [nonce_of(hit) for hit in hits]
    assert all(hit.page_cache == "hit" for hit in hits)
    assert nonces[0] != nonces[1]
    for hit, nonce in zip(hits, nonces, strict=True):
        html = hit.content.decode()
        assert f'nonce="{nonce}"' in html
        assert re.findall(r'nonce="([^"]+)"', html) == [nonce] * html.count('nonce="')


def test_the_csrf_token_of_a_cached_page_saves_a_session(amy):
    client = signed_in(amy, enforce_csrf_checks=True)
    client.get("/sessions/")
    hit = client.get("/sessions/")
    assert hit.page_cache == "hit"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', hit.content.decode())[1]
    assert f'"X-CSRFToken": "{token}"' in hit.content.decode()
    before = Session.objects.filter(user=amy).count()
    client.post("/today/lasting-pain/", {"lasted": "no", "csrfmiddlewaretoken": token})
    today = client.get("/today/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', today.content.decode())[1]
    saved = client.post("/today/log/", {**session_post(), "csrfmiddlewaretoken": token})
    assert saved.status_code == 302
    assert Session.objects.filter(user=amy).count() == before + 1


def test_two_loads_of_a_cached_today_page_log_two_sessions():
    user = make_user("tabs")
    client = signed_in(user)
    tabs = [client.get("/today/") for _ in range(2)]
    assert [tab.page_cache for tab in tabs] == ["miss", "hit"]
    tokens = [
        re.search(r'name="client_token" value="([^"]+)"', tab.content.decode())[1] for tab in tabs
    ]
    assert tokens[0] != tokens[1]


def test_a_new_session_shows_on_the_next_load_in_every_tab_and_worker(amy):
    phone, laptop = signed_in(amy), signed_in(amy)
    pages = ["/sessions/", "/progress/", "/progress/report/", "/today/"]
    for client in (phone, laptop):
        for url in pages:
            client.get(url)
    count = Session.objects.filter(user=amy).count()
    make_session(amy, performed_at=NOW - timedelta(minutes=1), pain_before=7, note="After the walk")
    for client, expected in ((phone, "miss"), (laptop, "hit")):
        sessions = client.get("/sessions/")
        assert sessions.page_cache == expected  # the laptop gets the phone's new render
        assert "After the walk" in sessions.content.decode()
        report = client.get("/progress/report/")
        assert f"{count + 1} session" in report.content.decode()


def test_nobody_gets_another_persons_cached_page(amy):
    bob = make_user("bob")
    signed_in(amy).get("/sessions/")
    page = signed_in(bob).get("/sessions/")
    assert page.page_cache == "miss"
    assert "No sessions yet" in page.content.decode()


def test_a_stop_signal_closes_the_cached_today_page(amy):
    client = signed_in(amy)
    assert client.get("/today/").status_code == 200
    hit = client.get("/today/")
    assert hit.page_cache == "hit" and "data-timer" in hit.content.decode()
    make_session(amy, stop_signals=["numbness"])
    for _ in range(2):
        closed = client.get("/today/")
        assert closed.status_code == 302 and closed.url == "/screening/"


@pytest.mark.parametrize("verdict", [Verdict.EMERGENCY, Verdict.URGENT, Verdict.CLINICIAN_FIRST])
def test_a_red_flag_screening_closes_the_cached_today_page(amy, verdict):
    client = signed_in(amy)
    client.get("/today/")
    screened(amy, verdict)
    response = client.get("/today/")
    assert response.status_code == 302 and response.url == "/screening/"


def test_a_clearance_opens_the_today_page_and_a_paused_user_never_sees_the_plan(amy):
    client = signed_in(amy)
    client.get("/today/")  # stored while allowed
    screened(amy, Verdict.URGENT)
    assert client.get("/today/").url == "/screening/"
    assert client.get("/today/").url == "/screening/"
    record_clearance(
        user=amy, record=safety_record(amy), cleared_on=NOW.date(), cleared_by="doctor", note=""
    )
    opened = client.get("/today/")
    # Rendered afresh (with the gate's message still pending from the redirect), timer and all.
    assert opened.status_code == 200 and opened.page_cache != "hit"
    assert "data-timer" in opened.content.decode()


def test_a_profile_change_shows_on_the_next_cached_page(amy):
    client = signed_in(amy)
    client.get("/progress/report/")
    amy.profile.display_name = "Amy Ng"
    amy.profile.save()
    report = client.get("/progress/report/")
    assert report.page_cache == "miss" and "Amy Ng" in report.content.decode()


def test_the_pause_ends_at_local_midnight_and_the_next_page_is_fresh(frozen):
    frozen.move_to(datetime(2026, 3, 10, 8, 0, tzinfo=UTC))  # 22:00 on 9 March in Honolulu
    user = make_user("kai", time_zone="Pacific/Honolulu", start=datetime(2026, 3, 1).date())
    client = signed_in(user)
    before = client.get("/progress/")
    make_session(user, stop_signals=["cramp"])
    assert client.get("/today/").url == "/screening/"
    frozen.move_to(datetime(2026, 3, 10, 10, 1, tzinfo=UTC))  # 00:01 the next day
    # The stop signal still asks for the questions again; a clear answer opens the plan.
    assert client.get("/today/").url == "/screening/"
    screened(user)
    opened = client.get("/today/")
    # Rendered afresh (with the gate's message still pending from the redirect), timer and all.
    assert opened.status_code == 200 and opened.page_cache != "hit"
    assert "data-timer" in opened.content.decode()
    progress = client.get("/progress/")
    assert progress.page_cache == "miss" and normalised(progress) != normalised(before)
    assert "10 Mar 2026" in progress.content.decode()


def test_a_new_local_day_gives_a_fresh_page(amy, frozen):
    client = signed_in(amy)
    client.get("/progress/")
    assert client.get("/progress/").page_cache == "hit"
    frozen.move_to(NOW.replace(hour=20, minute=59))
    assert client.get("/progress/").page_cache == "hit"
    frozen.move_to(NOW.replace(hour=23, minute=59) + timedelta(minutes=2))
    after = client.get("/progress/")
    assert after.page_cache == "miss"
    assert "21 May 2026" in after.content.decode()


def test_the_sessions_list_is_never_stored_while_it_offers_an_undo(amy, frozen):
    client = signed_in(amy)
    session = client.session
    session["undo_delete"] = {"deleted_at": NOW.isoformat(), "summary": "x", "snapshot": {}}
    session.save()
    assert [client.get("/sessions/").page_cache for _ in range(2)] == ["skip", "skip"]
    frozen.move_to(NOW + timedelta(minutes=11))  # past the correction window and the undo
    session = client.session
    del session["undo_delete"]
    session.save()
    assert [client.get("/sessions/").page_cache for _ in range(2)] == ["miss", "hit"]


def test_the_offline_note_carries_the_time_of_each_response(amy, frozen):
    client = signed_in(amy)
    client.get("/sessions/")
    frozen.move_to(NOW + timedelta(minutes=30))
    hit = client.get("/sessions/")
    assert hit.page_cache == "hit"
    assert 'datetime="2026-05-20T15:30:00+00:00"' in hit.content.decode()


@pytest.mark.parametrize(
    "url", ["/sessions/?page=2&x=1", "/progress/?range=1y", "/sessions/?page="]
)
def test_a_query_the_page_does_not_know_is_rendered_and_not_stored(amy, url):
    client = signed_in(amy)
    responses = [client.get(url) for _ in range(2)]
    assert [r.status_code for r in responses] == [200, 200]
    assert [r.page_cache for r in responses] == ["skip", "skip"]


def test_a_pending_message_is_shown_once_and_the_page_not_stored(amy):
    client = signed_in(amy)
    client.get("/sessions/")
    client.post(f"/sessions/{Session.objects.filter(user=amy).first().pk}/delete/")
    client.post("/sessions/undo/")  # its answer is a flash message on the next page
    shown = client.get("/sessions/")
    assert shown.page_cache != "hit"
    again = client.get("/sessions/")
    assert "Session restored." in shown.content.decode()
    assert "Session restored." not in again.content.decode()


def test_a_new_deploy_never_serves_html_from_the_old_one(amy, monkeypatch):
    client = signed_in(amy)
    client.get("/progress/")
    monkeypatch.setattr(page_cache, "fingerprint", lambda: "next-deploy")
    assert client.get("/progress/").page_cache == "miss"


def test_a_catalogue_edit_shows_at_once_on_cached_pages(amy):
    from stretches.models import Exercise

    client = signed_in(amy)
    client.get("/sessions/")
    Exercise.objects.filter(slug="single-knee-to-chest").update(name="One-knee hug")
    assert "One-knee hug" in client.get("/sessions/").content.decode()


def test_today_costs_the_same_queries_before_and_after_the_days_first_session():
    """The plan reads today's sessions and the last one before in one query (the bench's
    10 / 10 / 9: a user without a session today paid one more)."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for today in (False, True):
        user = make_user(start=NOW.date() - timedelta(days=30))
        make_session(user, performed_at=NOW - timedelta(days=2))
        if today:
            make_session(user, performed_at=NOW - timedelta(hours=1))
        client = signed_in(user)
        client.get("/healthz")
        cache.clear()
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/today/")
        assert page.status_code == 200
        asked = "Before today's first session" in page.content.decode()
        assert asked is not today  # the last session was found either way
        counts.append(len(queries))
    assert counts[0] == counts[1]


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(["UTC", "Australia/Sydney", "America/St_Johns", "Asia/Kathmandu"]),
)
def test_the_offline_notes_times_read_as_djangos_date_format_writes_them(moment, zone):
    # Every stored page's response writes these without parsing the format each time.
    with timezone.override(ZoneInfo(zone)):
        local = timezone.localtime(moment)
        for fmt in page_cache._PLAIN_FORMATS:
            assert page_cache._produce("now", fmt, moment) == date_format(local, fmt)
