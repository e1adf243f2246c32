"""The acute flare's cap of 3 sessions a day (SPEC 1.3) holds for saves made at the same
moment: a review (2026-12-07) found two tabs both passing it, since the form counted the
day's sessions from the plan the request read and nothing counted again at the insert.
Every capped save now locks the person's profile row and counts again in the transaction
that stores it (tracking.services.log_session(daily_cap=...)); the second of two finds
the first and is refused with the form's cap message, on every path that logs: today's
form (htmx and plain), the back-dated form and the offline queue; and (a second review)
an edit that moves a session onto the day and an undo of a delete, which raced the same
way. A time zone Python does not know is read as UTC there too, as everywhere (it was an
error page for a save in a flare).

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
import tracking.today
from accounts.models import Profile
from pwa.owner import offline_owner
from tests.factories import log_stretch, make_user, ready_to_log, session_post
from tests.tracking.test_kept_row_races import in_another_worker
from tracking.models import Session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("clear_of_midnight"),  # sessions of one day, away from midnight
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


# --- A second review's attacks (kept): edits and undos race a log the same way -----------


def today_count(member):
    tz = member.profile.tzinfo
    day = timezone.now().astimezone(tz).date()
    return sum(
        1
        for s in Session.objects.filter(user=member)
        if s.performed_at.astimezone(tz).date() == day
    )


def edit_post(session, when):
    """The edit form for ``session`` moved to ``when``, typed in the person's own time
    zone (as the page shows it), whatever zone this thread has active."""
    data = session_post(client_token=None)
    data.update(
        performed_at=timezone.localtime(when, session.user.profile.tzinfo).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        version=str(session.version),
    )
    return data


def two_today_and_one_two_days_ago():
    member = make_user(phase="acute", start=timezone.localdate() - timedelta(days=5))
    now = timezone.now()
    log_stretch(member, when=now - timedelta(hours=1))
    log_stretch(member, when=now - timedelta(hours=2))
    moved, _ = log_stretch(member, when=now - timedelta(days=2))
    return member, moved, now


def test_an_edit_onto_a_day_another_tab_filled_after_the_form_passed_is_refused(monkeypatch):
    member, moved, now = two_today_and_one_two_days_ago()
    edit_tab, log_tab = ready_to_log(member), ready_to_log(member)
    answers = []
    fired = once_before_the_lock(
        monkeypatch,
        lambda: answers.append(log_tab.post("/today/log/", session_post(), headers=HX)),
    )
    refused = edit_tab.post(
        f"/sessions/{moved.pk}/edit/", edit_post(moved, now - timedelta(minutes=30))
    )
    monkeypatch.undo()
    assert fired and answers[0].headers.get("HX-Trigger") == "session-logged"  # the 3rd
    assert today_count(member) == 3
    assert refused.status_code == 400 and CAP_TEXT in refused.content.decode()


def test_an_edit_onto_the_day_waits_for_a_log_holding_the_lock(monkeypatch):
    member, moved, now = two_today_and_one_two_days_ago()
    edit_tab, log_tab = ready_to_log(member), ready_to_log(member)
    real = tracking.services._store
    main = threading.get_ident()
    edits, workers = [], []

    def hooked(session, reported_on, **kwargs):
        if threading.get_ident() == main and not workers:
            worker = threading.Thread(
                target=lambda: in_another_worker(
                    lambda: edits.append(
                        edit_tab.post(
                            f"/sessions/{moved.pk}/edit/",
                            edit_post(moved, now - timedelta(minutes=30)),
                        )
                    )
                )
            )
            workers.append(worker)
            worker.start()
            time.sleep(0.5)  # the edit now waits on the profile row this log holds
            assert not edits, "the edit did not wait for the log"
        return real(session, reported_on, **kwargs)

    monkeypatch.setattr(tracking.services, "_store", hooked)
    saved = log_tab.post("/today/log/", session_post(), headers=HX)
    workers[0].join(20)
    monkeypatch.undo()
    assert saved.headers.get("HX-Trigger") == "session-logged"  # the 3rd
    assert edits and edits[0].status_code == 400 and CAP_TEXT in edits[0].content.decode()
    assert today_count(member) == 3


def test_an_undo_onto_a_day_another_tab_filled_after_the_view_counted_is_refused(monkeypatch):
    member = make_user(phase="acute", start=timezone.localdate() - timedelta(days=5))
    now = timezone.now()
    for hours in (1, 2, 3):
        log_stretch(member, when=now - timedelta(hours=hours))
    tab, other = ready_to_log(member), ready_to_log(member)
    victim = Session.objects.filter(user=member).order_by("performed_at").first()
    tab.post(f"/sessions/{victim.pk}/delete/")
    assert today_count(member) == 2
    answers = []
    fired = once_before_the_lock(
        monkeypatch,
        lambda: answers.append(other.post("/today/log/", session_post(), headers=HX)),
    )
    undone = tab.post("/sessions/undo/", follow=True)
    monkeypatch.undo()
    assert fired and answers[0].headers.get("HX-Trigger") == "session-logged"
    assert today_count(member) == 3
    assert "was not restored" in undone.content.decode()


@pytest.mark.parametrize("zone", ["Not/AZone", ""])
def test_a_time_zone_python_does_not_know_counts_in_utc_not_an_error(zone):
    """A stored zone Python no longer knows (tzdata changes, an old row): the profile reads
    it as UTC everywhere, and the capped save counts the same way (it was a 500)."""
    member = make_user(phase="acute", start=timezone.localdate() - timedelta(days=5))
    Profile.objects.filter(user_id=member.pk).update(time_zone=zone)
    member.refresh_from_db()
    tab = ready_to_log(member)
    answer = tab.post("/today/log/", session_post(), headers=HX)
    assert answer.status_code == 200 and answer.headers.get("HX-Trigger") == "session-logged"


# --- A third review's attacks (kept): lock order, and edits that stay on their day -------


def acute_with_today(n: int):
    """An acute person with ``n`` sessions today (logged without the cap, as before the
    flare was switched on)."""
    member = make_user(phase="standard", start=timezone.localdate() - timedelta(days=5))
    now = timezone.now()
    sessions = [log_stretch(member, when=now - timedelta(minutes=3 * (i + 1)))[0] for i in range(n)]
    flare_elsewhere(member)()  # then the flare: a save now would be capped
    member.refresh_from_db()
    return member, sessions


def same_day_edit(session, **extra):
    return edit_post(session, session.performed_at) | extra


def test_a_correction_on_a_day_with_more_sessions_than_the_cap_is_saved():
    """An edit that keeps the session on its day adds nothing to it: a pain score
    corrected, a stop signal added (which must always be recordable), on a day that had 4
    before the flare was switched on."""
    member, sessions = acute_with_today(4)
    target = sessions[0]
    tab = ready_to_log(member)
    corrected = tab.post(
        f"/sessions/{target.pk}/edit/", same_day_edit(target, pain_after="6", note="better")
    )
    assert corrected.status_code == 302
    target.refresh_from_db()
    assert target.pain_after == 6
    signal = tab.post(
        f"/sessions/{target.pk}/edit/", same_day_edit(target, stop_signals=["numbness"])
    )
    assert signal.status_code == 302
    target.refresh_from_db()
    assert target.stop_signals == ["numbness"]


def quiet(client):
    client.raise_request_exception = False  # judged by status and rows: two threads
    return client


def test_a_sharp_pain_tap_and_an_edit_moving_the_session_take_the_locks_in_one_order(
    monkeypatch,
):
    """The edit moving a session to another day holds the session's row and the profile's;
    the tap on the same session waits on the row (the first lock every write to a session
    takes), then goes through: no deadlock (PostgreSQL would refuse one of the two after a
    second), and the stop signal is stored."""
    member, sessions = acute_with_today(2)
    target = sessions[0]
    log_stretch(member, when=timezone.now() - timedelta(days=2))
    edit_tab, tap_tab = quiet(ready_to_log(member)), quiet(ready_to_log(member))
    real = tracking.services._lock_profile
    main = threading.get_ident()
    taps, workers = [], []

    def hooked(user):
        locked = real(user)
        if threading.get_ident() == main and not workers:
            worker = threading.Thread(
                target=lambda: in_another_worker(
                    lambda: taps.append(tap_tab.post(f"/sessions/{target.pk}/sharp/"))
                )
            )
            workers.append(worker)
            worker.start()
            time.sleep(1.5)  # the tap now waits on the session row this edit updated
        return locked

    monkeypatch.setattr(tracking.services, "_lock_profile", hooked)
    edited = edit_tab.post(
        f"/sessions/{target.pk}/edit/",
        edit_post(target, timezone.now() - timedelta(days=2, minutes=30)),
    )
    workers[0].join(20)
    monkeypatch.undo()
    assert edited.status_code == 302
    assert taps and taps[0].status_code == 302
    target.refresh_from_db()
    assert "sharp_pain" in target.stop_signals


def test_a_stop_signal_added_by_an_edit_is_not_lost_to_a_tap_at_the_same_moment(monkeypatch):
    """The tap read the session before the edit that added "numbness" committed: it adds
    "sharp_pain" to the signals as stored, not to the ones it read."""
    member, sessions = acute_with_today(1)
    target = sessions[0]
    edit_tab, tap_tab = quiet(ready_to_log(member)), quiet(ready_to_log(member))
    real = tracking.services.add_stop_signal
    done = []

    def tap_after_the_edit(*, session, signal):
        if not done:
            done.append(
                edit_tab.post(
                    f"/sessions/{target.pk}/edit/",
                    same_day_edit(target, stop_signals=["numbness"]),
                )
            )
        return real(session=session, signal=signal)

    monkeypatch.setattr(tracking.today, "add_stop_signal", tap_after_the_edit)
    tapped = tap_tab.post(f"/sessions/{target.pk}/sharp/")
    monkeypatch.undo()
    assert done and done[0].status_code == 302 and tapped.status_code == 302
    target.refresh_from_db()
    assert set(target.stop_signals) == {"numbness", "sharp_pain"}


# --- The flare chosen in another tab while an uncapped save is under way -----------------
#
# The form read the standard phase (no cap); another tab chose the acute flare and
# committed before the save locked the profile row. The save must count as the flare's
# (SPEC 1.3: no setting breaks the cap of 3): the one statement inserts only while the
# row, locked, is out of the flare, and the transaction path reads the phase under the
# lock first; either way the save then goes by the capped path.


def standard_with(n):
    member = make_user(phase="standard")
    browser = ready_to_log(member)
    for _ in range(n):
        log_stretch(member)
    browser.get("/today/")
    return member, browser


def flare_elsewhere(member):
    from accounts.services import save_profile

    def change():
        other = Profile.objects.select_related("user").get(user_id=member.pk)
        other.phase = "acute"
        save_profile(other, ["phase"])

    return change


def before_the_store(monkeypatch, action) -> list:
    """Run ``action`` in another worker once, after this request's form passed and just
    before its save: before the one statement, or before the transaction path's lock."""
    from tests.tracking.test_kept_row_cas import just_before_the_one_statement

    fired = []
    wrapper, statement_fired = just_before_the_one_statement(action)
    real = tracking.services._phase_locked
    main = threading.get_ident()

    def hooked(user):
        if not fired and threading.get_ident() == main:
            fired.append(True)
            in_another_worker(action)
        return real(user)

    monkeypatch.setattr(tracking.services, "_phase_locked", hooked)
    return fired, statement_fired, wrapper


PLAIN = pytest.param({}, id="one-statement")
RISE = pytest.param({"pain_before": "2", "pain_after": "5"}, id="transaction")


@pytest.mark.parametrize("post", [PLAIN, RISE])
def test_a_flare_chosen_in_another_tab_caps_a_save_the_form_let_through(monkeypatch, post):
    from django.db import connection

    member, browser = standard_with(3)
    fired, statement_fired, wrapper = before_the_store(monkeypatch, flare_elsewhere(member))
    with connection.execute_wrapper(wrapper):
        refused = browser.post("/today/log/", session_post(**post), headers=HX)
    monkeypatch.undo()
    assert fired or statement_fired
    assert Profile.objects.get(user=member).phase == "acute"
    assert Session.objects.filter(user=member).count() == 3, "a 4th session in a flare"
    assert "HX-Trigger" not in refused.headers
    assert CAP_TEXT in refused.content.decode()


@pytest.mark.parametrize("post", [PLAIN, RISE])
def test_under_the_cap_the_save_is_stored_as_the_flares(monkeypatch, post):
    from django.db import connection

    member, browser = standard_with(2)
    fired, statement_fired, wrapper = before_the_store(monkeypatch, flare_elsewhere(member))
    with connection.execute_wrapper(wrapper):
        saved = browser.post("/today/log/", session_post(**post), headers=HX)
    monkeypatch.undo()
    assert fired or statement_fired
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert Session.objects.filter(user=member).count() == 3


def test_a_flare_committed_while_the_statement_waits_for_the_row_is_seen():
    """The other tab holds the profile row's lock (its save not yet committed) when the
    one statement reaches it: the statement waits, then sees the flare."""
    from django.db import connection, transaction

    member, browser = standard_with(3)
    locked, release, answers = threading.Event(), threading.Event(), []

    def other_tab():
        try:
            with transaction.atomic():
                profile = Profile.objects.select_for_update().get(user_id=member.pk)
                profile.phase = "acute"
                profile.save(update_fields=["phase"])
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    def this_tab():
        try:
            answers.append(browser.post("/today/log/", session_post(), headers=HX))
        finally:
            connection.close()

    holder = threading.Thread(target=other_tab)
    holder.start()
    assert locked.wait(10)
    saver = threading.Thread(target=this_tab)
    saver.start()
    time.sleep(0.5)  # the statement is waiting on the row
    assert saver.is_alive(), "the save did not wait for the profile row"
    release.set()
    holder.join(10)
    saver.join(10)
    assert Session.objects.filter(user=member).count() == 3, "a 4th session in a flare"
    assert CAP_TEXT in answers[0].content.decode()


def test_a_flare_chosen_after_the_save_committed_leaves_it_stored():
    """Not a race the cap covers: the session was saved before the flare was chosen."""
    member, browser = standard_with(3)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    flare_elsewhere(member)()
    assert saved.headers.get("HX-Trigger") == "session-logged"
    assert Session.objects.filter(user=member).count() == 4
