from datetime import date

from django import forms

from lib.text import PlainTextField
from stretches.screening import QUESTIONS, AnswerError, Tier, emergency_verdict, verdict

YES_NO = [("yes", "Yes"), ("no", "No")]
FIELD_PREFIX = "q_"


class ScreeningForm(forms.Form):
    """The red-flag questions as yes/no radios; nothing is pre-answered.

    ``tiers`` limits the form to some groups (the emergency questions are asked on
    their own first after worsening numbness). ``carried`` holds answers already
    given in that first step.
    """

    def __init__(self, *args, tiers: tuple[Tier, ...] = tuple(Tier), carried=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tiers = tiers
        self.carried = dict(carried or {})
        self.questions = [q for q in QUESTIONS if q.tier in tiers]
        for q in self.questions:
            self.fields[FIELD_PREFIX + q.id] = forms.ChoiceField(
                label=q.text,
                help_text=q.hint,
                choices=YES_NO,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Please answer yes or no.",
                    "invalid_choice": "Please answer yes or no.",
                },
            )

    def groups(self):
        """(tier, [bound fields]) in asking order, for the template."""
        out = []
        for tier in self.tiers:
            fields = [self[FIELD_PREFIX + q.id] for q in self.questions if q.tier is tier]
            if fields:
                out.append((tier, fields))
        return out

    def clean(self):
        cleaned = super().clean()
        known = {FIELD_PREFIX + q.id for q in QUESTIONS}
        unknown = sorted(k for k in self.data if k.startswith(FIELD_PREFIX) and k not in known)
        if unknown:
            raise forms.ValidationError(
                "The form contained a question we do not know (%(ids)s). Please answer the "
                "questions shown.",
                params={"ids": ", ".join(k.removeprefix(FIELD_PREFIX) for k in unknown)},
            )
        return cleaned

    def answers(self) -> dict[str, bool]:
        answers = dict(self.carried)
        for q in self.questions:
            answers[q.id] = self.cleaned_data[FIELD_PREFIX + q.id] == "yes"
        return answers

    def result(self):
        """The verdict for a full form, or EMERGENCY/None for the emergency-only step."""
        answers = self.answers()
        try:
            if self.tiers == (Tier.EMERGENCY,):
                return answers, emergency_verdict(answers)
            return answers, verdict(answers)
        except AnswerError as exc:  # defensive: the fields above make this unreachable
            raise forms.ValidationError(str(exc)) from exc


class ClearanceForm(forms.Form):
    cleared_on = forms.DateField(
        label="Date you were seen and cleared",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = PlainTextField(
        label="Note (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example who saw you and what they advised. Shown in your report.",
    )

    def __init__(self, *args, today: date, not_before: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.not_before = not_before

    def clean_cleared_on(self):
        value = self.cleaned_data["cleared_on"]
        if value > self.today:
            raise forms.ValidationError("The date cannot be in the future.")
        if value < self.not_before:
            raise forms.ValidationError(
                "The clearance must be on or after the day of these answers "
                f"({self.not_before:%d %b %Y}): a clinician needs to have seen these symptoms."
            )
        return value
