from django.contrib import admin

from accounts.models import Profile


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "time_zone", "programme_start", "phase", "desk_work", "sciatica_side")
    raw_id_fields = ("user",)
    search_fields = ("user__username",)
