import secrets
from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from accounts.services import profile_for
from lib.page_cache import digits, page_cache
from stretches.gate import exercise_gate
from stretches.progression import MAX_ACUTE_SESSIONS_PER_DAY
from tracking.forms import BackdatedSessionForm, EditSessionForm
from tracking.models import Session
from tracking.plan import catalogue_rules, catalogue_version, log_limits, prescribed_hold
from tracking.services import (
    DailyCapReached,
    RefusedSession,
    StaleEdit,
    delete_session,
    log_session,
    restore_session,
    update_session,
)
from tracking.today import after_log, refused_but_closed

SESSIONS_PER_PAGE = 20
# A deleted session can be brought back for this long, from the message on the list.
UNDO_WINDOW = timedelta(minutes=5)
UNDO_DELETE = "undo_delete"


def _snapshot_key(user_id: int, token: str) -> str:
    return f"undo-delete:{user_id}:{token}"


def _offer_undo(request: HttpRequest, snapshot: dict, summary: str) -> None:
    # The deleted session's copy (pain scores, note) goes to the cache, which forgets it
    # when the few minutes are up whether or not the person comes back: in the login
    # session it would outlive the delete by up to two weeks. The login session keeps
    # only which copy it was and what to call it.
    token = secrets.token_urlsafe(16)
    cache.set(_snapshot_key(request.user.pk, token), snapshot, UNDO_WINDOW.total_seconds())
    request.session[UNDO_DELETE] = {
        "token": token,
        "deleted_at": timezone.now().isoformat(),
        "summary": summary,
    }


def forget_undo_copy(request: HttpRequest | None) -> None:
    """At log-out (account deletion logs out too): the deleted session's copy goes now,
    not when its few minutes are up. Connected to ``user_logged_out`` (tracking.apps),
    which Django sends before it empties the login session that names the copy."""
    session = getattr(request, "session", None)
    offer = session.get(UNDO_DELETE) if session is not None else None
    user_id = session.get(SESSION_KEY) if session is not None else None
    if offer and user_id is not None:
        cache.delete(_snapshot_key(int(user_id), offer.get("token", "")))


def _undo_offer(request: HttpRequest) -> dict | None:
    """The last deleted session while it can still be restored, else None (and forgotten)."""
    offer = request.session.get(UNDO_DELETE)
    if offer is None:
        return None
    if timezone.now() - datetime.fromisoformat(offer["deleted_at"]) > UNDO_WINDOW:
        del request.session[UNDO_DELETE]
        cache.delete(_snapshot_key(request.user.pk, offer.get("token", "")))
        return None
    return offer


def _take_snapshot(request: HttpRequest, offer: dict) -> dict | None:
    key = _snapshot_key(request.user.pk, offer.get("token", ""))
    snapshot = cache.get(key)
    cache.delete(key)
    return snapshot


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
    context = {"page": page, "undo": _undo_offer(request)}
    return render(request, "tracking/session_list.html", context)


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
    saved = None
    if request.method == "POST" and form.is_valid():
        try:
            saved = log_session(
                user=request.user,
                hold_seconds_target=prescribed_hold(profile, form.cleaned_data["exercise"]),
                daily_cap=form.daily_cap,
                **form.service_kwargs(),
            )
        except DailyCapReached as refused:
            form.refuse_daily_cap(recorded=bool(refused.stamped))  # another tab's landed first
            closed = refused_but_closed(request, form, refused)
            if closed is not None:
                return closed
    if saved is not None:
        session, created = saved
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
    """The log limits for an edit: an edit that keeps the session on its own day adds
    nothing to that day and is never refused by the cap (a correction, a stop signal
    added on a day that already has more sessions than the cap); moved to another day,
    it counts there."""
    limits = log_limits(profile, catalogue)
    count = limits.get("sessions_on")
    if count is not None:
        own_day = session.performed_at.astimezone(profile.tzinfo).date()
        limits["sessions_on"] = lambda day: 0 if day == own_day else count(day)
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
            update_session(session=session, daily_cap=form.daily_cap, **form.service_kwargs())
        except DailyCapReached as refused:
            # The day it was moved to is full; a stop signal it added is kept all the same.
            form.refuse_daily_cap(recorded=bool(refused.stamped))
            closed = refused_but_closed(request, form, refused)
            if closed is not None:
                return closed
            context = {"form": form, "session": session, "title": "Edit session"}
            return render(request, "tracking/session_form.html", context, status=400)
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
        snapshot = delete_session(session=session)
        if snapshot is None:  # deleted in another tab a moment ago
            messages.info(request, "That session was already deleted.")
            return redirect("session-list")
        when = timezone.localtime(session.performed_at)
        summary = f"{session.exercise.name}, {when:%A} {when.day} {when:%B} at {when:%H:%M}"
        _offer_undo(request, snapshot, summary)
        return redirect("session-list")
    return render(request, "tracking/session_confirm_delete.html", {"session": session})


@login_required
@require_POST
def session_undo(request: HttpRequest) -> HttpResponse:
    offer = _undo_offer(request)
    if offer is None:
        messages.error(
            request, "That delete can no longer be undone: the few minutes for it passed."
        )
        return redirect("session-list")
    del request.session[UNDO_DELETE]
    snapshot = _take_snapshot(request, offer)
    if snapshot is None:
        messages.error(
            request, "That delete can no longer be undone: the few minutes for it passed."
        )
        return redirect("session-list")
    profile = profile_for(request.user)
    limits = log_limits(profile, catalogue_rules())
    cap = limits.get("daily_cap")
    full_day = (
        f"The session was not restored: during an acute flare the plan allows at most "
        f"{cap or MAX_ACUTE_SESSIONS_PER_DAY} sessions a day, and that day already has them."
    )
    if cap is not None:
        # The acute flare's cap holds for a restored session too: since the delete, another
        # may have taken its place.
        day = datetime.fromisoformat(snapshot["performed_at"]).astimezone(profile.tzinfo).date()
        if limits["sessions_on"](day) >= cap:
            messages.error(request, full_day)
            return redirect("session-list")
    try:
        restored = restore_session(user=request.user, snapshot=snapshot, daily_cap=cap)
    except DailyCapReached:  # another tab's save landed on that day first
        messages.error(request, full_day)
        return redirect("session-list")
    except (RefusedSession, ObjectDoesNotExist):
        # The exercise was removed, or its cap lowered, since the delete.
        messages.error(
            request,
            "The session was not restored: its exercise or its limits have changed since it "
            "was deleted. You can log it again from today's page.",
        )
        return redirect("session-list")
    messages.success(
        request, "Session restored." if restored else "That session is already back in your list."
    )
    return redirect("session-list")
