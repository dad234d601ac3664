# ruff: noqa: E501 (SQL reads better unwrapped)
"""Realistic analytics history, fast: shares, deliveries, metric pulls and clicks made
inside PostgreSQL with INSERT ... SELECT over generate_series (no row crosses the wire),
then the rollups built set-based by `rollups.rebuild`. For benchmarks and demos."""

import time
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Organization, Team, User
from advocacy.sql import global_cursor, tenant_cursor
from analytics.models import ActivityWatermark, Click, MetricSnapshot
from analytics.services import advocate_stats, click_partitions, rollups
from content.models import ContentItem, Delivery, Share

DAYS = 365
SEEDED = (User, Membership, ContentItem, Share, Delivery, MetricSnapshot, Click)  # what the seed fills


class Command(BaseCommand):
    help = "Seed an organization with a year of shares, deliveries, metric pulls and clicks (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--deliveries", type=int, default=1_000_000)
        parser.add_argument("--clicks", type=int, default=10_000_000)
        parser.add_argument("--org", default="analytics-bench", help="Slug; created when missing.")
        parser.add_argument("--people", type=int, default=500)
        parser.add_argument("--items", type=int, default=300)

    def handle(self, *args, deliveries, clicks, org, people, items, **options):
        if deliveries < 1 or clicks < 0 or people < 1 or items < 1:
            raise CommandError("Give positive sizes.")
        started = time.monotonic()
        organization, _ = Organization.objects.get_or_create(
            slug=org, defaults={"name": org.replace("-", " ").title(), "timezone": "America/New_York"}
        )
        with transaction.atomic():
            self._people(organization, people, items)
            now = timezone.now().replace(microsecond=0)
            self._raw(organization, deliveries, clicks, now)
            ActivityWatermark.objects.for_org(organization).delete()
            ActivityWatermark.objects.create(
                organization=organization, shares_through=now, published_through=now, metrics_checked_through=now
            )
        # Fresh statistics before the set-based rebuild: with the planner still believing
        # these tables hold a few rows of this organization, it nests loops over millions
        # (measured: over 9 minutes for the rebuild at 1M/10M instead of under one).
        with global_cursor() as cursor:  # the planner's statistics of whole tables
            cursor.execute("ANALYZE " + ", ".join(model._meta.db_table for model in SEEDED))
        raw_done = time.monotonic()
        self.stdout.write(f"raw rows: {deliveries:,} deliveries, {clicks:,} clicks in {raw_done - started:.1f}s")
        written = rollups.rebuild(organization)
        rolled = time.monotonic()
        self.stdout.write(f"rollups: {written:,} rows in {rolled - raw_done:.1f}s")
        # The per-author, per-suggestion and posting-time stats (active and top advocates, the
        # marketer's and the employee's pages), as their periodic refresh would leave them.
        days = advocate_stats.rebuild(organization)
        self.stdout.write(f"advocate stats: {days:,} days in {time.monotonic() - rolled:.1f}s")
        self.stdout.write(f"{organization.slug}: done in {time.monotonic() - started:.1f}s")

    def _people(self, organization, people, items):
        teams = [
            Team.objects.get_or_create(organization=organization, name=name)[0]
            for name in ("Sales", "Engineering", "Marketing", "Support", "Paris office")
        ]
        have = Membership.objects.for_org(organization).count()
        password = make_password(None)
        users = User.objects.bulk_create(
            User(email=f"advocate{n}@{organization.slug}.test", name=f"Advocate {n}", password=password)
            for n in range(have, people)
        )
        memberships = Membership.objects.bulk_create(Membership(organization=organization, user=u) for u in users)
        through = Membership.teams.through
        through.objects.bulk_create(
            through(membership_id=m.pk, team_id=teams[n % len(teams)].pk) for n, m in enumerate(memberships)
        )
        have_items = ContentItem.objects.for_org(organization).count()
        ContentItem.objects.bulk_create(
            ContentItem(
                organization=organization,
                title=f"Company news {n}",
                slug=f"news-{n}",
                url=f"https://example.com/news/{n}",
                status=ContentItem.Status.PUBLISHED,
                published_at=timezone.now() - timedelta(days=DAYS),
            )
            for n in range(have_items, items)
        )

    def _raw(self, organization, deliveries, clicks, now):
        # Click ids ascend within a run (append-only index inserts, far faster than random
        # UUIDs); the run's timestamp in milliseconds (48 bits until the year 10889) keeps
        # two runs apart, even two in the same second (as a test's are). Read from the clock, not
        # from `now`: that one is cut to the second, and two runs in one second collided.
        params = {
            "run": time.time_ns() // 1_000_000,
            "org": organization.pk,
            "now": now,
            "days": DAYS,
            "shares": (deliveries + 1) // 2,
            "deliveries": deliveries,
            "clicks": clicks,
        }
        statements = [
            # Two deliveries per share; authors, teams and items spread; times over the year.
            """CREATE TEMP TABLE seed_people ON COMMIT DROP AS
               SELECT row_number() OVER (ORDER BY m.id) - 1 AS n, m.user_id,
                      (SELECT t.team_id FROM accounts_membership_teams t WHERE t.membership_id = m.id LIMIT 1) AS team_id
               FROM accounts_membership m WHERE m.organization_id = %(org)s""",
            """CREATE TEMP TABLE seed_items ON COMMIT DROP AS
               SELECT row_number() OVER (ORDER BY id) - 1 AS n, id FROM content_contentitem WHERE organization_id = %(org)s""",
            """INSERT INTO content_share (organization_id, item_id, author_id, commentary, team_id, is_personalised,
                   status, version, review_comment, created_at, submitted_at, updated_at)
               SELECT %(org)s, i.id, p.user_id, 'Seeded share', p.team_id, g %% 3 <> 0, 'published', 1, '',
                      t, t, t
               FROM (SELECT g, %(now)s::timestamptz - (random() * %(days)s) * interval '1 day'
                            - interval '10 minutes' AS t
                     FROM generate_series(1, %(shares)s) g) ts
               JOIN seed_people p ON p.n = g %% (SELECT count(*) FROM seed_people)
               JOIN seed_items i ON i.n = (g * 7) %% (SELECT count(*) FROM seed_items)""",
            """INSERT INTO content_delivery (organization_id, share_id, network, mode, text, status, tracking_code,
                   remote_id, remote_url, attempts, last_error, published_at, approved_text_hash, created_at, updated_at,
                   failure_reason, outcome_unknown)
               SELECT s.organization_id, s.id, n.network, CASE WHEN n.network = 'facebook' THEN 'assisted' ELSE 'api' END,
                      'Seeded https://example.test/r/' || 's' || s.id || n.network, 'published', 's' || s.id || left(n.network, 1),
                      's' || s.id || n.network, '', 1, '', s.created_at + interval '5 minutes', '', s.created_at, s.created_at,
                      '', false
               FROM (SELECT * FROM content_share WHERE organization_id = %(org)s AND commentary = 'Seeded share'
                     ORDER BY id DESC LIMIT %(shares)s) s
               CROSS JOIN LATERAL (SELECT (ARRAY['linkedin', 'x', 'facebook'])[1 + (s.id %% 3)] AS network
                                   UNION ALL SELECT (ARRAY['x', 'facebook', 'linkedin'])[1 + (s.id %% 3)]) n
               LIMIT %(deliveries)s""",
            # Numbered after the LIMIT: numbered before it, a second seed of the organization
            # numbered its new deliveries past the modulo the clicks join on, and made no click.
            """CREATE TEMP TABLE seed_deliveries ON COMMIT DROP AS
               SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, published_at, network
               FROM (SELECT id, published_at, network FROM content_delivery
                     WHERE organization_id = %(org)s AND text LIKE 'Seeded %%'
                     ORDER BY id DESC LIMIT %(deliveries)s) latest""",
            # One metric pull a day after publishing (X gives every counter, Facebook no impressions).
            """INSERT INTO analytics_metricsnapshot (organization_id, delivery_id, taken_at, likes, comments, reposts, impressions)
               SELECT %(org)s, d.id, d.published_at + interval '1 day', (random() * 40)::int, (random() * 8)::int,
                      (random() * 5)::int, CASE WHEN d.network = 'facebook' THEN NULL ELSE (random() * 3000)::int END
               FROM seed_deliveries d WHERE d.published_at + interval '1 day' < %(now)s""",
            """INSERT INTO analytics_click (id, organization_id, delivery_id, at, day, visitor, is_unique, network, item_id, team_key)
               SELECT (lpad(to_hex(%(run)s::bigint), 12, '0') || lpad(to_hex(%(org)s::bigint), 4, '0')
                       || lpad(to_hex(g), 16, '0'))::uuid, %(org)s, d.id, c.at, (c.at AT TIME ZONE o.timezone)::date,
                      md5(g::text), true, d.network, s.item_id, COALESCE(s.team_id, 0)
               FROM generate_series(1, %(clicks)s) g
               JOIN seed_deliveries d ON d.n = (g * 2654435761) %% (SELECT count(*) FROM seed_deliveries)
               JOIN content_delivery cd ON cd.id = d.id
               JOIN content_share s ON s.id = cd.share_id
               JOIN accounts_organization o ON o.id = %(org)s
               CROSS JOIN LATERAL (SELECT LEAST(d.published_at + random() * interval '3 days',
                                               %(now)s::timestamptz - interval '1 minute') AS at) c""",
        ]
        # The clicks' month partitions first (analytics.services.click_partitions), so the
        # insert routes each row into its month's partition, never into the default one.
        click_partitions.ensure_months((now - timedelta(days=DAYS + 1)).date(), (now + timedelta(days=1)).date())
        with tenant_cursor(organization) as cursor:
            for sql in statements:
                cursor.execute(sql, params)
