from django import forms

from reminders.models import ReminderSettings, days_to_mask, mask_to_days
from reminders.schedule import WEEKDAY_NAMES, ReminderRules, times_problems

WEEKDAY_CHOICES = [(str(i), name) for i, name in enumerate(WEEKDAY_NAMES)]


class ReminderSettingsForm(forms.ModelForm):
    days_off = forms.MultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Days off (no reminders)",
    )
    maintenance_days = forms.MultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Maintenance days (3 or 4)",
        help_text="Used only in the maintenance phase: one reminder at your morning time.",
    )

    class Meta:
        model = ReminderSettings
        fields = [
            "push_enabled",
            "morning",
            "midday",
            "evening",
            "quiet_start",
            "quiet_end",
            "days_off",
            "maintenance_days",
        ]
        labels = {
            "push_enabled": "Send reminders to my devices",
            "morning": "Morning reminder",
            "midday": "Midday reminder (acute flare only)",
            "evening": "Evening reminder",
            "quiet_start": "Quiet from",
            "quiet_end": "Quiet until",
        }
        widgets = {
            name: forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
            for name in ("morning", "midday", "evening", "quiet_start", "quiet_end")
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["days_off"] = [str(d) for d in mask_to_days(self.instance.days_off)]
            self.initial["maintenance_days"] = [
                str(d) for d in mask_to_days(self.instance.maintenance_days)
            ]
        for name in ("morning", "midday", "evening"):
            self.fields[name].required = True

    def clean(self):
        cleaned = super().clean()
        times = [cleaned.get(n) for n in ("morning", "midday", "evening")]
        quiet = (cleaned.get("quiet_start"), cleaned.get("quiet_end"))
        if (quiet[0] is None) != (quiet[1] is None) and not self.has_error("quiet_start"):
            raise forms.ValidationError("Give both ends of your quiet hours, or neither.")
        if None in times or "days_off" in self.errors or "maintenance_days" in self.errors:
            return cleaned
        rules = ReminderRules(
            morning=times[0],
            midday=times[1],
            evening=times[2],
            days_off=frozenset(int(d) for d in cleaned.get("days_off", [])),
            maintenance_days=frozenset(int(d) for d in cleaned.get("maintenance_days", [])),
            quiet_start=quiet[0],
            quiet_end=quiet[1],
        )
        problems = times_problems(rules)
        if problems:
            raise forms.ValidationError(problems)
        cleaned["days_off"] = days_to_mask(rules.days_off)
        cleaned["maintenance_days"] = days_to_mask(rules.maintenance_days)
        return cleaned

    def _post_clean(self):
        # The day fields arrive as lists; the model stores them as bit masks.
        for name in ("days_off", "maintenance_days"):
            value = self.cleaned_data.get(name)
            if isinstance(value, list):
                self.cleaned_data[name] = days_to_mask(int(d) for d in value)
        super()._post_clean()


class DeviceForm(forms.Form):
    device = forms.IntegerField(min_value=1)
