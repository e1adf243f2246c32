"""A review's attacks (kept) on a change that was taken back: the kept profile row's
after-commit step (lib.cache.retire after a log's single statement) left to the log
request's last round trip to the shared cache, to save a round trip per log POST.

With it, the window in which a row another worker read before the statement stays
current ran to the end of the log's request (the fresh plan, the answer's render), not a
few microseconds past the commit; in an acute flare a 4th session logged from another tab
in that window passed the cap of 3 (SPEC 1.3). The step runs at the commit again. Saves
in an acute flare now count the day again under a lock (tests/tracking/
test_acute_cap_race.py) and no longer take the single statement, so what is held here is
the window itself, for everyone else.

PostgreSQL + Redis only: the other worker runs in its own thread with its own connection
(tests/tracking/test_kept_row_races.py).
"""

from __future__ import annotations

import os

import pytest
from django.db import connection

import tracking.today
from accounts.models import Profile
from tests.factories import log_stretch, make_user, ready_to_log, served_user, session_post
from tests.tracking.test_kept_row_cas import just_before_the_one_statement
from tests.tracking.test_kept_row_races import in_another_worker

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
]
HX = {"HX-Request": "true"}


def with_two_sessions():
    member = make_user(phase="standard")  # a plain log is one statement outside a flare
    browser = ready_to_log(member)
    log_stretch(member)
    log_stretch(member)
    browser.get("/today/")
    return member, browser


def test_stale_row_served_between_commit_and_last_round_trip(monkeypatch):
    """Measures the window: a read by another worker after A's commit and before A's
    request ends. Old code: the CAS ran right at the commit."""
    member, browser = with_two_sessions()
    seen, started = [], []
    real = tracking.today._with_counts

    def after_commit_render(*args, **kwargs):
        if not started:
            started.append(True)
            in_another_worker(lambda: seen.append(served_user(member.pk).profile.data_version))
        return real(*args, **kwargs)

    monkeypatch.setattr(tracking.today, "_with_counts", after_commit_render)
    wrapper, fired = just_before_the_one_statement(lambda: served_user(member.pk))
    with connection.execute_wrapper(wrapper):
        browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired
    assert seen == [Profile.objects.get(user=member).data_version], (
        "another worker was served the pre-write row after the commit"
    )
