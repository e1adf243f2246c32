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
