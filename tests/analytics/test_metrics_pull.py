"""Metric pulls against the network emulator (its own process), with a real Celery worker
for the happy path: schedule, batching, never backwards, 429s, deleted posts, NULLs.

Setup publishes straight on the emulator with the clients and records the deliveries as
published in the database (publishing itself is tested in tests/content).
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import time_machine
from django.core.cache import cache
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import NetworkApp, SocialConnection
from accounts.services import connections
from analytics.models import DailyRollup, DeliveryMetrics, MetricSnapshot
from analytics.services import metrics, rollups
from content.models import Delivery, Share
from networks.base import NetworkClient, client_for
from tests.accounts.factories import OrganizationFactory, SocialConnectionFactory, TeamFactory, UserFactory
from tests.conftest import wait_for
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory

SECRET = "metrics-app-secret"
X_API_KEY = "x-partner-api-key"
NETWORKS = ("linkedin", "x", "facebook")
COUNTERS = metrics.COUNTERS


# --- setup: apps, accounts and published posts on the emulator -------------------------------


@pytest.fixture
def emulator(network_emulator, settings):
    network_emulator.reset()
    cache.clear()  # X's app token kept there came from the emulator's previous life
    network_emulator.settings(rate_limits=False)  # setup publishes more than a member may per day
    for network in NETWORKS:
        setattr(settings, f"{network.upper()}_ORIGIN", network_emulator.origin(network))
        network_emulator.register_app(
            network,
            f"{network}-partner",
            SECRET,
            [connections.callback_url(network)],
            partner=True,
            consumer=(X_API_KEY, SECRET) if network == "x" else None,
        )
    network_emulator.register_app("linkedin", "linkedin-basic", SECRET, [connections.callback_url("linkedin")])
    return network_emulator


@dataclass
class Account:
    connection: SocialConnection
    client: NetworkClient
    author_id: str


def make_org(*, linkedin_app: str = "linkedin-partner", tz: str = "Europe/Paris", x_api_key: bool = True):
    """An organization with its own apps; `x_api_key` False: no X API Key, so X metrics are
    read with each author's own token."""
    org = OrganizationFactory(timezone=tz)
    for network in NETWORKS:
        client_id = linkedin_app if network == "linkedin" else f"{network}-partner"
        keys = {"api_key": X_API_KEY, "api_secret": SECRET} if network == "x" and x_api_key else {}
        NetworkApp.objects.create(organization=org, network=network, client_id=client_id, client_secret=SECRET, **keys)
    return org


def connect(emulator, org, network: str) -> Account:
    """OAuth on the emulator (auto-approved consent), stored as the employee's connection."""
    pages = [{"name": "Acme Corp", "tasks": ["CREATE_CONTENT", "ANALYZE"]}] if network == "facebook" else None
    account = emulator.create_account(network, "Ada Lovelace", **({"pages": pages} if pages else {}))
    emulator.auto_approve(network, account["id"])
    client = client_for(network, connections.network_config(org, network))
    request = client.authorization_url(state="metrics-state")
    answer = requests.get(request.url, allow_redirects=False, timeout=10)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    tokens = client.exchange_code(code=code, code_verifier=request.code_verifier)
    fields = {
        "remote_id": account["id"],
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token or "",
        "expires_at": tokens.expires_at,
        "scopes": " ".join(tokens.scopes),
    }
    if network == "facebook":
        [page] = client.managed_pages(access_token=tokens.access_token)
        fields.update(
            remote_id=page.remote_id, access_token=page.access_token, refresh_token="", expires_at=None, scopes=""
        )
        fields["kind"] = SocialConnection.Kind.PAGE
    connection = SocialConnectionFactory(organization=org, user=UserFactory(), network=network, **fields)
    return Account(connection, client, fields["remote_id"])


def publish(account: Account, count: int = 1, *, item=None, team=None, published_at=None) -> list[Delivery]:
    """`count` posts on the emulator, each recorded as a published delivery of its own share."""
    connection = account.connection
    org = connection.organization
    item = item or ContentItemFactory(organization=org)
    deliveries = []
    for n in range(count):
        text = f"Proud of this launch, take {n} ({uuid.uuid4().hex[:8]})"
        post = account.client.publish(access_token=connection.access_token, author_id=account.author_id, text=text)
        share = ShareFactory(
            organization=org, item=item, team=team, author=connection.user, status=Share.Status.PUBLISHED
        )
        deliveries.append(
            DeliveryFactory(
                share=share,
                organization=org,
                network=connection.network,
                mode=Delivery.Mode.API,
                connection=connection,
                text=text,
                status=Delivery.Status.PUBLISHED,
                remote_id=post.remote_id,
                remote_url=post.url,
                published_at=published_at or timezone.now() - timedelta(hours=2),
            )
        )
    return deliveries


def pull_round(now: datetime | None = None) -> list[metrics.BatchOutcome]:
    """One round in this process: enrol, claim (committed in its own transaction), pull."""
    now = now or timezone.now()
    metrics.enrol_published(now=now)
    with transaction.atomic():
        batches = metrics.claim_due(now=now)
    return [
        metrics.pull_batch(
            organization_id=b.organization_id,
            connection_id=b.connection_id,
            network=b.network,
            metrics_ids=b.metrics_ids,
            lease=b.lease,
        )
        for b in batches
    ]


def make_due(*deliveries: Delivery, at: datetime | None = None) -> None:
    DeliveryMetrics.objects.for_org(deliveries[0].organization_id).filter(delivery__in=deliveries).update(
        next_pull_at=at or timezone.now() - timedelta(seconds=1)
    )


def emulator_post(emulator, network: str, remote_id: str) -> dict:
    return next(p for p in emulator.state()["posts"] if p["network"] == network and p["id"] == remote_id)


def emulator_counter(emulator, network: str, name: str) -> int:
    return emulator.state()["counters"][network].get(name, 0)


def rollup_totals(org) -> dict[str, int]:
    """The rollups' sums; no rollup row at all (no counter went up) is 0 of everything."""
    return DailyRollup.objects.for_org(org).aggregate(**{name: Coalesce(Sum(name), 0) for name in COUNTERS})


def highs(org) -> dict[str, int]:
    """The sums of the highs; a counter never read sums to None, which the rollups hold as 0
    (they add increases only)."""
    totals = DeliveryMetrics.objects.for_org(org).aggregate(**{name: Sum(name) for name in COUNTERS})
    return {name: total or 0 for name, total in totals.items()}


# --- the schedule ---------------------------------------------------------------------------


def test_schedule_decays_then_stops():
    published = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def after(age):
        return metrics.next_pull_at(published_at=published, now=published + age)

    assert after(timedelta(minutes=15)) == published + timedelta(minutes=75)  # first day: hourly
    assert after(timedelta(hours=23)) == published + timedelta(hours=24)
    assert after(timedelta(days=1)) == published + timedelta(days=1, hours=6)  # first week: every 6 h
    assert after(timedelta(days=6, hours=20)) == published + timedelta(days=7, hours=2)
    assert after(timedelta(days=7)) == published + timedelta(days=8)  # then daily
    assert after(timedelta(days=29, hours=12)) == published + timedelta(days=30)  # last pull at the horizon
    assert after(timedelta(days=30)) is None  # never again
    assert after(timedelta(days=45)) is None


def test_horizon_is_a_setting(settings):
    settings.METRICS_HORIZON_DAYS = 10
    published = datetime(2026, 11, 1, tzinfo=UTC)
    assert metrics.next_pull_at(published_at=published, now=published + timedelta(days=9, hours=12)) == (
        published + timedelta(days=10)
    )
    assert metrics.next_pull_at(published_at=published, now=published + timedelta(days=10)) is None


@pytest.mark.django_db
def test_pulls_follow_the_decaying_schedule(emulator):
    org = make_org()
    account = connect(emulator, org, "linkedin")
    start = datetime.now(UTC).replace(microsecond=0)
    [delivery] = publish(account, published_at=start)

    metrics.enrol_published(now=start)
    row = DeliveryMetrics.objects.for_org(org).get(delivery=delivery)
    assert row.next_pull_at == start + metrics.FIRST_PULL_AFTER
    assert metrics.claim_due(now=start) == []  # not due yet

    expected = [
        (timedelta(minutes=15), start + timedelta(minutes=75)),
        (timedelta(days=2), start + timedelta(days=2, hours=6)),
        (timedelta(days=8), start + timedelta(days=9)),
        (timedelta(days=30), None),
    ]
    for age, next_at in expected:
        with time_machine.travel(start + age, tick=False):
            [outcome] = pull_round()
        assert outcome.recorded == 1
        row.refresh_from_db()
        assert row.last_pulled_at == start + age
        assert row.next_pull_at == next_at
    assert row.pulls == 4
    with time_machine.travel(start + timedelta(days=60), tick=False):
        assert pull_round() == []  # past the horizon: never again


# --- the happy path, through beat's round and the real worker --------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_growing_metrics_show_up_after_each_pull_by_the_worker(emulator, worker_process):
    org = make_org()
    team = TeamFactory(organization=org)
    item = ContentItemFactory(organization=org)
    published = {network: publish(connect(emulator, org, network), 2, item=item, team=team) for network in NETWORKS}
    deliveries = [d for group in published.values() for d in group]
    emulator.advance_clock(6 * 3600)  # the posts are 6 hours old on the network

    summary = metrics.start_pull_round(now=timezone.now() + timedelta(minutes=20))
    assert summary == {"enrolled": 6, "batches": 3, "posts": 6}

    def pulled(times):
        return DeliveryMetrics.objects.for_org(org).filter(pulls=times).count() == len(deliveries)

    wait_for(lambda: pulled(1), timeout=60, message="the worker's first pull")
    first = {m.delivery_id: m for m in DeliveryMetrics.objects.for_org(org)}
    for delivery in deliveries:
        # The network's numbers (they grow by the minute: what we read is at most what it has now).
        row, raw = first[delivery.pk], emulator_post(emulator, delivery.network, delivery.remote_id)["metrics"]
        [snapshot] = MetricSnapshot.objects.for_org(org).filter(delivery=delivery)
        assert [getattr(row, n) for n in COUNTERS] == [getattr(snapshot, n) for n in COUNTERS]
        assert 0 < row.likes <= raw["likes"]
        assert 0 <= row.comments <= raw["comments"]
        if delivery.network == "linkedin":  # a first pull reads socialMetadata; the next turns the analytics
            assert row.reposts is None and row.impressions is None
        elif delivery.network == "x":
            assert 0 <= row.reposts <= raw["reposts"] + raw["quotes"]  # retweets + quotes
        else:
            assert 0 <= row.reposts <= raw["reposts"]
        if delivery.network == "facebook":
            assert row.impressions is None  # insights are not read: not available
        elif delivery.network == "x":
            assert 0 < row.impressions <= raw["impressions"]
        assert row.next_pull_at > timezone.now()

    emulator.advance_clock(24 * 3600)  # a day later on the network (X tokens have expired meanwhile)
    make_due(*deliveries)  # and on our side
    metrics.start_pull_round()
    wait_for(lambda: pulled(2), timeout=60, message="the worker's second pull")
    for row in DeliveryMetrics.objects.for_org(org):
        assert row.likes >= first[row.delivery_id].likes and row.comments >= first[row.delivery_id].comments
        if row.network == "x":
            assert row.impressions > first[row.delivery_id].impressions
        elif row.network == "linkedin":  # its second pull is its impressions turn
            assert row.impressions > 0 and first[row.delivery_id].impressions is None
    assert MetricSnapshot.objects.for_org(org).count() == 12
    assert rollup_totals(org) == highs(org)  # counted once: each pull added only the increase
    assert set(DailyRollup.objects.for_org(org).values_list("team_key", "item_id")) == {(team.pk, item.pk)}
    assert SocialConnection.objects.for_org(org).filter(status="active").count() == 3  # X refreshed itself


# --- batching and the call budget --------------------------------------------------------


@pytest.mark.django_db
def test_x_reads_150_posts_of_one_account_in_two_calls(emulator):
    org = make_org()
    deliveries = publish(connect(emulator, org, "x"), 150)
    emulator.advance_clock(3600)
    reads = emulator_counter(emulator, "x", "metrics_reads")
    requests_before = emulator_counter(emulator, "x", "requests")

    [outcome] = pull_round(timezone.now() + timedelta(minutes=20))

    assert outcome.recorded == 150
    assert emulator_counter(emulator, "x", "metrics_reads") - reads == 2
    assert emulator_counter(emulator, "x", "requests") - requests_before == 3  # the app token, 2 lookups
    assert DeliveryMetrics.objects.for_org(org).filter(pulls=1, likes__isnull=False).count() == len(deliveries)


@pytest.mark.django_db
def test_the_round_budget_leaves_the_rest_due():
    org = OrganizationFactory()
    partner = SocialConnectionFactory(organization=org, network="linkedin", scopes="r_member_social w_member_social")
    basic = SocialConnectionFactory(organization=org, network="linkedin", scopes="openid profile w_member_social")
    now = timezone.now()
    for connection, count in ((partner, 5), (basic, 4)):
        for _ in range(count):
            DeliveryFactory(
                share__item__organization=org,
                organization=org,
                connection=connection,
                mode=Delivery.Mode.API,
                status=Delivery.Status.PUBLISHED,
                remote_id=f"urn:li:share:{uuid.uuid4().int % 10**12}",
                published_at=now - timedelta(hours=3),
            )
    metrics.enrol_published(now=now)

    with transaction.atomic():
        batches = {b.connection_id: b for b in metrics.claim_due(now=now, budget={"linkedin": 2})}
    assert len(batches[partner.pk].metrics_ids) == 2  # at most one call a post: 2 posts fit in 2
    assert len(batches[basic.pk].metrics_ids) == 4  # nothing is asked for these: no call to budget
    due = DeliveryMetrics.objects.for_org(org).filter(next_pull_at__lte=now)
    assert due.count() == 3  # the rest stays due for the next round
    with transaction.atomic():
        [second] = metrics.claim_due(now=now, budget={"linkedin": 100})  # a second claim never takes leased rows
    assert set(second.metrics_ids).isdisjoint(batches[partner.pk].metrics_ids) and len(second.metrics_ids) == 3
    with transaction.atomic():
        assert metrics.claim_due(now=now, budget={"linkedin": 100}) == []
    with transaction.atomic():  # a batch whose task was lost is due again once its lease ends
        again = metrics.claim_due(now=now + metrics.LEASE + timedelta(seconds=1), budget={"linkedin": 100})
    assert sum(len(b.metrics_ids) for b in again) == 9


@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_never_claim_the_same_rows():
    org = OrganizationFactory()
    connection = SocialConnectionFactory(organization=org, network="x")
    now = timezone.now()
    for n in range(4):
        DeliveryFactory(
            share__item__organization=org,
            organization=org,
            connection=connection,
            network="x",
            mode=Delivery.Mode.API,
            status=Delivery.Status.PUBLISHED,
            remote_id=str(10**15 + n),
            published_at=now - timedelta(hours=3),
        )
    metrics.enrol_published(now=now)
    claimed, holding, release = [], threading.Event(), threading.Event()

    def first_beat():
        try:
            with transaction.atomic():
                claimed.extend(metrics.claim_due(now=now))
                holding.set()
                release.wait(10)  # still inside its transaction: its rows are locked
        finally:
            holding.set()
            db_connection.close()  # this thread's own connection

    thread = threading.Thread(target=first_beat)
    thread.start()
    assert holding.wait(10)
    with transaction.atomic():
        with db_connection.cursor() as cursor:  # waiting on the first beat's locks would fail, not hang
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        second = metrics.claim_due(now=now)  # SKIP LOCKED: the first beat's rows are passed over
    release.set()
    thread.join(10)
    assert second == []
    assert [len(b.metrics_ids) for b in claimed] == [4]


# --- recording: never backwards, exactly once ---------------------------------------------


@pytest.mark.django_db
def test_a_lower_number_from_the_network_never_lowers_what_we_show(emulator):
    org = make_org()
    [delivery] = publish(connect(emulator, org, "linkedin"))
    emulator.advance_clock(6 * 3600)
    metrics.enrol_published()
    seen = emulator_post(emulator, "linkedin", delivery.remote_id)["metrics"]["likes"]
    # An earlier pull saw more likes than the network gives now (someone took a like back).
    DeliveryMetrics.objects.for_org(org).filter(delivery=delivery).update(
        likes=seen + 50,
        comments=0,
        reposts=0,
        impressions=0,
        pulls=3,  # turn 0: socialMetadata again
    )
    make_due(delivery)

    pull_round()

    row = DeliveryMetrics.objects.for_org(org).get(delivery=delivery)
    [snapshot] = MetricSnapshot.objects.for_org(org).filter(delivery=delivery)
    assert 0 < snapshot.likes < seen + 50  # the raw answer is kept as it was...
    assert row.likes == seen + 50  # ...but what we show did not go down
    assert snapshot.comments is not None and row.comments == snapshot.comments  # the other one read
    assert snapshot.impressions is None and row.impressions == 0  # not read on this turn: kept
    totals = rollup_totals(org)
    assert totals["likes"] == 0  # no increase of the high: nothing added
    assert totals["comments"] == snapshot.comments


@pytest.mark.django_db
def test_rollup_increments_are_the_sum_of_increases_of_the_highs(emulator):
    org = make_org(tz="Pacific/Auckland")
    team = TeamFactory(organization=org)
    deliveries = publish(connect(emulator, org, "x"), 3, team=team)
    pulls_at = []
    for hours in (1, 5, 20):
        emulator.advance_clock(hours * 3600)
        if pulls_at:
            make_due(*deliveries)
        now = timezone.now() + timedelta(minutes=20)
        pull_round(now)
        pulls_at.append(now)

    snapshots = MetricSnapshot.objects.for_org(org).order_by("delivery_id", "taken_at")
    expected = dict.fromkeys(COUNTERS, 0)
    for delivery in deliveries:
        high = dict.fromkeys(COUNTERS, 0)
        for snap in snapshots.filter(delivery=delivery):
            for name in COUNTERS:
                increase = max(getattr(snap, name) - high[name], 0)
                expected[name] += increase
                high[name] += increase
    assert expected["likes"] > 0
    assert rollup_totals(org) == expected == highs(org)
    days = {rollups.local_day(at, "Pacific/Auckland") for at in pulls_at}
    assert set(DailyRollup.objects.for_org(org).values_list("day", flat=True)) <= days
    assert set(DailyRollup.objects.for_org(org).values_list("team_key", "network")) == {(team.pk, "x")}


@pytest.mark.django_db
def test_a_batch_delivered_twice_pulls_and_counts_once(emulator):
    org = make_org()
    deliveries = publish(connect(emulator, org, "x"), 3)
    emulator.advance_clock(3 * 3600)
    now = timezone.now() + timedelta(minutes=20)
    metrics.enrol_published(now=now)
    with transaction.atomic():
        [batch] = metrics.claim_due(now=now)
    args = {
        "organization_id": batch.organization_id,
        "connection_id": batch.connection_id,
        "network": batch.network,
        "metrics_ids": batch.metrics_ids,
        "lease": batch.lease,
    }
    assert metrics.pull_batch(**args).recorded == 3
    calls = emulator_counter(emulator, "x", "requests")
    totals = rollup_totals(org)

    again = metrics.pull_batch(**args)  # the same message, redelivered

    assert again.recorded == 0
    assert emulator_counter(emulator, "x", "requests") == calls  # not even asked
    assert rollup_totals(org) == totals
    assert MetricSnapshot.objects.for_org(org).count() == len(deliveries)


# --- failures ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_metrics_429_is_retried_at_the_reset_time_and_counted_once(emulator):
    org = make_org()
    account = connect(emulator, org, "x")
    deliveries = publish(account, 3)
    emulator.advance_clock(6 * 3600)
    emulator.fault("x", "rate_limit", path="/2/tweets", method="GET", reset_in=900)
    reset = datetime.fromisoformat(emulator.state()["now"].replace("Z", "+00:00")) + timedelta(seconds=900)
    now = timezone.now() + timedelta(minutes=20)

    [outcome] = pull_round(now)

    assert outcome.recorded == 0 and outcome.deferred == 3
    rows = DeliveryMetrics.objects.for_org(org)
    for row in rows:
        assert abs((row.next_pull_at - reset).total_seconds()) <= 2  # X's x-rate-limit-reset
        assert row.pulls == 0 and row.likes is None
    assert not MetricSnapshot.objects.for_org(org).exists()
    assert not DailyRollup.objects.for_org(org).exists()
    with time_machine.travel(reset - timedelta(seconds=5), tick=False):
        assert pull_round() == []  # not before the reset

    retry_at = max(r.next_pull_at for r in rows)
    with time_machine.travel(retry_at, tick=False):
        [outcome] = pull_round()
        assert pull_round() == []  # the same round again finds nothing due
    assert outcome.recorded == 3
    assert MetricSnapshot.objects.for_org(org).count() == len(deliveries)
    assert rollup_totals(org) == highs(org)
    assert rollup_totals(org)["likes"] > 0


@pytest.mark.django_db
def test_a_429_in_the_middle_keeps_what_was_read_and_defers_the_rest(emulator):
    org = make_org()
    first, second, third = publish(connect(emulator, org, "linkedin"), 3)
    emulator.advance_clock(4 * 3600)
    metrics.enrol_published()
    # The first on its socialMetadata turn (read first), the others on their impressions turn.
    DeliveryMetrics.objects.for_org(org).filter(delivery__in=[second, third]).update(pulls=1)
    emulator.fault("linkedin", "rate_limit", path="memberCreatorPostAnalytics", method="GET")  # no reset header
    now = timezone.now() + timedelta(minutes=20)
    started = timezone.now()

    [outcome] = pull_round(now)

    assert (outcome.recorded, outcome.deferred) == (1, 2)
    rows = {m.delivery_id: m for m in DeliveryMetrics.objects.for_org(org)}
    assert rows[first.pk].pulls == 1 and rows[first.pk].likes is not None
    for delivery in (second, third):
        assert rows[delivery.pk].pulls == 1  # not pulled this time
        # A short LinkedIn throttle (no "DAY limit" in its words): minutes, not midnight UTC.
        assert started < rows[delivery.pk].next_pull_at <= timezone.now() + timedelta(minutes=15)

    pull_round(now + timedelta(minutes=16))
    assert MetricSnapshot.objects.for_org(org).filter(delivery__in=[second, third]).count() == 2
    assert rollup_totals(org) == highs(org)


@pytest.mark.django_db
def test_a_transient_failure_retries_later(emulator):
    org = make_org()
    [delivery] = publish(connect(emulator, org, "facebook"))
    emulator.fault("facebook", "server_error", method="POST", times=1)  # the batch request
    now = timezone.now() + timedelta(minutes=20)

    with time_machine.travel(now, tick=False):
        [outcome] = pull_round()

    assert outcome.deferred == 1
    row = DeliveryMetrics.objects.for_org(org).get(delivery=delivery)
    assert row.next_pull_at == now + metrics.RETRY_AFTER and row.pulls == 0
    with time_machine.travel(row.next_pull_at, tick=False):
        [outcome] = pull_round()
    assert outcome.recorded == 1


@pytest.mark.django_db
def test_a_revoked_token_skips_the_pull_and_asks_to_reconnect(emulator):
    org = make_org(x_api_key=False)  # read with the author's own token
    account = connect(emulator, org, "x")
    [delivery] = publish(account)
    emulator.fault("x", "revoked", account_id=account.author_id)
    now = timezone.now() + timedelta(minutes=20)

    with time_machine.travel(now, tick=False):
        [outcome] = pull_round()

    assert outcome.recorded == 0 and outcome.reason == "connection needs reconnecting"
    account.connection.refresh_from_db()
    assert account.connection.status == SocialConnection.Status.NEEDS_RECONNECT
    row = DeliveryMetrics.objects.for_org(org).get(delivery=delivery)
    assert row.pulls == 0 and row.next_pull_at == now + timedelta(hours=1)  # keeps its schedule
    calls = emulator_counter(emulator, "x", "requests")
    with time_machine.travel(row.next_pull_at, tick=False):
        [outcome] = pull_round()
    assert outcome.reason == "connection not active"
    assert emulator_counter(emulator, "x", "requests") == calls  # nothing asked of X meanwhile


@pytest.mark.django_db
@pytest.mark.parametrize("network", NETWORKS)
def test_a_post_deleted_on_the_network_stops_its_pulls_and_keeps_its_counts(emulator, network):
    org = make_org()
    account = connect(emulator, org, network)
    [delivery] = publish(account)
    emulator.advance_clock(5 * 3600)
    metrics.enrol_published()
    if network == "linkedin":  # a first pull on its impressions turn: something to keep
        DeliveryMetrics.objects.for_org(org).filter(delivery=delivery).update(pulls=1)
    pull_round(timezone.now() + timedelta(minutes=20))
    before = DeliveryMetrics.objects.for_org(org).get(delivery=delivery)
    # Something to keep. Not `likes` alone: after 5 hours a quiet LinkedIn post (the emulator's
    # growth depends on the post id, hence on test order) can show 1 like, which LinkedIn's
    # per-reaction rounding reports as 0 reactions; impressions are then well above 0.
    assert any(getattr(before, n) for n in COUNTERS), [getattr(before, n) for n in COUNTERS]
    if network == "x":  # the pull read with the app's token: the author's has expired meanwhile
        connections.refresh_connection(connection_id=account.connection.pk, organization_id=org.pk, force=True)
    account.connection.refresh_from_db()
    account.client.delete(access_token=account.connection.access_token, remote_id=delivery.remote_id)
    make_due(delivery)
    if network == "linkedin":  # LinkedIn tells a deleted post in socialMetadata's batch (turn 0)
        DeliveryMetrics.objects.for_org(org).filter(delivery=delivery).update(pulls=3)

    pull_round()

    row = DeliveryMetrics.objects.for_org(org).get(delivery=delivery)
    assert row.deleted_on_network_at is not None and row.next_pull_at is None
    assert [getattr(row, n) for n in COUNTERS] == [getattr(before, n) for n in COUNTERS]
    assert MetricSnapshot.objects.for_org(org).count() == 1
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        assert pull_round() == []


@pytest.mark.django_db
def test_counters_a_network_does_not_give_stay_null(emulator):
    org = make_org(linkedin_app="linkedin-basic")  # without LinkedIn's partner scopes
    linkedin_account = connect(emulator, org, "linkedin")
    assert "w_member_social" in linkedin_account.connection.scopes
    linkedin = publish(linkedin_account)
    facebook = publish(connect(emulator, org, "facebook"))
    emulator.advance_clock(8 * 3600)
    linkedin_calls = emulator_counter(emulator, "linkedin", "requests")

    pull_round(timezone.now() + timedelta(minutes=20))

    li = DeliveryMetrics.objects.for_org(org).get(delivery=linkedin[0])
    assert li.pulls == 1
    assert [getattr(li, n) for n in COUNTERS] == [None, None, None, None]
    assert emulator_counter(emulator, "linkedin", "requests") == linkedin_calls  # 403s are not worth asking for
    assert not MetricSnapshot.objects.for_org(org).filter(delivery=linkedin[0]).exists()
    assert li.next_pull_at is not None  # still on schedule (the app may be approved, the member reconnect)
    fb = DeliveryMetrics.objects.for_org(org).get(delivery=facebook[0])
    assert fb.likes > 0 and fb.impressions is None
    assert MetricSnapshot.objects.for_org(org).get(delivery=facebook[0]).impressions is None
    assert rollup_totals(org)["impressions"] == 0  # "not available" adds nothing


@pytest.mark.django_db
def test_linkedin_403_on_metrics_reads_as_not_available(emulator):
    """Scopes not recorded on the connection: the client is asked, LinkedIn answers 403."""
    org = make_org(linkedin_app="linkedin-basic")
    account = connect(emulator, org, "linkedin")
    SocialConnection.objects.for_org(org).filter(pk=account.connection.pk).update(scopes="")
    [delivery] = publish(account)
    emulator.advance_clock(8 * 3600)
    linkedin_calls = emulator_counter(emulator, "linkedin", "requests")

    [outcome] = pull_round(timezone.now() + timedelta(minutes=20))

    assert outcome.recorded == 1
    assert emulator_counter(emulator, "linkedin", "requests") - linkedin_calls == 1  # its turn's read: 403
    row = DeliveryMetrics.objects.for_org(org).get(delivery=delivery)
    assert [getattr(row, n) for n in COUNTERS] == [None, None, None, None] and row.pulls == 1
