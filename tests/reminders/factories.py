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
