"""A log in one statement is counted in flight per person (lib.cache.retire_before_write)
from just before its statement until its second half, which rides the request's last
round trip to the shared cache (lib.cache.retire): while any write is counted, every
worker reads the person's profile row from the database and keeps nothing, so no worker
can keep, or be served, the row from before the write.

PostgreSQL + Redis only: the other worker runs in its own thread with its own connection
(tests/tracking/test_kept_row_races.py).
"""

from __future__ import annotations

import os

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

import lib.cache
import tracking.today
from accounts.models import Profile
from tests.factories import make_user, ready_to_log, served_user, session_post
from tests.tracking.test_kept_row_cas import raw
from tests.tracking.test_kept_row_races import in_another_worker
from tracking.models import Session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
]
HX = {"HX-Request": "true"}


def writes_counted(user) -> int:
    client, key = raw(lib.cache._writes_key("profile", user.pk))
    value = client.get(key)
    return 0 if value is None else int(value)


def profile_entry(user):
    return cache.get(f"profile:{user.pk}")


def read_elsewhere(user) -> dict:
    """Another worker reads the person: what it was served and how many queries it took."""
    seen = {}

    def read():
        with CaptureQueriesContext(connection) as queries:
            seen["version"] = served_user(user.pk).profile.data_version
        lib.cache.write_pending()  # what that worker would keep, as its request ends
        seen["queries"] = len(queries)

    in_another_worker(read)
    return seen


def during_the_answer(monkeypatch, action) -> list:
    """Run ``action`` once while the log's answer is rendered: after the commit, before
    the request's last round trip."""
    real = tracking.today._with_counts
    done = []

    def render(*args, **kwargs):
        if not done:
            done.append(action())
        return real(*args, **kwargs)

    monkeypatch.setattr(tracking.today, "_with_counts", render)
    return done


def test_while_a_log_is_in_flight_other_workers_read_the_row_and_keep_nothing(monkeypatch):
    member = make_user(phase="standard")
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    seen = during_the_answer(
        monkeypatch, lambda: (writes_counted(member), read_elsewhere(member), profile_entry(member))
    )
    saved = browser.post("/today/log/", session_post(), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    ((counted, elsewhere, entry),) = seen
    assert counted == 1
    committed = Profile.objects.get(user=member).data_version
    assert elsewhere["version"] == committed  # the row after the commit, from the database
    assert elsewhere["queries"] >= 1
    assert entry is None  # nothing kept meanwhile
    # Then the second half: the count given back, the committed row kept for the next
    # request (no query).
    assert writes_counted(member) == 0
    with CaptureQueriesContext(connection) as queries:
        assert served_user(member.pk).profile.data_version == committed
    assert len(queries) == 0


def test_a_double_taps_refused_insert_gives_the_count_back():
    member = make_user(phase="standard")
    browser = ready_to_log(member)
    post = session_post()
    browser.post("/today/log/", post, headers=HX)
    again = browser.post("/today/log/", post, headers=HX)
    assert "already saved" in again.content.decode()
    assert Session.objects.filter(user=member).count() == 1
    assert writes_counted(member) == 0
    with CaptureQueriesContext(connection) as queries:
        served_user(member.pk)
    served_user(member.pk)  # kept again after one read
    with CaptureQueriesContext(connection) as again_queries:
        served_user(member.pk)
    assert len(queries) >= 1 and len(again_queries) == 0


def test_an_error_after_the_statement_still_makes_the_second_half(monkeypatch):
    member = make_user(phase="standard")
    browser = ready_to_log(member)
    browser.raise_request_exception = False

    def broken(*args, **kwargs):
        raise RuntimeError("the answer could not be drawn")

    monkeypatch.setattr(tracking.today, "_with_counts", broken)
    failed = browser.post("/today/log/", session_post(), headers=HX)
    assert failed.status_code == 500
    assert Session.objects.filter(user=member).count() == 1
    assert writes_counted(member) == 0
    assert served_user(member.pk).profile.data_version == (
        Profile.objects.get(user=member).data_version
    )


def test_one_write_ending_leaves_another_still_counted():
    member = make_user(phase="standard")
    first = lib.cache.retire_before_write("profile", member.pk)
    second = lib.cache.retire_before_write("profile", member.pk)
    assert writes_counted(member) == 2
    lib.cache.write_abandoned("profile", member.pk, first)
    assert writes_counted(member) == 1
    with CaptureQueriesContext(connection) as queries:
        served_user(member.pk)
    lib.cache.write_pending()
    with CaptureQueriesContext(connection) as again:
        served_user(member.pk)
    assert len(queries) >= 1 and len(again) >= 1  # read each time, never kept
    lib.cache.write_abandoned("profile", member.pk, second)
    assert writes_counted(member) == 0


def test_a_count_never_goes_below_zero_and_a_lost_one_expires():
    member = make_user(phase="standard")
    made = lib.cache.retire_before_write("profile", member.pk)
    lib.cache.write_abandoned("profile", member.pk, made)
    lib.cache.write_abandoned("profile", member.pk, made)  # given back twice
    assert writes_counted(member) == 0
    lib.cache.retire_before_write("profile", member.pk)  # a worker killed after this
    assert writes_counted(member) == 1
    client, key = raw(lib.cache._writes_key("profile", member.pk))
    assert 0 < client.ttl(key) <= lib.cache.WRITES_SECONDS
