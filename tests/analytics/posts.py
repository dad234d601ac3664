"""Seeding for the marketer / employee / leaderboard / weekly summary tests: published posts
with their raw rows (share, delivery, metrics, snapshot, clicks) and, like the producers
do, their DailyRollup increments through the one writer `rollups.add`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from analytics.models import MetricAvailability
from analytics.services import rollups
from content.models import Delivery, Share
from tests.analytics.factories import ClickFactory, DeliveryMetricsFactory, MetricSnapshotFactory
from tests.content.factories import DeliveryFactory, ShareFactory

AUCKLAND = "Pacific/Auckland"  # UTC+13 in November: a local day straddles two UTC days


def auckland(day: int, hour: int = 10) -> datetime:
    """An instant of November 2026 given in Auckland's local time."""
    return datetime(2026, 11, day, hour, tzinfo=UTC) - timedelta(hours=13)


def share(org, user, item, *, at: datetime, status=Share.Status.SUBMITTED, team=None, **kwargs) -> Share:
    """A share created at `at` (counted in DailyRollup on its local day, network "")."""
    created = ShareFactory(organization=org, item=item, author=user, status=status, team=team, **kwargs)
    Share.objects.for_org(org).filter(pk=created.pk).update(created_at=at, submitted_at=at)
    rollups.add(
        organization_id=org.pk,
        day=rollups.local_day(at, org.timezone),
        team_key=team.pk if team else 0,
        network="",
        item_id=item.pk,
        shares=1,
    )
    created.refresh_from_db()
    return created


def post(
    org,
    user,
    item,
    *,
    at: datetime,
    network: str = "linkedin",
    likes: int | None = None,
    comments: int | None = None,
    reposts: int | None = None,
    impressions: int | None = None,
    clicks: int = 0,
    unique_clicks: int = 0,
    suggestion=None,
    personalised: bool = True,
    team=None,
    seen_after: timedelta = timedelta(hours=1),
    mode: str = Delivery.Mode.ASSISTED,
) -> Delivery:
    """A share published at `at` on one network, with its metrics (NULL = the network does
    not give that counter) seen `seen_after` later, and `clicks` clicks of which `unique_clicks`
    unique, at that same time."""
    shared = share(
        org,
        user,
        item,
        at=at,
        status=Share.Status.PUBLISHED,
        team=team,
        suggestion=suggestion,
        is_personalised=personalised,
    )
    delivery = DeliveryFactory(
        share=shared, organization=org, network=network, status=Delivery.Status.PUBLISHED, published_at=at, mode=mode
    )
    counters = {"likes": likes, "comments": comments, "reposts": reposts, "impressions": impressions}
    later = at + seen_after
    DeliveryMetricsFactory(delivery=delivery, **counters, pulls=1, last_pulled_at=later)
    MetricSnapshotFactory(delivery=delivery, taken_at=later, **counters)
    key = {"organization_id": org.pk, "team_key": team.pk if team else 0, "network": network, "item_id": item.pk}
    api = {"api_posts": 1, "api_link_posts": int(rollups.has_link(delivery.text, delivery.tracking_code))}
    rollups.add(
        day=rollups.local_day(at, org.timezone), published=1, **key, **(api if mode == Delivery.Mode.API else {})
    )
    later_day = rollups.local_day(later, org.timezone)
    rollups.add(day=later_day, **key, **{name: value for name, value in counters.items() if value})
    # What the fold notes from the snapshots: which counters this network gives at all.
    available, _ = MetricAvailability.objects.for_org(org).get_or_create(organization=org, network=network)
    for name, value in counters.items():
        if value is not None:
            setattr(available, name, True)
    available.snapshots = True
    available.save()
    for n in range(clicks):
        ClickFactory(
            delivery=delivery,
            organization=org,
            item=item,
            network=network,
            at=later,
            day=later_day,
            is_unique=n < unique_clicks,
            team_key=key["team_key"],
        )
    rollups.add(day=later_day, clicks=clicks, unique_clicks=unique_clicks, **key)
    return delivery
