"""The marketer's content performance: items and topics (DailyRollup), best time to share by
the organization's local weekday and hour, suggestions used, personalised against verbatim
commentary; "not available" for counters no network gave; page and API agree; fixed queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from accounts.models import Role
from analytics.selectors.content import content_performance
from analytics.selectors.periods import Period
from analytics.services import advocate_stats
from tests.analytics.posts import post
from tests.content.factories import ContentItemFactory, SuggestionFactory, TopicFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

# Auckland is UTC+13 in November: far from UTC, so local days and hours differ from UTC's.
TZ = "Pacific/Auckland"
WEEK = Period(datetime(2026, 11, 2).date(), datetime(2026, 11, 8).date())  # Monday to Sunday, local
QUERY = {"start": "2026-11-02", "end": "2026-11-08"}


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def org():
    from tests.accounts.factories import OrganizationFactory

    return OrganizationFactory(slug="acme", name="Acme", timezone=TZ)


@pytest.fixture
def world(org):
    """Five posts in (and around) the local week of 2 to 8 November, hand-counted below."""
    e1, e2 = member(org).user, member(org).user
    launch, hiring = TopicFactory(organization=org, name="Launch"), TopicFactory(organization=org, name="Hiring")
    item1 = ContentItemFactory(organization=org, title="Rocket launch")
    item2 = ContentItemFactory(organization=org, title="New office")
    item1.topics.add(launch, hiring)
    item2.topics.add(launch)
    s1 = SuggestionFactory(item=item1, text="We are going to space!")
    # A: Monday 2 Nov 11:30 local, the suggestion as written.
    post(
        org,
        e1,
        item1,
        at=utc(2026, 11, 1, 22, 30),
        likes=10,
        comments=2,
        reposts=1,
        impressions=500,
        clicks=4,
        unique_clicks=3,
        suggestion=s1,
        personalised=False,
    )
    # B: Tuesday 3 Nov 09:00 local, the suggestion edited.
    post(
        org,
        e2,
        item1,
        at=utc(2026, 11, 2, 20, 0),
        network="x",
        likes=4,
        comments=0,
        reposts=2,
        impressions=100,
        clicks=2,
        unique_clicks=2,
        suggestion=s1,
        personalised=True,
    )
    # C: Thursday 5 Nov 12:00 local, own words, Facebook gives no reposts nor impressions.
    post(org, e1, item2, at=utc(2026, 11, 4, 23, 0), network="facebook", likes=6, comments=1, clicks=1, unique_clicks=1)
    # E: Sunday 8 Nov 23:59 local (still the 8th there), metrics seen at once.
    post(
        org,
        e2,
        item2,
        at=utc(2026, 11, 8, 10, 59),
        likes=1,
        comments=0,
        reposts=0,
        impressions=10,
        seen_after=timedelta(0),
    )
    # F: 9 Nov 00:00 local although still the 8th in UTC: outside the week.
    post(
        org,
        e1,
        item2,
        at=utc(2026, 11, 8, 11, 0),
        likes=100,
        comments=0,
        reposts=0,
        impressions=1000,
        seen_after=timedelta(0),
    )
    # D: weeks before: outside.
    post(org, e2, item1, at=utc(2026, 10, 20, 9, 0), likes=50, comments=5, reposts=5, impressions=900)
    advocate_stats.refresh(org)
    return {"item1": item1, "item2": item2, "s1": s1, "launch": launch, "hiring": hiring}


def test_items_and_topics_match_hand_computed_numbers(org, world):
    data = content_performance(org, WEEK)
    item1, item2 = data.items
    assert item1["title"] == "Rocket launch" and item2["title"] == "New office"  # best first
    assert {
        k: item1[k]
        for k in (
            "shares",
            "published",
            "clicks",
            "unique_clicks",
            "likes",
            "comments",
            "reposts",
            "impressions",
            "engagement",
        )
    } == {
        "shares": 2,
        "published": 2,
        "clicks": 6,
        "unique_clicks": 5,
        "likes": 14,
        "comments": 2,
        "reposts": 3,
        "impressions": 600,
        "engagement": 19,
    }
    assert item1["engagement_per_post"] == 9.5
    # F is on the 9th in Auckland: not in the week although it is the 8th in UTC.
    assert (item2["shares"], item2["published"], item2["likes"], item2["engagement"], item2["impressions"]) == (
        2,
        2,
        7,
        8,
        10,
    )
    topics = {row["name"]: row for row in data.topics}
    assert (topics["Launch"]["items"], topics["Launch"]["published"], topics["Launch"]["engagement"]) == (2, 4, 27)
    assert (topics["Hiring"]["items"], topics["Hiring"]["engagement"]) == (1, 19)


def test_personalised_against_verbatim_and_suggestions_used(org, world):
    data = content_performance(org, WEEK)
    own, verbatim = data.commentary
    assert own["kind"] == "personalised" and verbatim["kind"] == "verbatim"
    # B, C and E in own words: engagement 6 + 7 + 1, clicks 2 + 1 + 0, impressions 100 + n/a + 10.
    assert (own["posts"], own["engagement"], own["engagement_per_post"], own["clicks_per_post"]) == (3, 14, 4.67, 1.0)
    assert own["impressions"] == 110
    assert (verbatim["posts"], verbatim["engagement"], verbatim["clicks"], verbatim["impressions"]) == (1, 13, 4, 500)
    [used] = data.suggestions
    assert used["suggestion_id"] == world["s1"].pk and used["text"] == "We are going to space!"
    assert (used["posts"], used["verbatim_posts"], used["edited_posts"], used["engagement"]) == (2, 1, 1, 19)
    assert (used["engagement_per_post"], used["clicks_per_post"]) == (9.5, 3.0)


def test_best_time_is_the_local_weekday_and_hour_with_most_engagement_per_post(org):
    author = member(org).user
    item = ContentItemFactory(organization=org)
    # Three posts on Tuesdays at 08:xx Auckland time (Monday 19:xx UTC), 9 engagement each...
    for day in (2, 9, 16):
        post(org, author, item, at=utc(2026, 11, day, 19, 15), likes=5, comments=2, reposts=2)
    # ...and three on Fridays at 17:xx local with 2 each; one lone Sunday post with 50 (too few to judge).
    for day in (6, 13, 20):
        post(org, author, item, at=utc(2026, 11, day, 4, 5), likes=2, comments=0, reposts=0)
    post(org, author, item, at=utc(2026, 11, 7, 20, 0), likes=50, comments=0, reposts=0)
    advocate_stats.refresh(org)
    data = content_performance(org, Period(WEEK.start, WEEK.start + timedelta(days=20)))
    assert data.best_slot == {"weekday": "Tuesday", "hour": "08:00", "posts": 3, "engagement_per_post": 9.0}
    by_weekday = {row["label"]: row for row in data.by_weekday}
    assert (by_weekday["Tuesday"]["posts"], by_weekday["Friday"]["engagement_per_post"]) == (3, 2.0)
    assert by_weekday["Sunday"]["engagement"] == 50 and by_weekday["Monday"]["posts"] == 0
    assert by_weekday["Monday"]["engagement_per_post"] is None
    by_hour = {row["label"]: row for row in data.by_hour}
    assert by_hour["08:00"]["posts"] == 3 and by_hour["17:00"]["posts"] == 3 and by_hour["09:00"]["posts"] == 1


def test_counters_no_network_gave_are_not_available_never_zero(org, client):
    author = member(org).user
    item = ContentItemFactory(organization=org, title="Only on Facebook")
    post(org, author, item, at=utc(2026, 11, 3, 1, 0), network="facebook", clicks=2, unique_clicks=1)
    advocate_stats.refresh(org)
    [row] = content_performance(org, WEEK).items
    assert row["impressions"] is None and row["likes"] is None and row["engagement"] is None
    assert row["clicks"] == 2  # our own redirect still counts
    own = content_performance(org, WEEK).commentary[0]
    assert own["engagement"] is None and own["impressions_per_post"] is None
    client.force_login(member(org, Role.MARKETER).user)
    page = client.get(org_url("analytics:content_performance", org), QUERY).content.decode()
    items_table = page.split('data-testid="items-table"')[1].split("</table>")[0]
    # impressions, engagement and estimated reach; clicks are ours: 2; no conversion key: "not set".
    assert items_table.count("not available") == 3 and "<td>0</td>" not in items_table
    assert items_table.count("<td>not set</td>") == 3  # conversions, won revenue, pipeline: no key, no CRM
    assert "<td>2</td>" in items_table and "None" not in items_table


def test_page_shows_the_numbers_with_charts_and_labels(org, world, client):
    client.force_login(member(org, Role.MARKETER).user)
    response = client.get(org_url("analytics:content_performance", org), QUERY)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Rocket launch") < page.index("New office")
    assert 'data-testid="chart-by-weekday"' in page and 'data-testid="chart-by-hour"' in page
    assert "chart.umd.min.js" in page and "measured" in page and "estimated" in page
    assert "We are going to space!" in page
    assert 'data-kind="verbatim"' in page and "Not enough posts" in page


def test_api_returns_the_numbers_of_the_page(org, world, client):
    client.force_login(member(org, Role.MARKETER).user)
    body = client.get(f"/api/v1/o/{org.slug}/analytics/content/", QUERY).json()
    expected = content_performance(org, WEEK).as_dict()
    assert [i["item_id"] for i in body["items"]] == [i["item_id"] for i in expected["items"]]
    assert body["items"][0]["engagement"] == 19 and body["items"][1]["impressions"] == 10
    assert body["commentary"][0]["engagement_per_post"] == 4.67
    assert body["suggestions"][0]["verbatim_posts"] == 1
    assert len(body["best_time"]["by_hour"]) == 24 and body["start"] == "2026-11-02"
    bad = client.get(f"/api/v1/o/{org.slug}/analytics/content/", {"start": "2026-11-08", "end": "2026-11-01"})
    assert bad.status_code == 400 and "start date is after the end date" in bad.json()["error"]["message"]


def test_bad_period_on_the_page_says_so_and_shows_the_default(org, world, client):
    client.force_login(member(org, Role.MARKETER).user)
    page = client.get(org_url("analytics:content_performance", org), {"start": "yesterday", "end": "x"})
    assert page.status_code == 200 and "is not a date like" in page.content.decode()


@pytest.mark.parametrize(
    "roles,status", [([Role.MARKETER], 200), ([Role.EXECUTIVE], 200), ([Role.EMPLOYEE], 403), ([Role.COMPLIANCE], 403)]
)
def test_marketers_and_executives_only(org, client, roles, status):
    client.force_login(member(org, *roles).user)
    assert client.get(org_url("analytics:content_performance", org)).status_code == status
    assert client.get(f"/api/v1/o/{org.slug}/analytics/content/").status_code == status


def test_query_count_does_not_grow_with_history(org, world, client, django_assert_num_queries):
    client.force_login(member(org, Role.MARKETER).user)
    url = org_url("analytics:content_performance", org)
    client.get(url, QUERY)  # warm the session
    # 14 and 9: +1 when the numbers were last updated (issue 16), +1 topics' reported counters, +1 whether
    # the organization reports conversions (issue 17).
    with django_assert_num_queries(14) as small:
        client.get(url, QUERY)
    with django_assert_num_queries(9):
        content_performance(org, WEEK)
    # Ten times more history, before and inside the week, with more items, topics and suggestions.
    author = member(org).user
    for n in range(30):
        item = ContentItemFactory(organization=org)
        item.topics.add(TopicFactory(organization=org))
        suggestion = SuggestionFactory(item=item)
        for at in (utc(2026, 10, 1 + n % 28, 3, 0), utc(2026, 11, 2 + n % 6, n % 24, 0)):
            post(
                org,
                author,
                item,
                at=at,
                likes=n,
                comments=1,
                reposts=0,
                impressions=10 * n,
                clicks=n % 3,
                unique_clicks=n % 2,
                suggestion=suggestion,
                personalised=bool(n % 2),
            )
    advocate_stats.refresh(org)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, QUERY)
    assert response.status_code == 200 and len(content_performance(org, WEEK).items) == 32
