"""Measured outcomes per team, network, item and employee on the executive report (issue 17,
point 4): attributed conversions, their value and attributed won revenue, equal to a hand
computation, from the rollups (`DailySummary`, `DailyItemSummary`, `DailyAuthorOutcome`) in
a fixed number of statements whatever the number of teams, items or employees; "not set"
(never 0) while the organization reports no conversions or has no CRM; the rebuild agrees
with what the producers added."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache

from accounts.models import Role
from analytics.models import DailyAuthorOutcome
from analytics.selectors import report_cache, roi
from analytics.selectors.periods import Period
from analytics.services import conversions, deals, roi_settings, rollups
from tests.accounts.factories import OrganizationFactory, TeamFactory, acting
from tests.analytics.posts import post
from tests.content.factories import ContentItemFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
QUERY = "?start=2026-11-01&end=2026-11-30"
POSTED = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def org():
    org = OrganizationFactory(slug="acme", timezone="UTC")
    roi_settings.save_settings(actor=acting(org), currency="EUR", licence_per_month=Decimal("3000"))
    return org


def reporting(org):
    """The organization reports conversions from its site (it holds a conversion key)."""
    conversions.create_key(actor=acting(org), name="Site")


def posted(org, author, title, *, network="linkedin", team=None, at=POSTED):
    """A published post with one click an hour after it (as the click flush counts it)."""
    item = ContentItemFactory(organization=org, title=title)
    return post(org, author, item, at=at, network=network, team=team, clicks=1, unique_clicks=1)


def signed_up(org, delivery, event_id, *, value=None, at=None):
    """A sign-up after the click, through the conversion service (attributed, last click)."""
    at = at or delivery.published_at + timedelta(hours=2)
    data = {"event_id": event_id, "event_name": "signup", "tracking_code": delivery.tracking_code}
    data.update(occurred_at=at.isoformat(), **({"value": str(value), "currency": "EUR"} if value else {}))
    conversion, _ = conversions.record(
        organization=org, event=conversions.parse_event(data, now=at + timedelta(minutes=1)), now=at
    )
    assert conversion.status == "attributed"
    return conversion


def _deal(org, delivery, external_id, amount, *, close, won_: bool):
    facts = deals.DealFacts(
        external_id=external_id,
        amount=Decimal(amount),
        currency="EUR",
        close_date=close,
        is_won=won_,
        is_closed=won_,
        stage="closedwon" if won_ else "contractsent",
        tracking_code=delivery.tracking_code,
        code_from="deal",
    )
    deal, _ = deals.save_deal(organization=org, source="csv", facts=facts, currency="EUR")
    assert deal.status == "attributed" and deal.amount_counted
    return deal


def won(org, delivery, external_id, amount, *, close=date(2026, 11, 20)):
    """A closed-won deal carrying the post's tracking code (as a CRM sync or import books it)."""
    return _deal(org, delivery, external_id, amount, close=close, won_=True)


def opened(org, delivery, external_id, amount, *, expected_close=None):
    """An open deal carrying the post's tracking code: pipeline, attributed like a won one."""
    deal = _deal(org, delivery, external_id, amount, close=expected_close, won_=False)
    assert deal.booked_counter == "pipeline"
    return deal


def rows(table: list[dict]) -> dict:
    return {r["name"]: (r["conversions"], r["conversion_value"], r["won_revenue"]) for r in table}


def test_outcomes_per_team_network_item_and_employee_equal_the_hand_computation(org):
    reporting(org)
    sales, support = TeamFactory(organization=org, name="Sales"), TeamFactory(organization=org, name="Support")
    ada, bob = member(org).user, member(org).user
    pricing = posted(org, ada, "Pricing page", network="linkedin", team=sales)
    case = posted(org, bob, "Case study", network="x", team=support)
    quiet = posted(org, bob, "Quiet post", network="x", team=support)  # clicked, brought nothing
    signed_up(org, pricing, "e-1", value="10.00")
    signed_up(org, pricing, "e-2", value="15.50")
    signed_up(org, case, "e-3")
    won(org, pricing, "D-1", "1000.00")
    won(org, case, "D-2", "250.00")
    won(org, case, "D-3", "99.00", close=date(2026, 12, 2))  # next period: not in November
    assert quiet.pk

    report = roi.executive_report(org, NOVEMBER)
    outcomes = report["outcomes"]
    cents = Decimal("0.00")
    assert rows(outcomes["by_team"]) == {
        "Sales": (2, Decimal("25.50"), Decimal("1000.00")),
        "Support": (1, cents, Decimal("250.00")),
    }
    assert rows(outcomes["by_network"]) == {
        "LinkedIn": (2, Decimal("25.50"), Decimal("1000.00")),
        "X": (1, cents, Decimal("250.00")),
    }
    assert [r["name"] for r in outcomes["by_item"]] == ["Pricing page", "Case study"]  # by won revenue
    assert rows(outcomes["by_item"])["Case study"] == (1, cents, Decimal("250.00"))
    assert [r["name"] for r in outcomes["by_employee"]] == [ada.name, bob.name]
    assert rows(outcomes["by_employee"])[ada.name] == (2, Decimal("25.50"), Decimal("1000.00"))
    assert outcomes["items_rest"] is None and outcomes["employees_rest"] is None
    assert "at most 30 days before it" in outcomes["rule"] and outcomes["rule"].startswith("Last click")
    figures = {f["key"]: f["value"] for f in report["figures"]}
    for table in ("by_team", "by_network", "by_item", "by_employee"):  # each table adds up to the figures
        assert sum(r["conversions"] for r in outcomes[table]) == figures["conversions"] == 3
        assert sum(r["won_revenue"] for r in outcomes[table]) == figures["won_revenue"] == Decimal("1250.00")

    # The rebuild from raw rows finds what the producers added, per author too.
    def per_author():
        return sorted(
            DailyAuthorOutcome.objects.for_org(org).values_list(
                "day", "author_key", "conversions", "conversion_value", "won_revenue"
            )
        )

    added = per_author()
    assert added == [
        (date(2026, 11, 10), ada.pk, 2, 2550, 0),
        (date(2026, 11, 10), bob.pk, 1, 0, 0),
        (date(2026, 11, 20), ada.pk, 0, 0, 100000),
        (date(2026, 11, 20), bob.pk, 0, 0, 25000),
        (date(2026, 12, 2), bob.pk, 0, 0, 9900),
    ]
    rollups.rebuild(org)
    assert per_author() == added


def test_a_deal_saved_again_moves_its_revenue_between_employees_and_days(org):
    reporting(org)
    ada, bob = member(org).user, member(org).user
    first, second = posted(org, ada, "Pricing"), posted(org, bob, "Case")
    signed_up(org, first, "e-1")
    signed_up(org, second, "e-2")
    deal = won(org, first, "D-1", "500.00")
    facts = deals.DealFacts(
        external_id="D-1",
        amount=Decimal("700.00"),
        currency="EUR",
        close_date=date(2026, 11, 21),
        is_won=True,
        tracking_code=second.tracking_code,
        code_from="deal",
    )
    deals.save_deal(organization=org, source="csv", facts=facts, currency="EUR")
    deal.refresh_from_db()
    assert (deal.author_id, deal.booked_author_key, deal.booked_cents) == (bob.pk, bob.pk, 70000)
    report = roi.executive_report(org, NOVEMBER)
    assert rows(report["outcomes"]["by_employee"]) == {
        bob.name: (1, Decimal("0.00"), Decimal("700.00")),
        ada.name: (1, Decimal("0.00"), Decimal("0.00")),
    }
    assert not DailyAuthorOutcome.objects.for_org(org).filter(won_revenue__lt=0).exists()


def test_without_a_conversion_key_or_a_crm_the_tables_say_not_set_never_zero(client, org):
    executive = member(org, Role.EXECUTIVE)
    posted(org, member(org).user, "Pricing page", team=TeamFactory(organization=org, name="Sales"))
    report = roi.executive_report(org, NOVEMBER)
    outcomes = report["outcomes"]
    assert not outcomes["conversions_set"] and not outcomes["revenue_set"]
    assert rows(outcomes["by_team"]) == {"Sales": (None, None, None)}
    assert rows(outcomes["by_network"]) == {"LinkedIn": (None, None, None)}

    client.force_login(executive.user)
    page = client.get(org_url("analytics:reports", org) + QUERY).content.decode()
    team_table = page.split('data-testid="outcomes-by-team"', 1)[1].split("</table>", 1)[0]
    assert team_table.count("<td>not set</td>") == 4 and "<td>0</td>" not in team_table
    assert "No item brought a conversion or a won deal in this period." in page

    reporting(org)  # with a key, a measured zero is 0; revenue stays not set until a CRM
    outcomes = roi.executive_report(org, NOVEMBER)["outcomes"]
    assert rows(outcomes["by_team"]) == {"Sales": (0, Decimal("0.00"), None)}


def _grow(org, n: int, start: int = 0):
    """n more employees, each in a team of their own, each posting an item that brings a
    conversion and a won deal."""
    for k in range(start, start + n):
        author = member(org).user
        delivery = posted(org, author, f"Item {k}", team=TeamFactory(organization=org, name=f"Team {k}"))
        signed_up(org, delivery, f"e-{k}")
        won(org, delivery, f"D-{k}", f"{100 + k}.00")


def test_the_query_count_is_fixed_whatever_the_number_of_teams_items_and_employees(
    client, org, django_assert_num_queries
):
    reporting(org)
    executive = member(org, Role.EXECUTIVE)
    client.force_login(executive.user)
    _grow(org, 1)
    with django_assert_num_queries(roi.QUERIES):
        roi.executive_report(org, NOVEMBER)
    # The page computes the report (nothing cached: report_cache's stamp, then the report).
    cache.clear()
    with django_assert_num_queries(report_cache.QUERIES + roi.QUERIES + 5):  # the layout: session, user, ...
        assert client.get(org_url("analytics:reports", org) + QUERY).status_code == 200

    _grow(org, roi.TOP + 3, start=1)
    with django_assert_num_queries(roi.QUERIES):
        report = roi.executive_report(org, NOVEMBER)
    cache.clear()
    with django_assert_num_queries(report_cache.QUERIES + roi.QUERIES + 5):
        page = client.get(org_url("analytics:reports", org) + QUERY).content.decode()

    outcomes = report["outcomes"]
    assert len(outcomes["by_team"]) == roi.TOP + 4  # teams and networks are listed whole
    assert len(outcomes["by_item"]) == len(outcomes["by_employee"]) == roi.TOP
    assert outcomes["by_item"][0]["name"] == f"Item {roi.TOP + 3}"  # the biggest deal first
    rest = outcomes["items_rest"]
    assert rest["name"] == "4 other items" and outcomes["employees_rest"]["name"] == "4 other employees"
    assert rest["won_revenue"] == Decimal("100.00") + Decimal("101.00") + Decimal("102.00") + Decimal("103.00")
    total = sum(r["won_revenue"] for r in outcomes["by_item"]) + rest["won_revenue"]
    assert total == next(f["value"] for f in report["figures"] if f["key"] == "won_revenue")
    assert 'data-testid="outcomes-by-employee-rest"' in page and "4 other employees" in page


def test_my_stats_says_what_my_posts_brought_in_sign_ups_and_won_deals(client, org, django_assert_num_queries):
    from analytics.selectors.advocates import my_stats

    reporting(org)
    ada, bob = member(org), member(org)
    pricing, case = posted(org, ada.user, "Pricing page"), posted(org, bob.user, "Case study")
    signed_up(org, pricing, "e-1")
    signed_up(org, pricing, "e-2")
    signed_up(org, case, "e-3")
    won(org, pricing, "D-1", "12400.00")
    won(org, case, "D-2", "300.00", close=date(2026, 12, 1))  # the month after: not in November

    with django_assert_num_queries(7):  # as before: the won revenue comes with the conversions
        mine = my_stats(ada, NOVEMBER)["conversions"]
    assert (mine["total"], mine["won_revenue"], mine["won_currency"]) == (2, Decimal("12400.00"), "EUR")
    client.force_login(ada.user)
    page = client.get(org_url("analytics:my_stats", org) + QUERY).content.decode()
    assert 'data-testid="my-conversions">Your posts brought 2 sign-ups and EUR 12,400.00 in won deals.<' in page
    answer = client.get(f"/api/v1/o/{org.slug}/analytics/me/" + QUERY).json()
    assert answer["conversions"]["sentence"] == "Your posts brought 2 sign-ups and EUR 12,400.00 in won deals."

    client.force_login(bob.user)  # a deal outside the period is not said; no deal, no "won deals"
    page = client.get(org_url("analytics:my_stats", org) + QUERY).content.decode()
    assert 'data-testid="my-conversions">Your posts brought 1 sign-up.<' in page


def test_a_deal_saved_before_its_conversion_was_attributed_is_attributed_when_it_is(org):
    """The sign-up arrived before its click was flushed (pending); the CRM sync saw the won
    deal meanwhile and found no conversion. When the click comes and the conversion is
    attributed, the deal is too, without waiting for the CRM to change it."""
    from analytics.models import Deal
    from tests.analytics.factories import ClickFactory

    ada = member(org).user
    item = ContentItemFactory(organization=org, title="Pricing page")
    delivery = post(org, ada, item, at=POSTED)  # no click yet
    at = POSTED + timedelta(hours=2)
    data = {"event_id": "e-1", "event_name": "signup", "tracking_code": delivery.tracking_code}
    conversion, _ = conversions.record(
        organization=org, event=conversions.parse_event({**data, "occurred_at": at.isoformat()}, now=at), now=at
    )
    assert conversion.status == "pending"
    facts = deals.DealFacts(
        external_id="D-1",
        amount=Decimal("900.00"),
        currency="EUR",
        close_date=date(2026, 11, 12),
        is_won=True,
        tracking_code=delivery.tracking_code,
        code_from="contact",
    )
    deal, _ = deals.save_deal(organization=org, source="hubspot", facts=facts, currency="EUR")
    assert (deal.status, deal.reason, deal.booked_cents) == ("unattributed", "no_conversion", 0)

    ClickFactory(organization=org, delivery=delivery, at=POSTED + timedelta(hours=1))
    assert conversions.attribute_pending(now=at + timedelta(minutes=1)) == 1
    deal = Deal.objects.for_org(org).get(pk=deal.pk)
    assert (deal.status, deal.author_id, deal.booked_cents, deal.booked_author_key) == (
        "attributed",
        ada.pk,
        90000,
        ada.pk,
    )
    outcomes = roi.executive_report(org, NOVEMBER)["outcomes"]
    assert rows(outcomes["by_employee"]) == {ada.name: (1, Decimal("0.00"), Decimal("900.00"))}


def test_the_demo_company_site_is_seeded_once_and_its_tracked_link_lands_on_it(client, org, settings):
    from analytics.demo import COMPANY_SITE_CODE, seed_company_site
    from analytics.models import AnalyticsSettings

    settings.COMPANY_SITE_PORT = 8767
    author = member(org).user
    first = seed_company_site(org, author)
    assert seed_company_site(org, author).pk == first.pk  # make run seeds again on every start
    rates = AnalyticsSettings.objects.for_org(org).get()
    assert rates.allowed_origins() == {"http://localhost:8767"} and "signup" in rates.allowed_browser_events()
    landing = client.get(f"/r/{COMPANY_SITE_CODE}")
    assert landing.status_code == 302 and landing["Location"].startswith("http://localhost:8767/?")
    assert f"utm_content={COMPANY_SITE_CODE}" in landing["Location"]
