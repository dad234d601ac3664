"""The employee's feed page at size, against the bare layout, in the same run.

    .venv/bin/python bench/feed.py

Seeds (once, then reused) an organization with 10,000 content items (a tenth targeted at
teams, each with suggestions and topics), 50,000 members in 20 teams, and 40,000 shares,
in the benchmark database (bench/_setup.py). Then requests, through Django's test client
with a logged-in member, the feed (`/o/<org>/feed/`) and the organization home (the bare
layout and navigation), interleaved, and prints the median and p95 of each and the ratio
against the goal (issue 21: the feed within GOAL x the bare layout page, medians); exits 1
when the goal is missed.
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from _setup import setup_django

ITEMS = 10_000
MEMBERS = 50_000
TEAMS = 20
SHARES = 40_000
REPEATS = 60
WARMUP = 5
SLUG = "bench-feed"
GOAL = 2.0  # feed median / bare layout median, at most


def seed():
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Membership, Organization, Team, User
    from content.models import ContentItem, Share, Suggestion, Topic

    org, _ = Organization.objects.get_or_create(slug=SLUG, defaults={"name": "Bench feed"})
    if ContentItem.objects.for_org(org).count() == ITEMS:
        return org
    rng = random.Random(7)
    with transaction.atomic():
        ContentItem.objects.for_org(org).delete()
        Membership.objects.for_org(org).delete()
        Team.objects.for_org(org).delete()
        User.objects.filter(email__endswith="@bench-feed.example").delete()
        teams = Team.objects.bulk_create(Team(organization=org, name=f"Team {i}") for i in range(TEAMS))
        topics = Topic.objects.bulk_create(Topic(organization=org, name=f"Topic {i}", slug=f"t{i}") for i in range(12))
        users = User.objects.bulk_create(User(email=f"m{i}@bench-feed.example", password="!") for i in range(MEMBERS))
        members = Membership.objects.bulk_create(Membership(organization=org, user=u) for u in users)
        Membership.teams.through.objects.bulk_create(
            Membership.teams.through(membership_id=m.pk, team_id=teams[i % TEAMS].pk) for i, m in enumerate(members)
        )
        now = timezone.now()
        items = ContentItem.objects.bulk_create(
            ContentItem(
                organization=org,
                title=f"News {i}",
                slug=f"news-{i}",
                url=f"https://example.com/{i}",
                status="published",
                featured=i % 500 == 0,
                published_at=now - timezone.timedelta(minutes=i),
                expires_at=None if i % 7 else now + timezone.timedelta(days=30),
            )
            for i in range(ITEMS)
        )
        ContentItem.target_teams.through.objects.bulk_create(
            ContentItem.target_teams.through(contentitem_id=item.pk, team_id=rng.choice(teams).pk)
            for item in items[::10]
        )
        ContentItem.topics.through.objects.bulk_create(
            ContentItem.topics.through(contentitem_id=item.pk, topic_id=rng.choice(topics).pk) for item in items
        )
        Suggestion.objects.bulk_create(
            Suggestion(organization=org, item=item, text=f"Suggestion {n} for {item.title}", position=n)
            for item in items
            for n in range(2)
        )
        Share.objects.bulk_create(
            Share(
                organization=org,
                item=rng.choice(items[:2000]),
                author_id=rng.choice(users).pk,
                commentary="Shared.",
                status="published",
            )
            for _ in range(SHARES)
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return org


def main() -> int:
    setup_django()
    from django.test import Client

    from accounts.models import Membership

    org = seed()
    member = Membership.objects.for_org(org).select_related("user").order_by("pk")[123]
    member.is_employee = True
    member.save(update_fields=["is_employee"])
    client = Client()
    client.force_login(member.user)
    feed, bare = f"/o/{SLUG}/feed/", f"/o/{SLUG}/"
    from django.db import connection

    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(sql) or execute(sql, *args)):
        client.get(feed)
    for _ in range(WARMUP):
        client.get(feed)
        client.get(bare)
    feed_times, bare_times = [], []
    for i in range(REPEATS // 10):
        pairs = [(feed, feed_times), (bare, bare_times)]
        for url, bucket in pairs if i % 2 == 0 else reversed(pairs):
            bucket.extend(timings_batch(client, url))

    def p95(values):
        return statistics.quantiles(values, n=20)[-1]

    fm, bm = statistics.median(feed_times) * 1e3, statistics.median(bare_times) * 1e3
    fp, bp = p95(feed_times) * 1e3, p95(bare_times) * 1e3
    print(f"items {ITEMS}, members {MEMBERS}, shares {SHARES}; feed page runs {len(queries)} queries")
    print(f"feed     median {fm:7.1f} ms  p95 {fp:7.1f} ms")
    print(f"baseline median {bm:7.1f} ms  p95 {bp:7.1f} ms  (organization home: layout and navigation)")
    print(f"ratio    median {fm / bm:7.2f}     p95 {fp / bp:7.2f}")
    met = fm / bm <= GOAL
    print(f"goal     median ratio <= {GOAL:.1f}: {'met' if met else 'MISSED'}")
    return 0 if met else 1


def timings_batch(client, url: str) -> list[float]:
    out = []
    for _ in range(10):
        start = time.perf_counter()
        response = client.get(url)
        out.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return out


if __name__ == "__main__":
    sys.exit(main())
