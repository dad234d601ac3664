"""Publishing: approved deliveries go out once, at their time (DESIGN.md, the share lifecycle).

`approve()` is the one door from "approved" into the pipeline: it is called by screening
when a share needs no review (`content.services.sharing`) and by a reviewer's decision
(`compliance.services`). It records the hash of every delivery's approved text (a text
that later differs is not published), sets when each delivery is due, and enqueues the
ones due now only after the transaction commits; the sweeper finds the rest.

The pipeline itself lives in the modules of this package:

* `engine`: `publish(delivery_id)`, one delivery, exactly once (claim, call, record);
* `batch`: `publish_many(delivery_ids)`, the engine's steps done once for many deliveries;
* `sweeper`: `sweep()`, every minute: due deliveries no task holds, expired leases;
* `actions`: the employee's `retry_delivery` and `delete_published_share`;
* `limits`: the shared per-account and per-app rate limiter (Redis).
"""

from __future__ import annotations

import hashlib

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from content import lifecycle
from content.models import Delivery, Share

PUBLISH_TASK = "content.tasks.publish_delivery"
PUBLISH_BATCH_TASK = "content.tasks.publish_deliveries"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def enqueue_publish(
    delivery_ids: list[int], *, countdown: float | None = None, shares: list[int] | None = None
) -> None:
    """Hand deliveries to the publish queue once the current transaction commits (never
    before: a rolled-back transaction enqueues nothing), in batches of PUBLISH_BATCH_SIZE
    (`batch.publish_many`; a batch of one is the engine's own task). With `shares` (each
    delivery's share, in the same order) a share's deliveries stay in one batch: a batch
    takes whole shares until it holds PUBLISH_BATCH_SIZE or more, so two batches never lock
    the same share or both roll it up. A message delivered twice is harmless: the task
    locks and re-checks the rows."""
    ids = list(delivery_ids)
    if not ids:
        return
    queue = settings.PUBLISH_QUEUE
    options = {"countdown": countdown} if countdown else {}
    chunks = _batches(ids, shares, max(settings.PUBLISH_BATCH_SIZE, 1))

    def send():
        for chunk in chunks:
            if len(chunk) == 1:
                current_app.send_task(PUBLISH_TASK, args=chunk, queue=queue, **options)
            else:
                current_app.send_task(PUBLISH_BATCH_TASK, args=[chunk], queue=queue, **options)

    transaction.on_commit(send)


def _batches(ids: list[int], shares: list[int] | None, size: int) -> list[list[int]]:
    """`ids` cut into batches of `size`; with `shares`, of whole shares (see enqueue_publish).
    A size of 1 is no batching: one task a delivery, whatever `shares` says."""
    if shares is None or size == 1:
        return [ids[start : start + size] for start in range(0, len(ids), size)]
    by_share: dict[int, list[int]] = {}
    for pk, share_id in zip(ids, shares, strict=True):
        by_share.setdefault(share_id, []).append(pk)
    chunks: list[list[int]] = [[]]
    for group in by_share.values():
        if len(chunks[-1]) >= size:
            chunks.append([])
        chunks[-1] += group
    return chunks


def approve(
    share: Share, *, deliveries: list[Delivery] | None = None, kind: str = "decide", audit_after: dict | None = None
) -> dict[int, str]:
    """Approve the share's current texts. Returns {delivery id: sha256 of the approved text}.

    `kind` is the lifecycle transition: "decide" (a reviewer approved) or "route" (no human
    was needed); `audit_after` adds to the share's audit entry. Must run inside the
    transaction that decides (the caller holds the share's row lock).
    """
    now = timezone.now()
    if deliveries is None:
        deliveries = list(
            Delivery.objects.for_org(share.organization_id).filter(share=share, status=Delivery.Status.PENDING)
        )
    due = share.scheduled_for if share.scheduled_for and share.scheduled_for > now else now
    hashes: dict[int, str] = {}
    for delivery in deliveries:
        if delivery.status != Delivery.Status.PENDING:
            continue
        delivery.approved_text_hash = text_hash(delivery.text)
        delivery.due_at = due
        delivery.next_attempt_at = None
        delivery.last_error = ""
        delivery.failure_reason = ""
        delivery.save(
            update_fields=[
                "approved_text_hash",
                "due_at",
                "next_attempt_at",
                "last_error",
                "failure_reason",
                "updated_at",
            ]
        )
        hashes[delivery.pk] = delivery.approved_text_hash
    _on_the_way(
        share,
        [d for d in deliveries if d.pk in hashes],
        due,
        now,
        kind,
        action="share.routed" if kind == "route" else "",
        after=audit_after,
    )
    return hashes


def _on_the_way(
    share: Share, deliveries, due, now, kind: str, *, action: str | None, after: dict | None, fields=()
) -> None:
    """The share scheduled (due later) or approved (due now: its API deliveries enqueued)."""
    status = Share.Status.SCHEDULED if due > now else Share.Status.APPROVED
    lifecycle.move_share(share, status, kind, action=action, after=after, fields=fields)
    if due <= now:
        enqueue_publish([d.pk for d in deliveries if d.mode == Delivery.Mode.API])


def release(share: Share, *, action: str, after: dict | None = None, fields=(), publishing: bool = False) -> None:
    """Send a share held while approved back on its way, as approved (its texts' approval
    stands: a held share cannot be edited, and the engine still compares every text with
    its approved hash): scheduled when its time is still ahead, else due now. A share held
    while `publishing` goes back to publishing with its waiting deliveries due now (one whose
    outcome is unknown is reconciled first by the engine) and follows its deliveries.
    `fields`: more of the share's fields to save. Must run inside the transaction that holds
    the share's row lock."""
    now = timezone.now()
    due = share.scheduled_for if share.scheduled_for and share.scheduled_for > now and not publishing else now
    deliveries = list(
        Delivery.objects.for_org(share.organization_id).filter(
            share=share, status__in=lifecycle.DELIVERY_WAITING, approved_text_hash__gt=""
        )
    )
    Delivery.objects.for_org(share.organization_id).filter(pk__in=[d.pk for d in deliveries]).update(
        due_at=due, next_attempt_at=None, dispatched_at=None, updated_at=now
    )
    if not publishing:
        _on_the_way(share, deliveries, due, now, "release", action=action, after=after, fields=fields)
        return
    lifecycle.move_share(share, Share.Status.PUBLISHING, "release", action=action, after=after, fields=fields)
    enqueue_publish([d.pk for d in deliveries if d.mode == Delivery.Mode.API])
    roll_up(share)  # nothing left waiting: published or failed at once


# The pipeline (imported last: these modules use the helpers above).
from content.services.publishing.actions import (  # noqa: E402
    attach_post_link,
    delete_published_share,
    lock_own_delivery,
    refuse_attached_elsewhere,
    retry_delivery,
)
from content.services.publishing.engine import can_retry, publish, roll_up  # noqa: E402
from content.services.publishing.sweeper import sweep  # noqa: E402

__all__ = [
    "PUBLISH_BATCH_TASK",
    "PUBLISH_TASK",
    "approve",
    "attach_post_link",
    "can_retry",
    "delete_published_share",
    "enqueue_publish",
    "lock_own_delivery",
    "publish",
    "refuse_attached_elsewhere",
    "release",
    "retry_delivery",
    "sweep",
    "text_hash",
]
