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
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from accounts.models import Membership, Network, Team, User
from advocacy.sql import tenant_dicts
from analytics.formatting import money as money_words
from analytics.formatting import number, percent
from analytics.models import (
    AdvocateDailyStats,
    AdvocateWindowStats,
    AnalyticsSettings,
    ClickDiscardReason,
    ContentDailyStats,
    Conversion,
    ConversionKey,
    ConversionStatus,
    CrmConnection,
    DailyAuthorOutcome,
    DailyClickDiscard,
    DailyItemSummary,
    DailySummary,
    Deal,
    DealReason,
    DealStatus,
    MetricAvailability,
    UnattributedReason,
)
from analytics.selectors.freshness import stats_updated_at
from analytics.selectors.periods import Period, change
from content.models import ContentItem

# Why a network's posts are left out of a figure, by the counter it does not report.
REPORTS_NOTHING = {
    "impressions": gettext_noop("does not report impressions to this app"),
    "engagement": gettext_noop("does not report engagement to this app"),
}

QUERIES = 12  # asserted by the tests; the page adds its own fixed few (session, membership)

NETWORKS = [choice for choice in Network]
NETWORK_LABELS = dict(Network.choices)
ENGAGEMENT = ("likes", "comments", "reposts")
CONVERSIONS = ("conversions", "conversion_value")
REVENUE = ("won_revenue", "pipeline")
SUMS = (
    "shares",
    "published",
    "api_posts",
    "api_link_posts",
    "clicks",
    "unique_clicks",
    *ENGAGEMENT,
    "impressions",
    *CONVERSIONS,
    *REVENUE,
)
ITEM_SUMS = ("shares", "published", "clicks", *ENGAGEMENT, *CONVERSIONS)  # what the top content table shows
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


ROI_MIN_COVERAGE = 50  # % of posts: below it the page leads with the measured figures


def _percent(part: int, whole: int) -> float | None:
    return None if not whole else round(part * 100 / whole, 1)


def coverage(per_network: dict[str, dict], included: list[str], reasons: dict[str, str] | None = None) -> dict:
    """Which networks and what share of the period's posts a figure includes.

    `included` are network values; `reasons` says why each other network with posts is left
    out ("does not report impressions to this app", "no CPM set"). A figure over every post
    (or over no post at all) is complete."""
    reasons = reasons or {}
    posts = {network: row["published"] or 0 for network, row in per_network.items() if row["published"]}
    total = sum(posts.values())
    covered = sum(count for network, count in posts.items() if network in included)
    left_out = [
        {"network": n.value, "label": n.label, "posts": posts[n.value], "reason": reasons.get(n.value, "")}
        for n in NETWORKS
        if n.value in posts and n.value not in included
    ]
    names = [n.label for n in NETWORKS if n.value in included and n.value in posts]
    complete = not left_out
    if complete:
        text = ""
    elif not names:
        text = _("No post of the period: %(left_out)s.") % {
            "left_out": "; ".join(f"{o['label']} {o['reason']}".strip() for o in left_out)
        }
    else:
        text = _("%(networks)s only, %(posts_percent)s of posts; %(left_out)s.") % {
            "networks": _and(names),
            "posts_percent": percent(_percent(covered, total), None),
            "left_out": "; ".join(
                (
                    ngettext(
                        "%(network)s (%(posts)s post) %(reason)s",
                        "%(network)s (%(posts)s posts) %(reason)s",
                        o["posts"],
                    )
                    % {"network": o["label"], "posts": number(o["posts"]), "reason": o["reason"]}
                ).strip()
                for o in left_out
            ),
        }
    return {
        "complete": complete,
        "posts": total,
        "covered_posts": covered,
        "posts_percent": 100.0 if complete else _percent(covered, total),
        "networks": names,
        "left_out": left_out,
        "text": text,
    }


def _and(names: list[str]) -> str:
    if len(names) == 1:
        return names[0]
    return _("%(list)s and %(last)s") % {"list": ", ".join(names[:-1]), "last": names[-1]}


COMPLETE = {
    "complete": True,
    "posts": None,
    "covered_posts": None,
    "posts_percent": 100.0,
    "networks": [],
    "left_out": [],
    "text": "",
}


def emv_of(per_network: dict[str, dict], rates: AnalyticsSettings, availability: Availability) -> dict:
    """Earned media value over the networks it can value completely.

    EMV of a network = its impressions / 1000 x its CPM + its clicks x CPC. When the
    organization values impressions (any CPM set), a network whose impressions are not
    available or whose CPM is not set is *left out* (its EMV is not counted as 0 and its
    posts are not in the coverage); when no CPM is set, EMV is clicks x CPC on every network.
    Neither a CPM nor a CPC set: EMV is not set (value None)."""
    values_impressions = any(rates.cpm(n.value) is not None for n in NETWORKS)
    values_clicks = rates.cpc is not None
    parts, included, reasons = [], [], {}
    value, clicks = Decimal(0), 0
    for network in NETWORKS:
        row = per_network.get(network.value)
        impressions = _impressions(row, availability, network.value) if row else None
        cpm = rates.cpm(network.value)
        network_clicks = (row["clicks"] or 0) if row else 0
        part = impressions_value = clicks_value = None
        if not values_impressions:
            reason = ""
        elif impressions is None and row:
            reason = _("does not report impressions to this app")
        elif cpm is None and row:
            reason = _("has no CPM set")
        else:
            reason = ""
        if row and not reason and (values_impressions or values_clicks):
            included.append(network.value)
            impressions_value = money(Decimal(impressions or 0) / 1000 * cpm) if values_impressions else None
            clicks_value = money(Decimal(network_clicks) * rates.cpc) if values_clicks else None
            part = money((impressions_value or 0) + (clicks_value or 0))
            value += part
            clicks += network_clicks
        elif reason:
            reasons[network.value] = reason
        parts.append(
            {
                "network": network.value,
                "label": network.label,
                "impressions": impressions,
                "cpm": cpm,
                "clicks": network_clicks,
                "impressions_value": impressions_value,
                "clicks_value": clicks_value,
                "value": part,
                "left_out": reason,
            }
        )
    is_set = values_impressions or values_clicks
    return {
        "value": money(value) if is_set else None,
        "not_set": not is_set,
        "parts": parts,
        "clicks": clicks,
        "cpc": rates.cpc,
        "clicks_value": money(clicks * rates.cpc) if is_set and values_clicks else None,
        "coverage": coverage(per_network, included, reasons) if is_set else COMPLETE,
    }


def cost_of(period: Period, per_network: dict[str, dict], rates: AnalyticsSettings) -> dict:
    """Program cost for the period: licence and people's time prorated by days (a month is
    365/12 days), plus the per-post API charges (X: the with-link price for posts whose text
    carries a link, which every tracked post does).

    A part whose rate is not set is None ("not set") and named in `not_set`; the total is
    the sum of the parts that are set (None when none is), never a 0 standing for "unknown"."""
    months = Decimal(period.days) / DAYS_PER_MONTH
    licence = money(rates.licence_per_month * months) if rates.licence_per_month is not None else None
    people = None
    if rates.people_hours_per_month is not None and rates.people_hourly_cost is not None:
        people = money(rates.people_hours_per_month * rates.people_hourly_cost * months)
    not_set = [name for name, part in ((_("Licence"), licence), (_("People's time"), people)) if part is None]
    api_parts, api, api_set = [], Decimal(0), False
    for network in NETWORKS:
        row = per_network.get(network.value) or {"api_posts": 0, "api_link_posts": 0}
        posts, link_posts = row["api_posts"] or 0, row["api_link_posts"] or 0
        plain_rate = getattr(rates, f"api_post_cost_{network.value}")
        link_rate = rates.api_link_post_cost_x if network == Network.X else None
        groups = (
            [(link_posts, link_rate), (posts - link_posts, plain_rate)]
            if link_rate is not None
            else [(posts, plain_rate)]
        )
        charge = None
        if any(count and rate is None for count, rate in groups):
            not_set.append(_("%(network)s API charge") % {"network": network.label})
        elif any(rate is not None for _count, rate in groups):
            charge = money(sum(count * rate for count, rate in groups if rate is not None))
            api += charge
            api_set = True
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
    is_set = licence is not None or people is not None or api_set
    return {
        "licence": licence,
        "people": people,
        "api": money(api) if api_set else None,
        "api_parts": api_parts,
        "total": money((licence or 0) + (people or 0) + api) if is_set else None,
        "not_set": not_set,
        "months": months.quantize(Decimal("0.001")),
    }


def roi_of(emv: dict, cost: dict) -> dict:
    """ROI over what EMV covers: (EMV of the covered posts - their share of the program
    cost) ÷ that share, in %. The cost is shared out by posts: with 62% of posts covered,
    62% of the cost. None when EMV or the cost is not set or no post is covered."""
    covered = emv["coverage"]
    if emv["value"] is None or not cost["total"] or covered["posts_percent"] == 0:
        return {"value": None, "cost_share": None}
    share = Decimal(1) if covered["complete"] else Decimal(covered["covered_posts"]) / covered["posts"]
    cost_share = money(cost["total"] * share)
    if not cost_share:
        return {"value": None, "cost_share": None}
    return {"value": round((emv["value"] - cost_share) / cost_share * 100, 1), "cost_share": cost_share}


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
        "conversions": sum(row["conversions"] or 0 for row in per_network.values()),
        "conversion_value": cents(sum(row["conversion_value"] or 0 for row in per_network.values())),
        "won_revenue": cents(sum(row["won_revenue"] or 0 for row in per_network.values())),
        "pipeline": cents(sum(row["pipeline"] or 0 for row in per_network.values())),
    }


def cents(amount: int) -> Decimal:
    """Rollups keep money as whole cents: back to the currency's units."""
    return money(Decimal(amount) / 100)


def _figure(key, label, value, previous, basis, note="", unit="count", coverage=COMPLETE, not_set=False) -> dict:
    """One figure as every output shows it: value and the previous period's, the change,
    measured or estimated, its coverage (which networks and share of posts it includes:
    a partial figure says so) and `not_set` when an input the organization enters is
    missing (the page links to the settings)."""
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
        "coverage": coverage,
        "not_set": not_set,
    }


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
    params = {"start": period.start, "previous_start": previous.start, "end": period.end}
    rows = tenant_dicts(organization, _SUMMARY_CUTS_SQL, params)
    by_period = [row for row in rows if row["cut"] == _BY_PERIOD]
    daily = sorted((r for r in rows if r["cut"] == _BY_DAY), key=lambda r: (r["day"], r["network"]))
    teams = [row for row in rows if row["cut"] == _BY_TEAM]
    return by_period, daily, teams


# The TOP content items of the period by clicks + engagement: summed per item id (a hash
# aggregate over the day x item rows), ranked and cut, then joined to the few titles and to
# whether any post of the item published in the period reported an engagement counter
# (`ContentDailyStats` keeps NULL for a counter no post gave): an item none of whose posts
# reported one shows engagement "not available", never 0.
_TOP_ITEMS_SQL = """
WITH top AS (
    SELECT item_id, {sums}, SUM(clicks) + SUM(likes) + SUM(comments) + SUM(reposts) AS score
    FROM {table}
    WHERE organization_id = %(org)s AND day >= %(start)s AND day <= %(end)s
    GROUP BY item_id
    ORDER BY score DESC, published DESC, shares DESC, item_id
    LIMIT %(top)s
), reported AS (
    SELECT item_id, COUNT(likes) + COUNT(comments) + COUNT(reposts) AS engagement_reported
    FROM {stats}
    WHERE organization_id = %(org)s AND day >= %(start)s AND day <= %(end)s
      AND item_id IN (SELECT item_id FROM top)
    GROUP BY item_id
)
SELECT top.*, i.title AS item__title, COALESCE(reported.engagement_reported, 0) AS engagement_reported
FROM top
JOIN {items} i ON i.id = top.item_id AND i.organization_id = %(org)s
LEFT JOIN reported ON reported.item_id = top.item_id
ORDER BY top.score DESC, top.published DESC, top.shares DESC, top.item_id
""".format(  # noqa: S608 (identifiers from the models and SUMS)
    sums=", ".join(f"CAST(SUM({name}) AS BIGINT) AS {name}" for name in ITEM_SUMS),
    table=DailyItemSummary._meta.db_table,
    stats=ContentDailyStats._meta.db_table,
    items=ContentItem._meta.db_table,
)


def _top_items(organization, period: Period) -> list[dict]:
    return tenant_dicts(organization, _TOP_ITEMS_SQL, {"start": period.start, "end": period.end, "top": TOP})


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
        "start": period.start,
        "previous_start": previous.start,
        "end": period.end,
        "days": period.days,
        "top": TOP,
    }
    rows = tenant_dicts(organization, _ADVOCATES_SQL, params)
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
    outcomes = _conversion_outcomes(organization, period)  # query 9
    deal_outcomes = _deal_outcomes(organization, period)  # query 10
    no_revenue = not deal_outcomes["sources"]
    no_conversions = not outcomes["keys"] and not now["conversions"] and not before["conversions"]
    window = rates.attribution_window_days
    updated_at = stats_updated_at(organization, rollups=True)  # query 11

    emv_now, emv_before = emv_of(current_rows, rates, availability), emv_of(previous_rows, rates, availability)
    cost_now, cost_before = cost_of(period, current_rows, rates), cost_of(previous, previous_rows, rates)
    roi_now, roi_before = roi_of(emv_now, cost_now), roi_of(emv_before, cost_before)
    revenue_roi_now, revenue_roi_before = (
        revenue_roi(now["won_revenue"], cost_now),
        revenue_roi(before["won_revenue"], cost_before),
    )

    def rate(count):
        return None if not members else round(count * 100 / members, 1)

    def reported(metric: str) -> dict:
        included = [n for n in current_rows if availability.has(n, metric)]
        return coverage(current_rows, included, dict.fromkeys(current_rows, _(REPORTS_NOTHING[metric])))

    impressions_coverage, engagement_coverage = reported("impressions"), reported("engagement")
    cost_coverage = dict(COMPLETE)
    if cost_now["not_set"] and cost_now["total"] is not None:
        cost_coverage.update(
            complete=False, text=_("Not set, so not counted: %(missing)s.") % {"missing": _and(cost_now["not_set"])}
        )
    roi_coverage = dict(emv_now["coverage"])
    if roi_now["value"] is not None and not roi_coverage["complete"]:
        roi_coverage["text"] += " " + _("The cost is shared out the same way: %(posts_percent)s of it, %(amount)s.") % {
            "posts_percent": percent(roi_coverage["posts_percent"], None),
            "amount": money_words(roi_now["cost_share"], rates.currency),
        }
    roi_note = _("(EMV − program cost) ÷ program cost, over the posts EMV covers.")
    missing_inputs = [
        words
        for words, missing in (
            (_("a CPM or a CPC"), emv_now["not_set"]),
            (_("the program cost"), cost_now["total"] is None),
        )
        if missing
    ]
    if missing_inputs:
        roi_note += " " + _("Not set: enter %(inputs)s in the rates and costs.") % {"inputs": _and(missing_inputs)}
    figures = [
        _figure(
            "active_advocates",
            _("Active advocates"),
            advocates["current"],
            advocates["previous"],
            MEASURED,
            _("Members with at least one share (not cancelled or rejected) submitted in the period."),
        ),
        _figure(
            "participation_rate",
            _("Participation rate"),
            rate(advocates["current"]),
            rate(advocates["previous"]),
            MEASURED,
            _("Active advocates ÷ the %(members)s active employee members (today's count) of the program.")
            % {"members": number(members)},
            unit="percent",
        ),
        _figure(
            "shares",
            _("Shares"),
            _shares(by_period, True),
            _shares(by_period, False),
            MEASURED,
            _("Shares employees submitted (our records)."),
        ),
        _figure(
            "posts",
            _("Posts"),
            now["posts"],
            before["posts"],
            MEASURED,
            _("Posts published on the networks (our records), including assisted shares."),
        ),
        _figure(
            "impressions",
            _("Impressions"),
            now["impressions"],
            before["impressions"],
            MEASURED,
            _("Counted by the networks."),
            coverage=impressions_coverage,
        ),
        _figure(
            "engagement",
            _("Engagement"),
            now["engagement"],
            before["engagement"],
            MEASURED,
            _("Likes + comments + reposts, counted by the networks."),
            coverage=engagement_coverage,
        ),
        _figure(
            "clicks",
            _("Clicks"),
            now["clicks"],
            before["clicks"],
            MEASURED,
            _("Clicks on the tracked links, counted by our redirect (bots and previews excluded)."),
        ),
        _figure(
            "unique_clicks",
            _("Unique clicks"),
            now["unique_clicks"],
            before["unique_clicks"],
            MEASURED,
            _("One per visitor per link per day."),
        ),
        _figure(
            "conversions",
            _("Conversions"),
            None if no_conversions else now["conversions"],
            None if no_conversions else before["conversions"],
            MEASURED,
            _(
                "Events your site or CRM reported, each attributed to the last click on an employee's post at most "
                "%(days)s days before it (last click)."
            )
            % {"days": window}
            + (
                " "
                + _("%(count)s more were not attributed (see below).") % {"count": number(outcomes["not_attributed"])}
                if outcomes["not_attributed"]
                else ""
            )
            + (" " + _("Not set: create a conversion key and report events from your site.") if no_conversions else ""),
            not_set=no_conversions,
        ),
        _figure(
            "conversion_value",
            _("Conversion value"),
            None if no_conversions else now["conversion_value"],
            None if no_conversions else before["conversion_value"],
            MEASURED,
            _("The attributed conversions' values in %(currency)s.") % {"currency": rates.currency}
            + (
                " "
                + _("%(count)s values in another currency are not added (no exchange rate is guessed).")
                % {"count": number(outcomes["other_currency"])}
                if outcomes["other_currency"]
                else ""
            ),
            unit="money",
            not_set=no_conversions,
        ),
        _deal_figure(
            "won_revenue",
            _("Won revenue (attributed)"),
            now,
            before,
            no_revenue,
            _(
                "Closed-won CRM deals in %(currency)s on their close day, each traced through a conversion "
                "(its tracking code or its contact's e-mail) to an employee's post."
            )
            % {"currency": rates.currency},
            not_attributed=ngettext(
                "%(count)s closed-won deal is not attributed (see below).",
                "%(count)s closed-won deals are not attributed (see below).",
                deal_outcomes["not_attributed"],
            )
            % {"count": number(deal_outcomes["not_attributed"])}
            if deal_outcomes["not_attributed"]
            else "",
            other_currency=ngettext(
                "%(count)s attributed deal is in another currency, not added.",
                "%(count)s attributed deals are in another currency, not added.",
                deal_outcomes["other_currency"],
            )
            % {"count": number(deal_outcomes["other_currency"])}
            if deal_outcomes["other_currency"]
            else "",
        ),
        _deal_figure(
            "pipeline",
            _("Pipeline (attributed, open deals)"),
            now,
            before,
            no_revenue,
            _(
                "Open CRM deals in %(currency)s, attributed by the same rule as won revenue, on the day of their "
                "conversion; a deal that is won moves to won revenue, one that is lost leaves the pipeline."
            )
            % {"currency": rates.currency},
            not_attributed=ngettext(
                "%(count)s open deal is not attributed (all open deals, any date).",
                "%(count)s open deals are not attributed (all open deals, any date).",
                deal_outcomes["open_not_attributed"],
            )
            % {"count": number(deal_outcomes["open_not_attributed"])}
            if deal_outcomes["open_not_attributed"]
            else "",
            other_currency=ngettext(
                "%(count)s open attributed deal is in another currency, not added.",
                "%(count)s open attributed deals are in another currency, not added.",
                deal_outcomes["open_other_currency"],
            )
            % {"count": number(deal_outcomes["open_other_currency"])}
            if deal_outcomes["open_other_currency"]
            else "",
        ),
        _figure(
            "revenue_roi",
            _("Measured ROI (won revenue ÷ program cost)"),
            None if no_revenue else revenue_roi_now,
            None if no_revenue else revenue_roi_before,
            MEASURED,
            _(
                "Attributed won revenue ÷ the program cost of the period, in %: revenue measured from your CRM, "
                "the cost as you entered it."
            )
            + (" " + _("Not set: connect HubSpot or import deals from your CRM.") if no_revenue else "")
            + (" " + _("Not set: enter the program cost in the rates and costs.") if cost_now["total"] is None else ""),
            unit="percent",
            not_set=no_revenue or cost_now["total"] is None,
        ),
        _figure(
            "estimated_reach",
            _("Estimated reach"),
            None,
            None,
            ESTIMATED,
            _("Not available: follower counts at posting time are not recorded for any network."),
        ),
        _figure(
            "emv",
            _("Earned media value"),
            emv_now["value"],
            emv_before["value"],
            ESTIMATED,
            _("Σ impressions ÷ 1000 × the network's CPM + clicks × CPC, at the rates below.")
            + (" " + _("Not set: enter a CPM or a CPC in the rates and costs.") if emv_now["not_set"] else ""),
            unit="money",
            coverage=emv_now["coverage"],
            not_set=emv_now["not_set"],
        ),
        _figure(
            "program_cost",
            _("Program cost"),
            cost_now["total"],
            cost_before["total"],
            ESTIMATED,
            _("Licence and people's time prorated to the period, plus per-post API charges.")
            + (" " + _("Not set: enter the program cost in the rates and costs.") if cost_now["total"] is None else ""),
            unit="money",
            coverage=cost_coverage,
            not_set=cost_now["total"] is None,
        ),
        _figure(
            "roi",
            _("ROI"),
            roi_now["value"],
            roi_before["value"],
            ESTIMATED,
            roi_note,
            unit="percent",
            coverage=roi_coverage,
            not_set=bool(missing_inputs),
        ),
    ]
    roi_figure = next(f for f in figures if f["key"] == "roi")
    lead_with_roi = roi_figure["value"] is not None and (roi_coverage["posts_percent"] or 0) >= ROI_MIN_COVERAGE
    return {
        "period": period.as_dict(),
        "previous_period": previous.as_dict(),
        "currency": rates.currency,
        "members": members,
        "figures": figures,
        "lead": "roi" if lead_with_roi else "measured",
        "roi_min_coverage": ROI_MIN_COVERAGE,
        "emv": emv_now,
        "cost": cost_now,
        "rates": {name: getattr(rates, name) for name in AnalyticsSettings.RATE_FIELDS},
        "availability": availability.by_network,
        "trend": _trend(period, daily, availability),
        "by_network": _by_network(current_rows, availability, emv_now),
        "by_team": _by_team(teams_rows, team_names, availability),
        "top_content": [_item_row(row) for row in top_items],
        "top_advocates": [_person_row(row) for row in top_people],
        "discarded_clicks": discarded,
        "conversions": outcomes,
        "updated_at": updated_at,
        "deals": deal_outcomes,
        "outcomes": outcomes_of(  # query 12
            organization,
            period,
            current_rows=current_rows,
            teams_rows=teams_rows,
            team_names=team_names,
            conversions_set=not no_conversions,
            revenue_set=not no_revenue,
            window_days=window,
        ),
    }


def revenue_roi(won_revenue, cost: dict) -> float | None:
    """Measured ROI: attributed won revenue ÷ the period's program cost, in %. None when the
    cost is not set or 0."""
    if not cost["total"]:
        return None
    return round(float(Decimal(won_revenue) / cost["total"] * 100), 1)


_DEAL_OUTCOMES_SQL = f"""
SELECT status, reason, COUNT(*) AS deals,
       SUM(CASE WHEN status = 'attributed' AND NOT amount_counted AND amount IS NOT NULL THEN 1 ELSE 0 END)
           AS other_currency
FROM {Deal._meta.db_table}
WHERE organization_id = %(org)s AND is_won AND close_date >= %(start)s AND close_date <= %(end)s
GROUP BY status, reason
UNION ALL
SELECT 'open', status, COUNT(*),
       SUM(CASE WHEN status = 'attributed' AND NOT amount_counted AND amount IS NOT NULL THEN 1 ELSE 0 END)
FROM {Deal._meta.db_table}
WHERE organization_id = %(org)s AND NOT is_closed
GROUP BY status
UNION ALL
SELECT 'sources', '',
       (SELECT COUNT(*) FROM {CrmConnection._meta.db_table} WHERE organization_id = %(org)s)
       + (SELECT COUNT(*) FROM (SELECT 1 FROM {Deal._meta.db_table} WHERE organization_id = %(org)s LIMIT 1) AS one),
       0
"""  # noqa: S608 (model tables)


def _deal_outcomes(organization, period: Period) -> dict:
    """The period's closed-won CRM deals (by close date) by outcome: attributed, the
    unattributed ones by reason, attributed ones in another currency (not added); the open
    deals (pipeline, whatever their date: an unattributed one has no conversion day) not
    attributed or in another currency; and whether the organization has any source of
    deals at all (a connected CRM or deals)."""
    rows = tenant_dicts(organization, _DEAL_OUTCOMES_SQL, {"start": period.start, "end": period.end})
    sources = next((int(row["deals"]) for row in rows if row["status"] == "sources"), 0)
    open_deals = [row for row in rows if row["status"] == "open"]
    deals = [row for row in rows if row["status"] not in ("sources", "open")]
    by_reason = {row["reason"]: int(row["deals"]) for row in deals if row["status"] == DealStatus.UNATTRIBUTED}
    reasons = [{"reason": r.value, "label": r.label, "deals": by_reason.get(r.value, 0)} for r in DealReason]
    return {
        "sources": sources,
        "won": sum(int(row["deals"]) for row in deals),
        "attributed": sum(int(row["deals"]) for row in deals if row["status"] == DealStatus.ATTRIBUTED),
        "not_attributed": sum(r["deals"] for r in reasons),
        "reasons": reasons,
        "other_currency": sum(int(row["other_currency"] or 0) for row in deals),
        "open_attributed": sum(int(row["deals"]) for row in open_deals if row["reason"] == DealStatus.ATTRIBUTED),
        "open_not_attributed": sum(int(row["deals"]) for row in open_deals if row["reason"] == DealStatus.UNATTRIBUTED),
        "open_other_currency": sum(int(row["other_currency"] or 0) for row in open_deals),
    }


_CONVERSION_OUTCOMES_SQL = f"""
SELECT status, reason, COUNT(*) AS events, SUM(replays) AS replays,
       SUM(CASE WHEN value IS NOT NULL AND NOT value_counted THEN 1 ELSE 0 END) AS other_currency
FROM {Conversion._meta.db_table}
WHERE organization_id = %(org)s AND day >= %(start)s AND day <= %(end)s
GROUP BY status, reason
UNION ALL
SELECT 'keys', '', COUNT(*), 0, 0
FROM {ConversionKey._meta.db_table} WHERE organization_id = %(org)s AND revoked_at IS NULL
"""  # noqa: S608 (model tables)


def _conversion_outcomes(organization, period: Period) -> dict:
    """The period's conversions by outcome, from the conversions of the period (never their
    history): the unattributed ones by reason, those still waiting for their click, how
    many times events were sent again, values in another currency, and whether the
    organization has an active conversion key at all."""
    rows = tenant_dicts(organization, _CONVERSION_OUTCOMES_SQL, {"start": period.start, "end": period.end})
    keys = next((row["events"] for row in rows if row["status"] == "keys"), 0)
    events = [row for row in rows if row["status"] != "keys"]
    by_reason = {row["reason"]: row["events"] for row in events if row["status"] == ConversionStatus.UNATTRIBUTED}
    reasons = [
        {"reason": reason.value, "label": reason.label, "conversions": int(by_reason.get(reason.value) or 0)}
        for reason in UnattributedReason
    ]
    pending = sum(row["events"] for row in events if row["status"] == ConversionStatus.PENDING)
    return {
        "keys": keys,
        "reported": sum(row["events"] for row in events),
        "not_attributed": sum(r["conversions"] for r in reasons) + pending,
        "reasons": reasons,
        "pending": pending,
        "replays": sum(int(row["replays"] or 0) for row in events),
        "other_currency": sum(int(row["other_currency"] or 0) for row in events),
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


def _by_network(rows: dict[str, dict], availability: Availability, emv: dict) -> list[dict]:
    parts = {part["network"]: part for part in emv["parts"]}
    out = []
    for network in NETWORKS:
        row = rows.get(network.value)
        if row is None:
            continue
        part = parts[network.value]
        out.append(
            {
                "network": network.value,
                "label": network.label,
                "posts": row["published"] or 0,
                "impressions": _impressions(row, availability, network.value),
                "engagement": _engagement(row, availability, network.value),
                "clicks": row["clicks"] or 0,
                "unique_clicks": row["unique_clicks"] or 0,
                "conversions": row["conversions"] or 0,
                "emv": part["value"],
                "emv_left_out": part["left_out"],
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
                "name": names.get(row["team_key"], _("No team")) if row["team_key"] else _("No team"),
                "shares": 0,
                "posts": 0,
                "clicks": 0,
                "conversions": 0,
                "impressions": None,
                "engagement": None,
            },
        )
        team["shares"] += row["shares"] or 0
        team["posts"] += row["published"] or 0
        team["clicks"] += row["clicks"] or 0
        team["conversions"] += row["conversions"] or 0
        if row["network"]:
            team["impressions"] = _add(team["impressions"], _impressions(row, availability, row["network"]))
            team["engagement"] = _add(team["engagement"], _engagement(row, availability, row["network"]))
    return sorted(teams.values(), key=lambda t: (-t["posts"], -t["shares"], t["name"]))


def _item_row(row: dict) -> dict:
    engagement = sum(row[name] or 0 for name in ENGAGEMENT)
    return {
        "item_id": row["item_id"],
        "title": row["item__title"],
        "shares": row["shares"] or 0,
        "posts": row["published"] or 0,
        "clicks": row["clicks"] or 0,
        "conversions": row["conversions"] or 0,
        "engagement": engagement if engagement or row["engagement_reported"] else None,
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


# --- Measured outcomes per team, network, item and employee (issue 17, point 4) --------------
#
# Teams and networks come from the summary cuts the report already reads (`DailySummary`
# carries conversions, their value and won revenue); items and employees from one more
# statement: the TOP items of `DailyItemSummary` and the TOP authors of `DailyAuthorOutcome`
# by won revenue, then conversions, each with how many rows had an outcome (a window count
# taken before the LIMIT) so the rest is said on one line. One statement whatever the number
# of teams, items or employees; rollups only, never raw conversions or deals.

OUTCOME_SUMS = ("conversions", "conversion_value", "won_revenue", "pipeline")

_OUTCOME_LEADERS_SQL = """
WITH items AS (
    SELECT item_id AS row_key, {sums}, COUNT(*) OVER () AS rows_total
    FROM {items_table}
    WHERE organization_id = %(org)s AND day >= %(start)s AND day <= %(end)s
      AND (conversions <> 0 OR conversion_value <> 0 OR won_revenue <> 0 OR pipeline <> 0)
    GROUP BY item_id
    HAVING SUM(conversions) <> 0 OR SUM(conversion_value) <> 0 OR SUM(won_revenue) <> 0 OR SUM(pipeline) <> 0
    ORDER BY won_revenue DESC, pipeline DESC, conversions DESC, item_id
    LIMIT %(top)s
), people AS (
    SELECT author_key AS row_key, {sums}, COUNT(*) OVER () AS rows_total
    FROM {authors_table}
    WHERE organization_id = %(org)s AND day >= %(start)s AND day <= %(end)s
    GROUP BY author_key
    HAVING SUM(conversions) <> 0 OR SUM(conversion_value) <> 0 OR SUM(won_revenue) <> 0 OR SUM(pipeline) <> 0
    ORDER BY won_revenue DESC, pipeline DESC, conversions DESC, author_key
    LIMIT %(top)s
)
SELECT 'item' AS kind, items.row_key, i.title AS name, '' AS email, {columns}, items.rows_total
FROM items JOIN {content_items} i ON i.id = items.row_key AND i.organization_id = %(org)s
UNION ALL
SELECT 'employee', people.row_key, COALESCE(u.name, ''), COALESCE(u.email, ''), {columns}, people.rows_total
FROM people LEFT JOIN {users} u ON u.id = people.row_key
""".format(  # noqa: S608 (identifiers from the models)
    sums=", ".join(f"CAST(SUM({name}) AS BIGINT) AS {name}" for name in OUTCOME_SUMS),
    columns=", ".join(OUTCOME_SUMS),
    items_table=DailyItemSummary._meta.db_table,
    authors_table=DailyAuthorOutcome._meta.db_table,
    content_items=ContentItem._meta.db_table,
    users=User._meta.db_table,
)


def _deal_figure(key, label, now, before, not_set: bool, words: str, *, not_attributed: str, other_currency: str):
    """A measured figure of CRM deals (won revenue, pipeline): "not set" without a CRM or an
    import, the deals left out named after the definition."""
    notes = " ".join(note for note in (not_attributed, other_currency) if note)
    return _figure(
        key,
        label,
        None if not_set else now[key],
        None if not_set else before[key],
        MEASURED,
        words
        + (f" {notes}" if notes else "")
        + (" " + _("Not set: connect HubSpot or import deals from your CRM.") if not_set else ""),
        unit="money",
        not_set=not_set,
    )


def attribution_rule(window_days: int) -> str:
    """The attribution rule in words, as every output states it."""
    return _(
        "Last click: a conversion counts for the post whose tracked link the visitor last clicked, at most "
        "%(days)s days before it; a closed-won deal counts for the post of its conversion (its tracking "
        "code or its contact's e-mail), in won revenue on its close day; an open deal counts for its post by the "
        "same rule, in the pipeline on its conversion's day, until it is won (then in won revenue) or lost."
    ) % {"days": window_days}


def _outcome_row(name: str, row: dict | None, conversions_set: bool, revenue_set: bool, **extra) -> dict:
    """One row of an outcomes table: counts and money in the organization's currency, None
    where the organization has not set up the source ("not set", never 0)."""
    row = row or {}
    return {
        **extra,
        "name": name,
        "conversions": int(row.get("conversions") or 0) if conversions_set else None,
        "conversion_value": cents(row.get("conversion_value") or 0) if conversions_set else None,
        "won_revenue": cents(row.get("won_revenue") or 0) if revenue_set else None,
        "pipeline": cents(row.get("pipeline") or 0) if revenue_set else None,
    }


def _summed(rows) -> dict:
    return {name: sum(int(row.get(name) or 0) for row in rows) for name in OUTCOME_SUMS}


def _rest(total: dict, listed: list[dict], rows_total: int, noun: str, conversions_set, revenue_set) -> dict | None:
    """The line under a TOP table: the outcomes of the rows not listed (total - listed)."""
    others = rows_total - len(listed)
    if others <= 0:
        return None
    rest = {name: total[name] - sum(int(row.get(name) or 0) for row in listed) for name in OUTCOME_SUMS}
    if noun == "item":
        name = ngettext("%(count)s other item", "%(count)s other items", others) % {"count": number(others)}
    else:
        name = ngettext("%(count)s other employee", "%(count)s other employees", others) % {"count": number(others)}
    return _outcome_row(name, rest, conversions_set, revenue_set)


def outcomes_of(
    organization,
    period: Period,
    *,
    current_rows: dict[str, dict],
    teams_rows: list[dict],
    team_names: dict[int, str],
    conversions_set: bool,
    revenue_set: bool,
    window_days: int,
) -> dict:
    """The period's measured outcomes (attributed conversions, their value, attributed won
    revenue and pipeline) per team, network, content item and employee, with the attribution rule in
    words. Each table adds up to the report's figures: the TOP items and employees are
    followed by one line for the others. One statement (items and employees)."""
    params = {"start": period.start, "end": period.end, "top": TOP}
    leaders = tenant_dicts(organization, _OUTCOME_LEADERS_SQL, params)
    total = _summed(current_rows.values())
    flags = {"conversions_set": conversions_set, "revenue_set": revenue_set}

    teams: dict[int, list[dict]] = {}
    for row in teams_rows:
        teams.setdefault(row["team_key"] or 0, []).append(row)
    by_team = [
        _outcome_row(
            team_names.get(key, _("No team")) if key else _("No team"), _summed(rows), team_id=key or None, **flags
        )
        for key, rows in teams.items()
        if any(row["network"] for row in rows)
    ]
    by_team.sort(key=lambda r: (-(r["won_revenue"] or 0), -(r["pipeline"] or 0), -(r["conversions"] or 0), r["name"]))
    by_network = [
        _outcome_row(network.label, current_rows[network.value], network=network.value, **flags)
        for network in NETWORKS
        if network.value in current_rows
    ]
    items = [row for row in leaders if row["kind"] == "item"]
    people = [row for row in leaders if row["kind"] == "employee"]
    return {
        "rule": attribution_rule(window_days),
        "window_days": window_days,
        **flags,
        "by_team": by_team,
        "by_network": by_network,
        "by_item": [_outcome_row(row["name"], row, item_id=row["row_key"], **flags) for row in items],
        "items_rest": _rest(total, items, items[0]["rows_total"] if items else 0, "item", **flags),
        "by_employee": [
            _outcome_row(
                row["name"] or row["email"] or _("Removed member"),
                row,
                user_id=row["row_key"] or None,
                **flags,
            )
            for row in people
        ],
        "employees_rest": _rest(total, people, people[0]["rows_total"] if people else 0, "employee", **flags),
    }
