"""What the employee can do about a delivery: retry it, or take a published share down."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Network, SocialConnection
from accounts.permissions import Permission, require
from accounts.services import connections as accounts_connections
from advocacy import audit
from advocacy.errors import Conflict, NotFound, ValidationFailed
from content import lifecycle
from content.models import Delivery, Share
from networks import errors as net
from networks.base import PublishedPost, client_for


def lock_own_delivery(membership: Membership, delivery_id: int, **filters) -> tuple[Share, Delivery]:
    """The member's delivery and its share, both locked (share first, the order every
    writer uses). NotFound for anyone else's, as if it did not exist."""
    share_id = (
        Delivery.objects.for_org(membership.organization_id)
        .filter(pk=delivery_id, share__author_id=membership.user_id, **filters)
        .values_list("share_id", flat=True)
        .first()
    )
    if share_id is None:
        raise NotFound(_("No such share."))
    share = (
        Share.objects.for_org(membership.organization_id)
        .select_for_update()
        .select_related("item", "organization")
        .get(pk=share_id)
    )
    delivery = (
        Delivery.objects.for_org(membership.organization_id)
        .select_for_update(of=("self",))
        .select_related("connection")
        .get(pk=delivery_id)
    )
    return share, delivery


def refuse_attached_elsewhere(delivery: Delivery, remote_id: str) -> None:
    """ValidationFailed if another delivery already records the post `remote_id` of this
    delivery's network (one post, one share: its likes must not count twice)."""
    taken = (
        Delivery.objects.for_org(delivery.organization_id)
        .filter(network=delivery.network, remote_id=remote_id)
        .exclude(pk=delivery.pk)
        .exists()
    )
    if taken:
        raise ValidationFailed(
            _("That %(network)s post is already attached to another share.")
            % {"network": Network(delivery.network).label},
            fields={"url": [_("Already attached.")]},
        )


@transaction.atomic
def retry_delivery(*, actor: Membership, delivery_id: int) -> Delivery:
    """Send a failed (or reconnect-waiting) delivery again, now.

    Raises NotFound (not the member's), Conflict (already on its way: a double click
    changes nothing; published; or a failure a retry cannot fix, such as a duplicate),
    ValidationFailed (the account still needs reconnecting)."""
    require(actor, Permission.FEED_USE)
    from content.services.publishing import enqueue_publish, text_hash

    share, delivery = lock_own_delivery(actor, delivery_id)
    if delivery.mode != Delivery.Mode.API:
        raise Conflict(_("You post this one yourself in the network's window; there is nothing to retry."))
    if delivery.status in lifecycle.DELIVERY_ON_THE_WAY:
        raise Conflict(_("This post is already on its way; it goes out shortly."))
    if delivery.status not in lifecycle.DELIVERY_RETRYABLE:
        raise Conflict(
            _("This post is %(status)s; there is nothing to retry.") % {"status": delivery.get_status_display().lower()}
        )
    if delivery.failure_reason and delivery.failure_reason not in lifecycle.RETRYABLE_REASONS:
        raise Conflict(
            _("Retrying would not help: %(last_error)s Change the text and share again instead.")
            % {"last_error": delivery.last_error}
        )
    connection = delivery.connection
    if connection is None or connection.status != SocialConnection.Status.ACTIVE:
        network = Network(delivery.network).label
        raise ValidationFailed(
            _("Reconnect your %(network)s account on the Connections page first, then retry.") % {"network": network}
        )
    if share.status not in lifecycle.SHARE_RETRYABLE:
        raise Conflict(
            _("This share is %(status)s; it cannot be retried now.") % {"status": share.get_status_display().lower()}
        )
    if text_hash(delivery.text) != delivery.approved_text_hash:
        raise Conflict(_("This text was not approved as it is; edit the share to send it to review."))
    before = {"reason": delivery.failure_reason}
    delivery.attempts = 0
    delivery.next_attempt_at = None
    delivery.last_error = ""
    delivery.failure_reason = ""
    delivery.due_at = min(delivery.due_at or timezone.now(), timezone.now())
    lifecycle.move_delivery(
        delivery,
        Delivery.Status.PENDING,
        "retry",
        action="delivery.retry_requested",
        fields=["attempts", "next_attempt_at", "last_error", "failure_reason", "due_at"],
        before=before,
    )
    if share.status != Share.Status.PUBLISHING:
        lifecycle.move_share(share, Share.Status.PUBLISHING, "retry")
    enqueue_publish([delivery.pk])
    return delivery


@dataclass
class Removal:
    """What deleting a published share did, per network, in words for the employee."""

    removed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    by_hand: list[str] = field(default_factory=list)


def delete_published_share(*, actor: Membership, share_id: int) -> Removal:
    """Remove the share's posts from the networks where we posted them (client.delete),
    record `removed_at` and audit each. Assisted posts are the employee's to delete (we
    name them). Network calls happen outside the transaction; one network failing does
    not stop the others. Raises NotFound (not the member's share) or Conflict (nothing
    published, or still publishing)."""
    require(actor, Permission.FEED_USE)
    with transaction.atomic():
        share = (
            Share.objects.for_org(actor.organization_id)
            .select_for_update()
            .filter(pk=share_id, author_id=actor.user_id)
            .first()
        )
        if share is None:
            raise NotFound(_("No such share."))
        if share.status not in lifecycle.SHARE_DELETABLE:
            raise Conflict(
                _("This share is %(status)s; only a published share can be deleted.")
                % {"status": share.get_status_display().lower()}
            )
        published = list(
            Delivery.objects.for_org(actor.organization_id)
            .filter(share=share, status=Delivery.Status.PUBLISHED, removed_at__isnull=True)
            .select_related("connection")
        )
        if not published:
            raise Conflict(_("Nothing of this share is on a network any more."))
    result = Removal()
    for delivery in published:
        label = Network(delivery.network).label
        if delivery.mode == Delivery.Mode.ASSISTED or delivery.connection is None:
            result.by_hand.append(label)
            continue
        try:
            connection = accounts_connections.refresh_connection(
                connection_id=delivery.connection_id, organization_id=actor.organization_id
            )
            config = accounts_connections.network_config(actor.organization, delivery.network)
            if connection.status != SocialConnection.Status.ACTIVE or config is None:
                result.problems.append(
                    _("%(network)s: reconnect the account first, then delete again.") % {"network": label}
                )
                continue
            client_for(delivery.network, config).delete(
                access_token=connection.access_token, remote_id=delivery.remote_id
            )
        except net.NetworkError as exc:
            result.problems.append(
                _("%(network)s did not remove it (%(problem)s); try again later.")
                % {"network": label, "problem": exc.message}
            )
            continue
        with transaction.atomic():
            row = Delivery.objects.for_org(actor.organization_id).select_for_update().get(pk=delivery.pk)
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


def attach_post_link(*, actor: Membership, delivery_id: int, url: str) -> Delivery:
    """Attach the post the network has to a delivery whose id we never learned
    (`posted_id_unknown`, or `failed` after an answer was lost): the pasted link is parsed
    into the network's id and the post is fetched with the account's token to check it is
    this account's (where the network lets this app read posts; where it does not, the id
    is taken as given and the audit entry says so). Then the delivery is `published` with
    that id (metrics follow).

    Raises NotFound (not the member's), Conflict (nothing to attach: the delivery is
    published or still on its way), ValidationFailed (not a post link of that network, no
    such post, another account's post, or the account needs reconnecting). The network call
    happens outside any transaction; nothing is written unless it succeeds."""
    require(actor, Permission.FEED_USE)
    with transaction.atomic():
        share, delivery = lock_own_delivery(actor, delivery_id, mode=Delivery.Mode.API)
        lifecycle.check_delivery(delivery, "attach")
    label = Network(delivery.network).label
    config = accounts_connections.network_config(actor.organization, delivery.network)
    connection = delivery.connection
    if connection is not None and config is not None:
        connection = accounts_connections.refresh_connection(
            connection_id=connection.pk, organization_id=actor.organization_id
        )
    if connection is None or config is None or connection.status != SocialConnection.Status.ACTIVE:
        raise ValidationFailed(
            _("Reconnect your %(network)s account on the Connections page first, then attach the link.")
            % {"network": label}
        )
    client = client_for(delivery.network, config)
    verified = True
    try:
        remote_id = client.post_id_from_url(url or "")
        post = client.verify_post(
            access_token=connection.access_token, author_id=connection.remote_id, remote_id=remote_id
        )
    except net.PostUnverifiable as exc:
        # The network does not let this app read posts (LinkedIn without partner scopes):
        # the link's id is taken as given, and the audit entry says it was not checked.
        post, verified = PublishedPost(remote_id=exc.remote_id, url=exc.url), False
    except net.PermanentRejection as exc:
        raise ValidationFailed(exc.message, fields={"url": [exc.message]}) from None
    except net.NetworkError as exc:
        raise ValidationFailed(
            _("%(network)s did not answer (%(problem)s); nothing was changed. Try again in a minute.")
            % {"network": label, "problem": exc.message},
            fields={"url": [_("Try again.")]},
        ) from None
    with transaction.atomic():
        share, delivery = lock_own_delivery(actor, delivery_id, mode=Delivery.Mode.API)
        lifecycle.check_delivery(delivery, "attach")
        refuse_attached_elsewhere(delivery, post.remote_id)
        before = {"reason": delivery.failure_reason}
        delivery.remote_id = post.remote_id
        delivery.remote_url = post.url
        delivery.published_at = delivery.published_at or timezone.now()
        delivery.last_error = ""
        delivery.failure_reason = ""
        delivery.outcome_unknown = False
        lifecycle.move_delivery(
            delivery,
            Delivery.Status.PUBLISHED,
            "attach",
            action="delivery.post_attached",
            fields=["remote_id", "remote_url", "published_at", "last_error", "failure_reason", "outcome_unknown"],
            before=before,
            after={
                "remote_id": post.remote_id,
                "remote_url": post.url,
                "pasted": (url or "")[:500],
                "verified_on_the_network": verified,
            },
        )
        from content.services.publishing.engine import roll_up

        roll_up(share)
    return delivery
