"""A review's attacks (kept): the profile row a log POST keeps for the next request
(lib.cache ``versions_moved`` -> ``retire(..., then_keep=row)``). It was first kept under
the generation made *after* the commit, unchecked: any write that committed between the
log's commit and that moment (another tab's setting, a stop signal tapped in another tab)
had its own retirement overwritten by the log's, and the log's now stale row was served
as current. It is now kept only while nothing retired the row since the log's own
retirement before its write (lib.redis_cache.replace_generation, one atomic step).

The other tab's write is made to land in exactly that window: after the log's statement
committed, before the log's after-commit retirement runs. It runs in its own thread
(its own connection and request), as a second worker would.
"""

from __future__ import annotations

import os
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client

import lib.cache
from accounts.models import Profile
from accounts.services import save_profile
from tests.factories import log_stretch, make_user, ready_to_log, session_post
from tracking.models import Session

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
]
HX = {"HX-Request": "true"}


def in_another_worker(action) -> None:
    errors = []

    def run():
        try:
            action()
        except Exception as error:  # pragma: no cover - shown below
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert not errors, errors


def between_commit_and_retirement(monkeypatch, user, action) -> list:
    """Run ``action`` (in another thread) once, just before the first after-commit
    retirement of ``user``'s profile made by this thread."""
    real = lib.cache._new_generation
    main = threading.get_ident()
    fired = []

    def hooked(kind, ident, *, quiet=False):
        if (
            not fired
            and quiet
            and kind == "profile"
            and ident == user.pk
            and threading.get_ident() == main
        ):
            fired.append(True)
            in_another_worker(action)
        return real(kind, ident, quiet=quiet)

    monkeypatch.setattr(lib.cache, "_new_generation", hooked)
    # The after-commit step that keeps the committed row (lib.redis_cache) is the other
    # way the retirement after the commit is made.
    if hasattr(cache, "replace_generation"):
        real_replace = cache.replace_generation

        def replacing(generation_key, value_key, *args, **kwargs):
            if not fired and value_key == f"profile:{user.pk}" and threading.get_ident() == main:
                fired.append(True)
                in_another_worker(action)
            return real_replace(generation_key, value_key, *args, **kwargs)

        monkeypatch.setattr(cache, "replace_generation", replacing)
    return fired


def current_profile(user):
    """The profile row the next request takes from the shared cache, or None."""
    found = cache.get_many(list(lib.cache._keys("profile", user.pk)))
    return lib.cache._current(found, "profile", user.pk)[0]


def acute_elsewhere(user):
    def change():
        other = Profile.objects.select_related("user").get(user_id=user.pk)
        other.phase = "acute"
        save_profile(other, ["phase"])

    return change


@pytest.mark.parametrize(
    "post",
    [
        pytest.param({}, id="plain-session-one-statement"),
        pytest.param({"pain_before": "2", "pain_after": "5"}, id="pain-rise-transaction"),
    ],
)
def test_a_phase_saved_just_after_the_logs_commit_is_what_the_next_request_sees(monkeypatch, post):
    """Acute flare chosen in another tab right after a log commits: the next request
    must see the flare (its cap of 3), not the row the log committed."""
    member = make_user(phase="standard")
    browser = ready_to_log(member)
    for _ in range(3):
        log_stretch(member)  # standard: no daily cap
    fired = between_commit_and_retirement(monkeypatch, member, acute_elsewhere(member))
    saved = browser.post("/today/log/", session_post(**post), headers=HX)
    monkeypatch.undo()
    assert fired, "the window was never reached"
    assert saved.status_code == 200
    assert Profile.objects.get(user=member).phase == "acute"
    kept = current_profile(member)
    assert kept is None or kept.phase == "acute", "the row from before the flare is kept as current"
    # The flare's hard cap (SPEC 1.3): 4 sessions today already, a 5th must be refused.
    fifth = browser.post("/today/log/", session_post(), headers=HX)
    assert "HX-Trigger" not in fifth.headers, "a 5th session was saved in an acute flare"
    assert Session.objects.filter(user=member).count() == 4


def test_a_stop_signal_tapped_just_after_the_logs_commit_pauses_the_next_request(monkeypatch):
    """ "It was sharp or shooting" tapped in another tab (not behind the gate) right after
    a log in this one commits: the programme is paused; the next page must not be the
    plan (SPEC 1.5)."""
    member = make_user()
    browser = ready_to_log(member)
    earlier, _ = log_stretch(member, before=2, after=5)  # a pain rise: "was it sharp?"
    other_tab = Client()
    other_tab.force_login(member)

    def sharp():
        answer = other_tab.post(f"/sessions/{earlier.pk}/sharp/")
        assert answer.status_code == 302

    fired = between_commit_and_retirement(monkeypatch, member, sharp)
    saved = browser.post("/today/log/", session_post(), headers=HX)
    monkeypatch.undo()
    assert fired and saved.status_code == 200
    assert Session.objects.get(pk=earlier.pk).has_stop_signal
    page = browser.get("/today/")
    assert page.status_code == 302 and page.url.endswith("/screening/"), (
        "a paused person was shown today's plan"
    )
    again = browser.post("/today/log/", session_post(), headers=HX)
    assert "HX-Trigger" not in again.headers, "a session was logged while paused"


# The review's fourth test here (a read in another worker before the write, then a failed
# retirement after it) was written against the retirement in the gate's round trip, since
# taken back; its window, from just before the statement to the commit, is now attacked in
# tests/tracking/test_kept_row_cas.py, with the after-commit step refused.
