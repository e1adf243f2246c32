from django.conf import settings
from django.db import models
from django.utils import timezone

NAME_MAX = 80


class ShareLinkQuerySet(models.QuerySet):
    def open_at(self, moment):
        """Links that answer at ``moment``: not revoked and not yet expired.

        The share view puts these conditions in its one lookup query, so an expired,
        revoked or unknown token costs the same single index probe and gets the same 404.
        """
        return self.filter(revoked_at__isnull=True, expires_at__gt=moment)


class ShareLink(models.Model):
    """A read-only link to the user's clinician report. Only the token's SHA-256 is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="share_links"
    )
    name = models.CharField(max_length=NAME_MAX, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_opened_at = models.DateTimeField(null=True, blank=True)
    open_count = models.PositiveIntegerField(default=0)

    objects = ShareLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="sharelink_user_created")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="sharelink_expires_after_creation",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Share link {self.pk}"

    def status(self, moment) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if moment < self.expires_at else "expired"


class ShareOpenCount(models.Model):
    """Opens of share pages per client address and fixed time window (the rate limit).

    Kept in the database so every gunicorn worker counts against one limit. The
    address is stored as a keyed hash, never as given; old windows are pruned.
    """

    address = models.CharField(max_length=64)
    window_start = models.DateTimeField(db_index=True)
    opens = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["address", "window_start"], name="shareopen_once_per_window"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opens} opens from {self.window_start:%Y-%m-%d %H:%M}"
