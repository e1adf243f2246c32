from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.services import profile_for
from lib.page_cache import digits, page_cache
from stretches.gate import exercise_gate
from tracking.forms import BackdatedSessionForm, EditSessionForm
from tracking.models import Session
from tracking.plan import catalogue_rules, catalogue_version, log_limits, prescribed_hold
from tracking.services import StaleEdit, delete_session, log_session, update_session
from tracking.today import after_log

SESSIONS_PER_PAGE = 20
# The login-session key of the deleted-session Undo (open for a few minutes): the list is
# never stored while it is there, so the Undo cannot outlive its minutes in the cache.
UNDO_DELETE = "undo_delete"


@login_required
@page_cache(
    "sessions",
    query={"page": digits},
    skip_if=lambda request: UNDO_DELETE in request.session,
    vary_on=(catalogue_version,),
)
def session_list(request: HttpRequest) -> HttpResponse:
    sessions = (
        Session.objects.filter(user=request.user)
        .select_related("exercise")
        .order_by("-performed_at", "-id")
    )
    page = Paginator(sessions, SESSIONS_PER_PAGE).get_page(request.GET.get("page"))
    for session in page.object_list:
        # Grouped by the user's own calendar day: 23:30 in Sydney stays on that day.
        session.local_day = timezone.localtime(session.performed_at).date()
    return render(request, "tracking/session_list.html", {"page": page})


@exercise_gate
@require_http_methods(["GET", "POST"])
def session_new(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    catalogue = catalogue_rules()
    has_previous = Session.objects.filter(user=request.user).exists()
    form = BackdatedSessionForm(
        request.POST or None,
        catalogue=catalogue,
        ask_lasting_pain=has_previous,
        **log_limits(profile, catalogue),
    )
    if request.method == "POST" and form.is_valid():
        session, created = log_session(
            user=request.user,
            hold_seconds_target=prescribed_hold(profile, form.cleaned_data["exercise"]),
            **form.service_kwargs(),
        )
        if session.has_stop_signal:
            return after_log(request, session, created)
        messages.success(
            request, "Session saved." if created else "That session was already saved."
        )
        return redirect("session-list")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "profile": profile, "title": "Log an earlier session"}
    return render(request, "tracking/session_form.html", context, status=status)


def _edit_limits(profile, catalogue, session: Session) -> dict:
    """The log limits for an edit: the session itself does not count toward its day's cap."""
    limits = log_limits(profile, catalogue)
    count = limits.get("sessions_on")
    if count is not None:
        own_day = session.performed_at.astimezone(profile.tzinfo).date()
        limits["sessions_on"] = lambda day: count(day) - (1 if day == own_day else 0)
    return limits


@exercise_gate
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(
        Session.objects.select_related("exercise"), pk=pk, user=request.user
    )
    catalogue = catalogue_rules()
    form = EditSessionForm(
        request.POST or None,
        session=session,
        catalogue=catalogue,
        initial=EditSessionForm.initial_for(session),
        **_edit_limits(profile_for(request.user), catalogue, session),
    )
    if request.method == "POST" and form.is_valid():
        try:
            update_session(session=session, **form.service_kwargs())
        except StaleEdit:
            messages.error(
                request,
                "This session was changed somewhere else (another tab or device) after you "
                "opened it. Your edit was not saved; here is the latest version.",
            )
            return redirect("session-edit", pk=session.pk)
        messages.success(request, "Session updated.")
        return redirect("session-list")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "session": session, "title": "Edit session"}
    return render(request, "tracking/session_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def session_delete(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(
        Session.objects.select_related("exercise"), pk=pk, user=request.user
    )
    if request.method == "POST":
        delete_session(session=session)
        messages.success(request, "Session deleted.")
        return redirect("session-list")
    return render(request, "tracking/session_confirm_delete.html", {"session": session})
