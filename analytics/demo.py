"""A small, living analytics history for the demo organization (`seed_demo`), through the
same incremental paths production uses: shares and publications folded by the activity
fold, metric pulls adding the increase of each counter's highest value, clicks written by
the click flush. Idempotent.
"""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Team, User
from analytics.models import AnalyticsSettings, DailyRollup, DeliveryMetrics, MetricSnapshot
from analytics.services import conversions, rollups
from analytics.services.clicks import BufferedClick, write_clicks
from content.models import ContentItem, Delivery, Share

DAYS = 75
# Colleagues whose history fills the dashboards; the demo logins' own pages stay clean.
ADVOCATES = [
    ("alex.advocate@acme.test", "Alex Advocate", "Sales"),
    ("bea.brand@acme.test", "Bea Brand", "Marketing"),
    ("chris.closer@acme.test", "Chris Closer", "Sales"),
    ("dana.dev@acme.test", "Dana Dev", None),
    ("eli.exec@acme.test", "Eli Exec", "Leadership"),
    ("fay.field@acme.test", "Fay Field", "Sales"),
]


@transaction.atomic
def seed_demo_analytics(organization, *, seed: int = 2026) -> bool:
    """Give the organization ~75 days of shares, posts, engagement and clicks. Returns
    False (and does nothing) when it already has rollups."""
    if DailyRollup.objects.for_org(organization).exists():
        return False
    rng = random.Random(seed)
    now = timezone.now()
    members = _advocates(organization)
    items = list(ContentItem.objects.for_org(organization).filter(status=ContentItem.Status.PUBLISHED).order_by("pk"))
    if not members or not items:
        return False
    AnalyticsSettings.objects.for_org(organization).get_or_create(
        organization=organization,
        defaults={
            "currency": "EUR",
            "cpm_linkedin": Decimal("28.00"),
            "cpm_x": Decimal("6.50"),
            "cpm_facebook": Decimal("9.00"),
            "cpc": Decimal("0.80"),
            "licence_per_month": Decimal("1500.00"),
            "people_hours_per_month": Decimal("20"),
            "people_hourly_cost": Decimal("45.00"),
            "api_post_cost_x": Decimal("0.01"),
            "api_link_post_cost_x": Decimal("0.20"),
        },
    )
    clicks: list[BufferedClick] = []
    for day_back in range(DAYS, 0, -1):
        for membership in members:
            if rng.random() > 0.35:
                continue
            when = now - timedelta(days=day_back, hours=rng.randint(0, 10), minutes=rng.randint(0, 59))
            teams = sorted(membership.teams.all(), key=lambda t: (t.kind, t.name))
            share = Share.objects.create(
                organization=organization,
                item=rng.choice(items),
                author_id=membership.user_id,
                commentary="Worth a read.",
                team=teams[0] if teams else None,
                status=Share.Status.PUBLISHED,
                submitted_at=when,
            )
            Share.objects.for_org(organization).filter(pk=share.pk).update(created_at=when)
            for network in rng.sample(["linkedin", "x", "facebook"], rng.randint(1, 3)):
                _post(organization, share, network, when + timedelta(minutes=5), now, rng, clicks)
    write_clicks(clicks)
    rollups.fold_activity(organization=organization, now=now + rollups.FOLD_LAG)
    _conversions(organization, clicks, now, rng)
    from analytics.services import advocate_stats

    advocate_stats.refresh(organization)
    return True


def _conversions(organization, clicks: list[BufferedClick], now, rng) -> None:
    """The demo company site's key and what it reported: about one click in twenty became a
    sign-up (a few of them purchases) within two days, plus a few events it cannot tie to a
    post, through the conversion service as a real site's events would go."""
    admin = Membership.objects.for_org(organization).filter(is_admin=True, is_active=True).order_by("pk").first()
    conversions.create_key(actor=admin, name="Demo company site")  # the demo's admin made the key
    codes = dict(Delivery.objects.for_org(organization).values_list("pk", "tracking_code"))
    for n, click in enumerate(clicks):
        if rng.random() > 0.05:
            continue
        at = click.at + timedelta(hours=rng.randint(0, 48), minutes=rng.randint(1, 59))
        if at >= now:
            continue
        purchase = rng.random() < 0.3
        event = conversions.Event(
            event_id=f"demo-{n}",
            event_name="purchase" if purchase else "signup",
            value=Decimal(rng.choice(["49.00", "199.00", "990.00"])) if purchase else None,
            currency="EUR" if purchase else "",
            occurred_at=at,
            tracking_code=codes[click.delivery_id],
        )
        conversions.record(organization=organization, event=event, source="demo", now=now)
    for n, code in enumerate(("not-a-code", "")):  # what a real site also sends
        event = conversions.Event(f"demo-lost-{n}", "signup", None, "", now - timedelta(days=n + 1), code)
        conversions.record(organization=organization, event=event, source="demo", now=now)


def _advocates(organization) -> list[Membership]:
    teams = {team.name: team for team in Team.objects.for_org(organization)}
    members = []
    for email, name, team in ADVOCATES:
        user = User.objects.filter(email=email).first() or User.objects.create_user(
            email=email, password=None, name=name
        )
        membership, _ = Membership.objects.for_org(organization).get_or_create(organization=organization, user=user)
        if team in teams:
            membership.teams.set([teams[team]])
        members.append(membership)
    return list(
        Membership.objects.for_org(organization).filter(pk__in=[m.pk for m in members]).prefetch_related("teams")
    )


def _post(organization, share, network, published_at, now, rng, clicks) -> None:
    mode = Delivery.Mode.ASSISTED if network == "facebook" else Delivery.Mode.API
    code = uuid.uuid4().hex[:12]
    delivery = Delivery.objects.create(
        organization=organization,
        share=share,
        network=network,
        mode=mode,
        text=f"{share.commentary}\n\nhttps://demo.invalid/r/{code}",
        tracking_code=code,
        status=Delivery.Status.PUBLISHED,
        remote_id="" if mode == Delivery.Mode.ASSISTED else f"demo-{code}",
        published_at=published_at,
    )
    team_key, tz = share.team_id or 0, organization.timezone
    if mode == Delivery.Mode.API:
        # LinkedIn without the approved analytics scopes gives no impressions (None, not 0).
        high = {"likes": 0, "comments": 0, "reposts": 0, "impressions": 0}
        metrics = DeliveryMetrics.objects.create(organization=organization, delivery=delivery, network=network)
        for hours in (6, 30):
            taken = published_at + timedelta(hours=hours)
            if taken >= now:
                break
            seen = {
                "likes": high["likes"] + rng.randint(0, 12),
                "comments": high["comments"] + rng.randint(0, 3),
                "reposts": high["reposts"] + rng.randint(0, 2),
                "impressions": None if network == "linkedin" else high["impressions"] + rng.randint(80, 900),
            }
            MetricSnapshot.objects.create(organization=organization, delivery=delivery, taken_at=taken, **seen)
            increase = {k: v - high[k] for k, v in seen.items() if v is not None and v > high[k]}
            for name, value in seen.items():
                if value is not None:
                    high[name] = value
                    setattr(metrics, name, value)
            rollups.add(
                organization_id=organization.pk,
                day=rollups.local_day(taken, tz),
                team_key=team_key,
                network=network,
                item_id=share.item_id,
                **increase,
            )
        metrics.last_pulled_at = published_at + timedelta(hours=30)
        metrics.save()
    for n in range(rng.randint(0, 9)):
        at = published_at + timedelta(hours=rng.randint(0, 48), minutes=n)
        if at >= now:
            continue
        clicks.append(
            BufferedClick(
                id=uuid.uuid4(),
                delivery_id=delivery.pk,
                organization_id=organization.pk,
                item_id=share.item_id,
                network=network,
                team_key=team_key,
                at=at,
                day=rollups.local_day(at, tz),
                visitor=f"demo-visitor-{rng.randint(1, 40)}",
            )
        )


# --- the demo company site of `make run` (`run_company_site`) --------------------------------

COMPANY_SITE_CODE = "acmetrial"  # the tracked link of the demo's post: <SITE_URL>/r/acmetrial


def company_site_url() -> str:
    from django.conf import settings

    return f"http://localhost:{settings.COMPANY_SITE_PORT}"


def seed_company_site(organization, author) -> Delivery:
    """What the demo company site needs (idempotent): its origin allowed to report sign-ups
    from the browser, an item linking to it and a post of it by `author`, published, whose
    tracked link is <SITE_URL>/r/acmetrial. Clicking that link, signing up on the site and
    closing the deal it opens in the HubSpot emulator is the outcomes demo (README)."""
    site = company_site_url()
    rates, _ = AnalyticsSettings.objects.for_org(organization).get_or_create(
        organization=organization, defaults={"currency": "EUR"}
    )
    if site not in rates.allowed_origins():
        rates.conversion_origins = "\n".join(filter(None, [rates.conversion_origins.strip(), site]))
    if "signup" not in rates.allowed_browser_events():
        rates.browser_events = ",".join(filter(None, [rates.browser_events, "signup"]))
    rates.save()
    found = Delivery.objects.for_org(organization).filter(tracking_code=COMPANY_SITE_CODE).first()
    if found is not None:
        return found
    item, _ = ContentItem.objects.for_org(organization).get_or_create(
        organization=organization,
        url=f"{site}/",
        defaults={
            "title": "Try Acme free for 30 days",
            "slug": "acme-free-trial",
            "description": "Start a free trial on Acme's site (the demo company site of make run).",
            "status": ContentItem.Status.PUBLISHED,
        },
    )
    now = timezone.now()
    share = Share.objects.create(
        organization=organization,
        item=item,
        author=author,
        commentary="We just opened free trials: have a look.",
        status=Share.Status.PUBLISHED,
        submitted_at=now,
    )
    return Delivery.objects.create(
        organization=organization,
        share=share,
        network="linkedin",
        mode=Delivery.Mode.ASSISTED,
        text=f"{share.commentary}\n\n/r/{COMPANY_SITE_CODE}",
        tracking_code=COMPANY_SITE_CODE,
        status=Delivery.Status.PUBLISHED,
        published_at=now,
    )
