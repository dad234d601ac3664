"""The executive page's report cache (issue 17, point 6): a repeated view is served from the
cache, but never after a change of what the report reads (a cost, a conversion, the fold's
watermark, a team's name, an item's title, the members), and never to another organization."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache

from accounts.models import Role
from analytics.selectors import report_cache, roi
from analytics.selectors.periods import Period
from analytics.services import conversions, roi_settings, rollups
from tests.accounts.factories import OrganizationFactory, acting
from tests.analytics.test_conversions import CLICKED, SIGNED_UP, clicked
from tests.analytics.test_conversions import report as send_conversion
from tests.analytics.test_roi import DAY1, DAY2, PERIOD, produce_history
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory
from tests.helpers import member, org_url

# The version moves after a commit (report_version.bump): these tests commit, as the product does.
pytestmark = pytest.mark.django_db(transaction=True)

AUCKLAND = "Pacific/Auckland"
LATER = DAY2 + timedelta(days=3)


@pytest.fixture
def org():
    return OrganizationFactory(timezone=AUCKLAND)


@pytest.fixture
def world(org):
    from tests.accounts.factories import MembershipFactory, TeamFactory, UserFactory

    author = UserFactory(name="Ana Author")
    MembershipFactory(organization=org, user=author, roles=[Role.EMPLOYEE])
    return {
        "team": TeamFactory(organization=org, name="Sales"),
        "item": ContentItemFactory(organization=org, title="Q4 launch"),
        "author": author,
    }


def page_value(client, org, key: str, period: Period = PERIOD) -> str:
    url = org_url("analytics:reports", org) + f"?start={period.start}&end={period.end}"
    response = client.get(url)
    assert response.status_code == 200
    found = re.search(rf'data-testid="value-{key}">([^<]*)<', response.content.decode())
    return found.group(1)


def set_licence(org, amount: str) -> None:
    roi_settings.save_settings(actor=acting(org), currency="NZD", licence_per_month=Decimal(amount))


def test_a_changed_cost_shows_on_the_next_view(client, org, world):
    produce_history(org, world)
    set_licence(org, "1000")
    client.force_login(member(org, Role.EXECUTIVE).user)
    first = page_value(client, org, "program_cost")
    assert page_value(client, org, "program_cost") == first  # served again, the same
    set_licence(org, "2000")
    assert page_value(client, org, "program_cost") != first
    assert (
        page_value(client, org, "program_cost") == "NZD " + f"{roi.executive_report(org, PERIOD)['cost']['total']:,.2f}"
    )


def body_rendered(response) -> bool:
    return "analytics/_report_body.html" in [t.name for t in response.templates]


def test_the_report_body_is_kept_per_report_language_and_viewer(client, org, world):
    """analytics.views.roi._report_body: a repeated view reuses the figures' HTML; another
    report, another language or a viewer with other links never gets it."""
    produce_history(org, world)
    url = org_url("analytics:reports", org) + f"?start={PERIOD.start}&end={PERIOD.end}"
    executive = member(org, Role.EXECUTIVE)
    client.force_login(executive.user)
    first = client.get(url)
    again = client.get(url)
    assert body_rendered(first) and not body_rendered(again)
    body = re.search(r'<section aria-labelledby="figures-title">.*</section>', first.content.decode(), re.S).group(0)
    assert body in again.content.decode() and 'data-testid="set-program_cost"' not in body
    admin = member(org, Role.ADMIN)  # may set the rates: the body links to them
    client.force_login(admin.user)
    response = client.get(url)
    assert body_rendered(response) and 'data-testid="set-program_cost"' in response.content.decode()
    executive.user.language = "fr"
    executive.user.save(update_fields=["language"])
    client.force_login(executive.user)
    french = client.get(url)
    assert body_rendered(french) and "Chiffres clés" in french.content.decode()
    set_licence(org, "1000")  # a new report: a new body with its number
    client.force_login(admin.user)
    changed = client.get(url)
    total = roi.executive_report(org, PERIOD)["cost"]["total"]
    assert body_rendered(changed) and page_value(client, org, "program_cost") == f"NZD {total:,.2f}"


@pytest.fixture
def conversion_org():
    org = OrganizationFactory(timezone=AUCKLAND)
    roi_settings.save_settings(actor=acting(org), currency="EUR")
    return org


def test_a_new_conversion_shows_on_the_next_view(client, conversion_org):
    org = conversion_org
    share = ShareFactory(organization=org, item=ContentItemFactory(organization=org, title="Pricing page"))
    delivery = DeliveryFactory(
        organization=org, share=share, network="linkedin", status="published", published_at=CLICKED
    )
    key = conversions.create_key(actor=member(org, Role.ADMIN), name="Website")[1]
    clicked(client, delivery)
    client.force_login(member(org, Role.EXECUTIVE).user)
    period = Period(date(2026, 11, 10), date(2026, 11, 11))
    assert page_value(client, org, "conversions", period) == "0"
    assert page_value(client, org, "conversions", period) == "0"  # from the cache
    response = send_conversion(
        client, org.slug, key, tracking_code=delivery.tracking_code, value="49.90", currency="EUR"
    )
    assert response.status_code == 201, response.content
    assert page_value(client, org, "conversions", period) == "1"
    assert page_value(client, org, "conversion_value", period) == "EUR 49.90"
    assert SIGNED_UP.date() in (period.start, period.end)


def test_another_organization_never_gets_the_cached_report(client, org, world):
    produce_history(org, world)
    set_licence(org, "1000")
    other = OrganizationFactory(timezone=AUCKLAND)
    ours = report_cache.report_for_page(org, PERIOD)
    assert report_cache.report_for_page(org, PERIOD) == ours  # cached
    theirs = report_cache.report_for_page(other, PERIOD)
    assert theirs == roi.executive_report(other, PERIOD) != ours
    assert {f["key"]: f["value"] for f in theirs["figures"]}["posts"] == 0
    # Even an entry that landed under the other organization's key is not served to it.
    cache.set(report_cache._key(other, PERIOD), cache.get(report_cache._key(org, PERIOD)))
    assert report_cache.report_for_page(other, PERIOD) == roi.executive_report(other, PERIOD)
    client.force_login(member(other, Role.EXECUTIVE).user)
    assert page_value(client, other, "posts") == "0"
    assert page_value(client, other, "program_cost") == "not available"


def test_numbers_updated_at_moves_with_the_fold(org, world):
    produce_history(org, world)
    before = report_cache.report_for_page(org, PERIOD)
    assert report_cache.report_for_page(org, PERIOD)["updated_at"] == before["updated_at"]
    from analytics.services import advocate_stats

    advocate_stats.refresh(org)
    rollups.fold_activity(organization=org, now=rollups.timezone.now() + timedelta(hours=1))
    after = report_cache.report_for_page(org, PERIOD)
    assert after == roi.executive_report(org, PERIOD)
    assert after["updated_at"] != before["updated_at"]


def test_names_and_members_other_layers_own_show_at_once(org, world):
    produce_history(org, world)
    member(org)
    report = report_cache.report_for_page(org, PERIOD)
    assert report["top_content"][0]["title"] == "Q4 launch"
    assert any(team["name"] == "Sales" for team in report["by_team"])
    members = report["members"]

    world["item"].title = "Q4 launch, updated"
    world["item"].save()
    world["team"].name = "Sales EMEA"
    world["team"].save()
    leaving = member(org)
    again = report_cache.report_for_page(org, PERIOD)
    assert again["top_content"][0]["title"] == "Q4 launch, updated"
    assert any(team["name"] == "Sales EMEA" for team in again["by_team"])
    assert again["members"] == members + 1
    leaving.is_active = False
    leaving.save()
    assert report_cache.report_for_page(org, PERIOD)["members"] == members
    assert report_cache.report_for_page(org, PERIOD) == roi.executive_report(org, PERIOD)


def test_the_cached_report_is_the_report(org, world):
    produce_history(org, world)
    set_licence(org, "1000")
    for period in (PERIOD, Period(DAY1, DAY1), Period(DAY2 - timedelta(days=29), DAY2)):
        first = report_cache.report_for_page(org, period)
        assert report_cache.report_for_page(org, period) == first == roi.executive_report(org, period)


def test_two_writers_in_crossing_order_do_not_deadlock_on_the_version():
    """A holds its first rollup row and waits; B writes the row A wants next and commits. With
    the version moved inside the transactions, B would queue on the version row A holds and A
    then on B's row: a deadlock. Moved after commit, both commit and the version moves twice."""
    import contextlib
    import threading

    from django.db import connections, transaction

    from analytics.models import ReportVersion

    org = OrganizationFactory()
    item = ContentItemFactory(organization=org)
    days = (date(2026, 11, 2), date(2026, 11, 3))
    both_wrote_once = threading.Barrier(2, timeout=5)
    errors = []

    def add(day):
        rollups.add(organization_id=org.pk, day=day, team_key=0, network="x", item_id=item.pk, clicks=1)

    def writer(first, second):
        try:
            with transaction.atomic():
                add(first)
                with contextlib.suppress(threading.BrokenBarrierError):  # the other is stuck: go on
                    both_wrote_once.wait()
                if second is not None:
                    add(second)
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=writer, args=(days[0], days[1])),
        threading.Thread(target=writer, args=(days[1], None)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ReportVersion.objects.for_org(org).get().version == 2


def test_a_fold_of_nothing_keeps_the_entry_and_still_moves_numbers_updated_at(org, world, django_assert_num_queries):
    """The fold and the per-author refresh run every minute; when they find nothing new the
    report is served from the cache, with their new watermark as "numbers updated at"."""
    from analytics.services import advocate_stats

    produce_history(org, world)
    quiet = rollups.timezone.now() + timedelta(hours=1)  # past the refresh's 10-minute overlap
    advocate_stats.refresh(org, now=quiet)
    rollups.fold_activity(organization=org, now=quiet)
    before = report_cache.report_for_page(org, PERIOD)
    later = quiet + timedelta(minutes=5)
    advocate_stats.refresh(org, now=later)
    rollups.fold_activity(organization=org, now=later)
    with django_assert_num_queries(report_cache.QUERIES):
        after = report_cache.report_for_page(org, PERIOD)
    assert after["updated_at"] > before["updated_at"]
    assert after == roi.executive_report(org, PERIOD)


def test_warming_computes_a_viewed_period_again_so_the_next_view_is_served_from_the_cache(
    client, org, world, django_assert_num_queries
):
    from analytics.services import report_version

    produce_history(org, world)
    set_licence(org, "1000")
    client.force_login(member(org, Role.EXECUTIVE).user)
    first = page_value(client, org, "program_cost")  # viewed: remembered for the warming
    set_licence(org, "2000")  # the version moves; the cached entry no longer serves
    assert report_version.warm(org.pk) == 1
    url = org_url("analytics:reports", org) + f"?start={PERIOD.start}&end={PERIOD.end}"
    with django_assert_num_queries(report_cache.QUERIES + 5):  # the stamp and the layout only
        body = client.get(url).content.decode()
    assert f'data-testid="value-program_cost">{first}<' not in body
    assert (
        page_value(client, org, "program_cost") == "NZD " + f"{roi.executive_report(org, PERIOD)['cost']['total']:,.2f}"
    )


def test_a_change_queues_one_warming_that_the_worker_runs(client, org, world, settings, worker_process):
    """With warming on, a change queues the recomputation once (coalesced) and the worker
    caches the new numbers for the period the executive viewed."""
    from analytics.services import report_version
    from tests.conftest import wait_for

    settings.REPORT_WARMING = True
    produce_history(org, world)
    client.force_login(member(org, Role.EXECUTIVE).user)
    page_value(client, org, "program_cost")
    set_licence(org, "1000")
    set_licence(org, "3000")
    expected = roi.executive_report(org, PERIOD)["cost"]["total"]

    def warmed():
        entry = cache.get(report_cache._key(org, PERIOD))
        return entry is not None and entry["report"]["cost"]["total"] == expected

    wait_for(warmed, timeout=30, message="the worker's warming of the viewed period")
    wait_for(lambda: cache.get(report_version.warming_key(org.pk)) is None, message="the warming started")
    assert page_value(client, org, "program_cost") == f"NZD {expected:,.2f}"


def test_a_deal_synced_again_unchanged_keeps_the_cached_report(org):
    """The CRM sync reads unchanged deals again: they move nothing; a changed amount does."""
    from analytics.models import ReportVersion
    from analytics.services import deals

    facts = deals.DealFacts(external_id="d-1", amount=Decimal("1200"), currency="NZD", close_date=DAY2, is_won=True)
    deals.save_deal(organization=org, source="csv", facts=facts, currency="NZD")
    version = ReportVersion.objects.for_org(org).get().version
    assert deals.save_deal(organization=org, source="csv", facts=facts, currency="NZD")[1] == "unchanged"
    assert ReportVersion.objects.for_org(org).get().version == version
    changed = deals.DealFacts(external_id="d-1", amount=Decimal("1300"), currency="NZD", close_date=DAY2, is_won=True)
    assert deals.save_deal(organization=org, source="csv", facts=changed, currency="NZD")[1] == "updated"
    assert ReportVersion.objects.for_org(org).get().version == version + 1
