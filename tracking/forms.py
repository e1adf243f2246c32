from __future__ import annotations

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from lib.choices import (
    FieldsCopiedOnUse,
    FlatCheckboxSelectMultiple,
    FlatChoiceField,
    FlatMultipleChoiceField,
    FlatRadioSelect,
    FlatTypedChoiceField,
)
from lib.page_cache import fresh_uuid
from lib.text import PlainTextField
from stretches.models import Exercise, StopSignal
from stretches.progression import DOUBLE_LEG, MAX_ACUTE_SESSIONS_PER_DAY
from tracking.models import (
    HOLD_MAX,
    HOLD_MIN,
    PAIN_MAX,
    PAIN_MIN,
    REPS_MAX,
    REPS_MIN,
    CheckinAnswer,
    Session,
    Sides,
)

BACKDATE_LIMIT = timedelta(days=7)
PAIN_CHOICES = [(n, str(n)) for n in range(PAIN_MIN, PAIN_MAX + 1)]
AFTER_SESSION_SIGNALS = [(s.value, s.label) for s in StopSignal if s is not StopSignal.LASTING_PAIN]


def pain_field(label: str) -> forms.TypedChoiceField:
    return FlatTypedChoiceField(
        label=label,
        choices=PAIN_CHOICES,
        coerce=int,
        widget=FlatRadioSelect,
        help_text="0 means no pain, 10 the worst pain you can imagine.",
        error_messages={
            "required": "Choose a number from 0 (no pain) to 10 (worst imaginable).",
            "invalid_choice": "Pain must be a whole number from 0 to 10.",
        },
    )


def performed_at_field(help_text: str = "") -> forms.DateTimeField:
    """When a session was done, typed in the user's own time zone (a datetime-local input)."""
    return forms.DateTimeField(
        label="When did you do it?",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        help_text=help_text,
        error_messages={"invalid": "Enter a date and time, for example 2026-03-01 08:30."},
    )


class SessionForm(FieldsCopiedOnUse, forms.Form):
    """A session as the user reports it; clean() turns it into service arguments."""

    # Handed to each log form as they are (lib.choices): nothing here or in a view changes
    # them on a form of this class. Not the stretch (its choices are each plan's). The
    # subclasses copy every field (the edit form sets the stop signals' choices).
    shared_fields = frozenset(
        {"sides", "reps_per_side", "hold_seconds", "pain_before", "pain_after",
         "stop_signals", "lasting_pain", "note", "client_token"}
    )  # fmt: skip

    # Drawn by tracking/_pain_field.html; strings, so the template need not localise them.
    pain_scale = tuple(str(n) for n in range(PAIN_MIN, PAIN_MAX + 1))

    # lib.choices: each form's copy of these shares their (value, label) pairs.
    exercise = FlatChoiceField(label="Stretch")
    sides = FlatChoiceField(
        label="Side(s)",
        choices=Sides.choices,
        widget=FlatRadioSelect,
        error_messages={"invalid_choice": "Choose which side or sides you stretched."},
    )
    reps_per_side = forms.IntegerField(
        label="Reps per side",
        min_value=REPS_MIN,
        max_value=REPS_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "Enter a whole number of reps from 1 to 10."},
    )
    hold_seconds = forms.IntegerField(
        label="Longest hold achieved (seconds)",
        min_value=HOLD_MIN,
        max_value=HOLD_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={"invalid": "Enter the hold in whole seconds, from 1 to 120."},
    )
    pain_before = pain_field("Pain before the session")
    pain_after = pain_field("Pain after the session")
    stop_signals = FlatMultipleChoiceField(
        label="Did any of these happen? (each one pauses the programme)",
        choices=AFTER_SESSION_SIGNALS,
        required=False,
        widget=FlatCheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose only from the signs listed."},
    )
    lasting_pain = forms.BooleanField(
        label="Pain from your previous session lasted more than 2 hours",
        required=False,
    )
    note = PlainTextField(
        label="Note (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    client_token = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form is out of date. Please reload the page and log the session again.",
            "invalid": "This form is out of date. Please reload the page and log the session again.",
        },
    )

    def __init__(
        self,
        *args,
        catalogue: dict[str, Exercise],
        ask_lasting_pain: bool,
        locked: frozenset[str] = frozenset(),
        daily_cap: int | None = None,
        sessions_on=None,
        **kwargs,
    ):
        # One per page load (two tabs log two sessions), also on a cached page.
        kwargs.setdefault("initial", {}).setdefault("client_token", fresh_uuid())
        super().__init__(*args, **kwargs)
        self.catalogue = catalogue
        # Exercises not yet earned (the double-leg stretch), and the acute flare's daily cap
        # with a way to count the sessions already logged on a day.
        self.locked = locked
        self.daily_cap = daily_cap
        self.sessions_on = sessions_on
        self.fields["exercise"].choices = [(slug, ex.name) for slug, ex in catalogue.items()]
        self.fields["exercise"].error_messages["invalid_choice"] = "Choose a stretch from the list."
        if not ask_lasting_pain:
            del self.fields["lasting_pain"]

    @classmethod
    def for_plan(cls, plan, data=None) -> SessionForm:
        catalogue = {entry.exercise.slug: entry.exercise for entry in plan.items}
        next_entry = plan.next_item or plan.main
        item = next_entry.item
        sides = {("both",): Sides.BOTH, ("left", "right"): Sides.LEFT_AND_RIGHT}.get(
            item.sides, item.sides[0]
        )
        initial = {
            "exercise": item.slug,
            "sides": sides,
            "reps_per_side": item.reps,
            "hold_seconds": item.hold_target,
        }
        return cls(
            data,
            catalogue=catalogue,
            ask_lasting_pain=False,  # asked on its own above the timer (tracking.today)
            daily_cap=plan.prescription.daily_cap,
            sessions_on=lambda day: len(plan.todays_sessions),
            initial=initial,
        )

    @property
    def number_fields(self):
        return [self["reps_per_side"], self["hold_seconds"]]

    @property
    def static_key(self) -> str | None:
        """Everything the HTML of an unbound form's fields depends on besides the code
        (tracking.templatetags.session_fields); None once it holds the user's input."""
        if self.is_bound:
            return None
        initial = sorted((k, str(v)) for k, v in self.initial.items() if k != "client_token")
        return repr(
            (
                type(self).__name__,
                self.prefix,
                self.auto_id,
                tuple(self.fields),
                initial,
                tuple(self.fields["exercise"].choices),
            )
        )

    def clean_exercise(self) -> Exercise:
        return self.catalogue[self.cleaned_data["exercise"]]

    def clean(self):
        cleaned = super().clean()
        exercise, sides = cleaned.get("exercise"), cleaned.get("sides")
        if exercise is not None and exercise.slug in self.locked and self._exercise_changed():
            self.add_error(
                "exercise",
                f"{exercise.name} is not unlocked yet: it opens once it is earned (see "
                "today's plan).",
            )
        hold = cleaned.get("hold_seconds")
        if exercise is not None and hold is not None and hold > exercise.hold_cap:
            self.add_error(
                "hold_seconds",
                f"Holds for {exercise.name} are capped at {exercise.hold_cap} seconds. "
                "Log the time up to the cap.",
            )
        # The flare's daily cap is not judged here but where the session is stored
        # (tracking.services, the day counted under a lock, with the session's own day):
        # refused there, what the session reports (a stop signal) is still recorded
        # (refuse_daily_cap then puts the message on this form).
        if exercise is not None and sides:
            if exercise.slug == DOUBLE_LEG and sides != Sides.BOTH:
                self.add_error("sides", "The double-leg stretch works both legs together.")
            elif exercise.slug != DOUBLE_LEG and sides == Sides.BOTH:
                self.add_error("sides", "This stretch is done one leg at a time.")
        signals = list(cleaned.get("stop_signals") or [])
        if cleaned.get("lasting_pain"):
            signals.append(StopSignal.LASTING_PAIN.value)
        cleaned["all_stop_signals"] = signals
        return cleaned

    def _exercise_changed(self) -> bool:
        return True

    def daily_cap_message(self, *, recorded: bool = False) -> str:
        """``recorded``: the refused session's stop signal, rise or severe score was
        recorded all the same (tracking.services.DailyCapReached.stamped)."""
        message = (
            # The form's own cap, or the flare's when it was chosen in another tab after
            # this form was made (tracking.services).
            f"During an acute flare the plan allows at most "
            f"{self.daily_cap or MAX_ACUTE_SESSIONS_PER_DAY} sessions "
            "a day, and that day already has them. Rest is part of settling a flare."
        )
        if recorded:
            message += (
                " What you reported about your pain or a stop signal is recorded all the "
                "same, and counts for your safety checks."
            )
        return message

    def refuse_daily_cap(self, *, recorded: bool = False) -> None:
        """The cap counted again where the session was to be stored, and reached: another
        tab's save landed after this form was checked (tracking.services.DailyCapReached)."""
        self.add_error(None, self.daily_cap_message(recorded=recorded))

    def service_kwargs(self) -> dict:
        """Exactly what ``tracking.services.log_session`` takes besides the user."""
        data = self.cleaned_data
        kwargs = {name: data[name] for name in Session.RECORDED_FIELDS if name in self.fields}
        kwargs["stop_signals"] = data["all_stop_signals"]
        kwargs["client_token"] = data["client_token"]
        return kwargs


class PerformedAtMixin(forms.Form):
    performed_at = performed_at_field(
        help_text="In your own time zone. Up to 7 days back, never in the future."
    )

    def clean_performed_at(self) -> datetime:
        value = self.cleaned_data["performed_at"]
        now = timezone.now()
        # One minute of slack for a clock that runs a little ahead of ours.
        if value > now + timedelta(minutes=1):
            raise forms.ValidationError("That time is in the future.")
        if value < now - BACKDATE_LIMIT:
            raise forms.ValidationError("Sessions can be logged up to 7 days back.")
        return value


class BackdatedSessionForm(PerformedAtMixin, SessionForm):
    field_order = ["performed_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        local_now = timezone.localtime()
        self.fields["performed_at"].initial = local_now.replace(second=0, microsecond=0)
        self.fields["performed_at"].widget.attrs["max"] = local_now.strftime("%Y-%m-%dT%H:%M")
        self.fields["performed_at"].widget.attrs["min"] = (local_now - BACKDATE_LIMIT).strftime(
            "%Y-%m-%dT%H:%M"
        )


class EditSessionForm(SessionForm):
    """Editing keeps the original time unless it is changed, within the same 7-day rule."""

    performed_at = performed_at_field()
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    field_order = ["performed_at"]

    def __init__(self, *args, session, **kwargs):
        self.session = session
        super().__init__(*args, ask_lasting_pain=True, **kwargs)
        del self.fields["client_token"]
        self.fields["stop_signals"].choices = list(StopSignal.choices)
        del self.fields["lasting_pain"]
        self.fields[
            "stop_signals"
        ].help_text = "A stop signal already recorded stays recorded; you can add one you forgot."

    def _exercise_changed(self) -> bool:
        exercise = self.cleaned_data.get("exercise")
        return exercise is not None and exercise.pk != self.session.exercise_id

    def clean_performed_at(self) -> datetime:
        value = self.cleaned_data["performed_at"]
        if value == self.session.performed_at.replace(second=0, microsecond=0):
            return self.session.performed_at
        return PerformedAtMixin.clean_performed_at(self)

    def clean(self):
        cleaned = super().clean()
        cleaned["all_stop_signals"] = list(cleaned.get("stop_signals") or [])
        return cleaned

    @staticmethod
    def initial_for(session) -> dict:
        initial = {name: getattr(session, name) for name in Session.RECORDED_FIELDS}
        initial["performed_at"] = timezone.localtime(session.performed_at).replace(
            second=0, microsecond=0
        )
        initial["exercise"] = session.exercise.slug
        initial["version"] = session.version
        return initial

    def service_kwargs(self) -> dict:
        """Exactly what ``tracking.services.update_session`` takes besides the session."""
        data = self.cleaned_data
        kwargs = {name: data[name] for name in Session.RECORDED_FIELDS}
        kwargs["stop_signals"] = data["all_stop_signals"]
        kwargs["version"] = data["version"]
        return kwargs


class CheckinForm(forms.Form):
    movement = forms.ChoiceField(
        label="Everyday movement this week, compared with last week",
        choices=CheckinAnswer.choices,
        widget=forms.RadioSelect,
    )
    sleep = forms.ChoiceField(
        label="Sleep this week, compared with last week",
        choices=CheckinAnswer.choices,
        widget=forms.RadioSelect,
    )


# The PEG-3 items (Krebs et al. 2009) in our own words, each item's meaning unchanged:
# (name, question, what 0 means, what 10 means).
PEG_ITEMS = (
    (
        "pain",
        "Over the past week, what was your pain on average?",
        "no pain",
        "pain as bad as you can imagine",
    ),
    (
        "enjoyment",
        "Over the past week, how much did pain get in the way of your enjoyment of life?",
        "not at all",
        "completely",
    ),
    (
        "activity",
        "Over the past week, how much did pain get in the way of your general activity?",
        "not at all",
        "completely",
    ),
)


class PegForm(forms.Form):
    """The weekly PEG-3: three whole numbers from 0 to 10."""

    scale = tuple(str(n) for n in range(PAIN_MIN, PAIN_MAX + 1))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, question, low, high in PEG_ITEMS:
            self.fields[name] = forms.TypedChoiceField(
                label=question,
                choices=PAIN_CHOICES,
                coerce=int,
                widget=forms.RadioSelect,
                help_text=f"0 means {low}, 10 means {high}.",
                error_messages={
                    "required": "Choose a number from 0 to 10 for each question.",
                    "invalid_choice": "Each answer must be a whole number from 0 to 10.",
                },
            )
            self.fields[name].scale_ends = (low, high)

    def items(self):
        return [self[name] for name, *_ in PEG_ITEMS]
