"""Generated bad input through every form: no server error, nothing stored that breaks a rule."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.forms import PROGRAMME_START_MAX_AGE
from accounts.models import Profile, time_zone_choices
from stretches.models import Clearance, Exercise, Screening, StopSignal
from stretches.progression import DOUBLE_LEG, Phase
from stretches.screening import (
    EMERGENCY_QUESTION_IDS,
    QUESTIONS,
    QUESTIONS_BY_ID,
    Answer,
    Verdict,
    emergency_verdict,
    verdict,
)
from tests.conftest import make_screening, make_session, make_user
from tests.hardening.conftest import FIGURES
from tests.properties import examples
from tracking.models import Session, Sides

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture(autouse=True)
def skip_template_capture(monkeypatch):
    # The test client copies the context of every template it renders (each of the
    # ~420 time zone <option>s is one); nothing here reads response.context.
    monkeypatch.setattr("django.test.client.store_rendered_templates", lambda *a, **k: None)


EXAMPLES = FIGURES["hypothesis examples per form"]

# Values that have broken forms somewhere: out of range, wrong type, odd encodings,
# NUL (PostgreSQL refuses it in text), injection attempts, impossible dates.
NASTY = st.sampled_from(
    [
        "",
        " ",
        "-1",
        "11",
        "0",
        "10.5",
        "1e3",
        "NaN",
        "inf",
        "null",
        "None",
        "0x10",
        "99999999999999999999999",
        "-99999999999999999999999",
        "\x00",
        "a\x00b",
        "<script>alert(1)</script>",
        "'; DROP TABLE tracking_session; --",
        "0001-01-01",
        "9999-12-31",
        "2026-02-30",
        "0001-01-01T00:00",
        "9999-12-31T23:59",
        "2026-13-01T25:61",
        "\U0001d7d8",
        "x" * 501,
        "\u202e" * 3,
    ]
)
JUNK = st.one_of(NASTY, st.text(max_size=30), st.integers().map(str))


def field(valid: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly valid, often junk, sometimes missing (None)."""
    return st.one_of(valid, valid, JUNK, st.none())


def form_data(**fields: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries(fields).map(
        lambda data: {k: v for k, v in data.items() if v is not None}
    )


def explore(form: str, strategy: st.SearchStrategy, submit: Callable, check: Callable, n: int):
    """Run ``n`` generated submissions (in CI; fewer locally), each rolled back."""
    n = examples(n)

    @settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def run(data):
        EXAMPLES[form] += 1
        with transaction.atomic():
            response = submit(data)
            assert response.status_code < 500, (response.status_code, data)
            check()
            transaction.set_rollback(True)

    start = EXAMPLES[form]
    run()
    generated = EXAMPLES[form] - start
    print(f"\n{form}: {generated} generated submissions, 0 server errors")
    assert generated >= n


# --- Strategies for the fields ---------------------------------------------------------

TIME_ZONES = st.sampled_from(["UTC", "Europe/London", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
PAIN = st.integers(-2, 12).map(str)
DAY = st.dates(min_value=date(2020, 1, 1), max_value=date(2032, 12, 31)).map(str)


def local_minutes(days_back: int, days_ahead: int) -> st.SearchStrategy:
    now = timezone.localtime()
    return st.integers(-days_back * 24 * 60, days_ahead * 24 * 60).map(
        lambda minutes: (now + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M")
    )


def session_fields(**extra) -> st.SearchStrategy:
    slugs = list(Exercise.objects.values_list("slug", flat=True))
    return form_data(
        exercise=field(st.sampled_from(slugs)),
        sides=field(st.sampled_from(Sides.values)),
        reps_per_side=field(st.integers(-1, 12).map(str)),
        hold_seconds=field(st.integers(-1, 130).map(str)),
        pain_before=field(PAIN),
        pain_after=field(PAIN),
        stop_signals=st.lists(st.one_of(st.sampled_from(StopSignal.values), JUNK), max_size=3),
        lasting_pain=field(st.sampled_from(["on", "true", ""])),
        note=field(st.text(max_size=520)),
        **extra,
    )


UUIDS = st.uuids().map(str)


# --- The rules nothing stored may break --------------------------------------------------


def assert_sessions_keep_the_rules(*, backdate_limit: timedelta = timedelta(days=7)) -> None:
    now = timezone.now()
    for s in Session.objects.select_related("exercise"):
        assert 0 <= s.pain_before <= 10 and 0 <= s.pain_after <= 10
        assert 1 <= s.reps_per_side <= 10
        assert 1 <= s.hold_seconds <= 120
        assert s.hold_seconds_target is None or 1 <= s.hold_seconds_target <= 120
        assert s.sides in Sides.values
        assert (s.exercise.slug == DOUBLE_LEG) == (s.sides == Sides.BOTH)
        assert len(s.note) <= 500 and "\x00" not in s.note
        assert set(s.stop_signals) <= set(StopSignal.values)
        assert s.has_stop_signal == bool(s.stop_signals)
        assert s.performed_at <= now + timedelta(minutes=1)
        assert s.performed_at >= now - backdate_limit - timedelta(minutes=1)


def assert_profiles_keep_the_rules() -> None:
    zones = {name for name, _ in time_zone_choices()}
    for profile in Profile.objects.all():
        assert profile.phase in Phase.__members__.values()
        assert profile.time_zone in zones
        assert profile.sciatica_side in ("", "left", "right")
        today = profile.local_today()
        if profile.programme_start is not None:
            assert profile.programme_start <= today  # never in the future
            assert profile.programme_start >= today - PROGRAMME_START_MAX_AGE


# --- The forms ---------------------------------------------------------------------------


def test_sign_up_form_survives_generated_input():
    client = Client()
    passwords = st.one_of(st.text(min_size=0, max_size=24), NASTY, st.just("calm-Stretch-42"))

    def submit(data):
        client.cookies.clear()  # a new visitor each time
        return client.post("/accounts/signup/", data)

    def check():
        assert_profiles_keep_the_rules()
        for user in User.objects.all():
            assert re.fullmatch(r"[\w.@+-]{1,150}", user.username)
            assert hasattr(user, "profile")

    strategy = st.tuples(
        form_data(
            username=field(st.from_regex(r"[\w.@+-]{1,20}", fullmatch=True)),
            time_zone=field(TIME_ZONES),
        ),
        passwords,
        st.booleans(),
    ).map(lambda t: t[0] | {"password1": t[1], "password2": t[1] if t[2] else t[1] + "x"})

    def checked_submit(data):
        response = submit(data)
        if response.status_code == 302:  # an account was made: its password met the rules
            # Django stores the NFKC form of the name ("𝟘" is saved as "0").
            user = User.objects.get(username=User.normalize_username(data["username"]))
            validate_password(data["password1"], user)
            assert len(data["password1"]) >= 8
        return response

    explore("sign-up /accounts/signup/", strategy, checked_submit, check, 110)


def test_profile_form_survives_generated_input():
    user = make_user(time_zone="Pacific/Kiritimati")
    client = Client()
    client.force_login(user)
    strategy = form_data(
        time_zone=field(TIME_ZONES),
        programme_start=field(st.one_of(DAY, st.dates().map(str))),
        phase=field(st.sampled_from([p.value for p in Phase])),
        desk_work=field(st.sampled_from(["on", "true", "1", ""])),
        sciatica_side=field(st.sampled_from(["", "left", "right"])),
    )
    explore(
        "profile /account/",
        strategy,
        lambda data: client.post("/account/", data),
        assert_profiles_keep_the_rules,
        110,
    )


def test_screening_form_survives_generated_input():
    user = make_user()
    client = Client()
    client.force_login(user)
    answers = {f"q_{q.id}": field(st.sampled_from(["yes", "no", "unsure"])) for q in QUESTIONS}
    strategy = st.tuples(
        form_data(step=field(st.sampled_from(["emergency", "rest", "all"])), **answers),
        st.dictionaries(
            st.text(max_size=8).map("q_".__add__), st.sampled_from(["yes", "no"]), max_size=2
        ),
    ).map(lambda t: t[0] | t[1])

    def check():
        for screening in Screening.objects.all():
            assert screening.verdict in Verdict.__members__.values()
            assert set(screening.answers) <= set(QUESTIONS_BY_ID)
            assert set(screening.answers.values()) <= set(Answer)
            answers = {qid: Answer(a) for qid, a in screening.answers.items()}
            if set(screening.answers) == set(QUESTIONS_BY_ID):
                assert screening.verdict == verdict(answers)
            else:  # the emergency-only step stores only what blocks
                assert set(screening.answers) == set(EMERGENCY_QUESTION_IDS)
                assert screening.verdict == emergency_verdict(answers)
                assert screening.verdict in (Verdict.EMERGENCY, Verdict.URGENT)

    explore(
        "screening /screening/",
        strategy,
        lambda data: client.post("/screening/", data),
        check,
        160,
    )


def test_log_form_survives_generated_input():
    user = make_user(time_zone="Pacific/Kiritimati")
    make_session(user)  # so the "pain lasted" question is asked too
    client = Client()
    client.force_login(user)
    strategy = session_fields(client_token=field(UUIDS))

    def submit(data):
        headers = {"HX-Request": "true"} if len(data) % 2 else {}
        return client.post("/today/log/", data, headers=headers)

    explore("log /today/log/", strategy, submit, assert_sessions_keep_the_rules, 160)


def test_backdated_session_form_survives_generated_input():
    user = make_user(time_zone="Pacific/Pago_Pago")
    client = Client()
    client.force_login(user)
    with timezone.override(user.profile.tzinfo):
        performed = local_minutes(days_back=9, days_ahead=1)
    strategy = session_fields(client_token=field(UUIDS), performed_at=field(performed))
    explore(
        "new /sessions/new/",
        strategy,
        lambda data: client.post("/sessions/new/", data),
        assert_sessions_keep_the_rules,
        150,
    )


def test_edit_form_survives_generated_input():
    user = make_user(time_zone="Pacific/Kiritimati")
    session = make_session(user)
    client = Client()
    client.force_login(user)
    with timezone.override(user.profile.tzinfo):
        performed = local_minutes(days_back=9, days_ahead=1)
    strategy = session_fields(
        performed_at=field(performed), version=field(st.integers(-1, 3).map(str))
    )

    def check():
        assert_sessions_keep_the_rules()
        assert Session.objects.get(pk=session.pk).version in (1, 2)

    explore(
        "edit /sessions/<id>/edit/",
        strategy,
        lambda data: client.post(f"/sessions/{session.pk}/edit/", data),
        check,
        150,
    )


def test_clearance_form_survives_generated_input():
    user = make_user(time_zone="Pacific/Pago_Pago")
    urgent = make_screening(user, Verdict.URGENT)
    client = Client()
    client.force_login(user)
    strategy = form_data(
        cleared_on=field(st.one_of(DAY, st.dates().map(str))),
        note=field(st.text(max_size=520)),
    )

    def check():
        today = user.profile.local_today()
        taken = urgent.taken_at.astimezone(user.profile.tzinfo).date()
        for clearance in Clearance.objects.all():
            assert clearance.screening_id == urgent.pk
            assert taken <= clearance.cleared_on <= today
            assert len(clearance.note) <= 500 and "\x00" not in clearance.note
        assert Clearance.objects.count() <= 1

    explore(
        "clearance /screening/clearance/",
        strategy,
        lambda data: client.post("/screening/clearance/", data),
        check,
        170,
    )


def test_the_forms_saw_at_least_a_thousand_submissions_in_all():
    """Runs last in this file; the per-form counts come from the tests above."""
    if len(EXAMPLES) < 7:
        pytest.skip("run the whole file to total the examples")
    total = sum(EXAMPLES.values())
    print(f"\nhypothesis submissions: {dict(EXAMPLES)}; total {total}")
    assert total >= examples(1000)


# --- The database refuses what the forms refuse ------------------------------------------


@pytest.mark.parametrize("column", ["pain_before", "pain_after"])
@pytest.mark.parametrize("pain", [-1, 11])
def test_database_refuses_pain_outside_0_to_10_from_raw_sql(column, pain):
    user = make_user()
    single = Exercise.objects.get(slug="single-knee-to-chest")
    now = timezone.now()
    values = {
        "user_id": user.pk,
        "performed_at": now,
        "exercise_id": single.pk,
        "sides": "left_right",
        "reps_per_side": 3,
        "hold_seconds": 20,
        "hold_seconds_target": 20,
        "pain_before": 5,
        "pain_after": 5,
        "stop_signals": "[]",
        "has_stop_signal": False,
        "note": "",
        "client_token": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    values[column] = pain
    table = connection.ops.quote_name(Session._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(c) for c in values)
    placeholders = ", ".join(["%s"] * len(values))

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", list(values.values())
        )

    assert not Session.objects.exists()
