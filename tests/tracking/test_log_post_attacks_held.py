"""A review's attacks on the log POST's one statement, the per-process days before today
(``tracking.plan._PAST_KEPT``) and the kept profile row that held. The oracle: the plan
the next request is served equals the plan made from the database alone (no shared
cache, no per-process days).
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client

from accounts.models import Profile
from accounts.services import save_profile
from tests.factories import log_stretch, make_user, ready_to_log, session_post
from tests.tracking.test_log_post_races import cached_plan, plan_from_the_database
from tracking.models import Session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clear_of_midnight"),  # a plain session, not the day's last minutes
]
HX = {"HX-Request": "true"}
LONDON = ZoneInfo("Europe/London")


def versions(user):
    row = Profile.objects.get(user=user)
    return row.data_version, row.history_version


def test_a_double_tap_from_two_workers_at_once_stores_one_session(monkeypatch):
    """The same form sent twice at the same instant (two threads, two connections): one
    session, the versions moved once, both answers 200, and the plan is the truth."""
    member = make_user(start=datetime.now(LONDON).date() - timedelta(days=3))
    post = session_post()
    before = versions(member)
    answers = []
    barrier = threading.Barrier(2)

    def tap():
        try:
            client = Client()
            client.force_login(member)
            barrier.wait()
            answers.append(client.post("/today/log/", post, headers=HX))
        finally:
            connection.close()

    threads = [threading.Thread(target=tap) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200, 200]
    assert Session.objects.filter(user=member).count() == 1
    assert versions(member) == (before[0] + 1, before[1])
    assert sorted("already saved" in a.text for a in answers) == [False, True]
    assert cached_plan(member) == plan_from_the_database(member, monkeypatch)


def test_deleting_a_past_session_then_logging_drops_it_from_the_kept_days(monkeypatch):
    """The days before today are kept per process: a delete of yesterday's session must
    leave them (history version), and the log after it must not bring them back."""
    member = make_user(start=datetime.now(LONDON).date() - timedelta(days=10))
    yesterday, _ = log_stretch(
        member, when=datetime.now(LONDON) - timedelta(days=1), before=3, after=3
    )
    browser = ready_to_log(member)
    browser.post("/today/log/", session_post(), headers=HX)  # the days kept in this process
    assert browser.post(f"/sessions/{yesterday.pk}/delete/").status_code == 302
    saved = browser.post("/today/log/", session_post(), headers=HX)
    assert saved.headers.get("HX-Trigger") == "session-logged"
    truth = plan_from_the_database(member, monkeypatch)
    assert truth.last_session is not None and truth.last_session.pk != yesterday.pk
    assert cached_plan(member) == truth


def test_editing_a_past_sessions_time_into_today_then_logging(monkeypatch):
    member = make_user(start=datetime.now(LONDON).date() - timedelta(days=10))
    browser = ready_to_log(member)
    when = datetime.now(LONDON) - timedelta(days=2)
    old, _ = log_stretch(member, when=when)
    browser.get("/today/")
    form = {
        **session_post(),
        "performed_at": (when + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
        "version": str(Session.objects.get(pk=old.pk).version),
    }
    form.pop("client_token")
    assert browser.post(f"/sessions/{old.pk}/edit/", form).status_code == 302
    browser.post("/today/log/", session_post(), headers=HX)
    assert cached_plan(member) == plan_from_the_database(member, monkeypatch)


@pytest.mark.parametrize("minute", [54, 57, 59])
def test_a_log_just_before_midnight_is_in_the_next_days_kept_past(monkeypatch, minute):
    """23:54 (outside the margin: history kept), 23:57 and 23:59 (inside it): the next
    day's plan, the per-process days included, counts yesterday's session."""
    day = datetime(2026, 3, 10, 23, minute, 30, tzinfo=LONDON)
    with time_machine.travel(day, tick=False):
        member = make_user(time_zone="Europe/London", start=day.date() - timedelta(days=5))
        browser = ready_to_log(member)
        browser.post("/today/log/", session_post(), headers=HX)
        saved = browser.post("/today/log/", session_post(), headers=HX)
        assert saved.headers.get("HX-Trigger") == "session-logged"
    with time_machine.travel(day + timedelta(minutes=2), tick=False):
        page = browser.get("/today/")
        assert page.status_code == 200
        truth = plan_from_the_database(member, monkeypatch)
        assert truth.last_session is not None
        assert cached_plan(member) == truth


def test_a_zone_changed_then_changed_back_does_not_reuse_the_first_zones_days(monkeypatch):
    """London -> Auckland -> London between logs: every step moves the history on, so
    the first London entry kept in this process is never served for the later state."""
    now = datetime(2026, 5, 20, 11, 30, tzinfo=ZoneInfo("UTC"))  # 23:30 in Auckland
    with time_machine.travel(now, tick=False):
        member = make_user(time_zone="Europe/London", start=now.date() - timedelta(days=5))
        browser = ready_to_log(member)
        browser.post("/today/log/", session_post(), headers=HX)
        for zone in ("Pacific/Auckland", "Europe/London"):
            profile = Profile.objects.select_related("user").get(user=member)
            profile.time_zone = zone
            save_profile(profile, ["time_zone"])
            browser.post("/today/lasting-pain/", {"lasting": "no"})
            browser.post("/today/log/", session_post(), headers=HX)
            assert cached_plan(member) == plan_from_the_database(member, monkeypatch)


def test_a_plain_log_never_leaves_a_row_without_its_version_bump(monkeypatch):
    """The one statement is atomic: a failure in the bump (forced here) stores no session."""
    if connection.vendor != "postgresql":
        pytest.skip("the one statement is PostgreSQL's (SQLite's 1/0 is NULL, no error)")
    member = make_user()
    before = versions(member)
    import lib.cache

    real = lib.cache.bump_statement

    def broken(user, **kwargs):
        sql, params = real(user, **kwargs)
        return sql.replace("data_version + 1", "data_version + 1/0", 1), params

    monkeypatch.setattr("tracking.services.bump_statement", broken)
    from django.db import DataError

    with pytest.raises(DataError):
        log_stretch(member, token=uuid.uuid4())
    monkeypatch.undo()
    assert not Session.objects.filter(user=member).exists()
    assert versions(member) == before
