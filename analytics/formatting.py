"""One way to write a dashboard number, shared by the pages, the CSV and the PDF."""

from __future__ import annotations

from decimal import Decimal

NOT_AVAILABLE = "not available"
NOT_COMPARABLE = "not comparable"


def figure(value, unit: str = "count", currency: str = "") -> str:
    """`None` is "not available" (never 0); counts get thousands separators; money two decimals."""
    if value is None:
        return NOT_AVAILABLE
    if unit == "percent":
        return f"{Decimal(str(value)):,.1f}%"
    if unit == "money":
        return f"{currency} {Decimal(value):,.2f}".strip()
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return f"{value:,}"


def raw(value) -> str:
    """Machine-readable (CSV): plain digits, or "not available"."""
    return NOT_AVAILABLE if value is None else str(value)


def change(moved: dict) -> str:
    """A figure's move against the previous period, as `periods.change` gives it: "+2.0 pts"
    for a rate, "-8.8%" for anything else, "" when it cannot be said (nothing before)."""
    if moved["points"] is not None:
        return f"{moved['points']:+} pts"
    return "" if moved["percent"] is None else f"{moved['percent']:+}%"


def coverage_words(f: dict) -> str:
    """What a figure includes, in words: "complete", or what it leaves out ("X only, 33.3%
    of posts; LinkedIn (12 posts) does not report impressions to this app.")."""
    return "complete" if f["coverage"]["complete"] else f["coverage"]["text"]


NOT_SET = "not set"
# What leads when ROI covers too little (conversions only where the organization reports them).
LEAD_MEASURED = ("conversions", "posts", "clicks", "unique_clicks", "engagement")


def lead_sentence(report: dict) -> str:
    """The report's first sentence, the same on the page, in the PDF and in the weekly e-mail:
    ROI when it covers enough of the posts (`report["lead"] == "roi"`), else the measured
    results, with why ROI does not lead."""
    figures = {f["key"]: f for f in report["figures"]}
    roi = figures["roi"]
    shown_roi = figure(roi["value"], "percent")
    if report["lead"] == "roi":
        covers = "all posts" if roi["coverage"]["complete"] else f"{roi['coverage']['posts_percent']}% of posts"
        return f"ROI (estimated) over {covers}: {shown_roi}."
    measured = ", ".join(
        f"{figure(figures[key]['value'])} {figures[key]['label'].lower()}"
        for key in LEAD_MEASURED
        if not figures[key]["not_set"]
    )
    if roi["value"] is None:
        why = "its inputs are not set" if roi["not_set"] else "no post of the period is on a network EMV can value"
        return f"Measured results: {measured}. ROI is not shown: {why}."
    return (
        f"Measured results: {measured}. ROI ({shown_roi}, estimated) covers only "
        f"{roi['coverage']['posts_percent']}% of posts (under {report['roi_min_coverage']}%), so it does not lead."
    )


# The measured outcomes lead every output (page, CSV, PDF, weekly e-mail): what the posts
# brought, then the other measured figures, then the estimates (EMV, cost, ROI).
OUTCOMES = ("conversions", "conversion_value", "won_revenue", "pipeline", "revenue_roi")


def ordered(figures: list[dict]) -> list[dict]:
    """The report's figures in the order every output shows them: measured outcomes first,
    then the other measured figures, then the estimated ones (each group in report order)."""
    outcomes = [f for key in OUTCOMES for f in figures if f["key"] == key]
    measured = [f for f in figures if f["key"] not in OUTCOMES and f["basis"] == "measured"]
    estimated = [f for f in figures if f["key"] not in OUTCOMES and f["basis"] != "measured"]
    return outcomes + measured + estimated


def outcome(value, unit: str = "count", currency: str = "") -> str:
    """A cell of an outcomes table: None is "not set" (the organization reports no
    conversions or has no CRM yet), never 0; a measured 0 stays 0."""
    return NOT_SET if value is None else figure(value, unit, currency)


def figure_line(f: dict, currency: str, *, before: str = "week before") -> str:
    """A figure in one line of words (the weekly e-mail): value, the period before, the change,
    measured or estimated and what it covers ("complete" or what it leaves out), then its note
    (the attribution rule, the unattributed line, or what is not set)."""
    return (
        f"{f['label']}: {figure(f['value'], f['unit'], currency)} "
        f"({before}: {figure(f['previous'], f['unit'], currency)}, {change(f['change']) or NOT_COMPARABLE})"
        f" - {f['basis']}, {coverage_words(f)}. {f['note'].strip()}"
    ).strip()


def outcome_tables(report: dict) -> list[dict]:
    """The outcomes tables in the order the page, the CSV and the PDF show them, each with
    its rows and the line for the rows not listed (`report["outcomes"]`)."""
    o = report["outcomes"]
    return [
        {
            "key": "outcomes-by-team",
            "title": "By team",
            "heading": "Team",
            "rows": o["by_team"],
            "rest": None,
            "empty": "No posts in this period.",
        },
        {
            "key": "outcomes-by-network",
            "title": "By network",
            "heading": "Network",
            "rows": o["by_network"],
            "rest": None,
            "empty": "No posts in this period.",
        },
        {
            "key": "outcomes-by-item",
            "title": "By content item",
            "heading": "Content",
            "rows": o["by_item"],
            "rest": o["items_rest"],
            "empty": "No item brought a conversion or a won deal in this period.",
        },
        {
            "key": "outcomes-by-employee",
            "title": "By employee",
            "heading": "Employee",
            "rows": o["by_employee"],
            "rest": o["employees_rest"],
            "empty": "No employee's post brought a conversion or a won deal in this period.",
        },
    ]


# How an event name reads in a sentence (singular, plural); others read as sent ("demo", "demos").
EVENT_WORDS = {"signup": ("sign-up", "sign-ups"), "purchase": ("purchase", "purchases")}


def brought_sentence(events: list[dict], won_revenue, currency: str) -> str:
    """What an employee's posts brought, in words, as My stats says it: "Your posts brought
    3 sign-ups and EUR 12,400.00 in won deals." (won deals only when some are attributed);
    "" when nothing was measured yet."""
    parts = []
    for row in events:
        one, many = EVENT_WORDS.get(row["event_name"], (row["event_name"], f"{row['event_name']}s"))
        parts.append(f"{row['events']:,} {one if row['events'] == 1 else many}")
    if won_revenue:
        parts.append(f"{figure(won_revenue, 'money', currency)} in won deals")
    if not parts:
        return ""
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"Your posts brought {listed}."
