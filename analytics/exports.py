"""The executive report as CSV and PDF: the same dict the page renders, no second query.

The CSV is a data file for spreadsheets and scripts, in one neutral format whatever the
viewer's language: English words (labels, notes, column names: stable names a script can
rely on; the view builds the report under `CSV_LANGUAGE`), dates in ISO 8601 (YYYY-MM-DD,
the organization's local days), numbers as plain digits with a dot for decimals and no
grouping (12345.50), changes as "+2.0 pts" / "-8.8%", "not available" and "not set" as
words. The PDF is for people: in the viewer's language and its number and date formats.
"""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape as xml_escape

from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, pgettext
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from advocacy import csvsafe
from analytics.formatting import (
    NOT_AVAILABLE,
    NOT_COMPARABLE,
    NOT_SET,
    basis_word,
    change,
    coverage_words,
    figure,
    lead_sentence,
    ordered,
    outcome,
    outcome_tables,
)

OUTCOME_COLUMNS = ("conversions", "conversion_value", "won_revenue", "pipeline")  # of each outcomes table
CSV_LANGUAGE = "en"  # the CSV's words, whatever the viewer reads (see the module's docstring)


def _neutral_change(moved: dict) -> str:
    """The change as the CSV writes it: "+2.0 pts", "-8.8%", never grouped."""
    if moved["points"] is not None:
        return f"{moved['points']:+} pts"
    return "" if moved["percent"] is None else f"{moved['percent']:+}%"


def report_csv(report: dict) -> str:
    """Sections one after the other: figures (measured outcomes first), the outcomes per team,
    network, item and employee with the attribution rule, by network, by team, top content,
    top advocates, per day. Values are plain numbers, "not available" or "not set"."""
    out = io.StringIO()
    w = csvsafe.writer(out)
    period, previous = report["period"], report["previous_period"]
    w.writerow(["period", period["start"], period["end"], "compared with", previous["start"], previous["end"]])
    w.writerow(["currency", report["currency"]])
    w.writerow([])
    w.writerow(["figure", "value", "previous period", "change", "measured or estimated", "coverage", "note"])
    for f in ordered(report["figures"]):
        w.writerow(
            [
                f["label"],
                _number(f["value"]),
                _number(f["previous"]),
                _neutral_change(f["change"]) or NOT_COMPARABLE,
                f["basis"],
                coverage_words(f),
                f["note"].strip(),
            ]
        )
    w.writerow([])
    w.writerow(["attribution rule", report["outcomes"]["rule"]])
    for table in outcome_tables(report):
        w.writerow([])
        w.writerow(
            [
                f"outcomes {table['title'].lower()}",
                "conversions",
                "conversion value",
                "won revenue (attributed)",
                "pipeline (attributed, open deals)",
            ]
        )
        for r in table["rows"] + ([table["rest"]] if table["rest"] else []):
            w.writerow([r["name"], *(_outcome(r[name]) for name in OUTCOME_COLUMNS)])
    w.writerow([])
    w.writerow(["network", "posts", "impressions", "engagement", "clicks", "unique clicks", "conversions", "EMV"])
    for r in report["by_network"]:
        w.writerow(
            [
                r["label"],
                r["posts"],
                _number(r["impressions"]),
                _number(r["engagement"]),
                r["clicks"],
                r["unique_clicks"],
                r["conversions"],
                f"left out: {r['emv_left_out']}" if r["emv_left_out"] else _number(r["emv"]),
            ]
        )
    w.writerow([])
    w.writerow(["team", "shares", "posts", "clicks", "impressions", "engagement", "conversions"])
    for r in report["by_team"]:
        w.writerow(
            [
                r["name"],
                r["shares"],
                r["posts"],
                r["clicks"],
                _number(r["impressions"]),
                _number(r["engagement"]),
                r["conversions"],
            ]
        )
    w.writerow([])
    w.writerow(["top content", "shares", "posts", "clicks", "engagement", "conversions"])
    for r in report["top_content"]:
        w.writerow([r["title"], r["shares"], r["posts"], r["clicks"], _number(r["engagement"]), r["conversions"]])
    w.writerow([])
    outcomes = report["conversions"]
    w.writerow(["conversions not attributed", "conversions"])
    for r in outcomes["reasons"]:
        w.writerow([r["label"], r["conversions"]])
    w.writerow(["Waiting for their click to be recorded", outcomes["pending"]])
    w.writerow(["Events sent again (counted once)", outcomes["replays"]])
    w.writerow(["Values in another currency (not added)", outcomes["other_currency"]])
    w.writerow([])
    deals = report["deals"]
    w.writerow(["closed-won deals not attributed", "deals"])
    for r in deals["reasons"]:
        w.writerow([r["label"], r["deals"]])
    w.writerow(["Attributed, in another currency (not added)", deals["other_currency"]])
    w.writerow([])
    w.writerow(["top advocate", "shares", "posts", "clicks", "engagement"])
    for r in report["top_advocates"]:
        w.writerow([r["name"], r["shares"], r["posts"], r["clicks"], _number(r["engagement"])])
    w.writerow([])
    trend = report["trend"]
    w.writerow(["day", "shares", "posts", "clicks", "engagement", "impressions"])
    for n, day in enumerate(trend["days"]):
        engagement = trend["engagement"][n] if trend["engagement"] is not None else None
        impressions = trend["impressions"][n] if trend["impressions"] is not None else None
        w.writerow(
            [day, trend["shares"][n], trend["posts"][n], trend["clicks"][n], _number(engagement), _number(impressions)]
        )
    return out.getvalue()


def _table(rows: list[list], widths=None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 9),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f3f5f8")]),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _trend_chart(title: str, days: list[str], series: dict[str, list | None], *, bars: bool) -> Drawing:
    """A chart of the daily trend for the PDF, drawn by reportlab from the page's numbers
    (a series that is not available is left out and named under the title)."""
    drawn = {name: values for name, values in series.items() if values is not None}
    missing = [name for name, values in series.items() if values is None]
    drawing = Drawing(17 * cm, 6 * cm)
    chart = VerticalBarChart() if bars else HorizontalLineChart()
    chart.x, chart.y, chart.width, chart.height = 1.2 * cm, 1.0 * cm, 15 * cm, 4.0 * cm
    chart.data = [tuple(values) for values in drawn.values()] or [(0,) * len(days)]
    step = max(1, len(days) // 8)  # at most about 8 date labels under the axis
    chart.categoryAxis.categoryNames = [day[5:] if n % step == 0 else "" for n, day in enumerate(days)]
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    for n, colour in enumerate(CHART_COLOURS[: len(chart.data)]):
        if bars:
            chart.bars[n].fillColor = colour
        else:
            chart.lines[n].strokeColor = colour
    drawing.add(chart)
    legend = ", ".join(
        _("%(series)s (%(colour)s)") % {"series": name, "colour": _(colour)}
        for name, colour in zip(drawn, CHART_COLOUR_NAMES, strict=False)
    )
    if missing:
        legend += f"   ({', '.join(missing)}: {_(NOT_AVAILABLE)})"
    drawing.add(String(1.2 * cm, 5.5 * cm, f"{title}   {legend}", fontName="Helvetica", fontSize=8))
    return drawing


CHART_COLOURS = (colors.HexColor("#2f5fa7"), colors.HexColor("#e07b24"), colors.HexColor("#3a9a5b"))
CHART_COLOUR_NAMES = (gettext_noop("blue"), gettext_noop("orange"), gettext_noop("green"))


def _section(title: str, styles, *flowables) -> KeepTogether:
    """A heading and what follows kept on one page (a table longer than a page still splits,
    repeating its header row)."""
    return KeepTogether([Paragraph(title, styles["Heading2"]), *flowables])


def report_pdf(report: dict, *, organization_name: str) -> bytes:
    """A printable report: the lead, figures with their basis, coverage and notes, the daily
    charts, EMV formula and rates, cost, breakdowns. Each section is kept on one page."""
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=_("%(organization)s: advocacy ROI") % {"organization": organization_name},
        leftMargin=1.5 * cm,
        rightMargin=1.5 * cm,
    )
    period, previous, currency = report["period"], report["previous_period"], report["currency"]
    story = [
        Paragraph(
            _escape(_("%(organization)s: employee advocacy results") % {"organization": organization_name}),
            styles["Title"],
        ),
        Paragraph(
            _escape(
                ngettext(
                    "%(start)s to %(end)s (%(days)s day), compared with %(previous_start)s to %(previous_end)s.",
                    "%(start)s to %(end)s (%(days)s days), compared with %(previous_start)s to %(previous_end)s.",
                    period["days"],
                )
                % {
                    "start": _day(period["start"]),
                    "end": _day(period["end"]),
                    "days": period["days"],
                    "previous_start": _day(previous["start"]),
                    "previous_end": _day(previous["end"]),
                }
            ),
            styles["BodyText"],
        ),
        Spacer(1, 0.2 * cm),
        Paragraph(_escape(lead_sentence(report)), styles["BodyText"]),
        Spacer(1, 0.3 * cm),
    ]
    rows = [[_("Figure"), _("Value"), _("Previous"), _("Change"), _("Basis")]]
    for f in ordered(report["figures"]):
        rows.append(
            [
                f["label"],
                figure(f["value"], f["unit"], currency),
                figure(f["previous"], f["unit"], currency),
                change(f["change"]),
                basis_word(f["basis"])
                if f["coverage"]["complete"]
                else _("%(basis)s, partial") % {"basis": basis_word(f["basis"])},
            ]
        )
    notes = []
    for f in ordered(report["figures"]):
        words = " ".join(
            part
            for part in (
                f["note"].strip(),
                "" if f["coverage"]["complete"] else _("Partial: %(coverage)s") % {"coverage": coverage_words(f)},
            )
            if part
        )
        if words:
            notes.append(Paragraph(f"<b>{_escape(f['label'])}</b>: {_escape(words)}", small))
    story += [KeepTogether([_table(rows), Spacer(1, 0.3 * cm), *notes])]
    story.append(Paragraph(_escape(_("What the posts brought (measured)")), styles["Heading2"]))
    story.append(Paragraph(_escape(report["outcomes"]["rule"]), small))
    for table in outcome_tables(report):
        cells = [
            [
                table["heading"],
                _("Conversions"),
                _("Conversion value"),
                _("Won revenue (attributed)"),
                _("Pipeline (open)"),
            ]
        ]
        for r in table["rows"] + ([table["rest"]] if table["rest"] else []):
            cells.append(
                [
                    Paragraph(_escape(r["name"]), small),
                    outcome(r["conversions"]),
                    outcome(r["conversion_value"], "money", currency),
                    outcome(r["won_revenue"], "money", currency),
                    outcome(r["pipeline"], "money", currency),
                ]
            )
        if len(cells) == 1:
            cells.append([Paragraph(_escape(table["empty"]), small), "", "", "", ""])
        story.append(
            _section(
                _("Outcomes %(table)s") % {"table": table["title"].lower()},
                styles,
                _table(cells, widths=[5 * cm, 2.4 * cm, 3 * cm, 3.6 * cm, 3 * cm]),
            )
        )
    trend = report["trend"]
    story.append(
        _section(
            _("Over time"),
            styles,
            _trend_chart(
                _("Shares and posts per day"),
                trend["days"],
                {_("Shares"): trend["shares"], _("Posts"): trend["posts"]},
                bars=True,
            ),
            _trend_chart(
                _("Clicks and engagement per day"),
                trend["days"],
                {_("Clicks"): trend["clicks"], _("Engagement"): trend["engagement"]},
                bars=False,
            ),
            _trend_chart(_("Impressions per day"), trend["days"], {_("Impressions"): trend["impressions"]}, bars=False),
        )
    )
    emv, cost = report["emv"], report["cost"]
    rate_rows = [[_("Network"), _("Impressions"), f"CPM ({currency})", _("Clicks"), "EMV"]]
    for part in emv["parts"]:
        rate_rows.append(
            [
                part["label"],
                figure(part["impressions"]),
                _(NOT_SET) if part["cpm"] is None else figure(part["cpm"], "money", ""),
                figure(part["clicks"]),
                Paragraph(_escape(_("left out: %(why)s") % {"why": part["left_out"]}), small)
                if part["left_out"]
                else figure(part["value"], "money", ""),
            ]
        )
    cpc = (
        _(NOT_SET)
        if emv["cpc"] is None
        else _("%(amount)s a click") % {"amount": figure(emv["cpc"], "money", currency)}
    )
    story.append(
        _section(
            _("Earned media value"),
            styles,
            _table(rate_rows, widths=[3 * cm, 2.5 * cm, 2.5 * cm, 2 * cm, 7 * cm]),
            Paragraph(
                _escape(_("CPC: %(cpc)s. A network left out adds nothing and is not in the coverage.") % {"cpc": cpc}),
                small,
            ),
        )
    )
    cost_rows = [
        [_("Cost"), currency],
        [_("Licence (prorated)"), _money_or_not_set(cost["licence"])],
        [_("People's time (prorated)"), _money_or_not_set(cost["people"])],
        *[
            [
                _("%(network)s API: %(posts)s posts") % {"network": p["label"], "posts": figure(p["api_posts"])},
                _money_or_not_set(p["value"]),
            ]
            for p in cost["api_parts"]
        ],
        [
            _("Total of what is set") if cost["not_set"] and cost["total"] is not None else _("Total"),
            _money_or_not_set(cost["total"]),
        ],
    ]
    cost_words = (
        _("Not set, so not counted: %(missing)s.") % {"missing": ", ".join(cost["not_set"])} if cost["not_set"] else ""
    )
    story.append(_section(_("Program cost"), styles, _table(cost_rows), Paragraph(_escape(cost_words), small)))
    outcomes = report["conversions"]
    lost = [[_("Conversions not attributed"), _("Conversions")]]
    lost += [[r["label"], figure(r["conversions"])] for r in outcomes["reasons"]]
    lost += [[_("Waiting for their click to be recorded"), figure(outcomes["pending"])]]
    story.append(_section(_("Conversions not attributed"), styles, _table(lost)))
    deals = report["deals"]
    if deals["sources"]:
        unattributed = [[_("Closed-won deals not attributed"), _("Deals")]]
        unattributed += [[r["label"], figure(r["deals"])] for r in deals["reasons"]]
        unattributed += [[_("Attributed, in another currency (not added)"), figure(deals["other_currency"])]]
        story.append(_section(_("CRM deals not attributed"), styles, _table(unattributed)))
    net_rows = [[_("Network"), _("Posts"), _("Impressions"), _("Engagement"), _("Clicks"), _("Conversions")]]
    for r in report["by_network"]:
        counts = ("posts", "impressions", "engagement", "clicks", "conversions")
        net_rows.append([r["label"], *(figure(r[key]) for key in counts)])
    story.append(_section(_("By network"), styles, _table(net_rows)))
    for title, heading, rows, name, advocates in (
        (_("By team"), _("Team"), report["by_team"], "name", False),
        (_("Top content"), _("Content"), report["top_content"], "title", False),
        (_("Top advocates"), _("Advocate"), report["top_advocates"], "name", True),
    ):
        counts = ("shares", "posts", "clicks", "engagement", *(("conversions",) if not advocates else ()))
        table = [[heading, *(_(COUNT_HEADINGS[key]) for key in counts)]]
        table += [[Paragraph(_escape(r[name]), small), *(figure(r[key]) for key in counts)] for r in rows]
        story.append(_section(title, styles, _table(table, widths=[8 * cm, *([None] * len(counts))])))
    doc.build(story)
    return buffer.getvalue()


COUNT_HEADINGS = {
    "shares": gettext_noop("Shares"),
    "posts": gettext_noop("Posts"),
    "clicks": gettext_noop("Clicks"),
    "engagement": gettext_noop("Engagement"),
    "conversions": gettext_noop("Conversions"),
}


def _day(iso_day: str) -> str:
    """A day of the period in the reader's format: ISO in English ("2026-11-30"), the
    language's own elsewhere ("30/11/2026", "30.11.2026"): the format is in the catalogue."""
    return dateformat.format(
        date.fromisoformat(iso_day), pgettext("date format of the PDF report's period (Django date syntax)", "Y-m-d")
    )


def _money_or_not_set(value) -> str:
    return _(NOT_SET) if value is None else figure(value, "money", "")


def _outcome(value):
    """An outcomes cell: the number, or "not set" (no conversion key or no CRM), never 0."""
    return NOT_SET if value is None else value


def _number(value):
    """A number stays a number (the CSV writer neutralises strings only); None is "not available"."""
    return NOT_AVAILABLE if value is None else value


def _escape(text: str) -> str:
    """Every user string that reaches reportlab markup goes through here (issue 15, point 7)."""
    return xml_escape(str(text), {'"': "&quot;"})
