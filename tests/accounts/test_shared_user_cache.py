"""The signed-in user and the sessions in the shared cache (REDIS_URL): every write path
retires them at once, so no worker can serve an old user, profile, pause or block.

tests/hardening/test_shared_cache.py proves the same across two real gunicorn workers;
these go through each write path one by one, in-process.
"""

from __future__ import annotations

import os

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import F
from django.test import Client

from accounts.backends import ProfileModelBackend
from accounts.cached_sessions import KEY_PREFIX as SESSION_PREFIX
from accounts.models import Profile
from accounts.services import erase_account, save_profile
from lib.cache import cached_user, data_changed
from stretches import safety
from stretches.screening import Answer, Verdict
from tests.factories import PASSWORD, all_no, make_session, make_user, served_user, session_post
from tracking import services as tracking_services

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)"),
]


# Each entry of the signed-in user, and the generation it is kept under (lib.cache).
GENERATIONS = {"account": "account-generation", "profile": "user-generation"}


def generation(user, kind: str = "account") -> str | None:
    return cache.get(f"{GENERATIONS[kind]}:{user.pk}")


def warm(client: Client, user) -> tuple[str, str]:
    assert client.get("/healthz").status_code == 200
    assert cache.get(f"account:{user.pk}") is not None
    assert cache.get(f"profile:{user.pk}") is not None
    return generation(user), generation(user, "profile")


@pytest.fixture
def member():
    return make_user("cached-member")


@pytest.fixture
def browser(member):
    client = Client()
    client.force_login(member)
    return client


def test_a_signed_in_request_reads_the_user_from_the_shared_cache(
    browser, member, django_assert_num_queries
):
    warm(browser, member)
    # Only /healthz's own probe: neither the session nor the user comes from the database.
    with django_assert_num_queries(1):
        assert browser.get("/healthz").status_code == 200


def test_the_cached_user_carries_the_profile(browser, member):
    warm(browser, member)
    cached = ProfileModelBackend().get_user(member.pk)
    assert cached.profile.time_zone == member.profile.time_zone
    assert cached.profile.data_version == Profile.objects.get(user=member).data_version


def _with(obj, **fields):
    for name, value in fields.items():
        setattr(obj, name, value)
    return obj


# Writes to a person's records (data_changed) retire the profile row kept beside the
# user (it holds the versions); saves of the user or the profile retire both.
RECORDS, ACCOUNT = ("profile",), ("account", "profile")


@pytest.mark.parametrize(
    "write,retired",
    [
        pytest.param(lambda u: data_changed(u), RECORDS, id="data_changed"),
        pytest.param(
            lambda u: save_profile(_with(u.profile, time_zone="Europe/Paris"), ["time_zone"]),
            ACCOUNT,
            id="save_profile",
        ),
        pytest.param(
            lambda u: _with(Profile.objects.get(user=u), verified_email="x@example.com").save(),
            ACCOUNT,
            id="profile.save",
        ),
        pytest.param(
            lambda u: (u.set_password("another-pass-98"), u.save()), ACCOUNT, id="set_password"
        ),
        pytest.param(lambda u: (_with(u, is_active=False), u.save()), ACCOUNT, id="user.save"),
        pytest.param(
            lambda u: tracking_services.delete_session(session=make_session(u)),
            RECORDS,
            id="delete",
        ),
        pytest.param(
            lambda u: safety.record_screening(
                user=u,
                answers={
                    **{k: Answer(v) for k, v in all_no().items()},
                    "bladder_bowel": Answer.YES,
                },
                triggers=(),
                reason="due",
            ),
            RECORDS,
            id="record_screening",
        ),
    ],
)
def test_every_write_to_the_user_retires_the_cached_copy(browser, member, write, retired):
    before = dict(zip(("account", "profile"), warm(browser, member), strict=True))

    write(get_user_model().objects.select_related("profile").get(pk=member.pk))

    for kind in retired:
        assert generation(member, kind) != before[kind]
        assert cache.get(f"{kind}:{member.pk}") is None
    fresh = get_user_model().objects.select_related("profile").get(pk=member.pk)
    served = served_user(member.pk)
    assert served.password == fresh.password
    assert served.is_active == fresh.is_active
    assert served.profile.data_version == fresh.profile.data_version
    assert served.profile.history_version == fresh.profile.history_version
    assert served.profile.time_zone == fresh.profile.time_zone


def test_after_a_logged_session_the_next_request_reads_only_the_profile_row_again(
    browser, member, django_assert_num_queries
):
    """The user stays cached through a write to the person's records; the profile row,
    with the versions every cached page is keyed by, is read again, so the new session
    shows at once."""
    warm(browser, member)
    user_entry = cache.get(f"account:{member.pk}")
    browser.post("/today/lasting-pain/", {"lasting": "no"})
    logged = browser.post("/today/log/", session_post(), headers={"HX-Request": "true"})
    assert logged.headers["HX-Trigger"] == "session-logged"
    assert cache.get(f"account:{member.pk}") == user_entry  # the same copy, still current

    # /healthz's own probe and the profile row: nothing else from the database.
    with django_assert_num_queries(2):
        assert browser.get("/healthz").status_code == 200
    served = served_user(member.pk)
    stored = Profile.objects.get(user=member)
    assert (served.profile.data_version, served.profile.history_version) == (
        stored.data_version,
        stored.history_version,
    )


def test_a_stop_signal_logged_through_the_form_pauses_the_next_request(browser, member):
    warm(browser, member)
    assert browser.get("/today/").status_code == 200

    response = browser.post("/today/log/", session_post(stop_signals=["cramp"]))

    assert response.status_code == 302 and response.url == "/screening/"
    response = browser.get("/today/")
    assert response.status_code == 302 and response.url == "/screening/"


def test_a_red_flag_answered_through_the_form_blocks_the_next_request(browser, member):
    from stretches.screening import QUESTIONS

    warm(browser, member)
    assert browser.get("/today/").status_code == 200
    answers = {f"q_{q.id}": "no" for q in QUESTIONS} | {"q_bladder_bowel": "yes", "step": "all"}

    browser.post("/screening/", answers)

    from stretches.models import Screening

    assert Screening.objects.get(user=member, verdict=Verdict.EMERGENCY.value)
    response = browser.get("/today/")
    assert response.status_code == 302 and response.url == "/screening/"


def test_a_worker_that_read_the_old_row_cannot_put_it_back(member):
    """The race: worker B loads the user, worker A writes and retires it, then B caches
    what it read. B's copy carries the generation from before the write: never served."""
    stale = get_user_model().objects.select_related("profile").get(pk=member.pk)

    def load_then_someone_writes():
        data_changed(member)  # another worker's write lands while this one loads
        return stale

    backend = ProfileModelBackend
    first = cached_user(
        member.pk, load_then_someone_writes, lambda: backend._profile(member.pk),
        backend._attach_profile,
    )  # fmt: skip
    assert first is stale
    served = served_user(member.pk)
    assert served.profile.data_version == stale.profile.data_version + 1


@pytest.mark.parametrize("evicted", [False, True], ids=["retired", "generation-evicted"])
def test_a_worker_that_read_an_old_profile_row_cannot_put_it_back(browser, member, evicted):
    """The same race for the profile row alone: read, then another worker's write lands.
    Also when Redis had dropped the generation: one is made before the read, never after."""
    warm(browser, member)
    data_changed(member)  # the profile row must be read again by the next request
    if evicted:
        cache.delete(f"user-generation:{member.pk}")
    old = ProfileModelBackend._profile(member.pk)

    def read_then_someone_writes():
        data_changed(member)
        return old

    backend = ProfileModelBackend
    cached_user(
        member.pk, lambda: backend._load(member.pk), read_then_someone_writes,
        backend._attach_profile,
    )  # fmt: skip
    stored = Profile.objects.get(user=member)
    assert (
        served_user(member.pk).profile.data_version == stored.data_version == old.data_version + 1
    )


def test_logout_removes_the_session_from_the_shared_cache(browser, member):
    warm(browser, member)
    key = browser.cookies["sessionid"].value
    assert cache.get(SESSION_PREFIX + key) is not None

    browser.post("/accounts/logout/")

    assert cache.get(SESSION_PREFIX + key) is None
    replay = Client()
    replay.cookies["sessionid"] = key
    assert replay.get("/today/").status_code == 302


def test_ending_every_session_removes_them_from_the_shared_cache(member):
    phones = [Client(), Client()]
    for phone in phones:
        phone.post("/accounts/login/", {"username": member.username, "password": PASSWORD})
        assert phone.get("/today/").status_code == 200
    keys = [phone.cookies["sessionid"].value for phone in phones]
    assert all(cache.get(SESSION_PREFIX + key) is not None for key in keys)

    erase_account(member)

    assert all(cache.get(SESSION_PREFIX + key) is None for key in keys)
    for phone in phones:
        assert phone.get("/today/").status_code == 302


def test_without_a_shared_cache_nothing_revocable_is_cached(settings, member):
    settings.CACHE_IS_SHARED = False
    calls = []
    for _ in range(2):
        cached_user(member.pk, lambda: calls.append(1) or member, lambda: None, print)
    assert len(calls) == 2
    assert cache.get(f"account:{member.pk}") is None


def test_a_write_by_a_worker_of_the_release_before_is_seen(browser, member):
    """A rolling deploy: the release before kept the user, versions included, as "user"
    and retired it by replacing "user-generation". Its writes still retire this
    release's copy, and this release's writes retire its copy."""
    warm(browser, member)
    # An old worker's data_changed: versions moved on in the row, the old-style retire.
    Profile.objects.filter(user=member).update(data_version=F("data_version") + 5)
    cache.set(f"user-generation:{member.pk}", "old-release-write", timeout=None)
    cache.delete(f"user:{member.pk}")
    stored = Profile.objects.get(user=member)
    assert served_user(member.pk).profile.data_version == stored.data_version

    # An old worker keeps its copy (versions inside) under the current "user-generation";
    # this release's write replaces that generation, so the old worker reads the row again.
    old_copy_generation = generation(member, "profile")
    cache.set(f"user:{member.pk}", (old_copy_generation, member))
    data_changed(member)
    assert generation(member, "profile") != old_copy_generation


def _sets_of(monkeypatch) -> list[str]:
    """The keys written one by one (cache.set) from now on."""
    written: list[str] = []
    real_set = cache.set

    def set_(key, *args, **kwargs):
        written.append(key)
        return real_set(key, *args, **kwargs)

    monkeypatch.setattr(cache, "set", set_)
    return written


def test_the_profile_row_read_after_a_write_is_kept_in_the_requests_first_read(
    browser, member, monkeypatch
):
    """The first request after a logged session reads the profile row again and keeps it
    in the shared cache in the same round trip as its first read (the gate's), not in one
    of its own."""
    warm(browser, member)
    browser.post("/today/lasting-pain/", {"lasting": "no"})
    logged = browser.post("/today/log/", session_post(), headers={"HX-Request": "true"})
    assert logged.headers["HX-Trigger"] == "session-logged"
    assert cache.get(f"profile:{member.pk}") is None  # retired by the write
    written = _sets_of(monkeypatch)

    assert browser.get("/today/").status_code == 200
    assert f"profile:{member.pk}" not in written
    kept = cache.get(f"profile:{member.pk}")
    stored = Profile.objects.get(user=member)
    assert kept[0] == generation(member, "profile")
    assert kept[1].data_version == stored.data_version


def test_a_request_with_no_read_after_the_reload_keeps_the_row_as_it_ends(browser, member):
    warm(browser, member)
    data_changed(member)
    assert browser.get("/healthz").status_code == 200
    kept = cache.get(f"profile:{member.pk}")
    assert kept is not None and kept[0] == generation(member, "profile")


def test_a_row_kept_at_the_end_of_a_request_that_wrote_after_reading_it_is_never_served(
    browser, member
):
    """The "it was sharp" tap is not behind the gate: the request reads the profile row again (a
    session was just logged), then its stop signal retires it. The copy it keeps as it
    ends carries the generation from before its own write: the next request reads the
    row again and is paused."""
    warm(browser, member)
    browser.post("/today/lasting-pain/", {"lasting": "no"})
    browser.post("/today/log/", session_post(), headers={"HX-Request": "true"})
    session = member.stretch_sessions.latest("id")
    response = browser.post(f"/sessions/{session.pk}/sharp/")
    assert response.status_code == 302 and response.url == "/screening/"
    stored = Profile.objects.get(user=member)
    assert served_user(member.pk).profile.data_version == stored.data_version
    response = browser.get("/today/")
    assert response.status_code == 302 and response.url == "/screening/"
