"""Today's page: the plan, the guided timer, the log form and the weekly check-in."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.forms import StartDateForm
from accounts.services import profile_for
from stretches.gate import exercise_gate
from stretches.progression import programme_week
from tracking.forms import CheckinForm, SessionForm
from tracking.models import Session, WeeklyCheckin
from tracking.plan import TodayPlan, build_plan
from tracking.services import log_session, save_checkin

TODAY = "tracking/today.html"


def weekly_checkin_due(user, week: int) -> int | None:
    """The programme week to ask about, once a week from week 2 (week 1 has no "before")."""
    if week < 2:
        return None
    if WeeklyCheckin.objects.filter(user=user, week=week).exists():
        return None
    return week


def _log_form_context(form: SessionForm, plan: TodayPlan) -> dict:
    return {"plan": plan, "form": form}


def after_log(request: HttpRequest, session: Session, created: bool) -> HttpResponse:
    """Where a saved session leads: the pause page after a stop signal, else onwards."""
    if session.has_stop_signal:
        messages.warning(
            request,
            "Session saved. You reported a stop signal, so the programme is paused: "
            "please stop stretching for now and read the guidance.",
        )
        if request.htmx:
            return HttpResponseClientRedirect("/screening/")
        return redirect("screening")
    text = "Session saved." if created else "That session was already saved."
    messages.success(request, text)
    return redirect("today")


@exercise_gate
@require_GET
def today(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    if profile.programme_start is None:
        return render(
            request,
            "tracking/today_start.html",
            {"form": StartDateForm(today=profile.local_today())},
        )
    plan = build_plan(profile)
    if request.htmx and request.GET.get("part") == "done":
        return render(request, TODAY + "#done-today", {"plan": plan})
    context = {
        "checkin_week": weekly_checkin_due(request.user, plan.prescription.week),
        **_log_form_context(SessionForm.for_plan(plan), plan),
    }
    return render(request, TODAY, context)


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
            hold_seconds_target=plan.target_for(form.cleaned_data["exercise"]),
            **form.service_kwargs(),
        )
        if not request.htmx or session.has_stop_signal:
            return after_log(request, session, created)
        # The save bumped the profile's data version: read it again for a fresh plan.
        profile.refresh_from_db(fields=["data_version"])
        fresh = build_plan(profile)
        context = {
            "saved": session,
            "saved_again": not created,
            **_log_form_context(SessionForm.for_plan(fresh), fresh),
        }
        response = render(request, TODAY + "#log-form", context)
        response["HX-Trigger"] = "session-logged"
        return response
    if request.htmx:
        return render(request, TODAY + "#log-form", _log_form_context(form, plan))
    messages.error(request, "The session was not saved: please correct the marked fields.")
    context = {
        "checkin_week": weekly_checkin_due(request.user, plan.prescription.week),
        **_log_form_context(form, plan),
    }
    return render(request, TODAY, context, status=400)


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
