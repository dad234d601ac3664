"""An item in several languages (issue 23): the language its own words are in, and its
variants in the organization's other shipped languages (title, summary and suggested
commentaries in that language), which the feed and the composer show to the members who
read it (`content.selectors.languages`).

One function per action, marketer permission, one transaction, audited like the item's
other changes (target: the item). Refusals are ValidationFailed with the field.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.permissions import require
from advocacy.errors import ValidationFailed
from advocacy.languages import CODES
from content.models import ContentItem, ContentVariant
from content.services.library.common import MANAGE, _audit_item, _clean_title
from content.services.library.suggestions import SuggestionInput, _clean_suggestions


def item_language(item: ContentItem) -> str:
    """The language the item's own words are in ("" on the item: its organization's default)."""
    return item.language or item.organization.default_language


def language_name(code: str) -> str:
    """A shipped language's name in the reader's language ("Französisch" for "fr" in German)."""
    from django.utils.translation import get_language_info

    try:
        return get_language_info(code)["name_translated"]
    except KeyError:
        return code


def _clean_language(value: str, *, field: str = "language") -> str:
    code = (value or "").strip().lower()
    if code not in CODES:
        raise ValidationFailed(
            _("Choose one of the languages the product ships in."), fields={field: [_("Unknown language.")]}
        )
    return code


def _locked_item(actor: Membership, item: ContentItem) -> ContentItem:
    return (
        ContentItem.objects.for_org(actor.organization_id)
        .select_for_update()
        .select_related("organization")
        .get(pk=item.pk)
    )


def _variant_view(variant: ContentVariant | None) -> dict:
    if variant is None:
        return {}
    return {
        "language": variant.language,
        "title": variant.title,
        "description": variant.description,
        "suggestions": [f"{s.get('network') or 'all'}: {s.get('text', '')}" for s in variant.suggestions],
    }


@transaction.atomic
def set_variant(
    *,
    actor: Membership,
    item: ContentItem,
    language: str,
    title: str,
    description: str = "",
    suggestions: Iterable[SuggestionInput | dict | tuple | str] = (),
) -> ContentVariant:
    """Add the item's variant in `language`, or replace the one it has: its title (required),
    summary and suggested commentaries (checked as the item's are: at most 20, each at most
    3,000 characters, for every network or one). The item's own language has no variant.

    Raises ValidationFailed (field: language, title, suggestions). Audited as
    content_item.variant_added / content_item.variant_updated."""
    require(actor, MANAGE)
    item = _locked_item(actor, item)
    code = _clean_language(language)
    if code == item_language(item):
        raise ValidationFailed(
            _("This item is already written in %(language)s; a variant is for another language.")
            % {"language": language_name(code)},
            fields={"language": [_("The item's own language.")]},
        )
    title = _clean_title(title)
    if not title:
        raise ValidationFailed(
            _("Give the %(language)s title: it is what people who read %(language)s see in the feed.")
            % {"language": language_name(code)},
            fields={"title": [_("Required.")]},
        )
    cleaned = [{"text": s.text, "network": s.network} for s in _clean_suggestions(suggestions)]
    description = (description or "").strip()
    variant = ContentVariant.objects.for_org(item.organization_id).filter(item=item, language=code).first()
    before = _variant_view(variant)
    if variant is None:
        variant = ContentVariant(
            organization_id=item.organization_id, item=item, language=code, created_by_id=actor.user_id
        )
    variant.title, variant.description, variant.suggestions = title, description, cleaned
    variant.save()
    after = _variant_view(variant)
    if before != after:
        changed = [key for key in after if before.get(key) != after[key]]
        _audit_item(
            "content_item.variant_updated" if before else "content_item.variant_added",
            item,
            before={key: before[key] for key in changed if key in before} or None,
            after={"language": code, **{key: after[key] for key in changed}},
        )
    return variant


@transaction.atomic
def remove_variant(*, actor: Membership, variant: ContentVariant) -> str:
    """Delete one language variant of an item (shares already written in it keep their words);
    returns its language. Audited as content_item.variant_removed."""
    require(actor, MANAGE)
    variant = (
        ContentVariant.objects.for_org(actor.organization_id)
        .select_for_update()
        .select_related("item")
        .get(pk=variant.pk)
    )
    before = _variant_view(variant)
    item = variant.item
    variant.delete()
    _audit_item("content_item.variant_removed", item, before=before, after={"language": before["language"]})
    return before["language"]


@transaction.atomic
def set_item_language(*, actor: Membership, item: ContentItem, language: str) -> ContentItem:
    """Say which language the item's own title, summary and suggestions are written in.
    Refused while the item has a variant in that language (remove or keep one of the two).
    Audited as content_item.language_set."""
    require(actor, MANAGE)
    item = _locked_item(actor, item)
    code = _clean_language(language)
    before = item_language(item)
    if code == before and item.language:
        return item
    if ContentVariant.objects.for_org(item.organization_id).filter(item=item, language=code).exists():
        raise ValidationFailed(
            _(
                "This item has a %(language)s variant already: remove it before saying the item itself "
                "is in %(language)s."
            )
            % {"language": language_name(code)},
            fields={"language": [_("A variant has this language.")]},
        )
    item.language = code
    item.save(update_fields=["language", "updated_at"])
    _audit_item("content_item.language_set", item, before={"language": before}, after={"language": code})
    return item
