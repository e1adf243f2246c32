"""Red-flag screening and the gate in front of the plan (SPEC 1.4-1.5), without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stretches.screening import (
    EMERGENCY_QUESTION_IDS,
    QUESTIONS,
    AnswerError,
    ClearanceFacts,
    GateReason,
    ScreeningFacts,
    Tier,
    Verdict,
    emergency_verdict,
    may_exercise,
    triggered_by,
    verdict,
)

QUESTION_IDS = tuple(q.id for q in QUESTIONS)
NOW = datetime(2025, 6, 10, 9, 30, tzinfo=UTC)

PROPERTY = settings(max_examples=250, deadline=None, database=None)


def all_no() -> dict[str, bool]:
    return dict.fromkeys(QUESTION_IDS, False)


def answers_with_yes(*question_ids: str) -> dict[str, bool]:
    return {**all_no(), **dict.fromkeys(question_ids, True)}


def make_screening(
    verdict: Verdict = Verdict.CLEAR, *, id: int = 1, days_ago: float = 1
) -> ScreeningFacts:
    return ScreeningFacts(id=id, taken_at=NOW - timedelta(days=days_ago), verdict=verdict)


def make_clearance(screening_id: int = 1) -> ClearanceFacts:
    return ClearanceFacts(screening_id=screening_id, cleared_on=NOW.date())


# --- The questionnaire ------------------------------------------------------------------


def test_the_questionnaire_asks_the_most_serious_questions_first():
    tiers = [q.tier for q in QUESTIONS]
    assert tiers == sorted(tiers)
    assert len(set(QUESTION_IDS)) == len(QUESTION_IDS)
    assert {q.tier for q in QUESTIONS} == set(Tier)


def test_recent_surgery_means_the_last_8_weeks():
    (surgery,) = [q for q in QUESTIONS if q.id == "recent_surgery"]
    assert surgery.tier is Tier.CLINICIAN_FIRST
    assert "8 weeks" in surgery.text


# --- verdict -----------------------------------------------------------------------------


def test_all_no_answers_give_clear():
    assert verdict(all_no()) is Verdict.CLEAR
    assert not Verdict.CLEAR.blocks


@pytest.mark.parametrize("question", QUESTIONS, ids=QUESTION_IDS)
def test_a_single_yes_gives_its_tiers_verdict(question):
    result = verdict(answers_with_yes(question.id))
    assert result is question.tier.verdict
    assert result.blocks


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        (Tier.EMERGENCY, Verdict.EMERGENCY),
        (Tier.URGENT, Verdict.URGENT),
        (Tier.CLINICIAN_FIRST, Verdict.CLINICIAN_FIRST),
    ],
)
def test_each_tier_maps_to_its_own_verdict(tier, expected):
    assert tier.verdict is expected


def test_the_most_serious_yes_wins():
    assert verdict(answers_with_yes("cancer_history", "weight_loss")) is Verdict.URGENT
    assert verdict(answers_with_yes("weight_loss", "both_legs")) is Verdict.EMERGENCY


def test_a_missing_answer_raises_instead_of_counting_as_no():
    answers = all_no()
    del answers["saddle_numbness"]
    with pytest.raises(AnswerError) as error:
        verdict(answers)
    assert error.value.question_ids == ("saddle_numbness",)


def test_an_empty_answer_set_raises():
    with pytest.raises(AnswerError) as error:
        verdict({})
    assert set(error.value.question_ids) == set(QUESTION_IDS)


def test_an_unknown_question_raises():
    with pytest.raises(AnswerError) as error:
        verdict({**all_no(), "feeling_fine": False})
    assert error.value.question_ids == ("feeling_fine",)


@pytest.mark.parametrize("bad_value", ["no", "yes", 0, 1, None, "", "false"])
def test_an_answer_that_is_not_true_or_false_raises(bad_value):
    with pytest.raises(AnswerError) as error:
        verdict({**all_no(), "both_legs": bad_value})
    assert error.value.question_ids == ("both_legs",)


# --- emergency_verdict -------------------------------------------------------------------


def test_emergency_questions_alone_all_no_leave_the_rest_to_follow():
    assert emergency_verdict(dict.fromkeys(EMERGENCY_QUESTION_IDS, False)) is None


@pytest.mark.parametrize("question_id", EMERGENCY_QUESTION_IDS)
def test_any_emergency_question_alone_answered_yes_gives_emergency(question_id):
    answers = {**dict.fromkeys(EMERGENCY_QUESTION_IDS, False), question_id: True}
    assert emergency_verdict(answers) is Verdict.EMERGENCY


def test_emergency_verdict_needs_every_emergency_answer():
    answers = dict.fromkeys(EMERGENCY_QUESTION_IDS[1:], False)
    with pytest.raises(AnswerError):
        emergency_verdict(answers)


def test_emergency_verdict_rejects_the_other_questions():
    answers = {**dict.fromkeys(EMERGENCY_QUESTION_IDS, False), "weight_loss": False}
    with pytest.raises(AnswerError):
        emergency_verdict(answers)


def test_emergency_verdict_rejects_answers_that_are_not_true_or_false():
    answers = {**dict.fromkeys(EMERGENCY_QUESTION_IDS, False), "bladder_bowel": "no"}
    with pytest.raises(AnswerError):
        emergency_verdict(answers)


# --- triggered_by ------------------------------------------------------------------------


def test_triggered_by_lists_the_yes_answers_most_serious_first():
    answers = answers_with_yes("steroids_osteoporosis", "fever_unwell", "major_trauma")
    assert [q.id for q in triggered_by(answers)] == [
        "major_trauma",
        "fever_unwell",
        "steroids_osteoporosis",
    ]


def test_triggered_by_is_empty_when_everything_is_no():
    assert triggered_by(all_no()) == ()


# --- may_exercise --------------------------------------------------------------------------


def test_no_screening_blocks_the_plan():
    decision = may_exercise(None, None, None, NOW)
    assert decision.reason is GateReason.NO_SCREENING
    assert not decision.allowed


def test_a_clear_screening_allows_the_plan():
    decision = may_exercise(make_screening(Verdict.CLEAR), None, None, NOW)
    assert decision.reason is GateReason.ALLOWED
    assert decision.allowed


def test_an_emergency_screening_blocks_the_plan_even_with_a_clearance():
    decision = may_exercise(make_screening(Verdict.EMERGENCY), make_clearance(1), None, NOW)
    assert decision.reason is GateReason.EMERGENCY
    assert not decision.allowed


def test_a_stop_signal_after_the_screening_blocks_until_the_next_screening():
    screening = make_screening(Verdict.CLEAR, days_ago=3)
    decision = may_exercise(screening, None, NOW - timedelta(days=1), NOW)
    assert decision.reason is GateReason.STOP_SIGNAL


def test_a_stop_signal_before_the_screening_no_longer_blocks():
    screening = make_screening(Verdict.CLEAR, days_ago=3)
    decision = may_exercise(screening, None, NOW - timedelta(days=4), NOW)
    assert decision.allowed


def test_a_stop_signal_blocks_an_urgent_screening_even_after_a_doctor_cleared_it():
    screening = make_screening(Verdict.URGENT, days_ago=3)
    decision = may_exercise(screening, make_clearance(1), NOW - timedelta(hours=1), NOW)
    assert decision.reason is GateReason.STOP_SIGNAL


def test_screening_is_due_again_after_28_days():
    assert may_exercise(make_screening(days_ago=27.9), None, None, NOW).allowed
    decision = may_exercise(make_screening(days_ago=28), None, None, NOW)
    assert decision.reason is GateReason.SCREENING_DUE


def test_a_screening_older_than_28_days_is_due_even_when_cleared():
    decision = may_exercise(
        make_screening(Verdict.URGENT, days_ago=40), make_clearance(1), None, NOW
    )
    assert decision.reason is GateReason.SCREENING_DUE


def test_an_urgent_screening_blocks_until_a_doctor_clears_it():
    screening = make_screening(Verdict.URGENT)
    assert may_exercise(screening, None, None, NOW).reason is GateReason.NEEDS_DOCTOR
    assert may_exercise(screening, make_clearance(1), None, NOW).allowed


def test_a_clinician_first_screening_blocks_until_a_clinician_clears_it():
    screening = make_screening(Verdict.CLINICIAN_FIRST)
    assert may_exercise(screening, None, None, NOW).reason is GateReason.NEEDS_CLINICIAN
    assert may_exercise(screening, make_clearance(1), None, NOW).allowed


@pytest.mark.parametrize(
    ("blocking", "reason"),
    [
        (Verdict.URGENT, GateReason.NEEDS_DOCTOR),
        (Verdict.CLINICIAN_FIRST, GateReason.NEEDS_CLINICIAN),
    ],
)
def test_a_clearance_for_an_older_screening_does_not_count(blocking, reason):
    latest = make_screening(blocking, id=7)
    decision = may_exercise(latest, make_clearance(screening_id=6), None, NOW)
    assert decision.reason is reason
    assert not decision.allowed


# --- Properties ------------------------------------------------------------------------------

answer_sets = st.fixed_dictionaries({qid: st.booleans() for qid in QUESTION_IDS})


@PROPERTY
@given(answer_sets, st.sampled_from(EMERGENCY_QUESTION_IDS))
def test_any_emergency_yes_gives_emergency_whatever_else_is_answered(answers, emergency_id):
    assert verdict({**answers, emergency_id: True}) is Verdict.EMERGENCY


@PROPERTY
@given(answer_sets)
def test_no_complete_answer_set_with_a_yes_is_ever_clear(answers):
    result = verdict(answers)
    assert (result is Verdict.CLEAR) == (not any(answers.values()))
    tier_verdicts = [q.tier.verdict for q in triggered_by(answers)]
    worst = max(tier_verdicts, key=lambda v: v.severity, default=Verdict.CLEAR)
    assert result is worst


@PROPERTY
@given(answer_sets, st.data())
def test_an_incomplete_answer_set_always_raises(answers, data):
    missing = data.draw(st.sets(st.sampled_from(QUESTION_IDS), min_size=1))
    partial = {qid: yes for qid, yes in answers.items() if qid not in missing}
    with pytest.raises(AnswerError) as error:
        verdict(partial)
    assert set(error.value.question_ids) == missing


screening_times = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2025, 12, 31), timezones=st.just(UTC)
)


@st.composite
def gate_inputs(draw):
    now = draw(screening_times)
    screening = ScreeningFacts(
        id=draw(st.integers(1, 5)),
        taken_at=now - draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60))),
        verdict=draw(st.sampled_from(list(Verdict))),
    )
    clearance = draw(
        st.none()
        | st.builds(
            ClearanceFacts,
            screening_id=st.integers(1, 5),
            cleared_on=st.dates(min_value=date(2024, 12, 1), max_value=date(2026, 1, 31)),
        )
    )
    last_stop_signal = draw(
        st.none()
        | st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=90)).map(
            lambda ago: now - ago
        )
    )
    return screening, clearance, last_stop_signal, now


@PROPERTY
@given(gate_inputs())
def test_a_blocking_verdict_without_its_own_clearance_never_allows_the_plan(inputs):
    screening, clearance, last_stop_signal, now = inputs
    decision = may_exercise(screening, clearance, last_stop_signal, now)
    cleared = clearance is not None and clearance.screening_id == screening.id
    if screening.verdict.blocks and not cleared:
        assert not decision.allowed
    if screening.verdict is Verdict.EMERGENCY:
        assert decision.reason is GateReason.EMERGENCY
    if decision.allowed:
        assert now - screening.taken_at < timedelta(days=28)
        assert last_stop_signal is None or last_stop_signal < screening.taken_at
