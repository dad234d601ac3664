"""Honest ROI (issue 17, point 1): every figure carries its coverage, a partial figure is
never shown as complete, a missing input says "not set" (never 0), ROI is computed over
what EMV covers and leads only when it covers enough posts, and the page, the CSV, the PDF
and the weekly e-mail write the same figures the same way."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from pypdf import PdfReader

from accounts.models import Role
from advocacy import csvsafe
from analytics import formatting
from analytics.digest import send_weekly_summaries
from analytics.selectors import roi
from analytics.selectors.content import content_performance
from analytics.selectors.periods import Period
from analytics.services import advocate_stats, conversions, roi_settings
from content.models import Delivery
from tests.accounts.factories import OrganizationFactory, TeamFactory, acting
from tests.analytics.factories import AdvocatePreferenceFactory
from tests.analytics.posts import AUCKLAND, auckland, post, share
from tests.analytics.test_outcomes import opened, signed_up, won
from tests.content.factories import ContentItemFactory, TopicFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

WEEK = Period(date(2026, 11, 9), date(2026, 11, 15))  # Monday to Sunday, local
QUERY = "?start=2026-11-09&end=2026-11-15"
MONDAY_7AM = datetime(2026, 11, 15, 18, 0, tzinfo=UTC)  # Monday 16 Nov 07:00 in Auckland
API = Delivery.Mode.API
local = auckland


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme", timezone=AUCKLAND)


@pytest.fixture
def executive(org):
    return member(org, Role.EXECUTIVE)


def _program(org, *, x_posts: int, linkedin_posts: int) -> dict:
    """Posts in WEEK: X gives impressions and engagement; LinkedIn gives likes only (no
    impressions to this app). One post of each the week before."""
    item = ContentItemFactory(organization=org, title="Rocket launch")
    author = member(org).user
    post(org, author, item, at=local(3), network="x", likes=1, comments=0, reposts=0, impressions=100)
    for n in range(x_posts):
        post(
            org,
            author,
            item,
            at=local(10 + n % 5),
            network="x",
            likes=2,
            comments=1,
            reposts=0,
            impressions=500,
            mode=API,
        )
    for n in range(linkedin_posts):
        post(org, author, item, at=local(11 + n % 4), network="linkedin", likes=3, clicks=2, unique_clicks=1, mode=API)
    advocate_stats.refresh(org)
    return {"item": item, "author": author}


def _rates(org, **extra):
    roi_settings.save_settings(
        actor=acting(org),
        currency="EUR",
        cpm_x=Decimal("10"),
        cpm_linkedin=Decimal("40"),
        cpc=Decimal("1"),
        licence_per_month=Decimal("3000"),
        **extra,
    )


def figures(report) -> dict:
    return {f["key"]: f for f in report["figures"]}


def test_a_network_that_does_not_report_impressions_makes_the_figures_partial_and_says_so(client, org, executive):
    _program(org, x_posts=1, linkedin_posts=3)
    _rates(org)
    report = roi.executive_report(org, WEEK)
    f = figures(report)

    impressions = f["impressions"]
    assert impressions["value"] == 500  # X alone
    assert impressions["coverage"]["complete"] is False
    assert impressions["coverage"]["posts_percent"] == 25.0 and impressions["coverage"]["networks"] == ["X"]
    assert impressions["coverage"]["text"] == (
        "X only, 25.0% of posts; LinkedIn (3 posts) does not report impressions to this app."
    )
    assert f["engagement"]["coverage"]["complete"] is True  # LinkedIn reports likes: engagement covers both
    assert f["posts"]["coverage"]["complete"] and f["clicks"]["coverage"]["complete"]  # our own records

    client.force_login(executive.user)
    page = client.get(org_url("analytics:reports", org) + QUERY).content.decode()
    card = re.search(r'<div class="figure card" data-figure="impressions".*?</div>', page, re.S).group(0)
    assert 'data-coverage="partial"' in card and ">partial</span>" in card
    assert "X only, 25.0% of posts; LinkedIn (3 posts) does not report impressions to this app." in card
    engagement_card = re.search(r'<div class="figure card" data-figure="engagement".*?</div>', page, re.S).group(0)
    assert 'data-coverage="complete"' in engagement_card and ">partial<" not in engagement_card
    api = client.get(f"/api/v1/o/{org.slug}/analytics/roi/" + QUERY).json()
    api_impressions = next(a for a in api["figures"] if a["key"] == "impressions")
    assert api_impressions["coverage"]["text"] == impressions["coverage"]["text"]


def test_roi_is_computed_over_what_emv_covers_and_never_shown_as_complete(client, org, executive):
    _program(org, x_posts=1, linkedin_posts=3)
    _rates(org)
    report = roi.executive_report(org, WEEK)
    f = figures(report)
    # EMV: X only (LinkedIn gives no impressions, so LinkedIn's posts and clicks are left out,
    # not counted as 0): 500 / 1000 x 10 + 0 clicks x 1 = 5.00
    assert f["emv"]["value"] == Decimal("5.00")
    assert f["emv"]["coverage"]["posts_percent"] == 25.0
    linkedin = next(p for p in report["emv"]["parts"] if p["network"] == "linkedin")
    assert linkedin["value"] is None and linkedin["left_out"] == "does not report impressions to this app"
    # Cost: 7 days of 3000 a month = 3000 x 7 / (365/12) = 690.41; a quarter of it for the X post.
    assert f["program_cost"]["value"] == Decimal("690.41")
    cost_share = Decimal("172.60")
    assert f["roi"]["value"] == round((Decimal("5.00") - cost_share) / cost_share * 100, 1)
    assert f["roi"]["coverage"]["complete"] is False
    assert "25.0% of posts" in f["roi"]["coverage"]["text"] and "EUR 172.60" in f["roi"]["coverage"]["text"]
    # A quarter of the posts is under the threshold: the measured figures lead, and say why.
    assert report["lead"] == "measured"
    lead = formatting.lead_sentence(report)
    assert lead.startswith("Measured results: 4 posts, 6 clicks, 3 unique clicks, 12 engagement.")
    assert "covers only 25.0% of posts (under 50%)" in lead

    client.force_login(executive.user)
    page = client.get(org_url("analytics:reports", org) + QUERY).content.decode()
    assert f'data-testid="lead-text">{lead}<' in page.replace("&#x27;", "'")
    roi_card = re.search(r'<div class="figure card" data-figure="roi".*?</div>', page, re.S).group(0)
    assert 'data-coverage="partial"' in roi_card and "25.0% of posts" in roi_card


def test_roi_leads_when_it_covers_enough_posts(org):
    _program(org, x_posts=3, linkedin_posts=1)
    _rates(org)
    report = roi.executive_report(org, WEEK)
    assert report["lead"] == "roi"
    assert formatting.lead_sentence(report).startswith("ROI (estimated) over 75.0% of posts: ")


def test_a_cost_that_is_not_set_is_not_set_never_zero(client, org, executive):
    _program(org, x_posts=1, linkedin_posts=3)
    client.force_login(executive.user)
    # Nothing entered: cost, EMV and ROI are "not set", with the way to set them for admins.
    report = roi.executive_report(org, WEEK)
    f = figures(report)
    assert f["program_cost"]["value"] is None and f["program_cost"]["not_set"]
    assert f["emv"]["value"] is None and f["emv"]["not_set"] and f["roi"]["not_set"]
    assert "ROI is not shown: its inputs are not set." in formatting.lead_sentence(report)
    admin = member(org, Role.ADMIN)
    client.force_login(admin.user)
    page = client.get(org_url("analytics:reports", org) + QUERY).content.decode()
    settings_url = org_url("analytics:settings", org)
    assert f'<a href="{settings_url}" data-testid="set-program_cost">' in page
    assert f'<a href="{settings_url}" data-testid="set-roi">' in page

    # The licence and X's API charge entered, LinkedIn's API charge not: its 3 API posts are
    # "not set", the total is of what is set and says what it leaves out.
    _rates(org, api_post_cost_x=Decimal("0.01"), api_link_post_cost_x=Decimal("0.20"))
    report = roi.executive_report(org, WEEK)
    f = figures(report)
    linkedin = next(p for p in report["cost"]["api_parts"] if p["network"] == "linkedin")
    assert linkedin["api_posts"] == 3 and linkedin["value"] is None
    assert report["cost"]["not_set"] == ["People's time", "LinkedIn API charge"]
    assert f["program_cost"]["value"] == Decimal("690.41") + report["cost"]["api"]
    assert f["program_cost"]["coverage"]["text"] == "Not set, so not counted: People's time and LinkedIn API charge."
    page = client.get(org_url("analytics:reports", org) + QUERY).content.decode()
    assert "LinkedIn API: 3 posts</th><td>not set</td>" in page
    assert "EUR 0.00" not in page
    csv_text = client.get(org_url("analytics:reports_csv", org) + QUERY).content.decode()
    row = next(r for r in csv.reader(io.StringIO(csv_text)) if r and r[0] == "Program cost")
    assert row[5] == "Not set, so not counted: People's time and LinkedIn API charge."
    text = " ".join(_pdf_text(client.get(org_url("analytics:reports_pdf", org) + QUERY).content))
    assert "LinkedIn API: 3 posts not set" in text


def test_top_content_and_topics_never_print_zero_for_not_available(org):
    press = TopicFactory(organization=org, name="Press")
    silent = ContentItemFactory(organization=org, title="Press release")
    silent.topics.add(press)
    author = member(org).user
    # Posted only where nothing is reported back (every counter NULL).
    post(org, author, silent, at=local(10), network="linkedin", clicks=0)
    measured = ContentItemFactory(organization=org, title="Launch video")
    post(org, author, measured, at=local(11), network="x", likes=0, comments=0, reposts=0, impressions=10)
    advocate_stats.refresh(org)

    top = {row["title"]: row for row in roi.executive_report(org, WEEK)["top_content"]}
    assert top["Press release"]["engagement"] is None  # not available, not 0
    assert top["Launch video"]["engagement"] == 0  # measured zero stays 0

    marketer = content_performance(org, WEEK)
    topic = next(t for t in marketer.topics if t["name"] == "Press")
    assert topic["engagement"] is None and topic["likes"] is None and topic["impressions"] is None
    assert next(i for i in marketer.items if i["title"] == "Press release")["engagement"] is None
    assert next(t for t in marketer.topics if t["name"] == "No topic")["engagement"] == 0


def _pdf_text(content: bytes) -> list[str]:
    """Each page's text with its whitespace made single spaces (table cells come out one per line)."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(content)).pages]


def test_the_page_the_csv_the_pdf_and_the_weekly_email_say_the_same(client, org, executive, mailoutbox):
    """One test over all four outputs: every figure's value, previous value, change and
    coverage are written the same way (`analytics.formatting`) from the same report."""
    _program(org, x_posts=3, linkedin_posts=1)
    _rates(org, people_hours_per_month=Decimal("20"), people_hourly_cost=Decimal("50"))
    # Participation moves in points: 1 of 2 employees now, none the week before.
    share(org, member(org).user, ContentItemFactory(organization=org), at=local(14))
    advocate_stats.refresh(org)
    # Measured outcomes: a sign-up after a click on a post of the Sales team, and a won deal.
    conversions.create_key(actor=acting(org), name="Site")
    seller = member(org).user
    sold = post(
        org,
        seller,
        ContentItemFactory(organization=org, title="Pricing page"),
        at=local(12),
        network="linkedin",
        team=TeamFactory(organization=org, name="Sales"),
        clicks=1,
        unique_clicks=1,
    )
    signed_up(org, sold, "e-1", value="49.90")
    won(org, sold, "D-1", "12400.00", close=date(2026, 11, 13))
    opened(org, sold, "D-2", "3000.00")  # open: pipeline, on the sign-up's day
    AdvocatePreferenceFactory(organization=org, user=executive.user, weekly_summary=True)
    report = roi.executive_report(org, WEEK)
    currency = report["currency"]
    tables = formatting.outcome_tables(report)
    cells = {  # every row of every outcomes table, as the page and the PDF write it
        (t["key"], r["name"]): (
            formatting.outcome(r["conversions"]),
            formatting.outcome(r["conversion_value"], "money", currency),
            formatting.outcome(r["won_revenue"], "money", currency),
            formatting.outcome(r["pipeline"], "money", currency),
        )
        for t in tables
        for r in t["rows"] + ([t["rest"]] if t["rest"] else [])
    }
    assert cells[("outcomes-by-employee", seller.name)] == ("1", "EUR 49.90", "EUR 12,400.00", "EUR 3,000.00")
    assert cells[("outcomes-by-team", "Sales")] == ("1", "EUR 49.90", "EUR 12,400.00", "EUR 3,000.00")
    assert cells[("outcomes-by-item", "Pricing page")] == ("1", "EUR 49.90", "EUR 12,400.00", "EUR 3,000.00")
    assert cells[("outcomes-by-team", "No team")] == ("0", "EUR 0.00", "EUR 0.00", "EUR 0.00")
    assert {key for key, _name in cells} == {t["key"] for t in tables}
    expected = {
        f["label"]: (
            formatting.figure(f["value"], f["unit"], currency),
            formatting.figure(f["previous"], f["unit"], currency),
            formatting.change(f["change"]) or formatting.NOT_COMPARABLE,
            formatting.coverage_words(f),
        )
        for f in report["figures"]
    }
    assert expected["Pipeline (attributed, open deals)"][0] == "EUR 3,000.00"
    assert expected["Participation rate"][2].endswith(" pts")  # a rate moves in points, here as everywhere
    assert expected["Impressions"][3].startswith("X only, 60.0% of posts")  # 3 X posts; 2 on LinkedIn

    client.force_login(executive.user)
    page = client.get(org_url("analytics:reports", org) + QUERY).content.decode().replace("&#x27;", "'")
    for f in report["figures"]:
        value, previous, moved, covers = expected[f["label"]]
        assert f'data-testid="value-{f["key"]}">{value}<' in page, f["label"]
        if moved != formatting.NOT_COMPARABLE:
            assert f"{moved}</span> vs {previous}" in page, f["label"]
        if not f["coverage"]["complete"]:
            assert covers in page, f["label"]

    for (key, name), (conversions_, value_, won_, pipeline_) in cells.items():
        table = page.split(f'data-testid="{key}"', 1)[1].split("</table>", 1)[0]
        written = f"<td>{conversions_}</td><td>{value_}</td><td>{won_}</td><td>{pipeline_}</td>"
        assert f'<th scope="row">{name}</th>{written}' in table, name
    assert report["outcomes"]["rule"] in page

    csv_text = client.get(org_url("analytics:reports_csv", org) + QUERY).content.decode()
    rows = {r[0]: r for r in csv.reader(io.StringIO(csv_text)) if len(r) == 7}
    for f in report["figures"]:
        value, previous, moved, covers = expected[f["label"]]
        row = rows[f["label"]]
        assert formatting.figure(_parsed(row[1]), f["unit"], currency) == value, f["label"]
        assert formatting.figure(_parsed(row[2]), f["unit"], currency) == previous, f["label"]
        assert (row[3], row[5]) == (csvsafe.neutralise(moved), covers), f["label"]  # "+5%" is written "'+5%"

    sections, section = {}, None
    for r in csv.reader(io.StringIO(csv_text)):
        section = r[0] if r and r[0].startswith("outcomes by ") else (None if not r else section)
        if section and r[0] != section:
            sections[(section, r[0])] = r[1:]
    for t in tables:
        for r in t["rows"] + ([t["rest"]] if t["rest"] else []):
            row = sections[(f"outcomes {t['title'].lower()}", r["name"])]
            written = (
                formatting.outcome(_parsed(row[0])) if row[0] != formatting.NOT_SET else row[0],
                formatting.outcome(_parsed(row[1]), "money", currency) if row[1] != formatting.NOT_SET else row[1],
                formatting.outcome(_parsed(row[2]), "money", currency) if row[2] != formatting.NOT_SET else row[2],
                formatting.outcome(_parsed(row[3]), "money", currency) if row[3] != formatting.NOT_SET else row[3],
            )
            assert written == cells[(t["key"], r["name"])], r["name"]
    assert ["attribution rule", report["outcomes"]["rule"]] in list(csv.reader(io.StringIO(csv_text)))

    pdf = " ".join(_pdf_text(client.get(org_url("analytics:reports_pdf", org) + QUERY).content))
    for f in report["figures"]:
        value, previous, moved, covers = expected[f["label"]]
        assert f"{f['label']} {value} {previous}" in pdf, f["label"]
        if not f["coverage"]["complete"]:
            assert "Partial: " + covers in pdf, f["label"]
    assert formatting.lead_sentence(report) in pdf
    for (_key, name), written in cells.items():
        assert " ".join((name, *written)) in pdf, name
    assert report["outcomes"]["rule"] in pdf

    with time_machine.travel(MONDAY_7AM + timedelta(minutes=5), tick=False):
        assert send_weekly_summaries() == 1
    body = mailoutbox[0].body
    assert formatting.lead_sentence(report) in body
    # The e-mail leads with the measured outcomes, each with its coverage and note, then the rest.
    outcomes_at = body.index("What the posts brought (measured):")
    for key in ("conversions", "conversion_value", "won_revenue", "pipeline", "revenue_roi"):
        line = formatting.figure_line(figures(report)[key], currency)
        assert f"- {line}" in body and outcomes_at < body.index(line) < body.index(formatting.lead_sentence(report))
    assert "- Won revenue (attributed): EUR 12,400.00 (week before: not available" not in body  # measured: 0 before
    assert body.index(report["outcomes"]["rule"]) < body.index("Earned media value:")
    for f in report["figures"]:
        value, previous, moved, covers = expected[f["label"]]
        assert f"{f['label']}: {value} (week before: {previous}, {moved}) - {f['basis']}" in body, f["label"]
        if not f["coverage"]["complete"]:
            assert f"Partial: {covers}" in body, f["label"]


def _parsed(cell: str):
    """A CSV cell back to the number it stands for ("not available" stays None)."""
    if cell == formatting.NOT_AVAILABLE:
        return None
    if "." in cell:
        return Decimal(cell) if len(cell.split(".")[1]) == 2 and not cell.endswith(".0") else float(cell)
    return int(cell)


def test_the_pdf_has_the_charts_and_keeps_each_table_on_one_page(client, org, executive):
    _program(org, x_posts=3, linkedin_posts=1)
    _rates(org)
    client.force_login(executive.user)
    pages = _pdf_text(client.get(org_url("analytics:reports_pdf", org) + "?start=2026-08-01&end=2026-11-15").content)
    text = "\n".join(pages)
    for title in ("Shares and posts per day", "Clicks and engagement per day", "Impressions per day"):
        assert title in text
    # Each section's heading, its header row and its last row are on the same page.
    sections = {"Program cost Cost EUR": "Total", "Earned media value Network": "Facebook", "By network Network": "X"}
    for heading, last_row in sections.items():
        [page] = [p for p in pages if heading in p]
        assert last_row in page.split(heading, 1)[1], heading
