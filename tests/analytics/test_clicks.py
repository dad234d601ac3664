"""The click buffer and its flush: unique visitors, rollups in the organization's days,
retries after a database error without loss or double counting, the real worker."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from advocacy.addresses import address_network
from analytics.models import Click, DailyClickDiscard, DailyRollup
from analytics.services import clicks
from tests.accounts.factories import OrganizationFactory, TeamFactory
from tests.conftest import wait_for
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory

BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)
OTHER_BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture(autouse=True)
def _fresh_link_cache():
    """Links cached in this process by an earlier test belong to rolled-back rows."""
    clicks.forget_local_links()
    yield
    clicks.forget_local_links()


def make_delivery(tz: str = "UTC", network: str = "linkedin", team: bool = True, status: str = "published"):
    org = OrganizationFactory(timezone=tz)
    item = ContentItemFactory(organization=org)
    share = ShareFactory(organization=org, item=item, team=TeamFactory(organization=org) if team else None)
    return DeliveryFactory(organization=org, share=share, network=network, status=status)


def click(client, delivery, *, ip: str = "203.0.113.5", ua: str = BROWSER):
    response = client.get(f"/r/{delivery.tracking_code}", HTTP_USER_AGENT=ua, REMOTE_ADDR=ip)
    assert response.status_code == 302


def rollup_counts(delivery) -> list[tuple]:
    return list(
        DailyRollup.objects.for_org(delivery.organization)
        .filter(clicks__gt=0)
        .order_by("day", "network")
        .values_list("day", "team_key", "network", "item_id", "clicks", "unique_clicks")
    )


def click_rows(delivery) -> list[tuple]:
    return list(Click.objects.for_org(delivery.organization).order_by("at").values_list("day", "is_unique", "visitor"))


@pytest.mark.django_db
def test_flush_writes_click_rows_and_the_days_rollup(client):
    d = make_delivery(network="x")
    with time_machine.travel(datetime(2026, 3, 1, 9, 0, tzinfo=UTC), tick=False):
        click(client, d)
        click(client, d, ip="203.0.113.6")
    assert clicks.buffered_count() == 2

    outcome = clicks.flush_clicks()

    assert (outcome.clicks, outcome.unique_clicks, outcome.batches) == (2, 2, 1)
    assert clicks.buffered_count() == 0
    rows = list(
        Click.objects.for_org(d.organization).values_list("delivery_id", "network", "item_id", "team_key", "day")
    )
    assert rows == [(d.pk, "x", d.share.item_id, d.share.team_id, date(2026, 3, 1))] * 2
    assert rollup_counts(d) == [(date(2026, 3, 1), d.share.team_id, "x", d.share.item_id, 2, 2)]


@pytest.mark.django_db
def test_a_share_without_a_team_rolls_up_under_team_zero(client):
    d = make_delivery(team=False)
    click(client, d)
    clicks.flush_clicks()

    assert [row[1] for row in rollup_counts(d)] == [0]


@pytest.mark.django_db
def test_the_rollup_day_is_the_organizations_local_day():
    """10:59 UTC on 1 March is 00:59 on 2 March in Kiritimati (UTC+14) and 23:59 on
    28 February in Pago Pago (UTC-11): each click lands on its organization's day."""
    east = make_delivery(tz="Pacific/Kiritimati")
    west = make_delivery(tz="Pacific/Pago_Pago")
    late_evening = datetime(2026, 3, 1, 10, 59, tzinfo=UTC)  # 2 Mar 00:59 east, 28 Feb 23:59 west

    for d in (east, west):
        clicks.record_click(link=clicks.link_for(d.tracking_code), ip="192.0.2.1", at=late_evening)
    clicks.flush_clicks()

    assert [r[0] for r in rollup_counts(east)] == [date(2026, 3, 2)]
    assert [r[0] for r in rollup_counts(west)] == [date(2026, 2, 28)]
    assert [r[0] for r in click_rows(east)] == [date(2026, 3, 2)]


@pytest.mark.django_db
def test_unique_clicks_per_visitor_per_day(client):
    d = make_delivery(tz="America/New_York")
    # 23:30 and 23:50 in New York on 1 March, then 00:10 on 2 March (05:10 UTC).
    with time_machine.travel(datetime(2026, 3, 2, 4, 30, tzinfo=UTC), tick=False):
        click(client, d)
    clicks.flush_clicks()  # the first click already flushed: the second is checked against the table
    with time_machine.travel(datetime(2026, 3, 2, 4, 50, tzinfo=UTC), tick=False):
        click(client, d)  # same visitor, same day: a click, not a unique one
    with time_machine.travel(datetime(2026, 3, 2, 4, 51, tzinfo=UTC), tick=False):
        click(client, d, ua=OTHER_BROWSER)  # same address, another browser: the same visitor
    with time_machine.travel(datetime(2026, 3, 2, 4, 52, tzinfo=UTC), tick=False):
        click(client, d, ip="198.51.100.20")  # another address: another visitor
    with time_machine.travel(datetime(2026, 3, 2, 5, 10, tzinfo=UTC), tick=False):
        click(client, d)  # the next local day: unique again
    with time_machine.travel(datetime(2026, 3, 2, 5, 11, tzinfo=UTC), tick=False):
        click(client, d)  # ...once

    clicks.flush_clicks()

    assert rollup_counts(d) == [
        (date(2026, 3, 1), d.share.team_id, "linkedin", d.share.item_id, 4, 2),
        (date(2026, 3, 2), d.share.team_id, "linkedin", d.share.item_id, 2, 1),
    ]
    rows = click_rows(d)
    assert [(day, unique) for day, unique, _ in rows] == [
        (date(2026, 3, 1), True),
        (date(2026, 3, 1), False),
        (date(2026, 3, 1), False),
        (date(2026, 3, 1), True),
        (date(2026, 3, 2), True),
        (date(2026, 3, 2), False),
    ]
    # The same person hashes differently on the next day: days cannot be linked.
    assert rows[0][2] == rows[1][2] and rows[4][2] == rows[5][2] and rows[0][2] != rows[4][2]


@pytest.mark.django_db
def test_twenty_user_agents_from_one_address_are_one_unique_click(client):
    """Issue 15, point 4: rotating the user agent does not make new visitors."""
    d = make_delivery()
    for n in range(20):
        click(client, d, ip="203.0.113.77", ua=f"{BROWSER} Variant/{n}")
    clicks.flush_clicks()

    assert rollup_counts(d) == [(rollup_counts(d)[0][0], d.share.team_id, "linkedin", d.share.item_id, 20, 1)]


@pytest.mark.django_db
def test_ipv6_addresses_in_one_slash_64_are_one_visitor(client):
    d = make_delivery()
    click(client, d, ip="2001:db8:1:2::1")
    click(client, d, ip="2001:db8:1:2:aaaa:bbbb:cccc:dddd")
    click(client, d, ip="2001:db8:1:3::1")  # another /64: another visitor
    clicks.flush_clicks()

    assert Click.objects.for_org(d.organization).filter(is_unique=True).count() == 2
    assert address_network("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_network("::ffff:192.0.2.7") == "192.0.2.7"


@pytest.mark.parametrize(
    "ip",
    ["192.0.2.7", "0.0.0.0", "255.255.255.255", "010.1.2.3", "1.2.3", "1.2.3.256", " 192.0.2.7 ", "192.0.2.7\n",
     "2001:db8::1", "::ffff:192.0.2.7", "not an address", "", "1.2.3.4.5", "1.2.3.04"],
)  # fmt: skip
def test_the_ipv4_fast_path_answers_as_ipaddress_does(ip):
    """The tracked redirect's shortcut for a canonical IPv4 address gives what parsing gives."""
    import ipaddress

    try:
        parsed = ipaddress.ip_address(ip.strip())
    except ValueError:
        expected = ip.strip()
    else:
        mapped = isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped
        expected = (
            str(mapped) if mapped else str(ipaddress.IPv6Network((parsed, 64), strict=False))
            if isinstance(parsed, ipaddress.IPv6Address) else str(parsed)
        )  # fmt: skip
    assert address_network(ip) == expected


def discards(org) -> dict[str, int]:
    return dict(DailyClickDiscard.objects.for_org(org).values_list("reason", "clicks"))


@pytest.mark.django_db
def test_over_the_per_address_rate_clicks_redirect_but_are_discarded(client, settings):
    """Issue 15, point 4: beyond CLICK_RATE_PER_IP_MINUTE clicks a minute from one address,
    across all links, the visitor is still redirected but nothing more is counted."""
    settings.CLICK_RATE_PER_IP_MINUTE = 3
    d = make_delivery()
    other = DeliveryFactory(organization=d.organization, share=d.share, network="facebook", status="published")
    with time_machine.travel(datetime(2026, 3, 2, 9, 15, 5, tzinfo=UTC), tick=True):
        for n in range(6):
            click(client, d if n % 2 else other, ip="203.0.113.50", ua=f"{BROWSER} {n}")  # asserts the 302
        click(client, d, ip="198.51.100.7")  # another address keeps its own allowance
    clicks.flush_clicks()
    clicks.flush_clicks()  # a second flush changes nothing

    rows = Click.objects.for_org(d.organization)
    assert rows.filter(discard_reason="").count() == 4
    assert rows.filter(discard_reason="rate").count() == 3
    assert not rows.filter(discard_reason="rate", is_unique=True).exists()
    assert discards(d.organization) == {"rate": 3}
    counted = DailyRollup.objects.for_org(d.organization).filter(clicks__gt=0)
    assert sum(counted.values_list("clicks", flat=True)) == 4
    with time_machine.travel(datetime(2026, 3, 2, 9, 16, 5, tzinfo=UTC), tick=False):
        click(client, d, ip="203.0.113.50")  # the next minute: counted again
    clicks.flush_clicks()
    assert rows.filter(discard_reason="").count() == 5


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["pending", "publishing", "failed", "needs_reconnect"])
def test_a_click_on_a_delivery_not_posted_redirects_but_is_discarded(client, status):
    d = make_delivery(status=status)

    click(client, d)
    clicks.flush_clicks()

    assert list(Click.objects.for_org(d.organization).values_list("discard_reason", "is_unique")) == [
        ("not_published", False)
    ]
    assert discards(d.organization) == {"not_published": 1}
    assert not DailyRollup.objects.for_org(d.organization).filter(clicks__gt=0).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("share_status", ["in_review", "cancelled"])
def test_a_click_on_a_share_in_review_or_cancelled_is_not_counted(client, share_status):
    org = OrganizationFactory()
    share = ShareFactory(organization=org, item=ContentItemFactory(organization=org), status=share_status)
    d = DeliveryFactory(organization=org, share=share)  # a delivery of such a share is never posted

    click(client, d)
    click(client, d, ip="198.51.100.9")
    clicks.flush_clicks()

    assert discards(org) == {"not_published": 2}
    assert not Click.objects.for_org(org).filter(discard_reason="").exists()
    assert not DailyRollup.objects.for_org(org).filter(clicks__gt=0).exists()


@pytest.mark.django_db
def test_posted_id_unknown_and_confirmed_assisted_deliveries_count(client):
    d = make_delivery()
    other = DeliveryFactory(organization=d.organization, share=d.share, network="x", status="posted_id_unknown")
    click(client, d)
    click(client, other)
    clicks.flush_clicks()

    assert d.mode == "assisted"
    assert Click.objects.for_org(d.organization).filter(discard_reason="", is_unique=True).count() == 2


@pytest.mark.django_db
def test_the_dashboard_shows_the_discarded_clicks_by_reason(client, settings, django_assert_num_queries):
    from accounts.models import Role
    from analytics.selectors import roi
    from analytics.selectors.periods import Period
    from tests.helpers import member, org_url

    settings.CLICK_RATE_PER_IP_MINUTE = 2
    d = make_delivery()
    in_review = ShareFactory(organization=d.organization, item=d.share.item, status="in_review")
    unpublished = DeliveryFactory(organization=d.organization, share=in_review)  # pending
    with time_machine.travel(datetime.now(UTC).replace(second=1), tick=False):
        for n in range(4):  # two counted, two over the rate
            click(client, d, ip="203.0.113.60", ua=f"{BROWSER} {n}")
        click(client, d, ua="Twitterbot/1.0")
        click(client, unpublished, ip="198.51.100.61")
    clicks.flush_clicks()

    today = clicks.rollups.local_day(datetime.now(UTC), d.organization.timezone)
    with django_assert_num_queries(roi.QUERIES):
        report = roi.executive_report(d.organization, Period(today - timedelta(days=1), today))
    assert report["discarded_clicks"] == {
        "total": 4,
        "reasons": [
            {"reason": "bot", "label": "Bot or link preview", "clicks": 1},
            {"reason": "rate", "label": "Over the per-address rate", "clicks": 2},
            {"reason": "not_published", "label": "Post not published", "clicks": 1},
        ],
    }
    client.force_login(member(d.organization, Role.EXECUTIVE).user)
    page = client.get(org_url("analytics:reports", d.organization) + "?days=7").content.decode()
    assert 'data-testid="discarded-clicks"' in page
    assert '<tr data-reason="rate"><th scope="row">Over the per-address rate</th><td>2</td></tr>' in page
    assert '<tr data-reason="not_published"><th scope="row">Post not published</th><td>1</td></tr>' in page


@pytest.mark.django_db
def test_the_same_visitor_on_two_deliveries_is_unique_on_each(client):
    d = make_delivery()
    other = DeliveryFactory(organization=d.organization, share=d.share, network="facebook", status="published")
    click(client, d)
    click(client, other)
    clicks.flush_clicks()

    assert Click.objects.for_org(d.organization).filter(is_unique=True).count() == 2


@pytest.mark.django_db
def test_a_batch_costs_the_same_queries_whatever_its_size(client):
    counts = []
    for n in (3, 60):
        d = make_delivery()
        for i in range(n):
            click(client, d, ip=f"198.51.100.{i % 7}")
        with CaptureQueriesContext(connection) as queries:
            assert clicks.flush_clicks().clicks == n
        counts.append(len(queries))
    assert counts[0] == counts[1]


def _fail_rollup_writes():
    """A real database error inside the flush's transaction, after the Click rows went in."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_rollup() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk full (test)'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER test_refuse_rollup BEFORE INSERT OR UPDATE ON {DailyRollup._meta.db_table} "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_rollup()"
        )


def _heal_rollup_writes():
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER test_refuse_rollup ON {DailyRollup._meta.db_table}")
        cursor.execute("DROP FUNCTION test_refuse_rollup()")


@pytest.mark.django_db
def test_a_failed_flush_is_retried_without_losing_or_double_counting(client):
    d = make_delivery()
    click(client, d)
    click(client, d)
    click(client, d, ip="198.51.100.1")
    clicks.flush_clicks(batch_size=2, max_batches=1)  # one batch of two goes in before the failure
    click(client, d, ip="198.51.100.2")
    _fail_rollup_writes()

    with pytest.raises(DatabaseError, match="disk full"):
        clicks.flush_clicks(batch_size=2)

    # Nothing of the failed batch was written; it waits in Redis with the rest.
    assert Click.objects.for_org(d.organization).count() == 2
    assert rollup_counts(d)[0][4:] == (2, 1)
    assert clicks.buffered_count() == 2
    _heal_rollup_writes()

    outcome = clicks.flush_clicks(batch_size=2)

    assert outcome.clicks == 2 and clicks.buffered_count() == 0
    assert Click.objects.for_org(d.organization).count() == 4
    assert rollup_counts(d)[0][4:] == (4, 3)


@pytest.mark.django_db
def test_a_batch_written_twice_counts_once(client):
    """The flush committed but died before deleting its batch: the next flush writes it again."""
    d = make_delivery()
    click(client, d)
    click(client, d, ip="198.51.100.3")
    r = clicks._redis()
    clicks.push_handoff()
    payloads = r.lrange(clicks.QUEUE, 0, -1)
    clicks.flush_clicks()
    # The batch as it would still be in Redis had the delete never happened.
    r.rpush(clicks._batch_key("left-over"), *payloads)
    r.sadd(clicks.PENDING, "left-over")

    outcome = clicks.flush_clicks()

    assert (outcome.batches, outcome.clicks) == (1, 0)
    assert Click.objects.for_org(d.organization).count() == 2
    assert rollup_counts(d)[0][4:] == (2, 2)
    assert clicks.buffered_count() == 0


@pytest.mark.django_db
def test_a_click_whose_delivery_is_gone_is_skipped_not_stuck(client):
    kept = make_delivery()
    click(client, kept)
    clicks.push_handoff()
    gone = clicks.BufferedClick.loads(clicks._redis().lindex(clicks.QUEUE, 0))
    gone = dataclasses.replace(gone, id=uuid.uuid4(), delivery_id=987654321)
    clicks._redis().rpush(clicks.QUEUE, gone.dumps(), b"not a click")

    outcome = clicks.flush_clicks()

    assert (outcome.clicks, outcome.skipped) == (1, 2)
    assert clicks.buffered_count() == 0
    assert Click.objects.for_org(kept.organization).count() == 1


@pytest.mark.django_db
def test_one_flush_at_a_time(client):
    d = make_delivery()
    click(client, d)
    clicks._redis().set(clicks.FLUSH_LOCK, "another-flusher", px=5000)

    assert clicks.flush_clicks().busy
    assert clicks.buffered_count() == 1
    clicks._redis().delete(clicks.FLUSH_LOCK)
    assert clicks.flush_clicks().clicks == 1


@pytest.mark.django_db
def test_while_redis_is_down_clicks_wait_in_the_process_and_go_when_it_answers(client, settings):
    d = make_delivery()
    working = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    click(client, d)  # the visitor is redirected (asserted there) and never waits on Redis
    click(client, d, ip="198.51.100.3")

    assert clicks.push_handoff() == 0  # refused: kept
    # The hand-off thread retries every 50 ms; a retry in flight holds the clicks for a moment.
    wait_for(lambda: len(clicks._handoff) == 2, message="the two clicks kept in this process")
    settings.REDIS_URL = working
    wait_for(lambda: clicks.buffered_count() == 2, message="the two clicks pushed once Redis answers")
    assert clicks.flush_clicks().clicks == 2
    assert rollup_counts(d)[0][4:] == (2, 2)


@pytest.mark.django_db
def test_without_redis_a_click_is_written_at_once(client, settings):
    d = make_delivery()
    settings.REDIS_URL = ""
    click(client, d)
    click(client, d)

    assert clicks.buffered_count() == 0
    assert rollup_counts(d)[0][4:] == (2, 1)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_flushes_the_buffer(client, worker_process):
    from analytics.tasks import flush_clicks

    d = make_delivery()
    for n in range(5):
        click(client, d, ip=f"198.51.100.{n % 3}")
    assert clicks.buffered_count() == 5
    # The redirect only handed them over; this process's hand-off thread pushes them itself.
    wait_for(lambda: clicks._redis().llen(clicks.QUEUE) == 5, message="the hand-off pushing to Redis")

    flush_clicks.delay()

    wait_for(lambda: Click.objects.for_org(d.organization).count() == 5, message="the worker's flush")
    wait_for(lambda: clicks.buffered_count() == 0, message="the batch removed from Redis")
    assert rollup_counts(d)[0][4:] == (5, 3)


@pytest.mark.django_db
def test_a_full_hand_off_drops_new_clicks_not_the_redirect(client, settings, monkeypatch, caplog):
    d = make_delivery()
    monkeypatch.setattr(clicks, "HANDOFF_MAX", 2)
    working = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # Redis unreachable for a while
    for n in range(3):
        click(client, d, ip=f"198.51.100.{n}")  # every visitor is still redirected

    assert "click hand-off full" in caplog.text
    settings.REDIS_URL = working
    assert clicks.flush_clicks().clicks == 2
    assert rollup_counts(d)[0][4:] == (2, 2)
