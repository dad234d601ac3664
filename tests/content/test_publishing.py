"""Publishing end to end: a real Celery worker process, the emulator in its own process,
PostgreSQL and Redis. What was approved appears once, at its time, or the employee is told
why not."""

from __future__ import annotations

import json
import os
import re
import threading
from datetime import timedelta

import pytest
import redis
from django.db import connections as db_connections
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification, SocialConnection
from compliance.models import AuditEntry
from content.models import Delivery, Share
from content.services import publishing
from tests.conftest import wait_for
from tests.content.publishing_setup import delivery_trail, make_due, wait_linked

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Far enough ahead that nothing falls due by itself while a test runs: `make_due` moves it.
LATER = timedelta(hours=1)


def test_happy_path_publishes_once_on_linkedin_x_and_a_facebook_page(pub):
    emma = pub.employee()
    accounts = [pub.connect(emma, "linkedin"), pub.connect(emma, "x"), pub.connect(emma, "facebook")]
    share = pub.share(emma, accounts, "Forty turbines off the coast, and I saw them built.")

    pub.wait_until(share, Share.Status.PUBLISHED)
    posts = {p["network"]: p for p in pub.posts()}
    assert sorted(posts) == ["facebook", "linkedin", "x"] and len(pub.posts()) == 3
    for delivery in pub.deliveries(share):
        post = posts[delivery.network]
        assert delivery.status == Delivery.Status.PUBLISHED
        assert delivery.remote_id == post["id"] and delivery.remote_url and delivery.published_at
        assert delivery.attempts == 1 and delivery.lease_expires_at is None
        link = f"/r/{delivery.tracking_code}"
        assert "Forty turbines off the coast" in post["raw"]
        assert link in (post["link"] or "") + post["raw"], "the delivery's own tracked link went out"
    assert posts["facebook"]["author"] == accounts[2].remote_id, "posted on the Page, not a timeline"
    assert posts["facebook"]["link"].endswith(f"/r/{pub.deliveries(share)[2].tracking_code}") or any(
        posts["facebook"]["link"].endswith(f"/r/{d.tracking_code}") for d in pub.deliveries(share)
    )
    assert Notification.objects.for_org(pub.org).filter(user=emma.user, kind="share_published").count() == 1
    trail = [(e.action, e.after) for e in delivery_trail(pub.org, pub.deliveries(share)[0])]
    assert [action for action, _ in trail] == ["delivery.publishing", "delivery.published"]
    assert trail[1][1]["remote_id"] == pub.deliveries(share)[0].remote_id


def test_a_rolled_back_submit_enqueues_nothing(pub, settings):
    # A queue no worker reads, so the broker's list shows exactly what was sent.
    settings.PUBLISH_QUEUE = f"publish-rollback-check-{os.getpid()}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(settings.PUBLISH_QUEUE)
    emma = pub.employee()
    x = pub.connect(emma, "x")

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        share = pub.share(emma, [x])
        assert share.status == Share.Status.APPROVED, "approved inside the transaction..."
        raise Abort

    assert not Share.objects.for_org(pub.org).exists()
    assert broker.llen(settings.PUBLISH_QUEUE) == 0, "...but nothing reached the broker"
    committed = pub.share(emma, [x], "A second, committed share.")
    message = json.loads(broker.lpop(settings.PUBLISH_QUEUE))
    assert message["headers"]["task"] == "content.tasks.publish_delivery"
    assert message["headers"]["argsrepr"] == f"[{pub.deliveries(committed)[0].pk}]"
    assert broker.llen(settings.PUBLISH_QUEUE) == 0


def test_text_changed_after_approval_is_not_published_and_goes_back_to_review(pub):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    share = pub.share(emma, [x], at=timezone.now() + LATER)
    assert share.status == Share.Status.SCHEDULED
    delivery = pub.deliveries(share)[0]
    Delivery.objects.for_org(pub.org).filter(pk=delivery.pk).update(text=delivery.text + " Buy ACME stock now!")

    make_due(pub.org, [delivery])
    assert publishing.sweep()["due"] == 1
    pub.wait_until(share, Share.Status.IN_REVIEW)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING and delivery.approved_text_hash == ""
    assert delivery.failure_reason == "text_changed" and "changed after it was approved" in delivery.last_error
    assert "changed after it was approved" in share.review_comment
    assert pub.posts() == []


def test_429_waits_until_the_reset_time_then_publishes(pub):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    pub.emulator.fault("x", "rate_limit", path="/2/tweets", method="POST", reset_in=3)
    share = pub.share(emma, [x])

    delivery = pub.deliveries(share)[0]
    wait_for(lambda: Delivery.objects.for_org(pub.org).get(pk=delivery.pk).status == "retrying", timeout=15)
    delivery.refresh_from_db()
    waited_until = delivery.next_attempt_at
    assert delivery.failure_reason == "rate_limited"
    assert timedelta(seconds=1) < waited_until - delivery.updated_at <= timedelta(seconds=4), "X's reset time"
    pub.wait_until(share, Share.Status.PUBLISHED)
    delivery.refresh_from_db()
    assert delivery.published_at >= waited_until, "not before the reset time"
    assert delivery.attempts == 2 and len(pub.posts()) == 1


def test_500_500_then_success(pub):
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    pub.emulator.fault("linkedin", "server_error", path="/rest/posts", method="POST", times=2)
    share = pub.share(emma, [linkedin])

    pub.wait_until(share, Share.Status.PUBLISHED)
    delivery = pub.deliveries(share)[0]
    assert delivery.attempts == 3 and delivery.last_error == ""
    assert len(pub.posts()) == 1
    assert pub.emulator.state()["counters"]["linkedin"]["faults_fired.server_error"] == 2


def test_transient_failures_give_up_after_the_bounded_number_of_tries(pub, settings):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    pub.emulator.fault("x", "server_error", path="/2/tweets", method="POST", times=50)
    share = pub.share(emma, [x])

    pub.wait_until(share, Share.Status.FAILED)
    delivery = pub.deliveries(share)[0]
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == settings.PUBLISH_MAX_ATTEMPTS
    assert delivery.last_error.startswith(f"Gave up after {settings.PUBLISH_MAX_ATTEMPTS} tries.")
    assert "500" in delivery.last_error
    notice = Notification.objects.for_org(pub.org).get(user=emma.user, kind="share_failed")
    assert notice.url == f"/o/acme/shares/{share.pk}/" and "retry" in notice.message
    assert pub.posts() == []


def test_a_lost_answer_after_the_post_was_created_leaves_exactly_one_post(pub):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    pub.emulator.fault("x", "lost_response", path="/2/tweets", method="POST")
    share = pub.share(emma, [x])

    pub.wait_until(share, Share.Status.PUBLISHED)
    posts = pub.posts("x")
    assert len(posts) == 1, posts
    delivery = pub.deliveries(share)[0]
    assert delivery.remote_id == posts[0]["id"], "found on the account, not posted again"
    assert pub.emulator.state()["counters"]["x"]["posts_created"] == 1


def test_a_lost_answer_on_linkedin_is_reconciled_by_looking_on_the_account(pub):
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    pub.emulator.fault("linkedin", "lost_response", path="/rest/posts", method="POST")
    share = pub.share(emma, [linkedin])

    pub.wait_until(share, Share.Status.PUBLISHED)
    assert len(pub.posts("linkedin")) == 1
    assert pub.deliveries(share)[0].remote_id == pub.posts("linkedin")[0]["id"]


def test_the_same_task_delivered_twice_posts_once(pub):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    share = pub.share(emma, [x], at=timezone.now() + LATER)
    delivery = pub.deliveries(share)[0]
    make_due(pub.org, [delivery])
    start = len(pub.worker.log())

    def results():
        return re.findall(r"publish_delivery\[[^]]+\] succeeded in [0-9.]+s: '(\w+)'", pub.worker.log()[start:])

    def batches():
        return re.findall(r"publish_deliveries\[[^]]+\] succeeded in [0-9.]+s: (\{[^}]*\})", pub.worker.log()[start:])

    with transaction.atomic():  # three messages for the same delivery at the same moment, and a batch naming it twice
        for _ in range(3):
            publishing.enqueue_publish([delivery.pk])
        publishing.enqueue_publish([delivery.pk, delivery.pk])
    pub.wait_until(share, Share.Status.PUBLISHED)
    wait_for(lambda: len(results()) == 3 and batches(), timeout=10, message="the four tasks")
    assert sorted(results() + batches()) == ["published", "skipped", "skipped", "{'skipped': 1}"] or sorted(
        results() + batches()
    ) == ["skipped", "skipped", "skipped", "{'published': 1}"]
    with transaction.atomic():  # and one more, late
        publishing.enqueue_publish([delivery.pk])
    wait_for(lambda: len(results()) == 4, timeout=10, message="the late task")
    assert results()[-1] == "skipped"
    assert len(pub.posts()) == 1
    delivery.refresh_from_db()
    assert delivery.attempts == 1


def test_a_revoked_token_waits_for_a_reconnect_and_tells_the_employee(pub):
    emma = pub.employee()
    linkedin = pub.connect(emma, "linkedin")
    pub.emulator.fault("linkedin", "revoked", account_id=linkedin.remote_id)
    share = pub.share(emma, [linkedin])

    pub.wait_until(share, Share.Status.FAILED)
    delivery = pub.deliveries(share)[0]
    linkedin.refresh_from_db()
    assert delivery.status == Delivery.Status.NEEDS_RECONNECT and "Reconnect LinkedIn" in delivery.last_error
    assert linkedin.status == SocialConnection.Status.NEEDS_RECONNECT
    notice = Notification.objects.for_org(pub.org).get(user=emma.user, kind="connection_needs_reconnect")
    assert "needs reconnecting" in notice.message and notice.url == "/o/acme/connections/"
    assert pub.posts() == []


def test_duplicate_content_fails_at_once_with_the_networks_reason(pub):
    emma = pub.employee()
    x = pub.connect(emma, "x")
    pub.emulator.fault("x", "duplicate")
    share = pub.share(emma, [x])

    pub.wait_until(share, Share.Status.FAILED)
    delivery = pub.deliveries(share)[0]
    assert delivery.status == Delivery.Status.FAILED and delivery.attempts == 1
    assert delivery.failure_reason == "duplicate"
    assert delivery.last_error.startswith("X refused it as a duplicate of a post already on your account.")
    assert "You are not allowed to create a Tweet with duplicate content." in delivery.last_error
    notice = Notification.objects.for_org(pub.org).get(user=emma.user, kind="share_failed")
    assert "duplicate" in notice.message and "retry" not in notice.message, "a retry would not help"
    assert notice.url == f"/o/acme/shares/{share.pk}/"


def test_200_deliveries_due_in_the_same_minute_make_200_posts_each_once(pub):
    people = [pub.employee() for _ in range(4)]
    accounts = {m.pk: [pub.connect(m, n, name=f"Person {m.pk}") for n in ("linkedin", "x", "facebook")] for m in people}
    due = timezone.now() + LATER
    shares, made = [], 0
    while made < 200:
        membership = people[len(shares) % len(people)]
        targets = accounts[membership.pk][: min(3, 200 - made)]
        shares.append(pub.share(membership, targets, at=due))
        made += len(targets)
    waiting = Delivery.objects.for_org(pub.org).filter(status="pending", due_at=due)
    assert waiting.count() == 200
    assert publishing.sweep()["due"] == 0 and pub.posts() == [], "nothing before its time"

    make_due(pub.org, list(waiting))
    found = publishing.sweep()
    assert found["due"] == 200
    wait_for(
        lambda: Delivery.objects.for_org(pub.org).filter(status="published").count() == 200,
        timeout=120,
        message="200 published deliveries",
    )
    posts = pub.posts()
    assert len(posts) == 200
    remote_ids = set(Delivery.objects.for_org(pub.org).values_list("network", "remote_id"))
    assert remote_ids == {(p["network"], p["id"]) for p in posts}, "each delivery is exactly one post"
    assert all(s.status == Share.Status.PUBLISHED for s in Share.objects.for_org(pub.org))


def test_two_sweepers_at_once_dispatch_each_delivery_once(pub):
    emma = pub.employee()
    x, linkedin = pub.connect(emma, "x"), pub.connect(emma, "linkedin")
    due = timezone.now() + LATER
    for _ in range(10):
        pub.share(emma, [x, linkedin], at=due)
    make_due(pub.org, list(Delivery.objects.for_org(pub.org).filter(due_at=due)))

    counts, barrier = [], threading.Barrier(2)

    def sweep():
        barrier.wait()
        try:
            counts.append(publishing.sweep()["due"])
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 20, counts
    wait_for(lambda: Delivery.objects.for_org(pub.org).filter(status="published").count() == 20, timeout=60)
    assert len(pub.posts()) == 20


def test_the_publish_bench_pipeline_at_small_scale_posts_each_delivery_once_and_the_chain_verifies(pub):
    """bench/publish.py's exactly-once check, small: 45 deliveries of one organization (the
    audit chain's worst case) due at once, a threads-pool worker at concurrency 8, every
    network call slowed down so calls overlap and their records meet at commit."""
    from compliance.services.audit import verify_chain

    people = [pub.employee() for _ in range(5)]
    accounts = [[pub.connect(m, n, name=f"Person {m.pk}") for n in ("linkedin", "x", "facebook")] for m in people]
    due = timezone.now() + LATER
    for round_ in range(3):
        for membership, targets in zip(people, accounts, strict=True):
            pub.share(membership, targets, words=f"Forty turbines, round {round_}, by {membership.pk}.", at=due)
    waiting = list(Delivery.objects.for_org(pub.org).filter(status="pending", due_at=due))
    assert len(waiting) == 45
    for network in ("linkedin", "x", "facebook"):
        pub.emulator.fault(network, "slow", delay=0.05, times=1000)

    make_due(pub.org, waiting)
    assert publishing.sweep()["due"] == 45
    wait_for(
        lambda: Delivery.objects.for_org(pub.org).filter(status="published").count() == 45,
        timeout=120,
        message="45 published deliveries",
    )
    posts = pub.posts()
    assert len(posts) == 45, "one post per delivery, no more"
    remote_ids = set(Delivery.objects.for_org(pub.org).values_list("network", "remote_id"))
    assert remote_ids == {(p["network"], p["id"]) for p in posts}, "each delivery is exactly one post"
    wait_linked(pub.org)  # by the worker's linker: no beat runs here
    published = AuditEntry.objects.for_org(pub.org).filter(action="delivery.published")
    assert published.count() == 45
    assert verify_chain(pub.org) is None
