"""Publishing one delivery, exactly once (DESIGN.md, the share lifecycle).

`publish(delivery_id)` runs in three steps so that a worker killed at any point, a message
delivered twice or two sweepers at once never post twice:

1. *Claim*, in a short transaction: lock the share, then the delivery with SKIP LOCKED
   (a row another task holds is left alone), check that it is publishable now, mark it
   `publishing` with a lease and commit. From then on the database says a call may be in
   flight.
2. *Call* the network outside any transaction (fresh token first; reconcile first when an
   earlier call's outcome is unknown).
3. *Record*, in a new transaction: the remote id and URL together with `published` (only
   while the lease is still ours), or `retrying` / `failed` / `needs_reconnect` with the
   reason. The share follows its deliveries.

A delivery left in `publishing` past its lease (its worker died) is claimed again by the
sweeper's task and reconciled: the network is searched for the post before anything is
sent again.

A suspended author's delivery is never sent: the claim locks the author's membership
before the share (the order a suspension locks them in, so a suspension in flight and a
claim wait for each other) and, finding it suspended, holds the share
(`lifecycle.hold_share`) and leaves the delivery waiting. A delivery whose earlier call may
have posted (lease ran out, outcome unknown) is still reconciled, by a search only: a post
found is recorded, none found leaves it waiting, unsent (`reconcile_only`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import re
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from accounts.models import Network, NetworkApp, Notification, Organization, SocialConnection, User
from accounts.services import connections as accounts_connections
from accounts.services.notifications import Notice, notify, notify_many
from advocacy import audit
from advocacy.languages import for_recipient, later
from advocacy.sql import model_columns, model_from_row, tenant_rows
from content import lifecycle
from content.models import ContentItem, Delivery, Share
from content.services.publishing import images, limits
from networks import errors as net
from networks.base import ImageUpload, NetworkClient, NetworkConfig, PublishedPost, client_for

logger = logging.getLogger(__name__)

PUBLISHABLE_SHARE = lifecycle.SHARE_PUBLISHABLE
WAITING = lifecycle.DELIVERY_WAITING
RETRYABLE = lifecycle.RETRYABLE_REASONS
# Re-enqueue with a countdown when the wait is short; longer waits are the sweeper's.
COUNTDOWN_LIMIT = 15 * 60


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    organization_id: int
    share_id: int
    network: str
    connection_id: int | None
    text: str
    tracking_code: str
    lease_expires_at: datetime
    reconcile_first: bool
    reconcile_only: bool = False  # its author is suspended (or the share held): search, never post
    title: str = ""  # the content item's, for LinkedIn's article card
    description: str = ""
    picture: images.Picture | None = None  # posted natively, uploaded once for this delivery
    connection: SocialConnection | None = None  # as the claim read it (not locked), tokens and all
    # The network's app as a batch's claim read it (one read for the batch); else read at the call.
    config: NetworkConfig | None = None
    config_read: bool = False


@dataclass(frozen=True)
class Outcome:
    kind: str  # "published" | "posted_id_unknown" | "retry" | "failed" | "needs_reconnect" | "held"
    post: PublishedPost | None = None
    reason: str = ""  # failure_reason code
    words: str = ""  # for the employee
    retry_at: datetime | None = None
    outcome_unknown: bool = False


def can_retry(delivery: Delivery) -> bool:
    """Whether the employee's "retry" can help this delivery (not a duplicate or too long)."""
    return (
        delivery.mode == Delivery.Mode.API
        and delivery.status in lifecycle.DELIVERY_RETRYABLE
        and (not delivery.failure_reason or delivery.failure_reason in RETRYABLE)
    )


# --- step 1: claim ------------------------------------------------------------------------


def publish(delivery_id: int) -> str:
    """Publish one delivery if it is due and no one else holds it. Returns what happened
    ("published", "retrying", "failed", "needs_reconnect", "deferred", "skipped", ...).

    Never raises for the network's failures (they are recorded on the delivery)."""
    located = _locate(delivery_id)
    if located is None:
        return "missing"
    # The words kept on the delivery (why it failed or waits) are for its author: their language.
    with for_recipient(located.author, located.organization):
        claim, word = _claim(delivery_id, located)
        if claim is None:
            return word
        with call_slot():
            outcome = _call(claim)
        return _record(claim, outcome)


@dataclass(frozen=True)
class _Located:
    organization_id: int
    share_id: int
    author_id: int
    author: User  # with just what `for_recipient` reads: language and zone
    organization: Organization


def _locate(delivery_id: int) -> _Located | None:
    """Where the delivery is, and its author's and organization's language and zone, in one
    narrow read (the task carries only the id, so the organization is looked up on purpose)."""
    return locate_many([delivery_id]).get(delivery_id)


def locate_many(delivery_ids: list[int]) -> dict[int, _Located]:
    """`_locate` for several deliveries in one read: {delivery id: where it is}; an id
    missing from the answer names no delivery."""
    rows = (
        Delivery.objects.all_organizations()
        .filter(pk__in=delivery_ids)
        .order_by()
        .values_list(
            "pk",
            "organization_id",
            "share_id",
            "share__author_id",
            "share__author__language",
            "share__author__timezone",
            "organization__default_language",
            "organization__timezone",
        )
    )
    return {
        pk: _Located(
            organization_id=org_id,
            share_id=share_id,
            author_id=author_id,
            author=User(pk=author_id, language=language, timezone=zone),
            organization=Organization(pk=org_id, default_language=org_language, timezone=org_zone),
        )
        for pk, org_id, share_id, author_id, language, zone, org_language, org_zone in rows
    }


# FOR SHARE: it conflicts with the suspension's FOR UPDATE (and any UPDATE of the row), so a
# claim and a suspension of its author wait for each other, but not with another claim's
# FOR SHARE: the claims of one author's deliveries (a batch's, every thread's) never queue on
# it. (FOR NO KEY UPDATE, before, made them take turns: a batch claim waited for the others.)
_AUTHORS_ACTIVE_SQL = (
    "SELECT user_id, is_active FROM accounts_membership WHERE organization_id = %(org)s "
    "AND user_id = ANY(%(ids)s) ORDER BY user_id FOR SHARE"
)


def authors_active(org_id: int, author_ids: Iterable[int]) -> dict[int, bool]:
    """{author id: whether their membership is active}, the rows locked in id order until
    the transaction commits, as a claim needs them (see above); an author without a
    membership is missing."""
    return dict(tenant_rows(org_id, _AUTHORS_ACTIVE_SQL, {"ids": sorted(set(author_ids))}))


# The claims' and the batch's record's locking reads, written out: the ORM's building of the
# same statements cost twice the CPU of running them (bench/_publish_profile.py).
_SHARE_COLUMNS = ", ".join(model_columns(m, a) for m, a in ((Share, "s"), (ContentItem, "i"), (Organization, "o")))
_DELIVERY_COLUMNS = ", ".join(model_columns(m, a) for m, a in ((Delivery, "d"), (SocialConnection, "c")))
_SHARES_SQL = (
    f"SELECT {_SHARE_COLUMNS} FROM content_share s JOIN content_contentitem i ON i.id = s.item_id "  # noqa: S608 (the models' columns)
    "JOIN accounts_organization o ON o.id = s.organization_id "
    "WHERE s.organization_id = %(org)s AND s.id = ANY(%(ids)s) ORDER BY s.id FOR UPDATE OF s"
)
_DELIVERIES_SQL = {
    skip_locked: f"SELECT {_DELIVERY_COLUMNS} FROM content_delivery d "  # noqa: S608 (the models' columns)
    "LEFT JOIN accounts_socialconnection c ON c.id = d.connection_id "
    "WHERE d.organization_id = %(org)s AND d.id = ANY(%(ids)s) ORDER BY d.id FOR UPDATE OF d"
    + (" SKIP LOCKED" if skip_locked else "")
    for skip_locked in (False, True)
}


def lock_shares(org_id: int, ids: Iterable[int]) -> dict[int, Share]:
    """The shares, locked in id order, each with its item and organization loaded."""
    share_width, item_width = len(Share._meta.concrete_fields), len(ContentItem._meta.concrete_fields)
    shares = {}
    for row in tenant_rows(org_id, _SHARES_SQL, {"ids": sorted(ids)}):
        share = model_from_row(Share, row[:share_width])
        share.item = model_from_row(ContentItem, row[share_width : share_width + item_width])
        share.organization = model_from_row(Organization, row[share_width + item_width :])
        shares[share.pk] = share
    return shares


def lock_deliveries(org_id: int, ids: Iterable[int], *, skip_locked: bool) -> dict[int, Delivery]:
    """The deliveries, locked in id order (those another holds left out with `skip_locked`),
    each with its connection loaded (None when it has none)."""
    width = len(Delivery._meta.concrete_fields)
    deliveries = {}
    for row in tenant_rows(org_id, _DELIVERIES_SQL[skip_locked], {"ids": sorted(ids)}):
        delivery = model_from_row(Delivery, row[:width])
        delivery.connection = model_from_row(SocialConnection, row[width:]) if row[width] is not None else None
        deliveries[delivery.pk] = delivery
    return deliveries


def start_publishing(shares: Iterable[Share]) -> None:
    """The (locked) shares of deliveries just claimed start publishing, each once (a held
    share stays held: only its reconciliation was claimed)."""
    starting = {share.pk: share for share in shares if share.status not in (Share.Status.PUBLISHING, Share.Status.HELD)}
    lifecycle.move_each(list(starting.values()), Share.Status.PUBLISHING, "start")


def _author_suspended(org_id: int, author_id: int) -> bool:
    """Whether the author's membership is suspended, its row locked until the claim commits."""
    return authors_active(org_id, [author_id]).get(author_id) is False


def _claim(delivery_id: int, located: _Located) -> tuple[Claim | None, str]:
    org_id, share_id, author_id = located.organization_id, located.share_id, located.author_id
    now = timezone.now()
    with audit.linked_after_commit(), transaction.atomic():
        # The author's membership, then the share, then the delivery: the order a suspension
        # (membership, then shares), cancel_share and reviewers (share, then delivery) use.
        suspended = _author_suspended(org_id, author_id)
        share = lock_shares(org_id, [share_id]).get(share_id)
        delivery = lock_deliveries(org_id, [delivery_id], skip_locked=True).get(delivery_id)
        if share is None or delivery is None:
            return None, "skipped"  # another task holds it
        if delivery.mode != Delivery.Mode.API:
            return None, "skipped"
        reconcile = False
        reconcile_only = suspended or share.status == Share.Status.HELD
        if reconcile_only:
            word = "skipped"  # held already
            if suspended and share.status in lifecycle.SHARE_HOLDABLE:
                lifecycle.hold_share(share, by="publishing: its author is suspended", now=now)
                word = "held"
            live = delivery.lease_expires_at and delivery.lease_expires_at > now
            ambiguous = (delivery.status == Delivery.Status.PUBLISHING and not live) or (
                delivery.status in WAITING and delivery.outcome_unknown
            )
            if not ambiguous:
                return None, word
            reconcile = True
        if delivery.status == Delivery.Status.PUBLISHING:
            if delivery.lease_expires_at and delivery.lease_expires_at > now:
                return None, "skipped"  # a live worker is calling the network
            # Its worker died mid-call: the post may exist. Look before sending again.
            reconcile = True
            audit.record(
                "delivery.lease_expired",
                organization_id=org_id,
                target=delivery,
                before={"status": "publishing", "lease_expires_at": _iso(delivery.lease_expires_at)},
                after={"status": "publishing", "reconcile": True},
            )
        elif delivery.status in WAITING and reconcile_only:
            pass  # its earlier call may have posted: look for it, send nothing
        elif delivery.status in WAITING:
            word = not_sendable(share, delivery, now)
            if word == "text_changed":
                from content.services.sharing import return_to_review

                return_to_review(share, delivery)
            if word == "account":
                problem = _connection_problem(delivery.connection)
                _apply(share, delivery, problem, now)
                return None, problem.kind
            if word:
                return None, word
            wait = limits.acquire(
                delivery.network, account=delivery.connection.remote_id, app=lambda: _app_id(org_id, delivery.network)
            )
            if wait > 0:
                delivery.next_attempt_at = now + timedelta(seconds=wait)
                delivery.save(update_fields=["next_attempt_at", "updated_at"])
                _requeue(delivery.pk, wait)
                return None, "deferred"
            reconcile = delivery.outcome_unknown
            delivery.attempts += 1
        else:
            return None, "skipped"  # published, failed, cancelled, waiting for a reconnect
        delivery.lease_expires_at = now + timedelta(seconds=settings.PUBLISH_LEASE_SECONDS)
        lifecycle.move_delivery(
            delivery,
            Delivery.Status.PUBLISHING,
            "claim",
            action="" if reconcile and delivery.status == Delivery.Status.PUBLISHING else None,
            fields=["lease_expires_at", "attempts"],
            after={"attempt": delivery.attempts},
        )
        start_publishing([share])
        claim = claim_of(share, delivery, reconcile_first=reconcile, reconcile_only=reconcile_only)
    return claim, "claimed"


def claim_of(share: Share, delivery: Delivery, **more) -> Claim:
    """The claim on a delivery just moved to `publishing` (its share loaded with its item,
    its connection with it); `more`: the Claim's other fields."""
    return Claim(
        delivery_id=delivery.pk,
        organization_id=delivery.organization_id,
        share_id=share.pk,
        network=delivery.network,
        connection_id=delivery.connection_id,
        text=delivery.text,
        tracking_code=delivery.tracking_code,
        lease_expires_at=delivery.lease_expires_at,
        title=share.item.title,
        description=share.item.description,
        picture=images.picture_for(share, delivery),
        connection=delivery.connection,
        **more,
    )


def not_sendable(share: Share, delivery: Delivery, now: datetime) -> str:
    """Why a waiting delivery may not be sent now, its share and it locked: "" when it may
    (a rate-limit slot aside), else "skipped" (its share cancelled, back in review...),
    "not_due", "text_changed" (not the approved text) or "account" (disconnected or to be
    reconnected: `_connection_problem`). The engine's claim and the batch's both ask it."""
    from content.services.publishing import text_hash

    if share.status not in PUBLISHABLE_SHARE:
        return "skipped"
    if not delivery.approved_text_hash or delivery.due_at is None or delivery.due_at > now:
        return "not_due"
    if delivery.next_attempt_at and delivery.next_attempt_at > now:
        return "not_due"
    if text_hash(delivery.text) != delivery.approved_text_hash:
        return "text_changed"
    if _connection_problem(delivery.connection) is not None:
        return "account"
    return ""


def _connection_problem(connection: SocialConnection | None) -> Outcome | None:
    if connection is None or connection.status == SocialConnection.Status.DISCONNECTED:
        return Outcome(
            "failed",
            reason="needs_reconnect",
            words=_("The account was disconnected, so nothing was posted. Connect it again, then retry."),
        )
    if connection.status == SocialConnection.Status.NEEDS_RECONNECT:
        return Outcome("needs_reconnect", reason="needs_reconnect", words=_reconnect_words(connection))
    return None


def _reconnect_words(connection: SocialConnection) -> str:
    network = connection.get_network_display()
    return _("%(network)s no longer accepts our access to your account. Reconnect %(network)s, then retry.") % {
        "network": network
    }


def _app_id(org_id: int, network: str) -> str:
    client_id = NetworkApp.objects.for_org(org_id).filter(network=network).values_list("client_id", flat=True).first()
    return app_id_of(network, client_id)


def app_id_of(network: str, client_id: str | None) -> str:
    """The id the rate limiter counts an app's calls under: the org's own app's client id
    (None: it has none), else the deployment's, else "none"."""
    return client_id or settings.NETWORK_APPS.get(network, ("", ""))[0] or "none"


# --- step 2: call the network (no transaction open) -----------------------------------------


def _connected(claim: Claim) -> tuple[SocialConnection, NetworkConfig] | Outcome:
    """The claim's connection (refreshed when due) and its network's configuration, or the
    outcome that ends the call before any request to the network."""
    if claim.connection_id is None:
        return Outcome("failed", reason="needs_reconnect", words=_("The account is no longer connected."))
    try:
        connection = accounts_connections.refresh_connection(
            connection_id=claim.connection_id, organization_id=claim.organization_id, read=claim.connection
        )
    except net.RateLimited as exc:
        remote_id = (
            SocialConnection.objects.for_org(claim.organization_id)
            .filter(pk=claim.connection_id)
            .values_list("remote_id", flat=True)
            .first()
        )
        retry_at = limits.retry_at_after_429(claim.network, account=remote_id or "", exc=exc, now=timezone.now())
        return Outcome("retry", reason="rate_limited", words=_words(exc), retry_at=retry_at)
    except net.NetworkError as exc:
        return Outcome("retry", reason="transient", words=_words(exc), outcome_unknown=claim.reconcile_first)
    if connection.status != SocialConnection.Status.ACTIVE:
        return Outcome("needs_reconnect", reason="needs_reconnect", words=_reconnect_words(connection))
    if claim.config_read:
        config = claim.config
    else:
        config = accounts_connections.network_config(claim.organization_id, claim.network)
    if config is None:
        return Outcome(
            "failed",
            reason="not_configured",
            words=_("%(network)s is not set up for your organization any more; ask your admin, then retry.")
            % {"network": Network(claim.network).label},
        )
    return connection, config


@dataclass(frozen=True)
class _Capacity:
    """A process's PUBLISH_CALLS_IN_FLIGHT: the slots every call holds, and the pool of one
    thread per slot that makes the batches' calls (its threads start on first use)."""

    slots: threading.BoundedSemaphore
    pool: ThreadPoolExecutor


_capacity_lock = threading.Lock()
_capacities: dict[tuple[int, int], _Capacity] = {}  # by (process id, PUBLISH_CALLS_IN_FLIGHT)


def _capacity() -> _Capacity | None:
    size = settings.PUBLISH_CALLS_IN_FLIGHT  # tests change it
    if size <= 0:
        return None
    with _capacity_lock:
        key = (os.getpid(), size)  # a forked child makes its own: threads and held slots do not survive a fork
        if key not in _capacities:
            pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="publish-call")
            _capacities[key] = _Capacity(threading.BoundedSemaphore(size), pool)
        return _capacities[key]


@contextlib.contextmanager
def call_slot() -> Iterator[None]:
    """One of this process's PUBLISH_CALLS_IN_FLIGHT slots, held while a delivery talks to its
    network (`_call`; a batch's call renews its lease inside it too). Taken by a thread
    publishing one delivery, and by the threads of the `call_pool`, so the process has that
    many calls in flight, never more, while its other threads claim and record. 0: no bound
    (a thread calls as soon as it gets there)."""
    capacity = _capacity()
    if capacity is None:
        yield
        return
    with capacity.slots:
        yield


def call_pool() -> ThreadPoolExecutor | None:
    """The process's threads for the batches' calls, one per call slot; None without slots
    (a batch then calls one after the other in its own thread)."""
    capacity = _capacity()
    return capacity.pool if capacity is not None else None


def _call(claim: Claim) -> Outcome:
    """The claim's calls to its network (refresh, publish, lookups): the outcome to record.
    The caller holds a `call_slot`."""
    if claim.reconcile_only:
        return _reconcile_only(claim)
    ready = _connected(claim)
    if isinstance(ready, Outcome):
        return ready
    connection, config = ready
    client = client_for(claim.network, config)
    uploaded = _Uploaded(images.own_upload(claim.picture, timezone.now()) if claim.picture else None)
    refreshed = False
    while True:
        try:
            return _attempt(claim, client, connection, uploaded)
        except images.LeaseLost:
            # Another worker holds the delivery now: post nothing (the record step says so).
            return Outcome("retry", reason="transient", words=_("Publishing was handed to another worker."))
        except (net.TokenExpired, net.TokenRevoked) as exc:
            # A Page token is re-derived from the member's user token, which tells whether
            # the member must reconnect (both rows then say so); a member's revoked token
            # cannot be refreshed.
            page = connection.kind == SocialConnection.Kind.PAGE
            if refreshed or (isinstance(exc, net.TokenRevoked) and not page):
                accounts_connections.mark_needs_reconnect(connection, _words(exc))
                return Outcome("needs_reconnect", reason="needs_reconnect", words=_reconnect_words(connection))
            refreshed = True
            try:
                connection = accounts_connections.refresh_connection(
                    connection_id=connection.pk, organization_id=claim.organization_id, force=True
                )
            except net.NetworkError as refresh_error:
                return Outcome(
                    "retry", reason="transient", words=_words(refresh_error), outcome_unknown=claim.reconcile_first
                )
            if connection.status != SocialConnection.Status.ACTIVE:
                return Outcome("needs_reconnect", reason="needs_reconnect", words=_reconnect_words(connection))
        except net.RateLimited as exc:
            return Outcome(
                "retry",
                reason="rate_limited",
                words=_words(exc),
                retry_at=limits.retry_at_after_429(
                    claim.network, account=connection.remote_id, exc=exc, now=timezone.now()
                ),
                outcome_unknown=claim.reconcile_first,
            )
        except net.PermanentRejection as exc:
            return _rejected(claim, client, connection, exc)
        except net.ConfigurationError as exc:
            logger.error("Publishing delivery %s: %s", claim.delivery_id, exc)
            return Outcome(
                "failed",
                reason="not_configured",
                words=_("%(network)s refused our app's settings; your admin has to fix them, then you can retry.")
                % {"network": Network(claim.network).label},
            )
        except net.NetworkError as exc:  # TransientFailure and anything unexpected from the network
            return Outcome("retry", reason="transient", words=_words(exc), outcome_unknown=claim.reconcile_first)


HELD_WORDS = gettext_lazy("Not sent: its author is suspended; an admin releases or cancels it.")


def _reconcile_only(claim: Claim) -> Outcome:
    """An earlier call may have posted, but nothing may be sent now: search the account for
    the post. Found: recorded. Not found: waits, unsent. No search possible (the account's
    tokens were withdrawn, the network is down): waits with its outcome still unknown, to be
    reconciled before anything is sent once released."""
    ready = _connected(claim)
    if isinstance(ready, Outcome):
        return Outcome("held", words=str(HELD_WORDS), outcome_unknown=True)
    connection, config = ready
    try:
        found = client_for(claim.network, config).find_recent_post(
            access_token=connection.access_token, author_id=connection.remote_id, text=_posted(claim)[0]
        )
    except net.NetworkError:
        return Outcome("held", words=str(HELD_WORDS), outcome_unknown=True)
    if found is not None:
        return Outcome("published", post=found)
    return Outcome("held", words=str(HELD_WORDS))


@dataclass
class _Uploaded:
    """The delivery's upload during one call (its recorded one, or one made by this call)."""

    upload: ImageUpload | None


def _link(claim: Claim) -> str | None:
    return None if claim.network == Network.X else settings.SITE_URL + f"/r/{claim.tracking_code}"


def _posted(claim: Claim) -> tuple[str, str | None]:
    """The text and link as sent: a picture post has no link card (LinkedIn and Facebook
    take one kind of content), so its tracked link must be in the text: LinkedIn's and X's
    texts end with it already (sharing.final_text), Facebook's gets it appended."""
    link = _link(claim)
    if claim.picture is not None and link:
        return (claim.text if link in claim.text else f"{claim.text}\n\n{link}"), None
    return claim.text, link


def _picture(claim: Claim, client: NetworkClient, connection: SocialConnection, uploaded: _Uploaded):
    """The delivery's upload to name in the post: its own while valid, else a new one,
    recorded before the post (images.upload)."""
    if claim.picture is None:
        return None
    if uploaded.upload is None:
        uploaded.upload = images.upload(
            claim=claim,
            picture=claim.picture,
            client=client,
            access_token=connection.access_token,
            author_id=connection.remote_id,
        )
    return uploaded.upload


def _attempt(claim: Claim, client: NetworkClient, connection: SocialConnection, uploaded: _Uploaded) -> Outcome:
    """One try: look for the post first when an earlier call may have made it, then upload
    the picture (once) and post. Token, rate-limit and rejection errors are raised to `_call`."""
    text, link = _posted(claim)
    if claim.reconcile_first:
        found = client.find_recent_post(access_token=connection.access_token, author_id=connection.remote_id, text=text)
        if found is not None:
            return Outcome("published", post=found)

    def send() -> PublishedPost:
        return client.publish(
            access_token=connection.access_token,
            author_id=connection.remote_id,
            text=text,
            link=link,
            title=claim.title,
            description=claim.description,
            image=_picture(claim, client, connection, uploaded),
        )

    try:
        try:
            post = send()
        except net.MediaExpired:
            # The network forgot the delivery's upload: forget it too, upload anew, post once more.
            images.record(claim=claim, upload=None)
            uploaded.upload = None
            post = send()
    except net.AmbiguousOutcome as exc:
        # The request left; the answer did not come back. Look before any retry.
        found = _find_quietly(client, connection, text)
        if found is not None:
            return Outcome("published", post=found)
        return Outcome("retry", reason="transient", words=_words(exc), outcome_unknown=True)
    if not post.remote_id:
        return Outcome(
            "retry",
            reason="transient",
            words=_("The network answered without the post's id."),
            outcome_unknown=True,
        )
    return Outcome("published", post=post)


def _rejected(
    claim: Claim, client: NetworkClient, connection: SocialConnection, exc: net.PermanentRejection
) -> Outcome:
    """The network refused the post: a duplicate after a lost answer is the post made."""
    if claim.reconcile_first and exc.reason == "duplicate":
        # An earlier call whose answer was lost did post it: the network says so.
        urn = re.search(r"urn:li:(?:share|ugcPost):\d+", exc.message)
        named = _named_by_duplicate(client, connection, urn.group(0)) if urn else None
        if named is not None:
            return Outcome("published", post=named)
        # The post exists, but neither the look-up nor the answer names it.
        return Outcome(
            "posted_id_unknown",
            reason="id_unknown",
            words=_(
                "%(network)s has this post (it refused a second copy as a duplicate), but did not tell us its "
                "address. Paste the post's link to attach it."
            )
            % {"network": Network(claim.network).label},
        )
    return Outcome("failed", reason=exc.reason, words=_rejection_words(claim.network, exc, claim.reconcile_first))


def _named_by_duplicate(client, connection, urn: str) -> PublishedPost | None:
    """The post LinkedIn's duplicate answer names, checked where this app may read posts (a
    URN that is not on the account is not taken); taken as named where it may not."""
    try:
        return client.verify_post(access_token=connection.access_token, author_id=connection.remote_id, remote_id=urn)
    except net.PostUnverifiable as exc:
        return PublishedPost(remote_id=exc.remote_id, url=exc.url)
    except (net.PostNotFound, net.PostNotYours, ValueError):
        return None
    except net.NetworkError:
        return PublishedPost(remote_id=urn, url=f"https://www.linkedin.com/feed/update/{urn}")


def _find_quietly(client, connection, text: str) -> PublishedPost | None:
    try:
        return client.find_recent_post(access_token=connection.access_token, author_id=connection.remote_id, text=text)
    except net.NetworkError:
        return None  # still unknown: the next attempt looks again first


def _words(exc: net.NetworkError) -> str:
    return f"{Network(exc.network).label}: {exc.message}"[:900]


REJECTION_WORDS = {
    "duplicate": gettext_lazy("%(network)s refused it as a duplicate of a post already on your account"),
    "too_long": gettext_lazy("%(network)s says the text is too long"),
    "forbidden": gettext_lazy("%(network)s does not let this account publish this post"),
    "blocked": gettext_lazy("%(network)s has temporarily blocked posting from this account"),
    "invalid": gettext_lazy("%(network)s refused the post"),
    "image": gettext_lazy("%(network)s refused the picture (change it, or share without it)"),
    "media_expired": gettext_lazy("%(network)s lost the uploaded picture twice"),
}


def _rejection_words(network: str, exc: net.PermanentRejection, after_lost_answer: bool) -> str:
    label = Network(network).label
    problem = REJECTION_WORDS.get(exc.reason, REJECTION_WORDS["invalid"]) % {"network": label}
    words = _("%(problem)s. %(network)s said: “%(message)s”") % {
        "problem": problem,
        "network": label,
        "message": exc.message,
    }
    if exc.reason == "duplicate" and after_lost_answer:
        words = _("%(words)s. An earlier attempt may already have posted it: check your account.") % {"words": words}
    return words[:990]


# --- step 3: record -------------------------------------------------------------------------


def _record(claim: Claim, outcome: Outcome) -> str:
    now = timezone.now()
    with audit.linked_after_commit(), transaction.atomic():
        share = Share.objects.for_org(claim.organization_id).select_for_update().get(pk=claim.share_id)
        delivery = Delivery.objects.for_org(claim.organization_id).select_for_update().get(pk=claim.delivery_id)
        if not holds_lease(delivery, claim):
            return _lost_lease(claim, share, delivery, outcome)
        _apply(share, delivery, outcome, now)
    return _word(outcome, delivery)


def _word(outcome: Outcome, delivery: Delivery) -> str:
    if outcome.kind == "retry":
        return delivery.status  # "retrying", or "failed" after the last attempt
    return outcome.kind


def _lost_lease(claim: Claim, share: Share, delivery: Delivery, outcome: Outcome) -> str:
    """Our lease ran out while we called (the sweeper may have handed the delivery on)."""
    if outcome.kind != "published":
        return "lease_lost"
    if delivery.status == Delivery.Status.PUBLISHED and delivery.remote_id != outcome.post.remote_id:
        logger.error("Delivery %s was posted twice; removing the copy %s", delivery.pk, outcome.post.remote_id)
        transaction.on_commit(lambda: _remove_copy(claim, outcome.post.remote_id))
        return "duplicate_removed"
    if delivery.status == Delivery.Status.PUBLISHED:
        return "published"
    if not lifecycle.allows(lifecycle.DELIVERY_TRANSITIONS, delivery.status, "late_answer") and (
        delivery.status != Delivery.Status.PUBLISHING
    ):
        logger.error("Delivery %s is %s but its post %s exists", delivery.pk, delivery.status, outcome.post.remote_id)
        return "lease_lost"
    _apply(share, delivery, outcome, timezone.now())
    return "published"


def _remove_copy(claim: Claim, remote_id: str) -> None:
    connection = SocialConnection.objects.for_org(claim.organization_id).get(pk=claim.connection_id)
    config = accounts_connections.network_config(connection.organization, claim.network)
    try:
        client_for(claim.network, config).delete(access_token=connection.access_token, remote_id=remote_id)
    except net.NetworkError:
        logger.exception("Could not remove the duplicate post %s", remote_id)


def _apply(share: Share, delivery: Delivery, outcome: Outcome, now: datetime) -> None:
    """Write one outcome on a locked delivery through the lifecycle, and let the share follow.

    From `publishing` it is the call's record; from `pending`/`retrying` a refusal before
    any call (the account cannot post) or, for a post, a late answer."""
    if delivery.status == Delivery.Status.PUBLISHING:
        kind = "record"
    else:
        kind = "late_answer" if outcome.kind == "published" else "refuse"
    before = {"attempts": delivery.attempts}
    fields = ["lease_expires_at", "last_error", "failure_reason", "outcome_unknown"]
    delivery.lease_expires_at = None
    if outcome.kind == "published":
        fields = set_published(delivery, outcome.post, now)
        to = Delivery.Status.PUBLISHED
        after = published_after(delivery)
    elif outcome.kind == "posted_id_unknown":
        delivery.published_at = now
        delivery.last_error = outcome.words
        delivery.failure_reason = outcome.reason
        delivery.outcome_unknown = False
        fields.append("published_at")
        to = Delivery.Status.POSTED_ID_UNKNOWN
        after = {"why": outcome.words}
    elif outcome.kind == "held":
        # Nothing was sent; it waits for an admin's release (then due again) or cancel.
        delivery.next_attempt_at = None
        delivery.last_error = outcome.words
        delivery.failure_reason = ""
        delivery.outcome_unknown = outcome.outcome_unknown
        fields.append("next_attempt_at")
        to = Delivery.Status.RETRYING
        after = {"why": outcome.words, "outcome_unknown": outcome.outcome_unknown}
    elif outcome.kind == "retry" and delivery.attempts < settings.PUBLISH_MAX_ATTEMPTS:
        delay = (outcome.retry_at - now).total_seconds() if outcome.retry_at else backoff(delivery.attempts)
        delivery.next_attempt_at = now + timedelta(seconds=max(delay, 0))
        delivery.last_error = outcome.words
        delivery.failure_reason = outcome.reason
        delivery.outcome_unknown = outcome.outcome_unknown
        fields.append("next_attempt_at")
        to = Delivery.Status.RETRYING
        after = {"next_attempt_at": _iso(delivery.next_attempt_at), "why": outcome.words}
        _requeue(delivery.pk, max(delay, 0))
    else:
        tries = delivery.attempts
        to = Delivery.Status.NEEDS_RECONNECT if outcome.kind == "needs_reconnect" else Delivery.Status.FAILED
        delivery.failure_reason = outcome.reason
        delivery.outcome_unknown = outcome.outcome_unknown
        delivery.last_error = (
            ngettext("Gave up after %(count)s try. %(words)s", "Gave up after %(count)s tries. %(words)s", tries)
            % {"count": tries, "words": outcome.words}
            if outcome.kind == "retry"
            else str(outcome.words)
        )[:1000]
        after = {"reason": outcome.reason, "why": delivery.last_error}
    lifecycle.move_delivery(delivery, to, kind, fields=fields, before=before, after=after)
    if delivery.status == Delivery.Status.FAILED:
        _tell_failed(share, delivery)
    elif delivery.status == Delivery.Status.POSTED_ID_UNKNOWN:
        page, title = _page_and_title(share)
        notify(
            organization_id=share.organization_id,
            user_id=share.author_id,
            kind=Notification.Kind.SHARE_PUBLISHED,
            message=later(
                gettext_noop(
                    "Your share of “%(title)s” is on %(network)s, but %(network)s did not tell us its address. "
                    "Paste the post's link on the share's page so its likes count."
                ),
                title=title,
                network=delivery.get_network_display(),
            ),
            url=page,
            email_by_task=True,  # the publisher's threads never wait on the mail server
        )
    roll_up(share)


def set_published(delivery: Delivery, post: PublishedPost, now: datetime) -> list[str]:
    """Write the post on the delivery (not saved; its status is the lifecycle's to move):
    returns the fields to save."""
    delivery.lease_expires_at = None
    delivery.remote_id = post.remote_id
    delivery.remote_url = post.url
    delivery.published_at = now
    delivery.last_error = ""
    delivery.failure_reason = ""
    delivery.outcome_unknown = False
    return [
        "lease_expires_at",
        "last_error",
        "failure_reason",
        "outcome_unknown",
        "remote_id",
        "remote_url",
        "published_at",
    ]


def published_after(delivery: Delivery) -> dict:
    """What the audit entry of a delivery's move to `published` records."""
    return {"remote_id": delivery.remote_id, "remote_url": delivery.remote_url}


def holds_lease(delivery: Delivery, claim: Claim) -> bool:
    """Whether the (locked) delivery is still being published under this claim's lease."""
    return delivery.status == Delivery.Status.PUBLISHING and delivery.lease_expires_at == claim.lease_expires_at


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter: base * 2^(attempt-1), capped, times 0.5-1.0."""
    base = settings.PUBLISH_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0)
    return min(base, settings.PUBLISH_RETRY_MAX_SECONDS) * random.uniform(0.5, 1.0)


def _requeue(delivery_id: int, delay: float) -> None:
    if delay > COUNTDOWN_LIMIT:
        return  # the sweeper enqueues it when it is due
    from content.services.publishing import enqueue_publish

    enqueue_publish([delivery_id], countdown=delay)


def _page_and_title(share: Share) -> tuple[str, str]:
    """The share's page and its item's title, for a notice to its author: one narrow read
    (the record step locks the share's row alone), or none when both rows are loaded."""
    if Share.organization.is_cached(share) and Share.item.is_cached(share):
        slug, title = share.organization.slug, share.item.title
    else:
        slug, title = (
            Share.objects.for_org(share.organization_id)
            .filter(pk=share.pk)
            .values_list("organization__slug", "item__title")
            .get()
        )
    return reverse("content:share_detail", kwargs={"org_slug": slug, "share_id": share.pk}), title


def _tell_failed(share: Share, delivery: Delivery) -> None:
    url, title = _page_and_title(share)
    if delivery.failure_reason in RETRYABLE:
        words = gettext_noop(
            "Your share of “%(title)s” was not posted on %(network)s: %(error)s You can retry it from the share's page."
        )
    else:
        words = gettext_noop("Your share of “%(title)s” was not posted on %(network)s: %(error)s")
    notify(
        organization_id=share.organization_id,
        user_id=share.author_id,
        kind=Notification.Kind.SHARE_FAILED,
        message=later(words, title=title, network=delivery.get_network_display(), error=delivery.last_error),
        url=url,
        email_by_task=True,  # the publisher's threads never wait on the mail server
    )


def roll_up(share: Share, statuses: list[str] | None = None, *, author: _Located | None = None) -> None:
    """The share follows its API deliveries (the caller holds the share's lock):
    `lifecycle.rolled_up_status` says where; the employee hears when it is live.
    `statuses`: its API deliveries' statuses, cancelled ones left out, when the caller
    read them already (`delivery_statuses`); `author`: where its author's language and
    zone were read already (`locate_many`), so the notice is put into words without a read."""
    roll_up_many(
        [share],
        None if statuses is None else {share.pk: statuses},
        authors=None if author is None else {share.pk: author},
    )


def roll_up_many(
    shares: Sequence[Share],
    statuses: Mapping[int, list[str]] | None = None,
    *,
    authors: Mapping[int, _Located] | None = None,
) -> None:
    """`roll_up` for several (locked) shares of one organization (the publishing batch's
    record): the shares that move the same way move in one UPDATE with their audit entries
    (`lifecycle.move_each`), and the "is live" notices go out by one `notify_many`.
    `statuses` / `authors`: by share id, as `roll_up`'s (a share missing from `statuses`
    has no API delivery left)."""
    following = [share for share in shares if share.status in lifecycle.SHARE_FOLLOWS_DELIVERIES]
    if not following:
        return
    organization_id = following[0].organization_id
    if statuses is None:
        statuses = delivery_statuses(organization_id, [share.pk for share in following])
    moves: dict[tuple[str, str], list[Share]] = {}
    for share in following:
        status = lifecycle.rolled_up_status(share.status, statuses.get(share.pk, []))
        if status == share.status:
            continue
        if status == Share.Status.PUBLISHING:
            kind = "retry" if share.status in (Share.Status.PUBLISHED, Share.Status.FAILED) else "start"
        else:
            kind = "finish"
        moves.setdefault((status, kind), []).append(share)
    for (status, kind), moving in moves.items():
        lifecycle.move_each(moving, status, kind)
    notices = []
    for share in moves.get((Share.Status.PUBLISHED, "finish"), []):
        url, title = _page_and_title(share)
        message = later(gettext_noop("Your share of “%(title)s” is live."), title=title)
        author = (authors or {}).get(share.pk)
        if author is not None:
            with for_recipient(author.author, author.organization):
                message = str(message)
        notices.append(Notice(share.author_id, Notification.Kind.SHARE_PUBLISHED, message, url))
    if notices:  # the publisher's threads never wait on the mail server: the e-mails go by a task
        notify_many(organization_id, notices, email_by_task=True)


def delivery_statuses(organization_id: int, share_ids: list[int]) -> dict[int, list[str]]:
    """{share id: the statuses of its API deliveries, cancelled ones left out}, in one read."""
    statuses: dict[int, list[str]] = {}
    rows = (
        Delivery.objects.for_org(organization_id)
        .filter(share_id__in=share_ids, mode=Delivery.Mode.API)
        .exclude(status=Delivery.Status.CANCELLED)
        .values_list("share_id", "status")
    )
    for share_id, status in rows:
        statuses.setdefault(share_id, []).append(status)
    return statuses


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
