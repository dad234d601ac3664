"""The CSV import of deals for every other CRM (issue 17, point 3): the whole file is checked
first, each bad row named by its line and reason, nothing saved while a row is bad;
re-importing the same ids updates them (the difference booked), never duplicates them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from analytics.models import Deal
from analytics.selectors import crm as crm_selectors
from analytics.selectors import roi
from analytics.selectors.periods import Period
from analytics.services import roi_settings
from compliance.models import AuditEntry
from tests.accounts.factories import acting
from tests.analytics.test_deals import a_post, converted, euro_org, won_revenue
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

HEADER = "id,amount,currency,close_date,tracking_code,email\n"
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def org():
    return euro_org()


@pytest.fixture
def admin(org, client):
    user = member(org, Role.ADMIN).user
    client.force_login(user)
    return user


@pytest.fixture
def post(org):
    """A post on X whose click led to a sign-up reported with the buyer's e-mail."""
    delivery = a_post(org, "x")
    converted(org, delivery, email="buyer@example.com")
    return delivery


def upload(client, org, text: str):
    file = SimpleUploadedFile("deals.csv", text.encode(), content_type="text/csv")
    return client.post(org_url("analytics:crm", org), {"file": file})


def test_every_bad_row_is_named_and_nothing_is_saved(client, org, admin, post):
    text = HEADER + (
        f"D-1,1000.00,EUR,2026-11-20,{post.tracking_code},\n"
        'D-2,"12,5",EUR,2026-11-20,,buyer@example.com\n'
        "D-3,10,EURO,30/11/2026,,buyer@example.com\n"
        "D-4,10,EUR,2026-11-20,,\n"
        f"D-1,5,EUR,2026-11-20,{post.tracking_code},\n"
        "D-6,10,EUR,2026-11-20,not a code!,not-an-email\n"
    )
    response = upload(client, org, text)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was imported: 5 rows are not valid." in page
    assert "Line 3: amount &#x27;12,5&#x27; is not a number" in page
    assert (
        "Line 4: currency &#x27;EURO&#x27; is not three letters such as EUR; close date &#x27;30/11/2026&#x27;" in page
    )
    assert "Line 5: give a tracking code or an email." in page
    assert "Line 6: id &#x27;D-1&#x27; is already on line 2." in page
    assert "Line 7: tracking code &#x27;not a code!&#x27;" in page and "email &#x27;not-an-email&#x27;" in page
    assert "Line 2" not in page
    assert not Deal.objects.for_org(org).exists() and won_revenue(org) == 0
    assert not AuditEntry.objects.for_org(org).filter(action="deals.imported").exists()


def test_a_file_without_the_columns_says_which_are_missing(client, org, admin):
    response = upload(client, org, "deal,value\nD-1,10\n")
    assert response.status_code == 400
    assert "Line 1: the columns id, amount, currency, close_date, tracking_code or email are missing." in (
        response.content.decode()
    )


def test_re_importing_the_same_ids_updates_them_and_books_the_difference(client, org, admin, post):
    first = upload(client, org, HEADER + f"D-1,1000.00,EUR,2026-11-20,{post.tracking_code},\n")
    assert first.status_code == 302
    assert won_revenue(org) == 100000

    again = upload(
        client,
        org,
        HEADER + f"D-1,1250.00,EUR,2026-11-20,{post.tracking_code},\nD-2,300,EUR,2026-11-21,,Buyer@Example.com\n",
    )
    assert again.status_code == 302
    followed = client.get(again["Location"]).content.decode()
    assert "2 deals imported: 1 new, 1 updated, 0 unchanged." in followed
    assert Deal.objects.for_org(org).count() == 2
    assert won_revenue(org) == 125000 + 30000
    by_email = Deal.objects.for_org(org).get(external_id="D-2")
    assert (by_email.status, by_email.delivery_id, by_email.author_id) == ("attributed", post.pk, post.share.author_id)
    assert AuditEntry.objects.for_org(org).filter(action="deals.imported").count() == 2


def test_the_crm_page_is_for_admins_and_its_queries_do_not_grow(client, org, admin, post, django_assert_num_queries):
    upload(client, org, HEADER + "".join(f"D-{n},{n},EUR,2026-11-20,{post.tracking_code},\n" for n in range(1, 4)))
    with django_assert_num_queries(crm_selectors.QUERIES):
        crm_selectors.crm_page(org)
    page_queries = crm_selectors.QUERIES + 5  # + session, user, membership; the layout: organizations, notifications
    with django_assert_num_queries(page_queries):
        page = client.get(org_url("analytics:crm", org))
    assert page.status_code == 200 and "Connect HubSpot" in page.content.decode()
    upload(client, org, HEADER + "".join(f"E-{n},{n},EUR,2026-11-21,,x{n}@example.com\n" for n in range(60)))
    with django_assert_num_queries(page_queries):
        assert client.get(org_url("analytics:crm", org)).status_code == 200
    client.force_login(member(org, Role.MARKETER, Role.EXECUTIVE).user)
    assert client.get(org_url("analytics:crm", org)).status_code == 403


# --- the executive report -----------------------------------------------------------------------


def figures_of(report) -> dict:
    return {f["key"]: f for f in report["figures"]}


def test_won_revenue_and_measured_roi_are_not_set_without_a_crm(org, admin, client):
    report = roi.executive_report(org, NOVEMBER)
    shown = figures_of(report)
    for key in ("won_revenue", "revenue_roi"):
        assert shown[key]["value"] is None and shown[key]["not_set"] and shown[key]["basis"] == "measured"
    assert "connect HubSpot or import deals" in shown["won_revenue"]["note"]
    page = client.get(org_url("analytics:reports", org) + "?start=2026-11-01&end=2026-11-30").content.decode()
    assert 'data-testid="set-won_revenue"' in page and 'data-testid="unattributed-deals"' not in page


def test_the_report_measures_won_revenue_and_its_roi_and_counts_the_rest_apart(
    org, admin, client, post, django_assert_num_queries
):
    roi_settings.save_settings(actor=acting(org), currency="EUR", licence_per_month="3000")
    upload(
        client,
        org,
        HEADER
        + f"W-1,4500.00,EUR,2026-11-20,{post.tracking_code},\n"  # attributed
        + "W-2,1500.00,EUR,2026-11-21,,buyer@example.com\n"  # attributed by e-mail
        + f"W-3,999.00,USD,2026-11-22,{post.tracking_code},\n"  # attributed, another currency
        + "W-4,700.00,EUR,2026-11-23,nosuchcode,\n"  # unknown code
        + "W-5,800.00,EUR,2026-11-24,,stranger@example.com\n"  # no conversion
        + f"W-6,50.00,EUR,2026-10-05,{post.tracking_code},\n",  # the period before: no conversion yet then
    )
    with django_assert_num_queries(roi.QUERIES):
        report = roi.executive_report(org, NOVEMBER)

    shown = figures_of(report)
    assert shown["won_revenue"]["value"] == Decimal("6000.00") and shown["won_revenue"]["label"] == (
        "Won revenue (attributed)"
    )
    assert shown["won_revenue"]["previous"] == Decimal("0.00")
    assert "2 closed-won deals are not attributed (see below)." in shown["won_revenue"]["note"]
    assert "1 attributed deal is in another currency, not added." in shown["won_revenue"]["note"]
    cost = report["cost"]["total"]  # 3000 a month over November's 30 days
    assert shown["revenue_roi"]["value"] == round(float(Decimal("6000") / cost * 100), 1)
    assert shown["revenue_roi"]["unit"] == "percent" and not shown["revenue_roi"]["not_set"]
    deals = report["deals"]
    assert (deals["won"], deals["attributed"], deals["not_attributed"], deals["other_currency"]) == (5, 3, 2, 1)
    assert {r["reason"]: r["deals"] for r in deals["reasons"]}["unknown_code"] == 1
    page = client.get(org_url("analytics:reports", org) + "?start=2026-11-01&end=2026-11-30").content.decode()
    assert 'data-testid="unattributed-deals"' in page and "Won revenue (attributed)" in page
    exported = client.get(org_url("analytics:reports_csv", org) + "?start=2026-11-01&end=2026-11-30").content.decode()
    assert "closed-won deals not attributed,deals" in exported
    assert "Tracking code unknown in this organization,1" in exported
