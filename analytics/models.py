"""Tracked links and clicks, engagement snapshots, daily rollups.

Data and invariants only. The metric pulls (`analytics.services.metrics`) write
`MetricSnapshot` rows and keep `DeliveryMetrics` (one row per published delivery: the
highest value seen of each counter, so what the dashboards show never goes backwards,
and when to pull next).
"""

from __future__ import annotations

from django.db import models

from advocacy.tenancy import TenantModel
from content.models import Delivery


class DeliveryMetrics(TenantModel):
    """The latest engagement of one published delivery and its pull schedule.

    A counter is NULL when the network does not give it ("not available", never 0).
    """

    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="metrics")
    network = models.CharField(max_length=20)
    likes = models.PositiveBigIntegerField(null=True, blank=True)
    comments = models.PositiveBigIntegerField(null=True, blank=True)
    reposts = models.PositiveBigIntegerField(null=True, blank=True)
    impressions = models.PositiveBigIntegerField(null=True, blank=True)
    pulls = models.PositiveIntegerField(default=0)
    last_pulled_at = models.DateTimeField(null=True, blank=True)
    next_pull_at = models.DateTimeField(null=True, blank=True, help_text="NULL: past the horizon, never again.")
    deleted_on_network_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["next_pull_at"], name="metrics_next_pull_idx")]


class MetricSnapshot(TenantModel):
    """What the network answered at one pull (raw, may go down; kept for the archive and rebuilds)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="metric_snapshots")
    taken_at = models.DateTimeField()
    likes = models.PositiveBigIntegerField(null=True, blank=True)
    comments = models.PositiveBigIntegerField(null=True, blank=True)
    reposts = models.PositiveBigIntegerField(null=True, blank=True)
    impressions = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["delivery", "taken_at"]
        indexes = [models.Index(fields=["organization", "delivery", "taken_at"], name="snapshot_delivery_idx")]


class DailyRollup(TenantModel):
    """One day (in the organization's timezone) x team x network x content item.

    Updated incrementally (`analytics.services.rollups.add`) by share submission and
    publishing, the click flush and the metric pulls; `rebuild_rollups` recomputes it from
    raw rows and must match. `team_key` is the share's team id, 0 when it has none (a
    plain integer so the unique key has no NULLs). Engagement counts the increase of the
    highest value seen, on the day it was seen, so a snapshot is never counted twice.
    """

    day = models.DateField()
    team_key = models.PositiveBigIntegerField(default=0)
    network = models.CharField(max_length=20)
    item = models.ForeignKey("content.ContentItem", on_delete=models.CASCADE, related_name="+")
    shares = models.BigIntegerField(default=0)
    published = models.BigIntegerField(default=0)
    clicks = models.BigIntegerField(default=0)
    unique_clicks = models.BigIntegerField(default=0)
    likes = models.BigIntegerField(default=0)
    comments = models.BigIntegerField(default=0)
    reposts = models.BigIntegerField(default=0)
    impressions = models.BigIntegerField(default=0)
    estimated_reach = models.BigIntegerField(default=0, help_text="Followers at posting time (an estimate).")

    COUNTERS = (
        "shares",
        "published",
        "clicks",
        "unique_clicks",
        "likes",
        "comments",
        "reposts",
        "impressions",
        "estimated_reach",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "team_key", "network", "item"], name="rollup_unique_key"
            )
        ]
        indexes = [models.Index(fields=["organization", "day"], name="rollup_org_day_idx")]
