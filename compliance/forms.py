"""Forms of the policy editor: they check shape; the rules live in compliance.services.policy."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from compliance.engine import MAX_DISTANCE
from compliance.models import Action, ArchiveDestination, LexiconTerm, Policy, SupervisionAssignment


class PolicySettingsForm(forms.Form):
    review_mode = forms.ChoiceField(
        label=_("Who needs review by default"),
        choices=Policy.ReviewMode.choices,
        help_text=_(
            "“Only shares with findings”: a review or block finding sends a share to the queue; warnings "
            "are shown to the author only. “No review”: only blocking findings stop a share."
        ),
    )
    auto_approve_suggestions = forms.BooleanField(
        label=_("Unchanged pre-approved suggestions with no findings skip the queue"), required=False
    )
    four_eyes = forms.BooleanField(label=_("Four eyes: nobody reviews their own share"), required=False)
    review_sla_hours = forms.IntegerField(label=_("Review deadline (hours)"), min_value=1, max_value=720)
    disclosure = forms.CharField(
        label=_("Disclosure"), max_length=100, required=False, help_text=_("For example #AcmeEmployee or #ad.")
    )
    disclosure_mode = forms.ChoiceField(
        label=_("What happens with the disclosure"),
        choices=Policy.DisclosureMode.choices,
        help_text=_("Appended after the author's words (the tracked link stays last) when it fits the network."),
    )
    restrict_link_domains = forms.BooleanField(
        label=_("Links to sites outside the allowed list are findings"), required=False
    )
    link_domain_action = forms.ChoiceField(label=_("A link to another site"), choices=Action.choices)


class TermForm(forms.Form):
    term = forms.CharField(
        label=_("Word or phrase"),
        max_length=200,
        help_text=_("Plain words, no regular expressions. “risk free” also matches risk-free, risk—free and riskfree."),
    )
    action = forms.ChoiceField(label=_("Action"), choices=Action.choices, initial=Action.REVIEW)
    match = forms.ChoiceField(
        label=_("Matches"),
        choices=LexiconTerm.Match.choices,
        initial=LexiconTerm.Match.INFLECTIONS,
        required=False,
        help_text=_("With wildcards, a * at the start or end of a word stands for any letters."),
    )
    language = forms.ChoiceField(
        label=_("Language"), choices=LexiconTerm.Language.choices, initial="en", required=False
    )
    applies_to = forms.ChoiceField(
        label=_("Screens posts written in"),
        choices=[("", _("Every language")), *settings.LANGUAGES],
        initial="",
        required=False,
        help_text=_("A term for one language is not looked for in posts written in another."),
    )
    near = forms.CharField(
        label=_("Only within a few words of"),
        max_length=200,
        required=False,
        help_text=_("For example “return”: then “guarantee” counts only close to it. Empty: anywhere."),
    )
    near_distance = forms.IntegerField(
        label=_("Words apart, at most"), min_value=1, max_value=MAX_DISTANCE, initial=5, required=False
    )
    exceptions = forms.CharField(
        label=_("Allowed phrases"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line, for example “not guaranteed”: where one of them contains the term, it is allowed."),
    )
    note = forms.CharField(
        label=_("Note"), max_length=300, required=False, help_text=_("Shown to the employee: why it matters.")
    )

    def clean_near_distance(self) -> int:
        value = self.cleaned_data["near_distance"]
        return 5 if value is None else value

    def clean_exceptions(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["exceptions"].splitlines() if line.strip()]


class TermEditForm(TermForm):
    """The same fields but the words, which identify the term."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["term"]


class ScreenTestForm(forms.Form):
    text = forms.CharField(
        label=_("Test a text"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Paste a post: see what the policy would flag, and why. Nothing is saved."),
    )


class TermImportForm(forms.Form):
    text = forms.CharField(
        label=_("Terms"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "One per line, or CSV lines “term,action,note” (action: block, review or warn). "
            "All or nothing: one bad line and nothing is added."
        ),
    )
    default_action = forms.ChoiceField(
        label=_("Action for lines without one"), choices=Action.choices, initial=Action.REVIEW
    )


class PatternForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    pattern = forms.CharField(
        label=_("Pattern"),
        max_length=500,
        help_text=_(
            "A regular expression (RE2 syntax), matched case-insensitively on the normalised text. "
            "Back-references and look-around are refused: they can run away."
        ),
    )
    action = forms.ChoiceField(label=_("Action"), choices=Action.choices, initial=Action.REVIEW)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class DomainForm(forms.Form):
    domain = forms.CharField(label=_("Allowed domain"), max_length=253, help_text=_("Subdomains are allowed too."))


class ReviewRuleForm(forms.Form):
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, empty_value=None)
    role = forms.ChoiceField(label=_("or role"), required=False)
    review_mode = forms.ChoiceField(label=_("Review"), choices=Policy.ReviewMode.choices)

    prefix = "rule"  # the settings form on the same page has a review_mode too

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", "—")] + [(t.pk, t.name) for t in teams]
        self.fields["role"].choices = [("", "—"), *Role.choices]


class SupervisionForm(forms.Form):
    reviewer = forms.TypedChoiceField(label=_("Supervisor"), coerce=int, empty_value=None)
    scope = forms.ChoiceField(
        label=_("Supervises"),
        choices=SupervisionAssignment.Scope.choices,
        help_text=_("The fallback pool takes the posts nobody else supervises, and reviews past their deadline."),
    )
    team = forms.TypedChoiceField(label=_("Team or location"), coerce=int, required=False, empty_value=None)
    role = forms.ChoiceField(label=_("Role"), required=False)

    def __init__(self, *args, officers=(), teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].choices = [("", "—")] + [
            (m.user_id, m.user.get_full_name() or m.user.email) for m in officers
        ]
        self.fields["team"].choices = [("", "—")] + [
            (t.pk, f"{t.name} ({t.get_kind_display().lower()})") for t in teams
        ]
        self.fields["role"].choices = [("", "—"), *Role.choices]


class LegalHoldForm(forms.Form):
    """Place a legal hold. The person and team choices are the organization's (given by the view)."""

    name = forms.CharField(label=_("Matter"), max_length=200, help_text=_("The matter's name or reference."))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    membership = forms.TypedChoiceField(label=_("Person"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    date_from = forms.DateField(
        label=_("First day"), required=False, widget=forms.DateInput(attrs={"type": "date"}), help_text=_("Optional.")
    )
    date_to = forms.DateField(
        label=_("Last day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional. Days are in the organization's time zone."),
    )

    def __init__(self, *args, memberships=(), teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        removed = " " + gettext("(removed)")
        self.fields["membership"].choices = [("", gettext("Anyone"))] + [
            (m.pk, f"{m.user.get_full_name()} ({m.user.email}){'' if m.is_active else removed}") for m in memberships
        ]
        self.fields["team"].choices = [("", gettext("Any team"))] + [
            (t.pk, f"{t.name} ({t.get_kind_display()})") for t in teams
        ]


class LegalHoldChangeForm(forms.Form):
    name = forms.CharField(label=_("Matter"), max_length=200)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)


class LegalHoldReleaseForm(forms.Form):
    release_reason = forms.CharField(
        label=_("Why release it"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class SecretTextarea(forms.Textarea):
    """A textarea that never renders a value (a private key is not shown back, not even
    the one just typed into a form that had an error)."""

    def format_value(self, value):
        return None


class ArchiveDestinationForm(forms.Form):
    """An archive feed destination. Secrets are never rendered back: left empty, the stored one is kept."""

    GROUPS = (
        ("Destination", ("name", "kind", "enabled")),
        (
            "SFTP server",
            ("host", "port", "username", "password", "private_key", "host_key_fingerprint", "remote_directory"),
        ),
        ("S3-compatible bucket", ("endpoint_url", "region", "bucket", "prefix", "access_key_id", "secret_access_key")),
    )

    def groups(self):
        """(legend, bound fields) per fieldset, for the template."""
        return [(legend, [self[name] for name in names]) for legend, names in self.GROUPS]

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("For example “Smarsh SFTP”."))
    kind = forms.ChoiceField(label=_("Kind"), choices=ArchiveDestination.Kind.choices)
    enabled = forms.BooleanField(label=_("Deliver every day"), required=False, initial=True)
    host = forms.CharField(label=_("SFTP server"), max_length=255, required=False)
    port = forms.IntegerField(label=_("Port"), min_value=1, max_value=65535, required=False, initial=22)
    username = forms.CharField(label=_("User name"), max_length=255, required=False)
    password = forms.CharField(
        label=_("Password"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Or a private key below. Left empty: the stored one is kept."),
    )
    private_key = forms.CharField(
        label=_("Private key"),
        required=False,
        widget=SecretTextarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("OpenSSH or PEM, without passphrase. Left empty: the stored one is kept."),
    )
    host_key_fingerprint = forms.CharField(
        label=_("Host key fingerprint"),
        max_length=100,
        required=False,
        help_text=_(
            "Required for SFTP: the server's SHA256:… fingerprint from your provider "
            "(ssh-keyscan HOST | ssh-keygen -lf -). A server presenting another key is refused."
        ),
    )
    remote_directory = forms.CharField(label=_("Remote folder"), max_length=500, required=False)
    endpoint_url = forms.CharField(
        label=_("Endpoint URL"),
        max_length=500,
        required=False,
        help_text=_("Empty for AWS S3; e.g. https://s3.example.com."),
    )
    region = forms.CharField(label=_("Region"), max_length=50, required=False)
    bucket = forms.CharField(label=_("Bucket"), max_length=255, required=False)
    prefix = forms.CharField(
        label=_("Prefix"), max_length=500, required=False, help_text=_("A folder inside the bucket.")
    )
    access_key_id = forms.CharField(label=_("Access key"), max_length=255, required=False)
    secret_access_key = forms.CharField(
        label=_("Secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Left empty: the stored one is kept."),
    )
