"""The executive report as CSV and PDF: the same dict the page renders, no second query."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from advocacy import csvsafe
from analytics.formatting import NOT_AVAILABLE, change, figure


def report_csv(report: dict) -> str:
    """Sections one after the other: figures, by network, by team, top content, top
    advocates, per day. Values are plain numbers or "not available"."""
    out = io.StringIO()
    w = csvsafe.writer(out)
    period, previous = report["period"], report["previous_period"]
    w.writerow(["period", period["start"], period["end"], "compared with", previous["start"], previous["end"]])
    w.writerow(["currency", report["currency"]])
    w.writerow([])
    w.writerow(["figure", "value", "previous period", "change %", "measured or estimated", "note"])
    for f in report["figures"]:
        w.writerow(
            [
                f["label"],
                _number(f["value"]),
                _number(f["previous"]),
                _number(f["change"]["percent"]),
                f["basis"],
                f["note"].strip(),
            ]
        )
    w.writerow([])
    w.writerow(["network", "posts", "impressions", "engagement", "clicks", "unique clicks", "EMV from impressions"])
    for r in report["by_network"]:
        w.writerow(
            [
                r["label"],
                r["posts"],
                _number(r["impressions"]),
                _number(r["engagement"]),
                r["clicks"],
                r["unique_clicks"],
                _number(r["emv"]),
            ]
        )
    w.writerow([])
    w.writerow(["team", "shares", "posts", "clicks", "impressions", "engagement"])
    for r in report["by_team"]:
        w.writerow(
            [r["name"], r["shares"], r["posts"], r["clicks"], _number(r["impressions"]), _number(r["engagement"])]
        )
    w.writerow([])
    w.writerow(["top content", "shares", "posts", "clicks", "engagement"])
    for r in report["top_content"]:
        w.writerow([r["title"], r["shares"], r["posts"], r["clicks"], _number(r["engagement"])])
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


def report_pdf(report: dict, *, organization_name: str) -> bytes:
    """A printable report: figures with their basis and notes, EMV formula and rates, cost,
    breakdowns."""
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, title=f"{organization_name}: advocacy ROI", leftMargin=1.5 * cm, rightMargin=1.5 * cm
    )
    period, previous, currency = report["period"], report["previous_period"], report["currency"]
    story = [
        Paragraph(f"{_escape(organization_name)}: employee advocacy results", styles["Title"]),
        Paragraph(
            f"{period['start']} to {period['end']} ({period['days']} days), compared with "
            f"{previous['start']} to {previous['end']}.",
            styles["BodyText"],
        ),
        Spacer(1, 0.4 * cm),
    ]
    rows = [["Figure", "Value", "Previous", "Change", "Basis"]]
    for f in report["figures"]:
        rows.append(
            [
                f["label"],
                figure(f["value"], f["unit"], currency),
                figure(f["previous"], f["unit"], currency),
                change(f["change"]),
                f["basis"],
            ]
        )
    story += [_table(rows), Spacer(1, 0.3 * cm)]
    for f in report["figures"]:
        if f["note"].strip():
            story.append(Paragraph(f"<b>{f['label']}</b>: {_escape(f['note'].strip())}", small))
    emv, cost = report["emv"], report["cost"]
    story += [Spacer(1, 0.3 * cm), Paragraph("Earned media value and cost", styles["Heading2"])]
    rate_rows = [["Network", "Impressions", f"CPM ({currency})", "EMV"]]
    for part in emv["parts"]:
        rate_rows.append(
            [
                part["label"],
                figure(part["impressions"]),
                figure(part["cpm"], "money", ""),
                figure(part["value"], "money", ""),
            ]
        )
    rate_rows.append(
        [
            "Clicks x CPC",
            figure(emv["clicks"]),
            figure(emv["cpc"], "money", ""),
            figure(emv["clicks_value"], "money", ""),
        ]
    )
    story += [_table(rate_rows), Spacer(1, 0.2 * cm)]
    cost_rows = [
        ["Cost", currency],
        ["Licence (prorated)", figure(cost["licence"], "money", "")],
        ["People's time (prorated)", figure(cost["people"], "money", "")],
        ["Per-post API charges", figure(cost["api"], "money", "")],
        ["Total", figure(cost["total"], "money", "")],
    ]
    story += [_table(cost_rows), Spacer(1, 0.3 * cm)]
    story.append(Paragraph("By network", styles["Heading2"]))
    net_rows = [["Network", "Posts", "Impressions", "Engagement", "Clicks"]]
    for r in report["by_network"]:
        net_rows.append(
            [r["label"], figure(r["posts"]), figure(r["impressions"]), figure(r["engagement"]), figure(r["clicks"])]
        )
    story.append(_table(net_rows))
    story.append(Paragraph("By team", styles["Heading2"]))
    team_rows = [["Team", "Shares", "Posts", "Clicks", "Engagement"]]
    for r in report["by_team"]:
        team_rows.append(
            [r["name"], figure(r["shares"]), figure(r["posts"]), figure(r["clicks"]), figure(r["engagement"])]
        )
    story.append(_table(team_rows))
    story.append(Paragraph("Top content", styles["Heading2"]))
    item_rows = [["Content", "Shares", "Posts", "Clicks", "Engagement"]]
    for r in report["top_content"]:
        item_rows.append(
            [
                Paragraph(_escape(r["title"]), small),
                figure(r["shares"]),
                figure(r["posts"]),
                figure(r["clicks"]),
                figure(r["engagement"]),
            ]
        )
    story.append(_table(item_rows, widths=[8 * cm, None, None, None, None]))
    story.append(Paragraph("Top advocates", styles["Heading2"]))
    people_rows = [["Advocate", "Shares", "Posts", "Clicks", "Engagement"]]
    for r in report["top_advocates"]:
        people_rows.append(
            [r["name"], figure(r["shares"]), figure(r["posts"]), figure(r["clicks"]), figure(r["engagement"])]
        )
    story.append(_table(people_rows))
    doc.build(story)
    return buffer.getvalue()


def _number(value):
    """A number stays a number (the CSV writer neutralises strings only); None is "not available"."""
    return NOT_AVAILABLE if value is None else value


def _escape(text: str) -> str:
    """Every user string that reaches reportlab markup goes through here (issue 15, point 7)."""
    return xml_escape(str(text), {'"': "&quot;"})
