"""Engagement pulled back from the networks: likes, comments, reposts, impressions.

One round (the beat task `analytics.tasks.pull_metrics`, every `METRICS_PULL_EVERY`
seconds) does two things in `start_pull_round`:

1. *enrol*: every published delivery with a remote id and a connection gets its
   `DeliveryMetrics` row, first pull `FIRST_PULL_AFTER` after publishing;
2. *claim*: due rows (`next_pull_at <= now`) are locked with `SKIP LOCKED`, grouped by
   (organization, connection, network), cut to the round's call budget per network
   (`METRICS_CALLS_PER_ROUND`; what does not fit stays due for the next round), and
   leased: their `next_pull_at` becomes the lease's end, so a second beat does not see
   them, and a batch whose task was lost is due again once the lease runs out. One
   `pull_metrics_batch` task per group (at most `TASK_MAX_IDS` posts) is enqueued after
   the claim commits.

`pull_batch` (the task) asks the network for one call's worth of posts at a time (X: 100
ids per call, LinkedIn and Facebook: one post per call, as their clients read them) and
records each answer in one transaction (`_record`): a `MetricSnapshot` of the raw numbers,
`DeliveryMetrics` raised to the highest value seen per counter (never lowered), and the
increase of those highs added to `DailyRollup` on the organization's local day. The rows
are re-locked and must still carry the batch's lease, so a batch delivered twice, or a
re-run of the same round, adds nothing a second time.

Failures: a 429 (`RateLimited`) moves the batch's unread rows to the network's reset time
(LinkedIn: minutes for a short throttle, midnight UTC for its daily limit,
`content.services.publishing.limits.retry_at_after_429`),
a transient failure retries them after `RETRY_AFTER`; an expired token is refreshed once
(`accounts.services.connections`), a revoked one marks the connection `needs_reconnect`;
either way the rows already recorded stay recorded and none is counted twice. A post the
network no longer has gets `deleted_on_network_at` and is never pulled again (its counters
are kept). A counter the network does not give stays NULL: "not available", never 0; a
connection whose granted scopes hold none of those the network's metrics need (LinkedIn
without its partner scopes) is not asked at all, its pulls record "not available".

What each client gives (networks/clients/*.py `fetch_metrics`):

| network  | likes            | comments       | reposts                 | impressions               |
|----------|------------------|----------------|-------------------------|---------------------------|
| X        | like_count       | reply_count    | retweet + quote counts  | impression_count          |
| LinkedIn | all reactions (1)| comments (1)   | RESHARE analytics (2)   | IMPRESSION analytics (2)  |
| Facebook | all reactions    | comments       | shares (0 when absent)  | never (insights not read) |

(1) needs r_member_social, (2) r_member_postAnalytics: scopes LinkedIn grants only to
approved (partner) apps; without them the counter is NULL.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, SocialConnection
from accounts.services import connections
from analytics.models import DeliveryMetrics, MetricSnapshot
from analytics.services import rollups
from content.models import Delivery
from content.services.publishing import limits
from networks import errors as net
from networks.base import PostMetrics, client_for

log = logging.getLogger(__name__)

# Enqueued by name (tasks import this module, not the other way round).
PULL_BATCH_TASK = "analytics.tasks.pull_metrics_batch"

COUNTERS = ("likes", "comments", "reposts", "impressions")

# --- the decaying schedule ---------------------------------------------------------------

FIRST_PULL_AFTER = timedelta(minutes=15)
# While the post is younger than the first column, pull it every (second column). Past the
# last row it is pulled daily until the horizon (METRICS_HORIZON_DAYS, default 30), once
# more at the horizon, then never: about 24 + 24 + 23 = 71 pulls over 30 days.
PULL_SCHEDULE: tuple[tuple[timedelta, timedelta], ...] = (
    (timedelta(days=1), timedelta(hours=1)),
    (timedelta(days=7), timedelta(hours=6)),
)
PULL_LATE = timedelta(days=1)


def horizon() -> timedelta:
    return timedelta(days=settings.METRICS_HORIZON_DAYS)


def next_pull_at(*, published_at: datetime, now: datetime) -> datetime | None:
    """When to pull a post published at `published_at` again, after a pull at `now`.

    | age of the post      | next pull        |
    |----------------------|------------------|
    | under 1 day          | in 1 hour        |
    | under 7 days         | in 6 hours       |
    | under the horizon    | in 1 day         |
    | the horizon or more  | never (None)     |

    Never later than the horizon itself, so the last pull happens at the horizon.
    """
    age = now - published_at
    limit = horizon()
    if age >= limit:
        return None
    every = next((interval for younger_than, interval in PULL_SCHEDULE if age < younger_than), PULL_LATE)
    return min(now + every, published_at + limit)


# --- how the clients call the networks ---------------------------------------------------

# Posts per `fetch_metrics` call we make, and the HTTP calls that costs, per network, as
# the clients in networks/clients/ read metrics today: X batches up to 100 ids in one GET
# /2/tweets; LinkedIn reads socialMetadata plus two memberCreatorPostAnalytics queries
# (IMPRESSION, RESHARE) per post; Facebook up to 50 ids in one multi-id GET /?ids=.
IDS_PER_CALL = {"x": 100, "linkedin": 1, "facebook": 50}
HTTP_CALLS_PER_CALL = {"x": 1, "linkedin": 3, "facebook": 1}
TASK_MAX_IDS = 500  # posts per batch task, so one task stays short
CLAIM_SCAN_LIMIT = 20_000  # due rows looked at per round (oldest first)
ENROL_LIMIT = 5_000  # new deliveries enrolled per round
LEASE = timedelta(minutes=15)  # a claimed batch not done by then is due again
RETRY_AFTER = timedelta(minutes=10)  # after a transient failure


def http_calls(network: str, posts: int) -> int:
    """HTTP calls it takes to read `posts` posts of one account on `network`."""
    return math.ceil(posts / IDS_PER_CALL[network]) * HTTP_CALLS_PER_CALL[network]


# LinkedIn grants the scopes its metrics need only to approved (partner) apps.
METRIC_SCOPES = {"linkedin": frozenset({"r_member_social", "r_member_postAnalytics"})}


def may_read_metrics(network: str, scopes: str | None) -> bool:
    """False when a connection's granted `scopes` are known and hold none of those the
    network's metrics need; unknown scopes (none recorded) get the benefit of the doubt."""
    needed = METRIC_SCOPES.get(network)
    granted = set((scopes or "").replace(",", " ").split())
    return not (needed and granted and not (needed & granted))


# --- one round: enrol and claim -----------------------------------------------------------


@dataclass(frozen=True)
class PullBatch:
    """One task's work: posts of one connection, leased until `lease`."""

    organization_id: int
    connection_id: int
    network: str
    metrics_ids: tuple[int, ...]
    lease: datetime


def _every_org_or(model, organization_id: int | None):
    """The beat serves every tenant on purpose; `organization_id` narrows it to one (benchmarks, ops)."""
    if organization_id is None:
        return model.objects.all_organizations()
    return model.objects.for_org(organization_id)


def enrol_published(*, now: datetime | None = None, organization_id: int | None = None) -> int:
    """Create the `DeliveryMetrics` row of every published delivery that has none yet
    (every tenant's, on purpose), first pull `FIRST_PULL_AFTER` after publishing.
    Safe to run twice at once (conflicting inserts are ignored). Returns rows created."""
    now = now or timezone.now()
    fresh = list(
        _every_org_or(Delivery, organization_id)
        .filter(status=Delivery.Status.PUBLISHED, mode=Delivery.Mode.API, metrics__isnull=True)
        .filter(connection__isnull=False)
        .exclude(remote_id="")
        .order_by("published_at", "pk")
        .values_list("pk", "organization_id", "network", "published_at")[:ENROL_LIMIT]
    )
    rows = [
        DeliveryMetrics(
            organization_id=organization_id,
            delivery_id=delivery_id,
            network=network,
            next_pull_at=(published_at or now) + FIRST_PULL_AFTER,
        )
        for delivery_id, organization_id, network, published_at in fresh
    ]
    DeliveryMetrics.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def claim_due(
    *, now: datetime | None = None, budget: dict[str, int] | None = None, organization_id: int | None = None
) -> list[PullBatch]:
    """Lease the due rows that fit this round's call budget per network, as batches.

    Oldest due first. Rows locked by another claim are skipped (`SKIP LOCKED`), and leased
    rows are not due until their lease ends, so two beats never pull the same post. Rows
    over the budget stay due for the next round. The caller enqueues the batches after
    commit (`start_pull_round`)."""
    now = now or timezone.now()
    budget = dict(budget if budget is not None else settings.METRICS_CALLS_PER_ROUND)
    lease = now + LEASE
    due = (
        _every_org_or(DeliveryMetrics, organization_id)
        .select_for_update(skip_locked=True, of=("self",))
        .filter(next_pull_at__lte=now, deleted_on_network_at__isnull=True)
        .order_by("next_pull_at", "pk")
        .values_list("pk", "organization_id", "delivery__connection_id", "network", "delivery__connection__scopes")[
            :CLAIM_SCAN_LIMIT
        ]
    )
    groups: dict[tuple[int, int, str], list[int]] = defaultdict(list)
    unreadable: set[int] = set()  # connections asked nothing (their pulls cost no call)
    orphans: list[int] = []
    for metrics_id, org_id, connection_id, network, scopes in due:
        if connection_id is None or network not in IDS_PER_CALL:
            orphans.append(metrics_id)
            continue
        groups[(org_id, connection_id, network)].append(metrics_id)
        if not may_read_metrics(network, scopes):
            unreadable.add(connection_id)
    batches: list[PullBatch] = []
    for (org_id, connection_id, network), ids in groups.items():
        left = budget.get(network, 0)
        if connection_id in unreadable:
            taken = ids
        else:
            taken = ids[: (left // HTTP_CALLS_PER_CALL[network]) * IDS_PER_CALL[network]]
            budget[network] = left - http_calls(network, len(taken))
        if not taken:
            continue
        for start in range(0, len(taken), TASK_MAX_IDS):
            chunk = tuple(taken[start : start + TASK_MAX_IDS])
            batches.append(PullBatch(org_id, connection_id, network, chunk, lease))
    claimed = [pk for batch in batches for pk in batch.metrics_ids]
    if claimed:
        DeliveryMetrics.objects.all_organizations().filter(pk__in=claimed).update(next_pull_at=lease)
    if orphans:  # no connection (or an unknown network): nothing to pull with, ever
        DeliveryMetrics.objects.all_organizations().filter(pk__in=orphans).update(next_pull_at=None)
    return batches


def start_pull_round(*, now: datetime | None = None) -> dict[str, int]:
    """The beat's round: enrol new deliveries, claim what is due and enqueue one
    `pull_metrics_batch` task per batch once the claim has committed."""
    now = now or timezone.now()
    enrolled = enrol_published(now=now)
    with transaction.atomic():
        batches = claim_due(now=now)
        for batch in batches:
            args = [batch.organization_id, batch.connection_id, batch.network, list(batch.metrics_ids)]
            transaction.on_commit(
                lambda args=args, lease=batch.lease: current_app.send_task(
                    PULL_BATCH_TASK, args=[*args, lease.isoformat()]
                )
            )
    return {"enrolled": enrolled, "batches": len(batches), "posts": sum(len(b.metrics_ids) for b in batches)}


# --- one batch: call the network, record the answers --------------------------------------


@dataclass
class _Row:
    """What recording needs of one leased row (read before the network call)."""

    metrics_id: int
    remote_id: str
    published_at: datetime
    team_key: int
    item_id: int


@dataclass
class BatchOutcome:
    recorded: int = 0
    deleted: int = 0
    deferred: int = 0
    skipped: int = 0
    reason: str = ""


def pull_batch(
    *, organization_id: int, connection_id: int, network: str, metrics_ids: Iterable[int], lease: datetime
) -> BatchOutcome:
    """Read the metrics of one batch from the network and record them (see the module doc).

    Only rows still carrying `lease` are pulled: a batch delivered twice or re-claimed
    after its lease ran out does nothing. Never raises for the network's failures: the
    rows are rescheduled (429: at the network's reset time) and the reason returned."""
    now = timezone.now()
    organization = Organization.objects.get(pk=organization_id)
    rows = [
        _Row(pk, remote_id, published_at or now, team_id or 0, item_id)
        for pk, remote_id, published_at, team_id, item_id in DeliveryMetrics.objects.for_org(organization)
        .filter(pk__in=list(metrics_ids), next_pull_at=lease, deleted_on_network_at__isnull=True)
        .order_by("pk")
        .values_list(
            "pk",
            "delivery__remote_id",
            "delivery__published_at",
            "delivery__share__team_id",
            "delivery__share__item_id",
        )
    ]
    outcome = BatchOutcome()
    if not rows:
        return outcome
    connection = SocialConnection.objects.for_org(organization).filter(pk=connection_id).first()
    if connection is None or connection.status != SocialConnection.Status.ACTIVE or not connection.access_token:
        # Needs reconnecting (or disconnected): keep the schedule; pulls resume once reconnected.
        outcome.skipped = _reschedule(organization_id, rows, lease, now)
        outcome.reason = "connection not active"
        return outcome
    config = connections.network_config(organization, network)
    if config is None:  # the organization turned the network's API off
        outcome.skipped = _reschedule(organization_id, rows, lease, now)
        outcome.reason = "network not set up"
        return outcome
    client = client_for(network, config)
    try:
        connection = _fresh(connection)
    except net.NetworkError as exc:
        return _stop(outcome, organization_id, connection, rows, lease, now, exc)
    if connection is None:
        outcome.skipped = _reschedule(organization_id, rows, lease, now)
        outcome.reason = "connection needs reconnecting"
        return outcome
    if not may_read_metrics(network, connection.scopes):
        # The token may read none of the metrics (LinkedIn without its partner scopes):
        # every counter is "not available"; asking would cost calls that all answer 403.
        nothing = {row.remote_id: PostMetrics(remote_id=row.remote_id) for row in rows}
        outcome.recorded, outcome.deleted = _record(organization, network, rows, nothing, lease, now)
        outcome.reason = "metrics not available to this app"
        return outcome
    per_call = IDS_PER_CALL[network]
    for start in range(0, len(rows), per_call):
        chunk = rows[start : start + per_call]
        try:
            connection, answers = _fetch(client, connection, [row.remote_id for row in chunk])
        except (net.NetworkError, ValueError) as exc:
            return _stop(outcome, organization_id, connection, rows[start:], lease, now, exc)
        recorded, deleted = _record(organization, network, chunk, answers, lease, now)
        outcome.recorded += recorded
        outcome.deleted += deleted
    return outcome


def _stop(
    outcome: BatchOutcome,
    organization_id: int,
    connection: SocialConnection,
    rest: list[_Row],
    lease: datetime,
    now: datetime,
    exc: Exception,
) -> BatchOutcome:
    """The batch cannot go on: give the unread rows their next time, by the failure's kind."""
    if isinstance(exc, net.RateLimited):
        # LinkedIn's 429 names no reset time: the publisher's rule tells a short throttle
        # (minutes) from its daily limit (midnight UTC); the account's 429s count for both.
        until = limits.retry_at_after_429(connection.network, account=connection.remote_id, exc=exc, now=now)
        outcome.deferred += _defer(organization_id, rest, lease, until)
        outcome.reason = f"rate limited until {until.isoformat()}"
    elif isinstance(exc, net.TransientFailure):
        outcome.deferred += _defer(organization_id, rest, lease, now + RETRY_AFTER)
        outcome.reason = f"transient failure: {exc.message}"
    elif isinstance(exc, net.TokenExpired | net.TokenRevoked):
        _needs_reconnect(connection, exc)
        outcome.skipped += _reschedule(organization_id, rest, lease, now)
        outcome.reason = "connection needs reconnecting"
    else:  # a refusal (PermanentRejection, ConfigurationError) or a malformed id: keep the schedule
        log.warning("metrics pull of connection %s on %s refused: %s", connection.pk, connection.network, exc)
        outcome.skipped += _reschedule(organization_id, rest, lease, now)
        outcome.reason = f"refused: {exc}"
    return outcome


def _fresh(connection: SocialConnection) -> SocialConnection | None:
    """The connection with tokens refreshed when near expiry; None when it must be reconnected."""
    connection = connections.refresh_connection(connection_id=connection.pk, organization_id=connection.organization_id)
    return connection if connection.status == SocialConnection.Status.ACTIVE else None


def _fetch(
    client, connection: SocialConnection, remote_ids: list[str]
) -> tuple[SocialConnection, dict[str, PostMetrics]]:
    """One `fetch_metrics` call; an expired token is refreshed once and the call repeated.
    Returns the connection (with the fresh token, for the next call) and the answers."""
    try:
        return connection, client.fetch_metrics(access_token=connection.access_token, remote_ids=remote_ids)
    except net.TokenExpired:
        refreshed = connections.refresh_connection(
            connection_id=connection.pk, organization_id=connection.organization_id, force=True
        )
        if refreshed.status != SocialConnection.Status.ACTIVE:
            raise
        return refreshed, client.fetch_metrics(access_token=refreshed.access_token, remote_ids=remote_ids)


@transaction.atomic
def _needs_reconnect(connection: SocialConnection, exc: net.NetworkError) -> None:
    current = SocialConnection.objects.for_org(connection.organization_id).filter(pk=connection.pk).first()
    if current is not None and current.status == SocialConnection.Status.ACTIVE:
        label = connection.get_network_display()
        connections.mark_needs_reconnect(current, f"{label} no longer accepts our access ({exc.message}).")


@transaction.atomic
def _record(
    organization: Organization,
    network: str,
    chunk: list[_Row],
    answers: dict[str, PostMetrics],
    lease: datetime,
    now: datetime,
) -> tuple[int, int]:
    """Store one call's answers: snapshots, highs, rollup increments, next pulls; all or nothing.

    The rows are locked and must still carry `lease`; one already recorded (by a duplicate
    of this batch) is left alone, so nothing is counted twice."""
    by_id = {row.metrics_id: row for row in chunk}
    locked = list(
        DeliveryMetrics.objects.for_org(organization)
        .select_for_update()
        .filter(pk__in=list(by_id), next_pull_at=lease)
        .order_by("pk")
    )
    day = rollups.local_day(now, organization.timezone)
    increments: dict[tuple[int, int], Counter] = defaultdict(Counter)
    snapshots: list[MetricSnapshot] = []
    recorded = deleted = 0
    for metrics in locked:
        row = by_id[metrics.pk]
        answer = answers.get(row.remote_id)
        metrics.pulls += 1
        metrics.last_pulled_at = now
        if answer is None:  # the network said nothing about this post: try again on schedule
            metrics.next_pull_at = next_pull_at(published_at=row.published_at, now=now)
            continue
        if not answer.exists:
            metrics.deleted_on_network_at = now
            metrics.next_pull_at = None
            deleted += 1
            continue
        if all(getattr(answer, name) is None for name in COUNTERS):  # nothing given: nothing to keep
            metrics.next_pull_at = next_pull_at(published_at=row.published_at, now=now)
            recorded += 1
            continue
        snapshots.append(
            MetricSnapshot(
                organization_id=organization.pk,
                delivery_id=metrics.delivery_id,
                taken_at=now,
                **{name: getattr(answer, name) for name in COUNTERS},
            )
        )
        for name in COUNTERS:
            seen, high = getattr(answer, name), getattr(metrics, name)
            if seen is not None and (high is None or seen > high):
                increments[(row.team_key, row.item_id)][name] += seen - (high or 0)
                setattr(metrics, name, seen)
        metrics.next_pull_at = next_pull_at(published_at=row.published_at, now=now)
        recorded += 1
    MetricSnapshot.objects.bulk_create(snapshots)
    DeliveryMetrics.objects.for_org(organization).bulk_update(
        locked, [*COUNTERS, "pulls", "last_pulled_at", "next_pull_at", "deleted_on_network_at"]
    )
    for (team_key, item_id), counters in increments.items():
        rollups.add(
            organization_id=organization.pk, day=day, team_key=team_key, network=network, item_id=item_id, **counters
        )
    return recorded, deleted


def _defer(organization_id: int, rows: list[_Row], lease: datetime, when: datetime) -> int:
    """Move still-leased rows to `when` (a 429's reset time, or a retry): the round is kept."""
    return (
        DeliveryMetrics.objects.for_org(organization_id)
        .filter(pk__in=[row.metrics_id for row in rows], next_pull_at=lease)
        .update(next_pull_at=when)
    )


@transaction.atomic
def _reschedule(organization_id: int, rows: list[_Row], lease: datetime, now: datetime) -> int:
    """Give still-leased rows their next slot in the schedule without a pull."""
    by_id = {row.metrics_id: row for row in rows}
    locked = list(
        DeliveryMetrics.objects.for_org(organization_id)
        .select_for_update()
        .filter(pk__in=list(by_id), next_pull_at=lease)
    )
    for metrics in locked:
        metrics.next_pull_at = next_pull_at(published_at=by_id[metrics.pk].published_at, now=now)
    DeliveryMetrics.objects.for_org(organization_id).bulk_update(locked, ["next_pull_at"])
    return len(locked)
