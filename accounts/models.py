import zoneinfo
from datetime import date, datetime
from functools import cache

from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
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
    # How the clinician report names the patient; optional, and never used to log in.
    display_name = models.CharField(max_length=80, blank=True, default="")
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
    # Bumped with data_version by every write except one: a new session on the user's
    # local today that stamps no safety event (lib.cache.data_changed). What is computed
    # from the days before today and from the safety record is cached under it, so the
    # first page after a plain new session rebuilds only today's part.
    history_version = models.PositiveIntegerField(default=0, editable=False)
    # The address (user.email) its owner proved by following a link; password resets go
    # only to this. Changing user.email leaves them different: unverified until proved.
    verified_email = models.EmailField(blank=True, default="")

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

    @property
    def email_verified(self) -> bool:
        return bool(self.user.email) and self.verified_email.lower() == self.user.email.lower()


class LoginSession(AbstractBaseSession):
    """Django's database session with its user's id in an indexed column.

    Written by accounts.sessions.SessionStore whenever the session is saved. Ending one
    user's sessions (password change or reset, account deletion) is then one indexed
    delete, however many sessions other people have; deleting the user deletes them too.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="login_sessions",
    )

    @classmethod
    def get_session_store_class(cls):
        from accounts.sessions import SessionStore

        return SessionStore


class ThrottledAttempt(models.Model):
    """One attempt at a throttled action (log-in, sign-up, reset) from one client address.

    Kept in the database so every worker counts the same attempts; rows older than the
    window are removed by ``manage.py purge_expired``.
    """

    action = models.CharField(max_length=32)
    client = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["action", "client", "at"], name="throttle_lookup")]

    def __str__(self) -> str:
        return f"{self.action} from {self.client} at {self.at:%Y-%m-%d %H:%M:%S}"
