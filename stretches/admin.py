from django.contrib import admin

from stretches.models import (
    Clearance,
    ExaminationConfirmation,
    Exercise,
    SafetyEvent,
    Screening,
)


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "hold_min_seconds", "hold_max_seconds", "reps", "position")
    list_editable = ("position",)
    search_fields = ("name", "slug")

    def get_readonly_fields(self, request, obj=None):
        # The plan finds the stretches by slug, and the double-leg cap follows the kind:
        # neither may change once the stretch exists.
        return ("slug", "both_legs") if obj is not None else ()

    def has_delete_permission(self, request, obj=None) -> bool:
        # The five stretches are the programme itself: edit them, never remove one.
        return False


class SafetyRecordAdmin(admin.ModelAdmin):
    """The safety record is the user's own: staff can read it, never add, change or delete.

    A block or a pause is lifted only by what the SPEC names (stretches.safety), not here.
    """

    raw_id_fields = ("user",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Screening)
class ScreeningAdmin(SafetyRecordAdmin):
    list_display = ("user", "taken_at", "verdict", "reason")
    list_filter = ("verdict", "reason")


@admin.register(Clearance)
class ClearanceAdmin(SafetyRecordAdmin):
    list_display = ("user", "cleared_by", "cleared_on", "recorded_at")


@admin.register(ExaminationConfirmation)
class ExaminationConfirmationAdmin(SafetyRecordAdmin):
    list_display = ("user", "examined_on", "recorded_at")


@admin.register(SafetyEvent)
class SafetyEventAdmin(SafetyRecordAdmin):
    list_display = ("user", "kind", "day", "reported_on", "recorded_at")
    list_filter = ("kind",)
