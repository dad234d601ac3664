"""Publishing: approved deliveries go out once, at their time (DESIGN.md, the share lifecycle).

`approve()` is the one door from "approved" into the pipeline: it is called by screening
when a share needs no review (`content.services.sharing`) and by a reviewer's decision
(`compliance.services`). It records the hash of every delivery's approved text (a text
that later differs is not published), sets when each delivery is due, and enqueues the
ones due now only after the transaction commits; the sweeper finds the rest.
"""

from __future__ import annotations

import hashlib

from celery import current_app
from django.db import transaction
from django.utils import timezone

from content.models import Delivery, Share

PUBLISH_TASK = "content.tasks.publish_delivery"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def enqueue_publish(delivery_ids: list[int]) -> None:
    """Hand deliveries to the publish queue once the current transaction commits (never
    before: a rolled-back transaction enqueues nothing)."""
    ids = list(delivery_ids)
    if not ids:
        return

    def send():
        for pk in ids:
            current_app.send_task(PUBLISH_TASK, args=[pk], queue="publish")

    transaction.on_commit(send)


def approve(share: Share, *, deliveries: list[Delivery] | None = None) -> dict[int, str]:
    """Approve the share's current texts. Returns {delivery id: sha256 of the approved text}.

    Must run inside the transaction that decides (the caller holds the share's row lock).
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
        delivery.save(update_fields=["approved_text_hash", "due_at", "next_attempt_at", "updated_at"])
        hashes[delivery.pk] = delivery.approved_text_hash
    share.status = Share.Status.SCHEDULED if due > now else Share.Status.APPROVED
    share.save(update_fields=["status", "updated_at"])
    if due <= now:
        enqueue_publish([d.pk for d in deliveries if d.mode == Delivery.Mode.API and d.pk in hashes])
    return hashes
