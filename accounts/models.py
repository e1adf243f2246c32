import zoneinfo
from datetime import date, datetime
from functools import cache

from django.conf import settings
from django.db import models
from django.utils import timezone

from stretches.progression import Phase


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(
        tz for tz in zoneinfo.available_timezones() if "/" in tz and not tz.startswith("Etc/")
    )
    return [("UTC", "UTC")] + [(name, name.replace("_", " ")) for name in names]


class SciaticaSide(models.TextChoices):
    NONE = "", "No sciatica-type pain"
    LEFT = "left", "Left leg"
    RIGHT = "right", "Right leg"


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    time_zone = models.CharField(max_length=64, default="UTC")
    programme_start = models.DateField(null=True, blank=True)
    phase = models.CharField(
        max_length=16,
        choices=[(p.value, p.label) for p in Phase],
        default=Phase.STANDARD.value,
    )
    desk_work = models.BooleanField(default=False)
    sciatica_side = models.CharField(
        max_length=8, choices=SciaticaSide.choices, default=SciaticaSide.NONE, blank=True
    )
    # Bumped in the same transaction as every write to the user's sessions or check-ins
    # (tracking.services). Cached progress is keyed by it, and every request reads the
    # profile fresh, so a new session shows on the very next page load in any worker.
    data_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(phase__in=[p.value for p in Phase]),
                name="profile_phase_known",
            ),
            models.CheckConstraint(
                condition=models.Q(sciatica_side__in=["", "left", "right"]),
                name="profile_sciatica_side_known",
            ),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.user}"

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def local_now(self) -> datetime:
        return timezone.now().astimezone(self.tzinfo)

    def local_today(self) -> date:
        return self.local_now().date()

    @property
    def phase_enum(self) -> Phase:
        return Phase(self.phase)
