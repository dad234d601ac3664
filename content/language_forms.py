"""Forms of an item's languages (issue 23): the variant editor and the item's own language.
They check shape; the rules live in content.services.library.variants."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import Network

MAX_TITLE = 300


class ItemLanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Written in"), choices=settings.LANGUAGES)


class VariantForm(forms.Form):
    """A variant's title, summary and one text per suggestion of the item (the words that
    suggestion has in this language), plus one more for every network."""

    language = forms.ChoiceField(choices=settings.LANGUAGES, widget=forms.HiddenInput)
    title = forms.CharField(label=_("Title"), max_length=MAX_TITLE)
    description = forms.CharField(label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, own_suggestions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for index, suggestion in enumerate(own_suggestions):
            network = Network(suggestion.network).label if suggestion.network else _("every network")
            self._add_row(
                index,
                suggestion.network,
                _("Suggestion %(number)s (%(network)s)") % {"number": index + 1, "network": network},
                _("In the item's own words: “%(text)s”") % {"text": suggestion.text},
            )
        extra = len(self.rows)
        self._add_row(
            extra,
            "",
            _("Another suggestion (every network)"),
            _("Optional: a suggestion written only for this language."),
        )

    def _add_row(self, index: int, network: str, label: str, help_text: str) -> None:
        name = f"suggestion_{index}"
        self.fields[name] = forms.CharField(
            label=label, help_text=help_text, required=False, widget=forms.Textarea(attrs={"rows": 3})
        )
        self.rows.append((name, network))

    def suggestions(self) -> list[dict]:
        """The texts typed, each with its network (the item's suggestion's at the same place)."""
        return [
            {"text": self.cleaned_data.get(name) or "", "network": network}
            for name, network in self.rows
            if (self.cleaned_data.get(name) or "").strip()
        ]
