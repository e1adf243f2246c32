from datetime import time

from django.conf import settings
from django.db import models

from reminders.schedule import ReminderKind, ReminderRules

ALL_DAYS_MASK = 0b1111111


def mask_to_days(mask: int) -> frozenset[int]:
    return frozenset(day for day in range(7) if mask & (1 << day))


def days_to_mask(days) -> int:
    return sum(1 << int(day) for day in set(days))


class ReminderSettings(models.Model):
    """One user's reminder times, quiet hours and days off (all in their own time zone)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_settings"
    )
    push_enabled = models.BooleanField(default=True)
    morning = models.TimeField(default=time(8, 0))
    midday = models.TimeField(default=time(13, 0))
    evening = models.TimeField(default=time(19, 0))
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    # Weekdays as bits, Monday = bit 0.
    days_off = models.PositiveSmallIntegerField(default=0)
    maintenance_days = models.PositiveSmallIntegerField(default=0b0010101)  # Mon, Wed, Fri
    # The sender's bookkeeping: when to look at this user next, and in which time zone
    # that was worked out (a changed profile time zone makes the row due at once).
    next_due_at = models.DateTimeField(null=True, blank=True)
    computed_time_zone = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name_plural = "reminder settings"
        indexes = [models.Index(fields=["next_due_at"], name="reminder_next_due")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(morning__lt=models.F("midday"))
                & models.Q(midday__lt=models.F("evening")),
                name="reminder_times_in_order",
            ),
            models.CheckConstraint(
                condition=models.Q(quiet_start__isnull=True, quiet_end__isnull=True)
                | models.Q(quiet_start__isnull=False, quiet_end__isnull=False),
                name="reminder_quiet_hours_both_or_neither",
            ),
            models.CheckConstraint(
                condition=models.Q(days_off__gte=0, days_off__lt=ALL_DAYS_MASK),
                name="reminder_days_off_not_every_day",
            ),
            models.CheckConstraint(
                condition=models.Q(maintenance_days__gt=0, maintenance_days__lte=ALL_DAYS_MASK),
                name="reminder_maintenance_days_known",
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder settings of {self.user}"

    @property
    def rules(self) -> ReminderRules:
        return ReminderRules(
            morning=self.morning,
            midday=self.midday,
            evening=self.evening,
            days_off=mask_to_days(self.days_off),
            maintenance_days=mask_to_days(self.maintenance_days),
            quiet_start=self.quiet_start,
            quiet_end=self.quiet_end,
        )


class ReminderSent(models.Model):
    """A reminder that went out: at most one per user, local day and reminder number."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminders_sent"
    )
    day = models.DateField()
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=[(k.value, k.value) for k in ReminderKind])
    sent_at = models.DateTimeField()
    devices_reached = models.PositiveSmallIntegerField(default=0)
    # Which sender batch inserted the row: how a sender tells its own claims from rows
    # another sender inserted first (the insert ignores conflicts).
    claim = models.UUIDField(null=True, blank=True, editable=False, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "day", "number"], name="reminder_sent_once"),
        ]

    def __str__(self) -> str:
        return f"Reminder {self.number} of {self.day} for {self.user}"


class PushSubscription(models.Model):
    """One device's Web Push subscription (the endpoint identifies the device)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=2000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    device = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.device or f"Device {self.pk}"

    @property
    def subscription_info(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


class CalendarFeed(models.Model):
    """The user's private calendar feed; only the token's SHA-256 is kept."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"


class FeedRequestCount(models.Model):
    """Feed requests per client address and window, shared by every worker."""

    address = models.GenericIPAddressField()
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address", "window_start"], name="feed_requests_once_per_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.count} feed requests from {self.address} at {self.window_start:%H:%M}"
