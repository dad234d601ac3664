"""Celery wrappers for analytics: take ids, call a service.

`pull_*` tasks run on the `metrics` queue (CELERY_TASK_ROUTES). Scheduling, leasing,
retrying and counting exactly once are decided in `analytics.services.metrics`.
"""

from datetime import datetime

from celery import shared_task
from django.db import DatabaseError

from analytics.services import clicks, metrics


@shared_task(name="analytics.tasks.pull_metrics")
def pull_metrics() -> dict[str, int]:
    """The beat's metrics round: enrol newly published deliveries, lease the due ones
    within the per-network call budget, enqueue one batch task per account."""
    return metrics.start_pull_round()


@shared_task(name="analytics.tasks.pull_metrics_batch")
def pull_metrics_batch(
    organization_id: int, connection_id: int | None, network: str, metrics_ids: list[int], lease: str
) -> dict[str, int | str]:
    """Pull one leased batch (one account's posts, or with no connection every account's on
    X or Facebook) and record the answers."""
    outcome = metrics.pull_batch(
        organization_id=organization_id,
        connection_id=connection_id,
        network=network,
        metrics_ids=metrics_ids,
        lease=datetime.fromisoformat(lease),
    )
    return vars(outcome)


@shared_task(
    name="analytics.tasks.flush_clicks",
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=10,
)
def flush_clicks() -> dict[str, int | bool]:
    """Move buffered clicks of tracked links into PostgreSQL and the rollups (every few
    seconds from the beat). A database error leaves the batch in Redis and retries."""
    return vars(clicks.flush_clicks())


@shared_task(name="analytics.tasks.refresh_advocate_stats")
def refresh_advocate_stats() -> int:
    """Every few minutes: recompute the per-author, per-suggestion and posting-time stats of
    the days that changed (analytics.services.advocate_stats; idempotent)."""
    from analytics.services import advocate_stats

    return advocate_stats.refresh_all()


@shared_task(name="analytics.tasks.attribute_pending_conversions")
def attribute_pending_conversions() -> int:
    """Every minute: conversions that arrived before their click was flushed are attributed
    now, or after a grace period recorded as unattributed (analytics.services.conversions)."""
    from analytics.services import conversions

    return conversions.attribute_pending()


@shared_task(name="analytics.tasks.refresh_organization_stats")
def refresh_organization_stats(organization_id: int) -> int:
    """Right after a post went live: refresh its organization's per-author stats, so the
    author's "My stats" shows it (queued by advocate_stats.refresh_soon, coalesced)."""
    from analytics.services import advocate_stats

    return advocate_stats.refresh_after_post(organization_id)


@shared_task(name="analytics.tasks.warm_reports")
def warm_reports(organization_id: int) -> int:
    """A few seconds after a change the executive report reads: its periods viewed in the
    last day are computed again and cached (queued by report_version.bump, coalesced)."""
    from analytics.services import report_version

    return report_version.warm(organization_id)


@shared_task(name="analytics.tasks.send_weekly_summaries")
def send_weekly_summaries() -> int:
    """Hourly: the weekly e-mail summary to opted-in executives, on their organization's
    Monday morning (analytics.digest; one per member per week)."""
    from analytics.digest import send_weekly_summaries as send

    return send()


@shared_task(name="analytics.tasks.rollup_activity")
def rollup_activity() -> int:
    """Every minute: fold the shares submitted and deliveries published since each
    organization's watermark into the daily rollups (analytics.services.rollups; each
    counted exactly once)."""
    from accounts.models import Organization
    from analytics.services import rollups

    folded = 0
    for organization in Organization.objects.order_by("pk"):
        folded += sum(rollups.fold_activity(organization=organization).values())
    return folded


@shared_task(name="analytics.tasks.sync_crm_deals")
def sync_crm_deals() -> int:
    """Every CRM_SYNC_EVERY seconds: one sync task per connected CRM whose Retry-After has
    passed (analytics.services.deals)."""
    from analytics.services import deals

    due = deals.connections_due()
    for organization_id in due:
        sync_crm_connection.delay(organization_id)
    return len(due)


@shared_task(bind=True, name="analytics.tasks.sync_crm_connection", max_retries=8)
def sync_crm_connection(self, organization_id: int) -> dict:
    """Sync one organization's HubSpot deals since its cursor. When HubSpot answers 429 with
    a Retry-After longer than the sync waits itself, the task is retried after exactly that
    many seconds (the sync has booked every page before it)."""
    from accounts.models import Organization
    from analytics.services import deals

    organization = Organization.objects.get(pk=organization_id)
    outcome = deals.sync_hubspot(organization=organization)
    if outcome.deferred_seconds is not None:
        raise self.retry(countdown=deals.countdown(outcome.deferred_seconds))
    return {"pages": outcome.pages, "deals": outcome.deals, "error": outcome.error, "skipped": outcome.skipped}


@shared_task(name="analytics.tasks.ensure_click_partitions")
def ensure_click_partitions() -> list[str]:
    """Daily: the raw clicks' partitions of this month and the next ones (idempotent)."""
    from analytics.services import click_partitions

    return [month.isoformat() for month in click_partitions.ensure_partitions()]


@shared_task(name="analytics.tasks.purge_expired_clicks")
def purge_expired_clicks() -> dict[str, int]:
    """Daily: drop the raw clicks past each organization's retention, once rolled up."""
    from analytics.services import click_partitions

    purge = click_partitions.purge_expired_clicks()
    return {
        "dropped_months": len(purge.dropped),
        "deleted": sum(purge.deleted.values()),
        "not_rolled_up": len(purge.not_rolled_up),
    }
