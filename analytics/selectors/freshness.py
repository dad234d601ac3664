"""When a stats page's numbers were last brought up to date (issue 16, item 6).

Two processes keep the numbers: the per-author refresh (`advocate_stats`, its watermark
`StatsRefresh.refreshed_until`, also run right after each post) and the fold of shares and
posts into the daily rollups (`rollups.fold_activity`, its `ActivityWatermark`). A page
that reads both is as fresh as the older of the two.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Subquery

from accounts.models import Organization
from analytics.models import ActivityWatermark, StatsRefresh


def stats_updated_at(organization: Organization, *, rollups: bool) -> datetime | None:
    """The moment the page's numbers were last updated (one query); None before the first
    refresh. `rollups`: the page also reads the daily rollups."""
    rows = StatsRefresh.objects.for_org(organization)
    if not rollups:
        return rows.values_list("refreshed_until", flat=True).first()
    folded = ActivityWatermark.objects.for_org(organization).values("published_through")[:1]
    found = rows.annotate(folded=Subquery(folded)).values_list("refreshed_until", "folded").first()
    return older_of(*found) if found else None


def older_of(refreshed_until: datetime | None, folded_through: datetime | None) -> datetime | None:
    """A page reading both the per-author stats and the rollups is as fresh as the older of
    their watermarks; None before the first per-author refresh."""
    if refreshed_until is None:
        return None
    return min(moment for moment in (refreshed_until, folded_through) if moment is not None)
