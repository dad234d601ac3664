"""The retention period: how long records in scope of the archive are kept (per organization).

Records in scope are shares with their versions, screenings, decisions and deliveries
(content items and users that have shares are protected by the shares' PROTECT keys).
The guarantee "nothing in scope is deleted before the period ends" is enforced where
every deletion passes, whoever issues it (a service, the Django admin, a shell): a
PostgreSQL trigger (migration `0003_retention_guard`) refuses the DELETE while the
share's last activity is younger than the organization's `Policy.retention_years`.
`check_share_deletable()` answers the same question in Python, for code that wants to
say no in words before trying.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organization
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import NotAllowed, ValidationFailed
from compliance.models import Policy

DEFAULT_RETENTION_YEARS = 7
MIN_RETENTION_YEARS = 1
MAX_RETENTION_YEARS = 100


def retention_years(organization: Organization | int) -> int:
    org_id = organization if isinstance(organization, int) else organization.pk
    years = Policy.objects.for_org(org_id).values_list("retention_years", flat=True).first()
    return years or DEFAULT_RETENTION_YEARS


def retained_until(moment: datetime.datetime, years: int) -> datetime.datetime:
    """`moment` plus `years` calendar years (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)


def check_share_deletable(share, *, now: datetime.datetime | None = None) -> None:
    """Raise NotAllowed when the share (and so its versions, screenings, decisions and
    deliveries) is still inside the organization's retention period."""
    now = now or timezone.now()
    years = retention_years(share.organization_id)
    last = max(share.submitted_at, share.updated_at or share.submitted_at)
    until = retained_until(last, years)
    if until > now:
        raise NotAllowed(
            f"Share {share.pk} is a record kept for {years} years (until {until:%Y-%m-%d}); "
            "it cannot be deleted before then."
        )


@transaction.atomic
def set_retention(*, actor: Membership, years) -> Policy:
    """Set how many years shares and their history are kept (1-100). Audited.

    Raises ValidationFailed for anything but a whole number in range.
    """
    require(actor, Permission.COMPLIANCE_POLICY)
    organization = actor.organization
    try:
        years = int(years)
    except (TypeError, ValueError):
        raise ValidationFailed(
            "The retention period is a whole number of years.", fields={"retention_years": ["A whole number."]}
        ) from None
    if not MIN_RETENTION_YEARS <= years <= MAX_RETENTION_YEARS:
        raise ValidationFailed(
            f"The retention period is between {MIN_RETENTION_YEARS} and {MAX_RETENTION_YEARS} years.",
            fields={"retention_years": ["Out of range."]},
        )
    policy, _ = Policy.objects.for_org(organization).select_for_update().get_or_create(organization=organization)
    before = policy.retention_years
    if before == years:
        return policy
    policy.retention_years = years
    policy.updated_by_id = actor.user_id
    policy.save(update_fields=["retention_years", "updated_by", "updated_at"])
    audit.record(
        "policy.retention_changed",
        organization_id=organization.pk,
        target=policy,
        before={"retention_years": before},
        after={"retention_years": years},
    )
    return policy


def refuse_deletion(what: str) -> None:
    """For code paths that must never delete records in scope (kept for the archive)."""
    raise NotAllowed(f"{what} are kept for the archive and cannot be deleted.")
