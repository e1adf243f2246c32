"""The safety record in the database: what the gate reads, and every write to it.

Reads turn rows into ``stretches.screening`` facts; writes go through the functions here,
each in one transaction with ``data_changed`` so every cached page and gate decision is
retired at once. Tracking reports what happened in a session through ``stamp_session``;
nothing here imports tracking.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from lib.cache import cached_for_user, data_changed, user_key
from lib.page_cache import memoised
from stretches.models import (
    Clearance,
    ExaminationConfirmation,
    SafetyEvent,
    Screening,
    StopSignal,
)
from stretches.progression import Setback, SetbackKind, is_setback
from stretches.screening import (
    SEVERE_PAIN,
    SEVERE_WINDOW_DAYS,
    STOP_SIGNAL_REPEAT_DAYS,
    Answer,
    ClearanceFacts,
    ConfirmationFacts,
    GateDecision,
    SafetyRecord,
    ScreeningFacts,
    StopSignalFacts,
    Trigger,
    Verdict,
    may_exercise,
    pending_clearance,
    verdict,
)

# A session edited or deleted this soon after it was logged is a correction: its pain
# rise and severe score are judged again. A stop signal is never taken back.
CORRECTION_WINDOW = timedelta(minutes=10)


def _facts(screening: Screening) -> ScreeningFacts:
    return ScreeningFacts(
        id=screening.pk,
        taken_at=screening.taken_at,
        verdict=screening.verdict_enum,
        flags=screening.flags,
        emergency_all_no=screening.emergency_all_no,
    )


SETBACK_KINDS = (SafetyEvent.Kind.STOP_SIGNAL, SafetyEvent.Kind.PAIN_RISE)


@dataclass(frozen=True)
class SafetyReads:
    """What the gate and the plan read of the safety record, from one load."""

    record: SafetyRecord
    setbacks: list[Setback]  # since the programme start (none without one)


def _load(user, today: date, start: date | None) -> SafetyReads:
    """Two queries: the screenings with their clearance and first examination, and the
    stamped events that can still matter to the gate or to progression (SPEC 1.3)."""
    first_examination = ExaminationConfirmation.objects.filter(screening=OuterRef("pk")).order_by(
        "recorded_at"
    )
    screenings = list(
        Screening.objects.filter(user=user)
        .select_related("clearance")
        .annotate(examined_at=Subquery(first_examination.values("recorded_at")[:1]))
        .order_by("taken_at", "id")
    )
    latest_taken = screenings[-1].taken_at if screenings else None
    horizon = today - timedelta(days=max(STOP_SIGNAL_REPEAT_DAYS, SEVERE_WINDOW_DAYS))
    gate_matters = Q(reported_on__gte=horizon)
    if latest_taken is not None:
        gate_matters |= Q(kind=SafetyEvent.Kind.STOP_SIGNAL, recorded_at__gte=latest_taken)
    gate_matters &= ~Q(kind=SafetyEvent.Kind.PAIN_RISE)
    wanted = gate_matters
    if start is not None:
        wanted |= Q(kind__in=SETBACK_KINDS, day__gte=start)
    events = list(
        SafetyEvent.objects.filter(user=user).filter(wanted).order_by("recorded_at", "id")
    )
    for_gate = [event for event in events if _gate_matters(event, horizon, latest_taken)]
    for_progression = (
        [e for e in events if e.kind in SETBACK_KINDS and e.day >= start] if start else []
    )
    return SafetyReads(_record(screenings, for_gate), _setbacks(for_progression))


def _gate_matters(event: SafetyEvent, horizon: date, latest_taken) -> bool:
    """``gate_matters`` above, in Python, for the rows the one query brought."""
    if event.kind == SafetyEvent.Kind.PAIN_RISE:
        return False
    if event.reported_on >= horizon:
        return True
    return (
        latest_taken is not None
        and event.kind == SafetyEvent.Kind.STOP_SIGNAL
        and event.recorded_at >= latest_taken
    )


def _record(screenings: list[Screening], events: list[SafetyEvent]) -> SafetyRecord:
    stops, severe_days, severe_since = [], [], None
    for event in events:
        if event.kind == SafetyEvent.Kind.STOP_SIGNAL:
            stops.append(
                StopSignalFacts(
                    event.recorded_at,
                    event.reported_on,
                    tuple(event.signals),
                    event.pause_ends_at,
                )
            )
        else:
            severe_days.append(event.day)
            severe_since = event.recorded_at
    clearances = [s.clearance for s in screenings if hasattr(s, "clearance")]
    return SafetyRecord(
        screenings=tuple(_facts(s) for s in screenings),
        clearances=tuple(
            ClearanceFacts(c.screening_id, c.recorded_at, frozenset(c.covers))
            for c in sorted(clearances, key=lambda c: c.recorded_at)
        ),
        confirmations=tuple(
            ConfirmationFacts(s.pk, s.examined_at) for s in screenings if s.examined_at
        ),
        stop_signals=tuple(stops),
        severe_days=tuple(severe_days),
        severe_since=severe_since,
    )


def _reads(user) -> SafetyReads:
    """The user's safety reads, cached until their next write that moves the history
    version, or local midnight."""
    profile = user.profile
    today = profile.local_today()
    start = profile.programme_start
    # Under the history version: a plain new session (no stop signal, rise or severe
    # score) is the one write that does not move it, and it adds nothing to these reads.
    # The gate and the plan both read them: once per request and version (the memo's
    # name holds what the key does, so a write in between is a new name).
    name = f"safety:{profile.user_id}:{profile.history_version}:{today}:{start}"
    return memoised(
        name,
        lambda: cached_for_user(
            profile, SAFETY, lambda: _load(user, today, start), **_safety_entry(profile, today)
        ),
    )


SAFETY = "safety-v3"


def _safety_entry(profile, today: date) -> dict:
    return {"extra": (profile.programme_start,), "history": True, "today": today}


def safety_key(user) -> str:
    """The shared-cache key of the user's safety reads (``lib.cache.prefetch``)."""
    profile = user.profile
    today = profile.local_today()
    return user_key(profile, SAFETY, **_safety_entry(profile, today))


def safety_record(user) -> SafetyRecord:
    """The user's safety record, as the gate reads it."""
    return _reads(user).record


def setbacks_for(user) -> list[Setback]:
    """Every setback stamped since the programme start, for progression (from the same
    load as the gate's record: on a cold cache one query serves both)."""
    return _reads(user).setbacks


@dataclass(frozen=True)
class GateState:
    decision: GateDecision
    record: SafetyRecord

    @property
    def latest(self) -> ScreeningFacts | None:
        return self.record.latest


def gate_state(user) -> GateState:
    record = safety_record(user)
    decision = may_exercise(record, timezone.now(), user.profile.local_today())
    return GateState(decision, record)


def latest_stop_signals(record: SafetyRecord) -> tuple[str, ...]:
    return record.stop_signals[-1].signals if record.stop_signals else ()


# --- Writes ---------------------------------------------------------------------------


def record_screening(
    *,
    user,
    answers: dict[str, Answer],
    triggers: tuple[Trigger, ...],
    reason: str,
) -> Screening:
    result = verdict(answers, triggers)
    with transaction.atomic():
        screening = Screening.objects.create(
            user=user,
            taken_at=timezone.now(),
            answers={qid: answer.value for qid, answer in answers.items()},
            triggers=[t.value for t in triggers],
            verdict=result.value,
            reason=reason,
        )
        data_changed(user)
    return screening


def record_emergency_check(*, user, answers: dict[str, Answer], result: Verdict) -> Screening:
    """The emergency questions answered on their own (after severe pain): kept only when
    they found something, which then blocks like any screening."""
    with transaction.atomic():
        screening = Screening.objects.create(
            user=user,
            taken_at=timezone.now(),
            answers={qid: a.value for qid, a in answers.items()},
            verdict=result.value,
            reason=Screening.Reason.EMERGENCY_CHECK,
        )
        data_changed(user)
    return screening


def record_clearance(
    *, user, record: SafetyRecord, cleared_on: date, cleared_by: str, note: str
) -> Clearance | None:
    """One clearance for every urgent or clinician-first result still standing.

    Returns None when another request recorded it first (a double-clicked submit).
    """
    pending = pending_clearance(record)
    if not pending:
        return None
    covers = sorted(set().union(*(s.flags for s in pending)))
    with transaction.atomic():
        clearance, created = Clearance.objects.get_or_create(
            screening_id=pending[-1].id,
            defaults={
                "user": user,
                "cleared_on": cleared_on,
                "cleared_by": cleared_by,
                "note": note,
                "covers": covers,
            },
        )
        if created:
            data_changed(user)
    return clearance if created else None


def record_examination(*, user, screening_id: int, examined_on: date) -> ExaminationConfirmation:
    with transaction.atomic():
        confirmation = ExaminationConfirmation.objects.create(
            user=user, screening_id=screening_id, examined_on=examined_on
        )
        data_changed(user)
    return confirmation


@dataclass(frozen=True)
class SessionSafety:
    """What tracking tells the safety record about one logged session."""

    session_id: int
    day: date  # the session's local day
    pain_before: int
    pain_after: int
    stop_signals: tuple[str, ...]


def _end_of_local_day(user, day: date) -> datetime:
    """The instant the user's local ``day`` ends, in their time zone of this moment."""
    return datetime.combine(
        day + timedelta(days=1), datetime.min.time(), tzinfo=user.profile.tzinfo
    )


def _new_stamps(
    user, session: SessionSafety, reported_on: date, *, signalled: set[str], kinds: set[str]
) -> list[SafetyEvent]:
    now = timezone.now()
    common = {
        "user": user,
        "day": session.day,
        "reported_on": reported_on,
        "recorded_at": now,
        "session_ref": session.session_id,
    }
    rows = []
    signals = sorted(s for s in set(session.stop_signals) - signalled if s in StopSignal.values)
    if signals:
        rows.append(
            SafetyEvent(
                kind=SafetyEvent.Kind.STOP_SIGNAL,
                signals=signals,
                pause_ends_at=_end_of_local_day(user, reported_on),
                **common,
            )
        )
    rose = is_setback(
        pain_before=session.pain_before, pain_after=session.pain_after, stop_signal=False
    )
    # A session is one setback: a stop signal already makes it one.
    if rose and not (signals or signalled) and SafetyEvent.Kind.PAIN_RISE not in kinds:
        rise = session.pain_after - session.pain_before
        rows.append(SafetyEvent(kind=SafetyEvent.Kind.PAIN_RISE, rise=rise, **common))
    severe = max(session.pain_before, session.pain_after) >= SEVERE_PAIN
    if severe and SafetyEvent.Kind.SEVERE_PAIN not in kinds:
        rows.append(SafetyEvent(kind=SafetyEvent.Kind.SEVERE_PAIN, **common))
    return rows


def stamp_session(*, user, session: SessionSafety, reported_on: date, report_token=None) -> int:
    """Stamp the session's stop signals, pain rise and severe score (call inside the
    transaction that saved it) and return how many events were stamped. Nothing stamped
    here is removed by a later edit.

    ``report_token``: a session that is not stored (refused at the flare's cap), by its
    form's client token: stamped once however often the same form is sent (call with the
    person's profile row locked, as the capped save holds it); sent again, the count is
    of the events its first sending stamped. For a stored session, the events a refusal
    of the same form stamped become the session's, and are not stamped again."""
    signalled: set[str] = set()
    kinds: set[str] = set()
    if report_token is not None:
        earlier = SafetyEvent.objects.filter(user=user, report_token=report_token)
        if session.session_id is None:
            already = earlier.count()
            if already:
                return already
        else:
            # The same form refused at the cap before and stored now (a day freed since):
            # what that refusal stamped is this session's, not a second report.
            for kind, signals in earlier.values_list("kind", "signals"):
                kinds.add(kind)
                signalled.update(signals)
            earlier.update(session_ref=session.session_id)
    rows = _new_stamps(user, session, reported_on, signalled=signalled, kinds=kinds)
    if session.session_id is None:
        for row in rows:
            row.report_token = report_token
    SafetyEvent.objects.bulk_create(rows)
    return len(rows)


def stamps_nothing(*, user, session: SessionSafety, reported_on: date) -> bool:
    """Whether ``stamp_session`` would stamp nothing for this session (no stop signal, no
    pain rise, no severe score): the same rules, asked before the session is stored."""
    return not _new_stamps(user, session, reported_on, signalled=set(), kinds=set())


def correct_session(
    *,
    user,
    session_id: int,
    session: SessionSafety | None,
    logged_at: datetime,
    reported_on: date,
) -> None:
    """A session was edited (``session``) or deleted (None), inside its transaction.

    Within CORRECTION_WINDOW of logging, its pain-rise and severe stamps are judged
    again; after it they stay, and an edit can only add one. Stop signals stay in every
    case; new ones are stamped.
    """
    stamped = SafetyEvent.objects.filter(user=user, session_ref=session_id)
    if timezone.now() - logged_at <= CORRECTION_WINDOW:
        stamped.exclude(kind=SafetyEvent.Kind.STOP_SIGNAL).delete()
    if session is None:
        return
    kinds, signalled = set(), set()
    for kind, signals in stamped.values_list("kind", "signals"):
        kinds.add(kind)
        signalled.update(signals)
    rows = _new_stamps(user, session, reported_on, signalled=signalled, kinds=kinds)
    SafetyEvent.objects.bulk_create(rows)


def setbacks_since(user, start: date) -> list[Setback]:
    """Every setback stamped since ``start``, one per session (SPEC 1.3: a setback is a
    session), for progression. A session with a pain rise and a stop signal added later
    is one setback, told as the stop signal."""
    return _setbacks(SafetyEvent.objects.filter(user=user, day__gte=start, kind__in=SETBACK_KINDS))


def _setbacks(events) -> list[Setback]:
    by_session: dict[object, Setback] = {}
    for event in events:
        key = event.session_ref if event.session_ref is not None else ("event", event.pk)
        found = Setback(event.day, SetbackKind(event.kind), event.rise)
        kept = by_session.get(key)
        if kept is None or found.kind is SetbackKind.STOP_SIGNAL:
            by_session[key] = found
    return list(by_session.values())
