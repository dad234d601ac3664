"""Celery wrappers for compliance: take ids, call a service."""

from celery import shared_task

from compliance.services import archive


@shared_task(name="compliance.tasks.build_archive")
def build_archive(export_id: int, organization_id: int) -> str | None:
    """Build a requested archive export (status, progress and the file are on the export)."""
    export = archive.build_export(export_id=export_id, organization_id=organization_id)
    return export.status if export is not None else None


@shared_task(name="compliance.tasks.anchor_audit_heads")
def anchor_audit_heads() -> int:
    """Write each organization's audit-chain head outside the database (hourly)."""
    from compliance.services.audit import anchor_heads

    return anchor_heads()


@shared_task(name="compliance.tasks.escalate_overdue_reviews")
def escalate_overdue_reviews() -> int:
    """Escalate the reviews past their deadline (every few minutes; once each)."""
    from compliance.services.supervision import escalate_overdue

    return escalate_overdue()


@shared_task(name="compliance.tasks.purge_expired_records")
def purge_expired_records() -> dict[str, int]:
    """Daily: delete records past their retention period where the organization asked for it
    (legal holds excepted); returns organization id -> shares removed."""
    from compliance.services import retention

    return {
        str(org_id): retention.purge_expired_records(organization_id=org_id).removed
        for org_id in retention.organizations_purging()
    }
