from django.contrib import admin

from tracking.models import Session, WeeklyCheckin


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
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


@admin.register(WeeklyCheckin)
class WeeklyCheckinAdmin(admin.ModelAdmin):
    list_display = ("user", "week", "movement", "sleep")
    raw_id_fields = ("user",)
