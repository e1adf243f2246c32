from __future__ import annotations

from datetime import time

from reminders.models import PushSubscription, ReminderSettings


def make_reminders(user, **fields) -> ReminderSettings:
    values = {"morning": time(8), "midday": time(13), "evening": time(19)} | fields
    return ReminderSettings.objects.create(user=user, **values)


def make_device(user, device) -> PushSubscription:
    """A subscription row for a receiver's device (the keys a browser would send)."""
    return PushSubscription.objects.create(
        user=user,
        endpoint=device.endpoint,
        p256dh=device.p256dh,
        auth=device.auth,
        device=f"Test browser {device.name}",
    )


def give_reminder_rows(user) -> None:
    """A row in every reminders table that holds a user's data (for the erasure test)."""
    from datetime import date

    from django.utils import timezone

    from reminders.models import ReminderSent
    from reminders.services import new_feed_token

    make_reminders(user)
    PushSubscription.objects.create(
        user=user,
        endpoint=f"https://push.example/{user.username}",
        p256dh="key",
        auth="secret",
    )
    new_feed_token(user)
    ReminderSent.objects.create(
        user=user, day=date(2026, 1, 1), number=1, kind="session", sent_at=timezone.now()
    )


def times_due_now(zone: str) -> dict:
    """Reminder times for which exactly one reminder is due this minute in ``zone``.

    The other two times are at least two hours away on either side, so neither yesterday's
    evening nor a later time today falls in the send window.
    """
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    local = timezone.now().astimezone(ZoneInfo(zone)).replace(second=0, microsecond=0)
    due = local.time()
    step = timedelta(hours=2)
    anchor = datetime.combine(local.date(), due)
    if due < time(12):
        return {
            "morning": due,
            "midday": (anchor + step).time(),
            "evening": (anchor + 2 * step).time(),
        }
    return {"morning": (anchor - 2 * step).time(), "midday": (anchor - step).time(), "evening": due}
