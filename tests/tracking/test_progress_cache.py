"""Cached progress must never be stale: every write bumps the version it is keyed by."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.conftest import make_session, make_user, session_post
from tracking.models import Session

pytestmark = pytest.mark.django_db


def sessions_shown(client) -> int:
    text = client.get("/progress/").content.decode()
    match = re.search(r": (\d+) sessions? on \d+ days?", text)
    return int(match.group(1)) if match else 0


@pytest.fixture
def amy(client):
    user = make_user("amy")
    user.profile.programme_start = user.profile.local_today() - timedelta(days=20)
    user.profile.save()
    for days_ago in range(1, 6):
        make_session(user, performed_at=timezone.now() - timedelta(days=days_ago))
    client.force_login(user)
    return user


def test_a_newly_logged_session_shows_on_the_very_next_load(client, amy):
    assert sessions_shown(client) == 5
    assert sessions_shown(client) == 5  # served from the cache
    client.post("/today/lasting-pain/", {"lasting": "no"})  # asked before the day's first
    assert client.post("/today/log/", session_post()).status_code == 302
    assert sessions_shown(client) == 6


def test_deleting_a_session_shows_on_the_next_load(client, amy):
    assert sessions_shown(client) == 5
    session = Session.objects.filter(user=amy).first()
    client.post(f"/sessions/{session.pk}/delete/")
    assert sessions_shown(client) == 4


def test_an_edit_shows_on_the_next_load(client, amy):
    client.get("/progress/")
    session = Session.objects.filter(user=amy).order_by("-performed_at").first()
    form = client.get(f"/sessions/{session.pk}/edit/").context["form"]
    data = {
        **{k: v for k, v in form.initial.items() if v is not None},
        "performed_at": form.initial["performed_at"].strftime("%Y-%m-%dT%H:%M"),
        "pain_before": 9,
        "pain_after": 9,
        "stop_signals": [],
    }
    assert client.post(f"/sessions/{session.pk}/edit/", data).status_code == 302
    table = client.get("/progress/").content.decode()
    assert "9.0" in table or ">9<" in table


def test_one_users_cache_never_reaches_another(client, amy):
    client.get("/progress/")
    bob = make_user("bob")
    client.force_login(bob)
    assert sessions_shown(client) == 0


def done_today(client) -> int:
    text = client.get("/today/").content.decode()
    return int(re.search(r"<span data-done-count>(\d+)</span>", text).group(1))


def test_todays_plan_counts_a_new_session_on_the_very_next_load(client, amy):
    assert done_today(client) == 0
    assert done_today(client) == 0  # served from the cache
    client.post("/today/lasting-pain/", {"lasting": "no"})  # asked before the day's first
    client.post("/today/log/", session_post())
    assert done_today(client) == 1


def test_todays_plan_follows_a_catalogue_edit_at_once(client, amy):
    from stretches.models import Exercise

    client.get("/today/")
    Exercise.objects.filter(slug="morning-in-bed").update(name="Gentle wake-up stretch")
    assert "Gentle wake-up stretch" in client.get("/today/").content.decode()


def test_saving_the_account_settings_retires_cached_pages(signed_in, user):
    before = user.profile.data_version
    form = {
        "time_zone": "Europe/London",
        "programme_start": user.profile.programme_start.isoformat(),
        "phase": "acute",
        "desk_work": "",
        "sciatica_side": "",
    }

    assert signed_in.post("/account/", form).status_code == 302

    user.profile.refresh_from_db()
    assert user.profile.data_version == before + 1
    assert "Acute flare" in signed_in.get("/today/").content.decode()
