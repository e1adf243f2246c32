"""A log POST racing another tab (a review's attacks, kept): the plan it shows and caches,
and the gate after it, are what the database says once its write is in.

Another tab's write is made to land at the worst moment: after this POST passed the gate
and read its plan, before its own write.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache.backends.dummy import DummyCache

import lib.cache
import tracking.plan
import tracking.today
from accounts.models import Profile
from accounts.services import save_profile
from stretches.safety import gate_state
from tests.factories import log_stretch, make_user, session_post
from tracking.models import Session
from tracking.plan import build_plan
from tracking.today import counts_text

# Transactional: a log POST then takes the path production takes (on PostgreSQL, one
# statement outside any transaction: tracking.services), not the one a test's own
# transaction would force.
pytestmark = pytest.mark.django_db(transaction=True)

AUCKLAND = ZoneInfo("Pacific/Auckland")
UTC = ZoneInfo("UTC")
NOW = datetime(2026, 5, 20, 15, 0, tzinfo=AUCKLAND)
HX = {"HX-Request": "true"}


def fresh_user(user):
    return Profile.objects.select_related("user").get(user=user).user


def cached_plan(user):
    return build_plan(fresh_user(user).profile)


def plan_from_the_database(user, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(lib.cache, "cache", DummyCache("none", {}))
        patch.setattr(tracking.plan, "_PAST_KEPT", {})  # nor this process's days before today
        patch.setattr(tracking.plan, "_PLANS_KEPT", {})  # nor its plans
        return build_plan(fresh_user(user).profile)


def before_the_write(monkeypatch, action, after=None):
    """``action`` lands after this POST read its plan, just before its own write
    (and ``after`` right after that write commits). Once, and only in this thread: an
    action that is itself another tab's log POST (in another worker) goes through the
    same view, and would otherwise start another tab of its own, without end."""
    real = tracking.today.log_session
    main, fired = threading.get_ident(), []

    def wrapped(**kwargs):
        if fired or threading.get_ident() != main:
            return real(**kwargs)
        fired.append(True)
        action()
        result = real(**kwargs)
        if after is not None:
            after()
        return result

    monkeypatch.setattr(tracking.today, "log_session", wrapped)


def acute_in_another_tab(user):
    def change():
        other = Profile.objects.select_related("user").get(user=user)
        other.phase = "acute"
        save_profile(other, ["phase"])

    return change


@pytest.fixture
def person(client):
    with time_machine.travel(NOW, tick=False):
        user = make_user(time_zone="Pacific/Auckland", start=NOW.date() - timedelta(days=20))
        client.force_login(user)
        yield user


def test_the_acute_phase_chosen_in_another_tab_caps_the_day_at_once(client, person, monkeypatch):
    """The flare was chosen after this POST's form passed (it read no cap), before its
    write: the write counts the day as the flare's and refuses a 4th session (SPEC 1.3;
    until 2026-12-07 this save was stored and only the next one refused)."""
    for _ in range(3):
        log_stretch(person)  # standard phase: no daily cap
    client.get("/today/")
    with monkeypatch.context() as patch:
        before_the_write(patch, acute_in_another_tab(person))
        response = client.post("/today/log/", session_post(), headers=HX)
    assert response.headers.get("HX-Trigger") != "session-logged"
    assert "allows at most 3 sessions" in response.content.decode()
    assert Session.objects.filter(user=person).count() == 3

    truth = plan_from_the_database(person, monkeypatch)
    assert (truth.prescription.daily_cap, len(truth.todays_sessions)) == (3, 3)
    assert cached_plan(person) == truth
    refused = client.post("/today/log/", session_post(), headers=HX)
    assert refused.headers.get("HX-Trigger") != "session-logged"
    assert Session.objects.filter(user=person).count() == 3


def test_a_plan_another_tab_cached_after_this_write_is_not_overwritten(client, person, monkeypatch):
    for _ in range(3):
        log_stretch(person)
    client.get("/today/")
    with monkeypatch.context() as patch:
        before_the_write(
            patch,
            acute_in_another_tab(person),
            after=lambda: build_plan(fresh_user(person).profile),  # the other tab's next page
        )
        client.post("/today/log/", session_post(), headers=HX)
    assert cached_plan(person).prescription.daily_cap == 3


def test_a_time_zone_changed_in_another_tab_counts_today_in_the_new_zone(client, monkeypatch):
    now = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)  # 13:00 in London, 14:00 in Berlin
    with time_machine.travel(now, tick=False):
        user = make_user(time_zone="Europe/London", start=now.date() - timedelta(days=20))
        client.force_login(user)
        # 22:30 UTC on the 19th: yesterday in London, 00:30 today in Berlin.
        log_stretch(user, when=datetime(2026, 5, 19, 22, 30, tzinfo=UTC))
        client.post("/today/lasting-pain/", {"lasting": "no"})
        client.get("/today/")

        def berlin():
            other = Profile.objects.select_related("user").get(user=user)
            other.time_zone = "Europe/Berlin"
            save_profile(other, ["time_zone"])

        with monkeypatch.context() as patch:
            before_the_write(patch, berlin)
            response = client.post("/today/log/", session_post(), headers=HX)
        assert response.headers.get("HX-Trigger") == "session-logged"
        truth = plan_from_the_database(user, monkeypatch)
        assert len(truth.todays_sessions) == 2
        assert counts_text(cached_plan(user)) == counts_text(truth)
        assert "Done today: 2 sessions" in response.text
        assert "Done today: 2 sessions" in client.get("/today/").text


def test_a_double_tap_whose_first_save_lands_first_shows_that_save(client, person, monkeypatch):
    client.get("/today/")
    post = session_post()
    token = uuid.UUID(post["client_token"])
    with monkeypatch.context() as patch:
        before_the_write(patch, lambda: log_stretch(fresh_user(person), token=token))
        response = client.post("/today/log/", post, headers=HX)
    assert Session.objects.filter(user=person).count() == 1
    assert "That session was already saved." in response.text
    assert "Done today: 1 session" in response.text


def test_a_double_tap_whose_first_save_closed_the_plan_is_sent_to_the_screening(
    client, person, monkeypatch
):
    """The first tap (severe pain on a third day) closes the plan while the second is
    between the gate and its insert: the second must not hand back a plan and timer."""
    for days in (1, 2):
        log_stretch(person, when=datetime.now(AUCKLAND) - timedelta(days=days), before=8, after=8)
    client.post("/today/lasting-pain/", {"lasting": "no"})
    client.get("/today/")
    post = session_post(pain_before="8", pain_after="8")
    token = uuid.UUID(post["client_token"])
    with monkeypatch.context() as patch:
        before_the_write(
            patch, lambda: log_stretch(fresh_user(person), token=token, before=8, after=8)
        )
        response = client.post("/today/log/", post, headers=HX)
    assert not gate_state(fresh_user(person)).decision.allowed
    assert response.headers.get("HX-Redirect") == "/screening/"
    assert "data-timer" not in response.text
