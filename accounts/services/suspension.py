"""Suspending a membership (the directory deprovisioned the person, or an admin did) and
restoring it. A suspended member keeps every share, decision and audit entry (the
record-keeping rules apply); they cannot act in the organization until reactivated.

What a suspension does, at once and in one transaction:
* the membership is inactive: `selectors.membership_for` (every page and API call of the
  organization) no longer finds it, so the member gets a 404 there;
* every session of the user ends (the user's session generation is bumped: Django's
  per-request session check fails and logs them out, whatever the session store), and a
  user left with no active membership cannot sign in with a password
  (`accounts.adapter`, `selectors.sign_in_refusal`);
* their API tokens in the organization are revoked;
* the higher layers act through `accounts.hooks.member_suspended`: content holds the
  member's shares that are on their way out (listed for the admin, released or cancelled
  one by one; reactivation releases nothing).
After it commits, a task withdraws the member's connected accounts at the networks that
allow it and forgets their tokens (`connections.withdraw_accounts_of_suspended_member`); if
the broker cannot take the task, a periodic sweep finds the member's tokens and does it.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import hooks
from accounts.models import ApiToken, Membership, User
from accounts.permissions import Permission, require
from accounts.services.members import _admins_left_without
from advocacy import audit
from advocacy.errors import Conflict, NotFound, ValidationFailed

logger = logging.getLogger(__name__)

WITHDRAW_ACCOUNTS_TASK = "accounts.tasks.withdraw_accounts_of_suspended_member"
MAX_REASON = 500


@transaction.atomic
def suspend_membership(*, membership: Membership, by: str, reason: str = "") -> Membership:
    """Suspend `membership`. No `actor`: the directory (SCIM) calls it with its token's
    name, an admin through `suspend_member`; `by` names who asked ("scim:<token name>",
    "admin:<email>"). Idempotent: suspending a suspended member changes nothing and records
    nothing. Raises Conflict for the organization's last admin (nobody could manage it then)."""
    membership = Membership.objects.for_org(membership.organization_id).select_for_update().get(pk=membership.pk)
    if not membership.is_active:
        return membership
    if membership.is_admin and _admins_left_without(membership) == 0:
        raise Conflict(_("The last admin cannot be suspended; make someone else admin first."))
    now = timezone.now()
    reason = reason.strip()[:MAX_REASON]
    membership.is_active = False
    membership.suspended_at = now
    membership.suspended_by = by[:200]
    membership.suspension_reason = reason
    membership.save(update_fields=["is_active", "suspended_at", "suspended_by", "suspension_reason"])
    revoked = (
        ApiToken.objects.for_org(membership.organization_id)
        .filter(user_id=membership.user_id, revoked_at__isnull=True)
        .update(revoked_at=now)
    )
    # Every session of the user ends on its next request (User._get_session_auth_hash).
    User.objects.filter(pk=membership.user_id).update(session_generation=F("session_generation") + 1)
    effects = hooks.member_suspended(membership=membership, by=by, reason=reason)
    audit.record(
        "membership.suspended",
        organization_id=membership.organization_id,
        target=membership,
        before={"is_active": True},
        after={
            "is_active": False,
            "by": by,
            "reason": reason,
            "api_tokens_revoked": revoked,
            "sessions_ended": True,
            **effects,
        },
    )
    ids = (membership.organization_id, membership.user_id)
    transaction.on_commit(lambda: _schedule_withdrawal(*ids))
    return membership


def _schedule_withdrawal(organization_id: int, user_id: int) -> None:
    """After the suspension committed: hand the withdrawal to the worker. The broker being
    down does not undo the suspension nor fail the request: it is logged, and the periodic
    sweep (accounts.tasks.withdraw_accounts_of_suspended_members) withdraws them later."""
    try:
        current_app.send_task(WITHDRAW_ACCOUNTS_TASK, args=[organization_id, user_id])
    except Exception:  # any broker failure: kombu's OperationalError, a refused connection...
        logger.exception(
            "Could not schedule the withdrawal of the accounts of user %s in organization %s; the sweep will",
            user_id,
            organization_id,
        )


@transaction.atomic
def reactivate_membership(*, membership: Membership, by: str) -> Membership:
    """Restore a suspended membership with its roles, teams and history. No `actor`: like
    `suspend_membership`, `by` names who asked. Idempotent. Held shares stay held (an admin
    releases each); disconnected accounts stay disconnected (the member reconnects them)."""
    membership = Membership.objects.for_org(membership.organization_id).select_for_update().get(pk=membership.pk)
    if membership.is_active:
        return membership
    was = {"is_active": False, "suspended_at": membership.suspended_at, "suspended_by": membership.suspended_by}
    membership.is_active = True
    membership.suspended_at = None
    membership.suspended_by = ""
    membership.suspension_reason = ""
    membership.save(update_fields=["is_active", "suspended_at", "suspended_by", "suspension_reason"])
    audit.record(
        "membership.reactivated",
        organization_id=membership.organization_id,
        target=membership,
        before=was,
        after={"is_active": True, "by": by},
    )
    return membership


def suspend_member(*, actor: Membership, membership: Membership, reason: str) -> Membership:
    """An admin suspends a member from the members page. Raises PermissionDenied, NotFound
    (another organization's member), Conflict (themselves, or the last admin),
    ValidationFailed (no reason given)."""
    require(actor, Permission.MEMBERS_MANAGE)
    _check_same_organization(actor, membership)
    if membership.pk == actor.pk:
        raise Conflict(_("You cannot suspend yourself; ask another admin."))
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(_("Say why the member is suspended."), fields={"reason": [_("Required.")]})
    if len(reason) > MAX_REASON:
        raise ValidationFailed(
            _("Keep the reason under %(max)s characters.") % {"max": MAX_REASON},
            fields={"reason": [_("Too long.")]},
        )
    return suspend_membership(membership=membership, by=f"admin:{actor.user.email}", reason=reason)


def reactivate_member(*, actor: Membership, membership: Membership) -> Membership:
    """An admin restores a suspended member. Raises PermissionDenied, NotFound."""
    require(actor, Permission.MEMBERS_MANAGE)
    _check_same_organization(actor, membership)
    return reactivate_membership(membership=membership, by=f"admin:{actor.user.email}")


def _check_same_organization(actor: Membership, membership: Membership) -> None:
    if membership.organization_id != actor.organization_id:
        raise NotFound(_("No such member."))  # another organization's answers like a missing one
