"""Per-author, per-suggestion and per-posting-hour daily stats (the rollups DailyRollup lacks).

DailyRollup has no author and no suggestion dimension, and the marketer's and employee's
pages must not scan raw rows per view. So a periodic task (`refresh_all`, beat every few
minutes) keeps three small tables, each keyed by the organization's local day:

* `AdvocateDailyStats`  day x author: shares created that day; posts published that day
  with their clicks and engagement so far;
* `ContentDailyStats`   day x item x suggestion used x personalised/verbatim x the share's
  language: the same, per post;
* `PostingTimeStats`    day x local hour of publication: the same, for "best time to share";

and, summed from the first, `AdvocateWindowStats`: per author, the totals of each preset
period ("the last 7/30/90/365 days") ending today, which the executive dashboard reads for
its default views instead of summing a row per author per day.

Engagement and clicks belong to the day the post was published (a cohort: "posts of this
period and how they did"), which is what "engagement per post" and "best time" need.

Guarantees:
* Idempotent: a day is recomputed whole from raw rows (DELETE + INSERT ... SELECT in one
  transaction), so running twice, or over a day that did not change, changes nothing.
* Nothing is missed: the days to recompute are those with a delivery, share, metric pull or
  click changed since the organization's watermark, taken with an overlap (`OVERLAP`) so a
  row committed late with an earlier timestamp is still seen. A first run rebuilds all days.
* A counter a network does not give (NULL in DeliveryMetrics) stays NULL in the sums when
  no post of the row has it: the pages say "not available", never 0.
* Cost: a refresh reads only the deliveries of the changed days (and one index-less pass
  over the organization's deliveries' `updated_at` to find them).
* Fresh: besides the beat, a delivery that gets onto its network asks for a refresh of its
  organization once the transaction commits (`refresh_soon`, registered on the
  `content.hooks.delivery_posted` seam), so the author's "My stats" shows the post within
  seconds. Requests are coalesced (one queued task per organization at a time) and
  refreshes of one organization take turns (an advisory lock), so a burst of posts costs
  a few refreshes, never overlapping ones.
* `StatsRefresh.refreshed_until` is when the numbers were last brought up to date: the
  stats pages say so ("Updated 2 minutes ago").
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Organization
from advocacy.sql import global_cursor, tenant_cursor, tenant_rows
from advocacy.transactions import on_commit_once
from analytics.models import (
    AdvocateDailyStats,
    AdvocateWindowStats,
    Click,
    ContentDailyStats,
    PostingTimeStats,
    StatsRefresh,
)
from analytics.selectors.periods import PRESETS, Period
from analytics.services import report_version

OVERLAP = timedelta(minutes=10)
# Shares that count (points per share): everything the employee submitted and did not withdraw.
NOT_COUNTED_SHARE_STATES = ("cancelled", "rejected")


def _clicked_since_sql() -> str:
    """SQL of the deliveries clicked since %(since)s (bounded by the click's local day index)."""
    return (
        f"SELECT c.delivery_id FROM {Click._meta.db_table} c "  # noqa: S608 (identifier from the model)
        "WHERE c.organization_id = %(org)s AND c.day >= %(since_day)s AND c.at >= %(since)s"
    )


def _bounds(days: list[date], tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants around the given local days (so the index/partition bound is usable)."""
    lo = datetime.combine(min(days), time.min, tzinfo=tz)
    hi = datetime.combine(max(days) + timedelta(days=1), time.min, tzinfo=tz)
    return lo, hi


def changed_days(organization: Organization, since: datetime | None) -> list[date]:
    """Local days whose stats may have changed since `since` (every day with data when None)."""
    clicked = _clicked_since_sql()
    since = since or datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
    # The click's local day bounds the scan to the (organization, day) index.
    since_day = since.astimezone(ZoneInfo(organization.timezone)).date() - timedelta(days=1)
    params = {"org": organization.pk, "tz": organization.timezone, "since": since, "since_day": since_day}
    sql = f"""
        SELECT DISTINCT (d.published_at AT TIME ZONE %(tz)s)::date
        FROM content_delivery d LEFT JOIN analytics_deliverymetrics m ON m.delivery_id = d.id
        WHERE d.organization_id = %(org)s AND d.published_at IS NOT NULL
          AND (d.updated_at >= %(since)s OR m.last_pulled_at >= %(since)s
               OR d.id IN ({clicked}))
        UNION
        SELECT DISTINCT (s.created_at AT TIME ZONE %(tz)s)::date
        FROM content_share s WHERE s.organization_id = %(org)s AND s.updated_at >= %(since)s
    """  # noqa: S608 (no input in identifiers)
    return sorted(row[0] for row in tenant_rows(organization, sql, params))


# The posts of the days being recomputed, gathered once. Clicks are counted per delivery
# with an index lookup (LATERAL), so the plan stays linear even on fresh, unanalysed tables.
POSTS_SQL = """
    DROP TABLE IF EXISTS pg_temp.advocate_posts;
    CREATE TEMP TABLE advocate_posts ON COMMIT DROP AS
    SELECT (d.published_at AT TIME ZONE %(tz)s)::date AS day,
           EXTRACT(HOUR FROM d.published_at AT TIME ZONE %(tz)s)::int AS hour,
           s.author_id, s.item_id, COALESCE(s.suggestion_id, 0) AS suggestion_key, s.is_personalised, s.language,
           m.likes, m.comments, m.reposts, m.impressions, c.clicks, c.unique_clicks
    FROM content_delivery d
    JOIN content_share s ON s.id = d.share_id
    LEFT JOIN analytics_deliverymetrics m ON m.delivery_id = d.id
    LEFT JOIN LATERAL (
        SELECT COUNT(*) AS clicks, COUNT(*) FILTER (WHERE k.is_unique) AS unique_clicks
        FROM analytics_click k WHERE k.delivery_id = d.id AND k.discard_reason = ''
    ) c ON true
    WHERE d.organization_id = %(org)s AND d.published_at >= %(lo)s AND d.published_at < %(hi)s
      AND (d.published_at AT TIME ZONE %(tz)s)::date = ANY(%(days)s)
"""
ENGAGEMENT = "SUM(likes), SUM(comments), SUM(reposts), SUM(impressions)"
INSERTS = [
    f"""
    INSERT INTO analytics_advocatedailystats
        (organization_id, day, user_id, shares, posts, clicks, unique_clicks, likes, comments, reposts, impressions)
    SELECT %(org)s, day, author_id, SUM(shares), SUM(posts), SUM(clicks), SUM(unique_clicks), {ENGAGEMENT}
    FROM (
        SELECT day, author_id, 0 AS shares, 1 AS posts, clicks, unique_clicks, likes, comments, reposts, impressions
        FROM advocate_posts
        UNION ALL
        SELECT (s.created_at AT TIME ZONE %(tz)s)::date, s.author_id, 1, 0, 0, 0, NULL, NULL, NULL, NULL
        FROM content_share s
        WHERE s.organization_id = %(org)s AND s.created_at >= %(lo)s AND s.created_at < %(hi)s
          AND (s.created_at AT TIME ZONE %(tz)s)::date = ANY(%(days)s)
          AND s.status NOT IN ('cancelled', 'rejected')
    ) u GROUP BY day, author_id""",  # noqa: S608 (no input in identifiers)
    f"""
    INSERT INTO analytics_contentdailystats
        (organization_id, day, item_id, suggestion_key, personalised, language, posts, clicks, unique_clicks,
         likes, comments, reposts, impressions)
    SELECT %(org)s, day, item_id, suggestion_key, is_personalised, language, COUNT(*), SUM(clicks),
           SUM(unique_clicks), {ENGAGEMENT}
    FROM advocate_posts GROUP BY day, item_id, suggestion_key, is_personalised, language""",  # noqa: S608
    f"""
    INSERT INTO analytics_postingtimestats
        (organization_id, day, hour, posts, clicks, likes, comments, reposts, impressions)
    SELECT %(org)s, day, hour, COUNT(*), SUM(clicks), {ENGAGEMENT}
    FROM advocate_posts GROUP BY day, hour""",  # noqa: S608
]
# Days recomputed per transaction: a long history is rebuilt in short steps.
CHUNK_DAYS = 31


@transaction.atomic
def recompute_days(organization: Organization, days: list[date]) -> None:
    """Recompute the three tables for these local days from raw rows (idempotent)."""
    if not days:
        return
    lo, hi = _bounds(days, ZoneInfo(organization.timezone))
    params = {"org": organization.pk, "tz": organization.timezone, "days": list(days), "lo": lo, "hi": hi}
    for model in (AdvocateDailyStats, ContentDailyStats, PostingTimeStats):
        model.objects.for_org(organization).filter(day__in=days).delete()
    with tenant_cursor(organization) as cursor:
        cursor.execute(POSTS_SQL, params)
        for sql in INSERTS:
            cursor.execute(sql, params)
    with global_cursor() as cursor:  # this session's own temporary table
        cursor.execute("DROP TABLE pg_temp.advocate_posts")
    report_version.bump(organization.pk)


# Each preset window's per-author totals, summed from the daily rows of the window and of the
# same number of days before it (for `active_before`), in one statement for all presets.
WINDOWS_SQL = f"""
    INSERT INTO {AdvocateWindowStats._meta.db_table}
        (organization_id, window_days, through, user_id, shares, posts, clicks, likes, comments, reposts,
         active_before)
    SELECT %(org)s, w.days, %(through)s, s.user_id,
           COALESCE(SUM(s.shares) FILTER (WHERE s.day >= w.start), 0),
           COALESCE(SUM(s.posts) FILTER (WHERE s.day >= w.start), 0),
           COALESCE(SUM(s.clicks) FILTER (WHERE s.day >= w.start), 0),
           SUM(s.likes) FILTER (WHERE s.day >= w.start),
           SUM(s.comments) FILTER (WHERE s.day >= w.start),
           SUM(s.reposts) FILTER (WHERE s.day >= w.start),
           COALESCE(BOOL_OR(s.shares > 0 AND s.day < w.start), false)
    FROM unnest(%(days)s::int[], %(starts)s::date[], %(previous_starts)s::date[]) AS w (days, start, previous_start)
    JOIN {AdvocateDailyStats._meta.db_table} s
      ON s.organization_id = %(org)s AND s.day >= w.previous_start AND s.day <= %(through)s
    GROUP BY w.days, s.user_id
"""  # noqa: S608 (identifiers from the models)


@transaction.atomic
def refresh_windows(organization: Organization, through: date) -> None:
    """Replace the organization's preset windows with those ending on the local day `through`."""
    windows = [Period(through - timedelta(days=days - 1), through) for days in PRESETS]
    AdvocateWindowStats.objects.for_org(organization).delete()
    params = {
        "org": organization.pk,
        "through": through,
        "days": [window.days for window in windows],
        "starts": [window.start for window in windows],
        "previous_starts": [window.previous().start for window in windows],
    }
    with tenant_cursor(organization) as cursor:
        cursor.execute(WINDOWS_SQL, params)
    report_version.bump(organization.pk)


# pg_advisory_lock(int, int): the first key names "advocate stats" so the lock never collides
# with another use of advisory locks; the second is the organization.
_LOCK_NAMESPACE = 0x61647673  # "advs"
# A refresh request waits in the queue at most this long before another may be queued.
QUEUED_SECONDS = 60
# The queued refresh starts this long after the post that queued it, so the posts of those
# seconds share it. Queued at once, an organization posting steadily kept one refresh running
# after another (199 in a minute of `make load`, a third of PostgreSQL's CPU; issue 21).
REFRESH_AFTER_SECONDS = 5
# Enqueued by name (tasks import this module, not the other way round).
REFRESH_AFTER_POST_TASK = "analytics.tasks.refresh_organization_stats"


@contextlib.contextmanager
def _one_refresh_at_a_time(organization: Organization):
    """Refreshes of one organization take turns (the beat's and those after a post): two at
    once would delete and insert the same days. A session lock, so the chunked recompute
    keeps its short transactions."""
    key = {"namespace": _LOCK_NAMESPACE}
    with tenant_cursor(organization) as cursor:
        cursor.execute("SELECT pg_advisory_lock(%(namespace)s, %(org)s)", key)
    try:
        yield
    finally:
        # Inside a caller's transaction that failed nothing more can run: the lock is then
        # held until that database session ends. The tasks and the beat call this without an
        # outer transaction, so it does not arise there.
        if not connection.needs_rollback:
            with tenant_cursor(organization) as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%(namespace)s, %(org)s)", key)


def refresh(organization: Organization, now: datetime | None = None) -> int:
    """Bring one organization's stats up to date; returns how many days were recomputed."""
    with _one_refresh_at_a_time(organization):
        return _refresh(organization, now or timezone.now())


def _refresh(organization: Organization, now: datetime) -> int:
    state = StatsRefresh.objects.for_org(organization).filter().first()
    since = state.refreshed_until - OVERLAP if state else None
    days = changed_days(organization, since)
    for first in range(0, len(days), CHUNK_DAYS):
        recompute_days(organization, days[first : first + CHUNK_DAYS])
    today = now.astimezone(ZoneInfo(organization.timezone)).date()
    if days or not AdvocateWindowStats.objects.for_org(organization).filter(through=today).exists():
        refresh_windows(organization, today)
    # The watermark is the page's "numbers updated at": the report cache reads it live, so only
    # the recomputed days (recompute_days, refresh_windows) move the report's version.
    StatsRefresh.objects.for_org(organization).update_or_create(
        organization=organization, defaults={"refreshed_until": now}
    )
    return len(days)


def _queued_key(organization_id: int) -> str:
    return f"analytics:stats-refresh-queued:{organization_id}"


def refresh_soon(*, delivery) -> None:
    """The `content.hooks.delivery_posted` seam: once the transaction commits, queue one
    refresh of the delivery's organization, to start REFRESH_AFTER_SECONDS later, unless one
    is already waiting (that one will see this post: it has not started yet). Off with
    STATS_REFRESH_AFTER_POST=false."""
    if not settings.STATS_REFRESH_AFTER_POST:
        return
    organization_id = delivery.organization_id

    def queue() -> None:
        if cache.add(_queued_key(organization_id), 1, timeout=REFRESH_AFTER_SECONDS + QUEUED_SECONDS):
            current_app.send_task(REFRESH_AFTER_POST_TASK, args=[organization_id], countdown=REFRESH_AFTER_SECONDS)

    # Once per transaction (a publishing batch posts several); robust: a broker that is down
    # must not fail the publish, the beat's refresh catches up.
    on_commit_once(("stats_refresh", organization_id), queue, robust=True)


def refresh_after_post(organization_id: int) -> int:
    """The queued refresh (analytics.tasks.refresh_organization_stats): lets the next post
    queue another, then refreshes; 0 when the organization is gone."""
    cache.delete(_queued_key(organization_id))
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    return refresh(organization)


def rebuild(organization: Organization) -> int:
    """Recompute every day of one organization (a fresh start, or after a schema change)."""
    with transaction.atomic():
        StatsRefresh.objects.for_org(organization).delete()
        report_version.bump(organization.pk)
    return refresh(organization)


def refresh_all(now: datetime | None = None) -> int:
    """Refresh every organization (the beat task); returns the days recomputed in total."""
    return sum(refresh(organization, now) for organization in Organization.objects.order_by("pk"))
