"""One way to write a dashboard number, shared by the pages, the e-mail, the CSV and the PDF.

Pages, the weekly e-mail and the PDF are for people: numbers are written in the reader's
language (the active one: the viewer's, or the recipient's inside `for_recipient`), grouped
and with its decimal separator (12,345.50 in English, 12 345,50 in French, 12.345,50 in
German, 12 345,50 in Spanish: Django's locale formats), the currency code placed as the
language places it. The CSV is a data file: `analytics.exports.report_csv` writes it in
English with plain numbers (see there), whatever the viewer's language.

The words "not available", "not set" and "not comparable" are English constants (the CSV's
neutral words); `figure` and the other writers for people translate them.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, ngettext_lazy

NOT_AVAILABLE = gettext_noop("not available")
NOT_COMPARABLE = gettext_noop("not comparable")


def number(value, decimals: int | None = None, *, grouped: bool = True) -> str:
    """`value` in the active language's format, grouped ("12,345.50" in English, "12.345,50"
    in German); `decimals` rounds half-even as Python's format does."""
    if decimals is not None:
        value = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    return formats.number_format(value, decimal_pos=decimals, use_l10n=True, force_grouping=grouped)


def percent(value, decimals: int | None = 1) -> str:
    """ "12.5%" in English, "12,5 %" in French (the language's sign and spacing)."""
    return _("%(number)s%%") % {"number": number(value, decimals)}


def money(amount, currency: str = "") -> str:
    """ "EUR 1,234.50" in English, "1 234,50 EUR" in French: two decimals, the code where the
    language puts it (no code: the number alone)."""
    shown = number(amount, 2)
    return _("%(currency)s %(amount)s") % {"currency": currency, "amount": shown} if currency else shown


def _signed(value) -> str:
    """A change with its sign, in the language's decimal separator, not grouped ("+1400.0%"
    as the CSV writes it, "+1400,0 %" in French)."""
    shown = number(abs(value), grouped=False)
    return ("-" if str(value).startswith("-") else "+") + shown


def figure(value, unit: str = "count", currency: str = "") -> str:
    """`None` is "not available" (never 0); counts get thousands separators; money two decimals."""
    if value is None:
        return _(NOT_AVAILABLE)
    if unit == "percent":
        return percent(value)
    if unit == "money":
        return money(value, currency)
    if isinstance(value, Decimal):
        return number(value, 2)
    return number(value)


def raw(value) -> str:
    """Machine-readable (CSV): plain digits, or "not available"."""
    return NOT_AVAILABLE if value is None else str(value)


def change(moved: dict) -> str:
    """A figure's move against the previous period, as `periods.change` gives it: "+2.0 pts"
    for a rate, "-8.8%" for anything else, "" when it cannot be said (nothing before)."""
    if moved["points"] is not None:
        return _("%(points)s pts") % {"points": _signed(moved["points"])}
    return "" if moved["percent"] is None else _("%(number)s%%") % {"number": _signed(moved["percent"])}


def coverage_words(f: dict) -> str:
    """What a figure includes, in words: "complete", or what it leaves out ("X only, 33.3%
    of posts; LinkedIn (12 posts) does not report impressions to this app.")."""
    return _("complete") if f["coverage"]["complete"] else f["coverage"]["text"]


NOT_SET = gettext_noop("not set")
# What leads when ROI covers too little (conversions only where the organization reports them).
LEAD_MEASURED = ("conversions", "posts", "clicks", "unique_clicks", "engagement")


# Each measured figure as counted words ("591 clicks"): a plural of its own in each language,
# since a label with a number in front is not a plural ("1 564 interacción" in Spanish).
MEASURED_WORDS = {
    "conversions": ngettext_lazy("%(value)s conversion", "%(value)s conversions", "count"),
    "posts": ngettext_lazy("%(value)s post", "%(value)s posts", "count"),
    "clicks": ngettext_lazy("%(value)s click", "%(value)s clicks", "count"),
    "unique_clicks": ngettext_lazy("%(value)s unique click", "%(value)s unique clicks", "count"),
    # Uncountable in English: the same words for one and many.
    "engagement": ngettext_lazy("%(value)s engagement", "%(value)s engagement", "count"),
}


def lead_sentence(report: dict) -> str:
    """The report's first sentence, the same on the page, in the PDF and in the weekly e-mail:
    ROI when it covers enough of the posts (`report["lead"] == "roi"`), else the measured
    results, with why ROI does not lead."""
    figures = {f["key"]: f for f in report["figures"]}
    roi = figures["roi"]
    shown_roi = figure(roi["value"], "percent")
    if report["lead"] == "roi":
        if roi["coverage"]["complete"]:
            return _("ROI (estimated) over all posts: %(roi)s.") % {"roi": shown_roi}
        return _("ROI (estimated) over %(posts_percent)s of posts: %(roi)s.") % {
            "posts_percent": percent(roi["coverage"]["posts_percent"], None),
            "roi": shown_roi,
        }
    measured = ", ".join(
        MEASURED_WORDS[key] % {"count": int(figures[key]["value"] or 0), "value": figure(figures[key]["value"])}
        for key in LEAD_MEASURED
        if not figures[key]["not_set"]
    )
    if roi["value"] is None:
        if roi["not_set"]:
            return _("Measured results: %(measured)s. ROI is not shown: its inputs are not set.") % {
                "measured": measured
            }
        return _(
            "Measured results: %(measured)s. ROI is not shown: no post of the period is on a network EMV can value."
        ) % {"measured": measured}
    return _(
        "Measured results: %(measured)s. ROI (%(roi)s, estimated) covers only %(posts_percent)s of posts "
        "(under %(minimum)s%%), so it does not lead."
    ) % {
        "measured": measured,
        "roi": shown_roi,
        "posts_percent": percent(roi["coverage"]["posts_percent"], None),
        "minimum": report["roi_min_coverage"],
    }


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
    return _(NOT_SET) if value is None else figure(value, unit, currency)


def figure_line(f: dict, currency: str, *, before: str | None = None) -> str:
    """A figure in one line of words (the weekly e-mail): value, the period before, the change,
    measured or estimated and what it covers ("complete" or what it leaves out), then its note
    (the attribution rule, the unattributed line, or what is not set)."""
    return (
        _("%(figure)s: %(value)s (%(before)s: %(previous)s, %(change)s) - %(basis)s, %(coverage)s. %(note)s")
        % {
            "figure": f["label"],
            "value": figure(f["value"], f["unit"], currency),
            "before": _("week before") if before is None else before,
            "previous": figure(f["previous"], f["unit"], currency),
            "change": change(f["change"]) or _(NOT_COMPARABLE),
            "basis": basis_word(f["basis"]),
            "coverage": coverage_words(f),
            "note": f["note"].strip(),
        }
    ).strip()


BASIS_WORDS = {"measured": gettext_noop("measured"), "estimated": gettext_noop("estimated")}


def basis_word(basis: str) -> str:
    """ "measured" or "estimated" in the reader's language (the key stays English)."""
    return _(BASIS_WORDS[basis]) if basis in BASIS_WORDS else basis


def outcome_tables(report: dict) -> list[dict]:
    """The outcomes tables in the order the page, the CSV and the PDF show them, each with
    its rows and the line for the rows not listed (`report["outcomes"]`)."""
    o = report["outcomes"]
    return [
        {
            "key": "outcomes-by-team",
            "title": _("By team"),
            "heading": _("Team"),
            "rows": o["by_team"],
            "rest": None,
            "empty": _("No posts in this period."),
        },
        {
            "key": "outcomes-by-network",
            "title": _("By network"),
            "heading": _("Network"),
            "rows": o["by_network"],
            "rest": None,
            "empty": _("No posts in this period."),
        },
        {
            "key": "outcomes-by-item",
            "title": _("By content item"),
            "heading": _("Content"),
            "rows": o["by_item"],
            "rest": o["items_rest"],
            "empty": _("No item brought a conversion or a won deal in this period."),
        },
        {
            "key": "outcomes-by-employee",
            "title": _("By employee"),
            "heading": _("Employee"),
            "rows": o["by_employee"],
            "rest": o["employees_rest"],
            "empty": _("No employee's post brought a conversion or a won deal in this period."),
        },
    ]


def _events(name: str, count: int) -> str:
    """How an event name reads in a sentence: sign-ups and purchases in the reader's language,
    other names as the organization sends them ("demo", "demos")."""
    if name == "signup":
        return ngettext("%(count)s sign-up", "%(count)s sign-ups", count) % {"count": number(count)}
    if name == "purchase":
        return ngettext("%(count)s purchase", "%(count)s purchases", count) % {"count": number(count)}
    return f"{number(count)} {name if count == 1 else f'{name}s'}"  # untranslated: the organization's own event name


def brought_sentence(events: list[dict], won_revenue, currency: str) -> str:
    """What an employee's posts brought, in words, as My stats says it: "Your posts brought
    3 sign-ups and EUR 12,400.00 in won deals." (won deals only when some are attributed);
    "" when nothing was measured yet."""
    parts = [_events(row["event_name"], row["events"]) for row in events]
    if won_revenue:
        parts.append(_("%(amount)s in won deals") % {"amount": figure(won_revenue, "money", currency)})
    if not parts:
        return ""
    if len(parts) == 1:
        return _("Your posts brought %(what)s.") % {"what": parts[0]}
    return _("Your posts brought %(list)s and %(last)s.") % {"list": ", ".join(parts[:-1]), "last": parts[-1]}
