"""A review's attacks (kept, 2026-12-07): a stop signal tapped in one tab while the same
session is deleted in another. Both failed before this session too.

- The tap waited on the row a delete held, then found the session gone: an error page,
  and the stop signal was not recorded. It is now stamped from the session as the tap's
  request read it, and pauses the programme as any other (SPEC 1.5: a stop signal must
  always be recordable).
- The tap committed just before a delete that had read the session earlier: the undo
  brought the session back without the signal. The delete's snapshot is now the row as
  stored, under its lock.

PostgreSQL: the other tab runs in its own thread with its own connection.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

import tracking.services
import tracking.views
from stretches.models import SafetyEvent
from tests.factories import log_stretch, make_user, ready_to_log
from tests.tracking.test_acute_cap_race import quiet
from tests.tracking.test_kept_row_races import in_another_worker
from tracking.models import Session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="two connections at once: PostgreSQL",
    ),
]


def test_a_tap_on_a_session_deleted_while_it_waited_still_pauses(monkeypatch):
    member = make_user()
    target, _ = log_stretch(member, before=2, after=5)  # a rise: "was it sharp?"
    delete_tab, tap_tab = quiet(ready_to_log(member)), quiet(ready_to_log(member))
    real = tracking.services.correct_session
    main = threading.get_ident()
    taps, workers = [], []

    def hooked(**kwargs):
        if threading.get_ident() == main and not workers:
            # The delete holds the row: the tap reads the session and waits on it.
            worker = threading.Thread(
                target=lambda: in_another_worker(
                    lambda: taps.append(tap_tab.post(f"/sessions/{target.pk}/sharp/"))
                )
            )
            workers.append(worker)
            worker.start()
            time.sleep(1.0)
        return real(**kwargs)

    monkeypatch.setattr(tracking.services, "correct_session", hooked)
    deleted = delete_tab.post(f"/sessions/{target.pk}/delete/")
    workers[0].join(20)
    monkeypatch.undo()
    assert deleted.status_code == 302
    assert taps and taps[0].status_code == 302, taps and taps[0].status_code
    assert not Session.objects.filter(pk=target.pk).exists()
    assert SafetyEvent.objects.filter(
        user=member, kind=SafetyEvent.Kind.STOP_SIGNAL, signals__contains=["sharp_pain"]
    ).exists(), "the stop signal was not recorded"
    page = delete_tab.get("/today/")
    assert page.status_code == 302 and page.url.endswith("/screening/"), "not paused"


def test_a_tap_just_before_a_delete_is_in_what_the_undo_restores(monkeypatch):
    member = make_user()
    target, _ = log_stretch(member, before=2, after=5)
    delete_tab, tap_tab = quiet(ready_to_log(member)), quiet(ready_to_log(member))
    real = tracking.views.delete_session
    taps = []

    def tap_first(*, session):
        if not taps:  # the tap does not delete: no nested call
            in_another_worker(lambda: taps.append(tap_tab.post(f"/sessions/{target.pk}/sharp/")))
        return real(session=session)

    monkeypatch.setattr(tracking.views, "delete_session", tap_first)
    assert delete_tab.post(f"/sessions/{target.pk}/delete/").status_code == 302
    monkeypatch.undo()
    assert taps[0].status_code == 302
    assert delete_tab.post("/sessions/undo/").status_code == 302
    restored = Session.objects.get(pk=target.pk)
    assert "sharp_pain" in restored.stop_signals and restored.has_stop_signal


def test_a_session_deleted_in_another_tab_first_is_not_deleted_twice(monkeypatch):
    member = make_user()
    target, _ = log_stretch(member)
    first_tab, second_tab = quiet(ready_to_log(member)), quiet(ready_to_log(member))
    real = tracking.views.delete_session
    answers, started = [], []

    def other_first(*, session):
        if not started:
            started.append(True)  # the other tab's own delete goes straight through
            in_another_worker(
                lambda: answers.append(first_tab.post(f"/sessions/{target.pk}/delete/"))
            )
        return real(session=session)

    monkeypatch.setattr(tracking.views, "delete_session", other_first)
    second = second_tab.post(f"/sessions/{target.pk}/delete/", follow=True)
    monkeypatch.undo()
    assert answers[0].status_code == 302
    assert second.status_code == 200 and "already deleted" in second.content.decode()
