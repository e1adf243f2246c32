"""The red-flag rules and the gate (SPEC 1.4-1.6) as pure functions, with properties:
no sequence of answers, retakes or clearances reaches the plan while a block stands."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stretches.screening import (
    EMERGENCY_QUESTION_IDS,
    QUESTIONS,
    QUESTIONS_BY_ID,
    Answer,
    AnswerError,
    ClearanceFacts,
    ConfirmationFacts,
    GateReason,
    SafetyRecord,
    ScreeningFacts,
    StopSignalFacts,
    Tier,
    Trigger,
    Verdict,
    emergency_verdict,
    may_exercise,
    may_record_clearance,
    may_retake,
    verdict,
)

NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
TODAY = NOW.date()


def answers(**given_answers: Answer) -> dict[str, Answer]:
    return {q.id: given_answers.get(q.id, Answer.NO) for q in QUESTIONS}


def screening(sid: int, verdict_: Verdict, *flags: str, days_ago: float = 1, all_no=True):
    return ScreeningFacts(
        sid, NOW - timedelta(days=days_ago), verdict_, frozenset(flags), emergency_all_no=all_no
    )


def decide(*screenings, clearances=(), confirmations=(), stops=(), severe=(), severe_since=None):
    record = SafetyRecord(
        tuple(screenings),
        tuple(clearances),
        tuple(confirmations),
        tuple(stops),
        tuple(severe),
        severe_since,
    )
    return may_exercise(record, NOW, TODAY), record


# --- Verdicts ---------------------------------------------------------------------------


def test_the_most_serious_questions_come_first():
    tiers = [q.tier for q in QUESTIONS]
    assert tiers == sorted(tiers)
    assert {"sexual_function", "rapid_weakness"} <= set(EMERGENCY_QUESTION_IDS)


def test_all_no_is_clear():
    assert verdict(answers()) is Verdict.CLEAR


@pytest.mark.parametrize("question", QUESTIONS, ids=lambda q: q.id)
def test_yes_gives_its_tiers_verdict_and_not_sure_counts_as_yes(question):
    assert verdict(answers(**{question.id: Answer.YES})) is question.tier.verdict
    unsure = verdict(answers(**{question.id: Answer.UNSURE}))
    expected = Verdict.URGENT if question.tier is Tier.EMERGENCY else question.tier.verdict
    assert unsure is expected


def test_the_new_tiers_of_the_rewritten_spec():
    assert QUESTIONS_BY_ID["cancer_history"].tier is Tier.URGENT
    assert QUESTIONS_BY_ID["slow_weakness"].tier is Tier.URGENT
    assert QUESTIONS_BY_ID["pregnancy"].tier is Tier.CLINICIAN_FIRST
    assert QUESTIONS_BY_ID["cancer_history"].lasting
    assert not QUESTIONS_BY_ID["fever_unwell"].lasting


def test_a_record_finding_gives_clinician_first():
    assert verdict(answers(), [Trigger.NOT_SETTLED]) is Verdict.CLINICIAN_FIRST


def test_a_missing_or_unknown_answer_raises_instead_of_counting_as_no():
    partial = answers()
    del partial["pregnancy"]
    with pytest.raises(AnswerError):
        verdict(partial)
    with pytest.raises(AnswerError):
        verdict({**answers(), "made_up": Answer.NO})
    with pytest.raises(AnswerError):
        verdict({**answers(), "pregnancy": False})


def test_the_emergency_step_alone():
    alone = {qid: Answer.NO for qid in EMERGENCY_QUESTION_IDS}
    assert emergency_verdict(alone) is None
    assert emergency_verdict({**alone, "bladder_bowel": Answer.YES}) is Verdict.EMERGENCY
    assert emergency_verdict({**alone, "bladder_bowel": Answer.UNSURE}) is Verdict.URGENT


# --- The gate -----------------------------------------------------------------------------


def test_no_screening_blocks():
    assert decide()[0].reason is GateReason.NO_SCREENING


def test_a_clear_retake_after_urgent_still_needs_the_clearance():
    urgent = screening(1, Verdict.URGENT, "fever_unwell", days_ago=2)
    clear = screening(2, Verdict.CLEAR)
    assert decide(urgent, clear)[0].reason is GateReason.NEEDS_DOCTOR
    cleared = ClearanceFacts(1, NOW - timedelta(hours=1), frozenset({"fever_unwell"}))
    assert decide(urgent, clear, clearances=[cleared])[0].allowed


def test_a_clearance_covers_lasting_facts_later_but_not_a_new_yes():
    first = screening(1, Verdict.URGENT, "cancer_history", days_ago=30)
    clearance = ClearanceFacts(1, NOW - timedelta(days=29), frozenset({"cancer_history"}))
    same = screening(2, Verdict.URGENT, "cancer_history", days_ago=1)
    assert decide(first, same, clearances=[clearance])[0].allowed
    more = screening(3, Verdict.URGENT, "cancer_history", "pregnancy", days_ago=0.5)
    assert decide(first, same, more, clearances=[clearance])[0].reason is GateReason.NEEDS_DOCTOR
    symptom = screening(4, Verdict.URGENT, "fever_unwell", days_ago=0.5)
    wide = ClearanceFacts(1, NOW - timedelta(days=29), frozenset({"fever_unwell"}))
    assert not decide(
        screening(1, Verdict.URGENT, "fever_unwell", days_ago=30), symptom, clearances=[wide]
    )[0].allowed


def test_emergency_needs_an_examination_then_a_retake_with_every_emergency_answer_no():
    emergency = screening(1, Verdict.EMERGENCY, "bladder_bowel", days_ago=2, all_no=False)
    clear = screening(2, Verdict.CLEAR, days_ago=1)
    decision, record = decide(emergency, clear)
    assert decision.reason is GateReason.EMERGENCY
    assert not may_retake(decision, record)
    assert not may_record_clearance(decision)
    examined = ConfirmationFacts(1, NOW - timedelta(hours=3))
    decision, record = decide(emergency, clear, confirmations=[examined])
    assert decision.reason is GateReason.EMERGENCY  # the retake was before the examination
    assert may_retake(decision, record)
    retake = screening(3, Verdict.CLEAR, days_ago=0.01)
    assert decide(emergency, clear, retake, confirmations=[examined])[0].allowed


def test_a_stop_signal_closes_the_rest_of_the_day_whatever_the_rescreen_says():
    stop = StopSignalFacts(NOW - timedelta(hours=2), TODAY, ("cramp",))
    before = screening(1, Verdict.CLEAR, days_ago=2)
    after = screening(2, Verdict.CLEAR, days_ago=0.01)
    decision, record = decide(before, after, stops=[stop])
    assert decision.reason is GateReason.PAUSED_TODAY
    assert not may_retake(decision, record)


def test_from_the_next_day_a_stop_signal_asks_for_a_rescreen():
    stop = StopSignalFacts(NOW - timedelta(days=1), TODAY - timedelta(days=1), ("cramp",))
    assert decide(screening(1, Verdict.CLEAR, days_ago=2), stops=[stop])[0].reason is (
        GateReason.STOP_SIGNAL
    )
    assert decide(
        screening(1, Verdict.CLEAR, days_ago=2),
        screening(2, Verdict.CLEAR, days_ago=0.1),
        stops=[stop],
    )[0].allowed


def test_two_stop_signals_in_14_days_and_severe_days_are_findings_for_the_rescreen():
    stops = [
        StopSignalFacts(NOW - timedelta(days=9), TODAY - timedelta(days=9)),
        StopSignalFacts(NOW - timedelta(days=1), TODAY - timedelta(days=1)),
    ]
    decision, _ = decide(screening(1, Verdict.CLEAR, days_ago=5), stops=stops)
    assert Trigger.REPEAT_STOP_SIGNALS in decision.triggers
    severe = [TODAY - timedelta(days=k) for k in (0, 2, 4)]
    decision, _ = decide(
        screening(1, Verdict.CLEAR, days_ago=6),
        severe=severe,
        severe_since=NOW - timedelta(hours=1),
    )
    assert decision.reason is GateReason.SEVERE_PAIN
    assert Trigger.SEVERE_PAIN_DAYS in decision.triggers


def test_screening_is_due_again_after_28_days():
    assert decide(screening(1, Verdict.CLEAR, days_ago=28))[0].reason is GateReason.SCREENING_DUE


# --- Properties -----------------------------------------------------------------------------

flags = st.sets(st.sampled_from([q.id for q in QUESTIONS]), max_size=3)


@st.composite
def histories(draw):
    n = draw(st.integers(1, 5))
    screenings = []
    for i in range(n):
        v = draw(st.sampled_from(list(Verdict)))
        f = draw(flags) if v.blocks else set()
        if v.blocks and not f:
            f = {"fever_unwell"}
        screenings.append(
            ScreeningFacts(
                i + 1,
                NOW - timedelta(days=n - i),
                v,
                frozenset(f),
                emergency_all_no=v is not Verdict.EMERGENCY,
            )
        )
    clearances = [
        ClearanceFacts(s.id, s.taken_at + timedelta(hours=1), frozenset(s.flags))
        for s in screenings
        if s.verdict in (Verdict.URGENT, Verdict.CLINICIAN_FIRST) and draw(st.booleans())
    ]
    confirmations = [
        ConfirmationFacts(s.id, s.taken_at + timedelta(hours=1))
        for s in screenings
        if s.verdict is Verdict.EMERGENCY and draw(st.booleans())
    ]
    return screenings, clearances, confirmations


@given(histories())
def test_no_history_reaches_the_plan_while_a_block_stands(history):
    screenings, clearances, confirmations = history
    decision, _ = decide(*screenings, clearances=clearances, confirmations=confirmations)
    if not decision.allowed:
        return
    for s in screenings:
        if s.verdict in (Verdict.URGENT, Verdict.CLINICIAN_FIRST):
            # Its own clearance, or one given for all its answers: recorded after it, or
            # before it when every one of them is a lasting fact (SPEC 1.4).
            assert any(
                s.flags <= c.covers
                and (
                    c.recorded_at >= s.taken_at
                    or all(QUESTIONS_BY_ID[flag].lasting for flag in s.flags)
                )
                for c in clearances
            )
        if s.verdict is Verdict.EMERGENCY:
            examined = [c for c in confirmations if c.screening_id == s.id]
            assert examined
            assert any(
                later.taken_at >= examined[0].recorded_at and later.emergency_all_no
                for later in screenings
            )


@given(histories(), st.integers(0, 23))
def test_a_stop_signal_today_always_closes_the_plan(history, hours_ago):
    screenings, clearances, confirmations = history
    stop = StopSignalFacts(NOW - timedelta(hours=hours_ago), TODAY)
    decision, _ = decide(
        *screenings, clearances=clearances, confirmations=confirmations, stops=[stop]
    )
    assert not decision.allowed


@given(
    st.dictionaries(
        st.sampled_from([q.id for q in QUESTIONS]),
        st.sampled_from(list(Answer)),
        min_size=len(QUESTIONS),
    )
)
def test_no_complete_answer_set_with_a_yes_or_not_sure_is_clear(given_answers):
    complete = answers(**given_answers)
    if any(a is not Answer.NO for a in complete.values()):
        assert verdict(complete) is not Verdict.CLEAR
    if any(complete[q] is Answer.YES for q in EMERGENCY_QUESTION_IDS):
        assert verdict(complete) is Verdict.EMERGENCY
