"""A plain session (nothing to stamp) goes to PostgreSQL as one statement: the insert and
the version bump together, outside any transaction (tracking.services); and the profile
row that statement hands back is kept for the person's next request (lib.cache).

Transactional on purpose: inside a test's own transaction the one-statement path is not
taken (it joins no caller's transaction), and these tests must reach it. On SQLite the
same behaviour is asked of the transaction path.
"""

from __future__ import annotations

import os
import uuid

import pytest
from django.core.cache import cache
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

import lib.cache
import tracking.plan
import tracking.today
from accounts.models import Profile
from accounts.services import save_profile
from stretches.models import SafetyEvent
from tests.factories import (
    log_stretch,
    make_user,
    ready_to_log,
    served_user,
    session_post,
    spy_cache_reads,
)
from tracking.models import Session
from tracking.services import is_one_statement

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clear_of_midnight"),  # a plain session, not the day's last minutes
]

needs_redis = pytest.mark.skipif(
    not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)"
)
HX = {"HX-Request": "true"}


def versions(user) -> tuple[int, int]:
    row = Profile.objects.get(user=user)
    return row.data_version, row.history_version


def test_a_plain_session_is_stored_whole_and_moves_only_the_data_version():
    member = make_user()
    before = versions(member)
    with CaptureQueriesContext(connection) as queries:
        session, created = log_stretch(member, before=4, after=3, token=uuid.UUID(int=7))
    assert created
    stored = Session.objects.get(pk=session.pk)
    assert (stored.user_id, stored.client_token) == (member.pk, uuid.UUID(int=7))
    assert (stored.pain_before, stored.pain_after, stored.hold_seconds) == (4, 3, 15)
    assert stored.created_at is not None and stored.updated_at is not None
    assert stored.stop_signals == [] and not stored.has_stop_signal
    # Today's sessions only: the history (and what is cached under it) stays.
    assert versions(member) == (before[0] + 1, before[1])
    if connection.vendor == "postgresql":
        # No BEGIN, no separate bump, no COMMIT: one statement (beside the stretch the
        # helper looks up), prepared on the connection's first log.
        statements = [q["sql"] for q in queries.captured_queries]
        writes = [sql for sql in statements if not sql.startswith(("SELECT", "PREPARE"))]
        assert len(writes) == 1 and writes[0].startswith("EXECUTE easeback_log_"), writes
        assert all(is_one_statement(sql) for sql in writes)


def test_a_session_with_a_pain_rise_is_stamped_and_moves_the_history():
    member = make_user()
    before = versions(member)
    session, _ = log_stretch(member, before=2, after=5)
    assert SafetyEvent.objects.filter(session_ref=session.pk, kind="pain_rise").exists()
    assert versions(member) == (before[0] + 1, before[1] + 1)


def test_the_same_form_twice_stores_one_session_and_moves_the_versions_once():
    member = make_user()
    before = versions(member)
    token = uuid.uuid4()
    first, created = log_stretch(member, token=token)
    again, created_again = log_stretch(member, token=token)
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Session.objects.filter(user=member).count() == 1
    assert versions(member) == (before[0] + 1, before[1])


def test_a_row_the_database_refuses_stores_nothing_and_moves_nothing():
    member = make_user()
    before = versions(member)
    with pytest.raises(IntegrityError):
        log_stretch(member, before=4, after=11)  # past the form: the check constraint
    assert not Session.objects.filter(user=member).exists()
    assert versions(member) == before


@needs_redis
def test_when_the_shared_cache_cannot_be_reached_nothing_is_written(monkeypatch):
    """The cached profile is retired before the write: if that fails, the write must not
    happen (else every worker would go on serving the versions from before it)."""
    member = make_user()
    before = versions(member)

    def unreachable(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "set_and_delete", unreachable)
    with pytest.raises(ConnectionError):
        log_stretch(member)
    assert not Session.objects.filter(user=member).exists()
    assert versions(member) == before


@needs_redis
def test_the_next_request_is_served_the_row_as_committed_without_reading_it():
    member = make_user()
    browser = ready_to_log(member)
    saved = browser.post("/today/log/", session_post(pain_before="4", pain_after="3"), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    stored = Profile.objects.get(user=member)
    with CaptureQueriesContext(connection) as queries:
        served = served_user(member.pk)
    assert not [q for q in queries.captured_queries if "accounts_profile" in q["sql"]]
    assert (served.profile.data_version, served.profile.history_version) == (
        stored.data_version,
        stored.history_version,
    )
    page = browser.get("/today/")
    assert b"Done today: <span data-done-count>1</span>" in page.content


@needs_redis
def test_a_setting_saved_in_another_tab_after_the_log_is_what_the_next_request_sees():
    """The row kept after a log is retired by the next write to the profile."""
    member = make_user(phase="standard")
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    profile = Profile.objects.get(user=member)
    profile.phase = "acute"
    save_profile(profile, ["phase"])
    assert served_user(member.pk).profile.phase == "acute"
    assert b"3 sessions for the flare" in browser.get("/today/").content or (
        b"at most 3 short sessions a day" in browser.get("/today/").content
    )


@needs_redis
def test_a_setting_changed_before_the_write_lands_is_kept_not_the_one_read(monkeypatch):
    """Another tab changes the phase after this POST read the profile and before its
    write, by a path that does not move the data version (a bare update): the row the
    write commits holds the new phase, and that is what the POST's fresh plan and the
    next request are made from, never the phase this request read first (an acute flare
    would lose its daily cap)."""
    member = make_user(phase="standard")
    browser = ready_to_log(member)
    real = tracking.today.log_session

    def other_tab_first(**kwargs):
        Profile.objects.filter(user=member).update(phase="acute")
        return real(**kwargs)

    monkeypatch.setattr(tracking.today, "log_session", other_tab_first)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert served_user(member.pk).profile.phase == "acute"
    if connection.vendor == "postgresql":
        # The fresh plan of the answer is made from the committed row: the flare's plan.
        assert b"1 of 3 done today, all stretches" in saved.content
    for _ in range(2):
        browser.post("/today/log/", session_post(), headers=HX)
    fourth = browser.post("/today/log/", session_post(), headers=HX)
    assert "HX-Trigger" not in fourth.headers, "a fourth session was saved in a flare"
    assert Session.objects.filter(user=member).count() == 3


@needs_redis
def test_the_log_post_retires_the_cached_profile_before_its_write():
    """By the time the one statement writes the session, no copy of the profile from
    before it is current in the shared cache."""
    member = make_user()
    browser = ready_to_log(member)
    browser.get("/healthz")  # the profile row cached under the current generation
    cached = cache.get_many([f"user-generation:{member.pk}", f"profile:{member.pk}"])
    assert cached.get(f"profile:{member.pk}") is not None
    seen = {}

    def at_the_write(execute, sql, params, many, context):
        if is_one_statement(sql) and not sql.startswith("PREPARE"):
            seen["generation"] = cache.get(f"user-generation:{member.pk}")
            seen["profile"] = cache.get(f"profile:{member.pk}")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(at_the_write):
        saved = browser.post("/today/log/", session_post(), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    if connection.vendor == "postgresql":
        assert seen["generation"] != cached[f"user-generation:{member.pk}"]
        assert seen["profile"] is None


@needs_redis
def test_when_the_shared_cache_fails_before_a_log_post_nothing_is_written(monkeypatch):
    """The same through the page: the round trip that would retire the profile early
    fails (it is logged and the page goes on), so the write retires it itself, and that
    fails too: the session is not stored."""
    member = make_user()
    browser = ready_to_log(member)
    before = versions(member)

    def unreachable(*args, **kwargs):
        raise ConnectionError("redis is down")

    for name in ("set_many_then_get_many", "set_and_delete", "get_many", "get_many_and_raw"):
        monkeypatch.setattr(cache, name, unreachable)
    with pytest.raises(ConnectionError):
        browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert not Session.objects.filter(user=member).exists()
    assert versions(member) == before


@needs_redis
def test_the_log_post_reads_its_plan_in_the_gates_round_trip(monkeypatch):
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)  # the catalogue seen
    # The POST before ran in another worker: nothing kept, nothing expected here.
    monkeypatch.setattr(tracking.plan, "_PLANS_KEPT", {})
    monkeypatch.setattr(lib.cache, "_EXPECTED", {})
    reads = spy_cache_reads(monkeypatch)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    plan_reads = [i for i, (_, keys) in enumerate(reads) if any("plan-v" in k for k in keys)]
    gate = next(i for i, (_, keys) in enumerate(reads) if any("safety-" in k for k in keys))
    assert plan_reads == [gate], reads


@needs_redis
def test_in_the_worker_that_saw_the_person_the_gates_reads_come_with_the_user(monkeypatch):
    """The safety record and catalogue the last POST's gate read are read with the user
    (lib.cache.expect_keys), and the plan, not kept in this worker, in the one round trip
    after it: no more round trips before the write than in a worker that never saw them."""
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.setattr(tracking.plan, "_PLANS_KEPT", {})
    reads = spy_cache_reads(monkeypatch)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    with_user = next(i for i, (_, ks) in enumerate(reads) if f"profile:{member.pk}" in ks)
    assert any("safety-" in k for k in reads[with_user][1]), reads
    plan_reads = [i for i, (_, keys) in enumerate(reads) if any("plan-v" in k for k in keys)]
    assert plan_reads == [with_user + 1], reads
    assert not any("safety-" in k for _, keys in reads[with_user + 1 :] for k in keys), reads


@needs_redis
def test_a_wrong_guess_of_the_plans_keys_still_gives_the_right_plan(monkeypatch):
    """The gate names the plan's keys from the catalogue this process saw last; after an
    admin's edit that guess is wrong, and the view reads the right plan itself."""
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.setattr(tracking.plan, "_SEEN_FINGERPRINT", ["not-the-catalogue"])
    saved = browser.post("/today/log/", session_post(), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert b"Done today: <span data-done-count>2</span>" in saved.content


# --- The statement prepared once per connection (tracking.services.execute_prepared) -----

needs_postgresql = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
    reason="PostgreSQL's PREPARE",
)


def sent_writes(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")]


@needs_postgresql
def test_the_statement_is_prepared_once_per_connection_and_then_executed_by_name():
    member = make_user()
    connection.close()  # a new connection: nothing prepared on it yet
    with CaptureQueriesContext(connection) as first:
        log_stretch(member)
    with CaptureQueriesContext(connection) as second:
        log_stretch(member)
        log_stretch(member)
    prepares = [sql for sql in sent_writes(first) if sql.startswith("PREPARE")]
    assert len(prepares) == 1 and is_one_statement(prepares[0])
    assert [sql.split("(")[0] for sql in sent_writes(second)] == [
        prepares[0].split()[1].join(["EXECUTE ", ""])
    ] * 2
    assert Session.objects.filter(user=member).count() == 3


@needs_postgresql
def test_a_new_connection_prepares_it_again():
    member = make_user()
    log_stretch(member)
    connection.close()  # the database forgets what the old connection prepared
    with CaptureQueriesContext(connection) as queries:
        log_stretch(member)
    assert [sql for sql in sent_writes(queries) if sql.startswith("PREPARE")]
    assert Session.objects.filter(user=member).count() == 2


@needs_postgresql
def test_a_statement_deallocated_behind_its_back_is_prepared_again_and_stored_once():
    """DEALLOCATE ALL (what a pooler's reset or DISCARD ALL does): the next log finds its
    statement gone, prepares it again and stores the session once."""
    member = make_user()
    before = versions(member)
    log_stretch(member)
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with CaptureQueriesContext(connection) as queries:
        session, created = log_stretch(member)
    assert created
    assert [sql.split()[0] for sql in sent_writes(queries)] == ["EXECUTE", "PREPARE", "EXECUTE"]
    assert Session.objects.filter(user=member).count() == 2
    assert versions(member) == (before[0] + 2, before[1])


@needs_postgresql
def test_a_statement_already_prepared_on_the_connection_is_used():
    """The connection holds the statement but this process lost its note of it: the
    PREPARE is refused as a duplicate and the EXECUTE goes ahead."""
    from tracking.services import PREPARED

    member = make_user()
    log_stretch(member)
    getattr(connection.connection, PREPARED).clear()
    session, created = log_stretch(member)
    assert created and Session.objects.filter(user=member).count() == 2


@needs_postgresql
def test_the_database_refusing_the_row_through_the_prepared_statement_stores_nothing():
    member = make_user()
    log_stretch(member)  # prepared
    before = versions(member)
    with pytest.raises(IntegrityError):
        log_stretch(member, before=4, after=11)
    assert Session.objects.filter(user=member).count() == 1
    assert versions(member) == before


def test_placeholders_are_numbered_for_prepare_and_a_stray_one_is_refused():
    from tracking.services import _numbered

    assert _numbered("SELECT %s, %s WHERE x = %s", 3) == "SELECT $1, $2 WHERE x = $3"
    with pytest.raises(RuntimeError):
        _numbered("SELECT %s, %s", 3)
    with pytest.raises(RuntimeError):
        _numbered("SELECT '100%%', %s", 1)
