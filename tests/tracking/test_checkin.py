from datetime import timedelta

import pytest

from tests.conftest import make_user
from tracking.models import WeeklyCheckin

pytestmark = pytest.mark.django_db


def started_days_ago(days: int):
    user = make_user()
    user.profile.programme_start = user.profile.local_today() - timedelta(days=days)
    user.profile.save()
    return user


def test_week_one_offers_no_checkin_because_there_is_no_last_week(client):
    client.force_login(started_days_ago(3))
    assert "check-in" not in client.get("/today/").content.decode()


def test_week_two_offers_the_checkin_once_and_saves_it_in_one_tap(client):
    user = started_days_ago(8)
    client.force_login(user)
    assert "Week 2 check-in" in client.get("/today/").content.decode()

    response = client.post("/checkin/", {"movement": "better", "sleep": "same", "next": "/today/"})

    assert response.status_code == 302 and response.url == "/today/"
    checkin = WeeklyCheckin.objects.get(user=user)
    assert (checkin.week, checkin.movement, checkin.sleep) == (2, "better", "same")
    assert "Week 2 check-in" not in client.get("/today/").content.decode()


def test_answering_again_in_the_same_week_updates_instead_of_duplicating(client):
    user = started_days_ago(8)
    client.force_login(user)
    client.post("/checkin/", {"movement": "better", "sleep": "same"})
    client.post("/checkin/", {"movement": "worse", "sleep": "worse"})
    assert list(WeeklyCheckin.objects.filter(user=user).values_list("movement", "sleep")) == [
        ("worse", "worse")
    ]


@pytest.mark.parametrize(
    "data",
    [{"movement": "better"}, {"movement": "great", "sleep": "same"}, {"sleep": "same"}, {}],
)
def test_an_incomplete_or_unknown_answer_is_refused_and_nothing_stored(client, data):
    user = started_days_ago(8)
    client.force_login(user)
    response = client.post("/checkin/", data, follow=True)
    assert "The check-in was not saved" in response.content.decode()
    assert not WeeklyCheckin.objects.filter(user=user).exists()


def test_checkin_redirect_never_leaves_the_site(client):
    client.force_login(started_days_ago(8))
    response = client.post(
        "/checkin/", {"movement": "same", "sleep": "same", "next": "https://evil.example/"}
    )
    assert response.url == "/today/"
