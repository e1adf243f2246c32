from django.contrib import admin

from reminders.models import CalendarFeed, PushSubscription, ReminderSent, ReminderSettings


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "push_enabled", "morning", "midday", "evening", "next_due_at"]
    readonly_fields = ["next_due_at", "computed_time_zone"]
    search_fields = ["user__username"]


@admin.register(ReminderSent)
class ReminderSentAdmin(admin.ModelAdmin):
    list_display = ["user", "day", "number", "kind", "sent_at", "devices_reached"]
    list_filter = ["kind"]
    search_fields = ["user__username"]

    def has_add_permission(self, request) -> bool:
        return False  # written by the sender only


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "device", "created_at", "last_sent_at"]
    fields = ["user", "device", "created_at", "last_sent_at"]
    readonly_fields = fields
    search_fields = ["user__username"]

    def has_add_permission(self, request) -> bool:
        return False  # only the device itself can subscribe


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "last_fetched_at"]
    fields = ["user", "created_at", "last_fetched_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # a token is only ever made, and shown, on the user's own page
