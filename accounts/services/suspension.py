"""Suspending a membership (the directory deprovisioned the person, or an admin did) and
restoring it. A suspended member keeps every share, decision and audit entry (the
record-keeping rules apply); they cannot act in the organization until reactivated."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken, Membership
from advocacy import audit


@transaction.atomic
def suspend_membership(*, membership: Membership, by: str, reason: str = "") -> Membership:
    """Suspend `membership` (`by` names who asked: "scim:<token name>", "admin:<email>").
    Idempotent: suspending a suspended member changes nothing and records nothing."""
    membership = Membership.objects.for_org(membership.organization_id).select_for_update().get(pk=membership.pk)
    if not membership.is_active:
        return membership
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    revoked = (
        ApiToken.objects.for_org(membership.organization_id)
        .filter(user_id=membership.user_id, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )
    audit.record(
        "membership.suspended",
        organization_id=membership.organization_id,
        target=membership,
        before={"is_active": True},
        after={"is_active": False, "by": by, "reason": reason, "api_tokens_revoked": revoked},
    )
    return membership


@transaction.atomic
def reactivate_membership(*, membership: Membership, by: str) -> Membership:
    """Restore a suspended membership with its roles, teams and history. Idempotent."""
    membership = Membership.objects.for_org(membership.organization_id).select_for_update().get(pk=membership.pk)
    if membership.is_active:
        return membership
    membership.is_active = True
    membership.save(update_fields=["is_active"])
    audit.record(
        "membership.reactivated",
        organization_id=membership.organization_id,
        target=membership,
        before={"is_active": False},
        after={"is_active": True, "by": by},
    )
    return membership
