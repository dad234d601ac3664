"""The executive ROI dashboard at size, against a naive aggregate over raw rows and the
bare layout page, in the same run; then the same at 10x less history.

    .venv/bin/python bench/dashboard.py [--deliveries 1000000] [--clicks 10000000]

Seeds (once per size, then reused) an organization with a year of history through
`seed_analytics` (set-based SQL; the time it takes is printed), in the benchmark database
(bench/_setup.py). Then, through Django's test client with a logged-in executive, requests
the dashboard (`/o/<org>/reports/`, the last 30 days) and the organization home (the bare
layout), interleaved, and times the naive way: the same daily numbers computed in one
GROUP BY over the raw shares, deliveries, metric snapshots and clicks of the period.
Also a custom range (45 days ending a week ago), viewed again and computed. Prints medians,
p95s and the ratios (aim: >= 100x faster than naive; goal: a viewed dashboard, last 30 days
and the custom range, <= 2x the bare page); exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from _setup import setup_django

ROUNDS = 10
PER_ROUND = 8


def p95(values):
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def seeded(deliveries: int, clicks: int):
    from django.core.management import call_command

    from accounts.models import Membership, Organization, Role, User
    from analytics.models import ActivityWatermark

    slug = f"bench-analytics-{deliveries}-{clicks}"
    org = Organization.objects.filter(slug=slug).first()
    if org is None or not ActivityWatermark.objects.for_org(org).exists():
        started = time.monotonic()
        call_command("seed_analytics", deliveries=deliveries, clicks=clicks, org=slug)
        print(f"seeded {deliveries:,} deliveries and {clicks:,} clicks in {time.monotonic() - started:.0f}s")
        org = Organization.objects.get(slug=slug)
    else:
        print(f"reusing {slug} (seeded before)")
    from django.db import connection

    from analytics.services import advocate_stats

    with connection.cursor() as cursor:  # as autovacuum leaves a production database: planner statistics
        cursor.execute("ANALYZE")
    # As the periodic refresh leaves it: the per-author rows and today's preset windows (a
    # reused seed from an earlier day gets its windows moved to today here).
    started = time.monotonic()
    advocate_stats.refresh(org)
    print(f"advocate stats refresh: {time.monotonic() - started:.1f}s")
    user, _ = User.objects.get_or_create(email=f"executive@{slug}.test", defaults={"name": "Bench executive"})
    membership, _ = Membership.objects.for_org(org).get_or_create(organization=org, user=user)
    membership.set_roles([Role.EXECUTIVE])
    membership.save()
    return org, user


def naive(org, period) -> int:
    """The dashboard's daily rows straight from raw rows (what rollups spare every view)."""
    from django.db import connection

    from analytics.services import rollups

    select = rollups.REBUILD_SQL.replace("{clicks}", rollups._click_events_sql())
    select = (
        select[: select.index("INSERT INTO")]
        + "SELECT day, network, team_key, item_id, "
        + ", ".join(
            f"SUM({name})"
            for name in (
                "shares",
                "published",
                "clicks",
                "unique_clicks",
                "likes",
                "comments",
                "reposts",
                "impressions",
            )
        )
        + " FROM events GROUP BY day, network, team_key, item_id"
    )
    start, end = rollups._day_bounds(org, period.start, period.end)
    params = {
        "org": org.pk,
        "tz": org.timezone,
        "start": start,
        "end": end,
        "day_from": period.start,
        "day_to": period.end,
        "shares_through": rollups.FAR_FUTURE,
        "published_through": rollups.FAR_FUTURE,
    }
    with connection.cursor() as cursor:
        cursor.execute(select, params)
        return len(cursor.fetchall())


GOAL_BARE = 2.0  # a viewed dashboard within 2x of the bare layout page (issue 21)


def measure(org, user, label: str) -> bool:
    """Times the pages and prints their ratios; True when every goal line is met."""
    from datetime import timedelta

    from django.test import Client

    from analytics.selectors.periods import Period, last_days

    client = Client()
    client.force_login(user)
    dashboard, bare = f"/o/{org.slug}/reports/", f"/o/{org.slug}/"
    period = last_days(org)
    # A range no preset gives (its report sums the per-author days, not the preset windows).
    custom_period = Period(period.end - timedelta(days=51), period.end - timedelta(days=7))
    custom = f"{dashboard}?start={custom_period.start}&end={custom_period.end}"
    for url in (dashboard, bare, custom):
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    rows = naive(org, period)
    from django.core.cache import cache

    from analytics.selectors import report_cache

    pages = {"dashboard": dashboard, "custom": custom, "bare": bare, "computed": dashboard, "custom computed": custom}
    periods_of = {"computed": period, "custom computed": custom_period}
    times = {name: [] for name in [*pages, "naive"]}
    for n in range(ROUNDS):
        order = [*pages, "naive"]
        for what in order if n % 2 == 0 else reversed(order):
            for _ in range(PER_ROUND if what != "naive" else 1):
                if what in periods_of:
                    cache.delete(report_cache._key(org, periods_of[what]))
                started = time.perf_counter()
                if what == "naive":
                    naive(org, period)
                else:
                    client.get(pages[what])
                times[what].append(time.perf_counter() - started)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    high = {k: p95(v) * 1e3 for k, v in times.items()}
    print(f"-- {label}: last 30 days ({rows} daily rows from raw); custom range {custom_period.label}")
    for name, note in (
        ("dashboard", "a repeated view, last 30 days"),
        ("custom", "a repeated view, custom range"),
        ("computed", "no cache entry, last 30 days"),
        ("custom computed", "no cache entry, custom range"),
        ("naive", "one GROUP BY over raw rows"),
        ("bare", "organization home"),
    ):
        print(f"{name:<16} median {med[name]:8.1f} ms  p95 {high[name]:8.1f} ms  ({note})")
    print(f"naive / dashboard       {med['naive'] / med['dashboard']:7.1f}x   (aim >= 100x)")
    met = True
    for name in ("dashboard", "custom"):
        ratio = med[name] / med["bare"]
        met &= ratio <= GOAL_BARE
        verdict = "met" if ratio <= GOAL_BARE else "MISSED"
        print(f"{name + ' / bare':<23} {ratio:7.2f}x   (goal <= {GOAL_BARE:g}x: {verdict})")
    for name in ("computed", "custom computed"):
        print(f"{name + ' / bare':<23} {med[name] / med['bare']:7.2f}x   (the first view after a change)")
    return met


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=1_000_000)
    parser.add_argument("--clicks", type=int, default=10_000_000)
    args = parser.parse_args()
    setup_django()

    met = True
    for deliveries, clicks, label in (
        (args.deliveries, args.clicks, "full history"),
        (args.deliveries // 10, args.clicks // 10, "10x less history"),
    ):
        org, user = seeded(deliveries, clicks)
        met &= measure(org, user, f"{label}: {deliveries:,} deliveries, {clicks:,} clicks")
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
