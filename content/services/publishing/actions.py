"""What the employee can do about a delivery: retry it, or take a published share down."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Network, SocialConnection
from accounts.services import connections as accounts_connections
from advocacy import audit
from advocacy.errors import Conflict, NotFound, ValidationFailed
from content.models import Delivery, Share
from content.services.publishing.engine import RETRYABLE, set_share_status
from networks import errors as net
from networks.base import client_for


def _lock_own_delivery(membership: Membership, delivery_id: int) -> tuple[Share, Delivery]:
    share_id = (
        Delivery.objects.for_org(membership.organization_id)
        .filter(pk=delivery_id, share__author_id=membership.user_id)
        .values_list("share_id", flat=True)
        .first()
    )
    if share_id is None:
        raise NotFound("No such share.")
    share = Share.objects.for_org(membership.organization_id).select_for_update().get(pk=share_id)
    delivery = (
        Delivery.objects.for_org(membership.organization_id)
        .select_for_update(of=("self",))
        .select_related("connection")
        .get(pk=delivery_id)
    )
    return share, delivery


@transaction.atomic
def retry_delivery(*, membership: Membership, delivery_id: int) -> Delivery:
    """Send a failed (or reconnect-waiting) delivery again, now.

    Raises NotFound (not the member's), Conflict (already on its way: a double click
    changes nothing; published; or a failure a retry cannot fix, such as a duplicate),
    ValidationFailed (the account still needs reconnecting)."""
    from content.services.publishing import enqueue_publish, text_hash

    share, delivery = _lock_own_delivery(membership, delivery_id)
    if delivery.mode != Delivery.Mode.API:
        raise Conflict("You post this one yourself in the network's window; there is nothing to retry.")
    if delivery.status in (Delivery.Status.PENDING, Delivery.Status.RETRYING, Delivery.Status.PUBLISHING):
        raise Conflict("This post is already on its way; it goes out shortly.")
    if delivery.status not in (Delivery.Status.FAILED, Delivery.Status.NEEDS_RECONNECT):
        raise Conflict(f"This post is {delivery.get_status_display().lower()}; there is nothing to retry.")
    if delivery.failure_reason and delivery.failure_reason not in RETRYABLE:
        raise Conflict(f"Retrying would not help: {delivery.last_error} Change the text and share again instead.")
    connection = delivery.connection
    if connection is None or connection.status != SocialConnection.Status.ACTIVE:
        network = Network(delivery.network).label
        raise ValidationFailed(f"Reconnect your {network} account on the Connections page first, then retry.")
    if share.status not in (Share.Status.PUBLISHING, Share.Status.PUBLISHED, Share.Status.FAILED):
        raise Conflict(f"This share is {share.get_status_display().lower()}; it cannot be retried now.")
    if text_hash(delivery.text) != delivery.approved_text_hash:
        raise Conflict("This text was not approved as it is; edit the share to send it to review.")
    before = {"status": delivery.status, "reason": delivery.failure_reason}
    delivery.status = Delivery.Status.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = None
    delivery.last_error = ""
    delivery.failure_reason = ""
    delivery.due_at = min(delivery.due_at or timezone.now(), timezone.now())
    delivery.save(
        update_fields=["status", "attempts", "next_attempt_at", "last_error", "failure_reason", "due_at", "updated_at"]
    )
    audit.record(
        "delivery.retry_requested",
        organization_id=delivery.organization_id,
        target=delivery,
        before=before,
        after={"status": "pending"},
    )
    if share.status != Share.Status.PUBLISHING:
        set_share_status(share, Share.Status.PUBLISHING)
    enqueue_publish([delivery.pk])
    return delivery


@dataclass
class Removal:
    """What deleting a published share did, per network, in words for the employee."""

    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    by_hand: list[str] = field(default_factory=list)


def delete_published_share(*, membership: Membership, share_id: int) -> Removal:
    """Remove the share's posts from the networks where we posted them (client.delete),
    record `removed_at` and audit each. Assisted posts are the employee's to delete (we
    name them). Network calls happen outside the transaction; one network failing does
    not stop the others. Raises NotFound (not the member's share) or Conflict (nothing
    published, or still publishing)."""
    with transaction.atomic():
        share = (
            Share.objects.for_org(membership.organization_id)
            .select_for_update()
            .filter(pk=share_id, author_id=membership.user_id)
            .first()
        )
        if share is None:
            raise NotFound("No such share.")
        if share.status not in (Share.Status.PUBLISHED, Share.Status.FAILED):
            raise Conflict(
                f"This share is {share.get_status_display().lower()}; only a published share can be deleted."
            )
        published = list(
            Delivery.objects.for_org(membership.organization_id)
            .filter(share=share, status=Delivery.Status.PUBLISHED, removed_at__isnull=True)
            .select_related("connection")
        )
        if not published:
            raise Conflict("Nothing of this share is on a network any more.")
    result = Removal()
    for delivery in published:
        label = Network(delivery.network).label
        if delivery.mode == Delivery.Mode.ASSISTED or delivery.connection is None:
            result.by_hand.append(label)
            continue
        try:
            connection = accounts_connections.refresh_connection(
                connection_id=delivery.connection_id, organization_id=membership.organization_id
            )
            config = accounts_connections.network_config(membership.organization, delivery.network)
            if connection.status != SocialConnection.Status.ACTIVE or config is None:
                result.problems.append(f"{label}: reconnect the account first, then delete again.")
                continue
            client_for(delivery.network, config).delete(
                access_token=connection.access_token, remote_id=delivery.remote_id
            )
        except net.NetworkError as exc:
            result.problems.append(f"{label} did not remove it ({exc.message}); try again later.")
            continue
        with transaction.atomic():
            row = Delivery.objects.for_org(membership.organization_id).select_for_update().get(pk=delivery.pk)
            if row.removed_at is None:
                row.removed_at = timezone.now()
                row.save(update_fields=["removed_at", "updated_at"])
                audit.record(
                    "delivery.removed",
                    organization_id=row.organization_id,
                    target=row,
                    before={"remote_id": row.remote_id, "removed_at": None},
                    after={"removed_at": row.removed_at.isoformat()},
                )
        result.removed.append(label)
    return result
