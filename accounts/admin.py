from django.contrib import admin

from accounts.models import Profile
from lib.cache import data_changed


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "time_zone", "programme_start", "phase", "desk_work", "sciatica_side")
    raw_id_fields = ("user",)
    search_fields = ("user__username",)

    def has_delete_permission(self, request, obj=None) -> bool:
        # A profile made again for the same user starts its versions at 0, where entries
        # cached in its first hours still are: a person's data goes with the person
        # (accounts.services.erase_account, or deleting the user), never on its own.
        return False

    def get_readonly_fields(self, request, obj=None):
        # Nor moved to another user: the first one would get a new profile at version 0.
        return ("user",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            # Only what staff changed: a whole-row save would write back the data and
            # history versions read when the form was posted, undoing the user's writes
            # since, and data_changed would then move them on to a version whose cached
            # pages and safety record are from before those writes.
            obj.save(update_fields=form.changed_data)
        else:
            super().save_model(request, obj, form, change)
        data_changed(obj.user)
