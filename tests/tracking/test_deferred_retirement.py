"""The second half of a plain log's retirement, made with the request's last round trip to
the shared cache (lib.cache.retire, lib.redis_cache.set_many_then_get_many) instead of a
round trip of its own right after the commit; and the generation made before the log's
statement (lib.cache.IN_FLIGHT), under which nothing is kept until then.

What must hold whatever happens between the commit and that round trip: a worker that
reads the profile after the log's retirement before its write never keeps what it read,
so the row from before the write is never served as current, and the acute flare's cap
of 3 holds (tests/tracking/test_log_retirement_window_attacks_held.py: a review's attacks).

PostgreSQL + Redis only: the other worker runs in its own thread with its own connection
(tests/tracking/test_kept_row_races.py).
"""

from __future__ import annotations

import os

import pytest
import redis
from django.core.cache import cache
from django.db import connection
from django.test import Client

import lib.cache
import tracking.today
from accounts.models import Profile
from tests.factories import log_stretch, make_user, ready_to_log, served_user, session_post
from tests.tracking.test_kept_row_cas import just_before_the_one_statement
from tests.tracking.test_kept_row_races import current_profile
from tracking.models import Session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
]
HX = {"HX-Request": "true"}


def acute_with_two_sessions():
    member = make_user(phase="acute")
    browser = ready_to_log(member)
    log_stretch(member)
    log_stretch(member)  # 2 of the flare's 3
    browser.get("/today/")
    return member, browser


def assert_no_pre_write_row_and_the_cap_holds(member, browser) -> None:
    stored = Profile.objects.get(user=member)
    kept = current_profile(member)
    assert kept is None or kept.data_version == stored.data_version, (
        "the row read before the write is served as current"
    )
    assert served_user(member.pk).profile.data_version == stored.data_version
    fourth = browser.post("/today/log/", session_post(), headers=HX)
    assert "HX-Trigger" not in fourth.headers, "a 4th session was saved in an acute flare"
    assert Session.objects.filter(user=member).count() == 3


def test_a_plain_log_makes_its_second_half_in_the_same_round_trip_as_its_plan(monkeypatch):
    """One round trip after the statement, not two: the kept row and the plan together."""
    member, browser = acute_with_two_sessions()
    real = cache.set_many_then_get_many
    calls = []

    def spy(entries, keys, *args, replacements=(), **kwargs):
        calls.append(([key for key, *_ in entries], [step[1] for step in replacements]))
        return real(entries, keys, *args, replacements=replacements, **kwargs)

    monkeypatch.setattr(cache, "set_many_then_get_many", spy)
    replaced = []
    monkeypatch.setattr(cache, "replace_generation", lambda *a, **k: replaced.append(a))
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert replaced == [], "the second half made a round trip of its own"
    last_entries, last_replacements = calls[-1]
    assert last_replacements == [f"profile:{member.pk}"]
    assert any(key.startswith("plan-") for key in last_entries), last_entries
    stored = Profile.objects.get(user=member)
    kept = current_profile(member)
    assert kept is not None and kept.data_version == stored.data_version


def test_a_view_that_fails_after_the_write_still_makes_the_second_half(monkeypatch):
    """The page after the save fails (a bug, a lost connection): the error page is
    answered, and the round trip with the second half is still made, so the row another
    worker read before the write is not left current."""
    member, browser = acute_with_two_sessions()
    browser.raise_request_exception = False

    def broken(*args, **kwargs):
        raise RuntimeError("the fresh plan failed")

    monkeypatch.setattr(tracking.today, "_with_counts", broken)
    wrapper, fired = just_before_the_one_statement(lambda: served_user(member.pk))
    with connection.execute_wrapper(wrapper):
        failed = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired, "the window was never reached"
    assert failed.status_code == 500
    assert Session.objects.filter(user=member).count() == 3  # the 3rd was saved
    assert_no_pre_write_row_and_the_cap_holds(member, browser)


def test_a_script_refused_in_the_last_round_trip_retires_plainly(monkeypatch):
    """Redis refuses the script in the pipeline (an ACL without @scripting answers
    NOPERM): the plan is still written, and the profile is retired plainly."""
    member, browser = acute_with_two_sessions()

    def refused(self, script, numkeys, *keys_and_args):
        # A real error reply from Redis, in the pipeline's results.
        return self.execute_command(
            "EVAL", "return redis.error_reply('NOPERM no permissions to run eval')", 0
        )

    monkeypatch.setattr(redis.client.Pipeline, "eval", refused)
    wrapper, fired = just_before_the_one_statement(lambda: served_user(member.pk))
    with connection.execute_wrapper(wrapper):
        saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired and saved.headers.get("HX-Trigger") == "session-logged"  # the 3rd
    assert_no_pre_write_row_and_the_cap_holds(member, browser)


def test_a_last_round_trip_that_fails_retires_plainly(monkeypatch):
    """The pipeline itself fails (the connection dropped as it was sent): nothing is known
    to have run, so the profile is retired with plain commands, which went through."""
    member, browser = acute_with_two_sessions()
    real = cache.set_many_then_get_many

    def dropped(entries, keys, *args, replacements=(), **kwargs):
        if replacements:
            raise redis.exceptions.ConnectionError("Connection reset by peer")
        return real(entries, keys, *args, replacements=replacements, **kwargs)

    monkeypatch.setattr(cache, "set_many_then_get_many", dropped)
    wrapper, fired = just_before_the_one_statement(lambda: served_user(member.pk))
    generation = None
    with connection.execute_wrapper(wrapper):
        saved = browser.post("/today/log/", session_post(), headers=HX)
        generation = cache.get(f"user-generation:{member.pk}")
    monkeypatch.undo()
    assert fired and saved.headers.get("HX-Trigger") == "session-logged"
    assert generation is not None
    assert current_profile(member) is None or (
        current_profile(member).data_version == Profile.objects.get(user=member).data_version
    )
    assert_no_pre_write_row_and_the_cap_holds(member, browser)


def test_outside_a_request_the_second_half_is_made_at_the_commit(monkeypatch):
    """A write with no request around it (a management command, the shell) has no last
    round trip to wait for: the step is made right after the commit, as before."""
    member = make_user()
    replaced = []
    real = cache.replace_generation

    def spy(*args, **kwargs):
        replaced.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(cache, "replace_generation", spy)
    log_stretch(member)
    monkeypatch.undo()
    assert replaced == [f"profile:{member.pk}"]
    stored = Profile.objects.get(user=member)
    kept = current_profile(member)
    assert kept is not None and kept.data_version == stored.data_version


def test_another_tabs_write_before_the_last_round_trip_is_not_undone():
    """A setting saved in another tab after the log's commit and before its last round
    trip retired the row itself: the log's second half finds another generation and
    keeps nothing; the next request reads the setting."""
    member, browser = acute_with_two_sessions()
    other_tab = Client()
    other_tab.force_login(member)
    real = lib.cache._replace_then

    def with_a_write_first(replacing, pending, keys):
        from accounts.services import save_profile

        profile = Profile.objects.get(user=member)
        profile.desk_work = not profile.desk_work
        save_profile(profile, ["desk_work"])
        return real(replacing, pending, keys)

    lib.cache._replace_then = with_a_write_first
    try:
        saved = browser.post("/today/log/", session_post(), headers=HX)
    finally:
        lib.cache._replace_then = real
    assert saved.headers.get("HX-Trigger") == "session-logged"
    stored = Profile.objects.get(user=member)
    kept = current_profile(member)
    assert kept is None or (
        kept.data_version == stored.data_version and kept.desk_work == stored.desk_work
    )
    assert served_user(member.pk).profile.desk_work == stored.desk_work


def test_nothing_is_kept_under_the_generation_made_for_a_write_in_flight(monkeypatch):
    """A worker reads the profile between the log's retirement and its statement: it is
    served the row from the database and keeps nothing; the log's own step then keeps the
    committed row."""
    member, browser = acute_with_two_sessions()
    kept_meanwhile = []

    def read_in_another_worker():
        served_user(member.pk)
        kept_meanwhile.append(current_profile(member))

    wrapper, fired = just_before_the_one_statement(read_in_another_worker)
    with connection.execute_wrapper(wrapper):
        saved = browser.post("/today/log/", session_post(), headers=HX)
    assert fired and saved.headers.get("HX-Trigger") == "session-logged"
    assert kept_meanwhile == [None], "a row was kept under the generation made for the write"
    stored = Profile.objects.get(user=member)
    kept = current_profile(member)
    assert kept is not None and kept.data_version == stored.data_version
    assert not cache.get(f"user-generation:{member.pk}").startswith(lib.cache.IN_FLIGHT)


def test_a_double_taps_refused_insert_lets_the_row_be_kept_again():
    """The same form twice (the second insert refused by the token's unique constraint):
    the generation made for it is replaced by a plain one, so the next request keeps the
    row again instead of reading the database every time."""
    member = make_user()
    browser = ready_to_log(member)
    form = session_post()
    first = browser.post("/today/log/", form, headers=HX)
    again = browser.post("/today/log/", form, headers=HX)
    assert first.headers.get("HX-Trigger") == "session-logged"
    assert "already saved" in again.content.decode()
    assert Session.objects.filter(user=member).count() == 1
    assert not cache.get(f"user-generation:{member.pk}").startswith(lib.cache.IN_FLIGHT)
    served_user(member.pk)
    kept = current_profile(member)
    assert kept is not None
    assert kept.data_version == Profile.objects.get(user=member).data_version


def test_a_generation_for_a_write_whose_second_half_never_came_expires():
    """The worker killed between the statement and its step: the generation made for the
    write lasts IN_FLIGHT_SECONDS (meanwhile every read goes to the database and is
    right), then the row is kept again."""
    member = make_user()
    lib.cache.retire_before_write("profile", member.pk)
    made = cache.make_and_validate_key(f"user-generation:{member.pk}")
    client = cache._cache.get_client(made, write=True)
    assert 0 < client.ttl(made) <= lib.cache.IN_FLIGHT_SECONDS
    Profile.objects.filter(user=member).update(desk_work=True)  # as a write would
    assert served_user(member.pk).profile.desk_work is True
    assert current_profile(member) is None
    client.delete(made)  # as the expiry does
    assert served_user(member.pk).profile.desk_work is True
    assert current_profile(member) is not None
