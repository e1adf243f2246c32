"""Today's page: the plan, the guided timer, the log form and the weekly check-in."""

import functools
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import engines
from django.template.context import make_context
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.forms import StartDateForm
from accounts.services import profile_for
from lib.cache import cached_for_user, drop_rider, keeps_committed_rows, ride_with_kept_row
from lib.page_cache import one_of, page_cache
from stretches.gate import GATE_MESSAGES, exercise_gate
from stretches.models import StopSignal
from stretches.progression import is_setback, programme_week
from stretches.safety import gate_state
from stretches.screening import LASTING_PAIN_HOURS, SEVERE_PAIN
from tracking.forms import CheckinForm, SessionForm
from tracking.models import Session, WeeklyCheckin
from tracking.peg_data import weekly_questions_due
from tracking.plan import (
    PlanAfterSave,
    TodayPlan,
    build_plan,
    catalogue_version,
    log_prefetch,
    prefetch_plan,
)
from tracking.presentation import count
from tracking.services import DailyCapReached, add_stop_signal, log_session, save_checkin
from tracking.templatetags import today_sections

logger = logging.getLogger(__name__)

TODAY = "tracking/today.html"
# The login session remembers which session the "lasted over 2 hours" question was
# answered for, and which saved session's pain deserves a word on the next page.
LASTING_ANSWERED = "lasting_pain_answered_for"
AFTER_SESSION = "pain_guidance_for"


def weekly_checkin_due(user, week: int) -> int | None:
    """The programme week to ask about, once a week from week 2 (week 1 has no "before")."""
    if week < 2:
        return None
    # Under the history version: every check-in moves it on.
    done = cached_for_user(
        user.profile,
        "checkin-done-v1",
        lambda: WeeklyCheckin.objects.filter(user=user, week=week).exists(),
        extra=(week,),
        history=True,
    )
    return None if done else week


def pain_response(session: Session) -> dict:
    """SPEC 1.6: what a saved session's pain scores call for, beside or instead of "saved"."""
    rose = not session.has_stop_signal and is_setback(
        pain_before=session.pain_before, pain_after=session.pain_after, stop_signal=False
    )
    severe = max(session.pain_before, session.pain_after) >= SEVERE_PAIN
    return {"rose": rose, "severe": severe, "rise": session.pain_after - session.pain_before}


def _lasting_question_due(request: HttpRequest, plan: TodayPlan) -> bool:
    last = plan.last_session
    return plan.asks_lasting_pain and request.session.get(LASTING_ANSWERED) != last.pk


def _form(request: HttpRequest, plan: TodayPlan, data=None) -> SessionForm:
    form = SessionForm.for_plan(plan, data=data)
    if data is not None and _lasting_question_due(request, plan):
        form.add_error(
            None,
            "First answer the question above the timer: did the pain from your last session "
            "last more than 2 hours?",
        )
    return form


def counts_text(plan: TodayPlan) -> str:
    """Today's counts in one sentence, from the same plan as the cards and "Done today"."""
    done = f"Done today: {count(len(plan.todays_sessions), 'session')}."
    entry = plan.next_item
    if entry is None:
        return f"{done} Everything planned for today is done."
    return f"{done} Next: {entry.exercise.name}, {entry.done_text}."


def saved_text(session: Session, *, created: bool, guided: bool) -> str:
    if not created:
        return "That session was already saved."
    if guided:
        return "Saved. Please read the note about your pain below."
    return f"Saved: {session.exercise.name}, pain {session.pain_before} → {session.pain_after}."


def steps_key(plan: TodayPlan, form: SessionForm) -> str | None:
    """Everything the log form's three steps show (today.html#log-steps), for
    ``{% fragment %}``: the empty form and the stretch they lead with; None for a form
    holding the user's input."""
    if form.static_key is None:
        return None
    entry = plan.next_item or plan.main
    item = entry.item
    shown = (item.slug, entry.exercise.name, item.hold_target, item.reps, item.sides)
    return repr((form.static_key, shown))


def _context(
    request: HttpRequest, plan: TodayPlan, form: SessionForm, saved_status: str = ""
) -> dict:
    return {
        "plan": plan,
        "form": form,
        "steps_key": steps_key(plan, form),
        "lasting_due": _lasting_question_due(request, plan),
        "severe_pain": SEVERE_PAIN,
        "lasting_hours": LASTING_PAIN_HOURS,
        "status": {"saved": saved_status, "counts": counts_text(plan)},
    }


# The parts of today.html that show a count, each one tag (today_sections), by the name of
# its partial there.
_PARTS = {
    "log-form": today_sections.log_form,
    "flow-status": today_sections.flow_status,
    "flow-counts": today_sections.flow_counts,
    "done-today": today_sections.done_today,
    "plan-items": today_sections.plan_items,
}


@functools.cache
def _bound_template():
    """An empty template of the Django engine: what an htmx answer's context is bound to
    (its context processors run once, as for a page)."""
    return engines["django"].from_string("").template


@receiver(setting_changed, dispatch_uid="easeback-bound-template-forget")
def _forget_bound_template(**kwargs) -> None:
    _bound_template.cache_clear()  # a changed TEMPLATES setting is a new engine


def _with_counts(request: HttpRequest, first: str, context: dict, *, parts: tuple) -> HttpResponse:
    """``first`` and, swapped out of band, every other part of the page that shows a count,
    all rendered from the one plan in ``context`` so that they cannot disagree: the tags
    today.html's partials call, called here directly (one context, no includes)."""
    # As Template.render makes it: the view's values above the context processors'.
    bound = make_context(context, request)
    with bound.bind_template(_bound_template()):
        html = [_PARTS[first](bound)]
        with bound.push(oob=True, oob_counts="flow-counts" in parts):
            html.extend(_PARTS[part](bound) for part in parts)
    return HttpResponse("".join(html))


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
    response = pain_response(session)
    if created and (response["rose"] or response["severe"]):
        request.session[AFTER_SESSION] = session.pk  # the guidance replaces "saved"
    else:
        messages.success(
            request, "Session saved." if created else "That session was already saved."
        )
    return redirect("today")


def refused_but_closed(request: HttpRequest, form, refused: DailyCapReached):
    """A session refused at the flare's cap whose stop signal or scores were recorded all
    the same, and closed the plan (a stop signal pauses it): the pause page, not the form
    again. None when the plan is still open."""
    if not refused.stamped:
        return None
    decision = gate_state(request.user).decision
    if decision.allowed:
        return None
    messages.warning(
        request,
        "This session was not saved: " + form.daily_cap_message(recorded=True),
    )
    messages.warning(request, GATE_MESSAGES[decision.reason])
    if request.htmx:
        return HttpResponseClientRedirect("/screening/")
    return redirect("screening")


def _guidance_session(request: HttpRequest):
    pk = request.session.pop(AFTER_SESSION, None)
    if pk is None:
        return None
    return Session.objects.filter(pk=pk, user=request.user).select_related("exercise").first()


@exercise_gate  # the gate first: a paused or blocked user never reaches the cache
@require_GET
@page_cache(
    "today",
    query={"part": one_of("done")},
    session_keys=(LASTING_ANSWERED,),
    skip_if=lambda request: AFTER_SESSION in request.session,
    vary_on=(catalogue_version,),
)
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
        # Sessions sent from the offline queue: every count on the page, saved text kept.
        return _with_counts(
            request,
            "done-today",
            {"plan": plan, "status": {"counts": counts_text(plan)}},
            parts=("plan-items", "flow-counts"),
        )
    guided = _guidance_session(request)
    context = {
        **weekly_questions_due(request.user, plan.prescription.week),
        "guidance": guided,
        "response": pain_response(guided) if guided else None,
        **_context(request, plan, _form(request, plan)),
    }
    return render(request, TODAY, context)


# The plan in the gate's round trip.
@exercise_gate(also=log_prefetch)
@require_POST
def log(request: HttpRequest) -> HttpResponse:
    profile = profile_for(request.user)
    if profile.programme_start is None:
        return redirect("today")
    prefetch_plan(profile)  # and the days before today, which the fresh plan below reuses
    plan = build_plan(profile)
    version = profile.data_version  # the plan's
    form = _form(request, plan, data=request.POST)
    saved = after = None
    if form.is_valid():
        performed_at = timezone.now()
        kwargs = form.service_kwargs()
        if request.htmx and not kwargs["stop_signals"] and keeps_committed_rows():
            # The plan this save leads to, made now and written with the round trip that
            # keeps the committed profile row, if the save goes as expected (plan.py). Only
            # a round trip saved: whatever fails here, the save goes on without it.
            try:
                after = PlanAfterSave.make(
                    profile,
                    plan,
                    performed_at=performed_at,
                    exercise=kwargs["exercise"],
                    pain_before=kwargs["pain_before"],
                    pain_after=kwargs["pain_after"],
                )
            except Exception:
                logger.exception("could not make the plan after the save before it")
        if after is not None:
            ride_with_kept_row("profile", request.user.pk, after.rider)
        try:
            saved = log_session(
                user=request.user,
                performed_at=performed_at,
                hold_seconds_target=plan.target_for(form.cleaned_data["exercise"]),
                daily_cap=form.daily_cap,
                on_stored=after.stored if after is not None else None,
                **kwargs,
            )
        except DailyCapReached as refused:
            form.refuse_daily_cap(recorded=bool(refused.stamped))  # another tab's landed first
            closed = refused_but_closed(request, form, refused)
            if closed is not None:
                return closed
        finally:
            drop_rider("profile", request.user.pk)
    if saved is not None:
        session, created = saved
        if not request.htmx or session.has_stop_signal:
            return after_log(request, session, created)
        decision = gate_state(request.user).decision
        if not decision.allowed:
            # The save closed the plan (severe pain on a third day in a week): no fresh
            # form, timer or plan, as the gate answers every request from now on.
            messages.warning(request, GATE_MESSAGES[decision.reason])
            return HttpResponseClientRedirect("/screening/")
        # The save bumped the profile's versions, and data_changed read them back into
        # this request's profile: the plan below is the fresh one. When this save alone
        # moved the version on (no other write in between: else data_changed read the row
        # again, and it moved by more), today's sessions are the plan's and this one.
        alone = created and profile.data_version == version + 1
        if alone and after is not None and after.confirmed:
            fresh = after.fresh()  # and already written for the next request
        else:
            fresh = build_plan(
                profile, after_write=created, logged=(plan, session) if alone else None
            )
        response = pain_response(session)
        guided = created and (response["rose"] or response["severe"])
        status = saved_text(session, created=created, guided=guided)
        context = {
            "saved": session,
            "saved_again": not created,
            "guidance": session if guided else None,
            "response": response,
            **_context(request, fresh, _form(request, fresh), saved_status=status),
        }
        response = _with_counts(
            request, "log-form", context, parts=("flow-status", "done-today", "plan-items")
        )
        response["HX-Trigger"] = "session-logged"
        return response
    if request.htmx:
        return render(request, TODAY + "#log-form", _context(request, plan, form))
    messages.error(request, "The session was not saved: please correct the marked fields.")
    context = {
        **weekly_questions_due(request.user, plan.prescription.week),
        **_context(request, plan, form),
    }
    return render(request, TODAY, context, status=400)


@exercise_gate
@require_POST
def lasting_pain(request: HttpRequest) -> HttpResponse:
    """Asked before the day's first session: a yes is a stop signal of the last session."""
    profile = profile_for(request.user)
    if profile.programme_start is None:
        return redirect("today")
    plan = build_plan(profile)
    answer = request.POST.get("lasting")
    if not plan.asks_lasting_pain or answer not in ("yes", "no"):
        if answer not in ("yes", "no"):
            messages.error(request, "Please answer yes or no.")
        return redirect("today")
    last = plan.last_session
    request.session[LASTING_ANSWERED] = last.pk
    if answer == "yes":
        add_stop_signal(session=last, signal=StopSignal.LASTING_PAIN)
        messages.warning(
            request,
            "Thank you. Pain that lasts more than 2 hours after a session is a stop signal, so "
            "the programme is paused for today. Please read the guidance.",
        )
        return redirect("screening")
    return redirect("today")


@login_required
@require_POST
def sharp_pain(request: HttpRequest, pk: int) -> HttpResponse:
    """The one tap after a pain rise: "it was sharp or shooting" adds a stop signal.

    Not behind the gate: reporting a stop signal must always be possible.
    """
    session = get_object_or_404(Session, pk=pk, user=request.user)
    add_stop_signal(session=session, signal=StopSignal.SHARP_PAIN)
    messages.warning(
        request,
        "Thank you for telling us. Sharp or shooting pain is a stop signal, so the programme "
        "is paused for today. Please read the guidance.",
    )
    return redirect("screening")


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
