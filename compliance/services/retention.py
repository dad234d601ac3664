"""The retention period: how long records in scope of the archive are kept (per organization).

Records in scope are shares with their versions, screenings, decisions and deliveries
(content items and users that have shares are protected by the shares' PROTECT keys).
The guarantee "nothing in scope is deleted before the period ends" is enforced where
every deletion passes, whoever issues it (a service, the Django admin, a shell): a
PostgreSQL trigger (migration `0003_retention_guard`) refuses the DELETE while the
share's last activity is younger than the organization's `Policy.retention_years`.
`check_share_deletable()` answers the same question in Python, for code that wants to
say no in words before trying.

Legal holds come first: while an active hold (`compliance.services.holds`) covers a share,
the same trigger (replaced by migration `0011_legal_hold`) refuses its deletion even after
the period, and `check_share_deletable()` names the hold.

An organization may ask for records to be deleted once their period ends
(`Policy.delete_after_retention`, off by default): `purge_expired_records()`, run daily
by the `compliance.tasks.purge_expired_records` task, deletes them in batches, skips every
held share, and writes one audit entry saying what it removed and what holds kept.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import NotAllowed, ValidationFailed
from compliance.models import LegalHold, Policy
from compliance.selectors.holds import active_hold_on, covered_share_count, shares_with_days, under_hold
from content.models import Share

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
    deliveries) is under an active legal hold, or still inside the organization's retention
    period."""
    now = now or timezone.now()
    hold = active_hold_on(share, Organization.objects.get(pk=share.organization_id))
    if hold is not None:
        placed_by = hold.placed_by.get_full_name() if hold.placed_by else _("someone no longer known")
        raise NotAllowed(
            _(
                "Share %(share)s is under the legal hold '%(name)s' placed by %(placed_by)s "
                "on %(day)s; it cannot be deleted until the hold is released."
            )
            % {"share": share.pk, "name": hold.name, "placed_by": placed_by, "day": f"{hold.placed_at:%Y-%m-%d}"}
        )
    years = retention_years(share.organization_id)
    last = max(share.submitted_at, share.updated_at or share.submitted_at)
    until = retained_until(last, years)
    if until > now:
        raise NotAllowed(
            _("Share %(share)s is a record kept for %(years)s years (until %(day)s); it cannot be deleted before then.")
            % {"share": share.pk, "years": years, "day": f"{until:%Y-%m-%d}"}
        )


@transaction.atomic
def set_retention(*, actor: Membership, years, delete_after_retention: bool | None = None) -> Policy:
    """Set how many years shares and their history are kept (1-100) and, when given, whether
    they are deleted once that ends (legal holds excepted). Audited.

    Raises ValidationFailed for anything but a whole number in range.
    """
    require(actor, Permission.COMPLIANCE_POLICY)
    organization = actor.organization
    try:
        years = int(years)
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("The retention period is a whole number of years."), fields={"retention_years": [_("A whole number.")]}
        ) from None
    if not MIN_RETENTION_YEARS <= years <= MAX_RETENTION_YEARS:
        raise ValidationFailed(
            _("The retention period is between %(min)s and %(max)s years.")
            % {"min": MIN_RETENTION_YEARS, "max": MAX_RETENTION_YEARS},
            fields={"retention_years": [_("Out of range.")]},
        )
    policy, _created = Policy.objects.for_org(organization).select_for_update().get_or_create(organization=organization)
    before = {"retention_years": policy.retention_years, "delete_after_retention": policy.delete_after_retention}
    after = {
        "retention_years": years,
        "delete_after_retention": before["delete_after_retention"]
        if delete_after_retention is None
        else bool(delete_after_retention),
    }
    changed = [k for k in after if after[k] != before[k]]
    if not changed:
        return policy
    policy.retention_years = after["retention_years"]
    policy.delete_after_retention = after["delete_after_retention"]
    policy.updated_by_id = actor.user_id
    policy.save(update_fields=["retention_years", "delete_after_retention", "updated_by", "updated_at"])
    audit.record(
        "policy.retention_changed",
        organization_id=organization.pk,
        target=policy,
        before={k: before[k] for k in changed},
        after={k: after[k] for k in changed},
    )
    return policy


def refuse_deletion(what: str) -> None:
    """For code paths that must never delete records in scope (kept for the archive)."""
    raise NotAllowed(_("%(what)s are kept for the archive and cannot be deleted.") % {"what": what})


PURGE_BATCH = 500


@dataclass
class PurgeReport:
    """What one organization's purge did: shares removed (with their history) and, per
    active hold, how many expired shares it kept."""

    organization_id: int
    removed: int = 0
    kept_by_hold: dict[str, int] = field(default_factory=dict)
    stopped: str = ""

    @property
    def kept(self) -> int:
        return sum(self.kept_by_hold.values())


def expired_shares(organization: Organization, *, years: int | None = None, now: datetime.datetime | None = None):
    """The organization's shares whose retention period (`years`, the policy's by default) has
    ended (a day of margin, so the database's calendar arithmetic agrees), held or not, from
    `shares_with_days`."""
    now = now or timezone.now()
    years = years or retention_years(organization)
    cutoff = retained_until(now, -years) - datetime.timedelta(days=1)
    return shares_with_days(organization).filter(last_activity__lt=cutoff)


def purge_expired_records(
    *, organization_id: int, now: datetime.datetime | None = None, batch_size: int = PURGE_BATCH
) -> PurgeReport:
    """Delete the organization's shares (with versions, screenings, decisions, deliveries and
    their metrics) whose retention period has ended, when its policy asks for it
    (`delete_after_retention`; otherwise nothing happens). Shares under an active legal hold
    are skipped. Works in batches of `batch_size` shares, each in its own transaction with a
    fixed number of queries; the database's guard checks every row again. One audit entry
    ("retention.purged") says what was removed and what holds kept; none when there was
    nothing to remove or keep."""
    organization = Organization.objects.get(pk=organization_id)
    report = PurgeReport(organization_id=organization_id)
    policy = Policy.objects.for_org(organization).first()
    if policy is None or not policy.delete_after_retention:
        return report
    expired = expired_shares(organization, years=policy.retention_years, now=now)
    kept = (
        LegalHold.objects.for_org(organization)
        .filter(released_at__isnull=True)
        .annotate(expired_held=covered_share_count(organization, expired))
        .filter(expired_held__gt=0)
        .values_list("name", "expired_held")
    )
    report.kept_by_hold = dict(kept)
    unheld = expired.filter(~under_hold(organization)).order_by("pk").values_list("pk", flat=True)
    while True:
        try:
            with transaction.atomic():
                batch = list(unheld[:batch_size])
                if not batch:
                    break
                Share.objects.for_org(organization).filter(pk__in=batch).delete()
        except DatabaseError as exc:  # the guard refused a row (a hold placed meanwhile): next run
            report.stopped = str(exc).splitlines()[0]
            break
        report.removed += len(batch)
    if report.removed or report.kept or report.stopped:
        audit.record(
            "retention.purged",
            organization_id=organization_id,
            target=policy,
            after={
                "shares_removed": report.removed,
                "retention_years": policy.retention_years,
                "kept_by_legal_holds": report.kept_by_hold,
                **({"stopped": report.stopped} if report.stopped else {}),
            },
        )
    return report


def organizations_purging() -> list[int]:
    """Ids of the organizations whose policy deletes records after the retention period."""
    policies = Policy.objects.all_organizations()  # the daily purge visits every tenant that asked
    return list(policies.filter(delete_after_retention=True).values_list("organization_id", flat=True))


def retention_settings(organization: Organization) -> tuple[int, bool]:
    """(years kept, whether records are deleted after them) in one query; defaults without a policy."""
    row = Policy.objects.for_org(organization).values_list("retention_years", "delete_after_retention").first()
    return (row[0] or DEFAULT_RETENTION_YEARS, row[1]) if row else (DEFAULT_RETENTION_YEARS, False)
