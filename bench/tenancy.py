"""Cost of fail-closed tenant scoping, against the plain manager, in the same run.

    .venv/bin/python bench/tenancy.py

Uses its own PostgreSQL database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/advocacy_bench), creating and migrating it when
needed, never the DATABASE_URL of a development setup. Prints one line per pair:
the median time of the scoped query, of the same query through the unscoped
`base_objects` manager, and their ratio.
"""

from __future__ import annotations

import statistics
import sys
import time

from _setup import setup_django

ORGS = 2
TEAMS_PER_ORG = 2000
REPEATS = 400  # per measurement; every pair is interleaved so drift hits both sides
WARMUP = 30


def build_data():
    from accounts.models import Organization, Team

    orgs = []
    for i in range(ORGS):
        org, _ = Organization.objects.get_or_create(slug=f"bench-tenancy-{i}", defaults={"name": f"Bench tenancy {i}"})
        orgs.append(org)
        rows = Team.base_objects.filter(organization=org)
        if rows.count() != TEAMS_PER_ORG:
            rows.delete()
            Team.base_objects.bulk_create(
                Team(
                    organization=org,
                    kind="department" if n % 2 == 0 else "location",
                    name=f"Team {n:05d}",
                )
                for n in range(TEAMS_PER_ORG)
            )
    from advocacy.sql import global_cursor

    # Fresh statistics and visibility map, so the plan is the one production would get.
    with global_cursor() as cur:
        cur.execute(f'VACUUM ANALYZE "{Team._meta.db_table}"')
    return orgs


def median_us(fn_a, fn_b) -> tuple[float, float]:
    for _ in range(WARMUP):
        fn_a()
        fn_b()
    times_a, times_b = [], []
    clock = time.perf_counter
    for i in range(REPEATS):
        # Alternate which side goes first so neither always runs on a warmer cache.
        sides = [(fn_a, times_a), (fn_b, times_b)]
        for fn, times in sides if i % 2 == 0 else reversed(sides):
            start = clock()
            fn()
            times.append(clock() - start)
    return statistics.median(times_a) * 1e6, statistics.median(times_b) * 1e6


def main() -> int:
    setup_django()

    from accounts.models import Team

    orgs = build_data()
    org = orgs[0]

    pairs = [
        (
            "for_org list ",
            lambda: list(Team.objects.for_org(org).filter(kind="department")[:50]),
            lambda: list(Team.base_objects.filter(organization=org, kind="department")[:50]),
        ),
        (
            "for_org count",
            lambda: Team.objects.for_org(org).filter(kind="department").count(),
            lambda: Team.base_objects.filter(organization=org, kind="department").count(),
        ),
        (
            # Scoped by the WHERE clause instead of for_org(): the check walks the filter.
            "filter list  ",
            lambda: list(Team.objects.filter(organization=org, kind="department")[:50]),
            lambda: list(Team.base_objects.filter(organization=org, kind="department")[:50]),
        ),
    ]
    for label, scoped, plain in pairs:
        if scoped() != plain():  # both sides must answer the same rows
            raise SystemExit(f"{label.strip()}: scoped and plain queries disagree")
        a, b = median_us(scoped, plain)
        print(f"{label} {a:8.1f} us  plain {b:8.1f} us  ratio {a / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
