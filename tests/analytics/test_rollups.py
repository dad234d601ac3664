"""Rollup producers (the activity fold) and `rebuild`: days in the organization's timezone,
each event counted once, and rebuild equal to the incremental result."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from analytics.models import DailyRollup, DeliveryMetrics, MetricAvailability, MetricSnapshot
from analytics.services import rollups
from analytics.services.clicks import BufferedClick, write_clicks
from content.models import Delivery
from tests.accounts.factories import OrganizationFactory, TeamFactory, UserFactory
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory

pytestmark = pytest.mark.django_db

# Pacific/Auckland is UTC+13 in November: 10:30 UTC is 23:30 local, 11:30 UTC is 00:30 next day.
LATE_EVENING = datetime(2026, 11, 10, 10, 30, tzinfo=UTC)
JUST_AFTER_MIDNIGHT = datetime(2026, 11, 10, 11, 30, tzinfo=UTC)
DAY1, DAY2 = date(2026, 11, 10), date(2026, 11, 11)
LATER = datetime(2026, 11, 20, tzinfo=UTC)


@pytest.fixture
def org():
    return OrganizationFactory(timezone="Pacific/Auckland")


@pytest.fixture
def world(org):
    return {
        "team": TeamFactory(organization=org, name="Sales"),
        "item": ContentItemFactory(organization=org),
        "author": UserFactory(),
    }


def share_at(org, world, when, team=True):
    with time_machine.travel(when, tick=False):
        return ShareFactory(
            organization=org, item=world["item"], author=world["author"], team=world["team"] if team else None
        )


def publish(share, when, network="x", mode=Delivery.Mode.API, code=None, link=True):
    code = code or uuid.uuid4().hex[:10]
    text = f"My words https://advocacy.test/r/{code}" if link else "My words"
    return DeliveryFactory(
        share=share,
        network=network,
        mode=mode,
        tracking_code=code,
        text=text,
        status=Delivery.Status.PUBLISHED,
        published_at=when,
    )


def pull(delivery, when, **counts):
    """A metric pull as the pulls record it: snapshot, highest value kept, the increase of
    the highest value added on the local day of the pull."""
    org = delivery.organization
    MetricSnapshot.objects.create(organization=org, delivery=delivery, taken_at=when, **counts)
    metrics, _ = DeliveryMetrics.objects.for_org(org).get_or_create(
        organization=org, delivery=delivery, defaults={"network": delivery.network}
    )
    increase = {}
    for name, seen in counts.items():
        high = getattr(metrics, name)
        if seen is not None and (high is None or seen > high):
            increase[name] = seen - (high or 0)
            setattr(metrics, name, seen)
    metrics.save()
    rollups.add(
        organization_id=org.pk,
        day=rollups.local_day(when, org.timezone),
        team_key=delivery.share.team_id or 0,
        network=delivery.network,
        item_id=delivery.share.item_id,
        **increase,
    )


def click(delivery, when, visitor="v1"):
    org = delivery.organization
    return BufferedClick(
        id=uuid.uuid4(),
        delivery_id=delivery.pk,
        organization_id=org.pk,
        item_id=delivery.share.item_id,
        network=delivery.network,
        team_key=delivery.share.team_id or 0,
        at=when,
        day=rollups.local_day(when, org.timezone),
        visitor=visitor,
    )


def table(org) -> list[tuple]:
    """The detailed rollup rows; checks on the way that every summary table holds their sums."""
    fields = ["day", "team_key", "network", "item_id", *DailyRollup.COUNTERS]
    rows = sorted(DailyRollup.objects.for_org(org).values_list(*fields))
    for model, keys in rollups.SUMMARIES:
        at = [fields.index(key) for key in keys]
        sums: dict[tuple, list[int]] = {}
        for r in rows:
            total = sums.setdefault(tuple(r[i] for i in at), [0] * len(DailyRollup.COUNTERS))
            for n, value in enumerate(r[4:]):
                total[n] += value
        summary = model.objects.for_org(org).values_list(*keys, *DailyRollup.COUNTERS)
        assert {r[: len(keys)]: list(r[len(keys) :]) for r in summary} == sums, model.__name__
    return rows


def row(org, day, network):
    return DailyRollup.objects.for_org(org).get(day=day, network=network)


def test_fold_counts_shares_and_posts_on_the_organizations_local_day(org, world):
    evening = share_at(org, world, LATE_EVENING)
    after_midnight = share_at(org, world, JUST_AFTER_MIDNIGHT)
    publish(evening, LATE_EVENING + timedelta(minutes=10))  # 23:40 local, still DAY1
    publish(after_midnight, JUST_AFTER_MIDNIGHT, network="linkedin", mode=Delivery.Mode.ASSISTED)

    result = rollups.fold_activity(organization=org, now=LATER)

    assert result == {"shares": 2, "published": 2}
    assert row(org, DAY1, "").shares == 1
    assert row(org, DAY2, "").shares == 1
    x = row(org, DAY1, "x")
    assert (x.published, x.api_posts, x.api_link_posts) == (1, 1, 1)
    linkedin = row(org, DAY2, "linkedin")
    assert (linkedin.published, linkedin.api_posts) == (1, 0)  # assisted: no API charge
    assert row(org, DAY1, "").team_key == world["team"].pk


def test_fold_counts_each_event_once_and_waits_for_late_commits(org, world):
    share = share_at(org, world, LATE_EVENING)
    rollups.fold_activity(organization=org, now=LATE_EVENING + timedelta(seconds=30))
    assert table(org) == []  # younger than FOLD_LAG: its transaction may not have committed everywhere

    rollups.fold_activity(organization=org, now=LATER)
    rollups.fold_activity(organization=org, now=LATER)
    rollups.fold_activity(organization=org, now=LATER + timedelta(hours=1))
    assert row(org, DAY1, "").shares == 1

    publish(share, LATER + timedelta(hours=2))
    rollups.fold_activity(organization=org, now=LATER + timedelta(hours=3))
    assert sum(r.published for r in DailyRollup.objects.for_org(org)) == 1


def test_fold_notes_which_counters_a_network_gives(org, world):
    share = share_at(org, world, LATE_EVENING)
    x = publish(share, LATE_EVENING, network="x")
    facebook = publish(share, LATE_EVENING, network="facebook", code="fbcode")
    pull(x, LATE_EVENING + timedelta(hours=1), likes=3, comments=1, reposts=0, impressions=100)
    pull(facebook, LATE_EVENING + timedelta(hours=1), likes=2, comments=0, reposts=0, impressions=None)

    rollups.fold_activity(organization=org, now=LATER)

    seen = {a.network: a for a in MetricAvailability.objects.for_org(org)}
    assert seen["x"].impressions and seen["x"].likes
    assert seen["facebook"].likes and not seen["facebook"].impressions


def produce_history(org, world):
    """Events through the incremental paths: fold (shares, posts), metric pulls, click flush."""
    no_team = share_at(org, world, JUST_AFTER_MIDNIGHT, team=False)
    share = share_at(org, world, LATE_EVENING)
    x = publish(share, LATE_EVENING + timedelta(minutes=5))
    li = publish(share, JUST_AFTER_MIDNIGHT, network="linkedin", link=False)
    fb = publish(no_team, JUST_AFTER_MIDNIGHT, network="facebook", mode=Delivery.Mode.ASSISTED)
    # Pulls: values may go down (a like withdrawn) and up again; only new highs count.
    pull(x, LATE_EVENING + timedelta(minutes=20), likes=2, comments=0, reposts=1, impressions=50)
    pull(x, JUST_AFTER_MIDNIGHT + timedelta(minutes=1), likes=5, comments=1, reposts=1, impressions=80)
    pull(x, JUST_AFTER_MIDNIGHT + timedelta(hours=30), likes=4, comments=1, reposts=2, impressions=90)
    pull(li, JUST_AFTER_MIDNIGHT + timedelta(hours=2), likes=1, comments=None, reposts=None, impressions=None)
    pull(fb, JUST_AFTER_MIDNIGHT + timedelta(hours=2), likes=7, comments=2, reposts=0, impressions=None)
    write_clicks(
        [
            click(x, LATE_EVENING + timedelta(minutes=25), "a"),
            click(x, LATE_EVENING + timedelta(minutes=26), "a"),  # same visitor, same day: not unique
            click(x, JUST_AFTER_MIDNIGHT + timedelta(minutes=2), "a"),  # next local day: unique again
            click(li, JUST_AFTER_MIDNIGHT + timedelta(hours=3), "b"),
        ]
    )
    rollups.fold_activity(organization=org, now=LATER)
    return {"x": x, "li": li, "fb": fb}


def test_rebuild_equals_the_incremental_result(org, world):
    produce_history(org, world)
    incremental = table(org)
    assert len(incremental) >= 6

    written = rollups.rebuild(org)

    assert written == len(incremental)
    assert table(org) == incremental


def test_rebuild_of_a_range_replaces_only_those_days(org, world):
    produce_history(org, world)
    incremental = table(org)
    DailyRollup.objects.for_org(org).filter(day=DAY2).update(likes=999, shares=42)  # damaged day
    DailyRollup.objects.for_org(org).filter(day=DAY1).update(clicks=7)  # outside the range: left alone

    rollups.rebuild(org, date_from=DAY2, date_to=DAY2)

    fields = ["day", "team_key", "network", "item_id", *DailyRollup.COUNTERS]
    after = sorted(DailyRollup.objects.for_org(org).values_list(*fields))
    assert [r for r in after if r[0] == DAY2] == [r for r in incremental if r[0] == DAY2]
    assert all(r[DailyRollup.COUNTERS.index("clicks") + 4] == 7 for r in after if r[0] == DAY1)


def test_rebuild_counts_the_day_boundary_in_the_organizations_timezone(org, world):
    produce_history(org, world)
    rollups.rebuild(org)
    x1, x2 = row(org, DAY1, "x"), row(org, DAY2, "x")
    assert (x1.likes, x1.impressions, x1.clicks, x1.unique_clicks) == (2, 50, 2, 1)
    assert (x2.likes, x2.comments, x2.impressions, x2.clicks, x2.unique_clicks) == (3, 1, 30, 1, 1)
    assert row(org, date(2026, 11, 12), "x").reposts == 1  # 4 likes < 5: no new likes that day
    assert row(org, date(2026, 11, 12), "x").likes == 0


def test_rebuild_does_not_count_what_the_fold_has_not_reached(org, world):
    produce_history(org, world)
    fresh = share_at(org, world, LATER + timedelta(days=1))  # after the watermark: the fold's job
    publish(fresh, LATER + timedelta(days=1))
    before = table(org)
    rollups.rebuild(org)
    assert table(org) == before
    rollups.fold_activity(organization=org, now=LATER + timedelta(days=2))
    incremental = table(org)
    rollups.rebuild(org)
    assert table(org) == incremental


def test_rebuild_refuses_a_reversed_range(org):
    from advocacy.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="start date is after the end date"):
        rollups.rebuild(org, date_from=DAY2, date_to=DAY1)


def test_rebuild_command_names_the_organization_and_range(org, world, capsys):
    produce_history(org, world)
    incremental = table(org)
    call_command("rebuild_rollups", "--org", org.slug, "--from", "2026-11-01", "--to", "2026-11-30")
    assert table(org) == incremental
    assert org.slug in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_folds_activity_in_a_real_worker(worker_process):
    from celery import current_app
    from django.conf import settings

    from tests.conftest import wait_for

    assert settings.CELERY_BEAT_SCHEDULE["rollup-activity"]["task"] == "analytics.tasks.rollup_activity"
    org = OrganizationFactory(timezone="Pacific/Auckland")
    world = {
        "team": TeamFactory(organization=org),
        "item": ContentItemFactory(organization=org),
        "author": UserFactory(),
    }
    share = share_at(org, world, LATE_EVENING)
    publish(share, LATE_EVENING)

    current_app.send_task("analytics.tasks.rollup_activity")

    wait_for(
        lambda: DailyRollup.objects.for_org(org).filter(day=DAY1, network="x", published=1).exists(), message="fold"
    )
    assert row(org, DAY1, "").shares == 1
