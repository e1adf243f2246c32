"""The one gate in front of every plan, timer and log URL (SPEC 1.4-1.5)."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect

from lib.cache import expect_keys, prefetch, shared_keys
from stretches.safety import gate_state, safety_key
from stretches.screening import RESCREEN_AFTER_DAYS, GateReason
from stretches.signals import CATALOGUE, CATALOGUE_COPY

GATE_MESSAGES = {
    GateReason.NO_SCREENING: "Please answer the safety questions before your first plan.",
    GateReason.SCREENING_DUE: f"It has been {RESCREEN_AFTER_DAYS} days since your last safety "
    "check. Please answer the questions again before today's plan.",
    GateReason.PAUSED_TODAY: "Your programme is paused for the rest of today because of a "
    "stop signal. Please read the guidance below.",
    GateReason.STOP_SIGNAL: "Your programme is paused because of a stop signal. Please answer "
    "the safety questions again before you stretch.",
    GateReason.SEVERE_PAIN: "Your pain has been severe on several days this week. Please "
    "answer the safety questions before you stretch again.",
    GateReason.EMERGENCY: "Your answers point to a possible emergency. The plan stays closed.",
    GateReason.NEEDS_DOCTOR: "Your plan stays closed until you record that a doctor has "
    "seen you and cleared you.",
    GateReason.NEEDS_CLINICIAN: "Your plan stays closed until you record that a clinician "
    "has cleared you.",
}


def exercise_gate(view=None, *, also: Callable[[HttpRequest], list[str]] | None = None):
    """Let the view run only while the safety record allows exercise.

    Anything else goes to /screening/, which explains why and what to do.

    ``also(request)``: more shared-cache keys the view will read (``lib.cache.prefetch``),
    in the gate's round trip.
    """
    if view is None:
        return lambda view: exercise_gate(view, also=also)

    @wraps(view)
    def gated(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Signed in (login_required, below): the user is loaded, and the view reads it
        # dozens of times; each read through Django's lazy wrapper costs a failed
        # attribute lookup first (several microseconds a read on a log POST).
        request.user = getattr(request.user, "_wrapped", request.user)
        # The safety record and the stretch catalogue (which every gated view reads next)
        # in one round trip to the shared cache.
        keys = [safety_key(request.user), *shared_keys(CATALOGUE, CATALOGUE_COPY)]
        more = also(request) if also is not None else []
        prefetch([*keys, *more])  # those read with the user already are not read again
        expect_keys(request.user.pk, keys, request.path_info)  # read with the user next time
        decision = gate_state(request.user).decision
        if not decision.allowed:
            messages.warning(request, GATE_MESSAGES[decision.reason])
            if getattr(request, "htmx", False):
                return HttpResponseClientRedirect("/screening/")
            return redirect("screening")
        return view(request, *args, **kwargs)

    # Marked so a test can walk the URL patterns and find every gated view.
    gated.exercise_gated = True
    return login_required(gated)
