from django import forms

from sharing.models import NAME_MAX
from sharing.services import VALID_DAYS


class ShareLinkForm(forms.Form):
    name = forms.CharField(
        label="Who is it for? (optional)",
        max_length=NAME_MAX,
        required=False,
        help_text="A name you will recognise in the list, such as “Dr Patel”. Only you see it.",
        error_messages={"max_length": f"Keep the name to {NAME_MAX} characters or fewer."},
    )
    days = forms.TypedChoiceField(
        label="How long should it work?",
        choices=[(d, f"{d} days") for d in VALID_DAYS],
        coerce=int,
        initial=VALID_DAYS[0],
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose 7 or 30 days.",
            "invalid_choice": "Choose 7 or 30 days.",
        },
    )


class RevokeForm(forms.Form):
    link = forms.IntegerField(min_value=1)
