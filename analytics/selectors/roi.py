"""The executive ROI report: one selector for the page, the API, the CSV and the PDF.

Reads the daily rollups (`DailySummary` for totals, trends and teams; `DailyItemSummary`
for top content; never raw clicks or deliveries), the per-author daily stats for
advocates, and a few small rows (settings, availability, member and team lists): a fixed
number of queries (`QUERIES`) whatever the history size.

Honest numbers: each figure says whether it is *measured* (counted by the networks or by
our own records and redirect) or *estimated* (computed from the organization's rates). A
counter no network gave this organization is `None` ("not available"), never 0; a total
made only from some networks names the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Sum

from accounts.models import Membership, Network, Team, User
from analytics.models import (
    AdvocateDailyStats,
    AdvocateWindowStats,
    AnalyticsSettings,
    ClickDiscardReason,
    DailyClickDiscard,
    DailyItemSummary,
    DailySummary,
    MetricAvailability,
)
from analytics.selectors.freshness import stats_updated_at
from analytics.selectors.periods import Period, change
from content.models import ContentItem

QUERIES = 9  # asserted by the tests; the page adds its own fixed few (session, membership)

NETWORKS = [choice for choice in Network]
NETWORK_LABELS = dict(Network.choices)
ENGAGEMENT = ("likes", "comments", "reposts")
SUMS = ("shares", "published", "api_posts", "api_link_posts", "clicks", "unique_clicks", *ENGAGEMENT, "impressions")
ITEM_SUMS = ("shares", "published", "clicks", *ENGAGEMENT)  # what the top content table shows
CENT = Decimal("0.01")
DAYS_PER_MONTH = Decimal(365) / Decimal(12)
TOP = 10

MEASURED, ESTIMATED = "measured", "estimated"


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _sums(prefix: str = "") -> dict:
    return {name: Sum(f"{prefix}{name}") for name in SUMS}


@dataclass(frozen=True)
class Availability:
    """Which counters each network has given this organization (from `MetricAvailability`)."""

    by_network: dict[str, dict[str, bool]]
    given: frozenset = field(init=False)  # (network, metric) pairs, "engagement" included

    def __post_init__(self):
        pairs = {(network, name) for network, row in self.by_network.items() for name, seen in row.items() if seen}
        pairs |= {(network, "engagement") for network, name in pairs if name in ENGAGEMENT}
        object.__setattr__(self, "given", frozenset(pairs))

    def has(self, network: str, metric: str) -> bool:
        return (network, metric) in self.given


def _settings(organization) -> AnalyticsSettings:
    found = AnalyticsSettings.objects.for_org(organization).first()
    return found or AnalyticsSettings(organization=organization)


def _availability(organization) -> Availability:
    rows = MetricAvailability.objects.for_org(organization)
    return Availability({row.network: {name: getattr(row, name) for name in row.METRICS} for row in rows})


def _engagement(row: dict, availability: Availability, network: str) -> int | None:
    if not availability.has(network, "engagement"):
        return None
    return sum(row[name] or 0 for name in ENGAGEMENT if availability.has(network, name))


def _impressions(row: dict, availability: Availability, network: str) -> int | None:
    return (row["impressions"] or 0) if availability.has(network, "impressions") else None


def _add(total, value):
    if value is None:
        return total
    return value if total is None else total + value


def emv_of(per_network: dict[str, dict], clicks: int, rates: AnalyticsSettings, availability: Availability) -> dict:
    """EMV = sum over networks of impressions / 1000 x that network's CPM, plus clicks x CPC.

    A network with no impressions available or no CPM set adds nothing, and is named.
    """
    parts, value, missing = [], Decimal(0), []
    for network in NETWORKS:
        row = per_network.get(network.value)
        impressions = _impressions(row, availability, network.value) if row else None
        cpm = rates.cpm(network.value)
        part = None
        if impressions is not None and cpm is not None:
            part = money(Decimal(impressions) / 1000 * cpm)
            value += part
        elif row and row["published"]:
            missing.append(f"{network.label}: {'no CPM set' if cpm is None else 'impressions not available'}")
        parts.append(
            {"network": network.value, "label": network.label, "impressions": impressions, "cpm": cpm, "value": part}
        )
    clicks_value = money(Decimal(clicks) * rates.cpc) if rates.cpc is not None else None
    if clicks_value is not None:
        value += clicks_value
    return {
        "value": money(value),
        "parts": parts,
        "clicks": clicks,
        "cpc": rates.cpc,
        "clicks_value": clicks_value,
        "missing": missing,
    }


def cost_of(period: Period, per_network: dict[str, dict], rates: AnalyticsSettings) -> dict:
    """Program cost for the period: licence and people's time prorated by days (a month is
    365/12 days), plus the per-post API charges (X: the with-link price for posts whose text
    carries a link, which every tracked post does)."""
    months = Decimal(period.days) / DAYS_PER_MONTH
    licence = money(rates.licence_per_month * months) if rates.licence_per_month is not None else None
    people = None
    if rates.people_hours_per_month is not None and rates.people_hourly_cost is not None:
        people = money(rates.people_hours_per_month * rates.people_hourly_cost * months)
    api_parts, api = [], Decimal(0)
    for network in NETWORKS:
        row = per_network.get(network.value) or {"api_posts": 0, "api_link_posts": 0}
        posts, link_posts = row["api_posts"] or 0, row["api_link_posts"] or 0
        plain_rate = getattr(rates, f"api_post_cost_{network.value}")
        link_rate = rates.api_link_post_cost_x if network == Network.X else None
        charge = Decimal(0)
        if network == Network.X and link_rate is not None:
            charge += link_posts * link_rate + (posts - link_posts) * (plain_rate or 0)
        elif plain_rate is not None:
            charge += posts * plain_rate
        charge = money(charge)
        api += charge
        api_parts.append(
            {
                "network": network.value,
                "label": network.label,
                "api_posts": posts,
                "link_posts": link_posts,
                "rate": plain_rate,
                "link_rate": link_rate,
                "value": charge,
            }
        )
    total = money((licence or 0) + (people or 0) + api)
    return {
        "licence": licence,
        "people": people,
        "api": money(api),
        "api_parts": api_parts,
        "total": total,
        "months": months.quantize(Decimal("0.001")),
    }


def _per_network(rows: list[dict], current: bool) -> dict[str, dict]:
    return {row["network"]: row for row in rows if row["current"] is current and row["network"]}


def _shares(rows: list[dict], current: bool) -> int:
    return sum(row["shares"] or 0 for row in rows if row["current"] is current)


def _totals(per_network: dict[str, dict], availability: Availability) -> dict:
    impressions = engagement = None
    for network, row in per_network.items():
        impressions = _add(impressions, _impressions(row, availability, network))
        engagement = _add(engagement, _engagement(row, availability, network))
    return {
        "posts": sum(row["published"] or 0 for row in per_network.values()),
        "clicks": sum(row["clicks"] or 0 for row in per_network.values()),
        "unique_clicks": sum(row["unique_clicks"] or 0 for row in per_network.values()),
        "impressions": impressions,
        "engagement": engagement,
    }


def _missing(per_network: dict[str, dict], availability: Availability, metric: str) -> list[str]:
    return [
        NETWORK_LABELS.get(network, network)
        for network, row in sorted(per_network.items())
        if row["published"] and not availability.has(network, metric)
    ]


def _figure(key, label, value, previous, basis, note="", unit="count") -> dict:
    moved = change(value, previous)
    moved["points"] = None
    if unit == "percent" and moved["delta"] is not None:  # a rate moves in points, not in % of itself
        moved["points"], moved["percent"] = round(moved["delta"], 1), None
    return {
        "key": key,
        "label": label,
        "value": value,
        "previous": previous,
        "change": moved,
        "basis": basis,
        "unit": unit,
        "available": value is not None,
        "note": note,
    }


def _not_from(names: list[str]) -> str:
    return f"Not available from {', '.join(names)} (not counted)." if names else ""


_FLAGS = {"current", "ranked"}  # boolean columns of the statements below


def _rows(sql: str, params: dict) -> list[dict]:
    """A raw statement's rows as dicts (the statements below filter on the organization).

    The statements are portable SQL (PostgreSQL, and the SQLite of `make run` without
    PostgreSQL); SQLite answers 0/1 for booleans and text for dates, made Python's here."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
    if connection.vendor != "postgresql":
        for row in rows:
            for name in _FLAGS.intersection(row):
                row[name] = bool(row[name])
            if isinstance(row.get("day"), str):
                row["day"] = date.fromisoformat(row["day"])
    return rows


# The three cuts of `DailySummary` the report needs, in one statement over one scan of the
# two periods' rows: per network for each period, per day and per team for the current one.
# One statement instead of three ORM queries: the rows are few, and building three GROUP BY
# queries through the ORM cost the page more time than the database spent running them.
_SUMMARY_CUTS_SQL = """
WITH summary_rows AS (
    SELECT day >= %(start)s AS current, day, team_key, network, {columns}
    FROM {table}
    WHERE organization_id = %(org)s AND day >= %(previous_start)s AND day <= %(end)s
)
SELECT {by_period} AS cut, current, CAST(NULL AS DATE) AS day, CAST(NULL AS BIGINT) AS team_key, network, {sums}
FROM summary_rows GROUP BY current, network
UNION ALL
SELECT {by_day}, current, day, CAST(NULL AS BIGINT), network, {sums}
FROM summary_rows WHERE current GROUP BY current, day, network
UNION ALL
SELECT {by_team}, current, CAST(NULL AS DATE), team_key, network, {sums}
FROM summary_rows WHERE current GROUP BY current, team_key, network
"""
_BY_PERIOD, _BY_DAY, _BY_TEAM = 1, 2, 3
_SUMMARY_CUTS_SQL = _SUMMARY_CUTS_SQL.format(  # identifiers from the model and SUMS
    columns=", ".join(SUMS),
    sums=", ".join(f"CAST(SUM({name}) AS BIGINT) AS {name}" for name in SUMS),
    table=DailySummary._meta.db_table,
    by_period=_BY_PERIOD,
    by_day=_BY_DAY,
    by_team=_BY_TEAM,
)


def _summaries(organization, period: Period, previous: Period) -> tuple[list[dict], list[dict], list[dict]]:
    """Rows of DailySummary summed per (period, network), per (day, network) and per
    (team, network) of the current period: dicts with the SUMS and their keys."""
    params = {"org": organization.pk, "start": period.start, "previous_start": previous.start, "end": period.end}
    rows = _rows(_SUMMARY_CUTS_SQL, params)
    by_period = [row for row in rows if row["cut"] == _BY_PERIOD]
    daily = sorted((r for r in rows if r["cut"] == _BY_DAY), key=lambda r: (r["day"], r["network"]))
    teams = [row for row in rows if row["cut"] == _BY_TEAM]
    return by_period, daily, teams


# The TOP content items of the period by clicks + engagement: summed per item id (a hash
# aggregate over the day x item rows), ranked and cut, then joined to the few titles.
_TOP_ITEMS_SQL = """
SELECT top.*, i.title AS item__title
FROM (SELECT item_id, {sums}, SUM(clicks) + SUM(likes) + SUM(comments) + SUM(reposts) AS score
      FROM {table}
      WHERE organization_id = %(org)s AND day >= %(start)s AND day <= %(end)s
      GROUP BY item_id
      ORDER BY score DESC, published DESC, shares DESC, item_id
      LIMIT %(top)s) AS top
JOIN {items} i ON i.id = top.item_id AND i.organization_id = %(org)s
ORDER BY top.score DESC, top.published DESC, top.shares DESC, top.item_id
""".format(  # noqa: S608 (identifiers from the models and SUMS)
    sums=", ".join(f"CAST(SUM({name}) AS BIGINT) AS {name}" for name in ITEM_SUMS),
    table=DailyItemSummary._meta.db_table,
    items=ContentItem._meta.db_table,
)


def _top_items(organization, period: Period) -> list[dict]:
    return _rows(_TOP_ITEMS_SQL, {"org": organization.pk, "start": period.start, "end": period.end, "top": TOP})


# Active advocates in both periods and the current period's top advocates, from one row per
# author: the precomputed preset window ending on the period's last day when there is one
# (`AdvocateWindowStats`, the dashboard's default views), else summed from the per-author
# daily rows of both periods (one hash aggregate; PostgreSQL runs that branch only when the
# window is missing: the NOT EXISTS is a one-time filter). The counts are window aggregates
# over every author, taken before the LIMIT; the names are joined for the few kept.
_ADVOCATES_SQL = """
WITH window_rows AS (
    SELECT user_id, shares > 0 AS active_now, active_before, shares, posts, clicks, likes, comments, reposts
    FROM {windows}
    WHERE organization_id = %(org)s AND window_days = %(days)s AND through = %(end)s
), per_author AS (
    SELECT * FROM window_rows
    UNION ALL
    SELECT user_id,
           MAX(CASE WHEN shares > 0 AND day >= %(start)s THEN 1 ELSE 0 END) = 1,
           MAX(CASE WHEN shares > 0 AND day < %(start)s THEN 1 ELSE 0 END) = 1,
           {sums}
    FROM {daily}
    WHERE organization_id = %(org)s AND day >= %(previous_start)s AND day <= %(end)s
      AND NOT EXISTS (SELECT 1 FROM {windows}
                      WHERE organization_id = %(org)s AND window_days = %(days)s AND through = %(end)s)
    GROUP BY user_id
), ranked AS (
    SELECT user_id, shares, posts, clicks, likes, comments, reposts,
           COUNT(*) FILTER (WHERE active_now) OVER () AS active_now_total,
           COUNT(*) FILTER (WHERE active_before) OVER () AS active_before_total,
           COALESCE(shares, 0) > 0 OR COALESCE(posts, 0) > 0 AS ranked
    FROM per_author
    ORDER BY ranked DESC, posts DESC NULLS LAST, shares DESC NULLS LAST, clicks DESC NULLS LAST, user_id
    LIMIT %(top)s
)
SELECT ranked.*, u.name AS user__name, u.email AS user__email
FROM ranked JOIN {users} u ON u.id = ranked.user_id
ORDER BY ranked.ranked DESC, ranked.posts DESC NULLS LAST, ranked.shares DESC NULLS LAST,
         ranked.clicks DESC NULLS LAST, ranked.user_id
""".format(  # noqa: S608 (identifiers from the models)
    sums=", ".join(
        f"CAST(SUM({name}) FILTER (WHERE day >= %(start)s) AS BIGINT)"
        for name in ("shares", "posts", "clicks", *ENGAGEMENT)
    ),
    daily=AdvocateDailyStats._meta.db_table,
    windows=AdvocateWindowStats._meta.db_table,
    users=User._meta.db_table,
)


def _advocates(organization, period: Period, previous: Period) -> tuple[dict, list[dict]]:
    """({"current": n, "previous": n} active advocates, the TOP advocates of the period with
    their names): members with a share (not cancelled or rejected) in the period."""
    params = {
        "org": organization.pk,
        "start": period.start,
        "previous_start": previous.start,
        "end": period.end,
        "days": period.days,
        "top": TOP,
    }
    rows = _rows(_ADVOCATES_SQL, params)
    counts = {
        "current": rows[0]["active_now_total"] if rows else 0,
        "previous": rows[0]["active_before_total"] if rows else 0,
    }
    return counts, [row for row in rows if row["ranked"]]


def executive_report(organization, period: Period) -> dict:
    """Everything the executive dashboard shows for `period`, compared with the period before."""
    previous = period.previous()
    rates = _settings(organization)  # query 1
    availability = _availability(organization)  # query 2
    by_period, daily, teams_rows = _summaries(organization, period, previous)  # query 3
    current_rows, previous_rows = _per_network(by_period, True), _per_network(by_period, False)
    now, before = _totals(current_rows, availability), _totals(previous_rows, availability)
    team_names = dict(Team.objects.for_org(organization).values_list("id", "name"))  # query 4
    top_items = _top_items(organization, period)  # query 5
    advocates, top_people = _advocates(organization, period, previous)  # query 6
    members = Membership.objects.for_org(organization).filter(is_active=True, is_employee=True).count()  # query 7
    discarded = _discarded_clicks(organization, period)  # query 8
    updated_at = stats_updated_at(organization, rollups=True)  # query 9

    emv_now = emv_of(current_rows, now["clicks"], rates, availability)
    emv_before = emv_of(previous_rows, before["clicks"], rates, availability)
    cost_now, cost_before = cost_of(period, current_rows, rates), cost_of(previous, previous_rows, rates)

    def roi(emv, cost):
        return None if not cost["total"] else (emv["value"] - cost["total"]) / cost["total"]

    def rate(count):
        return None if not members else round(count * 100 / members, 1)

    roi_now, roi_before = roi(emv_now, cost_now), roi(emv_before, cost_before)
    missing_impressions = _missing(current_rows, availability, "impressions")
    missing_engagement = _missing(current_rows, availability, "engagement")
    figures = [
        _figure(
            "active_advocates",
            "Active advocates",
            advocates["current"],
            advocates["previous"],
            MEASURED,
            "Members with at least one share (not cancelled or rejected) submitted in the period.",
        ),
        _figure(
            "participation_rate",
            "Participation rate",
            rate(advocates["current"]),
            rate(advocates["previous"]),
            MEASURED,
            f"Active advocates ÷ the {members} active employee members (today's count) of the program.",
            unit="percent",
        ),
        _figure(
            "shares",
            "Shares",
            _shares(by_period, True),
            _shares(by_period, False),
            MEASURED,
            "Shares employees submitted (our records).",
        ),
        _figure(
            "posts",
            "Posts",
            now["posts"],
            before["posts"],
            MEASURED,
            "Posts published on the networks (our records), including assisted shares.",
        ),
        _figure(
            "impressions",
            "Impressions",
            now["impressions"],
            before["impressions"],
            MEASURED,
            "Counted by the networks. " + _not_from(missing_impressions),
        ),
        _figure(
            "engagement",
            "Engagement",
            now["engagement"],
            before["engagement"],
            MEASURED,
            "Likes + comments + reposts, counted by the networks. " + _not_from(missing_engagement),
        ),
        _figure(
            "clicks",
            "Clicks",
            now["clicks"],
            before["clicks"],
            MEASURED,
            "Clicks on the tracked links, counted by our redirect (bots and previews excluded).",
        ),
        _figure(
            "unique_clicks",
            "Unique clicks",
            now["unique_clicks"],
            before["unique_clicks"],
            MEASURED,
            "One per visitor per link per day.",
        ),
        _figure(
            "estimated_reach",
            "Estimated reach",
            None,
            None,
            ESTIMATED,
            "Not available: follower counts at posting time are not recorded for any network.",
        ),
        _figure(
            "emv",
            "Earned media value",
            emv_now["value"],
            emv_before["value"],
            ESTIMATED,
            "Σ impressions ÷ 1000 × the network's CPM + clicks × CPC, at the rates below.",
            unit="money",
        ),
        _figure(
            "program_cost",
            "Program cost",
            cost_now["total"],
            cost_before["total"],
            ESTIMATED,
            "Licence and people's time prorated to the period, plus per-post API charges.",
            unit="money",
        ),
        _figure(
            "roi",
            "ROI",
            None if roi_now is None else round(roi_now * 100, 1),
            None if roi_before is None else round(roi_before * 100, 1),
            ESTIMATED,
            "(EMV − program cost) ÷ program cost."
            + ("" if roi_now is not None else " Not available: enter the program cost in the settings."),
            unit="percent",
        ),
    ]
    return {
        "period": period.as_dict(),
        "previous_period": previous.as_dict(),
        "currency": rates.currency,
        "members": members,
        "figures": figures,
        "emv": emv_now,
        "cost": cost_now,
        "rates": {name: getattr(rates, name) for name in AnalyticsSettings.RATE_FIELDS},
        "availability": availability.by_network,
        "trend": _trend(period, daily, availability),
        "by_network": _by_network(current_rows, availability, rates),
        "by_team": _by_team(teams_rows, team_names, availability),
        "top_content": [_item_row(row, availability) for row in top_items],
        "top_advocates": [_person_row(row) for row in top_people],
        "discarded_clicks": discarded,
        "updated_at": updated_at,
    }


def _discarded_clicks(organization, period: Period) -> dict:
    """Clicks on the tracked links recorded but not counted in `period`, by reason (from the
    per-day `DailyClickDiscard` counters, never raw clicks): bots and previews, addresses
    over the per-minute rate, posts not published (issue 15, point 4)."""
    rows = (
        DailyClickDiscard.objects.for_org(organization)
        .filter(day__gte=period.start, day__lte=period.end)
        .values("reason")
        .annotate(total=Sum("clicks"))
        .order_by()
    )
    sums = {row["reason"]: row["total"] for row in rows}
    reasons = [
        {"reason": reason.value, "label": reason.label, "clicks": int(sums.get(reason.value) or 0)}
        for reason in ClickDiscardReason
    ]
    return {"total": sum(r["clicks"] for r in reasons), "reasons": reasons}


def _trend(period: Period, daily: list[dict], availability: Availability) -> dict:
    days = period.each_day()
    index = {day: n for n, day in enumerate(days)}
    series = {name: [0] * len(days) for name in ("shares", "posts", "clicks")}
    impressions = [0] * len(days) if any(availability.has(n, "impressions") for n in NETWORK_LABELS) else None
    engagement = [0] * len(days) if any(availability.has(n, "engagement") for n in NETWORK_LABELS) else None
    for row in daily:
        n = index[row["day"]]
        series["shares"][n] += row["shares"] or 0
        series["posts"][n] += row["published"] or 0
        series["clicks"][n] += row["clicks"] or 0
        if impressions is not None and availability.has(row["network"], "impressions"):
            impressions[n] += row["impressions"] or 0
        if engagement is not None:
            engagement[n] += _engagement(row, availability, row["network"]) or 0
    return {"days": [day.isoformat() for day in days], **series, "engagement": engagement, "impressions": impressions}


def _by_network(rows: dict[str, dict], availability: Availability, rates: AnalyticsSettings) -> list[dict]:
    out = []
    for network in NETWORKS:
        row = rows.get(network.value)
        if row is None:
            continue
        impressions = _impressions(row, availability, network.value)
        cpm = rates.cpm(network.value)
        out.append(
            {
                "network": network.value,
                "label": network.label,
                "posts": row["published"] or 0,
                "impressions": impressions,
                "engagement": _engagement(row, availability, network.value),
                "clicks": row["clicks"] or 0,
                "unique_clicks": row["unique_clicks"] or 0,
                "emv": money(Decimal(impressions) / 1000 * cpm)
                if impressions is not None and cpm is not None
                else None,
            }
        )
    return out


def _by_team(rows: list[dict], names: dict[int, str], availability: Availability) -> list[dict]:
    teams: dict[int, dict] = {}
    for row in rows:
        team = teams.setdefault(
            row["team_key"],
            {
                "team_id": row["team_key"] or None,
                "name": names.get(row["team_key"], "No team") if row["team_key"] else "No team",
                "shares": 0,
                "posts": 0,
                "clicks": 0,
                "impressions": None,
                "engagement": None,
            },
        )
        team["shares"] += row["shares"] or 0
        team["posts"] += row["published"] or 0
        team["clicks"] += row["clicks"] or 0
        if row["network"]:
            team["impressions"] = _add(team["impressions"], _impressions(row, availability, row["network"]))
            team["engagement"] = _add(team["engagement"], _engagement(row, availability, row["network"]))
    return sorted(teams.values(), key=lambda t: (-t["posts"], -t["shares"], t["name"]))


def _item_row(row: dict, availability: Availability) -> dict:
    any_engagement = any(availability.has(n, "engagement") for n in NETWORK_LABELS)
    return {
        "item_id": row["item_id"],
        "title": row["item__title"],
        "shares": row["shares"] or 0,
        "posts": row["published"] or 0,
        "clicks": row["clicks"] or 0,
        "engagement": sum(row[name] or 0 for name in ENGAGEMENT) if any_engagement else None,
    }


def _person_row(row: dict) -> dict:
    counters = [row[name] for name in ENGAGEMENT]
    return {
        "user_id": row["user_id"],
        "name": row["user__name"] or row["user__email"],
        "shares": row["shares"] or 0,
        "posts": row["posts"] or 0,
        "clicks": row["clicks"] or 0,
        "engagement": None if all(c is None for c in counters) else sum(c or 0 for c in counters),
    }
