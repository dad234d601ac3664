"""The sweeper (beat, every minute): the database is the source of truth, messages are hints.

It finds deliveries that are due and that no task holds (SKIP LOCKED: a row a publish task
or another sweeper has locked is left to it) and deliveries whose publishing lease ran
out (their worker died mid-call), stamps them `dispatched_at` and enqueues them after
commit. Two sweepers at once split the rows between them; a row dispatched in the last
minute is not dispatched again, and a message sent twice is harmless anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from content.models import Delivery
from content.services.publishing.engine import PUBLISHABLE_SHARE, WAITING

# Less than the beat period, so a message lost on the way is sent again a minute later.
DISPATCH_GRACE = timedelta(seconds=50)


def sweep(now: datetime | None = None) -> dict[str, int]:
    """Enqueue every due delivery and every expired lease (at most PUBLISH_SWEEP_BATCH of
    each per run, oldest first). Returns {"due": n, "expired_leases": m}."""
    from content.services.publishing import enqueue_publish

    now = now or timezone.now()
    not_recent = Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=now - DISPATCH_GRACE)
    batch = settings.PUBLISH_SWEEP_BATCH
    # Every tenant's deliveries, on purpose: the sweeper serves the whole deployment.
    rows = Delivery.objects.all_organizations().select_for_update(skip_locked=True, of=("self",))
    with transaction.atomic():
        due = list(
            rows.filter(
                not_recent,
                Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
                mode=Delivery.Mode.API,
                status__in=WAITING,
                due_at__lte=now,
                share__status__in=PUBLISHABLE_SHARE,
            )
            .exclude(approved_text_hash="")
            .order_by("due_at", "pk")
            .values_list("pk", "organization_id", "share_id")[:batch]
        )
        expired = list(
            rows.filter(not_recent, status=Delivery.Status.PUBLISHING, lease_expires_at__lt=now)
            .order_by("lease_expires_at", "pk")
            .values_list("pk", "organization_id", "share_id")[:batch]
        )
        if due or expired:
            Delivery.objects.all_organizations().filter(pk__in=[pk for pk, _, _ in due + expired]).update(
                dispatched_at=now
            )
            # One organization's deliveries per batch (a batch claims and records per
            # organization), a share's deliveries in one batch.
            by_org: dict[int, list[tuple[int, int]]] = {}
            for pk, org_id, share_id in due + expired:
                by_org.setdefault(org_id, []).append((pk, share_id))
            for rows in by_org.values():
                enqueue_publish([pk for pk, _ in rows], shares=[share_id for _, share_id in rows])
    return {"due": len(due), "expired_leases": len(expired)}
