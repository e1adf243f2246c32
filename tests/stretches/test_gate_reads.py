"""The gate's reads from the shared cache: the safety record and the stretch catalogue
that every gated view reads next come in one round trip (issue 15), and a record
changed since is still read fresh."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from lib.cache import shared_keys
from stretches.models import StopSignal
from stretches.safety import safety_key
from stretches.signals import CATALOGUE, CATALOGUE_COPY
from tests.factories import make_session, make_user, session_post, spy_cache_reads

pytestmark = pytest.mark.django_db

GATED = [("get", "/today/"), ("post", "/today/log/"), ("get", "/sessions/new/")]


@pytest.fixture
def reads(monkeypatch):
    return spy_cache_reads(monkeypatch)


@override_settings(CACHE_IS_SHARED=True)
@pytest.mark.parametrize(("method", "path"), GATED)
def test_the_gate_reads_the_safety_record_and_catalogue_in_one_round_trip(method, path, reads):
    user = make_user()
    client = Client()
    client.force_login(user)
    client.get("/today/")  # everything cached once
    user.profile.refresh_from_db()
    wanted = {safety_key(user), *shared_keys(CATALOGUE, CATALOGUE_COPY)}
    reads.clear()
    data = session_post() if method == "post" else None
    response = getattr(client, method)(path, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    together = [keys for kind, keys in reads if kind == "get_many" and wanted <= set(keys)]
    alone = [
        key
        for kind, keys in reads
        for key in ([keys] if kind == "get" else keys)
        if key in wanted and not (kind == "get_many" and wanted <= set(keys))
    ]
    assert len(together) == 1 and alone == []


@override_settings(CACHE_IS_SHARED=True)
def test_a_stop_signal_saved_after_the_gates_read_closes_the_plan_on_the_next_request():
    # The prefetched record is this request's; the next request reads the new one.
    user = make_user()
    client = Client()
    client.force_login(user)
    assert client.get("/today/").status_code == 200
    make_session(user, stop_signals=[StopSignal.SHARP_PAIN])
    response = client.get("/today/")
    assert response.status_code == 302 and response["Location"] == "/screening/"
