"""The marketer's content performance page and the employee's "My stats" page at size,
against the same numbers computed over raw rows and against the bare layout page, in the
same run; then the same at 10x less history. Also times the per-author stats refresh.

    .venv/bin/python bench/advocates.py [--deliveries 1000000] [--clicks 10000000]

Seeds (once per size, then reused; the same organizations as bench/dashboard.py) a year of
history through `seed_analytics`, then builds the per-author / per-suggestion stats with
`advocate_stats.rebuild` (timed). Through Django's test client, requests the content page
and a busy employee's "My stats" page (the last 30 days) and the organization home (the
bare layout), interleaved, and times the naive way: one aggregate over the period's raw
deliveries, metrics and clicks. Prints medians, p95s and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from zoneinfo import ZoneInfo

from _setup import setup_django

ROUNDS = 6
PER_ROUND = 5

NAIVE_ITEMS = """
SELECT s.item_id, COUNT(*), SUM(m.likes), SUM(m.comments), SUM(m.reposts), SUM(m.impressions),
       SUM((SELECT COUNT(*) FROM analytics_click k WHERE k.delivery_id = d.id))
FROM content_delivery d JOIN content_share s ON s.id = d.share_id
LEFT JOIN analytics_deliverymetrics m ON m.delivery_id = d.id
WHERE d.organization_id = %(org)s AND d.published_at >= %(lo)s AND d.published_at < %(hi)s
GROUP BY s.item_id
"""
NAIVE_ME = """
SELECT COUNT(*), SUM(m.likes), SUM(m.comments), SUM(m.reposts), SUM(m.impressions),
       SUM((SELECT COUNT(*) FROM analytics_click k WHERE k.delivery_id = d.id))
FROM content_delivery d JOIN content_share s ON s.id = d.share_id
LEFT JOIN analytics_deliverymetrics m ON m.delivery_id = d.id
WHERE d.organization_id = %(org)s AND d.published_at >= %(lo)s AND d.published_at < %(hi)s
  AND s.author_id = %(user)s
"""


def p95(values):
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def seeded(deliveries: int, clicks: int):
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from accounts.models import Membership, Organization, Role, User
    from analytics.models import ActivityWatermark, StatsRefresh
    from analytics.services import advocate_stats
    from content.models import Share

    slug = f"bench-analytics-{deliveries}-{clicks}"
    org = Organization.objects.filter(slug=slug).first()
    if org is None or not ActivityWatermark.objects.for_org(org).exists():
        started = time.monotonic()
        call_command("seed_analytics", deliveries=deliveries, clicks=clicks, org=slug)
        print(f"seeded {deliveries:,} deliveries and {clicks:,} clicks in {time.monotonic() - started:.0f}s")
        org = Organization.objects.get(slug=slug)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    if not StatsRefresh.objects.for_org(org).exists():
        started = time.monotonic()
        days = advocate_stats.rebuild(org)
        print(f"advocate stats rebuilt: {days} days in {time.monotonic() - started:.1f}s")
    # The busiest author is the employee whose page is measured.
    busiest = Share.objects.for_org(org).values("author_id").annotate(n=Count("id")).order_by("-n")
    author_id = busiest[0]["author_id"]
    employee = User.objects.get(pk=author_id)
    membership = Membership.objects.for_org(org).get(user=employee)
    membership.set_roles([Role.EMPLOYEE, Role.MARKETER])
    membership.save()
    return org, employee


def naive(sql: str, org, period, user_id: int) -> int:
    from django.db import connection

    from analytics.services.advocate_stats import _bounds

    lo, hi = _bounds([period.start, period.end], ZoneInfo(org.timezone))
    with connection.cursor() as cursor:
        cursor.execute(sql, {"org": org.pk, "lo": lo, "hi": hi, "user": user_id})
        return len(cursor.fetchall())


def measure(org, user, label: str) -> None:
    from django.test import Client
    from django.utils import timezone

    from analytics.selectors.periods import last_days
    from analytics.services import advocate_stats

    client = Client()
    client.force_login(user)
    pages = {
        "content page": f"/o/{org.slug}/analytics/content/",
        "my stats page": f"/o/{org.slug}/analytics/me/",
        "bare page": f"/o/{org.slug}/",
    }
    period = last_days(org)
    for url in pages.values():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    naives = {
        "naive items": lambda: naive(NAIVE_ITEMS, org, period, user.pk),
        "naive me": lambda: naive(NAIVE_ME, org, period, user.pk),
    }
    times = {name: [] for name in (*pages, *naives)}
    for n in range(ROUNDS):
        order = list(times) if n % 2 == 0 else list(reversed(times))
        for what in order:
            for _ in range(PER_ROUND if what in pages else 1):
                started = time.perf_counter()
                if what in pages:
                    client.get(pages[what])
                else:
                    naives[what]()
                times[what].append(time.perf_counter() - started)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    high = {k: p95(v) * 1e3 for k, v in times.items()}
    print(f"-- {label}: last 30 days")
    for name in times:
        print(f"{name:14s} median {med[name]:8.1f} ms  p95 {high[name]:8.1f} ms")
    print(f"naive items / content page  {med['naive items'] / med['content page']:7.1f}x")
    print(f"naive me / my stats page    {med['naive me'] / med['my stats page']:7.1f}x")
    print(f"content page / bare         {med['content page'] / med['bare page']:7.2f}x")
    print(f"my stats page / bare        {med['my stats page'] / med['bare page']:7.2f}x")
    today = [period.end]
    started = time.perf_counter()
    advocate_stats.recompute_days(org, today)
    one_day = time.perf_counter() - started
    started = time.perf_counter()
    advocate_stats.refresh(org, timezone.now())
    periodic = time.perf_counter() - started
    print(f"refresh: recompute one day {one_day * 1e3:.0f} ms; a periodic refresh {periodic * 1e3:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--clicks", type=int, default=10_000_000)
    args = parser.parse_args()
    setup_django()

    for deliveries, clicks, label in (
        (args.deliveries, args.clicks, "full history"),
        (args.deliveries // 10, args.clicks // 10, "10x less history"),
    ):
        org, user = seeded(deliveries, clicks)
        measure(org, user, f"{label}: {deliveries:,} deliveries, {clicks:,} clicks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
