"""The one gate in front of every plan, timer and log URL (SPEC 1.4-1.5)."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django_htmx.http import HttpResponseClientRedirect

from stretches.models import Screening
from stretches.screening import (
    ClearanceFacts,
    GateDecision,
    GateReason,
    ScreeningFacts,
    may_exercise,
)

GATE_MESSAGES = {
    GateReason.NO_SCREENING: "Please answer the safety questions before your first plan.",
    GateReason.SCREENING_DUE: "It has been 28 days since your last safety check. "
    "Please answer the questions again before today's plan.",
    GateReason.STOP_SIGNAL: "Your programme is paused because of a stop signal after a "
    "session. Please read the guidance and answer the safety questions again.",
    GateReason.EMERGENCY: "Your last answers point to a possible emergency. The plan stays closed.",
    GateReason.NEEDS_DOCTOR: "Your plan stays closed until you record that a doctor has "
    "seen you and cleared you.",
    GateReason.NEEDS_CLINICIAN: "Your plan stays closed until you record that a clinician "
    "has cleared you.",
}


def latest_screening(user) -> Screening | None:
    return Screening.objects.filter(user=user).select_related("clearance").first()


def gate_decision(user, screening: Screening | None = None, *, lookup: bool = True):
    """The gate for ``user`` now, and the latest screening it was judged on."""
    if lookup:
        screening = latest_screening(user)
    # The profile is loaded with the user (accounts' auth backend makes sure it exists).
    profile = user.profile
    facts = clearance = None
    if screening is not None:
        facts = ScreeningFacts(screening.pk, screening.taken_at, screening.verdict_enum)
        stored = getattr(screening, "clearance", None)
        if stored is not None:
            clearance = ClearanceFacts(stored.screening_id, stored.cleared_on)
    decision: GateDecision = may_exercise(
        facts, clearance, profile.last_stop_signal_at, timezone.now()
    )
    return decision, screening


def exercise_gate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Let the view run only while the latest screening allows exercise.

    Anything else goes to /screening/, which explains why and what to do.
    """

    @wraps(view)
    def gated(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        decision, screening = gate_decision(request.user)
        if not decision.allowed:
            messages.warning(request, GATE_MESSAGES[decision.reason])
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect("/screening/")
            return redirect("screening")
        return view(request, *args, **kwargs)

    # Marked so a test can walk the URL patterns and find every gated view.
    gated.exercise_gated = True
    return login_required(gated)
