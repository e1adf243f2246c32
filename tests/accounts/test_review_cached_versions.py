"""Review: the signed-in user and their data/history versions in the shared cache.

The data and history versions (in the profile row kept beside the cached user,
"profile:<id>") decide which cached gate decision, plan and page a request reads. These
tests attack what keeps them current: a rolling deploy with workers of the release before
(which retire "user-generation" and "user:<id>" and know nothing newer), and a profile
save landing while a request reads the profile row alone. Each failed against the first
design (versions under a generation of their own) and passes against this one.
"""

from __future__ import annotations

import os
import secrets

import pytest
from django.core.cache import cache
from django.db.models import F
from django.test import Client

import lib.cache
from accounts.backends import ProfileModelBackend
from accounts.models import Profile
from accounts.services import save_profile
from lib.cache import cached_user, data_changed
from tests.factories import make_user, served_user, session_post
from tracking import plan as plan_module

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL"),
]


def stored_versions(user) -> tuple[int, int]:
    profile = Profile.objects.get(user=user)
    return profile.data_version, profile.history_version


def old_release_retire(user_id, **_this_release_only) -> None:
    """What a worker of the release before does on every write (its user_changed, called by
    its data_changed): replace "user-generation" and delete its "user:<id>" copy. It knows
    nothing of "versions-generation", nor keeps the row it wrote (this release's keywords
    are ignored)."""
    cache.set(f"user-generation:{user_id}", secrets.token_hex(8), timeout=None)
    cache.delete(f"user:{user_id}")


@pytest.fixture
def member():
    return make_user("review-versions")


@pytest.fixture
def browser(member):
    client = Client()
    client.force_login(member)
    assert client.get("/healthz").status_code == 200
    assert cache.get(f"account:{member.pk}") is not None
    assert cache.get(f"profile:{member.pk}") is not None
    return client


def test_after_an_old_release_write_every_later_request_sees_the_new_versions(browser, member):
    """Rolling deploy: a worker of the release before logs a session (versions bumped in the
    row, "user-generation" replaced). The first request on this release reloads the user and
    takes max(cached, loaded) versions, but it stores only the user again: the old
    "versions:<id>" entry is still current under its untouched generation, so from the
    second request on this release serves the versions from before the write again. Every
    page, the plan and the safety gate are keyed by them: the person sees the state from
    before what they just logged for up to 15 minutes."""
    Profile.objects.filter(user=member).update(
        data_version=F("data_version") + 1, history_version=F("history_version") + 1
    )
    old_release_retire(member.pk)
    expected = stored_versions(member)

    first = served_user(member.pk)
    assert (first.profile.data_version, first.profile.history_version) == expected
    second = served_user(member.pk)
    assert (second.profile.data_version, second.profile.history_version) == expected


def test_a_stop_signal_logged_by_an_old_release_worker_keeps_pausing(browser, member, monkeypatch):
    """The same through the pages: during a rolling deploy the person logs a stop signal
    and the request is served by a worker of the release before. The next page on this
    release is rightly sent to /screening/, but the page after it is drawn from the cached
    gate decision of the old history version: the paused person is shown today's plan
    again."""
    assert browser.get("/today/").status_code == 200  # the gate's "may exercise" is cached
    browser.post("/today/lasting-pain/", {"lasting": "no"})

    # The write as the release before does it: same rows, its own retirement.
    monkeypatch.setattr(lib.cache, "records_changed", old_release_retire)
    response = browser.post("/today/log/", session_post(stop_signals=["cramp"]))
    monkeypatch.undo()
    assert response.status_code == 302 and response.url == "/screening/"

    for attempt in range(3):
        response = browser.get("/today/")
        assert response.status_code == 302, f"plan shown to a paused person (request {attempt})"
        assert response.url == "/screening/"


def test_an_old_release_worker_cannot_cache_the_user_from_before_a_new_release_write(member):
    """Rolling deploy, the race the generation rule exists for: a worker of the release
    before reads "user-generation", loads the user from the database (old versions), and
    only then stores "user:<id>" under that generation. This release's write in between
    (a stop signal) only deletes "user:<id>" and leaves "user-generation" alone, so the
    old worker's copy, stored after the delete, is current: that worker keeps serving the
    versions from before the stop signal, and with them the cached "may exercise", for up
    to 15 minutes."""
    # Old worker: read the generation (made now if missing), then load from the database.
    generation_key = f"user-generation:{member.pk}"
    cache.add(generation_key, secrets.token_hex(8), timeout=None)
    generation = cache.get(generation_key)
    stale = ProfileModelBackend._load(member.pk)

    # This release's write lands and commits (its retirement, now and after the commit).
    data_changed(member)
    data_changed(member)  # stands for the on_commit retirement

    # Old worker stores what it loaded, under the generation it read before loading.
    cache.set(f"user:{member.pk}", (generation, stale), 15 * 60)

    # What the old worker's next request would serve (its cached_shared rule):
    current = cache.get(generation_key)
    entry = cache.get(f"user:{member.pk}")
    served_stale = entry is not None and entry[0] == current
    assert not served_stale, (
        "an old-release worker serves versions "
        f"{(stale.profile.data_version, stale.profile.history_version)} "
        f"while the row holds {stored_versions(member)}"
    )


def test_a_profile_save_while_the_versions_are_read_cannot_mix_old_settings_with_new_versions(
    browser, member
):
    """After any logged session only the versions are read again; the cached user (and
    its profile: phase, programme start, time zone...) is reused. If the person switches
    to the acute-flare phase in another tab between this request's cache read and its
    versions read, the request pairs the old profile with the new versions, and builds
    and caches the plan under the new data version with the old phase. Every later
    request (whose freshly loaded user has the new phase and the same version) is shown
    that cached standard plan: no acute daily cap until the next write."""
    data_changed(member)  # a logged session: the next request reads the versions alone

    def settings_saved_meanwhile():
        other_tab = Profile.objects.select_related("user").get(user=member)
        other_tab.phase = "acute"
        save_profile(other_tab, ["phase"])
        return ProfileModelBackend._profile(member.pk)

    backend = ProfileModelBackend
    racing = cached_user(
        member.pk, lambda: backend._load(member.pk), settings_saved_meanwhile,
        backend._attach_profile,
    )  # fmt: skip
    plan_module.build_plan(racing.profile)  # this request's page, cached for everyone

    fresh = served_user(member.pk)
    assert fresh.profile.phase == "acute"
    plan = plan_module.build_plan(fresh.profile)
    assert plan.prescription.daily_cap is not None, "acute phase shown a plan without its cap"
