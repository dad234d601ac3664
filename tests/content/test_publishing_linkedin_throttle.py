"""LinkedIn's 429s (issue 14, point 6): LinkedIn sends no reset time, so a short throttle is
told from its daily limit. A short one is retried within minutes; the daily limit (LinkedIn
says "... DAY limit ...", or the account's third 429 of the UTC day) waits for midnight UTC.

The rule itself (`limits.retry_at_after_429`) is tested directly; the rest end to end with
the publishing worker, the emulator and Redis (the worker's backoffs are seconds, not
minutes: PUBLISH_RETRY_BASE_SECONDS in tests/content/publishing_setup.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.services import connections
from content.models import Delivery, Share
from content.services.publishing import limits
from networks.base import client_for
from networks.errors import RateLimited
from tests.conftest import wait_for
from tests.content.publishing_setup import delivery_trail

NOON = datetime(2031, 5, 6, 12, 0, tzinfo=UTC)
MIDNIGHT = datetime(2031, 5, 7, tzinfo=UTC)


def short_throttle(network: str = "linkedin", retry_at: datetime = NOON + timedelta(minutes=1)) -> RateLimited:
    return RateLimited(
        network, "Resource level throttle limit for calls to this resource is reached.", retry_at=retry_at
    )


def next_midnight_utc(moment: datetime) -> datetime:
    return datetime.combine(moment.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


# --- the rule ----------------------------------------------------------------------------


def test_short_throttles_back_off_in_minutes_and_the_third_of_the_day_waits_for_midnight(settings):
    settings.PUBLISH_RETRY_BASE_SECONDS, settings.PUBLISH_RETRY_MAX_SECONDS = 30.0, 3600.0
    account = f"member-{uuid.uuid4().hex}"

    first = limits.retry_at_after_429("linkedin", account=account, exc=short_throttle(), now=NOON)
    second = limits.retry_at_after_429("linkedin", account=account, exc=short_throttle(), now=NOON)
    third = limits.retry_at_after_429("linkedin", account=account, exc=short_throttle(), now=NOON)

    assert timedelta(seconds=45) <= first - NOON <= timedelta(seconds=75)  # about a minute
    assert timedelta(seconds=90) <= second - NOON <= timedelta(seconds=150)  # about two
    assert third == MIDNIGHT
    other = limits.retry_at_after_429("linkedin", account=f"{account}-b", exc=short_throttle(), now=NOON)
    assert other - NOON <= timedelta(seconds=75), "counted per account"
    tomorrow = limits.retry_at_after_429("linkedin", account=account, exc=short_throttle(), now=MIDNIGHT)
    assert tomorrow - MIDNIGHT <= timedelta(seconds=75), "and per UTC day"


def test_the_short_backoff_is_capped_at_15_minutes(settings):
    settings.PUBLISH_RETRY_BASE_SECONDS, settings.PUBLISH_RETRY_MAX_SECONDS = 3600.0, 86400.0
    retry_at = limits.retry_at_after_429("linkedin", account=uuid.uuid4().hex, exc=short_throttle(), now=NOON)
    assert retry_at == NOON + timedelta(minutes=15)


def test_linkedins_daily_limit_waits_for_midnight_at_once():
    daily = RateLimited(
        "linkedin",
        "Resource level throttle MEMBER DAY limit for calls to this resource is reached.",
        retry_at=MIDNIGHT,
        daily=True,
    )
    assert limits.retry_at_after_429("linkedin", account=uuid.uuid4().hex, exc=daily, now=NOON) == MIDNIGHT


def test_other_networks_keep_their_reset_time():
    reset = NOON + timedelta(minutes=7)
    for _ in range(4):
        exc = short_throttle("x", retry_at=reset)
        assert limits.retry_at_after_429("x", account="same-account", exc=exc, now=NOON) == reset


# --- end to end ---------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_short_429_retries_within_minutes_then_publishes(pub):
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    pub.emulator.fault("linkedin", "rate_limit", path="/rest/posts", method="POST")
    share = pub.share(emma, [linkedin])

    pub.wait_until(share, Share.Status.PUBLISHED)
    delivery = pub.deliveries(share)[0]
    retrying = [e for e in delivery_trail(pub.org, delivery) if e.action == "delivery.retrying"]
    assert len(retrying) == 1, [e.action for e in delivery_trail(pub.org, delivery)]
    waited_until = datetime.fromisoformat(retrying[0].after["next_attempt_at"])
    assert timedelta(0) < waited_until - retrying[0].at <= timedelta(minutes=15), "minutes, not midnight"
    assert "throttling" in retrying[0].after["why"]
    assert delivery.published_at >= waited_until, "not before its time"
    assert delivery.attempts == 2 and len(pub.posts("linkedin")) == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_third_429_of_the_day_waits_until_midnight_utc(pub):
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    pub.emulator.fault("linkedin", "rate_limit", path="/rest/posts", method="POST", times=3)
    share = pub.share(emma, [linkedin])
    delivery = pub.deliveries(share)[0]

    def waits_long():
        delivery.refresh_from_db()
        due = delivery.next_attempt_at
        return delivery.status == Delivery.Status.RETRYING and due and due > timezone.now() + timedelta(minutes=15)

    wait_for(waits_long, timeout=60, message="the third 429 to defer the delivery")
    assert delivery.attempts == 3 and delivery.failure_reason == "rate_limited"
    assert delivery.next_attempt_at == next_midnight_utc(delivery.updated_at)
    retrying = [e for e in delivery_trail(pub.org, delivery) if e.action == "delivery.retrying"]
    waits = [datetime.fromisoformat(e.after["next_attempt_at"]) - e.at for e in retrying]
    assert len(waits) == 3 and all(w <= timedelta(minutes=15) for w in waits[:2]), "the first two were short"
    assert pub.posts("linkedin") == []
    assert pub.emulator.state()["counters"]["linkedin"]["faults_fired.rate_limit"] == 3


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_linkedins_daily_limit_waits_until_midnight_utc_at_once(pub):
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    client = client_for("linkedin", connections.network_config(pub.org, "linkedin"))
    for n in range(150):  # the member's posts for the UTC day, made elsewhere
        client.publish(access_token=linkedin.access_token, author_id=linkedin.remote_id, text=f"Earlier post {n}")
    share = pub.share(emma, [linkedin])
    delivery = pub.deliveries(share)[0]

    def deferred():
        delivery.refresh_from_db()
        return delivery.status == Delivery.Status.RETRYING

    wait_for(deferred, timeout=30, message="the daily limit to defer the delivery")
    assert delivery.attempts == 1 and delivery.failure_reason == "rate_limited"
    assert delivery.next_attempt_at == next_midnight_utc(delivery.updated_at)
    assert "daily limit" in delivery.last_error and "MEMBER DAY limit" in delivery.last_error
    assert len(pub.posts("linkedin")) == 150
