"""Every URL that takes an id answers 404 to anyone but the owner, and changes nothing."""

from __future__ import annotations

import pytest
from django.forms.models import model_to_dict
from django.test import Client

from tests.conftest import make_session, make_user, session_post
from tests.hardening.conftest import FIGURES
from tests.hardening.routes import all_routes, fill
from tracking.models import Session

pytestmark = pytest.mark.django_db

# URL name -> the model its id points at. A new id URL fails the test until it is added.
OWNED_BY_ID = {"session-edit": Session, "session-delete": Session, "session-sharp": Session}
# Answering only POST: a GET is refused before the owner is looked up, which tells nothing.
POST_ONLY = {"session-sharp"}


def id_routes():
    return [route for route in all_routes() if route.takes_id and not route.is_admin]


def test_the_walk_finds_every_id_url_and_knows_its_model():
    assert {route.name for route in id_routes()} == set(OWNED_BY_ID)


def snapshot(row) -> dict:
    return {"pk": row.pk, **model_to_dict(row), "updated_at": row.updated_at}


@pytest.mark.parametrize("route", id_routes(), ids=lambda route: route.name)
def test_another_user_gets_404_and_changes_nothing(route):
    owner, intruder = make_user("owner"), make_user("intruder")
    row = make_session(owner)
    before = snapshot(row)
    client = Client()
    client.force_login(intruder)
    url = fill(route, {"pk": str(row.pk)})
    edit = session_post(
        pain_before="0", pain_after="0", note="changed", version=str(row.version)
    ) | {"performed_at": "2020-01-01T08:00"}

    responses = [
        client.get(url),
        client.post(url, edit),
        client.post(url, {}),
        client.post(url, edit, headers={"HX-Request": "true"}),
    ]

    get_status = 405 if route.name in POST_ONLY else 404
    assert [r.status_code for r in responses] == [get_status, 404, 404, 404]
    assert snapshot(Session.objects.get(pk=row.pk)) == before
    # The owner, by contrast, reaches it: the 404 is about ownership, not a broken URL.
    owner_client = Client()
    owner_client.force_login(owner)
    if route.name in POST_ONLY:
        assert owner_client.post(url).status_code == 302
    else:
        assert owner_client.get(url).status_code == 200
    FIGURES["other"]["id URLs proven private (GET + 3 POSTs each)"] += 1
