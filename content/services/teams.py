"""Microsoft Teams distribution: new featured content posted to Teams channels as Adaptive
Cards through each channel's workflow webhook (integrations.teams).

Guarantees:
* Only an admin (org.settings) adds or removes a channel; the webhook URL must be an https
  Teams / Power Automate / Logic Apps address (loopback only with
  settings.TEAMS_WEBHOOK_ALLOW_LOOPBACK, for the emulator); it is stored encrypted.
* `post_featured_to_teams` posts each live, featured item published (or started) after the
  channel was added, and offered to the channel's team (or to everyone), once per channel:
  the channel row is locked while its items are posted and each post recorded
  (`TeamsPost`, unique per channel and item). A post whose answer is lost may be posted
  again on the next run (the webhook has no idempotency key); one that failed is not
  recorded and is tried on the next run.
* A refused webhook (4xx) stops that channel and keeps the reason in words for the admin
  (`last_error`); a 429 is waited out per its Retry-After by the client (bounded), then the
  channel waits for the next run; other channels are not affected.
* The card's button opens the composer for the item on the web (sign-in first).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Team
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import NotFound, ValidationFailed
from advocacy.languages import for_recipient
from content.models import ContentItem, TeamsChannel, TeamsPost
from content.selectors.sharing import live_items
from integrations.teams import cards
from integrations.teams.client import TeamsWebhookClient, check_webhook_url
from integrations.teams.errors import BadWebhook, CardTooLarge, InvalidWebhookUrl, TeamsError, Throttled

logger = logging.getLogger(__name__)
MAX_ITEMS_PER_RUN = 10  # per channel: a burst of new featured items goes out over a few runs


def _client() -> TeamsWebhookClient:
    return TeamsWebhookClient(timeout=settings.TEAMS_TIMEOUT)


@transaction.atomic
def add_teams_channel(*, actor: Membership, name: str, webhook_url: str, team_id: int | None = None) -> TeamsChannel:
    """Add a Teams channel by its workflow webhook URL. Raises ValidationFailed (in words) for
    a URL that is not a Teams workflow webhook, an empty name or another organization's team."""
    require(actor, Permission.ORG_SETTINGS)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(
            _("Give the channel a name, as it is called in Teams."), fields={"name": [_("Required.")]}
        )
    try:
        url = check_webhook_url(webhook_url, allow_loopback=settings.TEAMS_WEBHOOK_ALLOW_LOOPBACK)
    except InvalidWebhookUrl as exc:
        raise ValidationFailed(exc.message, fields={"webhook_url": [_("Not a Teams workflow webhook URL.")]}) from None
    team = None
    if team_id:
        team = Team.objects.for_org(actor.organization_id).filter(pk=team_id).first()
        if team is None:
            raise ValidationFailed(
                _("Choose one of your organization's teams."), fields={"team": [_("Not a valid choice.")]}
            )
    channel = TeamsChannel.objects.create(
        organization_id=actor.organization_id, name=name[:120], webhook_url=url, team=team, created_by_id=actor.user_id
    )
    after = {"name": channel.name, "team": team.name if team else None, "webhook": masked_url(url)}
    audit.record("teams.channel_added", organization_id=actor.organization_id, target=channel, after=after)
    return channel


@transaction.atomic
def remove_teams_channel(*, actor: Membership, channel_id: int) -> bool:
    """Stop posting to a channel and forget its webhook URL (True). NotFound for another organization's."""
    require(actor, Permission.ORG_SETTINGS)
    channel = TeamsChannel.objects.for_org(actor.organization_id).filter(pk=channel_id).first()
    if channel is None:
        raise NotFound(_("No such Teams channel."))
    audit.record(
        "teams.channel_removed", organization_id=actor.organization_id, target=channel, before={"name": channel.name}
    )
    channel.delete()
    return True


def masked_url(url: str) -> str:
    """What the settings page shows of a webhook URL: its host and path start, never the signature."""
    head = url.split("?", 1)[0]
    return head[:60] + ("…" if len(head) > 60 else "")


def composer_url(organization: Organization, item: ContentItem) -> str:
    return settings.SITE_URL + reverse(
        "content:compose", kwargs={"org_slug": organization.slug, "content_item_id": item.pk}
    )


def card_for(organization: Organization, item: ContentItem) -> dict:
    """The Adaptive Card (schema 1.5) for one item: title, summary, the page's image when it
    is public (https), and a button that opens the composer for it."""
    image = item.image_url if item.image_url.startswith("https://") else ""
    with for_recipient(None, organization):  # a channel: the organization's language
        return cards.article_card(
            title=item.title or item.url,
            summary=item.description,
            image_url=image,
            open_url=composer_url(organization, item),
            action_title=_("Share it"),
            context=_("New from %(organization)s: ready for you to share") % {"organization": organization.name},
        )


def _due_items(channel: TeamsChannel, now: datetime):
    items = (
        live_items(channel.organization_id, now=now)
        .filter(featured=True)
        .filter(Q(published_at__gte=channel.created_at) | Q(starts_at__gte=channel.created_at))
        .exclude(Exists(TeamsPost.objects.filter(channel_id=channel.pk, item_id=OuterRef("pk"))))
    )
    targets = ContentItem.target_teams.through.objects.filter(contentitem_id=OuterRef("pk"))
    if channel.team_id:
        items = items.filter(~Exists(targets) | Exists(targets.filter(team_id=channel.team_id)))
    else:
        items = items.filter(~Exists(targets))
    return items.order_by("published_at", "pk")[:MAX_ITEMS_PER_RUN]


def post_featured_to_teams(*, now: datetime | None = None, client: TeamsWebhookClient | None = None) -> int:
    """System operation (beat): post every due featured item to every active channel of every
    organization. Returns how many cards were posted. Safe to run twice at once."""
    now = now or timezone.now()
    client = client or _client()
    posted = 0
    channel_ids = list(
        TeamsChannel.objects.all_organizations().filter(is_active=True).values_list("pk", "organization_id")
    )
    for channel_id, organization_id in channel_ids:
        posted += _post_to_channel(channel_id, organization_id, now=now, client=client)
    return posted


@transaction.atomic
def _post_to_channel(channel_id: int, organization_id: int, *, now: datetime, client: TeamsWebhookClient) -> int:
    channel = (
        TeamsChannel.objects.for_org(organization_id)
        .select_for_update(skip_locked=True)
        .select_related("organization")
        .filter(pk=channel_id, is_active=True)
        .first()
    )
    if channel is None:
        return 0  # removed, turned off, or another run holds it
    with for_recipient(None, channel.organization):  # the cards and why one failed: the organization's language
        posted = _post_items(channel, organization_id, now=now, client=client)
    if posted:
        channel.last_posted_at = now
        channel.last_error = ""
        channel.save(update_fields=["last_posted_at", "last_error"])
    return posted


def _post_items(channel: TeamsChannel, organization_id: int, *, now: datetime, client: TeamsWebhookClient) -> int:
    posted = 0
    for item in _due_items(channel, now):
        try:
            client.post_message(channel.webhook_url, cards.message(card_for(channel.organization, item)))
        except (BadWebhook, CardTooLarge) as exc:
            channel.last_error = exc.message[:500]
            if isinstance(exc, BadWebhook):
                channel.is_active = False  # only the admin pasting a working URL helps
            channel.save(update_fields=["last_error", "is_active"])
            if isinstance(exc, BadWebhook):
                break
            continue
        except (Throttled, TeamsError) as exc:
            logger.warning("Teams channel %s: %s", channel.pk, exc.message)
            channel.last_error = exc.message[:500]
            channel.save(update_fields=["last_error"])
            break
        TeamsPost.objects.create(organization_id=organization_id, channel=channel, item=item, posted_at=now)
        posted += 1
    return posted
