"""Forms validate shape; business rules live in services and come back as domain errors."""

import zoneinfo

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Notification, NotificationPreference, Role, Team
from accounts.services import guidelines as guideline_services
from accounts.services.push import PUSH_KINDS
from accounts.signup import SignupZoneForm
from advocacy.timezones import zone_names

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())]


class TeamChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Team) -> str:
        return f"{obj.name} ({obj.get_kind_display().lower()})"


def team_field(organization, **kwargs) -> TeamChoiceField:
    return TeamChoiceField(
        queryset=Team.objects.for_org(organization),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        **kwargs,
    )


class RolesField(forms.MultipleChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            choices=Role.choices,
            widget=forms.CheckboxSelectMultiple,
            error_messages={"required": _("Choose at least one role.")},
            **kwargs,
        )


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    roles = RolesField(initial=[Role.EMPLOYEE.value])

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teams"] = team_field(organization)


class InvitationCsvForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("Columns: email (required), roles and teams (optional, separated by ';')."),
    )

    MAX_BYTES = 2 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB; split it."))
        return upload


class MembershipForm(forms.Form):
    roles = RolesField()

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["teams"] = team_field(organization)


class TeamForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=Team.Kind.choices)


class OrganizationSettingsForm(forms.Form):
    name = forms.CharField(max_length=120)
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES, label=_("Time zone"))
    default_language = forms.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,  # not sent (a script, an older page): the language stays as it is
        label=_("Language"),
        help_text=_("For members who have not chosen their own, and for invitations."),
    )
    self_signup_domains = forms.CharField(
        required=False,
        label=_("Self sign-up domains"),
        help_text=_(
            "People with a verified address at these domains join as employees by "
            "themselves. One per line, like example.com. Leave empty to allow invitations only."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    daily_share_cap = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100,
        label=_("Shares per employee per day"),
        help_text=_("Leave empty for no cap."),
    )
    posting_hours_start = forms.TimeField(
        required=False,
        label=_("Posts go out from"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("In the organization's time zone. Leave both times empty to allow any time."),
    )
    posting_hours_end = forms.TimeField(
        required=False,
        label=_("Posts go out until"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )

    def clean_self_signup_domains(self):
        raw = self.cleaned_data["self_signup_domains"]
        return [d for d in raw.replace(",", "\n").split() if d.strip()]


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(max_length=120, label=_("Organization name"))
    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES, initial="UTC", label=_("Time zone"))


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text=_("What will use it, e.g. 'HR sync script'."))


class AcceptInvitationForm(SignupZoneForm):
    name = forms.CharField(max_length=150, label=_("Your name"))
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(
        label=_("Password (again)"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


def _app_id_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(required=False, max_length=255, label=label, help_text=help_text)


def _stored_secret_field(label: str) -> forms.CharField:
    """A secret the page never shows back: empty keeps the one stored."""
    return forms.CharField(
        required=False,
        label=label,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted and never shown again; leave empty to keep the current one."),
    )


class NetworkAppForm(forms.Form):
    is_enabled = forms.BooleanField(required=False, label=_("Employees may connect this network"))
    client_id = _app_id_field(_("Client id (app id)"), _("Leave empty to use this deployment's app."))
    client_secret = _stored_secret_field(_("Client secret"))


class XNetworkAppForm(NetworkAppForm):
    """X also has the app's API Key and Secret: the app-only token reads every account's
    public metrics 100 posts a call."""

    api_key = _app_id_field(
        _("API Key (consumer key)"),
        _("Of the same X app, for reading post metrics; leave empty to read them with each author's token."),
    )
    api_secret = _stored_secret_field(_("API Key Secret"))


# --- guidelines, training and notification preferences ---------------------------------


class GuidelineForm(forms.Form):
    title = forms.CharField(max_length=guideline_services.TITLE_MAX)
    body = forms.CharField(
        label=_("Guidelines"),
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_(
            "Plain text; a blank line starts a new paragraph. Every member will be asked to accept the new version."
        ),
    )


class TrainingItemForm(forms.Form):
    title = forms.CharField(max_length=guideline_services.TITLE_MAX)
    body = forms.CharField(label=_("Lesson"), widget=forms.Textarea(attrs={"rows": 8}))
    position = forms.IntegerField(
        min_value=0,
        max_value=guideline_services.POSITION_MAX,
        required=False,
        help_text=_("Lessons are shown in increasing order. Empty: after the others."),
    )
    is_published = forms.BooleanField(label=_("Shown to members"), required=False, initial=True)


def _pref_field(kind: str, what: str) -> str:
    return f"{kind}__{what}"


class NotificationPreferencesForm(forms.Form):
    """One row per kind: in-app and e-mail switches; the digest has a frequency instead."""

    def __init__(self, *args, preferences: dict[str, NotificationPreference], **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for kind, preference in preferences.items():
            label = Notification.Kind(kind).label
            if kind == Notification.Kind.CONTENT_DIGEST:
                name = _pref_field(kind, "digest")
                self.fields[name] = forms.ChoiceField(
                    label=label, choices=NotificationPreference.Digest.choices, initial=preference.digest
                )
                self.rows.append({"kind": kind, "label": label, "is_digest": True, "digest": self[name]})
            else:
                for what in ("in_app", "email"):
                    self.fields[_pref_field(kind, what)] = forms.BooleanField(
                        label=(_("%(kind)s: in the app") if what == "in_app" else _("%(kind)s: by e-mail"))
                        % {"kind": label},
                        required=False,
                        initial=getattr(preference, what),
                    )
                self.rows.append(
                    {
                        "kind": kind,
                        "label": label,
                        "in_app": self[_pref_field(kind, "in_app")],
                        "email": self[_pref_field(kind, "email")],
                    }
                )
            if kind in PUSH_KINDS:  # the push channel (issue 22): opt-in, per kind
                name = _pref_field(kind, "push")
                self.fields[name] = forms.BooleanField(
                    label=_("%(kind)s: push to my devices") % {"kind": PUSH_KINDS[kind]},
                    required=False,
                    initial=preference.push,
                )
                self.rows[-1]["push"] = self[name]

    def preferences(self) -> dict[str, dict]:
        chosen: dict[str, dict] = {}
        for name, value in self.cleaned_data.items():
            kind, what = name.split("__", 1)
            chosen.setdefault(kind, {})[what] = value
        return chosen


# --- the member's side ----------------------------------------------------------------------


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=150, required=False, label=_("Your name"))
    language = forms.ChoiceField(
        choices=[("", _("Your organization's language")), *list(settings.LANGUAGES)],
        required=False,
        label=_("Language"),
        help_text=_("Pages and the e-mails we send you are in this language."),
    )
    timezone = forms.CharField(
        max_length=64,
        required=False,
        label=_("Time zone"),
        # A text field tied to a <datalist> of every zone: the browser filters it as one types.
        widget=forms.TextInput(attrs={"list": "zone-names", "autocomplete": "off", "spellcheck": "false"}),
    )
    review_shortcuts = forms.BooleanField(
        required=False,
        label=_("Single-key shortcuts in the review queue"),
        help_text=_(
            "a approves, s sends back, r rejects, j / k move. Turn them off if you use speech input or "
            "keys get pressed by accident; the buttons do the same."
        ),
    )

    def clean_timezone(self) -> str:
        """Accept "europe/paris" for Europe/Paris; an unknown name is an error in plain words."""
        value = self.cleaned_data["timezone"].strip()
        if not value:
            return ""
        by_lower = {name.lower(): name for name in zone_names()}
        if value.lower() not in by_lower:
            raise forms.ValidationError(
                _(
                    "“%(value)s” is not a time zone we know. Type part of a city's name (for example Paris) and "
                    "pick a zone from the list, such as Europe/Paris; or leave it empty to follow your organization."
                )
                % {"value": value}
            )
        return by_lower[value.lower()]
