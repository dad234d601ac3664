"""Shares held because their author was suspended (issue 20: "scheduled posts held (not
published) and listed for the admin").

* `hold_shares_of_member` is content's answer to `accounts.hooks.member_suspended`
  (registered in ContentConfig.ready): inside the suspension's transaction, every share of
  the member in that organization that is in review, approved, scheduled or publishing
  moves to `held` (content.lifecycle, kind "hold"), remembering where it was.
  A held share is not publishable: the engine skips its deliveries under the share's lock
  (a publish message already queued finds it held) and the sweeper never dispatches them;
  the review queue no longer shows it. A share that escapes this (committed after the
  hold's SELECT) is held by the engine itself: at claim time, under the author's membership
  lock, a suspended author's delivery is never sent (content.services.publishing.engine).
* Nothing is released automatically, not even by reactivation: an admin releases each
  (back where it was held from: to a reviewer, or on its way with its approval, due now if
  its time passed) or cancels it. Releasing needs the author active again.
* Every share, version, decision and audit entry is kept; the hold and its end are audited.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.permissions import Permission, require
from advocacy.errors import Conflict, NotFound
from content import lifecycle
from content.models import Delivery, Share
from content.services import publishing
from content.services.sharing import cancel_with_deliveries

S = Share.Status
HOLD_REASON = lifecycle.HOLD_REASON
HELD_FIELDS = ["held_from", "held_at"]


def hold_shares_of_member(*, membership: Membership, by: str, reason: str) -> dict:
    """Hold the member's shares on their way out (in the caller's transaction, which holds
    the membership's lock). Returns {"shares_held": [ids]} for the suspension's audit entry."""
    shares = (
        Share.objects.for_org(membership.organization_id)
        .select_for_update(of=("self",))
        .filter(author_id=membership.user_id, status__in=lifecycle.SHARE_HOLDABLE)
        .order_by("pk")
    )
    now = timezone.now()
    held = []
    for share in shares:
        lifecycle.hold_share(share, by=by, now=now)
        held.append(share.pk)
    return {"shares_held": held}


def _held_share(actor: Membership, share_id: int) -> Share:
    share = (
        Share.objects.for_org(actor.organization_id)
        .select_for_update(of=("self",))
        .select_related("author")
        .filter(pk=share_id)
        .first()
    )
    if share is None:
        raise NotFound(_("No such share."))
    if share.status != S.HELD:  # this door serves held posts only, whatever else the table allows
        raise Conflict(
            _("This post is %(status)s, not held; nothing was changed.")
            % {"status": share.get_status_display().lower()}
        )
    return share


@transaction.atomic
def release_held_share(*, actor: Membership, share_id: int) -> Share:
    """An admin releases a held share back where it was held from: in review goes back to
    the reviewers; approved or scheduled goes back on its way with its approval (due now if
    its time passed meanwhile). Audited ("share.released"). Raises PermissionDenied,
    NotFound (another organization's share), Conflict (not held, or its author is still
    suspended)."""
    require(actor, Permission.MEMBERS_MANAGE)
    share = _held_share(actor, share_id)
    author_active = Membership.objects.for_org(actor.organization_id).filter(user_id=share.author_id, is_active=True)
    if not author_active.exists():
        raise Conflict(
            _("%(email)s is still suspended: reactivate them first, or cancel the post.")
            % {"email": share.author.email},
        )
    after = {"released_from_hold": True, "held_from": share.held_from}
    held_from = share.held_from
    share.held_from, share.held_at = "", None
    if held_from in (S.APPROVED, S.SCHEDULED, S.PUBLISHING):
        publishing.release(
            share, action="share.released", after=after, fields=HELD_FIELDS, publishing=held_from == S.PUBLISHING
        )
    else:
        lifecycle.move_share(share, S.IN_REVIEW, "release", action="share.released", after=after, fields=HELD_FIELDS)
    return share


@transaction.atomic
def cancel_held_share(*, actor: Membership, share_id: int) -> Share:
    """An admin cancels a held share: its waiting deliveries are cancelled, everything is
    kept. Audited ("share.cancelled"). Raises PermissionDenied, NotFound, Conflict (not held)."""
    require(actor, Permission.MEMBERS_MANAGE)
    share = _held_share(actor, share_id)
    statuses = set(Delivery.objects.for_org(actor.organization_id).filter(share=share).values_list("status", flat=True))
    if Delivery.Status.PUBLISHING in statuses:
        raise Conflict(_("One of its posts is being sent right now; try again in a minute. Nothing was changed."))
    held_from = share.held_from
    share.held_from, share.held_at = "", None
    after = {"reason": f"held: {HOLD_REASON}", "held_from": held_from}
    if statuses & lifecycle.DELIVERY_POSTED:  # held while publishing, a post out already: it stays on record
        cancelled = lifecycle.move_deliveries(share, Delivery.Status.CANCELLED, "cancel")
        lifecycle.move_share(
            share,
            S.PUBLISHED,
            "cancel",
            action="share.cancelled",
            fields=HELD_FIELDS,
            after={"deliveries_cancelled": cancelled, **after},
        )
        return share
    cancel_with_deliveries(share, after=after, fields=HELD_FIELDS)
    return share
