"""A worker process killed with SIGKILL in the middle of publishing, then restarted: the
post exists once. The message it held is not acknowledged and not redelivered soon (the
broker waits for its visibility timeout), so the sweeper finds the delivery past its
lease and the task reconciles it against the network before sending anything."""

from __future__ import annotations

import pytest
from django.utils import timezone

from content.models import Delivery, Share
from content.services import publishing
from tests.conftest import wait_for
from tests.content.publishing_setup import expire_lease

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_worker_killed_mid_publish_then_restarted_leaves_exactly_one_post(pub):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    # The network takes 3 s to answer (it creates the post at the end of that time).
    pub.emulator.fault("x", "slow", path="/2/tweets", method="POST", delay=3)
    share = pub.share(emma, [x])
    delivery = pub.deliveries(share)[0]

    wait_for(
        lambda: Delivery.objects.for_org(pub.org).get(pk=delivery.pk).status == Delivery.Status.PUBLISHING,
        timeout=15,
        message="the worker to start publishing",
    )
    wait_for(lambda: not pub.emulator.faults(), timeout=10, message="the call to reach X")
    pub.worker.kill()  # while its call to X is in flight
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PUBLISHING and delivery.remote_id == ""
    assert publishing.sweep()["expired_leases"] == 0, "the lease still runs: nobody touches it"
    wait_for(lambda: len(pub.posts("x")) == 1, timeout=10, message="X to finish creating the post")
    pub.worker.start()
    expire_lease(pub.org, delivery)
    assert publishing.sweep()["expired_leases"] == 1
    pub.wait_until(share, Share.Status.PUBLISHED)

    delivery.refresh_from_db()
    posts = pub.posts("x")
    assert len(posts) == 1 and delivery.remote_id == posts[0]["id"], "found on the account, not posted again"
    assert delivery.attempts == 1
    assert pub.emulator.state()["counters"]["x"]["posts_created"] == 1


def test_worker_killed_before_the_network_got_the_call_publishes_on_the_next_sweep(pub):
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    # The token refresh before the call hangs (the token is near expiry), so the worker
    # dies before anything reached /rest/posts.
    from datetime import timedelta

    from accounts.models import SocialConnection

    SocialConnection.objects.for_org(pub.org).filter(pk=linkedin.pk).update(
        expires_at=timezone.now() + timedelta(minutes=1), refresh_token="stale-refresh-token"
    )
    pub.emulator.fault("linkedin", "slow", path="/oauth/v2/accessToken", delay=6)
    share = pub.share(emma, [linkedin])
    delivery = pub.deliveries(share)[0]
    wait_for(
        lambda: Delivery.objects.for_org(pub.org).get(pk=delivery.pk).status == Delivery.Status.PUBLISHING,
        timeout=15,
    )
    pub.worker.kill()
    pub.worker.start()
    delivery.refresh_from_db()
    assert publishing.sweep()["expired_leases"] == 0, "the lease still runs: nobody touches it"
    expire_lease(pub.org, delivery)
    SocialConnection.objects.for_org(pub.org).filter(pk=linkedin.pk).update(
        expires_at=timezone.now() + timedelta(days=30)
    )
    assert pub.posts() == []

    assert publishing.sweep()["expired_leases"] == 1
    pub.wait_until(share, Share.Status.PUBLISHED)
    assert len(pub.posts("linkedin")) == 1


def test_worker_killed_mid_batch_leaves_one_post_per_delivery(pub):
    """A batch of three: LinkedIn answered (its post made, not yet recorded), X's call in
    flight, the Facebook Page's not yet sent, when the worker dies. After the leases run
    out the sweeper hands all three on: the two posts made are found and recorded, the
    third is posted, once."""
    emma = pub.employee()
    accounts = [pub.connect(emma, network) for network in ("linkedin", "x", "facebook")]
    pub.emulator.fault("x", "slow", path="/2/tweets", method="POST", delay=3)
    share = pub.share(emma, accounts)  # one message: the three deliveries in one batch
    deliveries = pub.deliveries(share)
    assert [d.network for d in deliveries] == ["linkedin", "x", "facebook"]

    wait_for(lambda: not pub.emulator.faults(), timeout=15, message="the batch's call to reach X")
    pub.worker.kill()  # LinkedIn's post made, X's in flight, Facebook's not sent
    rows = {d.network: d for d in pub.deliveries(share)}
    assert {network: d.status for network, d in rows.items()} == {
        "linkedin": Delivery.Status.PUBLISHING,  # posted, its record waits for the batch's next record
        "x": Delivery.Status.PUBLISHING,
        "facebook": Delivery.Status.PUBLISHING,  # claimed with the batch, never called
    }
    assert [p["network"] for p in pub.posts()] == ["linkedin"]
    wait_for(lambda: len(pub.posts("x")) == 1, timeout=10, message="X to finish creating the post")

    pub.worker.start()
    for delivery in deliveries:
        expire_lease(pub.org, delivery)
    assert publishing.sweep()["expired_leases"] == 3
    pub.wait_until(share, Share.Status.PUBLISHED)

    posts = {p["network"]: p for p in pub.posts()}
    assert sorted(posts) == ["facebook", "linkedin", "x"] and len(pub.posts()) == 3, "one post each, none twice"
    for delivery in pub.deliveries(share):
        assert delivery.status == Delivery.Status.PUBLISHED and delivery.remote_id == posts[delivery.network]["id"]
        assert delivery.attempts == 1, "reconciled by a search, not sent again"
    counters = pub.emulator.state()["counters"]
    assert [counters[n]["posts_created"] for n in ("linkedin", "x", "facebook")] == [1, 1, 1]
