"""The plans a worker keeps by their shared cache key (``tracking.plan._PLANS_KEPT``).

The next log POST of the same person in the same worker takes the plan the POST before
made from the process instead of reading and unpickling it. The key names the data
version, so a write anywhere else (another worker, another tab, the admin) leads the
next request to another key; the gate reads the safety record from the shared cache
before any plan is used. These tests write "elsewhere" through the services, as another
worker would, with this process's kept plans left as they are.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

import tracking.plan
from accounts.models import Profile
from stretches.models import StopSignal
from tests.factories import make_session, make_user, ready_to_log, session_post, spy_cache_reads
from tracking.models import Session
from tracking.plan import build_plan
from tracking.services import add_stop_signal, delete_session

pytestmark = pytest.mark.django_db(transaction=True)

HX = {"HX-Request": "true"}


def done_count(response) -> int:
    """The count "Done today" shows."""
    return int(re.search(r"<span data-done-count>(\d+)</span>", response.content.decode())[1])


def test_the_next_log_post_in_the_same_worker_reads_no_plan_and_counts_right(monkeypatch):
    member = make_user()
    browser = ready_to_log(member)
    first = browser.post("/today/log/", session_post(), headers=HX)
    assert done_count(first) == 1
    assert tracking.plan._PLANS_KEPT  # the plan after the save, kept
    reads = spy_cache_reads(monkeypatch)
    second = browser.post("/today/log/", session_post(pain_before="4"), headers=HX)
    assert second.headers.get("HX-Trigger") == "session-logged"
    assert done_count(second) == 2
    assert not [keys for _, keys in reads if "plan-v" in str(keys)], reads
    # And what it showed is the plan the database gives.
    monkeypatch.undo()
    tracking.plan._PLANS_KEPT.clear()
    assert done_count(browser.get("/today/")) == 2


def test_a_session_deleted_elsewhere_is_gone_from_the_next_answer():
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    browser.post("/today/log/", session_post(), headers=HX)
    kept = dict(tracking.plan._PLANS_KEPT)
    delete_session(session=Session.objects.filter(user=member).earliest("performed_at"))
    assert kept == tracking.plan._PLANS_KEPT  # nothing here was told
    assert done_count(browser.get("/today/")) == 1
    answer = browser.post("/today/log/", session_post(), headers=HX)
    assert done_count(answer) == 2
    assert Session.objects.filter(user=member).count() == 2


def test_a_stop_signal_reported_elsewhere_closes_the_plan_this_worker_keeps():
    member = make_user()
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)
    assert tracking.plan._PLANS_KEPT
    add_stop_signal(session=Session.objects.get(user=member), signal=StopSignal.SHARP_PAIN)
    refused = browser.post("/today/log/", session_post(), headers=HX)
    assert refused.headers.get("HX-Redirect") == "/screening/"
    assert Session.objects.filter(user=member).count() == 1
    page = browser.get("/today/")
    assert page.status_code == 302 and page.url.endswith("/screening/")


def test_a_plan_whose_last_session_is_before_today_is_not_kept():
    """That session is a model instance the lasting-pain question adds a stop signal to,
    in place: a plan holding it is never shared between requests."""
    member = make_user()
    make_session(member, performed_at=timezone.now() - timedelta(days=1))
    plan = build_plan(Profile.objects.get(user=member))
    assert isinstance(plan.last_session, Session)
    assert not tracking.plan._PLANS_KEPT
    # Once today has a session, the plan's last session is that row, and it is kept.
    make_session(member)
    plan = build_plan(Profile.objects.get(user=member))
    assert not isinstance(plan.last_session, Session)
    assert list(tracking.plan._PLANS_KEPT.values()) == [plan]
