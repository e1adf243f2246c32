"""The acute flare's cap of 3 sessions a day (SPEC 1.3) holds for saves made at the same
moment: a review (2026-12-07) found two tabs both passing it, since the form counted the
day's sessions from the plan the request read and nothing counted again at the insert.
Every capped save now locks the person's profile row and counts again in the transaction
that stores it (tracking.services.log_session(daily_cap=...)); the second of two finds
the first and is refused with the form's cap message, on every path that logs: today's
form (htmx and plain), the back-dated form and the offline queue.

PostgreSQL: the other tab runs in its own thread with its own connection, as a second
worker would (tests/tracking/test_kept_row_races.py).
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

import tracking.services
from pwa.owner import offline_owner
from tests.factories import log_stretch, make_user, ready_to_log, session_post
from tests.tracking.test_kept_row_races import in_another_worker
from tracking.models import Session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="two connections at once: PostgreSQL",
    ),
]
HX = {"HX-Request": "true"}
CAP_TEXT = "allows at most 3 sessions"


def acute_with_two():
    member = make_user(phase="acute")
    first_tab = ready_to_log(member)
    log_stretch(member)
    log_stretch(member)  # 2 of the flare's 3
    first_tab.get("/today/")
    return member, first_tab, ready_to_log(member)


def once_before_the_lock(monkeypatch, action):
    """Run ``action`` (another tab's whole request, in another worker) once, after this
    request's form passed and before its save takes the lock."""
    real = tracking.services._lock_profile
    main = threading.get_ident()
    fired = []

    def hooked(user):
        if not fired and threading.get_ident() == main:
            fired.append(True)
            in_another_worker(action)
        return real(user)

    monkeypatch.setattr(tracking.services, "_lock_profile", hooked)
    return fired


def today_post():
    return session_post()


def backdated_post():
    when = timezone.localtime() - timedelta(minutes=20)
    return session_post(performed_at=when.strftime("%Y-%m-%dT%H:%M"))


@pytest.mark.parametrize(
    ("path", "data", "headers"),
    [
        pytest.param("/today/log/", today_post, HX, id="today-htmx"),
        pytest.param("/today/log/", today_post, {}, id="today-plain"),
        pytest.param("/sessions/new/", backdated_post, {}, id="back-dated"),
    ],
)
def test_a_session_saved_in_another_tab_after_the_form_passed_is_counted_again(
    monkeypatch, path, data, headers
):
    member, first_tab, other_tab = acute_with_two()
    answers = []
    fired = once_before_the_lock(
        monkeypatch,
        lambda: answers.append(other_tab.post("/today/log/", session_post(), headers=HX)),
    )
    refused = first_tab.post(path, data(), headers=headers)
    monkeypatch.undo()
    assert fired and answers[0].headers.get("HX-Trigger") == "session-logged"  # the 3rd
    assert Session.objects.filter(user=member).count() == 3, "a 4th session in a flare"
    assert "HX-Trigger" not in refused.headers
    assert CAP_TEXT in refused.content.decode()
    assert refused.status_code in (200, 400)  # htmx answers the form in place


def test_a_queued_session_is_counted_again_too(monkeypatch):
    member, first_tab, other_tab = acute_with_two()
    fired = once_before_the_lock(
        monkeypatch, lambda: other_tab.post("/today/log/", session_post(), headers=HX)
    )
    when = timezone.now() - timedelta(minutes=5)
    refused = first_tab.post(
        "/today/log/queued/",
        session_post(performed_at=when.isoformat(), offline_owner=offline_owner(member)),
    )
    monkeypatch.undo()
    assert fired
    assert refused.status_code == 400
    assert refused.json()["status"] == "invalid" and CAP_TEXT in refused.json()["message"]
    assert Session.objects.filter(user=member).count() == 3


def test_two_saves_at_the_same_moment_wait_for_each_other(monkeypatch):
    """The other tab's save starts while this one holds the lock: it waits, then counts
    this one and is refused."""
    member, first_tab, other_tab = acute_with_two()
    real = tracking.services._lock_profile
    main = threading.get_ident()
    answers, started = [], threading.Event()

    def other():
        started.set()
        answers.append(other_tab.post("/today/log/", session_post(), headers=HX))

    worker = threading.Thread(target=lambda: in_another_worker(other))

    def hooked(user):
        locked = real(user)
        if threading.get_ident() == main and not worker.is_alive() and not answers:
            worker.start()
            assert started.wait(10)
            time.sleep(0.5)  # the other save is now waiting on the row lock
            assert not answers, "the other save did not wait for this one"
        return locked

    monkeypatch.setattr(tracking.services, "_lock_profile", hooked)
    saved = first_tab.post("/today/log/", session_post(), headers=HX)
    worker.join(20)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"  # this one: the 3rd
    assert answers and "HX-Trigger" not in answers[0].headers
    assert CAP_TEXT in answers[0].content.decode()
    assert Session.objects.filter(user=member).count() == 3


def test_the_same_form_sent_twice_at_the_cap_is_already_saved_not_refused():
    """A double tap of the 3rd session: the second finds the first (already saved), it is
    not told that the day is full."""
    member, first_tab, _ = acute_with_two()
    form = session_post()
    first = first_tab.post("/today/log/", form, headers=HX)
    again = first_tab.post("/today/log/", form, headers=HX)
    assert first.headers.get("HX-Trigger") == "session-logged"
    assert Session.objects.filter(user=member).count() == 3
    # The second is refused by the form (its plan already shows 3) or found as saved:
    # never a 4th, and never an error page.
    assert again.status_code == 200
    assert "HX-Trigger" not in again.headers or "already saved" in again.content.decode()


def test_outside_a_flare_nothing_is_locked(monkeypatch):
    """The standard phase has no daily cap: the save stays the one statement it was."""
    member = make_user(phase="standard")
    browser = ready_to_log(member)
    locked = []
    monkeypatch.setattr(tracking.services, "_lock_profile", lambda user: locked.append(user))
    saved = browser.post("/today/log/", session_post(), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert locked == []
