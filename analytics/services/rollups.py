"""Daily rollups, updated incrementally: `add()` is the one writer every producer calls
(share submission, publishing, the click flush, the metric pulls)."""

from __future__ import annotations

import zoneinfo
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from django.apps import apps
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization
from advocacy.errors import ValidationFailed
from advocacy.sql import global_cursor, tenant_cursor
from analytics.models import (
    ActivityWatermark,
    DailyAuthorOutcome,
    DailyItemSummary,
    DailyRollup,
    DailySummary,
    MetricAvailability,
    MetricSnapshot,
)
from analytics.services import report_version
from content.models import Delivery, Share


def local_day(when: datetime, tz_name: str) -> date:
    """The calendar day of `when` in the organization's timezone."""
    return when.astimezone(zoneinfo.ZoneInfo(tz_name)).date()


# The detailed table and its coarser copies: the same increments, keyed by fewer columns.
# `add` writes all of them in this order; `rebuild` derives the copies from the detailed rows.
SUMMARIES = (
    (DailySummary, ("day", "team_key", "network")),
    (DailyItemSummary, ("day", "item_id")),
)


def add(
    *,
    organization_id: int,
    day: date,
    team_key: int,
    network: str,
    item_id: int,
    author_key: int | None = None,
    **counters: int,
) -> None:
    """Add to the counters of one rollup row (created at zero when missing), atomically.

    Runs as INSERT ... ON CONFLICT DO UPDATE, so concurrent producers never lose an
    increment; the same increment goes to the coarser `SUMMARIES` rows (one statement per
    table, always in this order). Call it inside the transaction that records the raw event.
    A producer of outcomes (conversions, won revenue) names the post's author in
    `author_key` (0: removed), and those counters also go to the author's `DailyAuthorOutcome`
    row, after the others.
    """
    unknown = set(counters) - set(DailyRollup.COUNTERS)
    if unknown:
        raise ValueError(f"unknown rollup counters: {sorted(unknown)}")
    counters = {name: int(value) for name, value in counters.items() if value}
    if not counters:
        return
    names = DailyRollup.COUNTERS  # column names come from the model, never from input
    values = [counters.get(name, 0) for name in names]
    key = {"day": day, "team_key": team_key, "network": network, "item_id": item_id}
    with tenant_cursor(organization_id) as cursor:
        for model, keys in ((DailyRollup, ("day", "team_key", "network", "item_id")), *SUMMARIES):
            table = model._meta.db_table
            columns = ", ".join(["organization_id", *keys, *names])
            placeholders = ", ".join(["%(org)s", *(f"%({name})s" for name in (*keys, *names))])
            updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in counters)
            sql = (
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608 (identifiers from the model)
                f"ON CONFLICT (organization_id, {', '.join(keys)}) DO UPDATE SET {updates}"
            )
            cursor.execute(sql, {**{name: key[name] for name in keys}, **dict(zip(names, values, strict=True))})
        outcomes = {name: counters[name] for name in DailyAuthorOutcome.COUNTERS if name in counters}
        if author_key is not None and outcomes:
            table = DailyAuthorOutcome._meta.db_table
            names = DailyAuthorOutcome.COUNTERS
            updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in outcomes)
            sql = (
                f"INSERT INTO {table} (organization_id, day, author_key, {', '.join(names)}) "  # noqa: S608 (model)
                f"VALUES (%(org)s, %(day)s, %(author_key)s, {', '.join(f'%({name})s' for name in names)}) "
                f"ON CONFLICT (organization_id, day, author_key) DO UPDATE SET {updates}"
            )
            cursor.execute(
                sql, {"day": day, "author_key": author_key, **{name: outcomes.get(name, 0) for name in names}}
            )
    report_version.bump(organization_id)


# --- producers nobody else owns: shares submitted and deliveries published ------------------
#
# Lower layers may not import analytics, so instead of a hook in sharing/publishing a
# periodic task (`analytics.tasks.rollup_activity`, every minute) folds what happened since
# the organization's watermark. The watermark row is locked, the increments are added and
# the watermark moves in ONE transaction: each share and each published delivery is counted
# exactly once. Events are folded only once they are FOLD_LAG old, so a transaction that
# stamped its row a little before committing is not skipped (a share's or a publish's
# transaction lasts well under that); anything slower is repaired by `rebuild`.

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
FOLD_LAG = timedelta(minutes=2)


def _watermark(organization) -> ActivityWatermark:
    """The organization's watermark row, locked (created at the epoch the first time)."""
    ActivityWatermark.objects.bulk_create(
        [
            ActivityWatermark(
                organization=organization,
                shares_through=EPOCH,
                published_through=EPOCH,
                metrics_checked_through=EPOCH,
            )
        ],
        ignore_conflicts=True,
    )
    return ActivityWatermark.objects.for_org(organization).select_for_update().get()


def note_raw_clicks_from(organization_id: int, day: date) -> None:
    """Record that the organization's raw clicks before `day` are gone (dropped after the
    retention by `click_partitions`), so `rebuild` keeps the rollups of those days. Call in
    the transaction that drops them. System operation: the retention task calls it."""
    mark = _watermark(Organization.objects.get(pk=organization_id))
    if mark.raw_clicks_from is None or mark.raw_clicks_from < day:
        mark.raw_clicks_from = day
        mark.save(update_fields=["raw_clicks_from", "updated_at"])


def has_link(text: str, tracking_code: str) -> bool:
    """A post carries a link when its text holds its tracked link (X charges more for those)."""
    return f"/r/{tracking_code}" in text


@transaction.atomic
def fold_activity(*, organization, now: datetime | None = None) -> dict[str, int]:
    """Count shares submitted and deliveries published since the watermark into the rollups.

    A share counts on the local day it was first submitted (`created_at`) in the row of its
    team and item with `network = ""`; a delivery counts on the local day it was published,
    with `api_posts` / `api_link_posts` for the per-post API charges. Also notes which
    engagement counters each network has given (`MetricAvailability`). Idempotent:
    running it again folds nothing twice. Returns {"shares": n, "published": n}.
    """
    now = now or timezone.now()
    upper = now - FOLD_LAG
    mark = _watermark(organization)
    tz = organization.timezone
    done = {"shares": 0, "published": 0}
    if upper > mark.shares_through:
        groups: Counter = Counter()
        rows = (
            Share.objects.for_org(organization)
            .filter(created_at__gte=mark.shares_through, created_at__lt=upper)
            .values_list("created_at", "team_id", "item_id")
        )
        for created_at, team_id, item_id in rows:
            groups[(local_day(created_at, tz), team_id or 0, item_id)] += 1
        for (day, team_key, item_id), count in groups.items():
            add(organization_id=organization.pk, day=day, team_key=team_key, network="", item_id=item_id, shares=count)
            done["shares"] += count
        mark.shares_through = upper
    if upper > mark.published_through:
        posts: dict[tuple, Counter] = {}
        rows = (
            Delivery.objects.for_org(organization)
            .filter(published_at__gte=mark.published_through, published_at__lt=upper)
            .values_list("published_at", "network", "mode", "text", "tracking_code", "share__team_id", "share__item_id")
        )
        for published_at, network, mode, text, code, team_id, item_id in rows:
            counter = posts.setdefault((local_day(published_at, tz), team_id or 0, network, item_id), Counter())
            counter["published"] += 1
            if mode == Delivery.Mode.API:
                counter["api_posts"] += 1
                counter["api_link_posts"] += int(has_link(text, code))
        for (day, team_key, network, item_id), counter in posts.items():
            add(
                organization_id=organization.pk, day=day, team_key=team_key, network=network, item_id=item_id, **counter
            )
            done["published"] += counter["published"]
        mark.published_through = upper
    if upper > mark.metrics_checked_through:
        if _note_availability(organization, since=mark.metrics_checked_through - FOLD_LAG, until=upper):
            report_version.bump(organization.pk)  # the coverage the figures state
        mark.metrics_checked_through = upper
    mark.save()
    # `add` moved the report's version for what was folded; the watermark itself (the page's
    # "numbers updated at") is read live by the report cache, so a fold of nothing moves nothing.
    return done


def _note_availability(organization, *, since: datetime, until: datetime | None) -> bool:
    """Mark counters seen in snapshots taken in [since, until) as available (only ever turns
    on); True when one was turned on."""
    snapshots = MetricSnapshot.objects.for_org(organization).filter(taken_at__gte=since)
    if until is not None:
        snapshots = snapshots.filter(taken_at__lt=until)
    seen = snapshots.values("delivery__network").annotate(
        n=Count("id"), **{name: Count(name) for name in MetricAvailability.METRICS}
    )
    turned_on = False
    for row in seen:
        current, _ = MetricAvailability.objects.for_org(organization).get_or_create(
            organization=organization, network=row["delivery__network"]
        )
        changed = not current.snapshots
        current.snapshots = True
        for name in MetricAvailability.METRICS:
            if row[name] and not getattr(current, name):
                setattr(current, name, True)
                changed = True
        if changed:
            current.save()
            turned_on = True
    return turned_on


# --- rebuild ------------------------------------------------------------------------------


def _day_bounds(organization, date_from: date | None, date_to: date | None) -> tuple[datetime, datetime]:
    """UTC instants of the local midnights around [date_from, date_to] (open ends: all time)."""
    zone = zoneinfo.ZoneInfo(organization.timezone)
    start = datetime.combine(date_from, time.min, tzinfo=zone) if date_from else EPOCH
    end = (
        datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
        if date_to
        else datetime.max.replace(tzinfo=UTC)
    )
    return start, end


def _click_events_sql() -> str:
    """Clicks of the tracked links on their recorded local day, under the rollup key the
    click flush stored with each click (empty while click tracking is not installed)."""
    try:
        click = apps.get_model("analytics", "Click")
    except LookupError:
        return ""
    return f"""
        UNION ALL
        SELECT c.day, c.team_key, c.network, c.item_id, 0, 0, 0, 0, 1, (c.is_unique)::int, 0, 0, 0, 0, 0, 0, 0, 0
        FROM {click._meta.db_table} c
        WHERE c.organization_id = %(org)s AND c.day >= %(day_from)s AND c.day <= %(day_to)s
          AND c.discard_reason = ''
    """  # noqa: S608 (identifiers from the model)


REBUILD_WORK_MEM = "256MB"  # for the rebuild's own transaction only (SET LOCAL)

REBUILD_SQL = """
WITH snaps AS (
    SELECT ms.id, ms.delivery_id, ms.taken_at,
           COALESCE(MAX(ms.likes) OVER w, 0) AS likes,
           COALESCE(MAX(ms.comments) OVER w, 0) AS comments,
           COALESCE(MAX(ms.reposts) OVER w, 0) AS reposts,
           COALESCE(MAX(ms.impressions) OVER w, 0) AS impressions
    FROM analytics_metricsnapshot ms
    WHERE ms.organization_id = %(org)s
      AND ms.delivery_id IN (SELECT delivery_id FROM analytics_metricsnapshot
                             WHERE organization_id = %(org)s AND taken_at >= %(start)s AND taken_at < %(end)s)
    WINDOW w AS (PARTITION BY ms.delivery_id ORDER BY ms.taken_at, ms.id ROWS UNBOUNDED PRECEDING)
), deltas AS (
    SELECT delivery_id, taken_at,
           likes - COALESCE(LAG(likes) OVER p, 0) AS likes,
           comments - COALESCE(LAG(comments) OVER p, 0) AS comments,
           reposts - COALESCE(LAG(reposts) OVER p, 0) AS reposts,
           impressions - COALESCE(LAG(impressions) OVER p, 0) AS impressions
    FROM snaps WINDOW p AS (PARTITION BY delivery_id ORDER BY taken_at, id)
), events (day, team_key, network, item_id, shares, published, api_posts, api_link_posts, clicks,
           unique_clicks, likes, comments, reposts, impressions, conversions, conversion_value, won_revenue,
           pipeline) AS (
    SELECT (s.created_at AT TIME ZONE %(tz)s)::date, COALESCE(s.team_id, 0), '', s.item_id,
           1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM content_share s
    WHERE s.organization_id = %(org)s AND s.created_at >= %(start)s AND s.created_at < %(end)s
      AND s.created_at < %(shares_through)s
    UNION ALL
    SELECT (d.published_at AT TIME ZONE %(tz)s)::date, COALESCE(s.team_id, 0), d.network, s.item_id,
           0, 1, (d.mode = 'api')::int,
           (d.mode = 'api' AND strpos(d.text, '/r/' || d.tracking_code) > 0)::int, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
    FROM content_delivery d JOIN content_share s ON s.id = d.share_id
    WHERE d.organization_id = %(org)s AND d.published_at >= %(start)s AND d.published_at < %(end)s
      AND d.published_at < %(published_through)s
    UNION ALL
    SELECT (x.taken_at AT TIME ZONE %(tz)s)::date, COALESCE(s.team_id, 0), d.network, s.item_id,
           0, 0, 0, 0, 0, 0, x.likes, x.comments, x.reposts, x.impressions, 0, 0, 0, 0
    FROM deltas x JOIN content_delivery d ON d.id = x.delivery_id JOIN content_share s ON s.id = d.share_id
    WHERE x.taken_at >= %(start)s AND x.taken_at < %(end)s
    UNION ALL
    SELECT v.day, v.team_key, v.network, v.item_id, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
           1, CASE WHEN v.value_counted THEN CAST(v.value * 100 AS BIGINT) ELSE 0 END, 0, 0
    FROM analytics_conversion v
    WHERE v.organization_id = %(org)s AND v.status = 'attributed' AND v.item_id IS NOT NULL
      AND v.day >= %(day_from)s AND v.day <= %(day_to)s
    UNION ALL
    SELECT k.close_date, k.team_key, k.network, k.item_id,
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, CAST(k.amount * 100 AS BIGINT), 0
    FROM analytics_deal k
    WHERE k.organization_id = %(org)s AND k.amount_counted AND k.is_won AND k.item_id IS NOT NULL
      AND k.close_date >= %(day_from)s AND k.close_date <= %(day_to)s
    UNION ALL
    SELECT kv.day, k.team_key, k.network, k.item_id,
           0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, CAST(k.amount * 100 AS BIGINT)
    FROM analytics_deal k JOIN analytics_conversion kv ON kv.id = k.conversion_id
    WHERE k.organization_id = %(org)s AND k.amount_counted AND NOT k.is_closed AND k.item_id IS NOT NULL
      AND kv.day >= %(day_from)s AND kv.day <= %(day_to)s
    {clicks}
)
INSERT INTO analytics_dailyrollup (organization_id, day, team_key, network, item_id, shares, published, api_posts,
    api_link_posts, clicks, unique_clicks, likes, comments, reposts, impressions, estimated_reach,
    conversions, conversion_value, won_revenue, pipeline)
SELECT %(org)s, day, team_key, network, item_id, SUM(shares), SUM(published), SUM(api_posts), SUM(api_link_posts),
       SUM(clicks), SUM(unique_clicks), SUM(likes), SUM(comments), SUM(reposts), SUM(impressions), 0,
       SUM(conversions), SUM(conversion_value), SUM(won_revenue), SUM(pipeline)
FROM events
GROUP BY day, team_key, network, item_id
HAVING SUM(shares) <> 0 OR SUM(published) <> 0 OR SUM(clicks) <> 0 OR SUM(unique_clicks) <> 0
    OR SUM(likes) <> 0 OR SUM(comments) <> 0 OR SUM(reposts) <> 0 OR SUM(impressions) <> 0
    OR SUM(conversions) <> 0 OR SUM(won_revenue) <> 0 OR SUM(pipeline) <> 0
"""


AUTHOR_OUTCOMES_SQL = """
INSERT INTO analytics_dailyauthoroutcome (organization_id, day, author_key, conversions, conversion_value,
    won_revenue, pipeline)
SELECT %(org)s, day, author_key, SUM(conversions), SUM(conversion_value), SUM(won_revenue), SUM(pipeline)
FROM (
    SELECT v.day, COALESCE(v.author_id, 0) AS author_key, 1 AS conversions,
           CASE WHEN v.value_counted THEN CAST(v.value * 100 AS BIGINT) ELSE 0 END AS conversion_value,
           0 AS won_revenue, 0 AS pipeline
    FROM analytics_conversion v
    WHERE v.organization_id = %(org)s AND v.status = 'attributed' AND v.item_id IS NOT NULL
      AND v.day >= %(day_from)s AND v.day <= %(day_to)s
    UNION ALL
    SELECT k.close_date, COALESCE(k.author_id, 0), 0, 0, CAST(k.amount * 100 AS BIGINT), 0
    FROM analytics_deal k
    WHERE k.organization_id = %(org)s AND k.amount_counted AND k.is_won AND k.item_id IS NOT NULL
      AND k.close_date >= %(day_from)s AND k.close_date <= %(day_to)s
    UNION ALL
    SELECT kv.day, COALESCE(k.author_id, 0), 0, 0, 0, CAST(k.amount * 100 AS BIGINT)
    FROM analytics_deal k JOIN analytics_conversion kv ON kv.id = k.conversion_id
    WHERE k.organization_id = %(org)s AND k.amount_counted AND NOT k.is_closed AND k.item_id IS NOT NULL
      AND kv.day >= %(day_from)s AND kv.day <= %(day_to)s
) AS events
GROUP BY day, author_key
HAVING SUM(conversions) <> 0 OR SUM(won_revenue) <> 0 OR SUM(pipeline) <> 0
"""


def _summary_sql(model, keys: tuple[str, ...]) -> str:
    """INSERT ... SELECT of one summary table's rows from the detailed rows of the range."""
    columns = ", ".join(["organization_id", *keys])
    sums = ", ".join(f"SUM({name})" for name in DailyRollup.COUNTERS)
    return f"""
INSERT INTO {model._meta.db_table} ({columns}, {", ".join(DailyRollup.COUNTERS)})
SELECT {columns}, {sums}
FROM {DailyRollup._meta.db_table}
WHERE organization_id = %(org)s AND day >= %(day_from)s AND day <= %(day_to)s
GROUP BY {columns}
"""  # noqa: S608 (identifiers from the models)


@transaction.atomic
def rebuild(organization, date_from: date | None = None, date_to: date | None = None) -> int:
    """Recompute the organization's rollup rows for local days [date_from, date_to] (open
    ends: all history) from raw rows, replacing what was there; returns the rows written.

    Counts what the incremental producers would have counted: shares and publications
    before the activity watermark (the fold counts the later ones), clicks, the
    increase of each delivery's highest counter on the local day of each snapshot,
    attributed conversions, and the amount of each attributed closed-won deal in the
    organization's currency on its close day, and of each attributed open deal on its
    conversion's day in the pipeline (from the deal, not from what it booked); and
    the same outcomes per author in `DailyAuthorOutcome`. Takes
    the rollup table in SHARE ROW EXCLUSIVE mode, so a producer that adds meanwhile waits
    and adds on top of the rebuilt rows (its raw rows were not visible to the rebuild).
    Set-based SQL. Raises ValidationFailed for a reversed range. Days before the
    organization's `raw_clicks_from` are left as they are: their raw clicks were dropped
    after the retention period and their rollups are the only count left.
    """
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed(_("The start date is after the end date."))
    kept_from = ActivityWatermark.objects.for_org(organization).values_list("raw_clicks_from", flat=True).first()
    if kept_from and (date_from is None or date_from < kept_from):
        date_from = kept_from
        if date_to and date_to < date_from:
            return 0
    with global_cursor() as cursor:  # the table's lock and this transaction's memory: no tenant's rows
        cursor.execute(f"LOCK TABLE {DailyRollup._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
        # One big sort (snapshots per delivery) and one big hash aggregate (every event by
        # day x team x network x item): give this transaction the memory to keep them off disk.
        cursor.execute("SET LOCAL work_mem = %s", [REBUILD_WORK_MEM])
    mark = _watermark(organization)
    start, end = _day_bounds(organization, date_from, date_to)
    for model in (DailyRollup, *(summary for summary, _keys in SUMMARIES), DailyAuthorOutcome):
        rows = model.objects.for_org(organization)
        if date_from:
            rows = rows.filter(day__gte=date_from)
        if date_to:
            rows = rows.filter(day__lte=date_to)
        rows.delete()
    params = {
        "org": organization.pk,
        "tz": organization.timezone,
        "start": start,
        "end": end,
        "day_from": date_from or date(1, 1, 1),
        "day_to": date_to or date(9999, 12, 31),
        "shares_through": mark.shares_through,
        "published_through": mark.published_through,
    }
    with tenant_cursor(organization) as cursor:
        cursor.execute(REBUILD_SQL.replace("{clicks}", _click_events_sql()), params)
        written = cursor.rowcount
        for model, keys in SUMMARIES:
            cursor.execute(_summary_sql(model, keys), params)
        cursor.execute(AUTHOR_OUTCOMES_SQL, params)
    MetricAvailability.objects.for_org(organization).delete()
    _note_availability(organization, since=EPOCH, until=None)
    report_version.bump(organization.pk)
    return written
