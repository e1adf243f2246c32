"""Sessions logged with no connection, sent later by the phone (page or service worker).

The log form on /today/ sits behind the exercise gate, which is right for a session
logged now. A session queued offline happened before any block that started since,
so it is stored all the same (the same form, the same service, one row per client
token) and the answer tells the phone to show the pause.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.services import profile_for
from pwa.owner import is_offline_owner
from stretches.gate import GATE_MESSAGES
from stretches.safety import gate_state
from tracking.forms import BACKDATE_LIMIT, SessionForm
from tracking.plan import build_plan
from tracking.services import DailyCapReached, log_session
from tracking.today import AFTER_SESSION, pain_response

STOP_SIGNAL_SAVED = (
    "A session saved on your phone was sent. You reported a stop signal in it, so the "
    "programme is paused: please stop stretching for now and read the guidance."
)


class QueuedSessionForm(SessionForm):
    """The log form as it was filled in offline, with the moment Save was tapped."""

    performed_at = forms.DateTimeField(
        error_messages={
            "required": "The time this session was saved on your phone is missing.",
            "invalid": "The time this session was saved on your phone is not readable.",
        }
    )
    offline_owner = forms.CharField(max_length=64)

    def clean_performed_at(self):
        value = self.cleaned_data["performed_at"]
        now = timezone.now()
        # A phone's clock can run ahead of ours, but a session that is being sent
        # now cannot have happened later than now.
        value = min(value, now)
        if value < now - BACKDATE_LIMIT:
            raise forms.ValidationError(
                "Sessions can be logged up to 7 days back; this one was saved on your "
                "phone longer ago than that."
            )
        return value


def _answer(status: str, http_status: int = 200, **fields) -> JsonResponse:
    return JsonResponse({"status": status, **fields}, status=http_status)


@require_POST
def log_queued(request: HttpRequest) -> JsonResponse:
    if not request.user.is_authenticated:
        # Kept on the phone: it is sent once its owner signs in again.
        return _answer(
            "signed-out", 401, message="Log in again to send the sessions saved on this phone."
        )
    if not is_offline_owner(request.user, request.POST.get("offline_owner", "")):
        # Saved on this phone by someone else: never stored in this account.
        return _answer("wrong-user", 403, message="This session belongs to someone else.")
    profile = profile_for(request.user)
    if profile.programme_start is None:
        return _answer("invalid", 400, message="Set your programme start date first.")
    plan = build_plan(profile)
    form = QueuedSessionForm.for_plan(plan, data=request.POST)
    if not form.is_valid():
        problems = [error for errors in form.errors.values() for error in errors]
        return _answer(
            "invalid",
            400,
            message="This session was not saved: " + " ".join(problems),
            errors=form.errors.get_json_data(),
        )
    # service_kwargs carries performed_at (this form has the field) and the client token;
    # the prescribed hold is the server's, as for every session.
    try:
        session, created = log_session(
            user=request.user,
            hold_seconds_target=plan.target_for(form.cleaned_data["exercise"]),
            daily_cap=form.daily_cap,
            **form.service_kwargs(),
        )
    except DailyCapReached as refused:
        # The day already has the flare's sessions (counted where it would be stored).
        message = "This session was not saved: " + form.daily_cap_message(
            recorded=bool(refused.stamped)
        )
        closed = bool(refused.stamped) and not gate_state(request.user).decision.allowed
        if closed:
            # Its stop signal, recorded all the same, paused the programme: the phone
            # leaves the plan and timer for the pause page, as after a saved one.
            messages.warning(request, message)
            return _answer("invalid", 400, message=message, paused=True, next=reverse("screening"))
        return _answer("invalid", 400, message=message)
    # The session is stored whatever the gate says now; the gate decides what comes next
    # (the safety record is read afresh: this session's own stop signal counts).
    decision = gate_state(request.user).decision
    status = "saved" if created else "already-saved"
    if decision.allowed:
        response = pain_response(session)
        if created and (response["rose"] or response["severe"]):
            # As after any save: the next /today/ shows the guidance instead of "saved".
            request.session[AFTER_SESSION] = session.pk
            return _answer(status, paused=False, next=reverse("today"))
        return _answer(status, paused=False, next=None)
    text = STOP_SIGNAL_SAVED if session.has_stop_signal else GATE_MESSAGES[decision.reason]
    if created:
        messages.warning(request, text)
    return _answer(status, paused=True, next=reverse("screening"), message=text)
