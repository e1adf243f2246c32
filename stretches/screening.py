"""Red-flag screening (SPEC 1.4-1.6) and the gate that keeps the plan closed.

Pure Python: no Django imports. The questions live in one table; ``verdict`` turns a
complete answer set (yes / no / not sure) into one verdict, and ``may_exercise`` decides
from the whole safety record (every screening, clearance, doctor's confirmation and
stop signal) whether the plan, timer and log form may be shown.

The rule that matters most: a blocking verdict is lifted only by what the SPEC names —
a recorded clearance (urgent, clinician first) or a doctor's examination followed by a
retake with every emergency answer "no" (emergency) — never by answering again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    Verdict.URGENT: "See a doctor today",
    Verdict.EMERGENCY: "Get emergency care now",
}


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNSURE = "unsure"

    @property
    def label(self) -> str:
        return {Answer.YES: "Yes", Answer.NO: "No", Answer.UNSURE: "Not sure"}[self]


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

    @property
    def heading(self) -> str:
        return {
            Tier.EMERGENCY: "Signs that need emergency care",
            Tier.URGENT: "Signs that need a doctor today",
            Tier.CLINICIAN_FIRST: "Conditions where a clinician should guide you first",
        }[self]


@dataclass(frozen=True)
class Question:
    id: str
    tier: Tier
    text: str
    hint: str
    # A lasting fact (a history, a diagnosis, an operation, an age) stays true; a clearance
    # given for it still holds at the next screening. A symptom can change, so a "yes"
    # to one always needs a fresh clearance.
    lasting: bool = False

    def verdict_for(self, answer: Answer) -> Verdict:
        if answer is Answer.NO:
            return Verdict.CLEAR
        if answer is Answer.UNSURE and self.tier is Tier.EMERGENCY:
            return Verdict.URGENT  # not sure about an emergency sign: get checked today
        return self.tier.verdict


QUESTIONS: tuple[Question, ...] = (
    Question(
        "bladder_bowel",
        Tier.EMERGENCY,
        "Have you newly lost control of your bladder or bowels, or found it newly hard to "
        "pass urine?",
        "Leaking you cannot hold back, or not being able to go when you need to.",
    ),
    Question(
        "saddle_numbness",
        Tier.EMERGENCY,
        "Is any area around your genitals, buttocks or inner thighs newly numb or reduced in "
        "feeling?",
        "The skin you would sit on in a saddle. You may notice it when wiping after the toilet.",
    ),
    Question(
        "sexual_function",
        Tier.EMERGENCY,
        "Have you had new problems with sexual function that started with the back pain?",
        "For example new loss of feeling or of erections since the pain began.",
    ),
    Question(
        "both_legs",
        Tier.EMERGENCY,
        "Do you have new or worsening weakness, numbness or pain in both legs?",
        "Symptoms on both sides at once, not just one leg.",
    ),
    Question(
        "rapid_weakness",
        Tier.EMERGENCY,
        "Is one leg getting weaker quickly, so that your foot drops or the leg gives way?",
        "A change over hours or a few days, such as tripping over your toes or a foot "
        "that slaps down.",
    ),
    Question(
        "major_trauma",
        Tier.EMERGENCY,
        "Did this back pain start after a serious fall or accident?",
        "For example a fall from a height or a car crash, rather than a twist or a lift.",
    ),
    Question(
        "fever_unwell",
        Tier.URGENT,
        "Do you have a fever, or feel very unwell in yourself, along with the back pain?",
        "A temperature, chills or night sweats, or feeling ill rather than just sore.",
    ),
    Question(
        "cancer_history",
        Tier.URGENT,
        "Have you ever had cancer, now or in the past?",
        "Any cancer, even if it was treated years ago.",
        lasting=True,
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
        "slow_weakness",
        Tier.URGENT,
        "Is one leg slowly getting weaker over weeks?",
        "Climbing stairs or standing on tiptoe on that side getting harder bit by bit.",
    ),
    Question(
        "walking_difficulty",
        Tier.URGENT,
        "Do you have new difficulty walking, or feel newly unsteady on your feet?",
        "Needing to hold on to things, or your balance being worse than usual.",
    ),
    Question(
        "fragile_fall",
        Tier.URGENT,
        "Have you had a fall, even a small one, and you have osteoporosis, take steroid "
        "tablets long term or are over 70?",
        "A trip or a slip counts here, because bones can break more easily.",
    ),
    Question(
        "recent_surgery",
        Tier.CLINICIAN_FIRST,
        "Have you had surgery on your lower back in the last 8 weeks?",
        "Any operation on the lumbar spine, including keyhole surgery.",
        lasting=True,
    ),
    Question(
        "disc_compression",
        Tier.CLINICIAN_FIRST,
        "Has a clinician told you that you have an acute disc herniation pressing hard on a nerve?",
        "A diagnosis after an examination or a scan, not a guess.",
        lasting=True,
    ),
    Question(
        "steroids_osteoporosis",
        Tier.CLINICIAN_FIRST,
        "Do you take steroid tablets long term, or have you been told you have osteoporosis?",
        "Steroids such as prednisolone for months, or bones found to be thin or fragile.",
        lasting=True,
    ),
    Question(
        "infection_risk",
        Tier.CLINICIAN_FIRST,
        "Do you inject drugs, or have a weakened immune system, or have you had a spinal "
        "injection or infection in the last 3 months?",
        "A weakened immune system can come from medicines, HIV or a transplant.",
        lasting=True,
    ),
    Question(
        "upper_back",
        Tier.CLINICIAN_FIRST,
        "Is your pain mainly in your upper or middle back rather than your lower back?",
        "Between or around the shoulder blades, or at the level of your ribs.",
    ),
    Question(
        "age_first_episode",
        Tier.CLINICIAN_FIRST,
        "Are you under 20 or over 50, and is this the first time you have had back pain?",
        "Back pain that starts for the first time at these ages deserves a check first.",
        lasting=True,
    ),
    Question(
        "pregnancy",
        Tier.CLINICIAN_FIRST,
        "Are you pregnant?",
        "Or could you be pregnant, or did you give birth in the last few weeks?",
        lasting=True,
    ),
    Question(
        "hip_surgery",
        Tier.CLINICIAN_FIRST,
        "Do you have a hip replacement, or have you had hip or knee surgery in the last 6 months?",
        "Pulling a knee to the chest bends the hip a long way.",
        lasting=True,
    ),
    Question(
        "abdominal_surgery",
        Tier.CLINICIAN_FIRST,
        "Have you had surgery on your abdomen in the last 12 weeks, or do you have a hernia?",
        "Drawing the knees in presses on the belly.",
        lasting=True,
    ),
)
QUESTIONS_BY_ID: dict[str, Question] = {q.id: q for q in QUESTIONS}
EMERGENCY_QUESTION_IDS: tuple[str, ...] = tuple(q.id for q in QUESTIONS if q.tier is Tier.EMERGENCY)


class Trigger(StrEnum):
    """Findings from the safety record itself, added to a screening's answers (SPEC 1.5-1.6)."""

    NOT_SETTLED = "stop_signal_not_settled"
    REPEAT_STOP_SIGNALS = "repeat_stop_signals"
    SEVERE_PAIN_DAYS = "severe_pain_days"

    @property
    def text(self) -> str:
        return {
            Trigger.NOT_SETTLED: "The symptom after your last session has not settled.",
            Trigger.REPEAT_STOP_SIGNALS: "You reported stop signals after two sessions within "
            f"{STOP_SIGNAL_REPEAT_DAYS} days.",
            Trigger.SEVERE_PAIN_DAYS: f"Your pain was severe ({SEVERE_PAIN} or more) on "
            f"{SEVERE_DAYS_NEEDED} of the last {SEVERE_WINDOW_DAYS} days.",
        }[self]


# Every finding that a record-based trigger gives: a clinician first.
TRIGGER_VERDICT = Verdict.CLINICIAN_FIRST

# Old question ids kept readable in old screenings (they were asked before SPEC 1.4 changed).
LEGACY_QUESTION_TEXT = {
    "worsening_weakness": "Is one leg getting weaker over time?",
}

# Screening is asked again this often, and after any stop signal.
RESCREEN_AFTER = timedelta(days=28)
RESCREEN_AFTER_DAYS = RESCREEN_AFTER.days
# Stop signals and pain (SPEC 1.5-1.6).
STOP_SIGNAL_REPEAT_DAYS = 14
SEVERE_PAIN = 8
SEVERE_DAYS_NEEDED = 3
SEVERE_WINDOW_DAYS = 7
LASTING_PAIN_HOURS = 2  # asked before the day's first session


class AnswerError(ValueError):
    """The answer set cannot be judged: a missing answer is never treated as "no"."""

    def __init__(self, message: str, question_ids: tuple[str, ...] = ()):
        super().__init__(message)
        self.question_ids = question_ids


def _check(answers: Mapping[str, object], expected: Sequence[str]) -> None:
    unknown = tuple(sorted(set(answers) - set(expected)))
    if unknown:
        raise AnswerError("Unknown question: " + ", ".join(unknown), unknown)
    missing = tuple(qid for qid in expected if qid not in answers)
    if missing:
        raise AnswerError("Please answer every question.", missing)
    wrong = tuple(qid for qid in expected if not isinstance(answers[qid], Answer))
    if wrong:
        raise AnswerError("Each answer must be yes, no or not sure.", wrong)


def verdict(answers: Mapping[str, Answer], triggers: Iterable[Trigger] = ()) -> Verdict:
    """The one verdict for a complete answer set plus any findings from the record.

    "Not sure" counts as yes, except on an emergency question, where it gives urgent.
    """
    _check(answers, tuple(QUESTIONS_BY_ID))
    worst = TRIGGER_VERDICT if tuple(triggers) else Verdict.CLEAR
    for qid, answer in answers.items():
        found = QUESTIONS_BY_ID[qid].verdict_for(answer)
        if found.severity > worst.severity:
            worst = found
    return worst


def emergency_verdict(answers: Mapping[str, Answer]) -> Verdict | None:
    """For the emergency questions asked on their own first.

    The verdict the emergency answers alone give (emergency, or urgent for a "not sure"),
    or None when all are "no" and the rest may follow.
    """
    _check(answers, EMERGENCY_QUESTION_IDS)
    worst = max(
        (QUESTIONS_BY_ID[qid].verdict_for(a) for qid, a in answers.items()),
        key=lambda v: v.severity,
    )
    return None if worst is Verdict.CLEAR else worst


def flagged(answers: Mapping[str, Answer | str | bool]) -> tuple[str, ...]:
    """The ids answered yes or not sure, most serious first (old true/false answers too)."""
    flags = {Answer.YES, Answer.UNSURE, "yes", "unsure", True}
    order = [q.id for q in QUESTIONS] + sorted(set(answers) - set(QUESTIONS_BY_ID))
    return tuple(qid for qid in order if answers.get(qid) in flags)


def triggered_by(answers: Mapping[str, Answer | str | bool]) -> tuple[Question, ...]:
    """The questions answered yes or not sure, most serious first."""
    return tuple(
        QUESTIONS_BY_ID.get(qid)
        or Question(qid, Tier.URGENT, LEGACY_QUESTION_TEXT.get(qid, qid), "")
        for qid in flagged(answers)
    )


# --- The safety record and the gate ------------------------------------------------


@dataclass(frozen=True)
class ScreeningFacts:
    id: int
    taken_at: datetime
    verdict: Verdict
    # Question ids answered yes / not sure, and record findings (Trigger values).
    flags: frozenset[str] = frozenset()
    emergency_all_no: bool = True


@dataclass(frozen=True)
class ClearanceFacts:
    screening_id: int
    recorded_at: datetime
    covers: frozenset[str]


@dataclass(frozen=True)
class ConfirmationFacts:
    """The user's word that a doctor examined them about emergency signs."""

    screening_id: int
    recorded_at: datetime


@dataclass(frozen=True)
class StopSignalFacts:
    recorded_at: datetime
    reported_on: date  # the user's local day when it was reported
    signals: tuple[str, ...] = ()
    pause_ends_at: datetime | None = None  # local midnight after it was reported

    def pauses(self, now: datetime, today: date) -> bool:
        """Whether this stop signal still closes the day (the later of both readings)."""
        return self.reported_on >= today or (
            self.pause_ends_at is not None and now < self.pause_ends_at
        )


@dataclass(frozen=True)
class SafetyRecord:
    """Everything the gate reads, oldest first."""

    screenings: tuple[ScreeningFacts, ...] = ()
    clearances: tuple[ClearanceFacts, ...] = ()
    confirmations: tuple[ConfirmationFacts, ...] = ()
    stop_signals: tuple[StopSignalFacts, ...] = ()
    severe_days: tuple[date, ...] = ()  # local days with a pain score of SEVERE_PAIN or more
    severe_since: datetime | None = None  # when the latest severe score was recorded

    @property
    def latest(self) -> ScreeningFacts | None:
        return self.screenings[-1] if self.screenings else None


class GateReason(StrEnum):
    ALLOWED = "allowed"
    NO_SCREENING = "no_screening"
    EMERGENCY = "emergency"
    PAUSED_TODAY = "paused_today"
    STOP_SIGNAL = "stop_signal"
    SEVERE_PAIN = "severe_pain"
    NEEDS_DOCTOR = "needs_doctor"
    NEEDS_CLINICIAN = "needs_clinician"
    SCREENING_DUE = "screening_due"

    @property
    def asks_questions(self) -> bool:
        """Reasons that the questionnaire itself answers (taken again, it may open the plan)."""
        return self in _ASK_AGAIN


_ASK_AGAIN = {
    GateReason.NO_SCREENING,
    GateReason.STOP_SIGNAL,
    GateReason.SEVERE_PAIN,
    GateReason.SCREENING_DUE,
}


@dataclass(frozen=True)
class GateDecision:
    reason: GateReason
    # The screening whose verdict still stands (the one a clearance or confirmation is for).
    blocking: ScreeningFacts | None = None
    triggers: tuple[Trigger, ...] = field(default_factory=tuple)

    @property
    def allowed(self) -> bool:
        return self.reason is GateReason.ALLOWED


def covered(screening: ScreeningFacts, clearances: Iterable[ClearanceFacts]) -> bool:
    """Whether a recorded clearance lifts this urgent or clinician-first screening.

    Its own clearance always does, and so does one recorded later that was given for all
    of its flags. One recorded before it does only when every flag of this screening is
    a lasting fact that clearance was given for: a new "yes", or a symptom, needs a new
    clearance.
    """
    for clearance in clearances:
        if clearance.screening_id == screening.id:
            return True
        if not screening.flags or not screening.flags <= clearance.covers:
            continue
        if clearance.recorded_at >= screening.taken_at or all(
            _is_lasting(flag) for flag in screening.flags
        ):
            return True
    return False


def pending_clearance(record: SafetyRecord) -> tuple[ScreeningFacts, ...]:
    """Every urgent or clinician-first screening not yet lifted: one clearance covers them all."""
    return tuple(
        s
        for s in record.screenings
        if s.verdict in (Verdict.URGENT, Verdict.CLINICIAN_FIRST)
        and not covered(s, record.clearances)
    )


def _is_lasting(flag: str) -> bool:
    question = QUESTIONS_BY_ID.get(flag)
    return question is not None and question.lasting


def emergency_resolved(screening: ScreeningFacts, record: SafetyRecord) -> bool:
    """An emergency verdict stands until a doctor's examination is confirmed after it and
    a later screening answers every emergency question "no"."""
    confirmed = [
        c.recorded_at
        for c in record.confirmations
        if c.screening_id == screening.id and c.recorded_at >= screening.taken_at
    ]
    if not confirmed:
        return False
    since = min(confirmed)
    return any(s.taken_at >= since and s.emergency_all_no for s in record.screenings)


def unresolved_block(record: SafetyRecord) -> ScreeningFacts | None:
    """The oldest screening whose blocking verdict was never lifted, if any.

    Every screening counts, not just the latest: a clear retake after a blocking result
    does not lift it.
    """
    for screening in record.screenings:
        if screening.verdict is Verdict.EMERGENCY:
            if not emergency_resolved(screening, record):
                return screening
        elif screening.verdict.blocks and not covered(screening, record.clearances):
            return screening
    return None


def record_triggers(record: SafetyRecord, today: date) -> tuple[Trigger, ...]:
    """Findings from the record that a screening taken today must add (SPEC 1.5-1.6)."""
    found = []
    recent = sorted(
        s.reported_on
        for s in record.stop_signals
        if s.reported_on > today - timedelta(days=STOP_SIGNAL_REPEAT_DAYS)
    )
    if len(recent) >= 2:
        found.append(Trigger.REPEAT_STOP_SIGNALS)
    if severe_days_recent(record.severe_days, today) >= SEVERE_DAYS_NEEDED:
        found.append(Trigger.SEVERE_PAIN_DAYS)
    return tuple(found)


def severe_days_recent(days: Iterable[date], today: date) -> int:
    first = today - timedelta(days=SEVERE_WINDOW_DAYS - 1)
    return len({d for d in days if first <= d <= today})


def may_exercise(record: SafetyRecord, now: datetime, today: date) -> GateDecision:
    """Whether the plan, timer and log form may be shown now.

    Checked from the most serious reason down, so the user is told the most important
    thing first. ``today`` is the user's local date at ``now``.
    """
    latest = record.latest
    if latest is None:
        return GateDecision(GateReason.NO_SCREENING)
    blocking = unresolved_block(record)
    if blocking is not None and blocking.verdict is Verdict.EMERGENCY:
        return GateDecision(GateReason.EMERGENCY, blocking)
    # A stop signal closes the rest of the day whatever is answered since.
    if any(s.pauses(now, today) for s in record.stop_signals):
        return GateDecision(GateReason.PAUSED_TODAY, blocking)
    if any(s.recorded_at >= latest.taken_at for s in record.stop_signals):
        return GateDecision(GateReason.STOP_SIGNAL, blocking, record_triggers(record, today))
    if (
        severe_days_recent(record.severe_days, today) >= SEVERE_DAYS_NEEDED
        and record.severe_since is not None
        and record.severe_since >= latest.taken_at
    ):
        return GateDecision(GateReason.SEVERE_PAIN, blocking, record_triggers(record, today))
    if blocking is not None:
        if blocking.verdict is Verdict.URGENT:
            return GateDecision(GateReason.NEEDS_DOCTOR, blocking)
        return GateDecision(GateReason.NEEDS_CLINICIAN, blocking)
    if now - latest.taken_at >= RESCREEN_AFTER:
        return GateDecision(GateReason.SCREENING_DUE)
    return GateDecision(GateReason.ALLOWED)


def may_record_clearance(decision: GateDecision) -> bool:
    """A clearance may be recorded only for an urgent or clinician-first block that stands,
    and only when nothing more serious (a pause, a due screening) comes first."""
    return decision.reason in (GateReason.NEEDS_DOCTOR, GateReason.NEEDS_CLINICIAN)


def may_confirm_examination(decision: GateDecision) -> bool:
    return decision.reason is GateReason.EMERGENCY


def may_retake(decision: GateDecision, record: SafetyRecord) -> bool:
    """The questions may be answered again, except after an emergency not yet confirmed
    as examined by a doctor (and never on the day of a stop signal: the answers would
    change nothing until tomorrow)."""
    if decision.reason is GateReason.EMERGENCY:
        blocking = decision.blocking
        return blocking is not None and any(
            c.screening_id == blocking.id for c in record.confirmations
        )
    return decision.reason is not GateReason.PAUSED_TODAY
