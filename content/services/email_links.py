"""One-click share links in the content digest: a signed, per-recipient, per-item, expiring,
single-use link to a confirmation page whose one button shares through `submit_share`.

Guarantees:
* A link is signed with the site's SECRET_KEY (django.core.signing, its own salt): a changed
  character makes it invalid; it names its organization, member and item, and a random
  nonce. It expires after settings.EMAIL_SHARE_LINK_MAX_AGE seconds (7 days by default).
* Opening the link (a GET) writes nothing. Only `share_from_link` acts, and it records the
  link's use (`ShareLinkUse`, unique nonce) in the same transaction as the share: a second
  use, even at the same moment, is a Conflict, and a refused share leaves the link unused.
* The share goes through the composer's own service (`submit_share`): the same checks,
  screening and review path; nothing here decides what is approved.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Membership
from advocacy.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from content.models import Share, ShareLinkUse
from content.services.sharing import submit_share

SALT = "content.email_share_link"


class LinkExpired(ValidationFailed):
    code = "link_expired"


class LinkInvalid(ValidationFailed):
    code = "link_invalid"


@dataclass(frozen=True)
class ShareLink:
    organization_id: int
    user_id: int
    item_id: int
    nonce: str


def share_link_token(*, organization_id: int, user_id: int, item_id: int) -> str:
    """A new signed token for one member and one item (each call has its own nonce)."""
    payload = {"o": organization_id, "u": user_id, "i": item_id, "n": secrets.token_urlsafe(12)}
    return signing.dumps(payload, salt=SALT, compress=True)


def share_link_url(*, org_slug: str, organization_id: int, user_id: int, item_id: int) -> str:
    """The absolute URL of a new one-click share link, for an e-mail."""
    token = share_link_token(organization_id=organization_id, user_id=user_id, item_id=item_id)
    return settings.SITE_URL + reverse("content:email_share", kwargs={"org_slug": org_slug, "token": token})


def read_share_link(token: str) -> ShareLink:
    """The link a token names. Raises LinkExpired past its age, LinkInvalid when it was changed."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.EMAIL_SHARE_LINK_MAX_AGE)
    except signing.SignatureExpired:
        days = settings.EMAIL_SHARE_LINK_MAX_AGE // 86400
        raise LinkExpired(
            ngettext(
                "This share link has expired. Links in the digest work for %(days)s day; "
                "open the item from your feed instead.",
                "This share link has expired. Links in the digest work for %(days)s days; "
                "open the item from your feed instead.",
                days,
            )
            % {"days": days}
        ) from None
    except signing.BadSignature:
        raise LinkInvalid(
            _(
                "This share link is not valid: it may have been cut or changed on the way. "
                "Open the item from your feed instead."
            )
        ) from None
    try:
        return ShareLink(int(payload["o"]), int(payload["u"]), int(payload["i"]), str(payload["n"]))
    except (KeyError, TypeError, ValueError):
        raise LinkInvalid(_("This share link is not valid. Open the item from your feed instead.")) from None


def check_link_for(membership: Membership, link: ShareLink) -> None:
    """Raises NotFound for a link of another organization (as for a missing page), NotAllowed
    for one sent to another member, Conflict for a link already used."""
    if link.organization_id != membership.organization_id:
        raise NotFound(_("No such link."))
    if link.user_id != membership.user_id:
        raise NotAllowed(
            _(
                "This share link was sent to another member. Sign in as the person it was e-mailed to, "
                "or share the item from your own feed."
            )
        )
    if ShareLinkUse.objects.for_org(membership.organization_id).filter(nonce=link.nonce).exists():
        raise Conflict(_("This share link was already used: each link shares once. See your shares for what it sent."))


@transaction.atomic
def share_from_link(
    *,
    actor: Membership,
    link: ShareLink,
    commentary: str,
    target_keys: list[str],
    network_texts: dict[str, str] | None = None,
    suggestion_id: int | None = None,
    scheduled_for: datetime | None = None,
) -> Share:
    """Share the link's item as the composer would, and spend the link.

    Raises what `check_link_for` raises, and whatever `submit_share` raises (then the link
    stays unused, so the member can correct and try again).
    """
    check_link_for(actor, link)
    try:
        with transaction.atomic():
            use = ShareLinkUse.objects.create(
                organization_id=actor.organization_id, nonce=link.nonce, user_id=actor.user_id, item_id=link.item_id
            )
    except IntegrityError:  # the same link, pressed twice at the same moment: the first won
        raise Conflict(_("This share link was already used: each link shares once.")) from None
    share = submit_share(
        actor=actor,
        item_id=link.item_id,
        commentary=commentary,
        target_keys=target_keys,
        network_texts=network_texts,
        suggestion_id=suggestion_id,
        scheduled_for=scheduled_for,
        submit_key=f"email-link:{link.nonce}",
    )
    use.share = share
    use.save(update_fields=["share"])
    return share
