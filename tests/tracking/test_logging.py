"""Logging, listing, editing and deleting sessions: the service, the views and the rules."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from datetime import datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from stretches.models import SafetyEvent, StopSignal
from stretches.progression import DOUBLE_LEG
from tests.conftest import exercise, make_screening, make_session, make_user, session_post
from tests.pages import messages_of, page_text
from tracking.models import Session, Sides
from tracking.plan import catalogue_rules
from tracking.services import log_session

UTC = zoneinfo.ZoneInfo("UTC")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOON = datetime(2025, 6, 10, 12, 0, tzinfo=UTC)


def service_kwargs(user, **overrides) -> dict:
    kwargs = {
        "user": user,
        "exercise": exercise(),
        "performed_at": timezone.now(),
        "sides": Sides.LEFT_AND_RIGHT,
        "reps_per_side": 3,
        "hold_seconds": 20,
        "hold_seconds_target": 20,
        "pain_before": 5,
        "pain_after": 3,
        "stop_signals": [],
        "note": "",
        "client_token": uuid.uuid4(),
    }
    kwargs.update(overrides)
    return kwargs


# --- The log_session service --------------------------------------------------------------------


def test_log_session_stores_one_session(user):
    session, created = log_session(**service_kwargs(user, note="felt easy"))

    assert created is True
    stored = Session.objects.get(user=user)
    assert stored == session
    assert (stored.pain_before, stored.pain_after, stored.note) == (5, 3, "felt easy")
    assert stored.has_stop_signal is False
    assert not SafetyEvent.objects.filter(user=user, kind="stop_signal").exists()


def test_the_same_client_token_twice_stores_one_row(user):
    token = uuid.uuid4()
    first, created_first = log_session(**service_kwargs(user, client_token=token))

    second, created_second = log_session(
        **service_kwargs(user, client_token=token, pain_before=9, stop_signals=["cramp"])
    )

    assert (created_first, created_second) == (True, False)
    assert second.pk == first.pk
    assert Session.objects.filter(user=user).count() == 1
    stored = Session.objects.get(user=user)
    assert stored.pain_before == 5
    assert stored.has_stop_signal is False
    assert not SafetyEvent.objects.filter(user=user, kind="stop_signal").exists()


def test_the_same_token_for_two_users_is_two_sessions(user, other_user):
    token = uuid.uuid4()
    log_session(**service_kwargs(user, client_token=token))
    log_session(**service_kwargs(other_user, client_token=token))
    assert Session.objects.filter(client_token=token).count() == 2


def test_a_stop_signal_pauses_the_programme(user):
    with time_machine.travel(NOON, tick=False):
        session, _ = log_session(
            **service_kwargs(
                user,
                performed_at=NOON - timedelta(days=2),
                stop_signals=["sharp_pain", "numbness", "made-up"],
            )
        )

    assert session.stop_signals == ["numbness", "sharp_pain"]
    assert session.has_stop_signal is True
    stamp = SafetyEvent.objects.get(user=user, kind="stop_signal")
    # Stamped when reported, not when done: a back-dated signal still needs a new screening.
    assert stamp.recorded_at == NOON
    assert stamp.signals == ["numbness", "sharp_pain"]
    assert stamp.day == (NOON - timedelta(days=2)).date()


def test_log_session_is_one_transaction(user):
    with (
        mock.patch("tracking.services.stamp_session", side_effect=RuntimeError("db gone")),
        pytest.raises(RuntimeError),
    ):
        log_session(**service_kwargs(user, stop_signals=["cramp"]))

    assert not Session.objects.filter(user=user).exists()


def test_a_refusal_after_the_insert_is_not_taken_for_a_repeat(user):
    """The insert has no savepoint of its own: a database refusal later in the same
    transaction (here, stamping) rolls the session back with it and stands, rather than
    being read as "that form was already saved"."""
    profile = user.profile
    versions = (profile.data_version, profile.history_version)
    with (
        mock.patch("tracking.services.stamp_session", side_effect=IntegrityError("refused")),
        pytest.raises(IntegrityError),
    ):
        log_session(**service_kwargs(user))

    assert not Session.objects.filter(user=user).exists()
    profile.refresh_from_db()
    assert (profile.data_version, profile.history_version) == versions


def test_a_repeated_form_moves_no_version(user):
    token = uuid.uuid4()
    log_session(**service_kwargs(user, client_token=token))
    profile = user.profile
    profile.refresh_from_db()
    versions = (profile.data_version, profile.history_version)

    _, created = log_session(**service_kwargs(user, client_token=token))

    assert created is False
    profile.refresh_from_db()
    assert (profile.data_version, profile.history_version) == versions


def test_pain_outside_0_10_is_refused_by_the_database(user):
    for field, value in (("pain_before", 11), ("pain_after", 11)):
        values = {"pain_before": 5, "pain_after": 5, field: value}
        with pytest.raises(IntegrityError), transaction.atomic():
            Session.objects.create(
                user=user,
                performed_at=timezone.now(),
                exercise=exercise(),
                sides=Sides.LEFT,
                reps_per_side=3,
                hold_seconds=20,
                **values,
            )
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("reps_per_side", 0), ("reps_per_side", 11), ("hold_seconds", 0), ("hold_seconds", 121)],
)
def test_reps_and_holds_outside_their_range_are_refused_by_the_database(user, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_session(user, **{field: value})


# --- POST /today/log/ -----------------------------------------------------------------------------


def test_logging_a_session_redirects_to_today_and_stores_it(signed_in, user):
    data = session_post(pain_before="6", pain_after="4", note="before work")

    response = signed_in.post("/today/log/", data)

    assert response.status_code == 302
    assert response.url == "/today/"
    stored = Session.objects.get(user=user)
    assert str(stored.client_token) == data["client_token"]
    assert (stored.pain_before, stored.pain_after, stored.note) == (6, 4, "before work")
    assert stored.exercise.slug == "single-knee-to-chest"
    assert stored.sides == Sides.LEFT_AND_RIGHT
    today = signed_in.get("/today/")
    assert "Session saved." in messages_of(today)
    assert "Done today: <span data-done-count>1</span>" in today.content.decode()


def test_posting_the_same_log_form_twice_stores_one_session(signed_in, user):
    data = session_post()
    signed_in.post("/today/log/", data)

    again = signed_in.post("/today/log/", data)

    assert again.status_code == 302
    assert Session.objects.filter(user=user).count() == 1
    assert "That session was already saved." in messages_of(signed_in.get("/today/"))


def test_logging_by_htmx_returns_the_fresh_form_and_triggers_an_update(signed_in, user):
    data = session_post()

    response = signed_in.post("/today/log/", data, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response["HX-Trigger"] == "session-logged"
    text = page_text(response)
    assert "<html" not in text
    assert text.lstrip().startswith('<section id="log-form"')
    assert "Saved: Single knee to chest, pain 5 → 3." in text
    tokens = re.findall(r'name="client_token" value="([^"]+)"', text)
    assert len(tokens) == 1
    assert tokens[0] != data["client_token"]
    assert uuid.UUID(tokens[0])
    assert Session.objects.filter(user=user).count() == 1


def test_an_invalid_htmx_log_returns_the_form_with_errors(signed_in, user):
    response = signed_in.post(
        "/today/log/", session_post(pain_before="12"), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "Pain must be a whole number from 0 to 10." in page_text(response)
    assert not Session.objects.exists()


def test_logging_needs_post(signed_in):
    assert signed_in.get("/today/log/").status_code == 405


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("pain_before", "-1", "Pain must be a whole number from 0 to 10."),
        ("pain_before", "11", "Pain must be a whole number from 0 to 10."),
        ("pain_after", "4.5", "Pain must be a whole number from 0 to 10."),
        ("pain_after", "abc", "Pain must be a whole number from 0 to 10."),
        ("pain_before", "", "Choose a number from 0 (no pain) to 10 (worst imaginable)."),
        ("hold_seconds", "0", "greater than or equal to 1."),
        ("hold_seconds", "10000", "less than or equal to 120."),
        ("hold_seconds", "twenty", "Enter the hold in whole seconds, from 1 to 120."),
        ("reps_per_side", "0", "greater than or equal to 1."),
        ("reps_per_side", "11", "less than or equal to 10."),
        ("exercise", "cartwheel", "Choose a stretch from the list."),
        ("sides", "upside-down", "Choose which side or sides you stretched."),
        ("sides", "both", "This stretch is done one leg at a time."),
        ("stop_signals", "sneezing", "Choose only from the signs listed."),
        ("client_token", "not-a-uuid", "This form is out of date. Please reload the page"),
        ("client_token", "", "This form is out of date. Please reload the page"),
    ],
)
def test_bad_log_input_is_refused_with_a_message_on_the_field(
    signed_in, user, field, value, message
):
    response = signed_in.post("/today/log/", session_post(**{field: value}))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert any(message in e for e in errors[field]), errors[field]
    assert message in page_text(response)
    assert "The session was not saved: please correct the marked fields." in messages_of(response)
    assert not Session.objects.exists()


@pytest.mark.parametrize("field", ["pain_before", "pain_after"])
def test_the_pain_error_is_shown_beside_its_field(signed_in, field):
    response = signed_in.post("/today/log/", session_post(**{field: "11"}))
    text = page_text(response)
    assert f'<p class="errorlist" id="id_{field}-error">Pain must be a whole number' in text


def test_double_leg_cannot_be_logged_from_today_before_it_is_unlocked(signed_in):
    response = signed_in.post("/today/log/", session_post(exercise=DOUBLE_LEG, sides="both"))

    assert response.status_code == 400
    assert response.context["form"].errors["exercise"] == ["Choose a stretch from the list."]
    assert not Session.objects.exists()


# --- /sessions/new/: back-dated sessions ----------------------------------------------------------


@pytest.fixture
def paris_user(db, client):
    """A signed-in user in Paris (UTC+2 in June), with the clock frozen at 14:00 there."""
    with time_machine.travel(NOON, tick=False):
        someone = make_user(time_zone="Europe/Paris", start=NOON.date() - timedelta(days=20))
        client.force_login(someone)
        yield someone


def paris(when: datetime) -> str:
    return when.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    "ago",
    [timedelta(0), timedelta(hours=5), timedelta(days=6, hours=23)],
    ids=["now", "this-morning", "6-days-23-hours"],
)
def test_backdated_session_within_7_days_is_stored_at_the_local_time(client, paris_user, ago):
    response = client.post(
        "/sessions/new/", session_post(performed_at=paris(NOON - ago), pain_before="7")
    )

    assert response.status_code == 302, response.context["form"].errors
    assert response.url == "/sessions/"
    stored = Session.objects.get(user=paris_user)
    assert stored.performed_at == NOON - ago
    assert stored.pain_before == 7


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (NOON - timedelta(days=7, hours=1), "Sessions can be logged up to 7 days back."),
        (NOON - timedelta(days=30), "Sessions can be logged up to 7 days back."),
        (NOON + timedelta(hours=1), "That time is in the future."),
        (NOON + timedelta(days=2), "That time is in the future."),
    ],
    ids=["7-days-1-hour", "30-days", "in-an-hour", "in-2-days"],
)
def test_backdated_session_outside_the_window_is_refused(client, paris_user, when, message):
    response = client.post("/sessions/new/", session_post(performed_at=paris(when)))

    assert response.status_code == 400
    assert response.context["form"].errors["performed_at"] == [message]
    assert message in page_text(response)
    assert not Session.objects.exists()


def test_backdated_form_refuses_a_garbage_time(client, paris_user):
    response = client.post("/sessions/new/", session_post(performed_at="yesterday-ish"))
    assert response.status_code == 400
    assert "Enter a date and time" in response.context["form"].errors["performed_at"][0]
    assert not Session.objects.exists()


def test_backdated_double_leg_needs_both_sides(client, paris_user):
    response = client.post(
        "/sessions/new/",
        session_post(performed_at=paris(NOON - timedelta(hours=2)), exercise=DOUBLE_LEG),
    )
    response_left = client.post(
        "/sessions/new/",
        session_post(
            performed_at=paris(NOON - timedelta(hours=2)), exercise=DOUBLE_LEG, sides="left"
        ),
    )

    for refused in (response, response_left):
        assert refused.status_code == 400
        assert refused.context["form"].errors["sides"] == [
            "The double-leg stretch works both legs together."
        ]
    assert not Session.objects.exists()


def test_backdated_form_shows_the_allowed_window(client, paris_user):
    response = client.get("/sessions/new/")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'max="2025-06-10T14:00"' in text
    assert 'min="2025-06-03T14:00"' in text


# --- /sessions/: the list -------------------------------------------------------------------------


def add_sessions(user, count: int) -> None:
    single = exercise()
    Session.objects.bulk_create(
        Session(
            user=user,
            performed_at=timezone.now() - timedelta(hours=3 * n + 1),
            exercise=single,
            sides=Sides.LEFT_AND_RIGHT,
            reps_per_side=3,
            hold_seconds=20,
            pain_before=n % 11,
            pain_after=(n + 1) % 11,
            stop_signals=["cramp"] if n % 7 == 0 else [],
            has_stop_signal=n % 7 == 0,
            note=f"session {n}",
        )
        for n in range(count)
    )


def test_session_list_is_newest_first_and_paginated(signed_in, user):
    add_sessions(user, 25)

    first = signed_in.get("/sessions/")
    second = signed_in.get("/sessions/?page=2")

    shown = list(first.context["page"].object_list) + list(second.context["page"].object_list)
    assert [s.note for s in shown] == [f"session {n}" for n in range(25)]
    times = [s.performed_at for s in shown]
    assert times == sorted(times, reverse=True)
    assert len(first.context["page"].object_list) == 20
    assert first.context["page"].has_next()
    assert second.status_code == 200
    assert "Page 2 of 2" in second.content.decode()
    assert signed_in.get("/sessions/?page=99").context["page"].number == 2


def test_session_list_rows_show_each_session_escaped_under_its_local_day(client, db):
    """The rows are built in Python (tracking/templatetags/session_rows.py): every field a
    row shows, escaped, grouped under the user's own calendar day."""
    sydney = make_user(time_zone="Australia/Sydney")
    late = datetime(2025, 6, 10, 13, 30, tzinfo=UTC)  # 23:30 in Sydney, 10 June
    flagged = make_session(
        sydney, performed_at=late, note='<img src=x onerror="alert(1)"> & co',
        stop_signals=["numbness"], reps_per_side=1, hold_seconds_target=None,
    )  # fmt: skip
    early = make_session(sydney, performed_at=late + timedelta(hours=1), hold_seconds=25)
    client.force_login(sydney)
    html = client.get("/sessions/").content.decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co" in html
    assert "<img src=x" not in html
    label = dict(StopSignal.choices)["numbness"]
    assert f'<span class="badge badge-danger">Stop signal: {escape(label)}</span>' in html
    assert "1 rep · hold 20 s</span>" in html  # no aim without a prescribed hold
    assert "hold 25 s (aim 20 s)" in html
    days = re.findall(r'<h2 id="day-\d+">([^<]+)</h2>', html)
    assert days == ["Wednesday 11 June 2025", "Tuesday 10 June 2025"]
    for session in (flagged, early):
        assert f'href="/sessions/{session.pk}/edit/"' in html
        assert f'href="/sessions/{session.pk}/delete/"' in html
    assert "<strong>23:30</strong>" in html and "<strong>00:30</strong>" in html


def test_session_list_shows_only_the_users_own_sessions(signed_in, user, other_user):
    make_session(other_user, note="mallory's secret")
    make_session(user, note="mine")
    text = page_text(signed_in.get("/sessions/"))
    assert "mine" in text
    assert "mallory's secret" not in text


def test_session_list_query_count_does_not_grow(client, db, django_assert_num_queries):
    few, many = make_user(), make_user()
    add_sessions(few, 10)
    add_sessions(many, 200)

    # Each user's first request reads them into the shared cache (with REDIS_URL), so
    # every counted request below is a second one; the catalogue (everyone's) is read
    # into it before either.
    catalogue_rules()
    client.force_login(few)
    client.get("/healthz")
    with CaptureQueriesContext(connection) as few_queries:
        assert client.get("/sessions/").status_code == 200
    few_count, real = (
        len(few_queries),
        [q for q in few_queries.captured_queries if "SAVEPOINT" not in q["sql"]],
    )  # read now: the next request resets Django's query log
    client.force_login(many)
    client.get("/healthz")
    with django_assert_num_queries(few_count):
        assert client.get("/sessions/").status_code == 200
    with django_assert_num_queries(few_count):
        assert client.get("/sessions/?page=5").status_code == 200
    print(
        f"\n/sessions/ runs {few_count} queries ({len(real)} without savepoints)"
        " at 10 and at 200 sessions"
    )
    assert len(real) <= 6


# --- Editing ----------------------------------------------------------------------------------------


def edit_post(session: Session, **overrides) -> dict:
    data = {
        "performed_at": timezone.localtime(session.performed_at).strftime("%Y-%m-%dT%H:%M"),
        "exercise": session.exercise.slug,
        "sides": session.sides,
        "reps_per_side": str(session.reps_per_side),
        "hold_seconds": str(session.hold_seconds),
        "pain_before": str(session.pain_before),
        "pain_after": str(session.pain_after),
        "stop_signals": list(session.stop_signals),
        "note": session.note,
        "version": str(session.version),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_edit_page_shows_the_session(signed_in, user):
    session = make_session(user, note="original note")
    response = signed_in.get(f"/sessions/{session.pk}/edit/")
    assert response.status_code == 200
    assert "original note" in page_text(response)
    assert 'name="version" value="1"' in response.content.decode()


def test_edit_saves_and_bumps_the_version(signed_in, user):
    session = make_session(user, pain_before=5, pain_after=4)
    performed_at = session.performed_at

    response = signed_in.post(
        f"/sessions/{session.pk}/edit/",
        edit_post(session, pain_before="7", pain_after="2", note="fixed a typo"),
    )

    assert response.status_code == 302
    assert response.url == "/sessions/"
    session.refresh_from_db()
    assert (session.pain_before, session.pain_after, session.note) == (7, 2, "fixed a typo")
    assert session.version == 2
    # The minute shown in the form maps back to the exact stored time.
    assert session.performed_at == performed_at
    assert "Session updated." in messages_of(signed_in.get("/sessions/"))


def test_a_stale_edit_is_refused_with_a_message_and_changes_nothing(signed_in, user):
    session = make_session(user, pain_before=5)
    opened_in_two_tabs = edit_post(session)
    signed_in.post(f"/sessions/{session.pk}/edit/", {**opened_in_two_tabs, "pain_before": "6"})

    response = signed_in.post(
        f"/sessions/{session.pk}/edit/", {**opened_in_two_tabs, "pain_before": "9"}
    )

    assert response.status_code == 302
    assert response.url == f"/sessions/{session.pk}/edit/"
    session.refresh_from_db()
    assert session.pain_before == 6
    assert session.version == 2
    assert any(
        "This session was changed somewhere else" in m
        for m in messages_of(signed_in.get(response.url))
    )


def test_an_edit_cannot_remove_a_stop_signal(signed_in, user):
    session = make_session(
        user, performed_at=timezone.now() - timedelta(days=2), stop_signals=["cramp"]
    )
    make_screening(user)  # re-screened since, so the edit page is open

    response = signed_in.post(
        f"/sessions/{session.pk}/edit/", edit_post(session, stop_signals=None, note="no cramp?")
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert session.stop_signals == ["cramp"]
    assert session.has_stop_signal is True
    assert session.note == "no cramp?"


def test_an_edit_can_add_a_forgotten_stop_signal_and_that_pauses(signed_in, user):
    session = make_session(user)

    signed_in.post(
        f"/sessions/{session.pk}/edit/", edit_post(session, stop_signals=["lasting_pain"])
    )

    session.refresh_from_db()
    assert session.stop_signals == ["lasting_pain"]
    assert SafetyEvent.objects.filter(user=user, kind="stop_signal").exists()
    response = signed_in.get("/today/")
    assert response.status_code == 302
    assert response.url == "/screening/"


@pytest.mark.parametrize(
    ("field", "value"),
    [("pain_after", "11"), ("reps_per_side", "0"), ("hold_seconds", "121"), ("version", "")],
)
def test_a_bad_edit_is_refused_and_changes_nothing(signed_in, user, field, value):
    session = make_session(user)
    before = Session.objects.filter(pk=session.pk).values().get()

    response = signed_in.post(f"/sessions/{session.pk}/edit/", edit_post(session, **{field: value}))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Session.objects.filter(pk=session.pk).values().get() == before


def test_an_edit_cannot_move_a_session_outside_the_7_day_window(signed_in, user):
    session = make_session(user)
    too_old = timezone.localtime(timezone.now() - timedelta(days=8)).strftime("%Y-%m-%dT%H:%M")

    response = signed_in.post(
        f"/sessions/{session.pk}/edit/", edit_post(session, performed_at=too_old)
    )

    assert response.status_code == 400
    assert response.context["form"].errors["performed_at"] == [
        "Sessions can be logged up to 7 days back."
    ]


# --- Deleting ---------------------------------------------------------------------------------------


def test_delete_asks_for_confirmation_on_get(signed_in, user):
    session = make_session(user)

    response = signed_in.get(f"/sessions/{session.pk}/delete/")

    assert response.status_code == 200
    assert "Delete this session?" in page_text(response)
    assert f'action="/sessions/{session.pk}/delete/"' in response.content.decode()
    assert Session.objects.filter(pk=session.pk).exists()


def test_delete_by_post_removes_the_session(signed_in, user):
    session = make_session(user)

    response = signed_in.post(f"/sessions/{session.pk}/delete/")

    assert response.status_code == 302
    assert response.url == "/sessions/"
    assert not Session.objects.filter(pk=session.pk).exists()


@pytest.mark.parametrize(
    ("method", "action"),
    [("get", "edit"), ("post", "edit"), ("get", "delete"), ("post", "delete")],
)
def test_another_users_session_gives_404(signed_in, other_user, method, action):
    theirs = make_session(other_user, pain_before=8, note="not yours")
    before = Session.objects.filter(pk=theirs.pk).values().get()
    data = edit_post(theirs, pain_before="0", note="hijacked") if method == "post" else None

    response = getattr(signed_in, method)(f"/sessions/{theirs.pk}/{action}/", data)

    assert response.status_code == 404
    assert Session.objects.filter(pk=theirs.pk).values().get() == before


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_a_missing_session_gives_404(signed_in, action):
    assert signed_in.get(f"/sessions/999999/{action}/").status_code == 404


def test_the_prescribed_hold_is_computed_by_the_server_not_read_from_the_form(signed_in, user):
    # A forged hidden field asking for 120 s must not end up in the user's record.
    response = signed_in.post("/today/log/", session_post(hold_seconds_target="120"))

    assert response.status_code == 302
    stored = Session.objects.get(user=user)
    assert stored.hold_seconds_target == 15  # foundation, first week: the range's lower end


# --- Undoing a delete ---------------------------------------------------------------------------


def stamps(user) -> list[tuple]:
    """Every safety stamp that matters to the rules: kind, session, day and pause end."""
    return sorted(
        SafetyEvent.objects.filter(user=user).values_list(
            "kind", "session_ref", "day", "pause_ends_at"
        )
    )


def test_the_list_offers_undo_after_a_delete_and_undo_brings_the_same_session_back(signed_in, user):
    session = make_session(user, pain_before=6, pain_after=4, note="stiff morning")

    signed_in.post(f"/sessions/{session.pk}/delete/")
    listing = page_text(signed_in.get("/sessions/"))
    assert "Session deleted: Single knee to chest" in listing
    assert 'action="/sessions/undo/"' in listing

    response = signed_in.post("/sessions/undo/")

    assert response.status_code == 302 and response.url == "/sessions/"
    back = Session.objects.get(user=user)
    assert back.pk == session.pk
    assert (back.pain_before, back.pain_after, back.note) == (6, 4, "stiff morning")
    assert back.performed_at == session.performed_at
    assert back.created_at == session.created_at  # still judged from when it was logged
    assert "Session restored." in messages_of(signed_in.get("/sessions/"))
    assert "Session deleted:" not in page_text(signed_in.get("/sessions/"))


def test_undo_is_offered_for_a_few_minutes_only(signed_in, user):
    session = make_session(user)
    signed_in.post(f"/sessions/{session.pk}/delete/")

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert "Session deleted:" not in page_text(signed_in.get("/sessions/"))
        response = signed_in.post("/sessions/undo/")

    assert response.status_code == 302
    assert not Session.objects.filter(user=user).exists()
    assert any("can no longer be undone" in m for m in messages_of(signed_in.get("/sessions/")))


@pytest.mark.parametrize(
    ("path", "form"),
    [("/accounts/logout/", {}), ("/account/delete/", {"password": "calm-Stretch-42"})],
    ids=["log-out", "account-deleted"],
)
def test_the_deleted_sessions_copy_goes_at_log_out_and_with_the_account(
    signed_in, user, path, form
):
    """The copy kept for undo (pain scores, note) lives in the cache for a few minutes;
    logging out, or deleting the account, ends the offer, and the copy goes with it."""
    from django.core.cache import cache

    from tracking.views import UNDO_DELETE, _snapshot_key

    session = make_session(user, note="private note")
    signed_in.post(f"/sessions/{session.pk}/delete/")
    offer = signed_in.session[UNDO_DELETE]
    key = _snapshot_key(user.pk, offer["token"])
    assert cache.get(key)["note"] == "private note"

    signed_in.post(path, form)

    assert cache.get(key) is None


def test_undo_twice_restores_once(signed_in, user):
    session = make_session(user)
    signed_in.post(f"/sessions/{session.pk}/delete/")
    signed_in.post("/sessions/undo/")
    signed_in.post("/sessions/undo/")
    assert Session.objects.filter(user=user).count() == 1


def test_undo_needs_post_and_only_restores_the_users_own_delete(client, user, other_user):
    session = make_session(other_user)
    client.force_login(other_user)
    client.post(f"/sessions/{session.pk}/delete/")
    client.force_login(user)  # a new login session: the undo offer was the other user's

    assert client.get("/sessions/undo/").status_code == 405
    client.post("/sessions/undo/")

    assert not Session.objects.exists()


@pytest.mark.parametrize("deleted_after", [timedelta(minutes=2), timedelta(minutes=30)])
@pytest.mark.parametrize("undone_after", [timedelta(minutes=1), timedelta(minutes=4)])
def test_delete_and_undo_never_lift_or_double_a_setback_or_a_pause(
    client, user, deleted_after, undone_after
):
    # A stop signal and a pain rise of 4, with severe pain: the pause, the setback and the
    # severe day must all stand after a delete and its undo, stamped once each, whether the
    # delete came inside the 10-minute correction window (which takes the rise back) or not.
    client.force_login(user)
    with time_machine.travel(NOON, tick=False):
        session = make_session(
            user, performed_at=NOON, pain_before=4, pain_after=8, stop_signals=["sharp_pain"]
        )
    before = stamps(user)
    assert [kind for kind, *_ in before] == ["severe_pain", "stop_signal"]
    with time_machine.travel(NOON + deleted_after, tick=False):
        client.post(f"/sessions/{session.pk}/delete/")
    with time_machine.travel(NOON + deleted_after + undone_after, tick=False):
        client.post("/sessions/undo/")

    assert Session.objects.filter(user=user).count() == 1
    assert stamps(user) == before
    stop = SafetyEvent.objects.get(user=user, kind="stop_signal")
    assert stop.session_ref == session.pk


@pytest.mark.parametrize("deleted_after", [timedelta(minutes=2), timedelta(minutes=30)])
def test_a_pain_rise_deleted_and_undone_is_a_setback_again_and_only_once(
    client, user, deleted_after
):
    client.force_login(user)
    with time_machine.travel(NOON, tick=False):
        session = make_session(user, performed_at=NOON, pain_before=2, pain_after=6)
    assert [kind for kind, *_ in stamps(user)] == ["pain_rise"]
    with time_machine.travel(NOON + deleted_after, tick=False):
        client.post(f"/sessions/{session.pk}/delete/")
        client.post("/sessions/undo/")

    rises = SafetyEvent.objects.filter(user=user, kind="pain_rise")
    assert list(rises.values_list("session_ref", "day", "rise")) == [(session.pk, NOON.date(), 4)]


def test_an_htmx_save_sends_every_count_on_today_out_of_band_from_one_plan(signed_in, user):
    response = signed_in.post("/today/log/", session_post(), headers={"HX-Request": "true"})

    text = page_text(response)
    assert 'id="flow-status"' in text and 'hx-swap-oob="innerHTML"' in text
    assert re.search(r'<section id="done-today"[^>]*hx-swap-oob="true"', text)
    assert re.search(r'<div class="grid" id="plan-items" hx-swap-oob="true"', text)
    assert "Done today: <span data-done-count>1</span> session</h2>" in text
    assert "Done today: 1 session. Next: Single knee to chest, 1 of 2 done today." in text
    assert '<p class="muted small" data-item-done>1 of 2 done today</p>' in text


def test_the_counts_fragment_after_an_offline_send_brings_every_count(signed_in, user):
    make_session(user)
    response = signed_in.get("/today/?part=done", headers={"HX-Request": "true"})

    text = page_text(response)
    assert text.lstrip().startswith('<section id="done-today"')
    assert '<span id="flow-counts" data-flow-counts hx-swap-oob="true">' in text
    assert "Done today: 1 session. Next: Single knee to chest, 1 of 2 done today." in text
    assert re.search(r'id="plan-items" hx-swap-oob="true"', text)


def test_undo_after_the_same_session_was_sent_again_keeps_one_copy(signed_in, user):
    # The deleted session's form (or the offline queue) is sent again with its token:
    # that stores it once more, and the undo then must neither fail nor store a second copy.
    token = str(uuid.uuid4())
    signed_in.post("/today/log/", session_post(client_token=token))
    session = Session.objects.get(user=user)
    signed_in.post(f"/sessions/{session.pk}/delete/")
    signed_in.post("/today/log/", session_post(client_token=token))

    response = signed_in.post("/sessions/undo/")

    assert response.status_code == 302
    assert Session.objects.filter(user=user).count() == 1
    assert "That session is already back in your list." in messages_of(signed_in.get("/sessions/"))


def test_undo_never_brings_an_acute_flare_day_past_its_three_sessions(client, db):
    # SPEC 1.3: at most 3 sessions a day in an acute flare, whatever the path. Delete one
    # of today's three, log another in its place, then undo: the day would hold four.
    from stretches.progression import Phase

    user = make_user("flare", phase=Phase.ACUTE.value)
    client.force_login(user)
    first, *_ = [make_session(user, pain_before=4, pain_after=3) for _ in range(3)]
    client.post(f"/sessions/{first.pk}/delete/")
    assert client.post("/today/log/", session_post()).status_code == 302
    assert Session.objects.filter(user=user).count() == 3

    response = client.post("/sessions/undo/")

    assert response.status_code == 302
    assert Session.objects.filter(user=user).count() == 3
    assert any("at most 3 sessions" in m for m in messages_of(client.get("/sessions/")))


def test_a_deleted_sessions_health_data_is_not_kept_in_the_login_session(signed_in, user):
    # The undo copy lives in the cache, which forgets it when the window closes; the login
    # session (kept up to two weeks) holds no pain score or note of a deleted session.
    session = make_session(user, pain_before=7, pain_after=5, note="after the long drive")
    signed_in.post(f"/sessions/{session.pk}/delete/")

    stored = repr(dict(signed_in.session.items()))
    assert "after the long drive" not in stored
    assert "pain_before" not in stored and "pain_after" not in stored
    assert signed_in.post("/sessions/undo/").status_code == 302
    assert Session.objects.get(user=user).note == "after the long drive"


def test_undo_after_the_exercise_changed_says_so_and_stores_nothing(signed_in, user):
    # An admin made the exercise double-leg (30 s cap) inside the undo window: the 45 s
    # session cannot come back, and the person is told why, not shown an error page.
    session = make_session(user, hold_seconds=45)
    signed_in.post(f"/sessions/{session.pk}/delete/")
    type(session.exercise).objects.filter(pk=session.exercise_id).update(
        both_legs=True, hold_min_seconds=15, hold_max_seconds=30
    )

    response = signed_in.post("/sessions/undo/")

    assert response.status_code == 302
    assert not Session.objects.filter(user=user).exists()
    assert any("not restored" in m for m in messages_of(signed_in.get("/sessions/")))


def test_an_htmx_log_that_closes_the_plan_answers_with_no_form_or_timer(client, db):
    """SPEC 1.4/1.6: severe pain on 3 of the last 7 days gives clinician first, and no plan,
    timer or log action is reachable while it blocks. The third severe day logged through
    the htmx form closes the plan, but the answer swapped into /today/ is a fresh log form
    with the timer and today's plan (the gate is never asked again after the write)."""
    from django.urls import reverse

    from stretches.safety import gate_state

    user = make_user(start=timezone.localdate() - timedelta(days=10))
    for days_ago in (1, 2):
        make_session(
            user, performed_at=timezone.now() - timedelta(days=days_ago), pain_before=8,
            pain_after=8,
        )  # fmt: skip
    client.force_login(user)
    client.post(reverse("lasting-pain"), {"lasting": "no"})

    response = client.post(
        "/today/log/", session_post(pain_before="8", pain_after="8"), headers={"HX-Request": "true"}
    )

    assert Session.objects.filter(user=user).count() == 3
    fresh_user = type(user).objects.get(pk=user.pk)
    assert not gate_state(fresh_user).decision.allowed  # the save closed the plan
    text = page_text(response)
    assert "data-log-form" not in text
    assert "data-timer" not in text
