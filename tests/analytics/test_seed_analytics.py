"""`seed_analytics`: realistic history in bulk, with rollups and stats as the producers leave them."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from accounts.models import Organization
from analytics.models import AdvocateDailyStats, Click, DailyItemSummary, DailyRollup, DailySummary
from analytics.services import rollups
from content.models import Delivery

pytestmark = pytest.mark.django_db


def counters(model, org) -> dict[str, int]:
    return {name: sum(model.objects.for_org(org).values_list(name, flat=True)) for name in ("published", "clicks")}


def test_seed_writes_the_raw_rows_asked_for_and_rollups_that_rebuild_to_themselves():
    call_command("seed_analytics", deliveries=300, clicks=2000, people=12, items=5, org="seeded")
    org = Organization.objects.get(slug="seeded")
    assert Delivery.objects.for_org(org).count() == 300
    assert Click.objects.for_org(org).count() == 2000
    published = Delivery.objects.for_org(org).filter(published_at__isnull=False).count()
    totals = counters(DailyRollup, org)
    assert totals == {"published": published, "clicks": 2000}
    assert counters(DailySummary, org) == totals == counters(DailyItemSummary, org)
    assert sum(AdvocateDailyStats.objects.for_org(org).values_list("posts", flat=True)) == published

    before = sorted(DailyRollup.objects.for_org(org).values_list("day", "team_key", "network", "item_id", "clicks"))
    rollups.rebuild(org)
    after = sorted(DailyRollup.objects.for_org(org).values_list("day", "team_key", "network", "item_id", "clicks"))
    assert after == before


def test_seed_refuses_sizes_that_make_no_sense():
    with pytest.raises(CommandError, match="positive"):
        call_command("seed_analytics", deliveries=0, clicks=10, org="seeded")
    assert not Organization.objects.filter(slug="seeded").exists()


@pytest.mark.django_db(transaction=True)  # each seed commits, as two runs of the command do
def test_a_second_seed_adds_its_clicks_into_the_month_partitions():
    call_command("seed_analytics", deliveries=100, clicks=500, people=5, items=3, org="seeded")
    call_command("seed_analytics", deliveries=100, clicks=700, people=5, items=3, org="seeded")
    org = Organization.objects.get(slug="seeded")
    assert Click.objects.for_org(org).count() == 1200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM analytics_click_default WHERE organization_id = %s", [org.pk])
        assert cursor.fetchone()[0] == 0
