"""The gate's reads taken with the user (lib.cache.expect_keys, issue 15).

A worker remembers the safety record's and catalogue's keys a person's gated request
read, and reads them with the user on that person's next request, so the gate needs no
round trip of its own. What the gate decides must never change for it: a key names what
it holds (the history version and the day are in the safety record's), so a record that
moved on since is read under its new key, whichever worker wrote it.
"""

from __future__ import annotations

import os

import pytest
from django.test import Client

import lib.cache
from accounts.models import Profile
from accounts.services import save_profile
from lib.cache import expect_keys, shared_keys
from lib.redis_cache import Stored
from stretches.models import StopSignal
from stretches.safety import safety_key
from stretches.signals import CATALOGUE, CATALOGUE_COPY
from tests.factories import make_session, make_user, session_post, spy_cache_reads
from tracking.services import add_stop_signal

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (CI sets it)"),
]


def _gate_keys(user) -> set[str]:
    user.profile.refresh_from_db()
    return {safety_key(user), *shared_keys(CATALOGUE, CATALOGUE_COPY)}


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reads_holding(reads, keys: set[str]) -> list[int]:
    return [
        i for i, (kind, read) in enumerate(reads) if keys & set([read] if kind == "get" else read)
    ]


def test_the_second_gated_request_reads_the_gates_entries_with_the_user(monkeypatch):
    user = make_user()
    client = _signed_in(user)
    assert client.get("/today/").status_code == 200  # the gate's keys seen, entries cached
    reads = spy_cache_reads(monkeypatch)
    assert client.get("/today/").status_code == 200
    with_user = next(i for i, (_, keys) in enumerate(reads) if f"profile:{user.pk}" in keys)
    assert _reads_holding(reads, _gate_keys(user)) == [with_user]
    assert _gate_keys(user) <= set(reads[with_user][1])


def test_a_worker_that_never_saw_the_person_reads_them_in_the_gates_round_trip(monkeypatch):
    user = make_user()
    client = _signed_in(user)
    assert client.get("/today/").status_code == 200
    monkeypatch.setattr(lib.cache, "_EXPECTED", {})  # the next request reaches another worker
    reads = spy_cache_reads(monkeypatch)
    assert client.get("/today/").status_code == 200
    with_user = next(i for i, (_, keys) in enumerate(reads) if f"profile:{user.pk}" in keys)
    gate = _reads_holding(reads, _gate_keys(user))
    assert len(gate) == 1 and gate[0] > with_user


@pytest.mark.parametrize(
    "stamp",
    [
        lambda user: make_session(user, stop_signals=[StopSignal.SHARP_PAIN]),
        lambda user: add_stop_signal(session=make_session(user), signal=StopSignal.LASTING_PAIN),
    ],
    ids=["a session with a stop signal", "a stop signal added to a session"],
)
def test_a_stop_signal_written_elsewhere_pauses_the_next_request(stamp):
    """Written by another worker (here, no request at all): this worker still expects the
    record's old key, and must read the new one."""
    user = make_user()
    client = _signed_in(user)
    assert client.get("/today/").status_code == 200
    old = _gate_keys(user)
    stamp(user)
    assert _gate_keys(user) != old  # the record's key moved on with the history
    response = client.get("/today/")
    assert response.status_code == 302 and response["Location"] == "/screening/"
    logged = client.post("/today/log/", session_post(), headers={"HX-Request": "true"})
    assert logged.headers.get("HX-Redirect") == "/screening/"


def test_the_same_entry_stored_again_under_an_expected_key_is_the_one_read():
    """A key names what it holds: whatever is stored under the expected key when the user
    is read is what the gate uses, never an older copy from this worker."""
    user = make_user()
    client = _signed_in(user)
    assert client.get("/today/").status_code == 200
    from django.core.cache import cache

    key = safety_key(user)
    cache.delete(key)  # evicted: the gate reads nothing with the user and computes it
    assert client.get("/today/").status_code == 200
    assert cache.get(key) is not None


def test_another_persons_expected_keys_are_never_read_for_someone_else(monkeypatch):
    first, second = make_user(), make_user()
    assert _signed_in(first).get("/today/").status_code == 200
    client = _signed_in(second)
    reads = spy_cache_reads(monkeypatch)
    assert client.get("/today/").status_code == 200
    read = {key for kind, keys in reads for key in ([keys] if kind == "get" else keys)}
    assert not (_gate_keys(first) - _gate_keys(second)) & read


def test_the_gates_entries_read_with_the_user_are_loaded_only_when_asked_for(monkeypatch):
    user = make_user()
    client = _signed_in(user)
    assert client.get("/today/").status_code == 200
    loaded = []
    real = Stored.value
    monkeypatch.setattr(Stored, "value", lambda self: loaded.append(self) or real(self))
    assert client.get("/today/").status_code == 200
    assert loaded  # the gate's request takes them


def test_a_paused_person_stays_paused_request_after_request():
    user = make_user()
    client = _signed_in(user)
    assert client.get("/today/").status_code == 200
    make_session(user, stop_signals=[StopSignal.NUMBNESS])
    for _ in range(3):
        response = client.get("/today/")
        assert response.status_code == 302 and response["Location"] == "/screening/"


def test_the_remembered_keys_stay_bounded(monkeypatch):
    monkeypatch.setattr(lib.cache, "_EXPECTED", {})
    monkeypatch.setattr(lib.cache, "EXPECTED_MAX", 3)
    monkeypatch.setattr(lib.cache, "EXPECTED_PATHS_MAX", 2)
    for user_id in range(1, 8):
        expect_keys(user_id, [f"k:{user_id}"], "/today/")
        assert len(lib.cache._EXPECTED) <= 3
    assert lib.cache._EXPECTED[7] == (("k:7",), frozenset({"/today/"}))
    for path in ("/today/log/", "/sessions/new/", "/today/"):
        expect_keys(7, ["k:7"], path)
        assert len(lib.cache._EXPECTED[7][1]) <= 2 and path in lib.cache._EXPECTED[7][1]


def test_only_a_path_the_gate_answered_reads_its_keys_with_the_user(monkeypatch):
    """``/healthz`` and the progress pages are not gated: they never ask for the safety
    record, and never pay for reading it with the user."""
    user = make_user()
    client = _signed_in(user)
    assert client.get("/today/").status_code == 200
    reads = spy_cache_reads(monkeypatch)
    for path in ("/healthz", "/progress/", "/sessions/"):
        assert client.get(path).status_code == 200
    assert _reads_holding(reads, {safety_key(user)}) == []
    response = client.post("/today/log/", session_post(), headers={"HX-Request": "true"})
    assert response.headers.get("HX-Trigger") == "session-logged"  # a new gated path learnt
    assert "/today/log/" in lib.cache._EXPECTED[user.pk][1]


def test_a_changed_setting_reads_the_record_under_its_new_key(monkeypatch):
    """A setting saved (here a time zone, by another worker) moves the versions on: the
    record is read under its new key, not the one this worker expects."""
    user = make_user()
    client = _signed_in(user)
    assert client.get("/today/").status_code == 200
    old = _gate_keys(user)
    profile = Profile.objects.get(user=user)
    profile.time_zone = "Pacific/Pago_Pago" if profile.time_zone != "Pacific/Pago_Pago" else "UTC"
    save_profile(profile, ["time_zone"])
    reads = spy_cache_reads(monkeypatch)
    assert client.get("/today/").status_code == 200
    assert _gate_keys(user) != old
    assert _reads_holding(reads, {safety_key(user)})
