"""Publishing rules tested through the service itself (no broker needed for these steps),
against the emulator over real HTTP: the time a share is due across a daylight-saving
change, the shared rate limiter, token refresh, cancel, retry and taking a share down."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import SocialConnection
from content.models import Delivery, Share
from content.services import publishing, sharing
from content.services.publishing import limits
from tests.content.publishing_setup import make_due

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PARIS_OCTOBER = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)  # before the last Sunday of October (the 25th)


@pytest.fixture
def quiet_queue(settings):
    """Messages go to a queue no worker reads: these tests drive `publish()` themselves."""
    settings.PUBLISH_QUEUE = "publish-nobody-listens"


def compose(client, pub, membership, account, local_time: str) -> Share:
    client.force_login(membership.user)
    url = reverse("content:compose", kwargs={"org_slug": pub.org.slug, "content_item_id": pub.item.pk})
    response = client.post(
        url,
        {
            "commentary": f"Wind farm tour, {local_time}.",
            "targets": [f"connection:{account.pk}"],
            "when": "later",
            "scheduled_for": local_time,
            "confirm_repeat": "1",  # the same item again on purpose: no "Share again?" question
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Share.objects.for_org(pub.org).get(commentary=f"Wind farm tour, {local_time}.")


def test_nine_in_paris_is_due_at_nine_in_paris_on_both_sides_of_the_october_change(pub, client, quiet_queue):
    emma = pub.employee()
    emma.user.timezone = "Europe/Paris"
    emma.user.save()
    x = pub.connect(emma, "x")
    with time_machine.travel(PARIS_OCTOBER, tick=False):
        before_change = compose(client, pub, emma, x, "2026-10-24T09:00")  # CEST, UTC+2
        after_change = compose(client, pub, emma, x, "2026-10-26T09:00")  # CET, UTC+1
    first, second = pub.deliveries(before_change)[0], pub.deliveries(after_change)[0]
    assert first.due_at == datetime(2026, 10, 24, 7, 0, tzinfo=UTC)
    assert second.due_at == datetime(2026, 10, 26, 8, 0, tzinfo=UTC)
    assert (before_change.status, after_change.status) == ("scheduled", "scheduled")

    for delivery, due in ((first, first.due_at), (second, second.due_at)):
        with time_machine.travel(due - timedelta(seconds=30), tick=False):
            assert publishing.sweep()["due"] == 0
            assert publishing.publish(delivery.pk) == "not_due"
        with time_machine.travel(due + timedelta(seconds=5), tick=False):
            assert publishing.publish(delivery.pk) == "published"
        delivery.refresh_from_db()
        local = delivery.published_at.astimezone(timezone.get_fixed_timezone(0)).astimezone(
            __import__("zoneinfo").ZoneInfo("Europe/Paris")
        )
        assert (local.hour, local.minute) == (9, 0), "09:00 on the employee's clock"
    assert len(pub.posts("x")) == 2


def test_a_burst_beyond_the_account_limit_is_rescheduled_not_fired(pub, settings, quiet_queue):
    settings.PUBLISH_RATE_LIMITS = {**settings.PUBLISH_RATE_LIMITS, "x": {"account": [(3, 60)], "app": []}}
    emma = pub.employee()
    x = pub.connect(emma, "x")
    shares = [pub.share(emma, [x]) for _ in range(5)]
    outcomes = [publishing.publish(pub.deliveries(s)[0].pk) for s in shares]

    assert outcomes == ["published", "published", "published", "deferred", "deferred"]
    assert len(pub.posts("x")) == 3
    assert pub.emulator.state()["counters"]["x"].get("faults_fired.rate_limit", 0) == 0
    waiting = [pub.deliveries(s)[0] for s in shares[3:]]
    for delivery in waiting:
        assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 0
        assert timedelta(seconds=55) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=60)
    assert publishing.sweep()["due"] == 0, "not before a slot frees up"
    with time_machine.travel(timezone.now() + timedelta(seconds=61), tick=False):
        assert limits.acquire("x", account=x.remote_id, app="acme-x-app") == 0.0


def test_the_limiter_is_shared_and_counts_per_account(settings):
    settings.PUBLISH_RATE_LIMITS = {"x": {"account": [(2, 900)], "app": [(3, 900)]}}
    assert limits.acquire("x", account="a", app="app") == 0.0
    assert limits.acquire("x", account="a", app="app") == 0.0
    assert 899 < limits.acquire("x", account="a", app="app") <= 900, "account a is full"
    assert limits.acquire("x", account="b", app="app") == 0.0, "another account has its own budget"
    assert limits.acquire("x", account="c", app="app") > 0, "but the app's budget is shared"


def test_an_expired_token_is_refreshed_once_and_the_post_goes_out(pub, quiet_queue):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    old_token = x.access_token
    pub.emulator.fault("x", "expire_token", account_id=x.remote_id, path="/2/tweets")
    share = pub.share(emma, [x])

    assert publishing.publish(pub.deliveries(share)[0].pk) == "published"
    x.refresh_from_db()
    assert x.access_token != old_token and x.status == SocialConnection.Status.ACTIVE
    assert pub.emulator.state()["counters"]["x"]["refreshes"] == 1
    assert len(pub.posts("x")) == 1


def test_a_token_near_expiry_is_refreshed_before_use(pub, quiet_queue):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    SocialConnection.objects.for_org(pub.org).filter(pk=x.pk).update(expires_at=timezone.now() + timedelta(minutes=2))
    share = pub.share(emma, [x])

    assert publishing.publish(pub.deliveries(share)[0].pk) == "published"
    x.refresh_from_db()
    assert x.expires_at > timezone.now() + timedelta(hours=1)
    assert pub.emulator.state()["counters"]["x"]["refreshes"] == 1


def test_a_cancelled_share_is_not_published_even_with_its_message_in_flight(pub, quiet_queue):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    share = pub.share(emma, [x], at=timezone.now() + timedelta(hours=1))
    delivery = pub.deliveries(share)[0]
    sharing.cancel_share(actor=emma, share_id=share.pk)
    make_due(pub.org, [delivery])

    assert publishing.publish(delivery.pk) == "skipped"
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.CANCELLED and pub.posts() == []


def test_retry_after_reconnecting_publishes_and_a_double_click_posts_once(pub, client, quiet_queue):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    pub.emulator.fault("x", "revoked", account_id=x.remote_id)
    share = pub.share(emma, [x])
    delivery = pub.deliveries(share)[0]
    assert publishing.publish(delivery.pk) == "needs_reconnect"
    client.force_login(emma.user)
    retry = reverse("content:delivery_retry", kwargs={"org_slug": "acme", "delivery_id": delivery.pk})

    page = client.post(retry, follow=True)
    assert "Reconnect your X account on the Connections page first" in page.content.decode()
    pub.emulator.auto_approve("x", x.remote_id)  # the employee reconnects the same account
    session: dict = {}
    from urllib.parse import parse_qs, urlsplit

    import requests

    from accounts.services import connections

    answer = requests.get(connections.start_connection(actor=emma, network="x", session=session), allow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    connections.finish_connection(user=emma.user, network="x", session=session, params=params)

    first = client.post(retry, follow=True)
    second = client.post(retry, follow=True)
    assert "It goes out shortly" in first.content.decode()
    assert "already on its way" in second.content.decode()
    assert publishing.publish(delivery.pk) == "published"
    assert publishing.publish(delivery.pk) == "skipped"
    assert len(pub.posts("x")) == 1


def test_a_duplicate_offers_no_retry(pub, client, quiet_queue):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    pub.emulator.fault("x", "duplicate")
    share = pub.share(emma, [x])
    delivery = pub.deliveries(share)[0]
    assert publishing.publish(delivery.pk) == "failed"
    client.force_login(emma.user)
    page = client.get(reverse("content:share_detail", kwargs={"org_slug": "acme", "share_id": share.pk}))
    html = page.content.decode()
    assert "X refused it as a duplicate of a post already on your account" in html
    assert "You are not allowed to create a Tweet with duplicate content." in html
    assert 'data-testid="retry"' not in html
    retried = client.post(
        reverse("content:delivery_retry", kwargs={"org_slug": "acme", "delivery_id": delivery.pk}), follow=True
    )
    assert "Retrying would not help" in retried.content.decode()


def test_deleting_a_published_share_removes_the_posts_and_records_it(pub, client, quiet_queue):
    emma = pub.employee()
    accounts = [pub.connect(emma, "linkedin"), pub.connect(emma, "x"), pub.connect(emma, "facebook")]
    share = pub.share(emma, accounts)
    for delivery in pub.deliveries(share):
        assert publishing.publish(delivery.pk) == "published"
    share.refresh_from_db()
    assert share.status == Share.Status.PUBLISHED and len(pub.posts()) == 3
    client.force_login(emma.user)

    page = client.post(
        reverse("content:share_delete_published", kwargs={"org_slug": "acme", "share_id": share.pk}), follow=True
    )
    assert "Removed from Facebook, LinkedIn and X." in page.content.decode()
    assert pub.posts() == []
    assert all(d.removed_at is not None for d in sorted(pub.deliveries(share), key=lambda d: d.network))
    again = client.post(
        reverse("content:share_delete_published", kwargs={"org_slug": "acme", "share_id": share.pk}), follow=True
    )
    assert "Nothing of this share is on a network any more." in again.content.decode()


def test_the_take_down_sentence_names_every_published_post_in_one_sentence(pub, client, quiet_queue):
    """The places are gathered in the template's loop and the sentence is one msgid (issue 23)."""
    emma = pub.employee()
    share = pub.share(emma, [pub.connect(emma, "linkedin"), pub.connect(emma, "x")])
    for delivery in pub.deliveries(share):
        assert publishing.publish(delivery.pk) == "published"
    client.force_login(emma.user)

    page = client.get(reverse("content:share_detail", kwargs={"org_slug": "acme", "share_id": share.pk}))
    text = " ".join(html.unescape(page.content.decode()).split())
    deliveries = sorted(pub.deliveries(share), key=lambda d: d.network)  # the page's order
    places = " ".join(f"on {d.get_network_display()} ({d.connection.name})" for d in deliveries)
    assert (
        f"This deletes the posts we published for you {places}, with their likes and comments. "
        "It cannot be undone; the record of what was published stays in the archive."
    ) in text


def test_share_detail_shows_the_reason_and_a_retry_with_a_fixed_query_count(
    pub, client, quiet_queue, django_assert_num_queries
):
    emma = pub.employee()
    x, linkedin = pub.connect(emma, "x"), pub.connect(emma, "linkedin")
    pub.emulator.fault("x", "server_error", path="/2/tweets", method="POST", times=20)
    share = pub.share(emma, [x, linkedin])
    for delivery in pub.deliveries(share):
        Delivery.objects.for_org(pub.org).filter(pk=delivery.pk).update(attempts=3)
        publishing.publish(delivery.pk)
    failed = next(d for d in pub.deliveries(share) if d.network == "x")
    assert failed.status == Delivery.Status.FAILED
    client.force_login(emma.user)
    url = reverse("content:share_detail", kwargs={"org_slug": "acme", "share_id": share.pk})
    client.get(url)
    with django_assert_num_queries(QUERIES_SHARE_DETAIL):
        page = client.get(url)
    html = page.content.decode()
    assert "Gave up after 4 tries." in html and 'data-testid="retry"' in html
    assert 'data-testid="delete-published"' in html
    with django_assert_num_queries(QUERIES_MY_SHARES):
        listing = client.get(reverse("content:my_shares", kwargs={"org_slug": "acme"}))
    assert "Gave up after 4 tries." in listing.content.decode()


QUERIES_SHARE_DETAIL = 9
QUERIES_MY_SHARES = 8


def test_another_employees_delivery_cannot_be_retried_or_deleted(pub, client, quiet_queue):
    emma, olga = pub.employee(), pub.employee()
    x = pub.connect(emma, "x")
    share = pub.share(emma, [x])
    delivery = pub.deliveries(share)[0]
    client.force_login(olga.user)
    retry = client.post(reverse("content:delivery_retry", kwargs={"org_slug": "acme", "delivery_id": delivery.pk}))
    delete = client.post(reverse("content:share_delete_published", kwargs={"org_slug": "acme", "share_id": share.pk}))
    assert (retry.status_code, delete.status_code) == (404, 404)
