from django.contrib import admin

from accounts.models import Profile
from lib.cache import data_changed


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "time_zone", "programme_start", "phase", "desk_work", "sciatica_side")
    raw_id_fields = ("user",)
    search_fields = ("user__username",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        data_changed(obj.user)
