import uuid
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction

from stretches.models import Exercise, StopSignal
from stretches.progression import SETBACK_PAIN_RISE

PAIN_MIN, PAIN_MAX = 0, 10
REPS_MIN, REPS_MAX = 1, 10
HOLD_MIN, HOLD_MAX = 1, 120


class Sides(models.TextChoices):
    LEFT = "left", "Left leg"
    RIGHT = "right", "Right leg"
    LEFT_AND_RIGHT = "left_right", "Left and right, one at a time"
    BOTH = "both", "Both legs together"


# stretches.progression.is_setback in SQL: a stop signal, or pain after at least
# SETBACK_PAIN_RISE above before.
SETBACK = models.Q(has_stop_signal=True) | models.Q(
    pain_after__gte=models.F("pain_before") + SETBACK_PAIN_RISE
)


class SessionQuerySet(models.QuerySet):
    def setbacks(self):
        return self.filter(SETBACK)


class Session(models.Model):
    # What a person records about a session, in one place: the log forms return exactly
    # these, the services store them and the exports write them out. The prescribed hold
    # is not among them: the server computes it from the plan, never reads it from a form.
    RECORDED_FIELDS = (
        "performed_at",
        "exercise",
        "sides",
        "reps_per_side",
        "hold_seconds",
        "pain_before",
        "pain_after",
        "stop_signals",
        "note",
    )

    # No index of its own: the unique (user, client_token) and the (user, performed_at)
    # indexes both lead with the user, and every logged session paid for a third.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stretch_sessions",
        db_index=False,
    )
    performed_at = models.DateTimeField()
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="sessions")
    sides = models.CharField(max_length=16, choices=Sides.choices)
    reps_per_side = models.PositiveSmallIntegerField()
    hold_seconds = models.PositiveSmallIntegerField("hold achieved (s)")
    hold_seconds_target = models.PositiveSmallIntegerField("hold prescribed (s)", null=True)
    pain_before = models.PositiveSmallIntegerField()
    pain_after = models.PositiveSmallIntegerField()
    stop_signals = models.JSONField(default=list, blank=True)
    has_stop_signal = models.BooleanField(default=False)
    note = models.CharField(max_length=500, blank=True)
    client_token = models.UUIDField(default=uuid.uuid4, editable=False)
    # Bumped on every edit; an edit form carries the version it was read at, so a
    # second tab cannot silently overwrite the first tab's save.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_at", "-id"]
        indexes = [
            # Every per-user page reads a date range of one user's sessions; on PostgreSQL
            # the included columns let the progress aggregation skip the table itself.
            models.Index(
                fields=["user", "performed_at"],
                name="session_user_performed",
                include=["id", "exercise", "pain_before", "pain_after"],
            ),
            # Today's plan reads every setback since the programme start: a small index
            # of just those rows instead of a scan of a year of sessions.
            models.Index(
                fields=["user", "performed_at"],
                name="session_user_setback",
                condition=SETBACK,
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["user", "client_token"], name="session_once_per_token"),
            models.CheckConstraint(
                condition=models.Q(pain_before__gte=PAIN_MIN, pain_before__lte=PAIN_MAX),
                name="session_pain_before_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(pain_after__gte=PAIN_MIN, pain_after__lte=PAIN_MAX),
                name="session_pain_after_0_10",
            ),
            models.CheckConstraint(
                condition=models.Q(reps_per_side__gte=REPS_MIN, reps_per_side__lte=REPS_MAX),
                name="session_reps_1_10",
            ),
            models.CheckConstraint(
                condition=models.Q(hold_seconds__gte=HOLD_MIN, hold_seconds__lte=HOLD_MAX),
                name="session_hold_1_120",
            ),
            models.CheckConstraint(
                condition=models.Q(hold_seconds_target__isnull=True)
                | models.Q(hold_seconds_target__gte=HOLD_MIN, hold_seconds_target__lte=HOLD_MAX),
                name="session_hold_target_1_120",
            ),
            models.CheckConstraint(
                condition=models.Q(sides__in=[s.value for s in Sides]),
                name="session_sides_known",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} at {self.performed_at:%Y-%m-%d %H:%M}"

    def clean(self) -> None:
        # The hard cap (SPEC 1.3) for every model form too, the admin's included; the log
        # forms and tracking.services check it on their own.
        super().clean()
        if self.exercise_id is not None and self.hold_seconds is not None:
            cap = self.exercise.hold_cap
            if self.hold_seconds > cap:
                raise ValidationError(
                    {"hold_seconds": f"Holds for {self.exercise.name} are capped at {cap} s."}
                )
        self._check_unlocked()
        self._check_daily_cap()

    def _check_unlocked(self) -> None:
        """The double-leg stretch only once it is earned (SPEC 1.3), for the admin's form
        too, as the log, back-dated and edit forms refuse it. A session that already
        has it (logged while it was open) keeps it when other fields are corrected, but
        not when it is moved to someone who has not earned it."""
        from tracking.plan import catalogue_rules, log_limits

        if self.user_id is None or self.exercise_id is None or not self.exercise.both_legs:
            return
        if self.pk is not None:
            # Unchanged exercise and person: kept. Moved to another person: asked of them.
            stored = Session.objects.filter(pk=self.pk).values_list("exercise_id", "user_id")
            if stored.first() == (self.exercise_id, self.user_id):
                return
        profile = getattr(self.user, "profile", None)
        if (
            profile is None
            or self.exercise.slug in log_limits(profile, catalogue_rules())["locked"]
        ):
            raise ValidationError(
                {
                    "exercise": f"{self.exercise.name} is not unlocked for this person yet: it "
                    "opens once it is earned (see their plan)."
                }
            )

    def _check_daily_cap(self) -> None:
        """The acute flare's daily cap (SPEC 1.3), for the admin's form too."""
        from stretches.progression import MAX_ACUTE_SESSIONS_PER_DAY, Phase
        from tracking.plan import local_midnight

        if self.user_id is None or self.performed_at is None:
            return
        # The phase as committed, and, for a new session inside a transaction (the
        # admin's form runs in one until its save commits), the profile row locked as
        # every capped save locks it: a log landing meanwhile is counted, or waits.
        profiles = apps.get_model("accounts", "Profile").objects.filter(user_id=self.user_id)
        if self._state.adding and transaction.get_connection().in_atomic_block:
            # Only for a new session: a change locks its session row after this, and the
            # writes that lock that row first and then the profile (a stop-signal tap, an
            # edit, a delete) would deadlock with it.
            profiles = profiles.select_for_update()
        profile = profiles.first()
        if profile is None or profile.phase_enum is not Phase.ACUTE:
            return
        tz = profile.tzinfo
        day = self.performed_at.astimezone(tz).date()
        same_day = Session.objects.filter(
            user_id=self.user_id,
            performed_at__gte=local_midnight(day, tz),
            performed_at__lt=local_midnight(day + timedelta(days=1), tz),
        ).exclude(pk=self.pk)
        if same_day.count() >= MAX_ACUTE_SESSIONS_PER_DAY:
            raise ValidationError(
                f"During an acute flare the plan allows at most {MAX_ACUTE_SESSIONS_PER_DAY} "
                "sessions a day, and that day already has them."
            )

    def stop_signal_labels(self) -> list[str]:
        labels = dict(StopSignal.choices)
        return [labels[s] for s in self.stop_signals if s in labels]


class CheckinAnswer(models.TextChoices):
    BETTER = "better", "Better"
    SAME = "same", "Same"
    WORSE = "worse", "Worse"


class WeeklyCheckin(models.Model):
    """The one-tap weekly check-in: daily movement and sleep, against last week."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="weekly_checkins"
    )
    week = models.PositiveSmallIntegerField(help_text="Programme week number.")
    movement = models.CharField(max_length=8, choices=CheckinAnswer.choices)
    sleep = models.CharField(max_length=8, choices=CheckinAnswer.choices)
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["week"]
        constraints = [
            models.UniqueConstraint(fields=["user", "week"], name="checkin_once_per_week"),
            models.CheckConstraint(
                condition=models.Q(movement__in=["better", "same", "worse"])
                & models.Q(sleep__in=["better", "same", "worse"]),
                name="checkin_answers_known",
            ),
            models.CheckConstraint(condition=models.Q(week__gte=1), name="checkin_week_from_1"),
        ]

    def __str__(self) -> str:
        return f"Week {self.week} check-in"


class PegQuerySet(models.QuerySet):
    def answered(self):
        """Weeks with the three ratings; a skipped week stores none of them."""
        return self.filter(pain__isnull=False)


class PegScore(models.Model):
    """The weekly PEG-3 answers (tracking/peg.py): pain, enjoyment of life, general activity.

    One row per user and programme week. A week the user skipped keeps a row with no
    ratings, so the question is not asked again that week.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="peg_scores"
    )
    week = models.PositiveSmallIntegerField(help_text="Programme week number.")
    pain = models.PositiveSmallIntegerField(null=True, blank=True)
    enjoyment = models.PositiveSmallIntegerField(null=True, blank=True)
    activity = models.PositiveSmallIntegerField(null=True, blank=True)
    answered_at = models.DateTimeField(auto_now=True)

    objects = PegQuerySet.as_manager()

    class Meta:
        ordering = ["week"]
        constraints = [
            models.UniqueConstraint(fields=["user", "week"], name="peg_once_per_week"),
            models.CheckConstraint(condition=models.Q(week__gte=1), name="peg_week_from_1"),
            *(
                models.CheckConstraint(
                    condition=models.Q(**{f"{item}__isnull": True})
                    | models.Q(**{f"{item}__gte": PAIN_MIN, f"{item}__lte": PAIN_MAX}),
                    name=f"peg_{item}_0_10",
                )
                for item in ("pain", "enjoyment", "activity")
            ),
            # All three answered, or none (a skipped week): never a partial score.
            models.CheckConstraint(
                condition=models.Q(pain__isnull=True, enjoyment__isnull=True, activity__isnull=True)
                | models.Q(pain__isnull=False, enjoyment__isnull=False, activity__isnull=False),
                name="peg_all_or_none",
            ),
        ]

    def __str__(self) -> str:
        return f"Week {self.week} PEG"

    @property
    def skipped(self) -> bool:
        return self.pain is None
