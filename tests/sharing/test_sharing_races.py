"""The open limit holds when many workers count at once (PostgreSQL, real connections)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from sharing.models import ShareLink, ShareOpenCount
from sharing.services import create_link
from tests.conftest import make_user
from tests.hardening.test_races import in_threads

THREADS = 20
LIMIT = 10


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_simultaneous_opens_from_one_address_let_exactly_the_limit_through(settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (set DATABASE_URL=postgres://...)")
    settings.SHARE_OPEN_LIMIT = LIMIT
    link, token = create_link(user=make_user(), days=7)

    statuses = in_threads(
        THREADS, lambda i: Client(REMOTE_ADDR="203.0.113.9").get(f"/shared/{token}/").status_code
    )

    assert sorted(statuses) == [200] * LIMIT + [429] * (THREADS - LIMIT)
    assert ShareOpenCount.objects.get().opens == THREADS  # no count lost between connections
    assert ShareLink.objects.get(pk=link.pk).open_count == LIMIT
