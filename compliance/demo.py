"""A small review history for the demo organization (`seed_demo`), written through the product's
own services so the audit log, the review pages and the search of posts and decisions have
something true to show: Alex's share was sent back for a percentage of returns, and its second
version, which says "guaranteed", was approved by Cora (issue 19, item 4: "every post that
mentioned guaranteed and who approved it")."""

from __future__ import annotations

from accounts.models import Membership
from advocacy import audit
from compliance.services import review
from content.models import ContentItem, ShareVersion
from content.services import sharing

FIRST = "Our Lyon solar plant already brings 8% returns for the region."
SECOND = "Lyon's new solar plant: clean power for 300 colleagues, guaranteed."


def seed_demo_review_history(organization, *, author_email: str, officer_email: str) -> None:
    """Once per organization (a second run finds the first version and does nothing)."""
    if ShareVersion.objects.for_org(organization).filter(commentary=FIRST).exists():
        return
    members = Membership.objects.for_org(organization).select_related("user")
    author = members.get(user__email=author_email)
    officer = members.get(user__email=officer_email)
    item = ContentItem.objects.for_org(organization).filter(status=ContentItem.Status.PUBLISHED).order_by("pk").first()
    if item is None:
        return
    with audit.acting_as(user=author.user):
        share = sharing.submit_share(
            actor=author, item_id=item.pk, commentary=FIRST, target_keys=["assisted:linkedin"], confirm_repeat=True
        )
    with audit.acting_as(user=officer.user):
        review.decide(
            actor=officer,
            share_id=share.pk,
            outcome="changes_requested",
            comment="Please drop the percentage: returns are not ours to promise.",
            version=1,
        )
    with audit.acting_as(user=author.user):
        sharing.edit_share(actor=author, share_id=share.pk, commentary=SECOND)
    with audit.acting_as(user=officer.user):
        review.decide(actor=officer, share_id=share.pk, outcome="approved", version=2)
