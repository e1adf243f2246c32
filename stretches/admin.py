from django.contrib import admin

from stretches.models import Clearance, Exercise, Screening


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "hold_min_seconds", "hold_max_seconds", "reps", "position")
    list_editable = ("position",)
    prepopulated_fields = {"slug": ("name",)}
    search_fields = ("name", "slug")

    def has_delete_permission(self, request, obj=None) -> bool:
        # The five stretches are the programme itself: edit them, never remove one.
        return False


@admin.register(Screening)
class ScreeningAdmin(admin.ModelAdmin):
    list_display = ("user", "taken_at", "verdict", "reason")
    list_filter = ("verdict", "reason")
    raw_id_fields = ("user",)
    # Screenings are a health record the user made: staff can read, not rewrite them.
    readonly_fields = ("user", "taken_at", "answers", "verdict", "reason")

    def has_add_permission(self, request) -> bool:
        # Every field is read-only, so an add form would save an empty screening.
        return False


@admin.register(Clearance)
class ClearanceAdmin(admin.ModelAdmin):
    list_display = ("user", "cleared_on", "recorded_at")
    raw_id_fields = ("user", "screening")
