"""A cache fill a request defers (lib.cache._keep: written with its next read of the shared
cache, or as it ends) holds the row as it was read: a request that then changes the
object without saving it (a refused settings form, a save that fails) never puts those
values in front of the next request. Found in review; each test failed before the fill
was pickled when kept."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.test import Client

from accounts.models import Profile
from tests.factories import log_stretch, make_user, served_user, session_post

# Transactional: a log POST then takes the path production takes (on PostgreSQL, one
# statement outside any transaction: tracking.services), not the one a test's own
# transaction would force.
pytestmark = pytest.mark.django_db(transaction=True)

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)"
)


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _refused_settings(browser, member, **fields):
    """The settings form sent with a start date in the future: refused, nothing saved."""
    profile = Profile.objects.get(user=member)
    data = {
        "display_name": "",
        "time_zone": profile.time_zone,
        "programme_start": (profile.local_today() + timedelta(days=3)).isoformat(),
        "phase": profile.phase,
        "sciatica_side": "",
        **fields,
    }
    refused = browser.post("/account/", data)
    assert refused.status_code == 200
    assert b"Nothing was saved" in refused.content
    return refused


@needs_redis
def test_a_refused_settings_form_does_not_lift_the_acute_flare_cap():
    """SPEC: an acute flare caps sessions at 3 a day. A person in a flare logs their third
    session, then (the settings tab) picks "standard" with a start date in the future.
    The form is refused, "Nothing was saved". But that request was the first after a
    write: it read the profile row again and left it *pending* (lib.cache._keep); the
    ModelForm's validation set the valid fields on that very instance, and the pending
    entry is pickled only as the request ends, under a generation no write retired. The
    next request is served phase "standard": no cap, and a fourth session is saved."""
    member = make_user("flare-cap", phase="acute")
    browser = _signed_in(member)
    assert browser.get("/today/").status_code == 200  # the user and profile cached
    for _ in range(3):
        log_stretch(member)  # each retires the cached profile row (not the account)
    _refused_settings(browser, member, phase="standard")
    assert Profile.objects.get(user=member).phase == "acute"

    page = browser.get("/today/")
    assert b"3 sessions for the flare" in page.content, (
        "the cap message is gone: the plan is made from the unsaved phase"
    )
    fourth = browser.post("/today/log/", session_post(), headers={"HX-Request": "true"})
    assert "HX-Trigger" not in fourth.headers, "a fourth session was saved in a flare"
    assert member.stretch_sessions.count() == 3


@needs_redis
def test_a_refused_settings_form_leaves_the_served_profile_as_stored():
    """The same path, read as the next request reads the user: every field the refused
    form held (time zone too, which moves "today") is served until the next write or
    for USER_CACHE_SECONDS."""
    member = make_user("flare-settings", phase="acute")
    browser = _signed_in(member)
    assert browser.get("/today/").status_code == 200
    logged = browser.post("/today/log/", session_post(), headers={"HX-Request": "true"})
    assert logged.headers["HX-Trigger"] == "session-logged"
    _refused_settings(browser, member, phase="standard", time_zone="Pacific/Kiritimati")
    stored = Profile.objects.get(user=member)
    served = served_user(member.pk).profile
    assert (served.phase, served.time_zone) == (stored.phase, stored.time_zone) == ("acute", "UTC")


@needs_redis
def test_settings_that_failed_to_save_are_not_served_next(monkeypatch):
    """The same root cause with an exception: the settings form is valid, but the save
    fails (a statement timeout, say): the person sees an error page, the row is as it
    was, and the pending profile, changed in memory by the form, is written by
    RequestMemoMiddleware's ``finally`` under the unretired generation."""
    from django.db import OperationalError

    member = make_user("flare-timeout", phase="acute")
    browser = Client(raise_request_exception=False)
    browser.force_login(member)
    assert browser.get("/today/").status_code == 200
    log_stretch(member)  # retires the cached profile row

    def timeout(*args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(Profile, "save", timeout)
    profile = Profile.objects.get(user=member)
    failed = browser.post(
        "/account/",
        {
            "display_name": "",
            "time_zone": "UTC",
            "programme_start": profile.programme_start.isoformat(),
            "phase": "standard",
            "sciatica_side": "",
        },
    )
    assert failed.status_code >= 500
    monkeypatch.undo()
    assert Profile.objects.get(user=member).phase == "acute"
    assert served_user(member.pk).profile.phase == "acute"
