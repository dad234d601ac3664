"""`/r/<code>`: the tracked link's redirect, what it counts and what it refuses."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.db import connection

from analytics.models import Click, DailyRollup
from analytics.services import clicks
from tests.accounts.factories import OrganizationFactory, TeamFactory
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


@pytest.fixture(autouse=True)
def _fresh_link_cache():
    """Links cached in this process by an earlier test belong to rolled-back rows."""
    clicks.forget_local_links()
    yield
    clicks.forget_local_links()


@pytest.fixture
def delivery(db):
    org = OrganizationFactory(timezone="Europe/Paris")
    item = ContentItemFactory(organization=org, slug="spring-launch", url="https://acme.example/news/7?ref=site&b=%20x")
    share = ShareFactory(organization=org, item=item, team=TeamFactory(organization=org))
    return DeliveryFactory(organization=org, share=share, network="linkedin", status="published")


def visit(client, code: str, *, method: str = "get", ua: str = BROWSER, ip: str = "203.0.113.9", **headers):
    return getattr(client, method)(f"/r/{code}", HTTP_USER_AGENT=ua, REMOTE_ADDR=ip, **headers)


def buffered() -> list[bytes]:
    clicks.push_handoff()
    return clicks._redis().lrange(clicks.QUEUE, 0, -1)


def recorded(delivery) -> list[tuple[str, bool]]:
    """(discard reason, unique) of the delivery's clicks once flushed."""
    clicks.flush_clicks()
    return list(Click.objects.for_org(delivery.organization).order_by("at").values_list("discard_reason", "is_unique"))


def test_redirect_adds_the_utm_parameters_and_keeps_the_urls_own_query(client, delivery):
    response = visit(client, delivery.tracking_code)

    assert response.status_code == 302
    assert response["Location"] == (
        "https://acme.example/news/7?ref=site&b=%20x&utm_source=linkedin&utm_medium=employee_advocacy"
        f"&utm_campaign=spring-launch&utm_content={delivery.tracking_code}"
    )
    assert response["Cache-Control"] == "no-store"


def test_our_utm_values_replace_same_named_ones_and_the_fragment_stays_last(client, db):
    item = ContentItemFactory(
        slug="q3", url="https://acme.example/p?utm_source=newsletter&utm_campaign=old&keep=1#section-2"
    )
    d = DeliveryFactory(share=ShareFactory(item=item), network="x")

    location = visit(client, d.tracking_code)["Location"]

    assert location == (
        "https://acme.example/p?keep=1&utm_source=x&utm_medium=employee_advocacy"
        f"&utm_campaign=q3&utm_content={d.tracking_code}#section-2"
    )


def test_an_unknown_code_gets_the_friendly_404_page(client, db):
    response = visit(client, "nosuchcode")

    assert response.status_code == 404
    assert "analytics/link_not_found.html" in [t.name for t in response.templates]
    assert "This link does not lead anywhere" in response.content.decode()
    assert buffered() == []


@pytest.mark.parametrize("path", ["/r/" + "a" * 40, "/r/abc%3Cscript%3E", "/r/a.b", "/r/%20"])
def test_a_malformed_code_is_the_same_friendly_404(client, db, path):
    response = client.get(path, HTTP_USER_AGENT=BROWSER)

    assert response.status_code == 404
    assert "This link does not lead anywhere" in response.content.decode()


def test_open_redirect_attempts_are_ignored(client, delivery):
    code = delivery.tracking_code
    expected = visit(client, code)["Location"]

    tricks = [
        f"/r/{code}?next=https://evil.example/&url=//evil.example&redirect=https:%2F%2Fevil.example",
        f"/r/{code}?utm_source=evil&utm_content=evil",
    ]
    for path in tricks:
        response = client.get(path, HTTP_USER_AGENT=BROWSER, HTTP_REFERER="https://evil.example/")
        assert response.status_code == 302
        assert response["Location"] == expected, path
    # Someone else's host header does not change the absolute target either.
    assert visit(client, code, HTTP_HOST="localhost", HTTP_X_FORWARDED_HOST="evil.example")["Location"] == expected
    for path in [
        f"/r/{code}/https://evil.example",
        "/r//evil.example",
        "/r/%2F%2Fevil.example",
        f"/r/{code}//evil",
        "/r/..%2F..%2Fadmin",
    ]:
        response = client.get(path, HTTP_USER_AGENT=BROWSER)
        assert response.status_code == 404, path
        assert "evil" not in response.get("Location", "")


def test_a_person_clicking_is_buffered_without_the_address(client, delivery):
    visit(client, delivery.tracking_code, ip="198.51.100.77")

    (raw,) = buffered()
    assert b"198.51.100.77" not in raw
    click = clicks.BufferedClick.loads(raw)
    assert click.delivery_id == delivery.pk and click.network == "linkedin"
    assert click.team_key == delivery.share.team_id and click.item_id == delivery.share.item_id


def test_head_answers_the_redirect_but_is_not_counted(client, delivery):
    response = visit(client, delivery.tracking_code, method="head")

    assert response.status_code == 302
    assert "utm_content=" in response["Location"]
    assert buffered() == []


def test_other_methods_are_refused_and_not_counted(client, delivery):
    for method in ("post", "put", "delete"):
        assert visit(client, delivery.tracking_code, method=method).status_code == 405
    assert buffered() == []


@pytest.mark.parametrize(
    "ua",
    [
        "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
        "Twitterbot/1.0",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; SomeCrawler/3.0)",
        "Mozilla/5.0 (compatible; web-spider)",
        "WhatsApp/2.23.20.0",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "",
        "   ",
    ],
)
def test_bots_and_link_previews_get_the_redirect_but_are_not_counted(client, delivery, ua):
    response = visit(client, delivery.tracking_code, ua=ua)

    assert response.status_code == 302
    assert recorded(delivery) == [("bot", False)]
    assert not DailyRollup.objects.for_org(delivery.organization).filter(clicks__gt=0).exists()


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
        {"HTTP_PURPOSE": "prefetch"},
        {"HTTP_X_MOZ": "prefetch"},
    ],
)
def test_prefetches_are_not_counted(client, delivery, header):
    response = visit(client, delivery.tracking_code, **header)

    assert response.status_code == 302
    assert recorded(delivery) == [("bot", False)]


def test_after_warm_up_the_redirect_runs_no_query(client, delivery, django_assert_num_queries):
    with django_assert_num_queries(1):  # the first hit loads the link
        visit(client, delivery.tracking_code)
    with django_assert_num_queries(0):
        for _ in range(3):
            assert visit(client, delivery.tracking_code).status_code == 302
    with django_assert_num_queries(1):  # an unknown code: one lookup, then cached too
        visit(client, "unknown1")
    with django_assert_num_queries(0):
        assert visit(client, "unknown1").status_code == 404
    assert len(buffered()) == 4


def test_the_link_is_cached_in_the_process_then_the_shared_cache_then_sql(client, delivery, django_assert_num_queries):
    visit(client, delivery.tracking_code)
    with django_assert_num_queries(0):
        visit(client, delivery.tracking_code)  # this process's copy
    clicks.forget_local_links()
    with django_assert_num_queries(0):
        visit(client, delivery.tracking_code)  # the shared cache (another web process)
    clicks.forget_local_links()
    cache.delete(f"tracked-link:v1:{delivery.tracking_code}")

    with django_assert_num_queries(1):
        assert visit(client, delivery.tracking_code).status_code == 302


def test_no_raw_address_is_stored_anywhere(client, delivery):
    ip = "192.0.2.123"
    visit(client, delivery.tracking_code, ip=ip)
    assert all(ip.encode() not in raw for raw in buffered())
    clicks.flush_clicks()

    assert Click.objects.for_org(delivery.organization).count() == 1
    for model in (Click, DailyRollup):
        table = model._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")
            rows = [r[0] for r in cursor.fetchall()]
        assert rows and all(ip not in row for row in rows), table
    # Every key the click machinery left in Redis, too.
    r = clicks._redis()
    for key in r.keys("*"):
        kind = r.type(key)
        values = {b"list": lambda k: r.lrange(k, 0, -1), b"set": r.smembers, b"string": lambda k: [r.get(k)]}.get(
            kind, lambda k: []
        )(key)
        assert all(ip.encode() not in (v or b"") for v in values), key


def test_the_visitor_is_a_salted_daily_hash(delivery, settings):
    from datetime import date

    day = date(2026, 3, 1)
    one = clicks.visitor_hash(ip="192.0.2.1", day=day)

    assert one == clicks.visitor_hash(ip="192.0.2.1", day=day)
    assert one != clicks.visitor_hash(ip="192.0.2.1", day=date(2026, 3, 2))
    assert one != clicks.visitor_hash(ip="192.0.2.2", day=day)
    settings.CLICK_SALT = "another-deployment"
    assert one != clicks.visitor_hash(ip="192.0.2.1", day=day)
    assert len(one) == 32 and "192.0.2.1" not in json.dumps(one)


@pytest.mark.parametrize("marker", clicks.BOT_MARKERS)
def test_every_bot_marker_is_found_anywhere_in_the_user_agent_whatever_its_case(marker):
    """The markers are matched by one pattern: each one alone must still mark a bot."""
    assert not clicks.is_counted({"HTTP_USER_AGENT": f"Mozilla/5.0 ({marker.upper()} 1.0)"})
    assert clicks.is_counted({"HTTP_USER_AGENT": BROWSER, "HTTP_SEC_PURPOSE": "navigate"})


def test_a_buffered_click_carries_the_visitor_and_rate_hashes_of_its_address(client, delivery):
    """The redirect parses the address once for both hashes: they must equal the public ones."""
    visit(client, delivery.tracking_code, ip="2001:db8:1:2:3:4:5:6")

    click = clicks.BufferedClick.loads(buffered()[-1])
    assert click.visitor == clicks.visitor_hash(ip="2001:db8:1:2::9", day=click.day)  # the same /64
    assert click.source == clicks.rate_source(ip="2001:db8:1:2:3:4:5:6", at=click.at)
