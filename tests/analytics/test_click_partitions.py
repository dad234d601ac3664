"""Raw clicks partitioned by month (issue 21, point 6): partitions made ahead and idempotent,
an insert into any month works, the flush still writes each click once, the retention drops
or deletes only what is past every organization's period and rolled up, and the rebuild
keeps the days whose raw clicks are gone."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import pytest
from django.db import DatabaseError, ProgrammingError, connection, transaction
from django.utils import timezone

from analytics.models import ActivityWatermark, Click, DailyRollup
from analytics.services import click_partitions, clicks, rollups
from analytics.services.click_partitions import add_months, month_of
from tests.analytics.factories import ClickFactory
from tests.compliance.factories import PolicyFactory
from tests.compliance.test_audit_db_role import as_app_role
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory

pytestmark = pytest.mark.django_db
OLD = date(2023, 3, 1)  # years before any test runs: past a one-year retention


def partition_of(day: date) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tableoid::regclass::text FROM analytics_click WHERE day = %s LIMIT 1", [day])
        return cursor.fetchone()[0]


def delivery(org=None):
    share = ShareFactory(**({"organization": org} if org else {}))
    return DeliveryFactory(organization=share.organization, share=share, status="published")


def buffered(d, day: date, n: int) -> list[clicks.BufferedClick]:
    """`n` clicks of distinct visitors on `d` at noon UTC of `day`, as the redirect buffers them."""
    return [
        clicks.BufferedClick(
            id=uuid.uuid4(),
            delivery_id=d.pk,
            organization_id=d.organization_id,
            item_id=d.share.item_id,
            network=d.network,
            team_key=0,
            at=datetime.combine(day, time(12), tzinfo=UTC),
            day=day,
            visitor=f"{k:032x}",
        )
        for k in range(n)
    ]


def flush(d, day: date, n: int = 1) -> None:
    """`n` clicks on `d` on `day`, through the click flush (rows and rollups in one transaction)."""
    clicks.write_clicks(buffered(d, day, n))


def purge() -> click_partitions.ClickPurge:
    """The retention's purge, after the foreign keys of the test's own inserts are checked: in
    production the flush committed them long before, and PostgreSQL drops no table with
    checks still pending in the transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    return click_partitions.purge_expired_clicks()


def raw_count(org) -> int:
    return Click.objects.for_org(org).count()


def test_partitions_are_made_ahead_once():
    today = timezone.now().date()
    this = month_of(today)
    click_partitions.ensure_partitions(today=today)  # what the migration made, whatever the month now
    months = click_partitions.partition_months()
    assert {add_months(this, n) for n in range(4)} <= set(months)
    assert click_partitions.ensure_partitions(today=today) == []
    far = add_months(this, 24)
    assert click_partitions.ensure_partitions(today=far, ahead=1) == [far, add_months(far, 1)]
    assert click_partitions.ensure_partitions(today=far, ahead=1) == []


def test_an_insert_into_next_month_lands_in_its_partition():
    d = delivery()
    next_month = add_months(month_of(timezone.now().date()), 1)
    flush(d, next_month + (date(2000, 1, 15) - date(2000, 1, 1)))
    assert partition_of(next_month.replace(day=15)) == f"analytics_click_{next_month:%Y_%m}"


def test_a_month_without_partition_goes_to_the_default_and_moves_out_when_made():
    d = delivery()
    day = date(2019, 5, 20)
    flush(d, day)
    assert partition_of(day) == "analytics_click_default"
    assert click_partitions.ensure_months(day, day) == [date(2019, 5, 1)]
    assert partition_of(day) == "analytics_click_2019_05"
    assert raw_count(d.organization) == 1


def test_the_app_role_makes_and_drops_partitions_through_the_functions_only():
    """The application's role owns no table (advocacy.dbroles): the migration's SECURITY
    DEFINER functions make and drop month partitions for it, and nothing else does."""
    with as_app_role() as app:
        assert click_partitions.ensure_months(date(2018, 1, 1), date(2018, 2, 1)) == [
            date(2018, 1, 1),
            date(2018, 2, 1),
        ]
        assert date(2018, 2, 1) in click_partitions.partition_months()
        with (
            pytest.raises(ProgrammingError, match="must be owner"),
            transaction.atomic(using=app.alias),
            app.cursor() as cursor,
        ):
            cursor.execute("DROP TABLE analytics_click_2018_01")
        with app.cursor() as cursor:
            for month in ("2018-01-01", "2018-02-01"):
                cursor.execute("SELECT analytics_click_drop_partition(%s)", [month])
                assert cursor.fetchone()[0] is True
            with pytest.raises(DatabaseError, match="less than a year old"), transaction.atomic(using=app.alias):
                cursor.execute("SELECT analytics_click_drop_partition(current_date)")
    assert date(2018, 1, 1) not in click_partitions.partition_months()


def test_a_repeated_flush_writes_each_click_once_into_the_partitions():
    d = delivery()
    day = timezone.now().date()
    batch = buffered(d, day, 5)
    assert clicks.write_clicks(batch).clicks == 5
    assert clicks.write_clicks(batch).clicks == 0
    assert raw_count(d.organization) == 5
    assert partition_of(day) == f"analytics_click_{day:%Y_%m}"
    assert DailyRollup.objects.for_org(d.organization).get(day=day).clicks == 5


def test_a_rolled_up_month_past_every_retention_is_dropped():
    click_partitions.ensure_months(OLD, OLD)
    a, b = delivery(), delivery()
    for d in (a, b):
        PolicyFactory(organization=d.organization, retention_years=1)
        flush(d, OLD.replace(day=10), n=3)
    outcome = purge()
    assert OLD in outcome.dropped
    assert OLD not in click_partitions.partition_months()
    assert raw_count(a.organization) == raw_count(b.organization) == 0
    for d in (a, b):
        assert ActivityWatermark.objects.for_org(d.organization).get().raw_clicks_from == add_months(OLD, 1)
        assert DailyRollup.objects.for_org(d.organization).get(day=OLD.replace(day=10)).clicks == 3


def test_a_month_not_rolled_up_is_kept():
    click_partitions.ensure_months(OLD, OLD)
    d = delivery()
    PolicyFactory(organization=d.organization, retention_years=1)
    flush(d, OLD.replace(day=10), n=2)
    ClickFactory(delivery=d, at=datetime(2023, 3, 11, 12, tzinfo=UTC))  # a raw click no rollup counted
    outcome = purge()
    assert (d.organization_id, OLD) in outcome.not_rolled_up
    assert OLD not in outcome.dropped and OLD in click_partitions.partition_months()
    assert raw_count(d.organization) == 3


def test_organizations_with_different_retentions_lose_only_their_expired_rows():
    click_partitions.ensure_months(OLD, OLD)
    short, long = delivery(), delivery()
    PolicyFactory(organization=short.organization, retention_years=1)
    PolicyFactory(organization=long.organization, retention_years=100)
    flush(short, OLD.replace(day=5), n=2)
    flush(long, OLD.replace(day=5), n=4)
    outcome = purge()
    assert OLD not in outcome.dropped and OLD in click_partitions.partition_months()
    assert outcome.deleted[short.organization_id] == 2
    assert raw_count(short.organization) == 0 and raw_count(long.organization) == 4
    assert ActivityWatermark.objects.for_org(long.organization).filter(raw_clicks_from__isnull=False).count() == 0


def test_the_rebuild_keeps_the_clicks_of_days_whose_raw_clicks_were_dropped():
    click_partitions.ensure_months(OLD, OLD)
    org = delivery().organization
    d = DeliveryFactory(
        organization=org,
        share=ShareFactory(organization=org, item=ContentItemFactory(organization=org)),
        status="published",
    )
    PolicyFactory(organization=org, retention_years=1)
    flush(d, OLD.replace(day=10), n=3)
    recent = timezone.now().date()
    flush(d, recent, n=2)
    purge()
    assert raw_count(org) == 2
    rollups.rebuild(org)
    counted = dict(DailyRollup.objects.for_org(org).filter(clicks__gt=0).values_list("day", "clicks"))
    assert counted == {OLD.replace(day=10): 3, recent: 2}
