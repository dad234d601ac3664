"""Engagement pulled back from the networks: likes, comments, reposts, impressions.

One round (the beat task `analytics.tasks.pull_metrics`, every `METRICS_PULL_EVERY`
seconds) does two things in `start_pull_round`:

1. *enrol*: every published delivery with a remote id and a connection gets its
   `DeliveryMetrics` row, first pull `FIRST_PULL_AFTER` after publishing;
2. *claim*: due rows (`next_pull_at <= now`) are locked with `SKIP LOCKED`, grouped by
   (organization, connection, network), cut to the round's call budget per network
   (`METRICS_CALLS_PER_ROUND`, in calls as the network counts them; what does not fit
   stays due for the next round), and leased: their `next_pull_at` becomes the lease's
   end, so a second beat does not see them, and a batch whose task was lost is due again
   once the lease runs out. One `pull_metrics_batch` task per group (at most
   `TASK_MAX_IDS` posts) is enqueued after the claim commits; on X and Facebook the group
   is the organization's every account (`ACROSS_ACCOUNTS`), on LinkedIn one member.

`pull_batch` (the task) reads each network at its batch limit (issue 21):

- X: up to 100 posts of any accounts per GET /2/tweets, with the app-only bearer token
  bought with the app's API Key and Secret (`NetworkApp.api_key`, or `X_API_KEY` for the
  deployment's app) and kept in the cache; all four counters are public_metrics, so no
  author's token is needed (the private fields are the author's own, under 30 days, and
  give nothing the product shows). Without an API Key: each author's token, 100 a call.
- Facebook: each Page's posts need that Page's token, so one multi-id read (50 posts) per
  Page token, and up to 50 of those reads in one Graph batch request whose fallback token
  is the app's. Facebook still counts every read inside a batch against its rate limits.
- LinkedIn: its analytics finder takes one post and one metric per call, so each pull
  reads one thing per post in turn: socialMetadata (100 posts per BATCH_GET: likes,
  comments and whether the post still exists), IMPRESSION, RESHARE; at most one call per
  post per round, each counter refreshed every third pull.

Each call's answers are recorded in one transaction (`_record`): a `MetricSnapshot` of
the raw numbers, `DeliveryMetrics` raised to the highest value seen per counter (never
lowered; a counter not read this time is left as it was), and the increase of those
highs added to `DailyRollup` on the organization's local day. The rows are re-locked and
must still carry the batch's lease, so a batch delivered twice, or a re-run of the same
round, adds nothing a second time.

Failures: a 429 (`RateLimited`) moves the batch's unread rows to the network's reset time
(LinkedIn: minutes for a short throttle, midnight UTC for its daily limit,
`content.services.publishing.limits.retry_at_after_429`),
a transient failure retries them after `RETRY_AFTER`; an expired token is refreshed once
(`accounts.services.connections`), a revoked one marks the connection `needs_reconnect`;
either way the rows already recorded stay recorded and none is counted twice, and one
account's failure (a Page's refused token) leaves the other accounts' answers recorded. A post the
network no longer has gets `deleted_on_network_at` and is never pulled again (its counters
are kept). A counter the network does not give stays NULL: "not available", never 0; a
connection whose granted scopes hold none of those the network's metrics need (LinkedIn
without its partner scopes) is not asked at all, its pulls record "not available".

What each client gives (networks/clients/*.py `fetch_metrics`):

| network  | likes            | comments       | reposts                 | impressions               |
|----------|------------------|----------------|-------------------------|---------------------------|
| X        | like_count       | reply_count    | retweet + quote counts  | impression_count          |
| LinkedIn | all reactions (1)| comments (1)   | RESHARE analytics (2)   | IMPRESSION analytics (2)  |
|          | turn 0 of 3      | turn 0 of 3    | turn 2 of 3             | turn 1 of 3               |
| Facebook | all reactions    | comments       | shares (0 when absent)  | never (insights not read) |

(1) needs r_member_social, (2) r_member_postAnalytics: scopes LinkedIn grants only to
approved (partner) apps; without them the counter is NULL.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
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
from networks.clients.linkedin import SOCIAL_METADATA_BATCH

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

# How the clients in networks/clients/ read metrics, in calls the network counts:
# X reads up to 100 posts of any accounts per GET /2/tweets with the app's bearer token;
# Facebook up to 50 posts of one Page per multi-id read (each read counts as a call at
# Facebook, even sent 50 to an HTTP request inside a batch); LinkedIn at most one call
# per post (a third of the turns cost one call per 100 posts, see its client).
IDS_PER_CALL = {"x": 100, "linkedin": 1, "facebook": 50}
# Networks whose posts of every account of an organization are read in one task: X (one
# app token for all) and Facebook (one batch request carries every Page's reads).
ACROSS_ACCOUNTS = frozenset({"x", "facebook"})
TASK_MAX_IDS = 500  # posts per batch task, so one task stays short
CLAIM_SCAN_LIMIT = 20_000  # due rows looked at per round (oldest first)
ENROL_LIMIT = 5_000  # new deliveries enrolled per round
LEASE = timedelta(minutes=15)  # a claimed batch not done by then is due again
RETRY_AFTER = timedelta(minutes=10)  # after a transient failure


def calls_for(network: str, posts: int) -> int:
    """Calls (as the network counts them) it takes at most to read `posts` posts of one
    account on `network`."""
    return math.ceil(posts / IDS_PER_CALL[network])


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
    """One task's work: posts of one connection (None: of every account of the
    organization on that network, ACROSS_ACCOUNTS), leased until `lease`."""

    organization_id: int
    connection_id: int | None
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
    pooled = {"x": budget.get("x", 0) * IDS_PER_CALL["x"]}  # X: posts of any account share a call
    tasks: dict[tuple[int, int | None, str], list[int]] = defaultdict(list)
    for (org_id, connection_id, network), ids in groups.items():
        if connection_id in unreadable:
            taken = ids
        elif network in pooled:
            taken = ids[: pooled[network]]
            pooled[network] -= len(taken)
        else:
            left = budget.get(network, 0)
            taken = ids[: left * IDS_PER_CALL[network]]
            budget[network] = left - calls_for(network, len(taken))
        if taken:
            across = network in ACROSS_ACCOUNTS and connection_id not in unreadable
            tasks[(org_id, None if across else connection_id, network)].extend(taken)
    batches: list[PullBatch] = []
    for (org_id, connection_id, network), taken in tasks.items():
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
    connection_id: int | None = None
    pulls: int = 0


@dataclass
class BatchOutcome:
    recorded: int = 0
    deleted: int = 0
    deferred: int = 0
    skipped: int = 0
    reason: str = ""


def pull_batch(
    *, organization_id: int, connection_id: int | None, network: str, metrics_ids: Iterable[int], lease: datetime
) -> BatchOutcome:
    """Read the metrics of one batch from the network and record them (see the module doc).

    Only rows still carrying `lease` are pulled: a batch delivered twice or re-claimed
    after its lease ran out does nothing. Never raises for the network's failures: the
    rows are rescheduled (429: at the network's reset time) and the reason returned; a
    failure of one account's reads leaves the other accounts' answers recorded."""
    now = timezone.now()
    organization = Organization.objects.get(pk=organization_id)
    rows = [
        _Row(pk, remote_id, published_at or now, team_id or 0, item_id, row_connection_id, pulls)
        for pk, remote_id, published_at, team_id, item_id, row_connection_id, pulls in DeliveryMetrics.objects.for_org(
            organization
        )
        .filter(pk__in=list(metrics_ids), next_pull_at=lease, deleted_on_network_at__isnull=True)
        .order_by("pk")
        .values_list(
            "pk",
            "delivery__remote_id",
            "delivery__published_at",
            "delivery__share__team_id",
            "delivery__share__item_id",
            "delivery__connection_id",
            "pulls",
        )
    ]
    outcome = BatchOutcome()
    if not rows:
        return outcome
    config = connections.network_config(organization, network)
    if config is None:  # the organization turned the network's API off
        outcome.skipped = _reschedule(organization_id, rows, lease, now)
        outcome.reason = "network not set up"
        return outcome
    client = client_for(network, config)
    if connection_id is not None:
        return _pull_connection(outcome, organization, client, connection_id, rows, lease, now)
    if network == "x" and config.app_key:
        return _pull_with_app_token(outcome, organization, client, rows, lease, now)
    if network == "facebook":
        return _pull_pages(outcome, organization, client, rows, lease, now)
    by_connection: dict[int | None, list[_Row]] = defaultdict(list)
    for row in rows:  # no app-wide read (X without its API Key): each author's own token
        by_connection[row.connection_id].append(row)
    for row_connection_id, own in by_connection.items():
        _pull_connection(outcome, organization, client, row_connection_id, own, lease, now)
    return outcome


def _active(connection: SocialConnection | None) -> tuple[SocialConnection | None, str]:
    """The stored connection with fresh tokens, or None and why it cannot be used now."""
    if connection is None or connection.status != SocialConnection.Status.ACTIVE or not connection.access_token:
        # Needs reconnecting (or disconnected): keep the schedule; pulls resume once reconnected.
        return None, "connection not active"
    connection = _fresh(connection)
    return connection, "" if connection is not None else "connection needs reconnecting"


def _pull_connection(
    outcome: BatchOutcome,
    organization: Organization,
    client,
    connection_id: int | None,
    rows: list[_Row],
    lease: datetime,
    now: datetime,
) -> BatchOutcome:
    """Read `rows` with their author's own token, one client call's worth at a time."""
    network = client.network
    stored = SocialConnection.objects.for_org(organization).filter(pk=connection_id).first()
    try:
        connection, why = _active(stored)
    except net.NetworkError as exc:
        return _stop(outcome, organization.pk, network, stored, rows, lease, now, exc)
    if connection is None:
        outcome.skipped += _reschedule(organization.pk, rows, lease, now)
        outcome.reason = why
        return outcome
    if not may_read_metrics(network, connection.scopes):
        # The token may read none of the metrics (LinkedIn without its partner scopes):
        # every counter is "not available"; asking would cost calls that all answer 403.
        nothing = {row.remote_id: PostMetrics(remote_id=row.remote_id) for row in rows}
        _record_into(outcome, organization, network, rows, nothing, lease, now)
        outcome.reason = "metrics not available to this app"
        return outcome
    chunks = _calls(network, rows)
    for n, chunk in enumerate(chunks):
        try:
            connection, answers = _fetch(client, connection, chunk)
        except (net.NetworkError, ValueError) as exc:
            rest = [row for later in chunks[n:] for row in later]
            return _stop(outcome, organization.pk, network, connection, rest, lease, now, exc)
        _record_into(outcome, organization, network, chunk, answers, lease, now)
    return outcome


def _calls(network: str, rows: list[_Row]) -> list[list[_Row]]:
    """`rows` cut into one network call's worth each, recorded as each call answers: on
    LinkedIn the posts on their socialMetadata turn go 100 to a call, first, then one per
    call for the per-post analytics (see its client's fetch_metrics)."""
    if network != "linkedin":
        per_call = IDS_PER_CALL[network]
        return [rows[start : start + per_call] for start in range(0, len(rows), per_call)]
    batched = [row for row in rows if row.pulls % 3 == 0]
    return [
        batched[start : start + SOCIAL_METADATA_BATCH] for start in range(0, len(batched), SOCIAL_METADATA_BATCH)
    ] + [[row] for row in rows if row.pulls % 3]


def _pull_with_app_token(
    outcome: BatchOutcome, organization: Organization, client, rows: list[_Row], lease: datetime, now: datetime
) -> BatchOutcome:
    """X: every account's posts, 100 to a GET /2/tweets, with the app-only bearer token.
    The product's four counters are all in public_metrics (impression_count included), so
    no author's token is needed: non_public_metrics and organic_metrics (link and profile
    clicks, organic splits; the author's own posts under 30 days only) are not asked."""
    chunks = _calls("x", rows)
    for n, chunk in enumerate(chunks):
        ids = [row.remote_id for row in chunk]
        try:
            try:
                answers = client.fetch_metrics(access_token=_app_token(client), remote_ids=ids)
            except net.TokenExpired:  # the bearer token was invalidated: a new one, once
                cache.delete(_app_token_key(client))
                answers = client.fetch_metrics(access_token=_app_token(client), remote_ids=ids)
        except (net.NetworkError, ValueError) as exc:
            rest = [row for later in chunks[n:] for row in later]
            return _stop(outcome, organization.pk, "x", None, rest, lease, now, exc)
        _record_into(outcome, organization, "x", chunk, answers, lease, now)
    return outcome


APP_TOKEN_CACHE = 24 * 3600  # X's bearer token lives until invalidated; asked again daily


def _app_token_key(client) -> str:
    digest = hashlib.sha256(f"{client.config.app_key}:{client.config.app_secret}".encode()).hexdigest()
    return f"metrics:x-app-token:{digest[:32]}"


def _app_token(client) -> str:
    """The X app's bearer token, kept in the shared cache (one token call a day, not a round)."""
    key = _app_token_key(client)
    token = cache.get(key)
    if token is None:
        token = client.app_token()
        cache.set(key, token, APP_TOKEN_CACHE)
    return token


def _pull_pages(
    outcome: BatchOutcome, organization: Organization, client, rows: list[_Row], lease: datetime, now: datetime
) -> BatchOutcome:
    """Facebook: every Page's posts in one batch request (50 reads of 50 posts each at
    most per HTTP call), each read with its Page's own token, since a Page's posts are
    readable only with that Page's token. A Page whose token is refused keeps its own
    failure; the other Pages' answers are recorded."""
    by_connection: dict[int | None, list[_Row]] = defaultdict(list)
    for row in rows:
        by_connection[row.connection_id].append(row)
    pages: dict[int, tuple[SocialConnection, list[_Row]]] = {}
    stored_pages = SocialConnection.objects.for_org(organization).in_bulk([pk for pk in by_connection if pk])
    for connection_id, own in by_connection.items():
        stored = stored_pages.get(connection_id)
        try:
            connection, why = _active(stored)
        except net.NetworkError as exc:
            _stop(outcome, organization.pk, "facebook", stored, own, lease, now, exc)
            continue
        if connection is None:
            outcome.skipped += _reschedule(organization.pk, own, lease, now)
            outcome.reason = why
            continue
        pages[connection.pk] = (connection, own)
    if not pages:
        return outcome
    posts_by_token: dict[str, list[str]] = defaultdict(list)
    for connection, own in pages.values():
        posts_by_token[connection.access_token].extend(row.remote_id for row in own)
    try:
        read = client.fetch_pages_metrics(posts_by_token=posts_by_token)
    except net.NetworkError as exc:
        every = [row for _, own in pages.values() for row in own]
        return _stop(outcome, organization.pk, "facebook", None, every, lease, now, exc)
    answered: list[_Row] = []
    for connection, own in pages.values():
        failure = read.failures.get(connection.access_token)
        if failure is not None:
            _stop(outcome, organization.pk, "facebook", connection, own, lease, now, failure)
        else:
            answered.extend(own)
    if answered:
        _record_into(outcome, organization, "facebook", answered, read.results, lease, now)
    return outcome


def _stop(
    outcome: BatchOutcome,
    organization_id: int,
    network: str,
    connection: SocialConnection | None,
    rest: list[_Row],
    lease: datetime,
    now: datetime,
    exc: Exception,
) -> BatchOutcome:
    """These rows cannot be read now: give them their next time, by the failure's kind.
    `connection` is None for a failure of the app's own access (X's bearer token, the
    Facebook batch as a whole)."""
    if isinstance(exc, net.RateLimited):
        # LinkedIn's 429 names no reset time: the publisher's rule tells a short throttle
        # (minutes) from its daily limit (midnight UTC); the account's 429s count for both.
        account = connection.remote_id if connection is not None else "app"
        until = limits.retry_at_after_429(network, account=account, exc=exc, now=now)
        outcome.deferred += _defer(organization_id, rest, lease, until)
        outcome.reason = f"rate limited until {until.isoformat()}"
    elif isinstance(exc, net.TransientFailure):
        outcome.deferred += _defer(organization_id, rest, lease, now + RETRY_AFTER)
        outcome.reason = f"transient failure: {exc.message}"
    elif isinstance(exc, net.TokenExpired | net.TokenRevoked) and connection is not None:
        _needs_reconnect(connection, exc)
        outcome.skipped += _reschedule(organization_id, rest, lease, now)
        outcome.reason = "connection needs reconnecting"
    else:  # a refusal (PermanentRejection, ConfigurationError) or a malformed id: keep the schedule
        log.warning("metrics pull on %s (connection %s) refused: %s", network, connection and connection.pk, exc)
        outcome.skipped += _reschedule(organization_id, rest, lease, now)
        outcome.reason = f"refused: {exc}"
    return outcome


def _fresh(connection: SocialConnection) -> SocialConnection | None:
    """The connection with tokens refreshed when near expiry; None when it must be reconnected."""
    connection = connections.refresh_connection(connection_id=connection.pk, organization_id=connection.organization_id)
    return connection if connection.status == SocialConnection.Status.ACTIVE else None


def _fetch(client, connection: SocialConnection, rows: list[_Row]) -> tuple[SocialConnection, dict[str, PostMetrics]]:
    """One `fetch_metrics` call with the author's token; an expired token is refreshed once
    and the call repeated. Returns the connection (with the fresh token, for the next
    call) and the answers."""
    ids = [row.remote_id for row in rows]
    turns = {row.remote_id: row.pulls for row in rows}
    try:
        return connection, client.fetch_metrics(access_token=connection.access_token, remote_ids=ids, turns=turns)
    except net.TokenExpired:
        refreshed = connections.refresh_connection(
            connection_id=connection.pk, organization_id=connection.organization_id, force=True
        )
        if refreshed.status != SocialConnection.Status.ACTIVE:
            raise
        return refreshed, client.fetch_metrics(access_token=refreshed.access_token, remote_ids=ids, turns=turns)


@transaction.atomic
def _needs_reconnect(connection: SocialConnection, exc: net.NetworkError) -> None:
    current = SocialConnection.objects.for_org(connection.organization_id).filter(pk=connection.pk).first()
    if current is not None and current.status == SocialConnection.Status.ACTIVE:
        label = connection.get_network_display()
        connections.mark_needs_reconnect(current, f"{label} no longer accepts our access ({exc.message}).")


@transaction.atomic
def _record_into(outcome: BatchOutcome, *args) -> None:
    """`_record(*args)`, its counts added to the batch's outcome."""
    recorded, deleted = _record(*args)
    outcome.recorded += recorded
    outcome.deleted += deleted


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
