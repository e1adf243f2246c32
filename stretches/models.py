from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from lib.pickling import CompactPickle
from stretches import progression
from stretches.screening import (
    EMERGENCY_QUESTION_IDS,
    LASTING_PAIN_HOURS,
    Answer,
    Trigger,
    Verdict,
    flagged,
    triggered_by,
)
from stretches.signals import catalogue_changed


class StopSignal(models.TextChoices):
    """Signals asked after every session (SPEC 1.5); any one pauses the programme."""

    NUMBNESS = "numbness", "Numbness or tingling that got worse"
    SPREADING = (
        "spreading",
        "Pain spreading below the knee, or new numbness or weakness in a leg or foot",
    )
    SHARP_PAIN = "sharp_pain", "Sharp or shooting pain instead of a gentle stretch"
    CRAMP = "cramp", "Muscle cramping or spasm"
    LASTING_PAIN = (
        "lasting_pain",
        f"Pain from the last session lasted more than {LASTING_PAIN_HOURS} hours",
    )

    @classmethod
    def asks_emergency_questions_first(cls, signals) -> bool:
        """Worsening numbness or spreading pain: the emergency questions come straight away."""
        return bool({cls.NUMBNESS, cls.SPREADING} & set(signals))


class ExerciseQuerySet(models.QuerySet):
    """Bulk writes send no signal: these retire the shared cache's catalogue themselves,
    as every save and delete does (stretches.signals)."""

    def update(self, **kwargs) -> int:
        rows = super().update(**kwargs)
        catalogue_changed()
        return rows

    def bulk_update(self, objs, fields, batch_size=None) -> int:
        rows = super().bulk_update(objs, fields, batch_size=batch_size)
        catalogue_changed()
        return rows


class Exercise(CompactPickle, models.Model):
    """One stretch of the catalogue: the text a user reads and its hold/rep rule."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    position = models.PositiveSmallIntegerField(default=0)
    summary = models.CharField(max_length=240)
    who_for = models.TextField("who it is for")
    setup = models.TextField()
    steps = models.JSONField(default=list, help_text="A list of steps, in order.")
    breathing = models.JSONField(default=list, help_text="A list of breathing cues.")
    mistakes = models.JSONField(default=list, help_text='A list of {"mistake": …, "fix": …} pairs.')
    warning_signs = models.JSONField(default=list)
    accessories = models.JSONField(default=list)
    rules_text = models.TextField("hold and rep rules, in words")
    hold_min_seconds = models.PositiveSmallIntegerField()
    hold_max_seconds = models.PositiveSmallIntegerField()
    reps = models.PositiveSmallIntegerField(help_text="Reps per leg (per set for double-leg).")
    both_legs = models.BooleanField(
        default=False,
        help_text="Both legs at once: holds are capped at "
        f"{progression.MAX_DOUBLE_LEG_HOLD_SECONDS} s and it unlocks only when earned.",
    )

    objects = ExerciseQuerySet.as_manager()

    class Meta:
        ordering = ["position", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hold_min_seconds__gte=1)
                & models.Q(hold_min_seconds__lte=models.F("hold_max_seconds")),
                name="exercise_hold_range_ordered",
            ),
            models.CheckConstraint(
                condition=models.Q(hold_max_seconds__lte=progression.MAX_HOLD_SECONDS),
                name="exercise_hold_at_most_60s",
            ),
            models.CheckConstraint(
                condition=models.Q(both_legs=False)
                | models.Q(hold_max_seconds__lte=progression.MAX_DOUBLE_LEG_HOLD_SECONDS),
                name="exercise_double_leg_hold_at_most_30s",
            ),
            models.CheckConstraint(
                condition=models.Q(reps__gte=1) & models.Q(reps__lte=10),
                name="exercise_reps_1_to_10",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("stretch-detail", args=[self.slug])

    def clean(self) -> None:
        cap = self.hold_cap
        errors = {}
        if self.hold_max_seconds is not None and self.hold_max_seconds > cap:
            errors["hold_max_seconds"] = f"The hold for this stretch is capped at {cap} seconds."
        if (
            self.hold_min_seconds is not None
            and self.hold_max_seconds is not None
            and self.hold_min_seconds > self.hold_max_seconds
        ):
            errors["hold_min_seconds"] = "The shortest hold cannot be longer than the longest."
        for name in ("steps", "breathing", "warning_signs", "accessories"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                errors[name] = "Enter a list of sentences."
        if not isinstance(self.mistakes, list) or not all(
            isinstance(m, dict) and set(m) == {"mistake", "fix"} for m in self.mistakes
        ):
            errors["mistakes"] = 'Enter a list of {"mistake": "…", "fix": "…"} pairs.'
        if errors:
            raise ValidationError(errors)

    @property
    def hold_cap(self) -> int:
        return progression.hold_cap(self.both_legs)

    @property
    def rule(self) -> progression.ExerciseRule:
        return progression.ExerciseRule(
            self.slug, self.hold_min_seconds, self.hold_max_seconds, self.reps, self.both_legs
        )


class Screening(models.Model):
    """One answered questionnaire; every one is kept for the clinician report."""

    class Reason(models.TextChoices):
        FIRST = "first", "Before first use"
        DUE = "due", "Every 28 days"
        STOP_SIGNAL = "stop_signal", "After a stop signal"
        SEVERE_PAIN = "severe_pain", "After severe pain"
        EMERGENCY_CHECK = "emergency_check", "Emergency questions after severe pain"
        RETAKE = "retake", "Retaken by the user"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="screenings"
    )
    taken_at = models.DateTimeField(db_index=True)
    answers = models.JSONField()
    verdict = models.CharField(max_length=16, choices=[(v.value, v.label) for v in Verdict])
    reason = models.CharField(max_length=16, choices=Reason.choices, default=Reason.RETAKE)
    # Findings from the safety record that this screening added (stretches.screening.Trigger).
    triggers = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["user", "-taken_at"], name="screening_user_taken")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(verdict__in=[v.value for v in Verdict]),
                name="screening_verdict_known",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_verdict_display()} on {self.taken_at:%Y-%m-%d}"

    @property
    def verdict_enum(self) -> Verdict:
        return Verdict(self.verdict)

    @property
    def yes_questions(self):
        return triggered_by(self.answers)

    @property
    def trigger_texts(self) -> list[str]:
        return [Trigger(t).text for t in self.triggers if t in Trigger.__members__.values()]

    @property
    def flags(self) -> frozenset[str]:
        """What a clearance for this screening is given for: flagged answers and findings."""
        return frozenset(flagged(self.answers)) | frozenset(self.triggers)

    @property
    def emergency_all_no(self) -> bool:
        return all(self.answers.get(qid) in (Answer.NO, False) for qid in EMERGENCY_QUESTION_IDS)


class Clearance(models.Model):
    """The user's record that a doctor or clinician has seen and cleared them."""

    class ClearedBy(models.TextChoices):
        GP = "gp", "My GP"
        PHYSIOTHERAPIST = "physio", "A physiotherapist"
        OTHER_DOCTOR = "doctor", "Another doctor"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clearances"
    )
    # The latest screening it answers; ``covers`` lists every flag it was given for.
    screening = models.OneToOneField(Screening, on_delete=models.CASCADE, related_name="clearance")
    cleared_by = models.CharField(max_length=8, choices=ClearedBy.choices, blank=True)
    cleared_on = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    covers = models.JSONField(default=list)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"Cleared on {self.cleared_on}"


class ExaminationConfirmation(models.Model):
    """The user's word that a doctor examined them after an emergency result (SPEC 1.4)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="examinations"
    )
    screening = models.ForeignKey(Screening, on_delete=models.CASCADE, related_name="examinations")
    examined_on = models.DateField()
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self) -> str:
        return f"Examined on {self.examined_on}"


class SafetyEvent(models.Model):
    """A stop signal, a pain rise or a severe score, stamped when it was logged.

    Editing or deleting the session later does not remove it (a correction within
    CORRECTION_WINDOW does, except for a stop signal, which is never taken back), so a
    setback or a pause cannot be undone by rewriting the record.
    """

    class Kind(models.TextChoices):
        STOP_SIGNAL = "stop_signal", "Stop signal"
        PAIN_RISE = "pain_rise", "Pain rose after a session"
        SEVERE_PAIN = "severe_pain", "Severe pain"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="safety_events"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    day = models.DateField(help_text="The session's day, in the user's time zone.")
    reported_on = models.DateField(help_text="The user's local day when it was reported.")
    # A stop signal pauses until the end of the day it was reported on, fixed as an instant
    # in the time zone of that moment: changing the time zone afterwards cannot shorten it.
    pause_ends_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField()
    signals = models.JSONField(default=list, blank=True)
    rise = models.SmallIntegerField(default=0)
    # The session it came from (tracking's), by id only: stretches does not import tracking.
    session_ref = models.PositiveBigIntegerField(null=True, blank=True)
    # A session refused at the flare's cap is not stored, but what it reported is: its form's
    # client token, so that the same report sent again (a double tap, a retry after a lost
    # answer) is stamped once, not counted as a second stop signal.
    report_token = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["user", "kind", "day"], name="safety_event_user_kind_day")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=["stop_signal", "pain_rise", "severe_pain"]),
                name="safety_event_kind_known",
            ),
            models.UniqueConstraint(
                fields=["user", "report_token", "kind"],
                condition=models.Q(report_token__isnull=False),
                name="safety_event_report_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.day}"

    def signal_labels(self) -> list[str]:
        labels = dict(StopSignal.choices)
        return [labels[s] for s in self.signals if s in labels]
