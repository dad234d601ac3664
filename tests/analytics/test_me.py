"""The employee's own stats: reach, clicks, engagement, points and rank for a period and the
one before, from the per-author stats the refresh keeps (idempotent, watermark); the points
rules form; page and API agree; fixed queries whatever the history size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from analytics.models import AdvocateDailyStats, DeliveryMetrics, PointsRules
from analytics.selectors.advocates import my_stats
from analytics.selectors.periods import Period
from analytics.services import advocate_stats
from content.models import Share
from tests.accounts.factories import OrganizationFactory, acting
from tests.analytics.posts import post, share
from tests.content.factories import ContentItemFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

TZ = "Pacific/Auckland"  # UTC+13 in November
WEEK = Period(datetime(2026, 11, 9).date(), datetime(2026, 11, 15).date())
QUERY = {"start": "2026-11-09", "end": "2026-11-15"}


def local(day: int, hour: int = 10) -> datetime:
    """A November instant given in Auckland time."""
    return datetime(2026, 11, day, hour, tzinfo=UTC) - timedelta(hours=13)


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme", timezone=TZ)


@pytest.fixture
def me(org):
    return member(org)


@pytest.fixture
def world(org, me):
    item = ContentItemFactory(organization=org)
    p1 = post(org, me.user, item, at=local(10), likes=3, comments=1, impressions=200, clicks=5, unique_clicks=4)
    post(org, me.user, item, at=local(12), network="facebook", likes=2, comments=0, clicks=1, unique_clicks=1)
    share(org, me.user, item, at=local(13))  # submitted, not yet published
    share(org, me.user, item, at=local(13), status=Share.Status.CANCELLED)  # withdrawn: no points
    post(org, me.user, item, at=local(3), likes=10, comments=0, reposts=0, impressions=50)  # the week before
    post(org, me.user, item, at=local(16, 0), likes=99, comments=0, reposts=0)  # the 16th local: after
    rival = member(org)
    post(org, rival.user, item, at=local(11), likes=20, comments=0, reposts=0)
    advocate_stats.refresh(org)
    return {"item": item, "p1": p1, "rival": rival}


def test_my_numbers_match_hand_computed_ones_with_the_week_before(org, me, world):
    stats = my_stats(me, WEEK)
    now, before = stats["current"], stats["previous"]
    assert (now["shares"], now["posts"], now["clicks"], now["unique_clicks"]) == (3, 2, 6, 5)
    assert (now["likes"], now["comments"], now["engagement"], now["impressions"]) == (5, 1, 6, 200)
    assert now["reposts"] is None  # neither network reported reposts: not available, not 0
    # Default rules: 1 per share, 5 per post, 1 per unique click, 2 per like/comment/repost.
    assert now["points"] == 3 * 1 + 2 * 5 + 5 * 1 + 6 * 2 == 30
    assert (before["shares"], before["posts"], before["engagement"], before["points"]) == (1, 1, 10, 26)
    series = [(row["day"].day, row["posts"], row["clicks"]) for row in stats["series"]]
    assert series == [(10, 1, 5), (12, 1, 1), (13, 0, 0)]  # days with activity; the 13th: shares only
    board = stats["leaderboard"]
    assert (board.my_rank, board.ranked, board.hidden) == (2, 2, False)  # the rival: 1 + 5 + 40 = 46


def test_reach_and_engagement_not_available_when_no_network_gave_them(org, client):
    alone = member(org)
    post(org, alone.user, ContentItemFactory(organization=org), at=local(10), network="facebook", clicks=2)
    advocate_stats.refresh(org)
    now = my_stats(alone, WEEK)["current"]
    assert now["impressions"] is None and now["engagement"] is None and now["clicks"] == 2
    client.force_login(alone.user)
    page = client.get(org_url("analytics:my_stats", org), QUERY).content.decode()
    reach = page.split('data-figure="reach"')[1].split("</div>")[0]
    engagement = page.split('data-figure="engagement"')[1].split("</div>")[0]
    assert "not available" in reach and "not available" in engagement and ">0<" not in reach


def test_refresh_is_idempotent_and_picks_up_later_changes(org, me, world):
    def rows():
        return sorted(
            AdvocateDailyStats.objects.for_org(org).values_list("day", "user_id", "shares", "posts", "clicks", "likes")
        )

    first = rows()
    advocate_stats.rebuild(org)
    assert rows() == first  # recomputing every day changes nothing
    later = timezone.now() + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        advocate_stats.refresh(org)  # the overlap re-reads the last minutes: harmless
    with time_machine.travel(later + timedelta(hours=1), tick=False):
        assert advocate_stats.refresh(org) == 0  # nothing changed since: no day recomputed
        assert rows() == first
        # A later metric pull raises p1's likes; a share is withdrawn.
        DeliveryMetrics.objects.for_org(org).filter(delivery=world["p1"]).update(
            likes=13, last_pulled_at=timezone.now()
        )
        pending = Share.objects.for_org(org).get(author=me.user, status=Share.Status.SUBMITTED)
        pending.status = Share.Status.CANCELLED
        pending.save()
    with time_machine.travel(later + timedelta(hours=2), tick=False):
        assert advocate_stats.refresh(org) == 2  # the 10th (p1) and the 13th (the share), local
    now = my_stats(me, WEEK)["current"]
    assert (now["likes"], now["shares"]) == (15, 2)
    assert [row[0].day for row in rows() if row[1] == me.user_id] == [3, 10, 12, 16]  # the 13th is empty now


def test_page_shows_figures_chart_and_leaderboard(org, me, world, client):
    client.force_login(me.user)
    page = client.get(org_url("analytics:my_stats", org), QUERY).content.decode()
    points = page.split('data-figure="points"')[1].split("</div>")[0]
    rank = page.split('data-figure="rank"')[1].split("</div>")[0]
    assert ">30<" in points and "before: 26" in points and "#2" in rank and "of 2" in rank
    assert 'data-testid="chart-my-activity"' in page and "measured" in page
    assert "1 per share, 5 per published post" in page


def test_api_returns_the_numbers_of_the_page(org, me, world, client):
    client.force_login(me.user)
    body = client.get(f"/api/v1/o/{org.slug}/analytics/me/", QUERY).json()
    assert body["current"]["points"] == 30 and body["previous"]["points"] == 26
    assert body["current"]["reposts"] is None and body["current"]["impressions"] == 200
    assert body["leaderboard"]["my_rank"] == 2 and body["rules"]["points_per_post"] == 5


def test_only_employees_have_my_stats(org, client):
    client.force_login(member(org, Role.COMPLIANCE).user)
    assert client.get(org_url("analytics:my_stats", org)).status_code == 403
    assert client.get(f"/api/v1/o/{org.slug}/analytics/me/").status_code == 403


def test_query_count_does_not_grow_with_history(org, me, world, client, django_assert_num_queries):
    client.force_login(me.user)
    url = org_url("analytics:my_stats", org)
    client.get(url, QUERY)
    # 12 and 7: +1 when the numbers were last updated (issue 16), +1 the conversions their posts brought (17).
    with django_assert_num_queries(12) as small:
        client.get(url, QUERY)
    with django_assert_num_queries(7):
        my_stats(me, WEEK)
    item = ContentItemFactory(organization=org)
    for n in range(40):  # ten times the history: more days, more colleagues
        colleague = member(org) if n % 4 == 0 else me
        post(org, colleague.user, item, at=local(1 + n % 28, n % 24), likes=n, comments=1, clicks=n % 3)
    advocate_stats.refresh(org)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url, QUERY).status_code == 200


# --- points rules (org admins) --------------------------------------------------------------


def test_admin_sets_points_rules_and_they_apply(org, me, world, client):
    client.force_login(member(org, Role.ADMIN).user)
    url = org_url("analytics:points_rules", org)
    assert 'value="5"' in client.get(url).content.decode()  # the defaults
    values = {"points_per_share": "0", "points_per_post": "10", "points_per_click": "3", "points_per_engagement": "1"}
    assert client.post(url, values).status_code == 302
    rules = PointsRules.objects.for_org(org).get()
    assert (rules.points_per_share, rules.points_per_post, rules.points_per_click, rules.points_per_engagement) == (
        0,
        10,
        3,
        1,
    )
    assert my_stats(me, WEEK)["current"]["points"] == 0 + 2 * 10 + 5 * 3 + 6 * 1


def test_bad_points_rules_are_refused_in_plain_words_and_change_nothing(org, client):
    client.force_login(member(org, Role.ADMIN).user)
    url = org_url("analytics:points_rules", org)
    response = client.post(
        url,
        {"points_per_share": "-1", "points_per_post": "lots", "points_per_click": "1", "points_per_engagement": "1"},
    )
    page = response.content.decode()
    assert response.status_code == 200 and "greater than or equal to 0" in page and "Enter a whole number" in page
    assert not PointsRules.objects.for_org(org).exists()
    api = f"/api/v1/o/{org.slug}/analytics/points-rules/"
    bad = client.post(
        api,
        {"points_per_share": 1001, "points_per_post": 1, "points_per_click": 1, "points_per_engagement": 1},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "points_per_share" in bad.json()["error"]["fields"]
    assert not PointsRules.objects.for_org(org).exists()


def test_points_rules_service_refuses_values_out_of_range(org):
    from advocacy.errors import ValidationFailed
    from analytics.services.advocates import update_points_rules

    with pytest.raises(ValidationFailed) as refused:
        update_points_rules(
            actor=acting(org), points_per_share=1, points_per_post=5000, points_per_click=1, points_per_engagement="x"
        )
    assert set(refused.value.fields) == {"points_per_post", "points_per_engagement"}
    assert not PointsRules.objects.for_org(org).exists()


def test_only_admins_change_points_rules_everyone_reads_them(org, client):
    client.force_login(member(org, Role.EMPLOYEE, Role.MARKETER).user)
    assert client.get(org_url("analytics:points_rules", org)).status_code == 403
    api = f"/api/v1/o/{org.slug}/analytics/points-rules/"
    assert client.get(api).json()["points_per_post"] == 5
    values = {"points_per_share": 1, "points_per_post": 1, "points_per_click": 1, "points_per_engagement": 1}
    assert client.post(api, values, content_type="application/json").status_code == 403
    client.force_login(member(org, Role.ADMIN).user)
    assert client.post(api, values, content_type="application/json").json()["points_per_post"] == 1
