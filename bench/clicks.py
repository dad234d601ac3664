"""The click flush's inserts and the rebuild of one day's rollups, at a small clicks table and
at a large one, in the same run: partitioned by month, both should stay flat (issue 21,
point 6; goal: large / small <= 1.5).

    .venv/bin/python bench/clicks.py [--small 1000000] [--large 10000000]

Empties the clicks table, seeds one organization with `--small` clicks over a year
(`seed_analytics`) and times, for that organization: the flush of fresh clicks of today
(`clicks.write_clicks`, batches of 1,000, the redirect's path into PostgreSQL and the
rollups) and `rollups.rebuild` of one day. Then seeds a second organization with the rest
of `--large` (the same months, so every partition grows) and times the same again. Vacuums
and checkpoints after each seed. Prints the seed's rate, medians, the ratios large / small,
the table's size and the machine's load.
`--large 100000000` works the same (about 100 bytes a click and its indexes on disk).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import timedelta

from _setup import setup_django

ROUNDS = 7
BATCH = 1000
BATCHES = 3
SEED_DELIVERIES = 20_000


def fresh_batch(deliveries, now, day):
    from analytics.services import clicks

    return [
        clicks.BufferedClick(
            id=uuid.uuid4(),
            delivery_id=pk,
            organization_id=org_id,
            item_id=item_id,
            network=network,
            team_key=team_id or 0,
            at=now,
            day=day,
            visitor=uuid.uuid4().hex,
        )
        for pk, org_id, item_id, network, team_id in (deliveries[n % len(deliveries)] for n in range(BATCH))
    ]


def settle() -> None:
    """Vacuum, analyze and checkpoint the clicks table after a seed, so the timings that
    follow do not pay for the write-back of the rows just loaded or for stale statistics."""
    from django.db import connection

    from analytics.models import Click

    with connection.cursor() as cursor:  # the bench's own database, as its owner
        cursor.execute(f"VACUUM (ANALYZE) {Click._meta.db_table}")
        cursor.execute("CHECKPOINT")


def measure(organization) -> tuple[float, float]:
    """(median seconds per flushed batch of BATCH clicks, median seconds of one day's rebuild)."""
    from django.utils import timezone

    from analytics.services import clicks, rollups
    from content.models import Delivery

    deliveries = list(
        Delivery.objects.for_org(organization)
        .filter(status="published")
        .values_list("pk", "organization_id", "share__item_id", "network", "share__team_id")[:2000]
    )
    now = timezone.now()
    today = rollups.local_day(now, organization.timezone)
    clicks.write_clicks(fresh_batch(deliveries, now, today))  # warm-up: caches, plans, the connection
    flush, rebuild = [], []
    for _ in range(ROUNDS):
        for _ in range(BATCHES):
            batch = fresh_batch(deliveries, now, today)
            started = time.perf_counter()
            clicks.write_clicks(batch)
            flush.append(time.perf_counter() - started)
        day = today - timedelta(days=100)
        started = time.perf_counter()
        rollups.rebuild(organization, day, day)
        rebuild.append(time.perf_counter() - started)
    return statistics.median(flush), statistics.median(rebuild)


def seed(slug: str, clicks: int) -> float:
    from django.core.management import call_command

    started = time.perf_counter()
    call_command(
        "seed_analytics", org=slug, deliveries=SEED_DELIVERIES, clicks=clicks, people=100, items=50, verbosity=0
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    from accounts.models import Organization
    from analytics.models import Click

    with connection.cursor() as cursor:  # the bench's own database: every run starts empty
        cursor.execute(f"TRUNCATE {Click._meta.db_table}")
    seconds = seed("bench-clicks", args.small)
    print(f"seed: {args.small:,} clicks (with deliveries and rollups) in {seconds:.0f} s")
    organization = Organization.objects.get(slug="bench-clicks")
    settle()
    small = measure(organization)
    seconds = seed("bench-clicks-bulk", args.large - args.small)
    print(f"seed: {args.large - args.small:,} more clicks (with deliveries and rollups) in {seconds:.0f} s")
    settle()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {Click._meta.db_table}")
        total = cursor.fetchone()[0]
        cursor.execute(
            "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE inhparent = %s::regclass",
            [Click._meta.db_table],
        )
        size = cursor.fetchone()[0]
    large = measure(organization)
    print(f"clicks table: {total:,} rows, {size / 2**30:.1f} GiB with indexes")
    for name, at_small, at_large in (
        ("flush of 1,000 clicks", small[0], large[0]),
        ("rebuild of one day", small[1], large[1]),
    ):
        print(
            f"{name}: {at_small * 1000:.1f} ms at {args.small:,}, {at_large * 1000:.1f} ms at {total:,}; "
            f"ratio {at_large / at_small:.2f} (goal <= 1.5)"
        )
    print(
        f"flush rate: {BATCH / small[0]:.0f} clicks/s at {args.small:,}, {BATCH / large[0]:.0f} clicks/s at {total:,}"
    )
    with open("/proc/loadavg") as load:
        print(f"load average: {load.read().strip()}")


if __name__ == "__main__":
    main()
