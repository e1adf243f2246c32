"""The manifest, the service worker, log-out clearing the phone, and sessions sent later."""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from datetime import timedelta

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from accounts.models import Profile
from pwa.owner import offline_owner
from stretches.models import Screening
from stretches.screening import Verdict
from tests.conftest import PASSWORD, all_no, make_screening, make_session, session_post
from tests.hardening.checks import check_csp, check_security_headers, parse_csp
from tracking.models import Session

pytestmark = pytest.mark.django_db
QUEUED = "/today/log/queued/"


def png_size(path: str) -> tuple[int, int, int]:
    """Width, height and colour type from a PNG's header."""
    with open(path, "rb") as image:
        head = image.read(26)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    width, height = struct.unpack(">II", head[16:24])
    return width, height, head[25]


def queued_post(user, **overrides) -> dict:
    """A session as the phone sends it: the log form plus the time Save was tapped."""
    saved_at = timezone.now() - timedelta(minutes=30)
    fields = {"performed_at": saved_at.isoformat(), "offline_owner": offline_owner(user)}
    return session_post(**(fields | overrides))


# --- Install -------------------------------------------------------------------------------


def test_manifest_describes_an_installable_app_with_our_own_icons(client):
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "EaseBack" and manifest["short_name"] == "EaseBack"
    assert manifest["start_url"] == "/today/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#1d5c63" and manifest["background_color"]
    found = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= found
    for icon in manifest["icons"]:
        assert icon["src"].startswith("/static/img/") and icon["type"] == "image/png"
        width, height, _ = png_size(finders.find(icon["src"].removeprefix("/static/")))
        assert f"{width}x{height}" == icon["sizes"]


def test_maskable_icons_have_no_transparent_corners():
    # Colour type 6 is RGBA; the maskable icons fill the whole square.
    for name in ("icon-maskable-192.png", "icon-maskable-512.png"):
        path = finders.find(f"img/{name}")
        width, height, colour_type = png_size(path)
        assert width == height
        if colour_type == 6:
            with open(path, "rb") as image:
                data = image.read()
            chunks, at = b"", 8
            while at < len(data):
                length = struct.unpack(">I", data[at : at + 4])[0]
                if data[at + 4 : at + 8] == b"IDAT":
                    chunks += data[at + 8 : at + 8 + length]
                at += 12 + length
            first_row = zlib.decompress(chunks)[: 1 + width * 4]
            assert first_row[0] in (0, 1)  # no filter or "sub": the first pixel is raw
            assert first_row[4] == 255, "top-left pixel is transparent"


def test_every_page_links_the_manifest_and_loads_the_offline_script(signed_in):
    page = signed_in.get("/today/").content.decode()

    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert '<meta name="theme-color" content="#1d5c63">' in page
    assert 'src="/static/js/offline.js"' in page and 'src="/static/js/offline-queue.js"' in page


def test_service_worker_is_served_from_the_root_listing_static_files_and_a_version(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    config = json.loads(body.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert len(config["version"]) == 16
    assert "/static/js/timer.js" in config["precache"]
    assert "/static/css/easeback.css" in config["precache"]
    assert "/offline/" in config["precache"]
    assert config["sendUrl"] == QUEUED and config["todayUrl"] == "/today/"
    assert "{%" not in body and "{{" not in body
    assert "importScripts(CONFIG.queueScript)" in body
    assert client.get("/sw.js").content == response.content  # stable between visits


def test_the_workers_own_copy_of_today_leaves_a_waiting_message_for_the_person(signed_in):
    """The service worker fetches /today/ in the background to keep a copy (marked with
    X-EaseBack-Copy). A message waiting for the person (here the answer to a form sent
    wrong; after the weekly questions, their score) must not be used up by that copy:
    the page the person opens next shows it."""
    worker = signed_in.get("/sw.js").content.decode()
    assert "const COPY_REQUEST = 'X-EaseBack-Copy';" in worker
    assert "headers: { [COPY_REQUEST]: '1' }" in worker
    signed_in.post("/today/lasting-pain/", {"lasting": "maybe"})  # "Please answer yes or no."

    copy = signed_in.get("/today/", headers={"X-EaseBack-Copy": "1"}).content.decode()
    assert "Please answer yes or no." not in copy
    page = signed_in.get("/today/").content.decode()
    assert "Please answer yes or no." in page
    assert "Please answer yes or no." not in signed_in.get("/today/").content.decode()


def test_worker_version_follows_the_precached_files(monkeypatch):
    from pwa import views

    before = views.worker_version()
    monkeypatch.setattr(views, "PRECACHE", (*views.PRECACHE, "img/icon-512.png"))

    assert views.worker_version() != before


def test_csp_gains_only_manifest_and_worker_sources(client):
    csp = client.get("/").headers["Content-Security-Policy"]

    check_csp(csp)
    directives = parse_csp(csp)
    assert directives["worker-src"] == ["'self'"]
    assert directives["manifest-src"] == ["'self'"]


@pytest.mark.parametrize("path", ["/manifest.webmanifest", "/sw.js", "/offline/"])
def test_pwa_files_send_every_security_header(production, client, path):
    check_security_headers(client.get(path, secure=True))


def test_offline_page_holds_nothing_of_the_person_signed_in(signed_in, user):
    page = signed_in.get("/offline/").content.decode()

    assert "You are offline" in page
    assert user.username not in page
    assert "csrfmiddlewaretoken" not in page and offline_owner(user) not in page


# --- Shared phones ---------------------------------------------------------------------------


def test_logging_out_tells_the_browser_to_clear_caches_and_storage(signed_in):
    assert "Clear-Site-Data" not in signed_in.get("/today/").headers

    response = signed_in.post("/accounts/logout/")

    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_deleting_the_account_clears_the_browser_too(signed_in):
    response = signed_in.post("/account/delete/", {"password": PASSWORD, "confirm": "on"})

    assert response.status_code == 302
    assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_visitors_and_failed_logins_clear_nothing(client, user):
    assert "Clear-Site-Data" not in client.get("/").headers
    failed = client.post("/accounts/login/", {"username": user.username, "password": "nope"})
    assert "Clear-Site-Data" not in failed.headers


def test_owner_marker_differs_per_person_and_is_empty_for_visitors(client, user, other_user):
    client.force_login(user)
    page = client.get("/today/").content.decode()

    assert f'data-owner="{offline_owner(user)}"' in page
    assert offline_owner(user) != offline_owner(other_user)
    assert 'data-owner=""' in Client().get("/").content.decode()


# --- Sessions sent later ---------------------------------------------------------------------


def test_a_queued_session_is_stored_at_the_time_it_was_saved_on_the_phone(signed_in, user):
    # A hidden target sent by the phone is ignored: the prescribed hold is the server's.
    data = queued_post(user, pain_before="6", pain_after="4", hold_seconds_target="55")

    response = signed_in.post(QUEUED, data)

    assert response.status_code == 200
    assert response.json() == {"status": "saved", "paused": False, "next": None}
    session = Session.objects.get(user=user)
    assert session.performed_at.isoformat() == data["performed_at"]
    assert (session.pain_before, session.pain_after) == (6, 4)
    assert str(session.client_token) == data["client_token"]
    assert session.hold_seconds_target == 15  # foundation, first week: the range's lower end


def test_a_queued_session_sent_again_is_stored_once(signed_in, user):
    data = queued_post(user)

    answers = [signed_in.post(QUEUED, data).json()["status"] for _ in range(3)]

    assert answers == ["saved", "already-saved", "already-saved"]
    assert Session.objects.filter(user=user).count() == 1


def test_a_session_saved_online_and_then_sent_from_the_queue_is_stored_once(signed_in, user):
    # The htmx save reached the server but the phone never heard back and queued it.
    data = queued_post(user)
    signed_in.post("/today/log/", {k: v for k, v in data.items() if k != "performed_at"})

    assert signed_in.post(QUEUED, data).json()["status"] == "already-saved"
    assert Session.objects.filter(user=user).count() == 1


def test_a_phone_clock_running_ahead_never_stores_a_session_in_the_future(signed_in, user):
    ahead = (timezone.now() + timedelta(hours=2)).isoformat()

    assert signed_in.post(QUEUED, queued_post(user, performed_at=ahead)).status_code == 200
    assert Session.objects.get(user=user).performed_at <= timezone.now()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("pain_after", "11", "Pain must be a whole number from 0 to 10."),
        ("hold_seconds", "500", "Ensure this value is less than or equal to"),
        ("exercise", "headstand", "Choose a stretch from the list."),
        ("performed_at", "yesterday-ish", "not readable"),
        ("client_token", "", "out of date"),
    ],
)
def test_a_queued_session_that_breaks_a_rule_is_refused_and_changes_nothing(
    signed_in, user, field, value, words
):
    version = Profile.objects.get(user=user).data_version

    response = signed_in.post(QUEUED, queued_post(user, **{field: value}))

    assert response.status_code == 400
    assert response.json()["status"] == "invalid" and words in response.json()["message"]
    assert not Session.objects.filter(user=user).exists()
    assert Profile.objects.get(user=user).data_version == version


def test_a_queued_session_older_than_seven_days_is_refused(signed_in, user):
    old = (timezone.now() - timedelta(days=8)).isoformat()

    response = signed_in.post(QUEUED, queued_post(user, performed_at=old))

    assert response.status_code == 400 and "7 days" in response.json()["message"]
    assert not Session.objects.filter(user=user).exists()


def test_a_queued_session_keeps_the_hold_cap_of_a_locked_exercise(signed_in, user):
    # Double-leg is locked for a new user: not in today's plan, so refused.
    data = queued_post(user, exercise="double-knee-to-chest", sides="both")

    assert signed_in.post(QUEUED, data).status_code == 400
    assert not Session.objects.filter(user=user).exists()


def test_a_signed_out_phone_keeps_its_session(client, user):
    response = client.post(QUEUED, queued_post(user))

    assert response.status_code == 401 and response.json()["status"] == "signed-out"
    assert not Session.objects.exists()


def test_a_session_queued_by_someone_else_is_never_stored_in_this_account(client, user, other_user):
    client.force_login(other_user)

    response = client.post(QUEUED, queued_post(user))

    assert response.status_code == 403 and response.json()["status"] == "wrong-user"
    assert not Session.objects.exists()
    missing = client.post(QUEUED, queued_post(other_user, offline_owner=None))
    assert missing.status_code == 403 and not Session.objects.exists()


def test_a_queued_session_needs_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post(QUEUED, queued_post(user))

    assert response.status_code == 403
    assert not Session.objects.exists()


def test_only_post_is_accepted(signed_in):
    assert signed_in.get(QUEUED).status_code == 405


def test_a_stop_signal_pause_that_started_offline_still_stores_the_session(signed_in, user):
    # Another device reported a stop signal while this phone was offline.
    make_session(user, stop_signals=["sharp_pain"])
    assert signed_in.get("/today/log/").status_code in (302, 405)

    response = signed_in.post(QUEUED, queued_post(user))

    assert response.status_code == 200
    assert response.json()["paused"] is True and response.json()["next"] == "/screening/"
    assert Session.objects.filter(user=user).count() == 2
    assert signed_in.get("/today/")["Location"] == "/screening/"
    assert "paused" in signed_in.get("/screening/").content.decode()


def test_the_normal_log_still_refuses_a_session_once_a_block_started(signed_in, user):
    make_screening(user, Verdict.EMERGENCY, answers={**all_no(), "bladder_bowel": "yes"})

    response = signed_in.post("/today/log/", session_post())

    assert response["Location"] == "/screening/"
    assert not Session.objects.filter(user=user).exists()


def test_an_emergency_screening_taken_meanwhile_stores_the_session_and_shows_the_block(
    signed_in, user
):
    make_screening(user, Verdict.EMERGENCY, answers={**all_no(), "bladder_bowel": "yes"})

    response = signed_in.post(QUEUED, queued_post(user))

    assert response.json()["paused"] is True and response.json()["status"] == "saved"
    assert "emergency" in response.json()["message"]
    assert Session.objects.filter(user=user).count() == 1
    assert Screening.objects.filter(user=user).first().verdict == Verdict.EMERGENCY.value


def test_a_stop_signal_in_the_queued_session_pauses_the_programme(signed_in, user):
    response = signed_in.post(QUEUED, queued_post(user, stop_signals="sharp_pain"))

    assert response.json()["paused"] is True
    assert "stop signal" in response.json()["message"]
    session = Session.objects.get(user=user)
    assert session.has_stop_signal and session.stop_signals == ["sharp_pain"]
    assert signed_in.get("/today/")["Location"] == "/screening/"


def test_the_log_form_without_javascript_is_unchanged(signed_in, user):
    page = signed_in.get("/today/").content.decode()
    assert 'action="/today/log/"' in page

    response = signed_in.post("/today/log/", session_post(client_token=str(uuid.uuid4())))

    assert response.status_code == 302 and response["Location"] == "/today/"
    assert Session.objects.filter(user=user).count() == 1


def test_a_pain_rise_sent_later_brings_the_guidance_on_the_next_page(signed_in, user):
    response = signed_in.post(QUEUED, queued_post(user, pain_before="2", pain_after="6"))

    assert response.json() == {"status": "saved", "paused": False, "next": "/today/"}
    page = signed_in.get("/today/").content.decode()
    assert "Saved, and a word about your pain" in page
    assert "Your pain went from 2 to 6" in page
