"""Links employees propose to the marketers."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import Conflict, ValidationFailed
from content.models import ContentItem, ContentProposal
from content.services.library.common import MANAGE, _clean_url
from content.services.library.items import create_item

# --- proposals from employees ------------------------------------------------------------------


@transaction.atomic
def propose_content(*, actor: Membership, url: str, reason: str = "") -> ContentProposal:
    """Any member suggests a link worth sharing; it lands in the marketers' inbox.

    Raises ValidationFailed for a bad link, Conflict when the same link is already waiting.
    """
    require(actor, Permission.ORG_VIEW)
    url = _clean_url(url)
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationFailed(_("Keep the reason under 2,000 characters."), fields={"reason": [_("Too long.")]})
    waiting = ContentProposal.objects.for_org(actor.organization_id).filter(url=url, status=ContentProposal.Status.NEW)
    if waiting.exists():
        raise Conflict(
            _("Someone already proposed this link; the marketing team will look at it."),
            fields={"url": [_("Already proposed.")]},
        )
    proposal = ContentProposal.objects.create(
        organization_id=actor.organization_id, url=url, reason=reason, proposed_by_id=actor.user_id
    )
    audit.record(
        "proposal.created",
        organization_id=actor.organization_id,
        target=proposal,
        after={"url": url, "reason": reason[:500]},
    )
    return proposal


def _locked_new_proposal(actor: Membership, proposal: ContentProposal) -> ContentProposal:
    proposal = ContentProposal.objects.for_org(actor.organization_id).select_for_update().get(pk=proposal.pk)
    if proposal.status != ContentProposal.Status.NEW:
        raise Conflict(_("This proposal was already %(status)s.") % {"status": proposal.get_status_display().lower()})
    return proposal


@transaction.atomic
def accept_proposal(*, actor: Membership, proposal: ContentProposal) -> ContentItem:
    """Turn a proposal into a draft item (its preview fetched after commit) and mark it accepted.

    Raises Conflict when the proposal was already accepted or declined.
    """
    require(actor, MANAGE)
    proposal = _locked_new_proposal(actor, proposal)
    item = create_item(actor=actor, url=proposal.url, source=ContentItem.Source.PROPOSAL)
    proposal.status = ContentProposal.Status.ACCEPTED
    proposal.item = item
    proposal.save(update_fields=["status", "item"])
    audit.record(
        "proposal.accepted",
        organization_id=proposal.organization_id,
        target=proposal,
        before={"status": ContentProposal.Status.NEW},
        after={"status": proposal.status, "item": item.pk},
    )
    return item


@transaction.atomic
def decline_proposal(*, actor: Membership, proposal: ContentProposal) -> ContentProposal:
    """Close a proposal without adding it. Raises Conflict when it was already handled."""
    require(actor, MANAGE)
    proposal = _locked_new_proposal(actor, proposal)
    proposal.status = ContentProposal.Status.DECLINED
    proposal.save(update_fields=["status"])
    audit.record(
        "proposal.declined",
        organization_id=proposal.organization_id,
        target=proposal,
        before={"status": ContentProposal.Status.NEW},
        after={"status": proposal.status},
    )
    return proposal
