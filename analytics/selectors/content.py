"""The marketer's numbers: performance per content item and topic, best time to share,
suggestions used, personalised commentary against suggestions used as written.

Reads only rollups: `DailyItemSummary` (items, topics; the rows of the executive top content)
and `ContentDailyStats` / `PostingTimeStats` (per post of the period, refreshed by
`analytics.services.advocate_stats`). `content_performance()` runs at most 9 queries
(fewer when the period has no item or no suggestion used), whatever the history size.
Conversions, won revenue and pipeline attributed per item and topic come from the same
summary rows (issue 17, point 4).

Honest numbers: clicks are measured by our redirect; likes, comments, reposts and
impressions are measured by the networks; a counter no post of a row reported is None
("not available"), never 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, ExtractIsoWeekDay
from django.utils import dates
from django.utils.translation import gettext as _

from accounts.models import Organization
from analytics.models import (
    AnalyticsSettings,
    ContentDailyStats,
    ConversionKey,
    CrmConnection,
    DailyItemSummary,
    Deal,
    PostingTimeStats,
)
from analytics.selectors.freshness import stats_updated_at
from analytics.selectors.periods import Period
from content.models import Suggestion

TOP_ITEMS = 50
TOP_TOPICS = 30
TOP_SUGGESTIONS = 20
# A posting slot needs this many posts before it can be called "the best time".
MIN_POSTS_FOR_BEST = 3
ENGAGEMENT_FIELDS = ("likes", "comments", "reposts")
SHOWN = (
    "shares",
    "published",
    "clicks",
    "unique_clicks",
    "likes",
    "comments",
    "reposts",
    "impressions",
    "estimated_reach",
    "conversions",
)
MONEY = ("won_revenue", "pipeline")  # in cents in the rollups, shown in the organization's currency


def _engagement_sum():
    return Sum(Coalesce(F("likes"), 0) + Coalesce(F("comments"), 0) + Coalesce(F("reposts"), 0))


def _reported():
    """How many rows reported any engagement counter (0 = "not available")."""
    return Count("pk", filter=Q(likes__isnull=False) | Q(comments__isnull=False) | Q(reposts__isnull=False))


COUNTED = (*ENGAGEMENT_FIELDS, "impressions")


def _reported_counts() -> dict:
    """Per counter, how many per-post stats rows reported it (NULL: the network did not give it)."""
    return {f"{name}_n": Count(name) for name in COUNTED}


def _not_available_when_unreported(row: dict, seen: dict | None) -> None:
    """A row's counters that none of its posts of the period reported become None ("not
    available"), and so does engagement when no engagement counter was; a sum above 0 is
    proof enough. No stats rows at all (no post in the period): left as they are."""
    if seen is None:
        return
    for name in COUNTED:
        if not seen[f"{name}_n"] and not row[name]:
            row[name] = None
    if all(row[name] is None for name in ENGAGEMENT_FIELDS) and not row["engagement"]:
        row["engagement"] = None


def per_post(total: int | None, posts: int) -> float | None:
    if total is None or not posts:
        return None
    return round(total / posts, 2)


@dataclass
class ContentPerformance:
    range: Period
    items: list[dict] = field(default_factory=list)
    topics: list[dict] = field(default_factory=list)
    by_weekday: list[dict] = field(default_factory=list)
    by_hour: list[dict] = field(default_factory=list)
    best_slot: dict | None = None
    suggestions: list[dict] = field(default_factory=list)
    commentary: list[dict] = field(default_factory=list)
    languages: list[dict] = field(default_factory=list)  # by the share's language (issue 23)
    updated_at: datetime | None = None
    reports_conversions: bool = False  # False: no conversion key, so conversions are "not set", not 0
    reports_revenue: bool = False  # False: no CRM connected and no deal imported: revenue "not set", not 0
    currency: str = ""

    def as_dict(self) -> dict:
        return {
            "start": self.range.start,
            "end": self.range.end,
            "reports_conversions": self.reports_conversions,
            "reports_revenue": self.reports_revenue,
            "currency": self.currency,
            "items": self.items,
            "topics": self.topics,
            "best_time": {"by_weekday": self.by_weekday, "by_hour": self.by_hour, "best_slot": self.best_slot},
            "suggestions": self.suggestions,
            "commentary": self.commentary,
            "languages": self.languages,
            "updated_at": self.updated_at,
        }


def _rollup_sums() -> dict:
    # `engagement` first: the later names shadow the columns it adds up.
    return {
        "engagement": Sum(F("likes") + F("comments") + F("reposts")),
        "shares": Sum("shares"),
        "published": Sum("published"),
        "clicks": Sum("clicks"),
        "unique_clicks": Sum("unique_clicks"),
        "likes": Sum("likes"),
        "comments": Sum("comments"),
        "reposts": Sum("reposts"),
        "impressions": Sum("impressions"),
        "estimated_reach": Sum("estimated_reach"),
        "conversions": Sum("conversions"),
        "won_revenue": Sum("won_revenue"),
        "pipeline": Sum("pipeline"),
    }


def content_performance(organization: Organization, period: Period) -> ContentPerformance:
    """Everything on the marketer's page, in at most 9 queries."""
    result = ContentPerformance(range=period, updated_at=stats_updated_at(organization, rollups=True))
    days = (period.start, period.end)
    rollups = DailyItemSummary.objects.for_org(organization).filter(day__range=days)

    # 1. Items (DailyItemSummary: day x item), best first.
    items = list(
        rollups.values("item_id", "item__title", "item__slug")
        .annotate(**_rollup_sums())
        .order_by("-engagement", "-clicks", "-published", "item_id")[:TOP_ITEMS]
    )
    # 2. Which counters the items' posts of the period reported at all.
    stats = ContentDailyStats.objects.for_org(organization).filter(day__range=days)
    reported = {
        row["item_id"]: row
        for row in stats.filter(item_id__in=[row["item_id"] for row in items])
        .values("item_id")
        .annotate(**_reported_counts())
        .order_by()
    }
    for row in items:
        _not_available_when_unreported(row, reported.get(row["item_id"]))
        # Follower counts at posting time are not recorded yet: a reach of 0 is "not available".
        row["estimated_reach"] = row["estimated_reach"] or None
        result.items.append(
            {
                "item_id": row["item_id"],
                "title": row["item__title"],
                "slug": row["item__slug"],
                **{name: row[name] for name in (*SHOWN, *MONEY, "engagement")},
                "engagement_per_post": per_post(row["engagement"], row["published"]),
            }
        )

    # 3. Topics (an item with two topics counts in both), and 4. which counters their posts of
    # the period reported: one that none did is "not available", not 0.
    topics = list(
        rollups.values("item__topics__id", "item__topics__name")
        .annotate(**_rollup_sums(), items=Count("item_id", distinct=True))
        .order_by("-engagement", "-clicks", "item__topics__name")[:TOP_TOPICS]
    )
    shown = Q(item__topics__id__in=[row["item__topics__id"] for row in topics if row["item__topics__id"]])
    if any(row["item__topics__id"] is None for row in topics):
        shown |= Q(item__topics__isnull=True)
    topic_reported = {
        row["item__topics__id"]: row
        for row in stats.filter(shown).values("item__topics__id").annotate(**_reported_counts()).order_by()
    }
    for row in topics:
        _not_available_when_unreported(row, topic_reported.get(row["item__topics__id"]))
        result.topics.append(
            {
                "topic_id": row["item__topics__id"],
                "name": row["item__topics__name"] or _("No topic"),
                "items": row["items"],
                **{name: row[name] for name in (*SHOWN, *MONEY, "engagement")},
                "engagement_per_post": per_post(row["engagement"], row["published"]),
            }
        )

    # 5. Best time: posts by local weekday and hour of publication.
    slots = list(
        PostingTimeStats.objects.for_org(organization)
        .filter(day__range=days)
        .annotate(weekday=ExtractIsoWeekDay("day"))
        .values("weekday", "hour")
        .annotate(posts=Sum("posts"), clicks=Sum("clicks"), engagement=_engagement_sum(), reported=_reported())
        .order_by("weekday", "hour")
    )
    _best_time(result, slots)

    # 6. Suggestions and personalised commentary (ContentDailyStats), with the suggestions' words.
    groups = list(
        stats.values("suggestion_key", "personalised", "language")
        .annotate(
            posts=Sum("posts"),
            clicks=Sum("clicks"),
            engagement=_engagement_sum(),
            reported=_reported(),
            impressions=Sum("impressions"),
        )
        .order_by()
    )
    _commentary(result, groups)
    result.languages = by_language(groups, organization.default_language)
    keys = {row["suggestion_key"] for row in groups if row["suggestion_key"]}
    texts = (
        {
            s.pk: s
            for s in Suggestion.objects.for_org(organization)
            .filter(pk__in=keys)
            .select_related("item")
            .only("pk", "text", "network", "item__title")
        }
        if keys
        else {}
    )
    _suggestions(result, groups, texts)
    # 7. Whether the organization reports conversions at all (a key, active or not: history
    # counts) and revenue (a CRM connected or deals imported), and its currency: one statement.
    sources = _outcome_sources(organization)
    result.reports_conversions, result.reports_revenue = sources["keys"], sources["crm"] or sources["deals"]
    result.currency = sources["currency"] or AnalyticsSettings._meta.get_field("currency").default
    for row in (*result.items, *result.topics):
        if not result.reports_conversions:
            row["conversions"] = None
        for name in MONEY:
            row[name] = (Decimal(row[name] or 0) / 100).quantize(Decimal("0.01")) if result.reports_revenue else None
    return result


def _outcome_sources(organization: Organization) -> dict:
    """Whether the organization has a conversion key, a CRM connection, any deal, and its
    currency, in one query."""
    return (
        Organization.objects.filter(pk=organization.pk)
        .annotate(
            keys=Exists(ConversionKey.objects.for_org(organization)),
            crm=Exists(CrmConnection.objects.for_org(organization)),
            deals=Exists(Deal.objects.for_org(organization)),
            currency=Subquery(
                AnalyticsSettings.objects.for_org(organization)
                .filter(organization=OuterRef("pk"))
                .values("currency")[:1]
            ),
        )
        .values("keys", "crm", "deals", "currency")
        .get()
    )


def _slot_row(label: str, posts: int, engagement: int, reported: int, clicks: int) -> dict:
    value = engagement if reported else None
    return {
        "label": label,
        "posts": posts,
        "engagement": value,
        "engagement_per_post": per_post(value, posts),
        "clicks": clicks,
        "clicks_per_post": per_post(clicks, posts),
    }


def _best_time(result: ContentPerformance, slots: list[dict]) -> None:
    weekdays = {n: [0, 0, 0, 0] for n in range(1, 8)}
    hours = {h: [0, 0, 0, 0] for h in range(24)}
    best = None
    for slot in slots:
        values = (slot["posts"], slot["engagement"] or 0, slot["reported"], slot["clicks"])
        for bucket in (weekdays[slot["weekday"]], hours[slot["hour"]]):
            for i, value in enumerate(values):
                bucket[i] += value
        if slot["reported"] and slot["posts"] >= MIN_POSTS_FOR_BEST:
            score = slot["engagement"] / slot["posts"]
            if best is None or score > best[0]:
                best = (score, slot)
    result.by_weekday = [_slot_row(str(dates.WEEKDAYS[n - 1]), *weekdays[n]) for n in range(1, 8)]
    result.by_hour = [_slot_row(f"{h:02d}:00", *hours[h]) for h in range(24)]
    if best is not None:
        slot = best[1]
        result.best_slot = {
            "weekday": str(dates.WEEKDAYS[slot["weekday"] - 1]),
            "hour": f"{slot['hour']:02d}:00",
            "posts": slot["posts"],
            "engagement_per_post": round(best[0], 2),
        }


def _sum_groups(groups: list[dict], key) -> dict:
    """The suggestion groups summed by `key(row)`: [posts, engagement, reported, clicks,
    impressions], impressions None while no group of that key reported any."""
    totals: dict = {}
    for row in groups:
        total = totals.setdefault(key(row), [0, 0, 0, 0, None])
        total[0] += row["posts"]
        total[1] += row["engagement"] or 0
        total[2] += row["reported"]
        total[3] += row["clicks"]
        if row["impressions"] is not None:
            total[4] = (total[4] or 0) + row["impressions"]
    return totals


def _commentary(result: ContentPerformance, groups: list[dict]) -> None:
    kinds = {
        True: {"kind": "personalised", "label": _("Own words (written or edited by the employee)")},
        False: {"kind": "verbatim", "label": _("Suggestion used as written")},
    }
    totals = _sum_groups(groups, lambda row: row["personalised"])
    for personalised in (True, False):
        posts, engagement, reported, clicks, impressions = totals.get(personalised, [0, 0, 0, 0, None])
        value = engagement if reported else None
        result.commentary.append(
            {
                **kinds[personalised],
                "posts": posts,
                "engagement": value,
                "engagement_per_post": per_post(value, posts),
                "clicks": clicks,
                "clicks_per_post": per_post(clicks, posts),
                "impressions": impressions,
                "impressions_per_post": per_post(impressions, posts),
            }
        )


def _suggestions(result: ContentPerformance, groups: list[dict], texts: dict) -> None:
    by_key: dict[int, dict] = {}
    for row in groups:
        key = row["suggestion_key"]
        suggestion = texts.get(key)
        if not key or suggestion is None:  # no suggestion, or one deleted since
            continue
        entry = by_key.setdefault(
            key,
            {
                "suggestion_id": key,
                "text": suggestion.text,
                "network": suggestion.network,
                "item_title": suggestion.item.title,
                "posts": 0,
                "verbatim_posts": 0,
                "edited_posts": 0,
                "clicks": 0,
                "engagement": 0,
                "reported": 0,
            },
        )
        entry["posts"] += row["posts"]
        entry["verbatim_posts" if not row["personalised"] else "edited_posts"] += row["posts"]
        entry["clicks"] += row["clicks"]
        entry["engagement"] += row["engagement"] or 0
        entry["reported"] += row["reported"]
    ranked = sorted(by_key.values(), key=lambda e: (-e["posts"], -e["engagement"], e["suggestion_id"]))
    for entry in ranked[:TOP_SUGGESTIONS]:
        if not entry.pop("reported"):
            entry["engagement"] = None
        entry["engagement_per_post"] = per_post(entry["engagement"], entry["posts"])
        entry["clicks_per_post"] = per_post(entry["clicks"], entry["posts"])
        result.suggestions.append(entry)


def by_language(groups: list[dict], default_language: str) -> list[dict]:
    """Posts of the period by the language their words were written in (the share's; a share
    from before languages were recorded counts in the organization's default), most posts
    first: posts, clicks, engagement (None when no post reported any) and impressions, from
    the suggestion groups already read (no query of its own)."""
    totals = _sum_groups(groups, lambda row: row.get("language") or default_language)
    rows = []
    for code, (posts, engagement, reported, clicks, impressions) in totals.items():
        value = engagement if reported else None
        rows.append(
            {
                "language": code,
                "posts": posts,
                "clicks": clicks,
                "engagement": value,
                "engagement_per_post": per_post(value, posts),
                "clicks_per_post": per_post(clicks, posts),
                "impressions": impressions,
            }
        )
    return sorted(rows, key=lambda r: (-r["posts"], r["language"]))
