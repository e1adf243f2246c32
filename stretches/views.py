from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from stretches.forms import FIELD_PREFIX, ClearanceForm, ScreeningForm
from stretches.gate import gate_decision
from stretches.models import Clearance, Exercise, Screening, StopSignal
from stretches.screening import QUESTIONS, GateReason, Tier, Verdict, triggered_by

REASON_FOR_GATE = {
    GateReason.NO_SCREENING: Screening.Reason.FIRST,
    GateReason.SCREENING_DUE: Screening.Reason.DUE,
    GateReason.STOP_SIGNAL: Screening.Reason.STOP_SIGNAL,
}
ASK_AGAIN = set(REASON_FOR_GATE)


def stretch_list(request: HttpRequest) -> HttpResponse:
    return render(request, "stretches/list.html", {"exercises": Exercise.objects.all()})


def stretch_detail(request: HttpRequest, slug: str) -> HttpResponse:
    exercise = get_object_or_404(Exercise, slug=slug)
    return render(request, "stretches/detail.html", {"exercise": exercise})


@login_required
@require_http_methods(["GET", "POST"])
def screening(request: HttpRequest) -> HttpResponse:
    profile = request.user.profile
    decision, latest = gate_decision(request.user)
    stop_signal_pause = decision.reason is GateReason.STOP_SIGNAL
    labels = dict(StopSignal.choices)
    # Worsening numbness or tingling: the emergency questions come first, on their own.
    numbness_first = stop_signal_pause and "numbness" in (profile.last_stop_signals or [])
    asking = (
        decision.reason in ASK_AGAIN or request.GET.get("retake") == "1" or request.method == "POST"
    )
    context = {
        "decision": decision,
        "stop_signal_pause": stop_signal_pause,
        "stop_signal_labels": [labels[s] for s in (profile.last_stop_signals or []) if s in labels],
        "latest": latest,
    }
    if not asking:
        return _result(request, latest, profile, context)

    step = request.POST.get("step") if request.method == "POST" else None
    if step not in ("emergency", "rest", "all"):
        step = "emergency" if numbness_first else "all"
    tiers = (Tier.EMERGENCY,) if step == "emergency" else tuple(Tier)
    form = ScreeningForm(request.POST or None, tiers=tiers)

    if request.method == "POST" and form.is_valid():
        answers, result = form.result()
        if step == "emergency" and result is None:
            # All "no": go on to the other questions; the first answers ride along hidden.
            form = ScreeningForm(tiers=tuple(Tier))
            context.update(form=form, step="rest", carried=answers)
            return render(request, "stretches/screening.html", context)
        verdict = result or Verdict.EMERGENCY
        Screening.objects.create(
            user=request.user,
            taken_at=timezone.now(),
            answers=answers,
            verdict=verdict.value,
            reason=REASON_FOR_GATE.get(decision.reason, Screening.Reason.RETAKE),
        )
        if verdict is Verdict.CLEAR:
            messages.success(request, "Thank you. Nothing in your answers needs a doctor first.")
            return redirect("today")
        return redirect("screening")

    carried = {}
    if step == "rest":
        carried = {
            qid: False
            for qid in (q.id for q in QUESTIONS if q.tier is Tier.EMERGENCY)
            if request.POST.get(FIELD_PREFIX + qid) == "no"
        }
    context.update(form=form, step=step, carried=carried)
    status = 400 if request.method == "POST" else 200
    return render(request, "stretches/screening.html", context, status=status)


def _result(request, latest: Screening, profile, context) -> HttpResponse:
    verdict = latest.verdict_enum
    clearance = getattr(latest, "clearance", None)
    form = None
    if verdict in (Verdict.URGENT, Verdict.CLINICIAN_FIRST) and clearance is None:
        form = ClearanceForm(
            today=profile.local_today(),
            not_before=latest.taken_at.astimezone(profile.tzinfo).date(),
        )
    context.update(
        screening=latest,
        verdict=verdict,
        triggers=triggered_by(latest.answers),
        clearance=clearance,
        clearance_form=form,
    )
    return render(request, "stretches/screening_result.html", context)


@login_required
@require_POST
def record_clearance(request: HttpRequest) -> HttpResponse:
    profile = request.user.profile
    decision, latest = gate_decision(request.user)
    if (
        latest is None
        or latest.verdict_enum not in (Verdict.URGENT, Verdict.CLINICIAN_FIRST)
        or getattr(latest, "clearance", None) is not None
        or decision.reason in ASK_AGAIN
    ):
        messages.error(request, "There is no result waiting for a clearance.")
        return redirect("screening")
    form = ClearanceForm(
        request.POST,
        today=profile.local_today(),
        not_before=latest.taken_at.astimezone(profile.tzinfo).date(),
    )
    if not form.is_valid():
        context = {
            "decision": decision,
            "screening": latest,
            "verdict": latest.verdict_enum,
            "triggers": triggered_by(latest.answers),
            "clearance": None,
            "clearance_form": form,
        }
        return render(request, "stretches/screening_result.html", context, status=400)
    try:
        with transaction.atomic():
            Clearance.objects.create(
                user=request.user,
                screening=latest,
                cleared_on=form.cleaned_data["cleared_on"],
                note=form.cleaned_data["note"],
            )
    except IntegrityError:
        pass  # a double-clicked submit: the first click recorded it; answer as it did
    messages.success(request, "Clearance recorded. Your plan is open again.")
    return redirect("today")
