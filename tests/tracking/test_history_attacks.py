"""Attacks on the history version (issue 15): each test is a way a cached value came to
differ from a fresh read of the database, or the safety gate came to read an old record.

Each one drives the real code; where a race is needed, the interleaving is made
deterministic by running the other request's work at the exact point where it can land.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache.backends.dummy import DummyCache

import lib.cache
import tracking.plan
import tracking.progress_views
from accounts.admin import ProfileAdmin
from accounts.models import Profile
from accounts.services import profile_for, save_profile
from stretches.safety import gate_state, safety_record
from tests.factories import log_stretch, make_user
from tracking import series
from tracking.models import Session
from tracking.plan import build_plan
from tracking.progress_views import daily_numbers, trends_for
from tracking.services import save_checkin

pytestmark = pytest.mark.django_db

AUCKLAND = ZoneInfo("Pacific/Auckland")
LONDON = ZoneInfo("Europe/London")
# A Tuesday in Auckland; the day after is a Wednesday of the same week.
TUESDAY = datetime(2026, 5, 19).date()
WEDNESDAY = TUESDAY + timedelta(days=1)


def at(day, hour, minute=0, tz=AUCKLAND, **extra) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=tz) + timedelta(**extra)


def log(user, *, when=None, before=4, after=4, signals=()):
    return log_stretch(user, when=when, before=before, after=after, signals=signals)[0]


def fresh_user(user):
    """The user as the next request loads them (profile and versions read afresh)."""
    return Profile.objects.select_related("user").get(user=user).user


def versions(user) -> tuple[int, int]:
    return tuple(
        Profile.objects.filter(user=user).values_list("data_version", "history_version").get()
    )


def uncached(monkeypatch, read):
    with monkeypatch.context() as patch:
        patch.setattr(lib.cache, "cache", DummyCache("none", {}))
        patch.setattr(tracking.plan, "_PAST_KEPT", {})  # nor this process's days before today
        patch.setattr(tracking.plan, "_PLANS_KEPT", {})  # nor its plans
        return read()


def midnight_passes_inside(monkeypatch, module, clock):
    """Let local midnight pass between the caller's own ``local_today()`` and the key that
    ``cached_for_user`` makes (a request that starts at 23:59:59.999 and takes 2 ms)."""
    real = lib.cache.cached_for_user
    passed = []

    def slow(*args, **kwargs):
        if not passed:
            passed.append(True)
            clock.shift(timedelta(milliseconds=2))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "cached_for_user", slow)


# --- 1. Midnight inside a request: the key's day is not the day the value was made for ---


@pytest.fixture
def tuesday_user():
    with time_machine.travel(at(TUESDAY, 9), tick=False) as clock:
        user = make_user(time_zone="Pacific/Auckland", start=TUESDAY - timedelta(days=9))
        log(user)  # 09:00 and 18:00 on Tuesday: plain sessions today
        clock.move_to(at(TUESDAY, 18))
        log(user)
    return user


def test_a_plan_built_across_midnight_does_not_lose_the_day_before(tuesday_user, monkeypatch):
    """build_plan reads today (Tuesday) at 23:59:59.999; the past-days entry is keyed by
    the local day read again 2 ms later (Wednesday) but holds only the days before
    Tuesday. Every Wednesday request until a write that moves the history version (a
    plain session does not) or the 6 h expiry reads a plan without Tuesday's sessions."""
    user = tuesday_user
    with time_machine.travel(
        at(TUESDAY, 23, 59, seconds=59, microseconds=999_000), tick=False
    ) as clock:
        midnight_passes_inside(monkeypatch, tracking.plan, clock)
        build_plan(fresh_user(user).profile)
        monkeypatch.undo()
        clock.move_to(at(WEDNESDAY, 1))
        log(user)  # a plain session: the data version moves, the history version stays
        profile = fresh_user(user).profile
        cached = build_plan(profile)
        fresh = uncached(monkeypatch, lambda: build_plan(fresh_user(user).profile))
        assert fresh.main.done_this_week == 3
        assert cached.main.done_this_week == fresh.main.done_this_week
        assert cached == fresh


def test_progress_made_across_midnight_does_not_lose_the_day_before(tuesday_user, monkeypatch):
    """The same race in progress_views.daily_numbers: Tuesday vanishes from the charts,
    the weekly table and the verdict's numbers for the night."""
    user = tuesday_user
    with time_machine.travel(
        at(TUESDAY, 23, 59, seconds=59, microseconds=999_000), tick=False
    ) as clock:
        midnight_passes_inside(monkeypatch, tracking.progress_views, clock)
        daily_numbers(user, fresh_user(user).profile)
        monkeypatch.undo()
        clock.move_to(at(WEDNESDAY, 1))
        log(user)
        stats, _ = daily_numbers(user, fresh_user(user).profile)
        fresh, _ = uncached(monkeypatch, lambda: daily_numbers(user, fresh_user(user).profile))
        assert TUESDAY in {row.day for row in fresh}
        assert TUESDAY in {row.day for row in stats}
        assert stats == fresh


# --- 2. The time zone that decides "today only" is the request's, not the row's ----------


def test_a_time_zone_change_from_another_tab_cannot_hide_a_back_dated_session(monkeypatch):
    """Tab A opens the back-dated form in London; tab B moves the time zone to Auckland
    (every version moves on) and its next page caches the days before Auckland's today.
    Tab A then saves 12:30 London, which is London's today but Auckland's yesterday:
    log_session judges "today only" with the London zone it loaded at the start, so the
    history version stays and the session never reaches the cached past days."""
    now = datetime(2026, 5, 20, 13, 0, tzinfo=ZoneInfo("UTC"))  # 14:00 London, 01:00 Auckland
    with time_machine.travel(now, tick=False):
        user = make_user(time_zone="Europe/London", start=now.date() - timedelta(days=9))
        tab_a = fresh_user(user)  # loaded at the start of tab A's POST
        profile = fresh_user(user).profile
        profile.time_zone = "Pacific/Auckland"
        save_profile(profile, ["time_zone"])  # tab B
        trends_for(user, fresh_user(user).profile, series.Range.ALL)  # tab B's next page
        build_plan(fresh_user(user).profile)
        history = versions(user)[1]
        log(tab_a, when=datetime(2026, 5, 20, 12, 30, tzinfo=LONDON))  # 23:30 in Auckland
        assert versions(user)[1] > history, "a session on a past day kept the history version"
        profile = fresh_user(user).profile
        cached = trends_for(user, profile, series.Range.ALL).days
        fresh = uncached(
            monkeypatch, lambda: trends_for(user, fresh_user(user).profile, series.Range.ALL).days
        )
        assert cached == fresh


# --- 3. The profile admin writes the versions it loaded back -----------------------------


def test_a_profile_saved_in_the_admin_cannot_reopen_a_paused_plan(staff_client, monkeypatch):
    """ProfileAdmin.save_model saves the whole row it loaded, data_version and
    history_version included, and only then calls data_changed. Writes that the user made
    between the admin's load and save are rolled back in the counters: the history
    version returns to a value whose cached safety record is from before the stop signal,
    and the gate lets a paused user see the plan."""
    user = make_user("rollback", time_zone="Europe/London")
    real_get_object = ProfileAdmin.get_object

    def get_object_then_user_acts(self, request, object_id, from_field=None):
        obj = real_get_object(self, request, object_id, from_field)
        # Between the admin's read and its save, the user (another worker) acts:
        save_checkin(user=user, week=2, movement="better", sleep="same")
        assert gate_state(fresh_user(user)).decision.allowed  # cached at this version
        log(user, signals=["cramp"])  # a stop signal: paused for the rest of today
        assert not gate_state(fresh_user(user)).decision.allowed
        return obj

    monkeypatch.setattr(ProfileAdmin, "get_object", get_object_then_user_acts)
    profile = Profile.objects.get(user=user)
    response = staff_client.post(
        f"/admin/accounts/profile/{profile.pk}/change/",
        {
            "user": user.pk,
            "time_zone": "Europe/London",
            "display_name": "Renamed by staff",
            "programme_start": profile.programme_start.isoformat(),
            "phase": profile.phase,
            "sciatica_side": "",
            "verified_email": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Profile.objects.get(user=user).display_name == "Renamed by staff"
    record = safety_record(fresh_user(user))
    fresh = uncached(monkeypatch, lambda: safety_record(fresh_user(user)))
    assert record == fresh
    assert not gate_state(fresh_user(user)).decision.allowed


# --- 4. The sessions admin moves a session to another user --------------------------------


def test_moving_a_session_to_another_user_in_the_admin_retires_the_first_owners_caches(
    staff_client, monkeypatch
):
    """DataChangedAdmin.save_model bumps only the session's new owner: the old owner's
    cached past days (and pages) still count the session they no longer have."""
    with time_machine.travel(datetime(2026, 5, 20, 12, 0, tzinfo=LONDON), tick=False):
        alice = make_user("alice-owner", time_zone="Europe/London")
        bob = make_user("bob-owner", time_zone="Europe/London")
        session = log(alice, when=datetime(2026, 5, 19, 10, 0, tzinfo=LONDON))
        before = trends_for(alice, fresh_user(alice).profile, series.Range.ALL).days
        assert sum(day.sessions for day in before) == 1
        response = staff_client.post(
            f"/admin/tracking/session/{session.pk}/change/",
            {
                "user": bob.pk,
                "performed_at_0": "2026-05-19",
                "performed_at_1": "10:00:00",
                "exercise": session.exercise_id,
                "sides": session.sides,
                "reps_per_side": session.reps_per_side,
                "hold_seconds": session.hold_seconds,
                "hold_seconds_target": session.hold_seconds_target,
                "pain_before": session.pain_before,
                "pain_after": session.pain_after,
                "note": "",
                "version": session.version,
            },
        )
        assert response.status_code == 302, response.content.decode()[:2000]
        assert Session.objects.get(pk=session.pk).user_id == bob.pk
        cached = trends_for(alice, fresh_user(alice).profile, series.Range.ALL).days
        fresh = uncached(
            monkeypatch, lambda: trends_for(alice, fresh_user(alice).profile, series.Range.ALL).days
        )
        assert cached == fresh


# --- 5. A profile deleted in the admin comes back with its versions at 0 ------------------


def test_a_profile_deleted_in_the_admin_does_not_come_back_to_old_cache_entries(
    staff_client, monkeypatch
):
    """The profile admin can delete a profile and keep its user; profile_for makes a new
    one on the next request, with both versions at 0 again, so every entry cached today
    at version 0 (the account's first hours) is read again as current."""
    with time_machine.travel(datetime(2026, 5, 20, 9, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        user = make_user("recreated")
        trends_for(user, fresh_user(user).profile, series.Range.ALL)  # cached at version 0
        log(user, when=datetime(2026, 5, 19, 10, 0, tzinfo=ZoneInfo("UTC")))
        profile = Profile.objects.get(user=user)
        staff_client.post(f"/admin/accounts/profile/{profile.pk}/delete/", {"post": "yes"})
        profile_for(get_user_model().objects.get(pk=user.pk))  # the next request
        cached = trends_for(user, fresh_user(user).profile, series.Range.ALL).days
        fresh = uncached(
            monkeypatch, lambda: trends_for(user, fresh_user(user).profile, series.Range.ALL).days
        )
        assert cached == fresh


def test_a_profile_moved_to_another_user_in_the_admin_leaves_no_stale_entries(
    staff_client, monkeypatch
):
    """The profile's user is a raw id in the admin form: moving a profile to a user who has
    none leaves the first user to get a new profile at version 0 (as after a delete)."""
    with time_machine.travel(datetime(2026, 5, 20, 9, 0, tzinfo=ZoneInfo("UTC")), tick=False):
        user = make_user("moved-from")
        newcomer = get_user_model().objects.create_user("no-profile-yet", password="x-Pass-1234")
        trends_for(user, fresh_user(user).profile, series.Range.ALL)  # cached at version 0
        log(user, when=datetime(2026, 5, 19, 10, 0, tzinfo=ZoneInfo("UTC")))
        profile = Profile.objects.get(user=user)
        staff_client.post(
            f"/admin/accounts/profile/{profile.pk}/change/",
            {
                "user": newcomer.pk,
                "time_zone": profile.time_zone,
                "display_name": "",
                "programme_start": profile.programme_start.isoformat(),
                "phase": profile.phase,
                "sciatica_side": "",
                "verified_email": "",
            },
        )
        profile_for(get_user_model().objects.get(pk=user.pk))  # the next request
        cached = trends_for(user, fresh_user(user).profile, series.Range.ALL).days
        fresh = uncached(
            monkeypatch, lambda: trends_for(user, fresh_user(user).profile, series.Range.ALL).days
        )
        assert cached == fresh


# --- Beside the history version: the sessions admin and the hard caps (SPEC 1.3) -----------


def test_the_sessions_admin_cannot_store_a_hold_above_the_cap(staff_client):
    """SPEC 1.3: "Hard caps that no rule, setting, form, hidden field or admin edit may
    break: holds at most 60 s". The database allows up to 120 s; the admin form checks
    nothing more."""
    with time_machine.travel(datetime(2026, 5, 20, 12, 0, tzinfo=LONDON), tick=False):
        user = make_user("capped", time_zone="Europe/London")
        session = log(user, when=datetime(2026, 5, 19, 10, 0, tzinfo=LONDON))
        staff_client.post(
            f"/admin/tracking/session/{session.pk}/change/",
            {
                "user": user.pk,
                "performed_at_0": "2026-05-19",
                "performed_at_1": "10:00:00",
                "exercise": session.exercise_id,
                "sides": session.sides,
                "reps_per_side": session.reps_per_side,
                "hold_seconds": 120,
                "hold_seconds_target": session.hold_seconds_target,
                "pain_before": session.pain_before,
                "pain_after": session.pain_after,
                "note": "",
                "version": session.version,
            },
        )
        session.refresh_from_db()
        assert session.hold_seconds <= session.exercise.hold_cap


def test_the_sessions_admin_cannot_add_a_fourth_session_on_an_acute_flare_day(staff_client):
    """SPEC 1.3: "Hard caps that no rule, setting, form, hidden field or admin edit may
    break: ... acute flare at most 3 sessions a day". Session.clean now checks the hold
    cap for the admin's form, but not the flare's daily cap: staff can store a fourth."""
    from stretches.progression import Phase

    with time_machine.travel(datetime(2026, 5, 20, 12, 0, tzinfo=LONDON), tick=False):
        user = make_user("flare-admin", time_zone="Europe/London", phase=Phase.ACUTE.value)
        sessions = [log(user, when=datetime(2026, 5, 20, h, 0, tzinfo=LONDON)) for h in (8, 9, 10)]
        first = sessions[0]
        response = staff_client.post(
            "/admin/tracking/session/add/",
            {
                "user": user.pk,
                "performed_at_0": "2026-05-20",
                "performed_at_1": "11:00:00",
                "exercise": first.exercise_id,
                "sides": first.sides,
                "reps_per_side": first.reps_per_side,
                "hold_seconds": first.hold_seconds,
                "hold_seconds_target": first.hold_seconds_target or "",
                "pain_before": 3,
                "pain_after": 3,
                "note": "",
                "version": 1,
            },
        )
        assert response.status_code in (200, 302)
        assert Session.objects.filter(user=user).count() == 3
