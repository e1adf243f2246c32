"""Red-flag screening rules (SPEC 1.4) and the gate that keeps the plan closed.

Pure Python: no Django imports. Questions live in one table; ``verdict`` turns a
complete answer set into one verdict, and ``may_exercise`` decides whether the plan,
timer and log form may be shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum, StrEnum


class Verdict(StrEnum):
    CLEAR = "clear"
    CLINICIAN_FIRST = "clinician_first"
    URGENT = "urgent"
    EMERGENCY = "emergency"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def blocks(self) -> bool:
        return self is not Verdict.CLEAR

    @property
    def label(self) -> str:
        return _LABELS[self]


_SEVERITY = {
    Verdict.CLEAR: 0,
    Verdict.CLINICIAN_FIRST: 1,
    Verdict.URGENT: 2,
    Verdict.EMERGENCY: 3,
}
_LABELS = {
    Verdict.CLEAR: "Clear",
    Verdict.CLINICIAN_FIRST: "See a clinician first",
    Verdict.URGENT: "See a doctor within days",
    Verdict.EMERGENCY: "Get emergency care now",
}


class Tier(IntEnum):
    """Question groups, asked in this order: the most serious first."""

    EMERGENCY = 1
    URGENT = 2
    CLINICIAN_FIRST = 3

    @property
    def verdict(self) -> Verdict:
        return {
            Tier.EMERGENCY: Verdict.EMERGENCY,
            Tier.URGENT: Verdict.URGENT,
            Tier.CLINICIAN_FIRST: Verdict.CLINICIAN_FIRST,
        }[self]


@dataclass(frozen=True)
class Question:
    id: str
    tier: Tier
    text: str
    hint: str


QUESTIONS: tuple[Question, ...] = (
    Question(
        "bladder_bowel",
        Tier.EMERGENCY,
        "Have you lost control of your bladder or bowels, or found it newly hard to pass urine?",
        "This includes leaking you cannot hold back, or not being able to go when you need to.",
    ),
    Question(
        "saddle_numbness",
        Tier.EMERGENCY,
        "Is any area around your genitals, buttocks or inner thighs numb or reduced in feeling?",
        "The skin you would sit on in a saddle. You may notice it when wiping after the toilet.",
    ),
    Question(
        "both_legs",
        Tier.EMERGENCY,
        "Do you have weakness, numbness or pain in both legs?",
        "Symptoms on both sides at once, not just one leg.",
    ),
    Question(
        "major_trauma",
        Tier.EMERGENCY,
        "Did this back pain start after a serious fall, a road accident or another big impact?",
        "For example a fall from a height or a car crash, rather than a twist or a lift.",
    ),
    Question(
        "fever_unwell",
        Tier.URGENT,
        "Do you have a fever, or feel very unwell in yourself, along with the back pain?",
        "A temperature, chills or night sweats, or feeling ill rather than just sore.",
    ),
    Question(
        "weight_loss",
        Tier.URGENT,
        "Have you lost weight recently without trying?",
        "Weight loss you cannot explain by a change in diet or activity.",
    ),
    Question(
        "rest_night_pain",
        Tier.URGENT,
        "Is the pain no better when you rest, or at its worst during the night?",
        "Pain that stays the same or grows when you lie still, or wakes you from sleep.",
    ),
    Question(
        "lump_or_shape",
        Tier.URGENT,
        "Have you noticed a lump on your back, or a new change in its shape?",
        "A swelling you can feel, or a curve or bump that was not there before.",
    ),
    Question(
        "worsening_weakness",
        Tier.URGENT,
        "Is one leg getting weaker over time?",
        "For example tripping, a foot that slaps down, or a leg giving way more than it did.",
    ),
    Question(
        "recent_surgery",
        Tier.CLINICIAN_FIRST,
        "Have you had surgery on your lower back in the last 8 weeks?",
        "Any operation on the lumbar spine, including keyhole surgery.",
    ),
    Question(
        "disc_compression",
        Tier.CLINICIAN_FIRST,
        "Has a clinician told you that you have an acute disc herniation pressing hard on a nerve?",
        "A diagnosis after an examination or a scan, not a guess.",
    ),
    Question(
        "cancer_history",
        Tier.CLINICIAN_FIRST,
        "Have you ever been treated for cancer?",
        "Any cancer, even if it was treated years ago.",
    ),
    Question(
        "steroids_osteoporosis",
        Tier.CLINICIAN_FIRST,
        "Do you take steroid tablets long term, or have you been told you have osteoporosis?",
        "Steroids such as prednisolone for months, or bones found to be thin or fragile.",
    ),
)
QUESTIONS_BY_ID: dict[str, Question] = {q.id: q for q in QUESTIONS}
EMERGENCY_QUESTION_IDS: tuple[str, ...] = tuple(q.id for q in QUESTIONS if q.tier is Tier.EMERGENCY)

# Screening is asked again this often, and after any stop signal.
RESCREEN_AFTER = timedelta(days=28)


class AnswerError(ValueError):
    """The answer set cannot be judged: a missing answer is never treated as "no"."""

    def __init__(self, message: str, question_ids: tuple[str, ...] = ()):
        super().__init__(message)
        self.question_ids = question_ids


def _check(answers: Mapping[str, object], expected: tuple[str, ...]) -> None:
    unknown = tuple(sorted(set(answers) - set(expected)))
    if unknown:
        raise AnswerError("Unknown question: " + ", ".join(unknown), unknown)
    missing = tuple(qid for qid in expected if qid not in answers)
    if missing:
        raise AnswerError("Please answer every question.", missing)
    not_bool = tuple(qid for qid in expected if not isinstance(answers[qid], bool))
    if not_bool:
        raise AnswerError("Each answer must be yes or no.", not_bool)


def verdict(answers: Mapping[str, bool]) -> Verdict:
    """The one verdict for a complete answer set: the most serious tier answered yes."""
    _check(answers, tuple(QUESTIONS_BY_ID))
    worst = Verdict.CLEAR
    for qid, said_yes in answers.items():
        tier_verdict = QUESTIONS_BY_ID[qid].tier.verdict
        if said_yes and tier_verdict.severity > worst.severity:
            worst = tier_verdict
    return worst


def emergency_verdict(answers: Mapping[str, bool]) -> Verdict | None:
    """For the emergency questions asked on their own first (after worsening numbness).

    Returns EMERGENCY if any is "yes", None when all are "no" and the rest must follow.
    """
    _check(answers, EMERGENCY_QUESTION_IDS)
    return Verdict.EMERGENCY if any(answers.values()) else None


def triggered_by(answers: Mapping[str, bool]) -> tuple[Question, ...]:
    """The questions answered "yes", most serious first."""
    return tuple(q for q in QUESTIONS if answers.get(q.id) is True)


@dataclass(frozen=True)
class ScreeningFacts:
    id: int
    taken_at: datetime
    verdict: Verdict


@dataclass(frozen=True)
class ClearanceFacts:
    screening_id: int
    cleared_on: date


class GateReason(StrEnum):
    ALLOWED = "allowed"
    NO_SCREENING = "no_screening"
    SCREENING_DUE = "screening_due"
    STOP_SIGNAL = "stop_signal"
    EMERGENCY = "emergency"
    NEEDS_DOCTOR = "needs_doctor"
    NEEDS_CLINICIAN = "needs_clinician"


@dataclass(frozen=True)
class GateDecision:
    reason: GateReason

    @property
    def allowed(self) -> bool:
        return self.reason is GateReason.ALLOWED


def may_exercise(
    latest_screening: ScreeningFacts | None,
    clearance: ClearanceFacts | None,
    last_stop_signal: datetime | None,
    now: datetime,
) -> GateDecision:
    """Whether the plan, timer and log form may be shown now.

    Checked from the most serious reason down, so the user is told the most
    important thing first. A clearance counts only for the screening it answers,
    and never for an emergency verdict.
    """
    if latest_screening is None:
        return GateDecision(GateReason.NO_SCREENING)
    if latest_screening.verdict is Verdict.EMERGENCY:
        return GateDecision(GateReason.EMERGENCY)
    if last_stop_signal is not None and last_stop_signal >= latest_screening.taken_at:
        return GateDecision(GateReason.STOP_SIGNAL)
    if now - latest_screening.taken_at >= RESCREEN_AFTER:
        return GateDecision(GateReason.SCREENING_DUE)
    cleared = clearance is not None and clearance.screening_id == latest_screening.id
    if latest_screening.verdict is Verdict.URGENT and not cleared:
        return GateDecision(GateReason.NEEDS_DOCTOR)
    if latest_screening.verdict is Verdict.CLINICIAN_FIRST and not cleared:
        return GateDecision(GateReason.NEEDS_CLINICIAN)
    return GateDecision(GateReason.ALLOWED)
