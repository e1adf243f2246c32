from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.services import profile_for
from stretches.gate import exercise_gate
from stretches.plan import build_plan, catalogue_rules
from stretches.progression import programme_week
from tracking.forms import BackdatedSessionForm, CheckinForm, EditSessionForm, SessionForm
from tracking.models import Session, WeeklyCheckin
from tracking.services import (
    StaleEdit,
    delete_session,
    log_session,
    save_checkin,
    update_session,
)

SESSIONS_PER_PAGE = 20


def log_form_context(form: SessionForm, plan) -> dict:
    return {
        "form": form,
        "pain_before_field": form["pain_before"],
        "pain_after_field": form["pain_after"],
        "timer_items": plan.items,
    }


def weekly_checkin_due(user, week: int) -> int | None:
    """The programme week to ask about, once a week from week 2 (week 1 has no "before")."""
    if week < 2:
        return None
    if WeeklyCheckin.objects.filter(user=user, week=week).exists():
        return None
    return week


def _after_log(request: HttpRequest, session: Session, created: bool) -> HttpResponse:
    if session.has_stop_signal:
        messages.warning(
            request,
            "Session saved. You reported a stop signal, so the programme is paused: "
            "please stop stretching for now and read the guidance.",
        )
        if request.htmx:
            from django_htmx.http import HttpResponseClientRedirect

            return HttpResponseClientRedirect("/screening/")
        return redirect("screening")
    text = "Session saved." if created else "That session was already saved."
    messages.success(request, text)
    return redirect("today")


@exercise_gate
@require_POST
def log(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    if profile.programme_start is None:
        return redirect("today")
    plan = build_plan(profile)
    form = SessionForm.for_plan(plan, data=request.POST)
    if form.is_valid():
        session, created = log_session(
            user=request.user,
            performed_at=timezone.now(),
            client_token=form.cleaned_data["client_token"],
            **form.service_kwargs(),
        )
        if not request.htmx or session.has_stop_signal:
            return _after_log(request, session, created)
        # The save bumped the profile's data version: read it again for a fresh plan.
        profile.refresh_from_db(fields=["data_version"])
        fresh = SessionForm.for_plan(build_plan(profile))
        context = {
            "plan": plan,
            "saved": session,
            "saved_again": not created,
            **log_form_context(fresh, plan),
        }
        response = render(request, "stretches/today.html#log-form", context)
        response["HX-Trigger"] = "session-logged"
        return response
    if request.htmx:
        context = {"plan": plan, **log_form_context(form, plan)}
        return render(request, "stretches/today.html#log-form", context)
    messages.error(request, "The session was not saved: please correct the marked fields.")
    context = {"plan": plan, "prescription": plan.prescription, **log_form_context(form, plan)}
    return render(request, "stretches/today.html", context, status=400)


@login_required
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
        request.POST or None, catalogue=catalogue, ask_lasting_pain=has_previous
    )
    if request.method == "POST" and form.is_valid():
        session, created = log_session(
            user=request.user,
            performed_at=form.cleaned_data["performed_at"],
            client_token=form.cleaned_data["client_token"],
            **form.service_kwargs(),
        )
        if session.has_stop_signal:
            return _after_log(request, session, created)
        messages.success(
            request, "Session saved." if created else "That session was already saved."
        )
        return redirect("session-list")
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "profile": profile, "title": "Log an earlier session"}
    return render(request, "tracking/session_form.html", context, status=status)


@exercise_gate
@require_http_methods(["GET", "POST"])
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = get_object_or_404(
        Session.objects.select_related("exercise"), pk=pk, user=request.user
    )
    catalogue = catalogue_rules()
    initial = {
        "performed_at": timezone.localtime(session.performed_at).replace(second=0, microsecond=0),
        "exercise": session.exercise.slug,
        "sides": session.sides,
        "reps_per_side": session.reps_per_side,
        "hold_seconds": session.hold_seconds,
        "hold_seconds_target": session.hold_seconds_target,
        "pain_before": session.pain_before,
        "pain_after": session.pain_after,
        "stop_signals": session.stop_signals,
        "note": session.note,
        "version": session.version,
    }
    form = EditSessionForm(
        request.POST or None, session=session, catalogue=catalogue, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        kwargs.pop("hold_seconds_target")
        stop_signals = kwargs.pop("stop_signals")
        try:
            update_session(
                session=session,
                version=form.cleaned_data["version"],
                stop_signals=stop_signals,
                performed_at=form.cleaned_data["performed_at"],
                **kwargs,
            )
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


@login_required
@require_POST
def checkin(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    form = CheckinForm(request.POST)
    week = None
    if profile.programme_start is not None:
        week = programme_week(profile.programme_start, profile.local_today())
    if week is None or week < 2 or not form.is_valid():
        messages.error(request, "The check-in was not saved: choose one answer for each.")
    else:
        save_checkin(user=request.user, week=week, **form.cleaned_data)
        messages.success(request, f"Thanks: your week {week} check-in is saved.")
    back = request.POST.get("next")
    return redirect(back if back in ("/today/", "/progress/") else "today")
