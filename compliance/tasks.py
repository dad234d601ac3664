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


@shared_task(name="compliance.tasks.chain_pending_audit")
def chain_pending_audit() -> int:
    """Link the audit entries a dead process left pending (every minute)."""
    from compliance.services.audit import chain_all_pending

    return chain_all_pending()


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


@shared_task(name="compliance.tasks.deliver_archive_feed")
def deliver_archive_feed(
    destination_id: int, organization_id: int, trigger: str = "schedule", requested_by_id: int | None = None
) -> str | None:
    """Deliver the archive feed to one destination (the run, its counts and error are recorded)."""
    from compliance.services import archive_feed

    run = archive_feed.deliver(
        archive_destination_id=destination_id,
        organization_id=organization_id,
        trigger=trigger,
        requested_by_id=requested_by_id,
    )
    return run.status if run is not None else None


@shared_task(name="compliance.tasks.deliver_due_archive_feeds")
def deliver_due_archive_feeds() -> int:
    """Beat: queue today's delivery for every destination that has not had it yet."""
    from compliance.services import archive_feed

    due = archive_feed.due_destinations()
    for destination_id, organization_id in due:
        deliver_archive_feed.delay(destination_id, organization_id)
    return len(due)
