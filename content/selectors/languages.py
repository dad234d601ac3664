"""Reads for content in several languages (issue 23): which languages an item lacks for the
members who read it, and which words (the item's own or a variant's) a reader is shown.

Fixed query counts: the library list adds two queries whatever its size (the members'
languages, the page's variants); the feed adds one (the page's variants in the reader's
language) and none when every card is already in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings

from accounts.models import Membership, Network, Organization
from advocacy.languages import language_for
from content.models import ContentItem, ContentVariant

ORDER = [code for code, _name in settings.LANGUAGES]


def own_language(item, organization: Organization) -> str:
    """The language an item's own words are in ("" on the row: the organization's default)."""
    return getattr(item, "language", "") or language_for(organization=organization)


def reader_languages(organization: Organization) -> list[str]:
    """The languages the organization's active members read, each member's own or else the
    organization's default, in the shipped order (1 query)."""
    chosen = set(
        Membership.objects.for_org(organization)
        .filter(is_active=True)
        .values_list("user__language", flat=True)
        .distinct()
        .order_by()
    )
    default = language_for(organization=organization)
    codes = {code or default for code in chosen} or {default}
    return [code for code in ORDER if code in codes]


def with_missing_languages(organization: Organization, items: Iterable[ContentItem]) -> list[ContentItem]:
    """The items, each with `own_language`, `variant_languages` (shipped order) and
    `missing_languages`: the languages members read that the item has neither as its own
    nor as a variant (2 queries for any number of items)."""
    items = list(items)
    if not items:
        return items
    readers = reader_languages(organization)
    variants: dict[int, set[str]] = {}
    rows = ContentVariant.objects.for_org(organization).filter(item_id__in=[i.pk for i in items])
    for item_id, code in rows.values_list("item_id", "language"):
        variants.setdefault(item_id, set()).add(code)
    for item in items:
        has = variants.get(item.pk, set())
        item.own_language = own_language(item, organization)
        item.variant_languages = [code for code in ORDER if code in has]
        item.missing_languages = [code for code in readers if code != item.own_language and code not in has]
    return items


def variants_of(item: ContentItem) -> list[ContentVariant]:
    """The item's variants in the shipped order (1 query)."""
    found = {v.language: v for v in ContentVariant.objects.for_org(item.organization_id).filter(item=item)}
    return [found[code] for code in ORDER if code in found]


def variant_in(item: ContentItem, language: str) -> ContentVariant | None:
    """The item's variant in `language`, or None (1 query)."""
    return ContentVariant.objects.for_org(item.organization_id).filter(item=item, language=language).first()


@dataclass
class VariantSuggestion:
    """A variant's suggested commentary as the feed and the composer use a Suggestion: `pk` is
    the item's own suggestion it translates (same place in the list), "" when there is none,
    so a share started from it counts for that suggestion in analytics."""

    pk: int | str
    text: str
    network: str

    def get_network_display(self) -> str:
        return Network(self.network).label if self.network in Network.values else self.network


def variant_suggestions(variant: ContentVariant, own: list) -> list[VariantSuggestion]:
    """The variant's suggestions, each tied to the item's own suggestion at its place."""
    return [
        VariantSuggestion(
            pk=own[index].pk if index < len(own) else "", text=row.get("text", ""), network=row.get("network", "")
        )
        for index, row in enumerate(variant.suggestions or [])
        if row.get("text")
    ]


@dataclass(frozen=True)
class LanguageNote:
    """Why a reader sees the item's own words: it is not in their language yet."""

    wanted: str  # the reader's language
    shown: str  # the language of the words shown


def in_reader_language(organization: Organization, item, language: str, variant: ContentVariant | None, own: list):
    """Put the item's words for a reader of `language` on `item` (a feed card or a
    ContentItem): the variant's title, summary and suggestions when it has one; else its
    own, with `language_note` saying so. Sets `language` (the words' language) and
    `suggestions_shown` (what to start from). Returns `item`."""
    mine = own_language(item, organization)
    item.language_note = None
    item.shown_language = mine
    item.suggestions_shown = own
    if language == mine:
        return item
    if variant is None:
        item.language_note = LanguageNote(wanted=language, shown=mine)
        return item
    item.shown_language = language
    item.title = variant.title
    item.description = variant.description or item.description
    item.suggestions_shown = variant_suggestions(variant, own) or own
    return item


def for_reader(organization: Organization, item: ContentItem, language: str) -> ContentItem:
    """One item (the composer's) in the reader's language: `in_reader_language` with its
    variant, read only when the item is in another language (1 query then)."""
    own = list(item.suggestions.all())
    variant = variant_in(item, language) if own_language(item, organization) != language else None
    return in_reader_language(organization, item, language, variant, own)


def _variants_in(organization: Organization, items: list, language: str) -> dict[int, ContentVariant]:
    """item id -> its variant in `language`, for the items in another language: one query,
    none when every item is in that language already."""
    other = [item.pk for item in items if own_language(item, organization) != language]
    if not other:
        return {}
    variants = ContentVariant.objects.for_org(organization).filter(item_id__in=other, language=language)
    return {v.item_id: v for v in variants}


def serve_items(organization: Organization, items: list, language: str) -> list:
    """Items (a digest's) with their title and summary in the reader's language where a
    variant has them, else their own (`in_reader_language`, no suggestions): one query."""
    found = _variants_in(organization, items, language)
    for item in items:
        in_reader_language(organization, item, language, found.get(item.pk), [])
    return items


def serve_feed_cards(organization: Organization, cards: list, language: str) -> list:
    """The feed's cards in the reader's language (`in_reader_language` on each): one query
    for the page's variants, none when every card is in that language already."""
    found = _variants_in(organization, cards, language)
    for card in cards:
        in_reader_language(organization, card, language, found.get(card.pk), list(card.suggestions))
        card.suggestions = card.suggestions_shown
    return cards


def offered_suggestions(organization: Organization, item: ContentItem, language: str, own: list) -> list:
    """What counts as the marketer's words for a share written in `language`: the item's own
    suggestions in its own language, the variant's in another (1 query then)."""
    if not language or language == own_language(item, organization):
        return own
    variant = variant_in(item, language)
    return variant_suggestions(variant, own) if variant is not None else own
