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
