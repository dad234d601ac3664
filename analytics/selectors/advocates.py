"""The employee's own numbers, points and the leaderboard.

Reads `AdvocateDailyStats` (day x author, refreshed by `analytics.services.advocate_stats`),
never raw rows: `my_stats()` runs 5 queries and `leaderboard()` 3, whatever the history size.

Points = shares x points per share + posts x points per post + unique clicks x points per
click + (likes + comments + reposts) x points per engagement, with the organization's
`PointsRules` (the defaults when it saved none). Shares count on the day they were
submitted; posts, clicks and engagement on the day the post was published.

The leaderboard ranks active members with points in the period, highest first; equal
points share a rank (1, 2, 2, 4). A member who hid themself is left out for everyone else;
they still see their own rank, privately (where they would stand among the visible).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Q, Sum, Value
from django.db.models.functions import Coalesce

from accounts.models import Membership, Organization
from advocacy.sql import tenant_dicts
from analytics import formatting
from analytics.models import (
    AdvocateDailyStats,
    AdvocatePreference,
    AnalyticsSettings,
    Conversion,
    ConversionStatus,
    DailyAuthorOutcome,
    PointsRules,
)
from analytics.selectors.freshness import stats_updated_at
from analytics.selectors.periods import Period

LEADERBOARD_SIZE = 20
ENGAGEMENT = ("likes", "comments", "reposts")


def points_rules_for(organization: Organization) -> PointsRules:
    """The organization's rules, or unsaved defaults (1 query)."""
    return PointsRules.objects.for_org(organization).first() or PointsRules(organization=organization)


def preference_for(membership: Membership) -> AdvocatePreference:
    """The member's analytics preferences, or unsaved defaults (1 query)."""
    return AdvocatePreference.objects.for_org(membership.organization_id).filter(
        user_id=membership.user_id
    ).first() or AdvocatePreference(organization_id=membership.organization_id, user_id=membership.user_id)


def points_of(row: dict, rules: PointsRules) -> int:
    engagement = sum(row.get(name) or 0 for name in ENGAGEMENT)
    return (
        (row.get("shares") or 0) * rules.points_per_share
        + (row.get("posts") or 0) * rules.points_per_post
        + (row.get("unique_clicks") or 0) * rules.points_per_click
        + engagement * rules.points_per_engagement
    )


def _points_expression(rules: PointsRules):
    engagement = Coalesce(Sum("likes"), 0) + Coalesce(Sum("comments"), 0) + Coalesce(Sum("reposts"), 0)
    return (
        Sum("shares") * Value(rules.points_per_share)
        + Sum("posts") * Value(rules.points_per_post)
        + Sum("unique_clicks") * Value(rules.points_per_click)
        + engagement * Value(rules.points_per_engagement)
    )


@dataclass
class Board:
    rows: list[dict] = field(default_factory=list)
    ranked: int = 0
    me: dict | None = None
    my_rank: int | None = None
    hidden: bool = False

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "ranked": self.ranked,
            "me": self.me,
            "my_rank": self.my_rank,
            "hidden": self.hidden,
        }


def leaderboard(
    organization: Organization, period: Period, rules: PointsRules, *, viewer_user_id: int | None = None
) -> Board:
    """The top members by points in the range, and the viewer's own place (1 query)."""
    hidden = AdvocatePreference.objects.for_org(organization).filter(
        user_id=OuterRef("user_id"), hidden_from_leaderboard=True
    )
    active = Membership.objects.for_org(organization).filter(
        user_id=OuterRef("user_id"), is_active=True, user__is_active=True
    )
    rows = list(
        AdvocateDailyStats.objects.for_org(organization)
        .filter(day__range=(period.start, period.end))
        .filter(Exists(active))
        .values("user_id", "user__name", "user__email")
        .annotate(
            points=_points_expression(rules),
            shares=Sum("shares"),
            posts=Sum("posts"),
            unique_clicks=Sum("unique_clicks"),
            engagement=Coalesce(Sum("likes"), 0) + Coalesce(Sum("comments"), 0) + Coalesce(Sum("reposts"), 0),
            hidden=Exists(hidden),
        )
        .filter(points__gt=0)
        .order_by("-points", "user__name", "user__email", "user_id")
    )
    board = Board()
    rank, previous = 0, None
    visible = [row for row in rows if not row["hidden"]]
    for position, row in enumerate(visible, start=1):
        if row["points"] != previous:
            rank, previous = position, row["points"]
        entry = _entry(row, rank, viewer_user_id)
        if position <= LEADERBOARD_SIZE:
            board.rows.append(entry)
        if row["user_id"] == viewer_user_id:
            board.me, board.my_rank = entry, rank
    board.ranked = len(visible)
    if board.me is None and viewer_user_id is not None:
        mine = next((row for row in rows if row["user_id"] == viewer_user_id), None)
        if mine is not None:  # hidden: where they would stand, for their eyes only
            board.hidden = True
            board.my_rank = 1 + sum(1 for row in visible if row["points"] > mine["points"])
            board.me = _entry(mine, board.my_rank, viewer_user_id)
    return board


def _entry(row: dict, rank: int, viewer_user_id: int | None) -> dict:
    return {
        "rank": rank,
        "user_id": row["user_id"],
        "name": row["user__name"] or row["user__email"].split("@")[0],
        "points": row["points"],
        "shares": row["shares"],
        "posts": row["posts"],
        "unique_clicks": row["unique_clicks"],
        "engagement": row["engagement"],
        "is_me": row["user_id"] == viewer_user_id,
    }


def _sums(prefix: str, condition: Q) -> dict:
    sums = {
        f"{prefix}{name}": Sum(name, filter=condition)
        for name in ("shares", "posts", "clicks", "unique_clicks", "likes", "comments", "reposts", "impressions")
    }
    return sums


def _figures(row: dict, prefix: str, rules: PointsRules) -> dict:
    values = {name: row[f"{prefix}{name}"] for name in ("shares", "posts", "clicks", "unique_clicks")}
    values = {name: value or 0 for name, value in values.items()}
    for name in (*ENGAGEMENT, "impressions"):
        values[name] = row[f"{prefix}{name}"]  # None: no post of the period reported it
    if not values["posts"]:  # no post, nothing to measure: zero, not "not available"
        values.update({name: values[name] or 0 for name in (*ENGAGEMENT, "impressions")})
    values["engagement"] = (
        None if all(values[name] is None for name in ENGAGEMENT) else sum(values[n] or 0 for n in ENGAGEMENT)
    )
    values["points"] = points_of(values, rules)
    return values


def my_stats(membership: Membership, period: Period) -> dict:
    """The member's figures for the range and the previous one, a daily series, points,
    rank, what their posts brought (conversions), preferences and when the figures were last updated
    (7 queries)."""
    organization = membership.organization
    rules = points_rules_for(organization)
    preference = preference_for(membership)
    mine = AdvocateDailyStats.objects.for_org(organization).filter(user_id=membership.user_id)
    current = Q(day__gte=period.start)
    previous = Q(day__lt=period.start)
    totals = mine.filter(day__range=(period.previous().start, period.end)).aggregate(
        **_sums("now_", current), **_sums("before_", previous)
    )
    series = [
        {
            "day": row["day"],
            "posts": row["posts"],
            "clicks": row["clicks"],
            "engagement": row["engagement"],
        }
        for row in mine.filter(day__range=(period.start, period.end))
        .values("day")
        .annotate(
            posts=Sum("posts"),
            clicks=Sum("clicks"),
            engagement=Sum(Coalesce(F("likes"), 0) + Coalesce(F("comments"), 0) + Coalesce(F("reposts"), 0)),
        )
        .order_by("day")
    ]
    board = leaderboard(organization, period, rules, viewer_user_id=membership.user_id)
    outcomes = _my_conversions(membership, period)
    return {
        "start": period.start,
        "end": period.end,
        "current": _figures(totals, "now_", rules),
        "previous": _figures(totals, "before_", rules),
        "series": series,
        "rules": {
            "points_per_share": rules.points_per_share,
            "points_per_post": rules.points_per_post,
            "points_per_click": rules.points_per_click,
            "points_per_engagement": rules.points_per_engagement,
        },
        "leaderboard": board,
        "conversions": outcomes,
        "hidden_from_leaderboard": preference.hidden_from_leaderboard,
        "weekly_summary": preference.weekly_summary,
        "updated_at": stats_updated_at(organization, rollups=False),
    }


# The member's outcomes of the period in one statement: their attributed conversions by event
# name (with the value of those in the organization's currency), and the won revenue their
# posts brought, from the per-author outcome rollup (`DailyAuthorOutcome`, never raw deals).
_MY_OUTCOMES_SQL = f"""
SELECT event_name, COUNT(*) AS events,
       SUM(CASE WHEN value_counted THEN value END) AS value,
       MAX(CASE WHEN value_counted THEN currency END) AS currency,
       0 AS won_revenue
FROM {Conversion._meta.db_table}
WHERE organization_id = %(org)s AND author_id = %(user)s AND status = %(attributed)s
  AND day >= %(start)s AND day <= %(end)s
GROUP BY event_name
UNION ALL
SELECT '', 0, NULL, (SELECT currency FROM {AnalyticsSettings._meta.db_table} WHERE organization_id = %(org)s),
       CAST(COALESCE(SUM(won_revenue), 0) AS BIGINT)
FROM {DailyAuthorOutcome._meta.db_table}
WHERE organization_id = %(org)s AND author_key = %(user)s AND day >= %(start)s AND day <= %(end)s
"""  # noqa: S608 (identifiers from the models)


CENT = Decimal("0.01")


def _my_conversions(membership: Membership, period: Period) -> dict:
    """What the member's posts brought in the period: conversions attributed to them, by
    event name, the value of those in the organization's currency, and the won revenue of the
    CRM deals attributed to them (`won_revenue`, in that currency; 0 when none), with the
    sentence My stats says it in (one query, on the event's and the deal's local day)."""
    params = {
        "user": membership.user_id,
        "attributed": ConversionStatus.ATTRIBUTED,
        "start": period.start,
        "end": period.end,
    }
    rows = tenant_dicts(membership.organization_id, _MY_OUTCOMES_SQL, params)
    revenue = next(row for row in rows if row["event_name"] == "")
    events = sorted(
        (
            {
                "event_name": row["event_name"],
                "events": row["events"],
                "value": None if row["value"] is None else Decimal(row["value"]).quantize(CENT),
                "currency": row["currency"] or "",
            }
            for row in rows
            if row["event_name"]
        ),
        key=lambda row: (-row["events"], row["event_name"]),
    )
    counted = [row for row in events if row["value"] is not None]
    currency = revenue["currency"] or AnalyticsSettings._meta.get_field("currency").default
    won_revenue = (Decimal(revenue["won_revenue"] or 0) / 100).quantize(CENT)
    return {
        "events": events,
        "total": sum(row["events"] for row in events),
        "value": sum(row["value"] for row in counted) if counted else None,
        "currency": counted[0]["currency"] if counted else "",
        "won_revenue": won_revenue,
        "won_currency": currency,
        "sentence": formatting.brought_sentence(events, won_revenue, currency),
    }
