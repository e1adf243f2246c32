"""The screening pages, clearances, stop-signal pauses, and the gate in front of every plan URL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import Profile
from stretches.models import Clearance, SafetyEvent, Screening
from stretches.screening import EMERGENCY_QUESTION_IDS, QUESTIONS, QUESTIONS_BY_ID, Tier, Verdict
from tests.conftest import all_no, make_screening, make_session, make_user, session_post
from tests.factories import earlier_today
from tests.pages import messages_of, page_text
from tracking.models import Session, WeeklyCheckin

EMERGENCY_IDS = [q.id for q in QUESTIONS if q.tier is Tier.EMERGENCY]
URGENT_IDS = [q.id for q in QUESTIONS if q.tier is Tier.URGENT]
CLINICIAN_IDS = [q.id for q in QUESTIONS if q.tier is Tier.CLINICIAN_FIRST]
NOT_EMERGENCY_IDS = URGENT_IDS + CLINICIAN_IDS


def answers_post(*yes: str, step: str = "all", only=None, **extra) -> dict:
    ids = only if only is not None else [q.id for q in QUESTIONS]
    data = {f"q_{qid}": ("yes" if qid in yes else "no") for qid in ids}
    data["step"] = step
    data.update(extra)
    return data


def assert_goes_to_screening(response) -> None:
    assert response.status_code == 302, response.status_code
    assert response.url == "/screening/"


@pytest.fixture
def unscreened(db):
    return make_user(screened=False)


# --- The questionnaire -------------------------------------------------------------------------


def test_questionnaire_shows_every_question_emergency_group_first_nothing_checked(
    client, unscreened
):
    client.force_login(unscreened)

    response = client.get("/screening/")

    assert response.status_code == 200
    text = page_text(response)
    positions = [text.index(q.text) for q in QUESTIONS]
    assert positions == sorted(positions)
    assert text.index("Signs that need emergency care") < text.index(QUESTIONS[0].text)
    assert text.index("Signs that need a doctor today") > text.index(EMERGENCY_QUESTION_IDS[-1])
    for q in QUESTIONS:
        assert f'name="q_{q.id}" value="yes"' in text
        assert f'name="q_{q.id}" value="no"' in text
    assert "checked" not in text
    assert 'name="step" value="all"' in text


def test_a_user_without_a_screening_is_sent_to_it_from_today(client, unscreened):
    client.force_login(unscreened)
    response = client.get("/today/")
    assert_goes_to_screening(response)
    assert "Please answer the safety questions before your first plan." in messages_of(
        client.get("/screening/")
    )


def test_screening_needs_a_signed_in_user(client, db):
    response = client.get("/screening/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


# --- Verdict pages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yes", "verdict", "heading", "advice"),
    [
        (
            ["saddle_numbness", "major_trauma"],
            Verdict.EMERGENCY,
            "Get emergency care now",
            "Call your emergency number",
        ),
        (
            ["weight_loss", "recent_surgery"],
            Verdict.URGENT,
            "Please see a doctor today",
            "Has a clinician assessed you and said the stretches are fine?",
        ),
        (
            ["pregnancy"],
            Verdict.CLINICIAN_FIRST,
            "Please get advice from a clinician first",
            "Has a clinician assessed you and said the stretches are fine?",
        ),
    ],
    ids=["emergency", "urgent", "clinician-first"],
)
def test_each_blocking_verdict_says_what_to_do_and_lists_the_triggering_answers(
    client, unscreened, yes, verdict, heading, advice
):
    client.force_login(unscreened)

    response = client.post("/screening/", answers_post(*yes))

    assert_goes_to_screening(response)
    stored = Screening.objects.get(user=unscreened)
    assert stored.verdict == verdict.value
    assert stored.reason == Screening.Reason.FIRST
    assert stored.answers == {**all_no(), **dict.fromkeys(yes, "yes")}
    result = client.get("/screening/")
    text = page_text(result)
    assert result.status_code == 200
    assert heading in text
    assert advice in text
    for qid in yes:
        assert QUESTIONS_BY_ID[qid].text in text
    for q in QUESTIONS:
        if q.id not in yes:
            assert q.text not in text
    assert_goes_to_screening(client.get("/today/"))


def test_emergency_result_has_no_clearance_form(client, unscreened):
    client.force_login(unscreened)
    client.post("/screening/", answers_post("bladder_bowel"))
    text = page_text(client.get("/screening/"))
    assert "/screening/clearance/" not in text
    # Answering again waits until a doctor's examination is recorded.
    assert "?retake=1" not in text
    assert "/screening/examined/" in text


def test_clear_answers_open_today_and_the_result_says_so(client, unscreened):
    client.force_login(unscreened)

    response = client.post("/screening/", answers_post())

    assert response.status_code == 302
    assert response.url == "/today/"
    assert Screening.objects.get(user=unscreened).verdict == Verdict.CLEAR.value
    assert client.get("/today/").status_code == 200
    text = page_text(client.get("/screening/"))
    assert "Nothing in your answers needs a doctor first" in text
    assert "You answered yes to" not in text


def test_retake_shows_the_questionnaire_again_to_a_clear_user(signed_in):
    text = page_text(signed_in.get("/screening/?retake=1"))
    assert all(q.text in text for q in QUESTIONS)


# --- Bad answer sets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "marked", "message"),
    [
        ({"q_both_legs": None}, "both_legs", "Please answer yes, no or not sure."),
        ({"q_weight_loss": "maybe"}, "weight_loss", "Please answer yes, no or not sure."),
        ({"q_cancer_history": "YES"}, "cancer_history", "Please answer yes, no or not sure."),
        ({"q_fever_unwell": ""}, "fever_unwell", "Please answer yes, no or not sure."),
        ({"q_made_up": "yes"}, None, "The form contained a question we do not know (made_up)."),
    ],
    ids=["missing", "maybe", "upper-case", "empty", "unknown-question"],
)
def test_a_bad_answer_set_reshows_the_form_marked_and_stores_nothing(
    client, unscreened, change, marked, message
):
    client.force_login(unscreened)
    data = answers_post()
    data.update(change)
    data = {k: v for k, v in data.items() if v is not None}

    response = client.post("/screening/", data)

    assert response.status_code == 400
    text = page_text(response)
    assert message in text
    assert all(q.text in text for q in QUESTIONS)
    if marked:
        assert response.context["form"].errors[f"q_{marked}"] == [message]
        # The error summary above the form names the question too: find it in the form.
        question = text.index(QUESTIONS_BY_ID[marked].text, text.index("<fieldset"))
        fieldset = text.rindex("<fieldset", 0, question)
        assert "field-error" in text[fieldset:question]
        assert f'id="id_q_{marked}-error"' in text
    else:
        assert any(message in e for e in response.context["form"].non_field_errors())
    assert not Screening.objects.filter(user=unscreened).exists()
    assert_goes_to_screening(client.get("/today/"))


# --- Clearances --------------------------------------------------------------------------------


@pytest.fixture
def urgent_user(db):
    someone = make_user(screened=False)
    make_screening(
        someone,
        Verdict.URGENT,
        answers={**all_no(), "fever_unwell": "yes"},
        taken_at=timezone.now() - timedelta(days=3),
    )
    return someone


def test_clearance_in_the_future_is_refused(client, urgent_user):
    client.force_login(urgent_user)
    tomorrow = urgent_user.profile.local_today() + timedelta(days=1)

    response = client.post(
        "/screening/clearance/", {"cleared_by": "gp", "cleared_on": tomorrow.isoformat()}
    )

    assert response.status_code == 400
    assert "The date cannot be in the future." in page_text(response)
    assert not Clearance.objects.exists()
    assert_goes_to_screening(client.get("/today/"))


def test_clearance_dated_before_the_screening_is_refused(client, urgent_user):
    client.force_login(urgent_user)
    too_early = urgent_user.profile.local_today() - timedelta(days=4)

    response = client.post(
        "/screening/clearance/", {"cleared_by": "gp", "cleared_on": too_early.isoformat()}
    )

    assert response.status_code == 400
    assert "The date must be on or after the day of these answers" in page_text(response)
    assert not Clearance.objects.exists()
    assert_goes_to_screening(client.get("/today/"))


@pytest.mark.parametrize("verdict", [Verdict.URGENT, Verdict.CLINICIAN_FIRST])
def test_a_valid_clearance_unblocks_today_and_is_listed(client, db, verdict):
    someone = make_user(screened=False)
    yes = "fever_unwell" if verdict is Verdict.URGENT else "steroids_osteoporosis"
    make_screening(someone, verdict, answers={**all_no(), yes: "yes"})
    client.force_login(someone)
    assert_goes_to_screening(client.get("/today/"))
    today = someone.profile.local_today()

    response = client.post(
        "/screening/clearance/",
        {"cleared_by": "gp", "cleared_on": today.isoformat(), "note": "Seen by Dr Okafor"},
    )

    assert response.status_code == 302
    assert response.url == "/today/"
    clearance = Clearance.objects.get(user=someone)
    assert clearance.cleared_on == today
    assert clearance.note == "Seen by Dr Okafor"
    assert client.get("/today/").status_code == 200
    account = page_text(client.get("/account/"))
    assert f"Cleared on {today:%-d %b %Y}" in account


def test_a_second_clearance_changes_nothing_and_answers_as_the_first(client, urgent_user):
    client.force_login(urgent_user)
    today = urgent_user.profile.local_today().isoformat()
    client.post("/screening/clearance/", {"cleared_by": "gp", "cleared_on": today})

    response = client.post(
        "/screening/clearance/", {"cleared_by": "gp", "cleared_on": today, "note": "again"}
    )

    assert response.url == "/today/"
    assert Clearance.objects.filter(user=urgent_user).count() == 1
    assert Clearance.objects.get(user=urgent_user).note == ""


def test_emergency_is_never_unblocked_by_a_clearance_post(client, db):
    someone = make_user(screened=False)
    make_screening(someone, Verdict.EMERGENCY, answers={**all_no(), "both_legs": "yes"})
    client.force_login(someone)

    response = client.post(
        "/screening/clearance/",
        {"cleared_by": "gp", "cleared_on": someone.profile.local_today().isoformat()},
    )

    assert_goes_to_screening(response)
    assert not Clearance.objects.exists()
    assert "There is no result waiting for a clearance." in messages_of(client.get("/screening/"))
    assert_goes_to_screening(client.get("/today/"))


def test_emergency_stays_blocked_even_with_a_clearance_row(client, db):
    someone = make_user(screened=False)
    emergency = make_screening(someone, Verdict.EMERGENCY, answers={**all_no(), "both_legs": "yes"})
    Clearance.objects.create(user=someone, screening=emergency, cleared_on=emergency.taken_at)
    client.force_login(someone)
    assert_goes_to_screening(client.get("/today/"))


def test_clearance_of_an_older_screening_does_not_unblock_a_newer_one(client, db):
    someone = make_user(screened=False)
    old = make_screening(
        someone,
        Verdict.URGENT,
        answers={**all_no(), "weight_loss": "yes"},
        taken_at=timezone.now() - timedelta(days=5),
    )
    Clearance.objects.create(user=someone, screening=old, cleared_on=old.taken_at.date())
    make_screening(someone, Verdict.CLINICIAN_FIRST, answers={**all_no(), "cancer_history": "yes"})
    client.force_login(someone)
    assert_goes_to_screening(client.get("/today/"))


# --- Screening every 28 days -------------------------------------------------------------------


def test_rescreening_is_due_after_28_days(client, db):
    start = datetime(2025, 6, 10, 9, 0, tzinfo=timezone.UTC)
    with time_machine.travel(start, tick=False) as trip:
        someone = make_user()
        client.force_login(someone)
        assert client.get("/today/").status_code == 200

        # The sign-in itself lapses after 14 idle days, so sign in again after each jump.
        trip.move_to(start + timedelta(days=27, hours=23))
        client.force_login(someone)
        assert client.get("/today/").status_code == 200

        trip.move_to(start + timedelta(days=28))
        client.force_login(someone)
        assert_goes_to_screening(client.get("/today/"))
        questionnaire = client.get("/screening/")
        assert any("It has been 28 days since your last" in m for m in messages_of(questionnaire))
        assert all(q.text in page_text(questionnaire) for q in QUESTIONS)

        client.post("/screening/", answers_post())
        latest = Screening.objects.filter(user=someone).first()
        assert latest.reason == Screening.Reason.DUE
        assert client.get("/today/").status_code == 200


# --- Stop signals ------------------------------------------------------------------------------


def log_with_stop_signal(client, *signals: str):
    data = session_post()
    data["stop_signals"] = list(signals)
    return client.post("/today/log/", data)


def test_a_stop_signal_pauses_the_day_and_a_rescreen_opens_the_next(signed_in, user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        response = log_with_stop_signal(signed_in, "cramp")

        assert_goes_to_screening(response)
        session = Session.objects.get(user=user)
        assert session.stop_signals == ["cramp"] and session.has_stop_signal
        assert_goes_to_screening(signed_in.get("/today/"))
        assert_goes_to_screening(signed_in.post("/today/log/", session_post()))
        assert Session.objects.filter(user=user).count() == 1
        text = page_text(signed_in.get("/screening/"))
        assert "Your programme is paused for the rest of today" in text
        assert "Muscle cramping or spasm" in text
        # Answering today stores nothing and opens nothing.
        signed_in.post("/screening/", answers_post(settled="yes"))
        assert Screening.objects.filter(user=user).count() == 1
        assert_goes_to_screening(signed_in.get("/today/"))

        clock.shift(timedelta(days=1))
        text = page_text(signed_in.get("/screening/"))
        assert "Has the symptom you reported after your last session settled?" in text
        assert all(q.text in text for q in QUESTIONS)
        response = signed_in.post("/screening/", answers_post(settled="yes"))
        assert response.url == "/today/"
        latest = Screening.objects.filter(user=user).first()
        assert latest.reason == Screening.Reason.STOP_SIGNAL
        assert signed_in.get("/today/").status_code == 200


def test_a_symptom_that_has_not_settled_gives_clinician_first(signed_in, user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        log_with_stop_signal(signed_in, "cramp")
        clock.shift(timedelta(days=1))

        response = signed_in.post("/screening/", answers_post(settled="no"))

        assert_goes_to_screening(response)
        latest = Screening.objects.filter(user=user).first()
        assert latest.verdict == Verdict.CLINICIAN_FIRST.value
        assert latest.triggers == ["stop_signal_not_settled"]
        assert_goes_to_screening(signed_in.get("/today/"))


def test_numbness_asks_the_emergency_questions_at_once_and_first_the_next_day(signed_in, user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        log_with_stop_signal(signed_in, "numbness")
        text = page_text(signed_in.get("/screening/"))
        assert "Please answer these emergency questions now" in text
        for q in QUESTIONS:
            assert (q.text in text) is (q.tier is Tier.EMERGENCY)
        checked = signed_in.post("/screening/", answers_post(step="check", only=EMERGENCY_IDS))
        assert_goes_to_screening(checked)
        assert Screening.objects.filter(user=user).count() == 1  # an all-"no" check is no screening
        assert "Come back tomorrow" in page_text(signed_in.get("/screening/"))

        clock.shift(timedelta(days=1))
        text = page_text(signed_in.get("/screening/"))
        assert "Please answer the most important questions first" in text
        assert 'name="step" value="emergency"' in text
        rest = signed_in.post("/screening/", answers_post(step="emergency", only=EMERGENCY_IDS))
        text = page_text(rest)
        assert "You answered no to the emergency questions. Please answer the rest." in text
        for q in QUESTIONS:
            if q.tier is Tier.EMERGENCY:
                assert f'<input type="hidden" name="q_{q.id}" value="no">' in text
        done = signed_in.post("/screening/", answers_post(step="rest", settled="yes"))
        assert done.url == "/today/"
        latest = Screening.objects.filter(user=user).first()
        assert latest.verdict == Verdict.CLEAR.value
        assert latest.answers == all_no()


def test_numbness_with_a_yes_to_an_emergency_question_stops_at_emergency(signed_in, user):
    log_with_stop_signal(signed_in, "numbness")

    response = signed_in.post(
        "/screening/",
        answers_post("saddle_numbness", step="emergency", only=EMERGENCY_IDS),
    )

    assert_goes_to_screening(response)
    latest = Screening.objects.filter(user=user).first()
    assert latest.verdict == Verdict.EMERGENCY.value
    text = page_text(signed_in.get("/screening/"))
    assert "Get emergency care now" in text
    assert QUESTIONS_BY_ID["saddle_numbness"].text in text
    assert_goes_to_screening(signed_in.get("/today/"))


def test_numbness_rest_step_with_an_urgent_answer_keeps_the_plan_closed(signed_in, user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        log_with_stop_signal(signed_in, "numbness")
        clock.shift(timedelta(days=1))
        signed_in.post("/screening/", answers_post(step="emergency", only=EMERGENCY_IDS))

        response = signed_in.post(
            "/screening/", answers_post("rest_night_pain", step="rest", settled="yes")
        )

        assert_goes_to_screening(response)
        assert Screening.objects.filter(user=user).first().verdict == Verdict.URGENT.value
        assert_goes_to_screening(signed_in.get("/today/"))


def test_deleting_the_stop_signal_session_does_not_lift_the_pause(signed_in, user):
    log_with_stop_signal(signed_in, "sharp_pain")
    session = Session.objects.get(user=user)

    response = signed_in.post(f"/sessions/{session.pk}/delete/")

    assert response.status_code == 302
    assert not Session.objects.filter(user=user).exists()
    assert SafetyEvent.objects.filter(user=user, kind="stop_signal").exists()
    assert_goes_to_screening(signed_in.get("/today/"))
    assert "Your programme is paused" in page_text(signed_in.get("/screening/"))


# --- The gate walk -----------------------------------------------------------------------------

GATED_URLCONFS = ("stretches.urls", "tracking.urls", "tracking.progress_urls", "pwa.urls")
# Every view that shows or records exercise: the plan, the log form, back-dated logging
# and editing a session (which can change what was done).
EXERCISE_URL_NAMES = {"today", "log-session", "lasting-pain", "session-new", "session-edit"}
# Everything else in those URLconfs, each one deliberately left outside the gate: the
# catalogue is public reading, the screening pages are where the gate sends people,
# and history, deletion, check-ins and progress never prescribe or record a stretch.
UNGATED_URL_NAMES = {
    "stretch-list",
    "stretch-detail",
    "screening",
    "screening-clearance",
    "screening-examined",  # recording a doctor's examination opens nothing by itself
    "session-sharp",  # reporting a stop signal must always be possible
    "session-list",
    "session-delete",
    # Undo puts a deleted session back as it was, its safety stamps untouched: history,
    # not a new stretch, and a paused day (a stop signal) must not lose that record.
    "session-undo",
    "checkin",
    "peg",  # the weekly PEG-3 ratings record pain, not a stretch
    "progress",
    "progress-report",
    "export-csv",
    "export-json",
    # A session logged offline is stored even if a block started before it arrived (it
    # happened); the answer then sends the person to the screening (pwa/queued.py).
    "log-queued",
    "pwa-manifest",
    "pwa-service-worker",
    "pwa-offline",
}


def walk(patterns, prefix: str = ""):
    """(route, pattern, urlconf) for every URL pattern below ``patterns``."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def urlconf_of(resolver: URLResolver) -> str:
    # include("x.urls") stores the imported module; a list of patterns has no name.
    return getattr(resolver.urlconf_name, "__name__", str(resolver.urlconf_name))


def app_patterns() -> list[URLPattern]:
    found = []
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and urlconf_of(entry) in GATED_URLCONFS:
            found.extend(pattern for _, pattern in walk(entry.url_patterns))
    return found


def is_gated(pattern: URLPattern) -> bool:
    return getattr(pattern.callback, "exercise_gated", False) is True


def test_the_walk_finds_all_three_urlconfs():
    urlconfs = {
        urlconf_of(entry) for entry in get_resolver().url_patterns if isinstance(entry, URLResolver)
    }
    assert {"stretches.urls", "tracking.urls"} <= urlconfs
    assert len(app_patterns()) >= len(EXERCISE_URL_NAMES) + 5


def test_exactly_the_exercise_views_carry_the_gate():
    gated = {pattern.name for pattern in app_patterns() if is_gated(pattern)}
    assert gated == EXERCISE_URL_NAMES


def test_every_url_in_the_plan_apps_is_classified_as_gated_or_not():
    # A new URL must be placed in one of the two sets above; if it shows or records
    # exercise it belongs in the gated set, and the test above then demands the gate.
    names = [pattern.name for pattern in app_patterns()]
    assert None not in names
    unclassified = set(names) - EXERCISE_URL_NAMES - UNGATED_URL_NAMES
    assert not unclassified, f"classify these URLs as gated or not: {sorted(unclassified)}"
    assert not EXERCISE_URL_NAMES & UNGATED_URL_NAMES


def gated_url(pattern: URLPattern, session: Session) -> str:
    route = str(pattern.pattern)
    if "<int:pk>" in route:
        route = route.replace("<int:pk>", str(session.pk))
    assert "<" not in route, f"teach the gate walk how to fill {route}"
    return "/" + route


def snapshot(user) -> tuple:
    return (
        list(Session.objects.filter(user=user).values()),
        list(Screening.objects.filter(user=user).values()),
        list(Clearance.objects.filter(user=user).values()),
        list(WeeklyCheckin.objects.filter(user=user).values()),
        Profile.objects.filter(user=user).values().get(),
    )


def blocked_user(state: str):
    someone = make_user(screened=False)
    session = make_session(someone, performed_at=timezone.now() - timedelta(hours=2))
    if state == "emergency":
        make_screening(someone, Verdict.EMERGENCY, answers={**all_no(), "bladder_bowel": "yes"})
    elif state == "urgent":
        make_screening(someone, Verdict.URGENT, answers={**all_no(), "lump_or_shape": "yes"})
    elif state == "clinician-first":
        make_screening(
            someone, Verdict.CLINICIAN_FIRST, answers={**all_no(), "disc_compression": "yes"}
        )
    elif state == "due":
        make_screening(someone, taken_at=timezone.now() - timedelta(days=29))
    elif state == "stop-signal":
        make_screening(someone, taken_at=timezone.now() - timedelta(days=1))
        make_session(someone, stop_signals=["cramp"])
    return someone, session


def full_post(session: Session) -> dict:
    """A submission every exercise view would accept if the gate let it through."""
    local = timezone.localtime(timezone.now() - timedelta(hours=1))
    return session_post(
        performed_at=local.strftime("%Y-%m-%dT%H:%M"),
        version=str(session.version),
        pain_before="2",
        pain_after="1",
        note="should never be stored",
    )


@pytest.mark.parametrize(
    "state", ["emergency", "urgent", "clinician-first", "due", "stop-signal", "none"]
)
def test_gate_walk_every_exercise_view_redirects_a_blocked_user_and_writes_nothing(
    client, db, state
):
    if state == "none":
        someone = make_user(screened=False)
        session = make_session(someone)
    else:
        someone, session = blocked_user(state)
    client.force_login(someone)
    gated = [pattern for pattern in app_patterns() if is_gated(pattern)]
    assert {p.name for p in gated} == EXERCISE_URL_NAMES

    for pattern in gated:
        url = gated_url(pattern, session)
        before = snapshot(someone)
        for method in ("get", "post"):
            kwargs = {"data": full_post(session)} if method == "post" else {}
            response = getattr(client, method)(url, **kwargs)
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.url == "/screening/", (method, url, response.url)
            assert snapshot(someone) == before, (method, url)
            htmx = getattr(client, method)(url, headers={"HX-Request": "true"}, **kwargs)
            assert htmx.status_code == 200, (method, url, htmx.status_code)
            assert htmx["HX-Redirect"] == "/screening/", (method, url)
            assert snapshot(someone) == before, (method, url)


def test_gate_walk_the_same_requests_get_through_for_a_clear_user(client, db):
    # The control: the redirect above comes from the gate, not from a bad request.
    someone = make_user()
    session = make_session(someone, performed_at=earlier_today(someone, timedelta(hours=2)))
    client.force_login(someone)

    for pattern in (p for p in app_patterns() if is_gated(p)):
        url = gated_url(pattern, session)
        if pattern.name not in ("log-session", "lasting-pain"):  # POST-only
            assert client.get(url).status_code == 200, url
        if pattern.name == "today":
            continue
        session.refresh_from_db()
        response = client.post(url, full_post(session))
        assert response.status_code == 302, (url, response.status_code)
        assert response.url != "/screening/", url
    assert Session.objects.filter(user=someone, note="should never be stored").count() == 3


def test_gate_walk_anonymous_users_are_sent_to_log_in(client, db):
    someone = make_user()
    session = make_session(someone)
    for pattern in (p for p in app_patterns() if is_gated(p)):
        url = gated_url(pattern, session)
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302
            assert response.url.startswith("/accounts/login/"), url
