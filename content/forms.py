"""Forms for the library and for sharing: shape only; the rules are in content.services."""

import secrets
import zoneinfo
from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from accounts.forms import team_field
from accounts.models import Network, Team
from advocacy.languages import later
from content.services import library as library_services
from content.services import sharing as sharing_services

DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


class ItemForm(forms.Form):
    url = forms.URLField(label=_("Link"), max_length=2000, assume_scheme="https")
    title = forms.CharField(
        max_length=300, required=False, help_text=_("Leave empty to use the page's own title when it is fetched.")
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    image = forms.FileField(
        required=False, help_text=_("JPEG, PNG, GIF or WebP, up to 5 MB. Without one, the page's own image is used.")
    )
    remove_image = forms.BooleanField(required=False, label=_("Remove the uploaded image"))
    image_alt_text = forms.CharField(
        label=_("Describe the picture (alt text)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Read aloud to people who cannot see the picture, and posted with it on LinkedIn, X and "
            "Facebook. A picture without it is not posted (shares then carry the link card only)."
        ),
    )
    topics = forms.CharField(
        required=False, max_length=1000, help_text=_("Separate topics with commas; new ones are created.")
    )
    starts_at = forms.DateTimeField(
        required=False, label=_("Offer from"), widget=DATETIME_INPUT, input_formats=DATETIME_FORMATS
    )
    expires_at = forms.DateTimeField(
        required=False, label=_("Offer until"), widget=DATETIME_INPUT, input_formats=DATETIME_FORMATS
    )
    featured = forms.BooleanField(required=False, label=_("Feature it at the top of the feed"))

    def __init__(self, *args, organization, zone: str, has_image: bool = False, title_help: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if title_help:
            self.fields["title"].help_text = title_help
        self.fields["target_teams"] = team_field(
            organization,
            label=_("Only for these teams"),
            help_text=_("Leave every box empty to offer it to everyone in the organization."),
        )
        self.fields["starts_at"].help_text = _("Empty = as soon as it is published. Times are in %(zone)s.") % {
            "zone": zone
        }
        self.fields["expires_at"].help_text = _("Empty = no end. Times are in %(zone)s.") % {"zone": zone}
        if not has_image:
            del self.fields["remove_image"]

    def topic_names(self) -> list[str]:
        return [name.strip() for name in self.cleaned_data["topics"].split(",") if name.strip()]


class SuggestionForm(forms.Form):
    text = forms.CharField(
        label=_("Suggested commentary"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=3000
    )
    network = forms.ChoiceField(label=_("For"), required=False, choices=[("", _("Every network")), *Network.choices])


class BaseSuggestionFormSet(forms.BaseFormSet):
    """The item's suggestion rows: one empty row to type in, more added in place (the
    editor's "Add a suggestion"), up to MAX_SUGGESTIONS rows kept. A removed row is posted
    with its DELETE box ticked and does not count."""

    deletion_widget = forms.CheckboxInput
    default_error_messages = {
        "too_many_forms": later(
            gettext_noop("At most %(count)s suggestions per item: remove one before adding another."),
            count=library_services.MAX_SUGGESTIONS,
        ),
    }

    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].label = _("Remove this suggestion")

    def row_form(self, index: int) -> forms.Form:
        """An empty row numbered `index`, as the formset would build it (added in place)."""
        return self._construct_form(index)

    def kept_rows(self) -> list[dict]:
        """The rows to save, in order (after is_valid): not removed, not empty."""
        return [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data["text"].strip()
        ]


SuggestionFormSet = forms.formset_factory(
    SuggestionForm,
    formset=BaseSuggestionFormSet,
    extra=1,
    max_num=library_services.MAX_SUGGESTIONS,
    validate_max=True,
    # Rows removed in place still travel with the form (ticked): room for them beyond the cap.
    absolute_max=2 * library_services.MAX_SUGGESTIONS,
    can_delete=True,
)


class FeedForm(forms.Form):
    url = forms.URLField(label=_("Feed address (RSS or Atom)"), max_length=2000, assume_scheme="https")


class ProposalForm(forms.Form):
    url = forms.URLField(label=_("Link worth sharing"), max_length=2000, assume_scheme="https")
    reason = forms.CharField(
        label=_("Why is it worth sharing?"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


def add_network_text_fields(form: forms.Form, networks=None) -> None:
    """One optional field per network, `text_<network>`: the words adapted for it (empty:
    the common words go there)."""
    for network in Network:
        if networks is None or network.value in networks:
            form.fields[f"text_{network.value}"] = forms.CharField(
                label=_("Words for %(network)s") % {"network": network.label},
                required=False,
                max_length=70000,
                widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("Empty: the words above")}),
            )


def network_texts_of(form: forms.Form) -> dict[str, str]:
    return {
        name.removeprefix("text_"): form.cleaned_data.get(name) or ""
        for name in form.fields
        if name.startswith("text_") and form.cleaned_data.get(name)
    }


class ShareForm(forms.Form):
    commentary = forms.CharField(
        label=_("Your words"),
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": _("Write a few words to go with the link.")},
    )
    targets = forms.MultipleChoiceField(
        label=_("Share to"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one account to share to.")},
    )
    when = forms.ChoiceField(
        choices=[("now", _("As soon as it is approved")), ("later", _("At a time I choose"))],
        initial="now",
        widget=forms.RadioSelect,
        label=_("When"),
    )
    scheduled_for = forms.DateTimeField(
        required=False, label=_("Date and time"), widget=DATETIME_INPUT, input_formats=DATETIME_FORMATS
    )
    image = forms.FileField(
        required=False,
        label=_("Your own picture (optional)"),
        help_text=_(
            "JPEG, PNG, GIF or WebP, up to 5 MB. Posted instead of the item's picture. "
            "A reviewer looks at it before it goes out, unless your organization reviews no shares."
        ),
    )
    image_alt_text = forms.CharField(
        required=False,
        max_length=1000,
        label=_("Describe your picture (alt text)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Read aloud to people who cannot see it; posted with it. Required with a picture."),
    )
    suggestion = forms.IntegerField(required=False, widget=forms.HiddenInput)
    # One token per rendered composer: Back + Submit or a double click sends it again, and the
    # service answers with the share the first submit made.
    submit_token = forms.CharField(required=False, max_length=100, widget=forms.HiddenInput)
    confirm_repeat = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, targets=(), zone: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("submit_token", secrets.token_urlsafe(24))
        self.zone = zoneinfo.ZoneInfo(zone)
        self.fields["targets"].choices = [(t.key, t.label) for t in targets if not t.disabled_reason]
        self.fields["scheduled_for"].help_text = _("Your time zone: %(zone)s.") % {"zone": zone}
        add_network_text_fields(self)

    def network_texts(self) -> dict[str, str]:
        return network_texts_of(self)

    def clean(self):
        data = super().clean()
        when = data.get("scheduled_for")
        if data.get("when") == "later":
            if when is None:
                self.add_error("scheduled_for", _("Choose the date and time to share."))
            else:
                # The picker gives a wall-clock time in the employee's zone: store it in UTC.
                naive = when.replace(tzinfo=None) if isinstance(when, datetime) else when
                data["scheduled_for"] = naive.replace(tzinfo=self.zone)
        else:
            data["scheduled_for"] = None
        if data.get("image") and not (data.get("image_alt_text") or "").strip():
            self.add_error("image_alt_text", sharing_services.ALT_TEXT_REQUIRED)
        return data


class EditShareForm(forms.Form):
    commentary = forms.CharField(label=_("Your words"), widget=forms.Textarea(attrs={"rows": 6}))

    def __init__(self, *args, networks=(), **kwargs):
        super().__init__(*args, **kwargs)
        add_network_text_fields(self, networks)

    def network_texts(self) -> dict[str, str]:
        return network_texts_of(self)


class AttachPostForm(forms.Form):
    url = forms.URLField(label=_("The post's link"), max_length=2000, assume_scheme="https")


class TeamsChannelForm(forms.Form):
    """A Teams channel by its workflow webhook (issue 22); the URL's rules are in content.services.teams."""

    name = forms.CharField(
        label=_("Channel"), max_length=120, help_text=_("As it is called in Teams, e.g. Sales › General.")
    )
    webhook_url = forms.CharField(
        label=_("Workflow webhook URL"),
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "In the Teams channel: Workflows › “Post to a channel when a webhook request is received”, "
            "then copy the URL it shows."
        ),
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"] = forms.ModelChoiceField(
            queryset=Team.objects.for_org(organization),
            required=False,
            label=_("Only content for this team"),
            empty_label=_("Content offered to everyone"),
        )
