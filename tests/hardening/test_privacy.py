"""Account deletion removes every row that belongs to the user, and nothing else."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session as LoginSession
from django.db import models
from django.test import Client

from stretches.models import Clearance, ExaminationConfirmation
from stretches.screening import Verdict
from tests.conftest import PASSWORD, make_screening, make_session, make_user
from tests.hardening.conftest import FIGURES
from tracking.models import WeeklyCheckin

pytestmark = pytest.mark.django_db
User = get_user_model()
AXES_MODELS = (AccessAttempt, AccessFailureLog, AccessLog)


def user_foreign_keys() -> list[tuple[type[models.Model], str]]:
    """(model, field) for every FK or one-to-one to the user in every installed app."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.get_fields():
            if (
                isinstance(field, models.ForeignKey)  # OneToOneField is one too
                and field.related_model is User
            ):
                found.append((model, field.name))
    return found


def rows_of(user_id: int, username: str) -> dict[str, int]:
    counts = {
        f"{model._meta.label}.{field}": model._default_manager.filter(**{field: user_id}).count()
        for model, field in user_foreign_keys()
    }
    counts["auth.User"] = User.objects.filter(pk=user_id).count()
    counts["sessions.Session (decoded)"] = sum(
        login.get_decoded().get("_auth_user_id") == str(user_id)
        for login in LoginSession.objects.all()
    )
    for model in AXES_MODELS:
        counts[f"{model._meta.label} (username)"] = model.objects.filter(username=username).count()
    return counts


def give_every_kind_of_row(user, settings) -> None:
    """A row in every table that can hold this user's data."""
    make_session(user)
    make_session(user, pain_before=7, pain_after=6)
    make_session(user, pain_before=3, pain_after=8)  # a stamped pain rise and severe score
    urgent = make_screening(user, Verdict.URGENT)
    Clearance.objects.create(user=user, screening=urgent, cleared_on=urgent.taken_at.date())
    emergency = make_screening(user, Verdict.EMERGENCY)
    ExaminationConfirmation.objects.create(
        user=user, screening=emergency, examined_on=emergency.taken_at.date()
    )
    make_screening(user)
    WeeklyCheckin.objects.create(user=user, week=2, movement="better", sleep="same")
    group = Group.objects.create(name=f"group-of-{user.username}")
    user.groups.add(group)
    user.user_permissions.add(*list(ContentType.objects.get_for_model(Group).permission_set.all()))
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(Group),
        object_id=str(group.pk),
        object_repr=str(group),
        action_flag=ADDITION,
    )
    # Log-in records: a failure from one address, a success (access log) from another,
    # and the failure log that axes can be switched to keep.
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True
    Client().post(
        "/accounts/login/",
        {"username": user.username, "password": "wrong"},
        REMOTE_ADDR="198.51.100.3",
    )
    Client().post("/accounts/login/", {"username": user.username, "password": PASSWORD})


def test_account_deletion_removes_every_row_of_the_user_and_only_theirs(settings):
    alice, bob = make_user("alice"), make_user("bob")
    give_every_kind_of_row(alice, settings)
    give_every_kind_of_row(bob, settings)
    laptop, phone = Client(), Client()
    laptop.force_login(alice)
    phone.force_login(alice)
    bob_client = Client()
    bob_client.force_login(bob)
    before, bob_before = rows_of(alice.pk, "alice"), rows_of(bob.pk, "bob")
    # Every table that holds the user's data holds some here, so "0 after" means something.
    assert all(count > 0 for count in before.values()), before
    assert {"accounts.Profile.user", "tracking.Session.user", "stretches.Clearance.user"} <= set(
        before
    )

    response = laptop.post("/account/delete/", {"password": PASSWORD})

    assert response.status_code == 302 and response.url == "/"
    after = rows_of(alice.pk, "alice")
    assert after == dict.fromkeys(before, 0), after
    assert rows_of(bob.pk, "bob") == bob_before  # nothing of anyone else went
    assert phone.get("/today/").status_code == 302  # the other device is signed out
    assert laptop.get("/today/").status_code == 302
    assert bob_client.get("/today/").status_code == 200
    FIGURES["other"]["deletion: tables checked for the user's rows"] = len(before)
    FIGURES["other"]["deletion: user's rows before (0 after)"] = sum(before.values())
    FIGURES["other"]["deletion: other user's rows lost"] = sum(bob_before.values()) - sum(
        rows_of(bob.pk, "bob").values()
    )


def test_wrong_password_deletes_nothing(settings):
    alice = make_user("alice")
    give_every_kind_of_row(alice, settings)
    client = Client()
    client.force_login(alice)
    before = rows_of(alice.pk, "alice")

    response = client.post("/account/delete/", {"password": "not-my-password"})

    assert response.status_code == 200
    assert "Nothing was deleted" in response.text
    assert rows_of(alice.pk, "alice") == before
    assert client.get("/today/").status_code == 200


def test_deletion_needs_a_post(client):
    alice = make_user("alice")
    client.force_login(alice)

    page = client.get("/account/delete/", {"password": PASSWORD})

    assert page.status_code == 200
    assert User.objects.filter(pk=alice.pk).exists()
