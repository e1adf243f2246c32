"""The log POST retires the cached profile row in the gate's round trip, not in a round
trip of its own just before its one statement (lib.cache.retire_with_next_read).

What must hold, as when it retired just before the write: no copy of the row from before
the write is current once the write has committed (another worker that read it in
between included); a refused form leaves every version as it was and the next request
still gets the right row; and if the shared cache cannot be reached, the write retires the
row itself or is not made. PostgreSQL + Redis (the one statement and the shared cache);
the other worker runs in its own thread with its own connection.
"""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from django.db import connection

import lib.cache
import tracking.today
from accounts.models import Profile
from tests.factories import make_user, ready_to_log, served_user, session_post
from tests.tracking.test_kept_row_races import in_another_worker
from tracking.models import Session
from tracking.services import is_one_statement

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").split(":")[0] not in ("postgres", "postgresql"),
        reason="the one statement is PostgreSQL's",
    ),
]
HX = {"HX-Request": "true"}


def generation(member) -> str | None:
    return cache.get(f"user-generation:{member.pk}")


def test_the_log_post_retires_the_row_in_the_gates_round_trip(monkeypatch):
    """No round trip of its own between the gate's read and the statement: by the gate's
    answer the row is retired, and the statement finds it so."""
    member = make_user()
    browser = ready_to_log(member)
    browser.get("/healthz")  # the row cached under the current generation
    kept = generation(member)
    assert cache.get(f"profile:{member.pk}") is not None
    own_trips, seen = [], {}
    real = cache.set_and_delete
    monkeypatch.setattr(
        cache, "set_and_delete", lambda *a, **k: own_trips.append(a) or real(*a, **k)
    )
    real_form = tracking.today._form

    def after_the_gate(request, plan, data=None):
        if data is not None and "gate" not in seen:
            seen["gate"] = (generation(member), cache.get(f"profile:{member.pk}"))
        return real_form(request, plan, data)

    monkeypatch.setattr(tracking.today, "_form", after_the_gate)

    def at_the_write(execute, sql, params, many, context):
        if is_one_statement(sql) and not sql.startswith("PREPARE"):
            seen["write"] = (generation(member), cache.get(f"profile:{member.pk}"))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(at_the_write):
        saved = browser.post("/today/log/", session_post(), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert seen["gate"][0] != kept and seen["gate"][1] is None
    assert seen["write"] == seen["gate"]  # nothing more before the statement
    assert own_trips == []
    # The committed row kept for the next request, as before.
    assert (
        served_user(member.pk).profile.data_version == Profile.objects.get(user=member).data_version
    )


def test_a_row_read_between_the_gate_and_the_write_is_not_served_after_it(monkeypatch):
    """Another worker reads the person's row after the gate's retirement and before the
    statement (the row before the write, current then) and keeps it: once the log has
    answered, every worker is served the committed row."""
    member = make_user()
    browser = ready_to_log(member)
    read_between = []
    real_form = tracking.today._form

    def other_worker_reads(request, plan, data=None):
        if data is not None and not read_between:
            in_another_worker(lambda: read_between.append(served_user(member.pk)))
            # Its copy is written with its next round trip: here, at once.
            in_another_worker(lib.cache.write_pending)
        return real_form(request, plan, data)

    monkeypatch.setattr(tracking.today, "_form", other_worker_reads)
    before = Profile.objects.get(user=member).data_version
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert read_between and read_between[0].profile.data_version == before
    committed = Profile.objects.get(user=member).data_version
    assert committed == before + 1
    seen = []
    in_another_worker(lambda: seen.append(served_user(member.pk).profile.data_version))
    assert seen == [committed]


def test_a_refused_form_changes_nothing_and_the_next_page_is_right():
    member = make_user()
    browser = ready_to_log(member)
    browser.get("/healthz")
    before = Profile.objects.get(user=member)
    refused = browser.post("/today/log/", {**session_post(), "pain_after": "11"}, headers=HX)
    assert refused.status_code == 200 and "HX-Trigger" not in refused.headers
    assert b"Pain must be a whole number from 0 to 10." in refused.content
    assert not Session.objects.filter(user=member).exists()
    after = Profile.objects.get(user=member)
    assert (after.data_version, after.history_version) == (
        before.data_version,
        before.history_version,
    )
    # Retired for nothing: the next request reads the row again, the same row.
    assert served_user(member.pk).profile.data_version == before.data_version
    saved = browser.post("/today/log/", session_post(), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert served_user(member.pk).profile.data_version == before.data_version + 1


def test_when_the_gates_round_trip_fails_the_write_retires_the_row_itself(monkeypatch):
    """The gate's read fails (logged; the page goes on reading one by one): the
    retirement was not made, so the write makes it in its own round trip first."""
    member = make_user()
    browser = ready_to_log(member)
    browser.get("/healthz")
    kept = generation(member)
    real = cache.set_many_then_get_many
    failed, own_trips, seen = [], [], {}

    def first_fails(entries, keys, *args, **kwargs):
        if not failed:
            failed.append(keys)
            raise ConnectionError("redis blinked")
        return real(entries, keys, *args, **kwargs)

    real_retire = cache.set_and_delete
    monkeypatch.setattr(cache, "set_many_then_get_many", first_fails)
    monkeypatch.setattr(
        cache, "set_and_delete", lambda *a, **k: own_trips.append(a) or real_retire(*a, **k)
    )

    def at_the_write(execute, sql, params, many, context):
        if is_one_statement(sql) and not sql.startswith("PREPARE"):
            seen["write"] = (generation(member), cache.get(f"profile:{member.pk}"))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(at_the_write):
        saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert failed and any("safety-" in key for key in failed[0])
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert len(own_trips) == 1
    assert seen["write"][0] != kept and seen["write"][1] is None
    assert (
        served_user(member.pk).profile.data_version == Profile.objects.get(user=member).data_version
    )
