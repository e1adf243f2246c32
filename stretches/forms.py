from datetime import date

from django import forms

from stretches.models import Clearance
from stretches.screening import QUESTIONS, Answer, Tier, flagged

ANSWER_CHOICES = [(a.value, a.label) for a in Answer]
FIELD_PREFIX = "q_"
SETTLED_FIELD = "settled"


class ScreeningForm(forms.Form):
    """The red-flag questions as yes / no / not sure radios; nothing is pre-answered.

    ``tiers`` limits the form to some groups (the emergency questions are asked on their
    own first after worsening numbness, spreading pain or severe pain). ``previous`` holds
    the last screening's answers, shown beside each question answered yes before.
    ``ask_settled`` adds the first question after a stop signal: has it settled?
    """

    def __init__(
        self,
        *args,
        tiers: tuple[Tier, ...] = tuple(Tier),
        previous: dict | None = None,
        ask_settled: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.tiers = tiers
        self.questions = [q for q in QUESTIONS if q.tier in tiers]
        earlier = set(flagged(previous or {}))
        self.earlier = {q.id for q in self.questions if q.id in earlier}
        if ask_settled:
            self.fields[SETTLED_FIELD] = forms.ChoiceField(
                label="Has the symptom you reported after your last session settled?",
                help_text="Answer no if it is still there, even if it is milder.",
                choices=[("yes", "Yes, it has gone"), ("no", "No, not yet")],
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Please say whether it has settled.",
                    "invalid_choice": "Please say whether it has settled.",
                },
            )
        for q in self.questions:
            self.fields[FIELD_PREFIX + q.id] = forms.ChoiceField(
                label=q.text,
                help_text=q.hint,
                choices=ANSWER_CHOICES,
                widget=forms.RadioSelect,
                error_messages={
                    "required": "Please answer yes, no or not sure.",
                    "invalid_choice": "Please answer yes, no or not sure.",
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

    def answered_before(self, field) -> bool:
        return field.name.removeprefix(FIELD_PREFIX) in self.earlier

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

    def answers(self) -> dict[str, Answer]:
        return {q.id: Answer(self.cleaned_data[FIELD_PREFIX + q.id]) for q in self.questions}

    @property
    def not_settled(self) -> bool:
        return self.cleaned_data.get(SETTLED_FIELD) == "no"


class ExaminationForm(forms.Form):
    examined = forms.BooleanField(
        label="A doctor has examined me about these symptoms since I answered",
        error_messages={"required": "Tick this only once a doctor has examined you."},
    )
    examined_on = forms.DateField(
        label="Date of the examination",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args, today: date, not_before: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.not_before = not_before

    def clean_examined_on(self):
        return _dated(self.cleaned_data["examined_on"], self.today, self.not_before)


def _dated(value: date, today: date, not_before: date) -> date:
    if value > today:
        raise forms.ValidationError("The date cannot be in the future.")
    if value < not_before:
        raise forms.ValidationError(
            f"The date must be on or after the day of these answers ({not_before:%d %b %Y}): "
            "a clinician needs to have seen these symptoms."
        )
    return value


class ClearanceForm(forms.Form):
    cleared_by = forms.ChoiceField(
        label="Who assessed you?",
        choices=Clearance.ClearedBy.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose who assessed you."},
    )
    cleared_on = forms.DateField(
        label="Date they told you the stretches are fine",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    note = forms.CharField(
        label="Note (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example what they advised. Shown in your report.",
    )

    def __init__(self, *args, today: date, not_before: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.not_before = not_before

    def clean_cleared_on(self):
        return _dated(self.cleaned_data["cleared_on"], self.today, self.not_before)
