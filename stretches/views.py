from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from stretches.forms import ClearanceForm, ExaminationForm, ScreeningForm
from stretches.illustrations import illustrations_for
from stretches.models import Exercise, Screening, StopSignal
from stretches.safety import (
    GateState,
    gate_state,
    latest_stop_signals,
    record_clearance,
    record_emergency_check,
    record_examination,
    record_screening,
)
from stretches.screening import (
    EMERGENCY_QUESTION_IDS,
    SEVERE_PAIN,
    GateReason,
    Tier,
    Trigger,
    Verdict,
    emergency_verdict,
    may_confirm_examination,
    may_record_clearance,
    may_retake,
    pending_clearance,
)

REASON_FOR_GATE = {
    GateReason.NO_SCREENING: Screening.Reason.FIRST,
    GateReason.SCREENING_DUE: Screening.Reason.DUE,
    GateReason.STOP_SIGNAL: Screening.Reason.STOP_SIGNAL,
    GateReason.SEVERE_PAIN: Screening.Reason.SEVERE_PAIN,
}
STEPS = ("emergency", "rest", "all", "check")


def stretch_list(request: HttpRequest) -> HttpResponse:
    return render(request, "stretches/list.html", {"exercises": Exercise.objects.all()})


def stretch_detail(request: HttpRequest, slug: str) -> HttpResponse:
    exercise = get_object_or_404(Exercise, slug=slug)
    return render(
        request,
        "stretches/detail.html",
        {
            "exercise": exercise,
            "stop_signals": StopSignal.choices,
            "illustrations": illustrations_for(exercise.slug),
        },
    )


def _signal_labels(state: GateState) -> list[str]:
    labels = dict(StopSignal.choices)
    return [labels[s] for s in latest_stop_signals(state.record) if s in labels]


def _screening(pk: int | None) -> Screening | None:
    return Screening.objects.filter(pk=pk).first() if pk else None


def _context(request: HttpRequest, state: GateState) -> dict:
    return {
        "decision": state.decision,
        "reason": state.decision.reason.value,
        "stop_signal_labels": _signal_labels(state),
        "latest": _screening(state.latest.id if state.latest else None),
        "severe_pain": SEVERE_PAIN,
    }


def _emergency_first(state: GateState) -> bool:
    """Worsening numbness, spreading pain or severe pain: the emergency questions come first."""
    reason = state.decision.reason
    if reason is GateReason.SEVERE_PAIN:
        return True
    signals = latest_stop_signals(state.record)
    return reason in (
        GateReason.STOP_SIGNAL,
        GateReason.PAUSED_TODAY,
    ) and StopSignal.asks_emergency_questions_first(signals)


CHECKED_KEY = "emergency_checked_for"


def _emergency_checked_since_signal(request: HttpRequest, state: GateState) -> bool:
    """Whether the emergency questions were answered (all "no") after the latest stop signal.

    An all-"no" check is not a screening (it must not stand in for tomorrow's), so it is
    remembered in the login session; a "yes" is stored and blocks.
    """
    stops = state.record.stop_signals
    return bool(stops) and request.session.get(CHECKED_KEY) == stops[-1].recorded_at.isoformat()


@login_required
@require_http_methods(["GET", "POST"])
def screening(request: HttpRequest) -> HttpResponse:
    state = gate_state(request.user)
    decision = state.decision
    context = _context(request, state)
    step = request.POST.get("step") or request.GET.get("step")
    if step not in STEPS:
        step = None
    paused_today = decision.reason is GateReason.PAUSED_TODAY
    # The emergency questions may always be answered on their own (after severe pain, or
    # on a pause day after numbness or spreading pain): they can only close the plan.
    if step == "check" or (
        paused_today
        and _emergency_first(state)
        and not _emergency_checked_since_signal(request, state)
    ):
        return _emergency_check(request, state, context)
    asking = decision.reason.asks_questions or (
        (request.GET.get("retake") == "1" or request.method == "POST")
        and may_retake(decision, state.record)
    )
    if not asking:
        return _result(request, state, context)

    if step is None:
        step = "emergency" if _emergency_first(state) else "all"
    tiers = (Tier.EMERGENCY,) if step == "emergency" else tuple(Tier)
    previous = context["latest"].answers if context["latest"] else None
    after_stop_signal = decision.reason is GateReason.STOP_SIGNAL
    ask_settled = after_stop_signal and step != "emergency"
    form = ScreeningForm(
        request.POST if request.method == "POST" else None,
        tiers=tiers,
        previous=previous,
        ask_settled=ask_settled,
    )
    if request.method == "POST" and form.is_valid():
        answers = form.answers()
        reason = REASON_FOR_GATE.get(decision.reason, Screening.Reason.RETAKE)
        if step == "emergency":
            found = emergency_verdict(answers)
            if found is None:
                # All "no": the rest follows, with these answers carried as "no".
                form = ScreeningForm(
                    tiers=tuple(Tier), previous=previous, ask_settled=after_stop_signal
                )
                context.update(form=form, step="rest")
                return render(request, "stretches/screening.html", context)
            record_emergency_check(user=request.user, answers=answers, result=found)
            return redirect("screening")
        triggers = decision.triggers + ((Trigger.NOT_SETTLED,) if form.not_settled else ())
        saved = record_screening(
            user=request.user, answers=answers, triggers=triggers, reason=reason
        )
        if gate_state(request.user).decision.allowed:
            messages.success(request, "Thank you. Nothing in your answers needs a doctor first.")
            return redirect("today")
        if saved.verdict == Verdict.CLEAR:
            messages.warning(
                request,
                "Your answers today are clear, but an earlier result still needs a "
                "clinician's clearance before the plan opens.",
            )
        return redirect("screening")
    context.update(form=form, step=step)
    status = 400 if request.method == "POST" else 200
    return render(request, "stretches/screening.html", context, status=status)


def _emergency_check(request: HttpRequest, state: GateState, context: dict) -> HttpResponse:
    form = ScreeningForm(
        request.POST if request.method == "POST" else None, tiers=(Tier.EMERGENCY,)
    )
    if request.method == "POST" and form.is_valid():
        answers = form.answers()
        found = emergency_verdict(answers)
        if found is not None:
            record_emergency_check(user=request.user, answers=answers, result=found)
            return redirect("screening")
        messages.success(
            request,
            "Thank you: none of the emergency signs. Rest, and get advice if the pain does "
            "not settle.",
        )
        if state.record.stop_signals:
            request.session[CHECKED_KEY] = state.record.stop_signals[-1].recorded_at.isoformat()
        return redirect("screening")
    context.update(form=form, step="check")
    status = 400 if request.method == "POST" else 200
    return render(request, "stretches/screening.html", context, status=status)


def _result(
    request: HttpRequest,
    state: GateState,
    context: dict,
    *,
    clearance_form: ClearanceForm | None = None,
    examination_form: ExaminationForm | None = None,
    status: int = 200,
) -> HttpResponse:
    decision = state.decision
    profile = request.user.profile
    today = profile.local_today()
    shown = _screening(decision.blocking.id) if decision.blocking else context["latest"]
    pending = []
    if may_record_clearance(decision):
        pending = [_screening(s.id) for s in pending_clearance(state.record)]
        if clearance_form is None:
            clearance_form = _clearance_form(state, profile)
    confirming = may_confirm_examination(decision) and not may_retake(decision, state.record)
    if confirming and examination_form is None:
        examination_form = _examination_form(state, profile)
    context.update(
        screening=shown,
        verdict=shown.verdict_enum if shown else None,
        pending=pending,
        clearance_form=clearance_form,
        examination_form=examination_form,
        may_retake=may_retake(decision, state.record),
        today=today,
        emergency_numbers=EMERGENCY_NUMBERS,
        emergency_ids=EMERGENCY_QUESTION_IDS,
    )
    return render(request, "stretches/screening_result.html", context, status=status)


# Shown with a tap-to-call link each; the user knows which one is theirs.
EMERGENCY_NUMBERS = (("999", "UK"), ("112", "EU"), ("911", "US and Canada"))


def _clearance_form(state: GateState, profile, data=None) -> ClearanceForm:
    pending = pending_clearance(state.record)
    not_before = pending[-1].taken_at.astimezone(profile.tzinfo).date()
    return ClearanceForm(data, today=profile.local_today(), not_before=not_before)


def _examination_form(state: GateState, profile, data=None) -> ExaminationForm:
    blocking = state.decision.blocking
    not_before = blocking.taken_at.astimezone(profile.tzinfo).date()
    return ExaminationForm(data, today=profile.local_today(), not_before=not_before)


@login_required
@require_POST
def clearance(request: HttpRequest) -> HttpResponse:
    state = gate_state(request.user)
    if not may_record_clearance(state.decision):
        if state.decision.allowed:
            return redirect("today")  # a double-clicked submit: the first one recorded it
        messages.error(request, "There is no result waiting for a clearance.")
        return redirect("screening")
    profile = request.user.profile
    form = _clearance_form(state, profile, request.POST)
    if not form.is_valid():
        return _result(request, state, _context(request, state), clearance_form=form, status=400)
    record_clearance(
        user=request.user,
        record=state.record,
        cleared_on=form.cleaned_data["cleared_on"],
        cleared_by=form.cleaned_data["cleared_by"],
        note=form.cleaned_data["note"],
    )
    if gate_state(request.user).decision.allowed:
        messages.success(request, "Clearance recorded. Your plan is open again.")
        return redirect("today")
    messages.success(request, "Clearance recorded.")
    return redirect("screening")


@login_required
@require_POST
def examination(request: HttpRequest) -> HttpResponse:
    state = gate_state(request.user)
    if not may_confirm_examination(state.decision) or may_retake(state.decision, state.record):
        return redirect("screening")
    profile = request.user.profile
    form = _examination_form(state, profile, request.POST)
    if not form.is_valid():
        return _result(request, state, _context(request, state), examination_form=form, status=400)
    record_examination(
        user=request.user,
        screening_id=state.decision.blocking.id,
        examined_on=form.cleaned_data["examined_on"],
    )
    messages.success(
        request,
        "Thank you. Please answer the questions again, for how things are now. The plan "
        "opens only if every emergency question is answered no.",
    )
    return redirect("/screening/?retake=1")
