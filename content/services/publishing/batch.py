"""Publishing several deliveries in one task: the engine's three steps, each done once for
the batch where the engine does it once per delivery.

The engine (`engine.publish`) pays, per delivery, two short transactions with their row
locks, audit entries and commits, plus a task of its own; that cost, not the network's
answer, is what capped a worker. A batch (`publish_many`, the `publish_deliveries` task;
`enqueue_publish` cuts the ids into batches of PUBLISH_BATCH_SIZE) keeps every guarantee of
the engine and shares the work:

1. *Claim*, one transaction for the batch, per organization: the authors' memberships,
   then the shares, then the deliveries (SKIP LOCKED) are locked in id order, the order
   the engine and a suspension take them in. Only the common case is claimed here: an API
   delivery that is waiting, due, not after an unknown outcome, of an active author, its
   text still the approved one, its account connected, with a rate-limit slot now. They
   move to `publishing` in one UPDATE, each with its own audit entry (linked into the
   chain with the record's: `audit.linked_later`). Every other delivery
   of the batch (held, suspended author, text changed, lease expired, deferred, another
   task's...) goes through `engine.publish` on its own once the batch is done, so each rare
   case keeps exactly one implementation.
2. *Call* the network for each claim, outside any transaction, as the engine calls
   (`engine._call`), with the networks' apps as the claim read them (one read for all).
   Each call holds one of the process's call slots (`engine.call_slot`,
   PUBLISH_CALLS_IN_FLIGHT). With slots, a batch's calls go to the process's call pool
   (`engine.call_pool`, one thread per slot) and run side by side: the slots are filled by
   every batch's calls at once, not by one call per batch thread, so no slot idles while a
   batch thread claims or records, and the last calls of a burst go out together instead
   of one after the other in each thread. Without slots (0), a batch makes its calls one
   after the other.
   A call whose lease is more than RENEW_AFTER old when it starts (it waited for a slot)
   renews it first, only where still ours: a delivery handed on by the sweeper meanwhile is
   left alone, unsent.
3. *Record*, one transaction for the outcomes gathered so far (at the latest RECORD_WITHIN
   after the first of them, so a post made is written down within seconds): shares, then
   deliveries locked in id order; the posts made move to `published` in one UPDATE with
   their audit entries, every other outcome and every lost lease is recorded by the
   engine's own `_apply` / `_lost_lease`, and the shares follow their deliveries.

A worker killed at any point leaves what a killed engine leaves: deliveries in
`publishing` whose lease runs out and which the sweeper hands on to be reconciled. An
unexpected error is kept to its own delivery (left as the engine leaves it, logged, the
word "error"); a claim that fails as a whole falls back to the engine one by one, so one
delivery the batch cannot read never holds back the others.
"""

from __future__ import annotations

import contextvars
import dataclasses
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import as_completed
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from accounts.models import NetworkApp, Organization
from accounts.services import connections as accounts_connections
from advocacy import audit
from advocacy.languages import for_recipient
from advocacy.sql import tenant_cursor
from content import lifecycle
from content.models import Delivery, Share
from content.services.publishing import engine, limits

logger = logging.getLogger(__name__)

# The longest a post made waits for its record while the batch goes on calling.
RECORD_WITHIN = 2.0
# A call starts with at most this much of its lease spent, so it has nearly the whole lease,
# as the engine's call has (the lease outlasts one call: a refresh, a publish and a lookup).
RENEW_AFTER = timedelta(seconds=5)

_RENEW_SQL = (
    "UPDATE content_delivery SET lease_expires_at = %(new)s, updated_at = %(now)s "
    "WHERE organization_id = %(org)s AND status = 'publishing' AND id = %(id)s "
    "AND lease_expires_at = %(old)s RETURNING id"
)


@dataclasses.dataclass
class _Call:
    claim: engine.Claim
    located: engine._Located
    outcome: engine.Outcome | None = None


def publish_many(delivery_ids: Iterable[int]) -> dict[int, str]:
    """Publish the deliveries that are due and that no one else holds, each exactly once.
    Returns {delivery id: what happened}, in the engine's words ("published", "retrying",
    "skipped", "missing", ...). Never raises for the network's failures."""
    ids = sorted(set(delivery_ids))
    located = engine.locate_many(ids)
    words = {pk: "missing" for pk in ids if pk not in located}
    by_org: dict[int, dict[int, engine._Located]] = defaultdict(dict)
    for pk, where in located.items():
        by_org[where.organization_id][pk] = where
    for org_id in sorted(by_org):
        words.update(_publish_group(org_id, by_org[org_id]))
    return words


def _publish_group(org_id: int, located: dict[int, engine._Located]) -> dict[int, str]:
    try:
        calls, rest = _claim(org_id, located)
    except Exception:
        # One delivery the batch cannot read (a token no key decrypts...) must not hold the
        # others back: nothing was claimed (the transaction rolled back); one by one instead.
        logger.exception("Claiming a publishing batch of organization %s failed; publishing one by one", org_id)
        calls, rest = [], sorted(located)
    words: dict[int, str] = {}
    pending: list[_Call] = []
    first_outcome_at = 0.0
    for call, word in _calls(org_id, calls):
        if word:
            words[call.claim.delivery_id] = word
            continue
        if not pending:
            first_outcome_at = time.monotonic()
        pending.append(call)
        if time.monotonic() - first_outcome_at >= RECORD_WITHIN:
            words.update(_record(org_id, pending))
            pending = []
    if pending:
        words.update(_record(org_id, pending))
    for pk in rest:
        words[pk] = _alone(pk)
    return words


def _calls(org_id: int, calls: list[_Call]) -> Iterator[tuple[_Call, str]]:
    """Make the claims' calls; yields each call once it is done, with "" when its outcome is
    set, else the word that ends it ("lease_lost", "error"). With call slots, the calls go to
    the process's call pool and run side by side, as slots free up, in the order they come
    back; without, one after the other in this thread."""
    pool = engine.call_pool()
    if pool is None:
        for call in calls:
            yield call, _one_call(org_id, call)
        return
    # Each call in a copy of this thread's context (the audit actor, if any, goes with it).
    futures = {pool.submit(contextvars.copy_context().run, _pooled_call, org_id, call): call for call in calls}
    for future in as_completed(futures):
        yield futures[future], future.result()


def _one_call(org_id: int, call: _Call) -> str:
    """One claim's calls to its network, in one of the process's call slots; "" with
    `call.outcome` set, or the word that ends the delivery's turn here."""
    with engine.call_slot():  # the renewal too: a wait for the slot must not age the lease
        try:
            left = call.claim.lease_expires_at - timezone.now()
            if left < timedelta(seconds=settings.PUBLISH_LEASE_SECONDS) - RENEW_AFTER and not _renew(org_id, call):
                return "lease_lost"
            with for_recipient(call.located.author, call.located.organization):
                call.outcome = engine._call(call.claim)
        except Exception:
            # As when the engine's call raises: the delivery stays `publishing` until its
            # lease runs out, then the sweeper hands it on to be reconciled. The others go on.
            logger.exception("Publishing delivery %s failed unexpectedly", call.claim.delivery_id)
            return "error"
    return ""


def _pooled_call(org_id: int, call: _Call) -> str:
    """`_one_call` on a pool thread, whose database connection no task's end closes: it is
    dropped here when broken or past its age, as Celery does for a task's thread."""
    close_old_connections()
    try:
        return _one_call(org_id, call)
    finally:
        close_old_connections()


def _alone(delivery_id: int) -> str:
    """`engine.publish`, its unexpected failure kept to its own delivery (logged; the sweeper
    dispatches the delivery again) so the rest of the batch goes on."""
    try:
        return engine.publish(delivery_id)
    except Exception:
        logger.exception("Publishing delivery %s failed unexpectedly", delivery_id)
        return "error"


def _plain(share: Share | None, delivery: Delivery | None, active: bool | None, now: datetime) -> bool:
    """Whether the delivery is the common case the batch claims itself (see the module):
    the engine would send it now, its author active and no earlier outcome to reconcile."""
    return (
        share is not None
        and delivery is not None
        and active is True
        and delivery.mode == Delivery.Mode.API
        and delivery.status in engine.WAITING
        and not delivery.outcome_unknown
        and engine.not_sendable(share, delivery, now) == ""
    )


def _claim(org_id: int, located: dict[int, engine._Located]) -> tuple[list[_Call], list[int]]:
    """Claim the plain deliveries of one organization; returns their calls and the ids left
    to the engine."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.PUBLISH_LEASE_SECONDS)
    ids = sorted(located)
    rest: list[int] = []
    claimed: list[Delivery] = []
    # The claim's entries are linked into the chain with the record's, a second later (or
    # by the minute's task if the worker dies first): one transaction fewer a batch.
    with audit.linked_later(), transaction.atomic():
        # Memberships, shares, deliveries: the engine's order, each kind in id order.
        active = engine.authors_active(org_id, {where.author_id for where in located.values()})
        shares = engine.lock_shares(org_id, {where.share_id for where in located.values()})
        deliveries = engine.lock_deliveries(org_id, ids, skip_locked=True)
        plain = []
        for pk in ids:
            where = located[pk]
            delivery, share = deliveries.get(pk), shares.get(where.share_id)
            if _plain(share, delivery, active.get(where.author_id), now):
                plain.append(delivery)
            else:
                rest.append(pk)
        # The org's apps, once: the rate limiter's app ids and the calls' configurations.
        apps = {app.network: app for app in NetworkApp.objects.for_org(org_id)} if plain else {}
        app_ids = {
            network: engine.app_id_of(network, apps[network].client_id if network in apps else None)
            for network in {delivery.network for delivery in plain}
        }
        # Every slot in one pipeline, in id order, as one call each would take them.
        waits = limits.acquire_many(
            [
                (
                    delivery.network,
                    delivery.connection.remote_id,
                    app_ids[delivery.network],
                )
                for delivery in plain
            ]
        )
        for delivery, wait in zip(plain, waits, strict=True):
            if wait > 0:
                rest.append(delivery.pk)  # the engine defers it
                continue
            delivery.attempts += 1
            delivery.lease_expires_at = lease
            claimed.append(delivery)
        rest.sort()
        lifecycle.move_each(
            claimed,
            Delivery.Status.PUBLISHING,
            "claim",
            fields=["lease_expires_at", "attempts"],
            after=lambda delivery: {"attempt": delivery.attempts},
        )
        configs = accounts_connections.network_configs(Organization(pk=org_id), apps=apps) if claimed else {}
        engine.start_publishing([shares[delivery.share_id] for delivery in claimed])
        calls = []
        for delivery in claimed:
            share = shares[delivery.share_id]
            claim = engine.claim_of(
                share, delivery, reconcile_first=False, config=configs[delivery.network], config_read=True
            )
            calls.append(_Call(claim=claim, located=located[delivery.pk]))
    return calls, rest


def _renew(org_id: int, call: _Call) -> bool:
    """Extend the claim's lease where it is still ours (True); False when it is lost (the
    delivery is left to whoever holds it now, unsent)."""
    now = timezone.now()
    new = now + timedelta(seconds=settings.PUBLISH_LEASE_SECONDS)
    params = {"new": new, "now": now, "id": call.claim.delivery_id, "old": call.claim.lease_expires_at}
    with tenant_cursor(org_id) as cursor:
        cursor.execute(_RENEW_SQL, params)
        if cursor.fetchone() is None:
            return False
    call.claim = dataclasses.replace(call.claim, lease_expires_at=new)
    return True


def _record(org_id: int, calls: list[_Call]) -> dict[int, str]:
    """Record the outcomes of `calls` in one transaction (see the module), in id order
    (pooled calls come back in the order they end)."""
    calls = sorted(calls, key=lambda call: call.claim.delivery_id)
    now = timezone.now()
    words: dict[int, str] = {}
    with audit.linked_after_commit(), transaction.atomic():
        # For the notices, the shares come with their item and organization (page and title).
        shares = engine.lock_shares(org_id, {call.claim.share_id for call in calls})
        deliveries = engine.lock_deliveries(org_id, [call.claim.delivery_id for call in calls], skip_locked=False)
        posted: list[Delivery] = []
        others: list[_Call] = []
        fields: list[str] = []
        for call in calls:
            delivery = deliveries[call.claim.delivery_id]
            if engine.holds_lease(delivery, call.claim) and call.outcome.kind == "published":
                fields = engine.set_published(delivery, call.outcome.post, now)
                posted.append(delivery)
                words[delivery.pk] = "published"
            else:
                others.append(call)
        lifecycle.move_each(
            posted,
            Delivery.Status.PUBLISHED,
            "record",
            fields=fields,
            before=lambda delivery: {"attempts": delivery.attempts},
            after=engine.published_after,
        )
        for call in others:
            share, delivery = shares[call.claim.share_id], deliveries[call.claim.delivery_id]
            with for_recipient(call.located.author, call.located.organization):
                if engine.holds_lease(delivery, call.claim):
                    engine._apply(share, delivery, call.outcome, now)
                    words[delivery.pk] = engine._word(call.outcome, delivery)
                else:
                    words[delivery.pk] = engine._lost_lease(call.claim, share, delivery, call.outcome)
        touched = sorted({delivery.share_id for delivery in posted})
        statuses = engine.delivery_statuses(org_id, touched) if touched else {}
        authors = {call.claim.share_id: call.located for call in calls}
        engine.roll_up_many([shares[share_id] for share_id in touched], statuses, authors=authors)
    return words
