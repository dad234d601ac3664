"""The suggested commentaries of a library item: cleaning, syncing, and how each measures per network."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.models import Network
from advocacy.errors import ValidationFailed
from content.models import ContentItem, Suggestion
from content.services import sharing

MAX_SUGGESTIONS = 20
MAX_SUGGESTION_LENGTH = 3000


@dataclass(frozen=True)
class SuggestionInput:
    """One suggested commentary; `network` empty means every network."""

    text: str
    network: str = ""


@dataclass(frozen=True)
class SuggestionCheck:
    """How a suggestion shared unchanged measures on one network, and what the post shows."""

    network: str
    label: str
    length: int
    limit: int
    fits: bool
    remaining: int
    preview: str

    @property
    def over(self) -> int:
        """How many characters too many (0 when it fits)."""
        return max(0, -self.remaining)


def suggestion_checks(
    text: str, network: str = "", *, disclose: Callable[[str, str], str] | None = None
) -> list[SuggestionCheck]:
    """The count and preview, per network the suggestion is for (all three for "every
    network"), of the post an employee makes by sharing it unchanged: built by
    `sharing.final_text`, with the policy's disclosure as screening appends it (`disclose`,
    from `hooks.disclosure_for`, read once per page), and measured by `networks.text.measure`
    through `sharing.text_checks`, as the composer and the publisher do; the tracked link
    counts at a real one's length. Pure: no query, so many suggestions cost nothing more."""
    disclose = disclose or (lambda _network, posted: posted)
    networks = [network] if network in Network.values else list(Network.values)
    posted = {net: disclose(net, sharing.final_text(net, text, sharing.sample_link())) for net in networks}
    counts = sharing.text_checks(posted)
    return [
        SuggestionCheck(
            network=net,
            label=Network(net).label,
            preview=sharing.preview_of(posted[net]),
            length=counts[net]["length"],
            limit=counts[net]["limit"],
            fits=counts[net]["fits"],
            remaining=counts[net]["remaining"],
        )
        for net in networks
    ]


def _clean_suggestions(suggestions: Iterable[SuggestionInput | dict | tuple | str]) -> list[SuggestionInput]:
    cleaned: list[SuggestionInput] = []
    for raw in suggestions:
        if isinstance(raw, SuggestionInput):
            text, network = raw.text, raw.network
        elif isinstance(raw, dict):
            text, network = raw.get("text", ""), raw.get("network", "")
        elif isinstance(raw, tuple):
            text, network = raw
        else:
            text, network = raw, ""
        text, network = (text or "").strip(), (network or "").strip().lower()
        if not text:
            continue
        if network and network not in Network.values:
            raise ValidationFailed(
                _("Unknown network %(network)s; use one of %(networks)s or leave it empty for all.")
                % {"network": f"{network!r}", "networks": ", ".join(Network.values)},
                fields={"suggestions": [_("Unknown network.")]},
            )
        if len(text) > MAX_SUGGESTION_LENGTH:
            raise ValidationFailed(
                _("A suggestion is longer than %(limit)s characters.") % {"limit": f"{MAX_SUGGESTION_LENGTH:,}"},
                fields={"suggestions": [_("Too long.")]},
            )
        cleaned.append(SuggestionInput(text=text, network=network))
    if len(cleaned) > MAX_SUGGESTIONS:
        raise ValidationFailed(
            _("At most %(count)s suggestions per item.") % {"count": MAX_SUGGESTIONS},
            fields={"suggestions": [_("Too many.")]},
        )
    return cleaned


def _sync_suggestions(item: ContentItem, wanted: list[SuggestionInput]) -> None:
    """Keep unchanged suggestions (shares point at them), drop the removed, add the new, in order."""
    existing = list(Suggestion.objects.for_org(item.organization_id).filter(item=item).order_by("position", "pk"))
    pool: dict[tuple[str, str], list[Suggestion]] = {}
    for suggestion in existing:
        pool.setdefault((suggestion.text, suggestion.network), []).append(suggestion)
    kept, new = [], []
    for position, want in enumerate(wanted):
        matches = pool.get((want.text, want.network))
        if matches:
            suggestion = matches.pop(0)
            if suggestion.position != position:
                suggestion.position = position
                kept.append(suggestion)
            else:
                kept.append(None)
        else:
            new.append(
                Suggestion(
                    organization_id=item.organization_id,
                    item=item,
                    text=want.text,
                    network=want.network,
                    position=position,
                )
            )
    leftovers = [s.pk for group in pool.values() for s in group]
    if leftovers:
        Suggestion.objects.for_org(item.organization_id).filter(pk__in=leftovers).delete()
    moved = [s for s in kept if s is not None]
    if moved:
        Suggestion.objects.for_org(item.organization_id).bulk_update(moved, ["position"])
    if new:
        Suggestion.objects.bulk_create(new)


def _suggestion_texts(item: ContentItem) -> list[str]:
    rows = Suggestion.objects.for_org(item.organization_id).filter(item=item).order_by("position", "pk")
    return [f"{network or 'all'}: {text}" for network, text in rows.values_list("network", "text")]
