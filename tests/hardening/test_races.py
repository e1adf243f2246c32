"""Double submits and two tabs: one session per client token, and no silent overwrite."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone

from stretches.models import Clearance
from stretches.screening import Verdict
from tests.conftest import make_screening, make_session, make_user, session_post
from tests.hardening.conftest import FIGURES
from tracking.models import Session

User = get_user_model()
THREADS = 20
ROUNDS = 50


def edit_post(session: Session, *, version: int, pain_after: int) -> dict:
    return session_post(
        performed_at=session.performed_at.strftime("%Y-%m-%dT%H:%M"),
        pain_after=str(pain_after),
        version=str(version),
        client_token=None,
    )


def in_threads(count: int, work) -> list:
    """Run work(i) in ``count`` threads released together; return their results in order."""
    results: list = [None] * count
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(i: int) -> None:
        try:
            start.wait(timeout=30)
            results[i] = work(i)
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection: do not leak it

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db
def test_second_tab_saving_an_old_version_is_refused_with_a_message():
    user = make_user()
    session = make_session(user, pain_after=4)
    first_tab, second_tab = Client(), Client()
    first_tab.force_login(user)
    second_tab.force_login(user)
    # Both tabs open the edit page at version 1.
    assert 'name="version" value="1"' in first_tab.get(f"/sessions/{session.pk}/edit/").text
    assert 'name="version" value="1"' in second_tab.get(f"/sessions/{session.pk}/edit/").text

    saved = first_tab.post(
        f"/sessions/{session.pk}/edit/", edit_post(session, version=1, pain_after=2)
    )
    refused = second_tab.post(
        f"/sessions/{session.pk}/edit/", edit_post(session, version=1, pain_after=9), follow=True
    )

    assert saved.status_code == 302 and saved.url == "/sessions/"
    assert refused.redirect_chain == [(f"/sessions/{session.pk}/edit/", 302)]
    assert "changed somewhere else" in refused.text
    assert "Your edit was not saved" in refused.text
    assert 'name="version" value="2"' in refused.text  # the form now shows the latest version
    session.refresh_from_db()
    assert (session.pain_after, session.version) == (2, 2)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_simultaneous_submits_of_one_form_store_one_session_fifty_times_over():
    user = make_user()
    clients = []
    for _ in range(THREADS):
        client = Client()
        client.force_login(user)
        clients.append(client)
    forms = [session_post(client_token=str(uuid.uuid4())) for _ in range(ROUNDS)]
    # The same threads (and connections) serve every round; the barrier releases all
    # twenty at once at the start of each round.
    each_round = threading.Barrier(THREADS)

    def submit_every_round(i: int) -> list[int]:
        statuses = []
        for form in forms:
            each_round.wait(timeout=30)
            statuses.append(clients[i].post("/today/log/", form).status_code)
        return statuses

    results = in_threads(THREADS, submit_every_round)

    assert {status for statuses in results for status in statuses} == {302}
    for form in forms:
        assert Session.objects.filter(user=user, client_token=form["client_token"]).count() == 1
    assert Session.objects.filter(user=user).count() == ROUNDS
    FIGURES["other"]["race: simultaneous log submits (rounds x threads)"] = ROUNDS * THREADS


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_simultaneous_edits_of_one_version_let_exactly_one_win():
    user = make_user()
    tabs = []
    for _ in range(8):
        tab = Client()
        tab.force_login(user)
        tabs.append(tab)

    for _ in range(10):
        session = make_session(user, pain_after=5)
        results = in_threads(
            len(tabs),
            lambda i, s=session: tabs[i].post(
                f"/sessions/{s.pk}/edit/", edit_post(s, version=1, pain_after=i % 11)
            ),
        )
        winners = [i for i, r in enumerate(results) if r.url == "/sessions/"]
        refused = [r for r in results if r.url == f"/sessions/{session.pk}/edit/"]
        assert len(winners) == 1 and len(refused) == len(tabs) - 1
        session.refresh_from_db()
        assert session.version == 2
        assert session.pain_after == winners[0] % 11


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_sign_up_answers_both_clicks_as_the_first_did():
    form = {
        "username": "twice",
        "password1": "calm-Stretch-42",
        "password2": "calm-Stretch-42",
        "time_zone": "UTC",
    }
    for round_ in range(10):
        form["username"] = f"twice-{round_}"
        # One person per round, each from their own address (sign-ups are throttled per address).
        clients = [
            Client(raise_request_exception=False, REMOTE_ADDR=f"203.0.113.{round_}")
            for _ in range(2)
        ]

        results = in_threads(2, lambda i, c=clients: c[i].post("/accounts/signup/", form))

        assert [r.status_code for r in results] == [302, 302]
        assert {r.url for r in results} == {"/screening/"}
        assert User.objects.filter(username=form["username"]).count() == 1
        for client in clients:  # both tabs are signed in to that one account
            assert client.get("/screening/").status_code == 200


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_clearance_answers_both_clicks_as_the_first_did():
    for _ in range(10):
        user = make_user()
        make_screening(user, Verdict.CLINICIAN_FIRST)
        clients = [Client(raise_request_exception=False) for _ in range(2)]
        for client in clients:
            client.force_login(user)
        today = timezone.localdate().isoformat()

        results = in_threads(
            2,
            lambda i, c=clients, d=today: c[i].post(
                "/screening/clearance/", {"cleared_by": "gp", "cleared_on": d}
            ),
        )

        assert [r.status_code for r in results] == [302, 302]
        assert Clearance.objects.filter(user=user).count() == 1
