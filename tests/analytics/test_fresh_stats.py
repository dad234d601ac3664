"""Fresh stats (issue 16, item 6): a post that goes live refreshes its author's stats at once,
and every stats page says when its numbers were last updated, in the viewer's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from accounts.models import Role
from analytics import tasks
from analytics.models import ActivityWatermark, AdvocateDailyStats, StatsRefresh
from analytics.services import advocate_stats, rollups
from analytics.services.advocate_stats import _queued_key
from content.services import publishing
from tests.accounts.factories import OrganizationFactory
from tests.conftest import wait_for
from tests.helpers import member, org_url


@pytest.fixture
def quiet_queue(settings):
    """Publish messages go to a queue no worker reads: the test publishes itself. The refresh
    after a post is on, as in production (the test settings turn it off elsewhere)."""
    settings.PUBLISH_QUEUE = "publish-nobody-listens"
    settings.STATS_REFRESH_AFTER_POST = True


def _my_posts_today(org, user) -> int:
    return sum(AdvocateDailyStats.objects.for_org(org).filter(user_id=user.pk).values_list("posts", flat=True))


def test_posts_published_through_the_publish_path_show_on_my_stats_after_one_refresh(
    pub, client, quiet_queue, worker_process, monkeypatch
):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    advocate_stats.refresh(pub.org)  # the beat's last round: nothing posted yet
    client.force_login(emma.user)
    url = org_url("analytics:my_stats", pub.org)
    before = client.get(url, {"days": 7}).content.decode()
    assert 'data-figure="posts"><h2>Shares and posts</h2><p class="stat-value">0 / 0</p>' in before

    monkeypatch.setattr(advocate_stats, "REFRESH_AFTER_SECONDS", 2)  # 5 in production
    seen = len(worker_process.log())
    shares = [pub.share(emma, [x]) for _ in range(3)]
    for share in shares:  # the real engine, against the emulator; all three within the 2 s
        [delivery] = pub.deliveries(share)
        assert publishing.publish(delivery.pk) == "published"

    # Going live queued a refresh of Acme's stats once the publish committed; the real
    # worker runs it (analytics.tasks.refresh_organization_stats), and its request is done.
    # One refresh, REFRESH_AFTER_SECONDS after the first post, counts the three.
    wait_for(lambda: _my_posts_today(pub.org, emma.user) == 3, message="the worker's refresh after the posts")
    wait_for(lambda: cache.get(_queued_key(pub.org.pk)) is None, message="the refresh request to be done")
    # The worker logs a task's success just after its work commits: wait for the line. Every
    # queued refresh is logged as received when queued (the 2 s countdown is the worker's).
    wait_for(
        lambda: re.search(r"refresh_organization_stats\[[-\w]+\] succeeded", worker_process.log()[seen:]),
        message="the refresh's success in the worker's log",
    )
    received = re.findall(
        r"Task analytics\.tasks\.refresh_organization_stats\[[-\w]+\] received", worker_process.log()[seen:]
    )
    assert len(received) == 1, "three posts, one refresh"
    after = client.get(url, {"days": 7}).content.decode()
    assert 'data-figure="posts"><h2>Shares and posts</h2><p class="stat-value">3 / 3</p>' in after
    assert "Updated <time" in after and "just now" in after


def test_posts_while_a_refresh_is_queued_queue_no_other(pub, quiet_queue):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    first, second = pub.share(emma, [x]), pub.share(emma, [x])
    cache.set(_queued_key(pub.org.pk), "waiting", timeout=60)  # an earlier post's request, not yet run
    assert publishing.publish(pub.deliveries(first)[0].pk) == "published"
    assert publishing.publish(pub.deliveries(second)[0].pk) == "published"
    assert cache.get(_queued_key(pub.org.pk)) == "waiting", "no second request was queued"
    tasks.refresh_organization_stats(pub.org.pk)
    assert _my_posts_today(pub.org, emma.user) == 2, "the one refresh counts both posts"


def test_with_the_refresh_after_post_off_going_live_queues_nothing(pub, settings):
    settings.PUBLISH_QUEUE = "publish-nobody-listens"
    settings.STATS_REFRESH_AFTER_POST = False
    emma = pub.employee()
    share = pub.share(emma, [pub.connect(emma, "x")])
    assert publishing.publish(pub.deliveries(share)[0].pk) == "published"
    assert cache.get(_queued_key(pub.org.pk)) is None


@pytest.mark.django_db
def test_the_queued_refresh_of_an_organization_that_is_gone_does_nothing():
    assert tasks.refresh_organization_stats(987654) == 0


# --- "Updated 2 minutes ago" ----------------------------------------------------------------


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="acme", timezone="Europe/Paris")


REFRESHED = datetime(2026, 1, 9, 8, 0, tzinfo=UTC)  # 09:00 in Paris (CET)


def _refreshed(org, at=REFRESHED, folded=None):
    StatsRefresh.objects.create(organization=org, refreshed_until=at)
    if folded is not None:
        ActivityWatermark.objects.create(
            organization=org, shares_through=folded, published_through=folded, metrics_checked_through=folded
        )


@pytest.mark.django_db
def test_my_stats_says_when_it_was_updated_in_the_viewers_zone(org, client):
    me = member(org)
    me.user.timezone = "America/New_York"
    me.user.save()
    _refreshed(org)
    client.force_login(me.user)
    with time_machine.travel(REFRESHED + timedelta(minutes=2, seconds=5), tick=False):
        page = client.get(org_url("analytics:my_stats", org)).content.decode()
    assert (
        'Updated <time datetime="2026-01-09T03:00:00-05:00" title="9 Jan 2026 03:00 EST">2\xa0minutes ago</time>'
        " (9 Jan 2026 03:00 EST)." in page
    )


@pytest.mark.django_db
def test_a_page_before_the_first_refresh_says_its_numbers_are_not_computed_yet(org, client):
    client.force_login(member(org).user)
    page = client.get(org_url("analytics:my_stats", org)).content.decode()
    assert "Not computed yet: these numbers appear within a few minutes." in page


@pytest.mark.django_db
def test_dashboards_that_read_the_rollups_show_the_older_of_their_two_sources(org, client):
    folded = REFRESHED - timedelta(minutes=30)  # the rollups lag behind the per-author stats
    _refreshed(org, folded=folded)
    with time_machine.travel(REFRESHED + timedelta(minutes=1), tick=False):
        client.force_login(member(org, Role.MARKETER).user)
        marketer = client.get(org_url("analytics:content_performance", org)).content.decode()
        client.force_login(member(org, Role.EXECUTIVE).user)
        executive = client.get(org_url("analytics:reports", org)).content.decode()
    for page in (marketer, executive):
        assert 'title="9 Jan 2026 08:30 CET">31\xa0minutes ago</time>' in page


@pytest.mark.django_db
def test_the_fold_watermark_alone_does_not_count_as_an_update(org, client):
    rollups.fold_activity(organization=org)  # the rollups moved; the per-author stats never ran
    client.force_login(member(org, Role.EXECUTIVE).user)
    assert "Not computed yet" in client.get(org_url("analytics:reports", org)).content.decode()
