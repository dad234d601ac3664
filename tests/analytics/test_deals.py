"""CRM revenue (issue 17, point 3): HubSpot deals synced through the HubSpot emulator (OAuth
connect, token refresh, paging, 429 with Retry-After), attributed through conversions to the
right post, employee, item, team and network, booked as won revenue once with their latest
amount (re-run safe, unbooked when they leave closed-won), and rebuild agrees."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests
import time_machine
from celery.exceptions import Retry
from django.db import connection as db
from django.db.models import Sum

from accounts.models import Role
from analytics import tasks
from analytics.models import CrmConnection, DailyRollup, Deal, DealReason
from analytics.services import conversions, deals, roi_settings, rollups
from compliance.models import AuditEntry
from tests.accounts.factories import OrganizationFactory, TeamFactory, acting
from tests.analytics.factories import ClickFactory, CrmConnectionFactory
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory
from tests.helpers import member, org_url
from tests.hubspot_fixture import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.django_db

SIGNED_UP = datetime(2026, 11, 10, 11, 30, tzinfo=UTC)
CLOSED = "2026-11-20T15:00:00.000Z"
CLOSE_DAY = date(2026, 11, 20)


def euro_org(slug: str = "acme"):
    """An organization on UTC that counts money in euros."""
    org = OrganizationFactory(slug=slug, timezone="UTC")
    roi_settings.save_settings(actor=acting(org), currency="EUR")
    return org


@pytest.fixture
def org():
    return euro_org()


@pytest.fixture
def admin(org):
    return member(org, Role.ADMIN).user


def a_post(org, network="linkedin", title="Pricing page"):
    share = ShareFactory(
        organization=org, item=ContentItemFactory(organization=org, title=title), team=TeamFactory(organization=org)
    )
    return DeliveryFactory(organization=org, share=share, network=network, status="published", published_at=SIGNED_UP)


def converted(org, delivery, *, event_id="evt-1", email="", at=SIGNED_UP):
    """A visitor clicked the post's link (recorded and counted as the click flush does), then
    signed up (the real conversion service)."""
    click = ClickFactory(
        organization=org, delivery=delivery, at=at - timedelta(hours=1), team_key=delivery.share.team_id
    )
    rollups.add(
        organization_id=org.pk,
        day=click.day,
        team_key=click.team_key,
        network=click.network,
        item_id=click.item_id,
        clicks=1,
        unique_clicks=1,
    )
    data = {"event_id": event_id, "event_name": "signup", "occurred_at": at.isoformat()}
    data.update(tracking_code=delivery.tracking_code, **({"email": email} if email else {}))
    conversion, _ = conversions.record(
        organization=org, event=conversions.parse_event(data, now=at + timedelta(minutes=1)), now=at
    )
    assert conversion.status == "attributed"
    return conversion


@pytest.fixture
def hubspot_app(settings, hubspot):
    settings.HUBSPOT_CLIENT_ID, settings.HUBSPOT_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.HUBSPOT_ORIGIN = hubspot.url
    return hubspot


def connect(client, org, admin, hubspot):
    """The admin connects HubSpot: our connect button, the emulator's consent, our callback."""
    client.force_login(admin)
    started = client.post(org_url("analytics:crm_connect", org))
    assert started.status_code == 302 and started["Location"].startswith(hubspot.url + "/oauth/authorize?")
    hubspot.auto_approve(True)
    consent = requests.get(started["Location"], allow_redirects=False, timeout=5)
    back = urlsplit(consent.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


@pytest.fixture
def connected(client, org, admin, hubspot_app):
    assert connect(client, org, admin, hubspot_app).status_code == 302
    return hubspot_app


def won_revenue(org) -> int:
    return DailyRollup.objects.for_org(org).aggregate(total=Sum("won_revenue"))["total"] or 0


def sync(org, **kwargs):
    outcome = deals.sync_hubspot(organization=org, sleep=kwargs.pop("sleep", _no_sleep), **kwargs)
    assert not outcome.error, outcome.error
    return outcome


def _no_sleep(seconds):
    raise AssertionError(f"the sync slept {seconds} s")


# --- OAuth -----------------------------------------------------------------------------------


def test_an_admin_connects_hubspot_through_its_consent_and_the_tokens_are_encrypted(client, org, admin, hubspot_app):
    done = connect(client, org, admin, hubspot_app)

    assert done.status_code == 302 and done["Location"] == org_url("analytics:crm", org)
    connection = CrmConnection.objects.for_org(org).get()
    assert connection.portal_id == str(hubspot_app.state()["hub_id"]) and connection.status == "active"
    assert connection.access_token.startswith("hsa-") and connection.refresh_token.startswith("hsr-")
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM analytics_crmconnection WHERE id = %s", [connection.pk])
        stored = cursor.fetchone()
    assert all(not value.startswith(("hsa-", "hsr-")) for value in stored)  # ciphertext at rest
    page = client.get(org_url("analytics:crm", org)).content.decode()
    assert "demo-advocacy.hubspot.com" in page and connection.access_token not in page
    assert connection.refresh_token not in page
    assert AuditEntry.objects.for_org(org).filter(action="crm.connected").count() == 1


def test_a_replayed_callback_or_an_employee_changes_nothing(client, org, admin, hubspot_app):
    client.force_login(admin)
    started = client.post(org_url("analytics:crm_connect", org))
    hubspot_app.auto_approve(True)
    back = urlsplit(requests.get(started["Location"], allow_redirects=False, timeout=5).headers["Location"])
    first = client.get(f"{back.path}?{back.query}")
    CrmConnection.objects.for_org(org).delete()
    again = client.get(f"{back.path}?{back.query}", follow=True)
    assert first.status_code == 302 and "not valid any more" in again.content.decode()
    assert not CrmConnection.objects.for_org(org).exists()
    client.force_login(member(org, Role.EMPLOYEE).user)
    assert client.post(org_url("analytics:crm_connect", org)).status_code in (403, 404)


def test_disconnect_forgets_the_tokens_and_keeps_the_deals(client, org, admin, connected):
    post = a_post(org)
    converted(org, post)
    connected.deal(
        dealname="Big", amount="1000", dealstage="closedwon", closedate=CLOSED, utm_content=post.tracking_code
    )
    sync(org)
    response = client.post(org_url("analytics:crm_disconnect", org))
    assert response.status_code == 302
    assert not CrmConnection.objects.for_org(org).exists()
    assert Deal.objects.for_org(org).count() == 1 and won_revenue(org) == 100000


# --- the sync --------------------------------------------------------------------------------


def test_the_sync_pages_through_more_deals_than_one_page(org, connected):
    post = a_post(org)
    converted(org, post)
    for n in range(250):
        properties = {"dealname": f"Deal {n}", "amount": "10", "dealstage": "closedwon", "closedate": CLOSED}
        if n % 100 == 0:
            properties["utm_content"] = post.tracking_code
        connected.deal(**properties)

    outcome = sync(org, page_size=100)

    assert (outcome.pages, outcome.deals, outcome.created) == (3, 250, 250)
    assert Deal.objects.for_org(org).count() == 250
    assert Deal.objects.for_org(org).filter(status="attributed").count() == 3
    assert won_revenue(org) == 3 * 1000
    newest = max(d["properties"]["hs_lastmodifieddate"] for d in connected.state()["deals"])
    cursor = CrmConnection.objects.for_org(org).get().cursor_ms
    assert datetime.fromtimestamp(cursor / 1000, UTC) == datetime.fromisoformat(newest.replace("Z", "+00:00"))
    again = sync(org, page_size=100)  # from the cursor on: only the newest comes again, unchanged
    assert again.created == 0 and again.updated == 0 and won_revenue(org) == 3000


def test_a_deal_updated_twice_counts_once_with_its_latest_amount(org, connected):
    post = a_post(org)
    converted(org, post)
    deal_id = connected.deal(
        dealname="Renewal", amount="1000", dealstage="closedwon", closedate=CLOSED, utm_content=post.tracking_code
    )
    sync(org)
    assert won_revenue(org) == 100000

    connected.update_deal(deal_id, amount="1500")
    connected.update_deal(deal_id, amount="1250.50")  # twice before the next sync
    assert sync(org).updated == 1
    assert won_revenue(org) == 125050
    connected.update_deal(deal_id, amount="900")
    sync(org)
    sync(org)  # run again: nothing changes
    deal = Deal.objects.for_org(org).get()
    assert (deal.amount, deal.booked_cents, won_revenue(org)) == (Decimal("900.00"), 90000, 90000)
    row = DailyRollup.objects.for_org(org).get(won_revenue__gt=0)
    assert row.day == CLOSE_DAY


def test_a_deal_leaving_closed_won_is_unbooked_and_booked_again_when_won(org, connected):
    post = a_post(org)
    converted(org, post)
    deal_id = connected.deal(amount="700", dealstage="closedwon", closedate=CLOSED, utm_content=post.tracking_code)
    sync(org)
    connected.update_deal(deal_id, dealstage="closedlost")
    sync(org)
    deal = Deal.objects.for_org(org).get()
    assert (deal.status, deal.is_won, deal.booked_cents, won_revenue(org)) == ("not_won", False, 0, 0)
    connected.update_deal(deal_id, dealstage="closedwon", closedate="2026-11-25T09:00:00.000Z")
    sync(org)
    assert won_revenue(org) == 70000
    assert DailyRollup.objects.for_org(org).get(won_revenue__gt=0).day == date(2026, 11, 25)


def test_an_expired_token_is_refreshed_once_and_the_sync_goes_on(org, connected):
    before = CrmConnection.objects.for_org(org).get().access_token
    connected.deal(amount="5", dealstage="closedwon", closedate=CLOSED)
    connected.advance_clock(1801)  # the access token is past its 30 minutes
    assert sync(org).created == 1
    assert CrmConnection.objects.for_org(org).get().access_token != before
    assert connected.state()["counters"]["refreshes"] == 1


def test_an_uninstalled_app_asks_the_admin_to_reconnect(org, connected):
    connected.deal(amount="5", dealstage="closedwon", closedate=CLOSED)
    connected.fault("revoke")
    outcome = deals.sync_hubspot(organization=org, sleep=_no_sleep)
    connection = CrmConnection.objects.for_org(org).get()
    assert outcome.error and connection.status == "needs_reconnect"
    assert "BAD_REFRESH_TOKEN" in connection.status_reason  # a refresh was tried first, and refused
    assert not Deal.objects.for_org(org).exists()
    assert deals.connections_due() == []


def test_a_short_retry_after_is_waited_out_through_the_injected_sleep(org, connected):
    connected.deal(amount="5", dealstage="closedwon", closedate=CLOSED)
    connected.fault("rate_limit", retry_after=1)
    waited = []
    outcome = deals.sync_hubspot(organization=org, sleep=waited.append)
    assert outcome.created == 1 and outcome.deferred_seconds is None
    assert len(waited) == 1 and 0 < waited[0] <= 1


def test_a_long_retry_after_defers_the_sync_and_the_task_retries_after_it(org, connected):
    connected.deal(amount="5", dealstage="closedwon", closedate=CLOSED)
    connected.fault("rate_limit", retry_after=30)
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False):
        task = tasks.sync_crm_connection
        task.push_request(id="sync-1", is_eager=True, called_directly=False, retries=0)  # as a worker runs it
        try:
            with pytest.raises(Retry) as retried:
                task.run(org.pk)
        finally:
            task.pop_request()
        assert retried.value.when == 30  # the task is retried after HubSpot's Retry-After
        connection = CrmConnection.objects.for_org(org).get()
        assert connection.retry_after == datetime(2026, 12, 1, 9, 0, 30, tzinfo=UTC)
        assert deals.connections_due() == []
        searches = connected.state()["counters"].get("deal_searches", 0)
        assert deals.sync_hubspot(organization=org, sleep=_no_sleep).deferred_seconds == 30
        assert connected.state()["counters"].get("deal_searches", 0) == searches  # HubSpot was left alone
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, 31, tzinfo=UTC), tick=False):
        assert deals.connections_due() == [org.pk]
        assert sync(org).created == 1


# --- attribution -----------------------------------------------------------------------------


def test_deals_go_to_the_conversions_post_employee_item_team_and_network(org, connected):
    linkedin, x = a_post(org, "linkedin", "Pricing page"), a_post(org, "x", "Case study")
    converted(org, linkedin, event_id="evt-li")
    converted(org, x, event_id="evt-x", email="Buyer@Example.com", at=SIGNED_UP + timedelta(days=1))
    by_first_page = connected.contact(
        "someone@example.com",
        hs_analytics_first_url=f"https://www.example.com/?utm_source=linkedin&utm_content={linkedin.tracking_code}",
    )
    by_email = connected.contact("buyer@example.com")
    connected.deal(
        dealname="First page", amount="100", dealstage="closedwon", closedate=CLOSED, contacts=(by_first_page,)
    )
    connected.deal(dealname="E-mail", amount="200", dealstage="closedwon", closedate=CLOSED, contacts=(by_email,))
    connected.deal(dealname="Unknown", amount="300", dealstage="closedwon", closedate=CLOSED, utm_content="nosuchcode")
    connected.deal(dealname="Nothing", amount="400", dealstage="closedwon", closedate=CLOSED)
    connected.deal(
        dealname="Too early",
        amount="500",
        dealstage="closedwon",
        closedate="2026-11-09T10:00:00.000Z",
        utm_content=linkedin.tracking_code,
    )
    connected.deal(
        dealname="Pounds",
        amount="600",
        deal_currency_code="GBP",
        dealstage="closedwon",
        closedate=CLOSED,
        utm_content=x.tracking_code,
    )
    sync(org)

    found = {d.name: d for d in Deal.objects.for_org(org)}
    first = found["First page"]
    assert (first.status, first.code_from, first.delivery_id, first.network) == (
        "attributed",
        "contact",
        linkedin.pk,
        "linkedin",
    )
    assert (first.author_id, first.item_id, first.team_key) == (
        linkedin.share.author_id,
        linkedin.share.item_id,
        linkedin.share.team_id,
    )
    assert (found["E-mail"].status, found["E-mail"].delivery_id) == ("attributed", x.pk)
    assert found["E-mail"].tracking_code == "" and found["E-mail"].email_digest == conversions.email_digest(
        "buyer@example.com"
    )
    assert (found["Unknown"].status, found["Unknown"].reason) == ("unattributed", DealReason.UNKNOWN_CODE)
    assert (found["Nothing"].status, found["Nothing"].reason) == ("unattributed", DealReason.NO_TOUCH)
    assert (found["Too early"].status, found["Too early"].reason) == ("unattributed", DealReason.NO_CONVERSION)
    pounds = found["Pounds"]
    assert (pounds.status, pounds.amount_counted, pounds.booked_cents) == ("attributed", False, 0)
    per_post = dict(DailyRollup.objects.for_org(org).filter(won_revenue__gt=0).values_list("item_id", "won_revenue"))
    assert per_post == {linkedin.share.item_id: 10000, x.share.item_id: 20000}


def test_another_organizations_conversions_are_never_matched(org, client):
    other = OrganizationFactory(slug="other", timezone="UTC")
    theirs = a_post(other)
    converted(other, theirs, email="shared@example.com")
    csv = (
        "id,amount,currency,close_date,tracking_code,email\n"
        f"D1,10,EUR,2026-11-20,{theirs.tracking_code},\nD2,20,EUR,2026-11-20,,shared@example.com\n"
    )
    deals.import_deals_csv(actor=member(org, Role.ADMIN), content=csv.encode())
    assert set(Deal.objects.for_org(org).values_list("status", "reason")) == {
        ("unattributed", "unknown_code"),
        ("unattributed", "no_conversion"),
    }
    assert won_revenue(org) == 0 and won_revenue(other) == 0


# --- rebuild ---------------------------------------------------------------------------------


def test_rebuild_counts_the_won_revenue_the_sync_booked(org, connected):
    post, other = a_post(org), a_post(org, "facebook", "Launch")
    converted(org, post, event_id="a")
    converted(org, other, event_id="b")
    moved = connected.deal(amount="1000", dealstage="closedwon", closedate=CLOSED, utm_content=post.tracking_code)
    lost = connected.deal(amount="50", dealstage="closedwon", closedate=CLOSED, utm_content=other.tracking_code)
    connected.deal(amount="75.25", dealstage="closedwon", closedate=CLOSED, utm_content=other.tracking_code)
    sync(org)
    connected.update_deal(moved, amount="1100", closedate="2026-11-28T08:00:00.000Z")
    connected.update_deal(lost, dealstage="closedlost")
    sync(org)
    fields = ["day", "team_key", "network", "item_id", *DailyRollup.COUNTERS]

    def counted():  # a row whose counters all went back to 0 is the same as no row
        return sorted(row for row in DailyRollup.objects.for_org(org).values_list(*fields) if any(row[4:]))

    incremental = counted()
    rollups.rebuild(org)
    assert counted() == incremental
    assert won_revenue(org) == 110000 + 7525


def test_without_a_hubspot_app_the_admin_is_told_so_and_nothing_changes(client, org, admin, settings):
    settings.HUBSPOT_CLIENT_ID = ""
    client.force_login(admin)
    response = client.post(org_url("analytics:crm_connect", org), follow=True)
    assert "HubSpot is not set up on this deployment" in response.content.decode()
    assert not CrmConnection.objects.for_org(org).exists()


def test_sync_now_enqueues_one_sync_after_the_request(client, org, admin, django_capture_on_commit_callbacks):
    client.force_login(admin)
    refused = client.post(org_url("analytics:crm_sync", org), follow=True)
    assert "Connect HubSpot first." in refused.content.decode()
    CrmConnectionFactory(organization=org)
    with django_capture_on_commit_callbacks() as callbacks:
        assert client.post(org_url("analytics:crm_sync", org)).status_code == 302
    assert len(callbacks) == 1


def test_a_sync_holds_its_connection_so_two_never_run_at_once(org, connected):
    connected.deal(amount="5", dealstage="closedwon", closedate=CLOSED)
    held = datetime.now(UTC) + timedelta(minutes=5)
    CrmConnection.objects.for_org(org).update(sync_lease_until=held)  # another worker is syncing
    assert deals.sync_hubspot(organization=org, sleep=_no_sleep).skipped == "another sync is running"
    assert not Deal.objects.for_org(org).exists()
    CrmConnection.objects.for_org(org).update(sync_lease_until=None)
    assert sync(org).created == 1
    assert CrmConnection.objects.for_org(org).get().sync_lease_until is None  # given back
