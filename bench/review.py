"""The review queue and the compliance dashboard at size, against the bare layout, in the same run.

    .venv/bin/python bench/review.py

Seeds (once, then reused) an organization with 30,000 shares in the benchmark database
(bench/_setup.py): 5,000 waiting for review (open tasks, a fifth overdue), 25,000 decided in
the last 30 days (a screening with findings for most, a decision each). Then requests,
through Django's test client as a compliance officer, the queue (`/o/<org>/review/`), the
queue filtered by network and severity, one review page, the dashboard
(`/o/<org>/compliance/`) and the organization home (the bare layout and navigation),
interleaved, and prints the median and p95 of each and the ratio against the home page;
exits 1 when the queue misses its goal (GOALS).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import timedelta

from _setup import setup_django

WAITING = 5_000
DECIDED = 25_000
REPEATS = 40
WARMUP = 3
SLUG = "bench-review"
GOALS = {"queue": 3.0}  # the first page of 50 at 5,000 waiting (issue 21)
RULES = ["lexicon:guaranteed", "lexicon:insider", "pattern:Promised returns", "link-domain", "disclosure"]


def seed():
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Membership, Organization, Team, User
    from compliance.models import Decision, ReviewTask, Screening
    from content.models import ContentItem, Delivery, Share, ShareVersion

    org, _ = Organization.objects.get_or_create(slug=SLUG, defaults={"name": "Bench review"})
    if Share.objects.for_org(org).count() == WAITING + DECIDED:
        # seeded by an earlier run (shares are kept by the retention guard, never re-seeded)
        missing = list(Decision.objects.for_org(org).filter(review_opened_at__isnull=True))
        for decision in missing:
            decision.review_opened_at = decision.decided_at - timedelta(minutes=5 + decision.pk % (48 * 60))
        Decision.objects.for_org(org).bulk_update(missing, ["review_opened_at"], batch_size=2000)
        return org
    if Share.objects.for_org(org).exists():
        raise SystemExit(f"{SLUG} holds a partial seed that the retention guard keeps; drop the bench database.")
    rng = random.Random(11)
    now = timezone.now()
    with transaction.atomic():
        teams = Team.objects.bulk_create(Team(organization=org, name=f"Team {i}") for i in range(12))
        users = User.objects.bulk_create(User(email=f"m{i}@bench-review.example", password="!") for i in range(2000))
        Membership.objects.bulk_create(
            Membership(organization=org, user=u, is_compliance=i < 5, is_employee=i >= 5) for i, u in enumerate(users)
        )
        items = ContentItem.objects.bulk_create(
            ContentItem(
                organization=org, title=f"News {i}", slug=f"n-{i}", url=f"https://example.com/{i}", status="published"
            )
            for i in range(300)
        )
        shares = Share.objects.bulk_create(
            Share(
                organization=org,
                item=rng.choice(items),
                author_id=rng.choice(users[5:]).pk,
                team=rng.choice(teams),
                commentary=f"Guaranteed news number {i}, proud of the team.",
                status="in_review" if i < WAITING else rng.choice(["approved", "approved", "changes_requested"]),
            )
            for i in range(WAITING + DECIDED)
        )
        versions = ShareVersion.objects.bulk_create(
            ShareVersion(organization=org, share=s, number=1, commentary=s.commentary) for s in shares
        )
        Delivery.objects.bulk_create(
            Delivery(organization=org, share=s, network=rng.choice(["linkedin", "x", "facebook"]), text=s.commentary)
            for s in shares
        )
        screenings = []
        for share, version in zip(shares, versions, strict=True):
            found = [{"rule": r, "action": "review", "message": r, "start": 0, "end": 10} for r in rng.sample(RULES, 2)]
            has = rng.random() < 0.8
            screenings.append(
                Screening(
                    organization=org,
                    share=share,
                    version=version,
                    findings={"linkedin": found} if has else {},
                    texts={"linkedin": share.commentary},
                    worst_action="review" if has else "",
                    outcome="in_review",
                )
            )
        Screening.objects.bulk_create(screenings)
        opened = {s.share_id: now - timedelta(hours=rng.randint(1, 24 * 29)) for s in screenings}
        Screening.objects.for_org(org).update(created_at=now - timedelta(days=10))
        ReviewTask.objects.bulk_create(
            ReviewTask(
                organization=org,
                share=s,
                team=s.team,
                worst_action=screenings[i].worst_action,
                networks=["linkedin"],
                opened_at=opened[s.pk],
                due_at=opened[s.pk] + timedelta(hours=24 if i % 5 else -1),
            )
            for i, s in enumerate(shares[:WAITING])
        )
        reviewers = users[:5]
        entered = now - timedelta(days=10)
        Decision.objects.bulk_create(
            Decision(
                organization=org,
                share=s,
                version=1,
                outcome="approved" if s.status == "approved" else "changes_requested",
                reviewer=rng.choice(reviewers),
                comment="" if s.status == "approved" else "Change it.",
                decided_at=entered + timedelta(minutes=rng.randint(5, 48 * 60)),
                review_opened_at=entered,
            )
            for s in shares[WAITING:]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return org


def main() -> int:
    setup_django()
    from django.db import connection
    from django.test import Client

    from accounts.models import Membership
    from compliance.models import ReviewTask

    org = seed()
    officer = Membership.objects.for_org(org).filter(is_compliance=True).select_related("user").first()
    client = Client()
    client.force_login(officer.user)
    task = ReviewTask.objects.for_org(org).order_by("due_at").first()
    pages = {
        "queue": f"/o/{SLUG}/review/",
        "filtered": f"/o/{SLUG}/review/?network=x&severity=review",
        "review": f"/o/{SLUG}/review/shares/{task.share_id}/",
        "dashboard": f"/o/{SLUG}/compliance/",
        "baseline": f"/o/{SLUG}/",
    }
    counts = {}
    for name, url in pages.items():
        queries = []
        with connection.execute_wrapper(lambda execute, sql, *args, q=queries: q.append(sql) or execute(sql, *args)):
            client.get(url)
        counts[name] = len(queries)
    for _ in range(WARMUP):
        for url in pages.values():
            client.get(url)
    times = {name: [] for name in pages}
    order = list(pages.items())
    for i in range(REPEATS // 10):
        for name, url in order if i % 2 == 0 else reversed(order):
            times[name].extend(timings_batch(client, url))

    def p95(values):
        return statistics.quantiles(values, n=20)[-1]

    base_median, base_p95 = statistics.median(times["baseline"]) * 1e3, p95(times["baseline"]) * 1e3
    print(f"waiting {WAITING}, decided {DECIDED} (one screening and decision each)")
    for name in pages:
        median, high = statistics.median(times[name]) * 1e3, p95(times[name]) * 1e3
        ratio = "" if name == "baseline" else f"  ratio median {median / base_median:5.2f}  p95 {high / base_p95:5.2f}"
        print(f"{name:<10} median {median:7.1f} ms  p95 {high:7.1f} ms  {counts[name]:2d} queries{ratio}")
    print("(baseline: the organization home, layout and navigation only)")
    met = True
    for name, goal in GOALS.items():
        ratio = statistics.median(times[name]) * 1e3 / base_median
        met &= ratio <= goal
        print(f"{name} / baseline {ratio:5.2f}x  (goal <= {goal:g}x: {'met' if ratio <= goal else 'MISSED'})")
    print("load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
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
