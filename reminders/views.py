import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.services import profile_for
from reminders.calendar_feed import build_feed
from reminders.forms import DeviceForm, ReminderSettingsForm
from reminders.models import CalendarFeed, PushSubscription
from reminders.push import push_configured, valid_subscription_keys
from reminders.schedule import MAINTENANCE_DAYS_ALLOWED, sessions_per_day
from reminders.services import (
    allow_feed_request,
    feed_for_token,
    new_feed_token,
    save_subscription,
    settings_changed,
    settings_for,
    upcoming,
)
from stretches.progression import Phase

FEED_CACHE_CONTROL = "private, no-store"


def _page(request: HttpRequest, form=None, *, feed_url: str = "", status: int = 200):
    profile = profile_for(request.user)
    reminder_settings = settings_for(request.user)
    form = form or ReminderSettingsForm(instance=reminder_settings)
    phase = profile.phase_enum
    if phase is Phase.MAINTENANCE:
        low, high = MAINTENANCE_DAYS_ALLOWED
        rhythm = f"Maintenance phase: {low}-{high} sessions a week, one reminder on each of your maintenance days."
    else:
        count = sessions_per_day(phase)
        rhythm = f"{phase.label} phase: {count} sessions a day, so {count} reminders a day."
    response = render(
        request,
        "reminders/reminders.html",
        {
            "form": form,
            "profile": profile,
            "rhythm": rhythm,
            "upcoming": upcoming(request.user, timezone.now(), days=3),
            "tz": profile.tzinfo,
            "has_feed": CalendarFeed.objects.filter(user=request.user).exists(),
            "feed_url": feed_url,
            "devices": PushSubscription.objects.filter(user=request.user),
            "push_ready": push_configured(),
            "vapid_public_key": settings.VAPID_PUBLIC_KEY,
        },
        status=status,
    )
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def reminders(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ReminderSettingsForm(request.POST, instance=settings_for(request.user))
        if form.is_valid():
            settings_changed(form.save())
            messages.success(request, "Your reminder settings are saved.")
            return redirect("reminders")
        messages.error(request, "Please correct the marked fields. Nothing was saved.")
        return _page(request, form, status=400)
    return _page(request)


@never_cache
@login_required
@require_POST
def feed_new(request: HttpRequest) -> HttpResponse:
    token = new_feed_token(request.user)
    url = request.build_absolute_uri(reverse("calendar-feed", args=[token]))
    # Shown on this one response only: the server keeps just the token's hash.
    return _page(request, feed_url=url)


@login_required
@require_POST
def feed_delete(request: HttpRequest) -> HttpResponse:
    CalendarFeed.objects.filter(user=request.user).delete()
    messages.success(request, "Your calendar feed is switched off; its address no longer works.")
    return redirect("reminders")


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    now = timezone.now()
    address = request.META.get("REMOTE_ADDR") or "0.0.0.0"
    if not allow_feed_request(address, now, settings.REMINDERS_FEED_REQUESTS_PER_HOUR):
        response = HttpResponse(
            "Too many requests. Try again later.", status=429, content_type="text/plain"
        )
        response["Retry-After"] = str(3600 - now.minute * 60 - now.second)
        response["Cache-Control"] = FEED_CACHE_CONTROL
        return response
    feed = feed_for_token(token)
    if feed is None:
        # A replaced or guessed address: nothing to see, and nothing worth caching.
        response = HttpResponseNotFound("No such calendar.", content_type="text/plain")
        response["Cache-Control"] = FEED_CACHE_CONTROL
        return response
    profile = feed.user.profile
    reminder_settings = settings_for(feed.user)
    tz = profile.tzinfo
    body = build_feed(
        rules=reminder_settings.rules,
        phase=profile.phase_enum,
        tz=tz,
        start=feed.created_at.astimezone(tz).date(),
        uid_prefix=feed.token_hash[:16],
        today_url=request.build_absolute_uri(reverse("today")),
        stamp=feed.created_at,
    )
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="back-stretches.ics"'
    response["Cache-Control"] = FEED_CACHE_CONTROL
    return response


@login_required
@require_POST
def push_subscribe(request: HttpRequest) -> JsonResponse:
    try:
        sent = json.loads(request.body or b"{}")
        endpoint = str(sent["endpoint"])
        keys = sent["keys"]
        p256dh, auth = str(keys["p256dh"]), str(keys["auth"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "That subscription could not be read."}, status=400)
    if (
        not endpoint.startswith("https://")
        or len(endpoint) > 2000
        or not valid_subscription_keys(p256dh, auth)
    ):
        return JsonResponse({"error": "That subscription could not be read."}, status=400)
    save_subscription(
        user=request.user,
        endpoint=endpoint,
        p256dh=p256dh,
        auth=auth,
        device=str(sent.get("device", ""))[:120],
    )
    return JsonResponse({"saved": True}, status=201)


@login_required
@require_POST
def push_remove(request: HttpRequest) -> HttpResponse:
    form = DeviceForm(request.POST)
    if not form.is_valid():
        raise Http404("No such device")
    device = get_object_or_404(PushSubscription, pk=form.cleaned_data["device"], user=request.user)
    device.delete()
    messages.success(request, "That device will get no more reminders.")
    return redirect("reminders")
