"""Forms for sharing: shape only; the rules are in content.services.sharing."""

import zoneinfo
from datetime import datetime

from django import forms


class ShareForm(forms.Form):
    commentary = forms.CharField(
        label="Your words",
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "Write a few words to go with the link."},
    )
    targets = forms.MultipleChoiceField(
        label="Share to",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one account to share to."},
    )
    when = forms.ChoiceField(
        choices=[("now", "As soon as it is approved"), ("later", "At a time I choose")],
        initial="now",
        widget=forms.RadioSelect,
        label="When",
    )
    scheduled_for = forms.DateTimeField(
        required=False,
        label="Date and time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    suggestion = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, targets=(), zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zoneinfo.ZoneInfo(zone)
        self.fields["targets"].choices = [(t.key, t.label) for t in targets if not t.disabled_reason]
        self.fields["scheduled_for"].help_text = f"Your time zone: {zone}."

    def clean(self):
        data = super().clean()
        when = data.get("scheduled_for")
        if data.get("when") == "later":
            if when is None:
                self.add_error("scheduled_for", "Choose the date and time to share.")
            else:
                # The picker gives a wall-clock time in the employee's zone: store it in UTC.
                naive = when.replace(tzinfo=None) if isinstance(when, datetime) else when
                data["scheduled_for"] = naive.replace(tzinfo=self.zone)
        else:
            data["scheduled_for"] = None
        return data


class EditShareForm(forms.Form):
    commentary = forms.CharField(label="Your words", widget=forms.Textarea(attrs={"rows": 6}))
