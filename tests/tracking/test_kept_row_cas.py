"""A second review's attacks (kept) on the kept profile row: kept only while the
generation is still the one the write itself made before its commit
(lib.redis_cache.replace_generation, one Lua step). It found one hole, fixed: when Redis
refused the script but took plain commands, nothing retired the profile after the commit
(``test_a_script_redis_refuses_leaves_no_retirement_after_the_commit`` failed); the plain
retirement is now made then.

PostgreSQL + Redis only. The other worker runs in its own thread (own connection), as in
tests/tracking/test_kept_row_races.py.
"""

from __future__ import annotations

import os

import pytest
import redis
from django.core.cache import cache
from django.db import connection, transaction

import lib.cache
from accounts.models import Profile
from accounts.services import save_profile
from tests.factories import log_stretch, make_user, ready_to_log, served_user, session_post
from tests.tracking.test_kept_row_races import (
    current_profile,
    in_another_worker,
)
from tracking.services import is_one_statement

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
]
HX = {"HX-Request": "true"}


def raw(key):
    """The raw client and the made key, for TTL checks."""
    made = cache.make_and_validate_key(key)
    return cache._cache.get_client(made, write=True), made


def just_before_the_one_statement(action):
    """An execute wrapper running ``action`` (in another worker) once, after the log's
    retire_before_write and before its one statement."""
    fired = []

    def wrapper(execute, sql, params, many, context):
        if not fired and is_one_statement(sql) and not sql.startswith("PREPARE"):
            fired.append(True)
            in_another_worker(action)
        return execute(sql, params, many, context)

    return wrapper, fired


# --- Finding ---------------------------------------------------------------------------


def test_a_script_redis_refuses_leaves_no_retirement_after_the_commit(monkeypatch):
    """Redis refuses the script but not plain commands (an ACL without @scripting, a
    proxy without EVALSHA: "NOPERM"). Before 64b3d94 the after-commit retirement was a
    plain SET + DEL (``_new_generation(quiet=True)``) and would have gone through; now the
    Lua step raises, is logged, and *no* retirement follows (no fallback). A worker that
    read the profile between the log's retirement before its write and the write keeps
    the pre-write row under the generation that is still current: the versions (and with
    them the plan and, in a flare, its cap) from before the write, for USER_CACHE_SECONDS.
    (A save in an acute flare no longer takes the single statement: it counts the day
    again under a lock, tests/tracking/test_acute_cap_race.py.)"""
    member = make_user(phase="standard")
    browser = ready_to_log(member)
    log_stretch(member)
    log_stretch(member)  # 2 of the flare's 3
    browser.get("/today/")
    client = cache._cache.get_client(None, write=True)

    def refused(self, *args, **kwargs):
        raise redis.exceptions.NoPermissionError(
            "this user has no permissions to run the 'evalsha' command"
        )

    monkeypatch.setattr(type(client), "evalsha", refused)
    wrapper, fired = just_before_the_one_statement(lambda: served_user(member.pk))
    with connection.execute_wrapper(wrapper):
        saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired, "the window was never reached"
    assert saved.headers.get("HX-Trigger") == "session-logged"  # the 3rd
    stored = Profile.objects.get(user=member)
    kept = current_profile(member)
    assert kept is None or kept.data_version == stored.data_version, (
        "the Lua step failed and no retirement followed: the row from before the write is current"
    )
    assert served_user(member.pk).profile.data_version == stored.data_version


# --- Held attacks ------------------------------------------------------------------------


def test_the_script_cache_flushed_before_the_after_commit_step_still_keeps_the_row(monkeypatch):
    """NOSCRIPT (SCRIPT FLUSH, a Redis restart): redis-py loads the script again; the
    pickled tokens compare equal, the committed row is kept, under a fresh generation,
    with USER_CACHE_SECONDS, the generation itself without expiry."""
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)  # the script is loaded once
    client, _ = raw("x")
    real = cache.replace_generation

    def flushed_first(*args, **kwargs):
        client.script_flush()
        return real(*args, **kwargs)

    monkeypatch.setattr(cache, "replace_generation", flushed_first)
    before = cache.get(f"user-generation:{member.pk}")
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    stored = Profile.objects.get(user=member)
    kept = current_profile(member)
    assert kept is not None, "the committed row was not kept (the tokens did not match?)"
    assert kept.data_version == stored.data_version
    assert cache.get(f"user-generation:{member.pk}") != before
    client, made = raw(f"profile:{member.pk}")
    assert 0 < client.ttl(made) <= lib.cache.USER_CACHE_SECONDS
    client, made = raw(f"user-generation:{member.pk}")
    assert client.ttl(made) == -1


def test_a_stop_signal_between_the_logs_retirement_and_its_statement_pauses(monkeypatch):
    """The other tab's "sharp or shooting" commits (retirement, commit, its own kept row)
    after the log's retire_before_write and before the log's statement: the log's Lua
    finds another generation, keeps nothing; the next page is the screening."""
    member = make_user()
    browser = ready_to_log(member)
    earlier, _ = log_stretch(member, before=2, after=5)
    from django.test import Client

    other_tab = Client()
    other_tab.force_login(member)

    def sharp():
        assert other_tab.post(f"/sessions/{earlier.pk}/sharp/").status_code == 302

    wrapper, fired = just_before_the_one_statement(sharp)
    with connection.execute_wrapper(wrapper):
        saved = browser.post("/today/log/", session_post(), headers=HX)
    assert fired and saved.status_code == 200
    kept = current_profile(member)
    stored = Profile.objects.get(user=member)
    assert kept is None or kept.data_version == stored.data_version
    page = browser.get("/today/")
    assert page.status_code == 302 and page.url.endswith("/screening/")


@pytest.mark.parametrize("inner_commits", [False, True], ids=["inner-rolled-back", "inner-kept"])
def test_savepoints_never_keep_a_rolled_back_or_superseded_row(inner_commits):
    """data_changed in the outer block, then a phase change (save_profile, which calls
    data_changed again) in a savepoint that is rolled back or released: after the commit
    the current cached row (if any) is the database's, never the rolled-back flare and
    never the outer block's row from before the flare."""
    member = make_user(phase="standard")
    served_user(member.pk)

    class Undo(Exception):
        pass

    with transaction.atomic():
        lib.cache.data_changed(member)
        try:
            with transaction.atomic():
                other = Profile.objects.select_related("user").get(user=member)
                other.phase = "acute"
                save_profile(other, ["phase"])
                if not inner_commits:
                    raise Undo
        except Undo:
            pass
    stored = Profile.objects.get(user=member)
    assert stored.phase == ("acute" if inner_commits else "standard")
    kept = current_profile(member)
    assert kept is None or (kept.phase == stored.phase and kept.data_version == stored.data_version)
    served = served_user(member.pk)
    assert served.profile.phase == stored.phase
    assert served.profile.data_version == stored.data_version


def test_data_changed_twice_in_one_transaction_keeps_nothing_stale():
    member = make_user()
    with transaction.atomic():
        lib.cache.data_changed(member)
        lib.cache.data_changed(member)
    stored = Profile.objects.get(user=member)
    kept = current_profile(member)
    assert kept is None or kept.data_version == stored.data_version


def test_a_rolled_back_write_never_writes_its_row():
    member = make_user(phase="standard")
    served_user(member.pk)
    generation = cache.get(f"user-generation:{member.pk}")
    with pytest.raises(RuntimeError), transaction.atomic():
        other = Profile.objects.select_related("user").get(user=member)
        other.phase = "acute"
        save_profile(other, ["phase"])
        raise RuntimeError
    assert cache.get(f"user-generation:{member.pk}") != generation
    assert cache.get(f"profile:{member.pk}") is None
    assert served_user(member.pk).profile.phase == "standard"


def test_a_reader_between_the_transactions_retirement_and_its_commit(monkeypatch):
    """Transaction path (a stop signal): another worker reads the profile after the
    retirement inside the transaction, before its commit, keeping the pre-write row
    under the write's own generation. The Lua step (generation unchanged) replaces it."""
    from stretches.models import StopSignal
    from tracking.services import add_stop_signal

    member = make_user()
    earlier, _ = log_stretch(member, before=2, after=5)
    real = lib.cache.records_changed

    def then_a_reader(user_id, **kwargs):
        real(user_id, **kwargs)
        in_another_worker(lambda: served_user(member.pk))

    monkeypatch.setattr(lib.cache, "records_changed", then_a_reader)
    add_stop_signal(session=earlier, signal=StopSignal.SHARP_PAIN)
    monkeypatch.undo()
    stored = Profile.objects.get(user=member)
    kept = current_profile(member)
    assert kept is not None and kept.data_version == stored.data_version
    assert served_user(member.pk).profile.history_version == stored.history_version


def test_a_one_statement_log_retired_before_and_committed_between_a_commit_and_its_lua(
    monkeypatch,
):
    """B (a plain log in another worker, one statement) retires before A's transaction
    locks the row, blocks on A's lock, and commits between A's commit and A's Lua step.
    A's Lua still finds its own generation and keeps A's row, which lacks B's session
    (served only until B's own after-step: the window the design accepts). B's after-step
    then finds another generation: nothing stale is left."""
    import threading
    import time

    from django.test import Client

    import tracking.services

    member = make_user(phase="standard")  # B's plain log is one statement outside a flare
    log_stretch(member)
    tab_b = Client()
    tab_b.force_login(member)
    tab_b.get("/today/")
    tab_b.post("/today/lasting-pain/", {"lasting": "no"})
    main = threading.get_ident()
    b_retired, go, b_committed, b_after = (threading.Event() for _ in range(4))
    seen = {}
    real_retire = tracking.services.retire_before_write
    real_moved = tracking.services.versions_moved
    real_replace = cache.replace_generation

    def retire(kind, ident):
        made = real_retire(kind, ident)
        if threading.get_ident() != main:
            b_retired.set()
            assert go.wait(10)
        return made

    def moved(user, row, **kwargs):
        if threading.get_ident() != main:
            b_committed.set()
            assert b_after.wait(10)
        return real_moved(user, row, **kwargs)

    def replace(generation_key, value_key, *args, **kwargs):
        if threading.get_ident() == main:
            assert b_committed.wait(10)
            written = real_replace(generation_key, value_key, *args, **kwargs)
            seen["a_kept"] = written
            seen["between"] = current_profile(member)
            b_after.set()
            return written
        return real_replace(generation_key, value_key, *args, **kwargs)

    monkeypatch.setattr(tracking.services, "retire_before_write", retire)
    monkeypatch.setattr(tracking.services, "versions_moved", moved)
    monkeypatch.setattr(cache, "replace_generation", replace)
    answers = []
    worker = threading.Thread(
        target=lambda: in_another_worker(
            lambda: answers.append(tab_b.post("/today/log/", session_post(), headers=HX))
        )
    )
    worker.start()
    assert b_retired.wait(10)
    with transaction.atomic():
        lib.cache.data_changed(member)
        go.set()
        time.sleep(0.5)  # B's statement waits on the row lock
    worker.join(20)
    monkeypatch.undo()
    assert answers and answers[0].headers.get("HX-Trigger") == "session-logged"
    stored = Profile.objects.get(user=member)
    kept = current_profile(member)
    assert kept is None or kept.data_version == stored.data_version
    assert served_user(member.pk).profile.data_version == stored.data_version
    # The accepted window, shown: between A's Lua and B's after-step, A's row was current.
    assert seen["a_kept"], "the interleaving was not reached"
    assert seen["between"].data_version == stored.data_version - 1


def test_a_profile_that_does_not_exist_keeps_nothing():
    member = make_user()
    Profile.objects.filter(user=member).delete()
    before = cache.get(f"user-generation:{member.pk}")
    with transaction.atomic():
        lib.cache.data_changed(member)
    assert cache.get(f"user-generation:{member.pk}") != before
    assert cache.get(f"profile:{member.pk}") is None
