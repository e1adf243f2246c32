from datetime import date, timedelta

from django import forms
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.forms import (
    PasswordChangeForm,
    PasswordResetForm,
    UserCreationForm,
    UsernameField,
)
from django.http import HttpRequest

from accounts.models import Profile, time_zone_choices
from lib.text import PlainTextField, strip_invisible

PROGRAMME_START_MAX_AGE = timedelta(days=2 * 365)


def check_programme_start(value: date | None, today: date) -> date | None:
    if value is None:
        return value
    if value > today:
        raise forms.ValidationError(
            "The start date cannot be in the future. Choose today or a past date."
        )
    if value < today - PROGRAMME_START_MAX_AGE:
        raise forms.ValidationError("The start date cannot be more than two years ago.")
    return value


class TimeZoneField(forms.ChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=time_zone_choices,
            help_text="Days and times are counted in this time zone.",
            error_messages={
                "invalid_choice": "Choose a time zone from the list, such as Europe/London."
            },
            **kwargs,
        )


class VisibleUsernameField(UsernameField):
    def to_python(self, value):
        return super().to_python(strip_invisible(value) if isinstance(value, str) else value)


EMAIL_HELP = (
    "Optional. Only used to send you a link if you forget your password; "
    "we first send a link to check it is yours."
)


class SignupForm(UserCreationForm):
    time_zone = TimeZoneField(label="Your time zone", initial="UTC")
    email = forms.EmailField(label="Email (optional)", required=False, help_text=EMAIL_HELP)
    # The page's order, so the error summary lists the errors in the order they are met.
    field_order = ["username", "password1", "password2", "time_zone", "email"]

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")
        field_classes = {"username": VisibleUsernameField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The guessed time zone is filled in by the browser (Intl API) where it can.
        self.fields["time_zone"].widget.attrs["data-guess-timezone"] = "true"
        self.fields["username"].help_text = "Letters, digits and @ . + - _ only."
        self.fields[
            "password1"
        ].help_text = "At least 8 characters; not a common password and not only numbers."


DISPLAY_NAME_MAX = Profile._meta.get_field("display_name").max_length


class ProfileForm(forms.ModelForm):
    display_name = PlainTextField(
        label="Your name on reports (optional)",
        max_length=DISPLAY_NAME_MAX,
        required=False,
        help_text=(
            "Shown at the top of the clinician report and on share links, so your doctor or "
            "physiotherapist knows whose it is. Leave it empty to show no name."
        ),
    )
    time_zone = TimeZoneField()

    class Meta:
        model = Profile
        fields = (
            "display_name",
            "time_zone",
            "programme_start",
            "phase",
            "desk_work",
            "sciatica_side",
        )
        labels = {
            "programme_start": "Programme start date",
            "phase": "Phase",
            "desk_work": "I work at a desk (adds standing knee hugs every 2 hours)",
            "sciatica_side": "Sciatica-type pain down one leg",
        }
        help_texts = {
            "programme_start": "Week 1 begins on this day. Today or up to two years back.",
            "phase": "Acute flare: 3 short sessions a day. Maintenance: 3-4 sessions a week.",
            "sciatica_side": "Adds the figure-four stretch on that side.",
        }
        widgets = {
            "programme_start": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "phase": forms.RadioSelect,
        }

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["phase"].error_messages["invalid_choice"] = (
            "Choose one of the phases listed: standard, acute flare or maintenance."
        )

    def clean_programme_start(self):
        return check_programme_start(self.cleaned_data.get("programme_start"), self.today)


class StartDateForm(forms.Form):
    programme_start = forms.DateField(
        label="When did you start (or when do you start) the programme?",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Week 1 begins on this day. Today or up to two years back.",
    )

    def __init__(self, *args, today: date, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["programme_start"].initial = today

    def clean_programme_start(self):
        return check_programme_start(self.cleaned_data.get("programme_start"), self.today)


def password_confirms(request: HttpRequest, user, password: str) -> bool:
    """Whether ``password`` is the signed-in user's, checked the way a log-in is.

    Going through authenticate() lets django-axes count a wrong password here like a
    failed log-in, so the prompts on deletion and password change share the lockout.
    """
    checked = authenticate(request, username=user.get_username(), password=password)
    return checked is not None and checked.pk == user.pk


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request: HttpRequest, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not password_confirms(self.request, self.request.user, password):
            raise forms.ValidationError("That password is not right. Nothing was deleted.")
        return password


class GuardedPasswordChangeForm(PasswordChangeForm):
    """Django's password change, with the old password counted towards the lockout."""

    def __init__(self, user, *args, request: HttpRequest, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if not password_confirms(self.request, self.user, old_password):
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class EmailForm(forms.Form):
    email = forms.EmailField(label="Email", required=False, help_text=EMAIL_HELP)


class VerifiedPasswordResetForm(PasswordResetForm):
    """Reset links go only to an address its owner has verified."""

    def get_users(self, email):
        for user in super().get_users(email):
            profile = getattr(user, "profile", None)
            if profile is not None and profile.email_verified:
                yield user
