from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import transaction

from lib.cache import data_changed
from tracking.models import Session, WeeklyCheckin
from tracking.services import stamp_admin_save


class DataChangedAdmin(admin.ModelAdmin):
    """Staff edits also bump the owner's data version, so cached pages follow them."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        data_changed(obj.user)
        if change and "user" in form.changed_data:
            # Moved to another user: the first owner's caches still hold it.
            data_changed(get_user_model().objects.get(pk=form.initial["user"]))

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        data_changed(obj.user)

    def delete_queryset(self, request, queryset):
        users = {obj.user for obj in queryset.select_related("user")}
        super().delete_queryset(request, queryset)
        for user in users:
            data_changed(user)


@admin.register(Session)
class SessionAdmin(DataChangedAdmin):
    list_display = (
        "user",
        "performed_at",
        "exercise",
        "pain_before",
        "pain_after",
        "has_stop_signal",
    )
    list_filter = ("exercise", "has_stop_signal")
    raw_id_fields = ("user",)
    date_hierarchy = "performed_at"
    # A stop signal pauses the programme only through tracking.services; an admin form
    # that could add or remove one would bypass that.
    readonly_fields = ("stop_signals", "has_stop_signal")

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            # Stamped as logging and editing stamp (a pain rise or severe score typed in
            # here is a setback like any other); never a way around them.
            stamp_admin_save(obj, created=not change)


@admin.register(WeeklyCheckin)
class WeeklyCheckinAdmin(DataChangedAdmin):
    list_display = ("user", "week", "movement", "sleep")
    raw_id_fields = ("user",)
