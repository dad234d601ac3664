"""Publishing in batches (content.services.publishing.batch): one task, one claim and one
record transaction for many deliveries, and still each posted exactly once with the same
trail, notices and words as the engine gives one delivery. Real worker, emulator,
PostgreSQL and Redis."""

from __future__ import annotations

import ast
import re
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, Notification
from accounts.services.suspension import suspend_membership
from advocacy.sql import tenant_cursor
from compliance.models import AuditEntry
from compliance.services.audit import verify_chain
from content.models import Delivery, Share
from content.services import publishing
from content.services.publishing import batch, engine
from tests.conftest import start_worker, wait_for
from tests.content.publishing_setup import delivery_trail, make_due, wait_linked
from tests.helpers import held_by_another_connection, thread_on_own_connection

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LATER = timedelta(hours=1)


@pytest.fixture
def quiet_queue(settings):
    """Messages go to a queue no worker reads: these tests drive the batch themselves."""
    settings.PUBLISH_QUEUE = "publish-nobody-listens"


def _scheduled(pub, count: int):
    """`count` employees, each with a share on LinkedIn, X and a Facebook Page, due now."""
    shares = []
    for n in range(count):
        member = pub.employee(f"member{n}@acme.com")
        accounts = [pub.connect(member, network) for network in ("linkedin", "x", "facebook")]
        shares.append(pub.share(member, accounts, at=timezone.now() + LATER))
    deliveries = [d for share in shares for d in pub.deliveries(share)]
    make_due(pub.org, deliveries)
    return shares, deliveries


def _single_results(pub, start: int) -> list[str]:
    return re.findall(r"publish_delivery\[[^]]+\] succeeded in [0-9.]+s: (\S+)", pub.worker.log()[start:])


def _batch_results(pub, start: int) -> list[dict]:
    found = re.findall(r"publish_deliveries\[[^]]+\] succeeded in [0-9.]+s: (\{[^}]*\})", pub.worker.log()[start:])
    return [ast.literal_eval(result) for result in found]


def test_one_task_publishes_a_batch_once_each_with_the_engines_trail_and_notices(pub, settings):
    settings.PUBLISH_BATCH_SIZE = 50  # the enqueue cuts here, in this process: one message
    shares, deliveries = _scheduled(pub, 2)
    start = len(pub.worker.log())

    with transaction.atomic():
        publishing.enqueue_publish([d.pk for d in deliveries])
    for share in shares:
        pub.wait_until(share, Share.Status.PUBLISHED)

    wait_for(lambda: _batch_results(pub, start), timeout=10, message="the batch's result line")
    assert _batch_results(pub, start) == [{"published": 6}], "one task carried all six"
    assert "publish_delivery[" not in pub.worker.log()[start:], "no delivery went through a task of its own"
    posts = pub.posts()
    assert len(posts) == 6 and len({p["id"] for p in posts}) == 6
    for delivery in deliveries:
        delivery.refresh_from_db()
        assert delivery.status == Delivery.Status.PUBLISHED and delivery.attempts == 1
        assert delivery.lease_expires_at is None and delivery.published_at and delivery.remote_url
        assert delivery.remote_id in {p["id"] for p in posts}
    wait_linked(pub.org)
    for delivery in deliveries:
        trail = delivery_trail(pub.org, delivery)
        assert [(e.action, e.after) for e in trail] == [
            ("delivery.publishing", {"status": "publishing", "attempt": 1}),
            (
                "delivery.published",
                {"status": "published", "remote_id": delivery.remote_id, "remote_url": delivery.remote_url},
            ),
        ]
        assert trail[1].before == {"status": "publishing", "attempts": 1}
    for share in shares:
        started = AuditEntry.objects.for_org(pub.org).filter(target_id=str(share.pk), action="share.publishing")
        assert started.count() == 1, "each share started publishing once"
        assert Notification.objects.for_org(pub.org).filter(user=share.author, kind="share_published").count() == 1
    assert verify_chain(pub.org) is None


def test_the_sweeper_keeps_a_shares_deliveries_in_one_batch(pub, settings):
    settings.PUBLISH_BATCH_SIZE = 4  # whole shares of three until a batch holds four or more: 6 and 6
    shares, _ = _scheduled(pub, 4)
    start = len(pub.worker.log())

    assert publishing.sweep()["due"] == 12
    for share in shares:
        pub.wait_until(share, Share.Status.PUBLISHED)

    wait_for(lambda: len(_batch_results(pub, start)) == 2, timeout=10, message="both batches' result lines")
    assert _batch_results(pub, start) == [{"published": 6}, {"published": 6}]
    started = AuditEntry.objects.for_org(pub.org).filter(action="share.publishing")
    assert started.count() == 4, "each share started once: no two batches both rolled one up"


def test_a_batch_size_of_one_is_one_engine_task_a_delivery(pub, settings):
    settings.PUBLISH_BATCH_SIZE = 1  # no batching (the bench's baseline: the engine alone)
    shares, _ = _scheduled(pub, 1)
    start = len(pub.worker.log())

    assert publishing.sweep()["due"] == 3
    pub.wait_until(shares[0], Share.Status.PUBLISHED)

    wait_for(lambda: len(_single_results(pub, start)) == 3, timeout=10, message="three result lines")
    assert _single_results(pub, start) == ["'published'"] * 3
    assert "publish_deliveries[" not in pub.worker.log()[start:]


def test_a_batch_leaves_every_rare_case_to_the_engine(pub, quiet_queue):
    shares, deliveries = _scheduled(pub, 3)
    plain = pub.deliveries(shares[0])
    changed = pub.deliveries(shares[1])[0]
    Delivery.objects.for_org(pub.org).filter(pk=changed.pk).update(text=changed.text + " Buy ACME stock now!")
    suspend_membership(membership=Membership.objects.for_org(pub.org).get(user=shares[2].author), by="scim:Okta")
    done = Delivery.objects.for_org(pub.org).filter(pk=plain[0].pk)

    words = batch.publish_many([d.pk for d in deliveries] + [plain[0].pk, 987654321])

    assert [words[d.pk] for d in plain] == ["published"] * 3
    assert words[changed.pk] == "text_changed", "the engine returned it to review"
    assert words[987654321] == "missing"
    # The suspension held the share; the engine, checking under its lock, sends nothing.
    assert [words[d.pk] for d in pub.deliveries(shares[2])] == ["skipped"] * 3
    shares[2].refresh_from_db()
    assert shares[2].status == Share.Status.HELD
    # The batch claimed the second share's other deliveries before the engine found the
    # changed text: they are posted (the engine, taking them in this order, does the same),
    # and the share is back in review for the changed one.
    shares[1].refresh_from_db()
    assert shares[1].status == Share.Status.IN_REVIEW
    second = pub.deliveries(shares[1])
    assert [d.status for d in second] == [Delivery.Status.PENDING] + [Delivery.Status.PUBLISHED] * 2
    posted = [d.remote_id for d in pub.deliveries(shares[0]) + second[1:]]
    assert sorted(p["id"] for p in pub.posts()) == sorted(posted)
    assert done.get().attempts == 1
    assert batch.publish_many([plain[0].pk, plain[0].pk]) == {plain[0].pk: "skipped"}, "never twice"
    assert done.get().attempts == 1 and len(pub.posts()) == 5


@pytest.mark.parametrize("slots", [0, 2], ids=["calls one after the other", "calls in the call pool"])
def test_a_lease_handed_on_during_the_batch_is_not_called(pub, quiet_queue, monkeypatch, settings, slots):
    settings.PUBLISH_CALLS_IN_FLIGHT = slots
    shares, deliveries = _scheduled(pub, 1)
    last = deliveries[2]
    theirs = timezone.now() + timedelta(seconds=60)
    call = engine._call
    handed_on = threading.Lock()

    def call_then_hand_on(claim):
        # As the batch's first call starts, the sweeper hands the last delivery on (as if
        # its lease had run out) and another worker claims it. With 2 slots, the last call
        # starts only once one of the first two is done, so after the hand-on either way.
        with handed_on:
            Delivery.objects.for_org(pub.org).filter(pk=last.pk, lease_expires_at__lt=theirs).update(
                lease_expires_at=theirs
            )
        return call(claim)

    monkeypatch.setattr(engine, "_call", call_then_hand_on)
    monkeypatch.setattr(batch, "RENEW_AFTER", timedelta(0))  # every call renews its lease first

    words = batch.publish_many([d.pk for d in deliveries])

    assert words == {deliveries[0].pk: "published", deliveries[1].pk: "published", last.pk: "lease_lost"}
    assert len(pub.posts()) == 2, "nothing was sent for the delivery another worker holds"
    last.refresh_from_db()
    assert (last.status, last.lease_expires_at, last.remote_id) == (Delivery.Status.PUBLISHING, theirs, "")
    second = Delivery.objects.for_org(pub.org).get(pk=deliveries[1].pk)
    assert second.status == Delivery.Status.PUBLISHED, "its renewed lease was still its own at the record"
    shares[0].refresh_from_db()
    assert shares[0].status == Share.Status.PUBLISHING, "the share waits for its last delivery"


def test_a_batch_of_many_costs_fewer_statements_than_one_task_each(pub, quiet_queue):
    _, deliveries = _scheduled(pub, 4)
    ids = [d.pk for d in deliveries]
    singles, batched = ids[:6], ids[6:]

    with CaptureQueriesContext(connection) as one_each:
        assert [engine.publish(pk) for pk in singles] == ["published"] * 6
    with CaptureQueriesContext(connection) as together:
        assert set(batch.publish_many(batched).values()) == {"published"}

    # Two shares of three deliveries each on both sides; the batch shares its locks,
    # transactions, lookups and roll-ups.
    assert len(together) < 0.6 * len(one_each), (len(together), len(one_each))
    assert len(pub.posts()) == 12


def test_a_delivery_the_batch_cannot_read_does_not_hold_back_the_others(pub, quiet_queue, caplog):
    shares, deliveries = _scheduled(pub, 2)
    poisoned = pub.deliveries(shares[1])[0]
    with tenant_cursor(pub.org) as cursor:  # a token stored under a key this deployment no longer has
        cursor.execute(
            "UPDATE accounts_socialconnection SET access_token = 'gAAAAABnot-a-token' "
            "WHERE organization_id = %(org)s AND id = %(id)s",
            {"id": poisoned.connection_id},
        )

    words = batch.publish_many([d.pk for d in deliveries])

    assert words.pop(poisoned.pk) == "error"
    assert list(words.values()) == ["published"] * 5, words
    assert len(pub.posts()) == 5
    assert "publishing one by one" in caplog.text
    assert Delivery.objects.for_org(pub.org).filter(pk=poisoned.pk).values_list("status", "attempts").get() == (
        Delivery.Status.PENDING,
        0,
    ), "left for the sweeper, untouched"


def test_the_share_is_live_email_is_sent_by_the_default_worker_not_the_publisher(pub, worker_process):
    shares, deliveries = _scheduled(pub, 1)
    author = shares[0].author
    start = len(pub.worker.log())

    with transaction.atomic():
        publishing.enqueue_publish([d.pk for d in deliveries])
    pub.wait_until(shares[0], Share.Status.PUBLISHED)

    notice = Notification.objects.for_org(pub.org).get(user=author, kind="share_published")
    wait_for(lambda: Notification.objects.for_org(pub.org).get(pk=notice.pk).emailed_at, message="the e-mail")
    mail = worker_process.sent_mail()
    assert author.email in mail and "is live" in mail
    assert "is live" not in pub.worker.log()[start:], "the publisher rendered and sent no e-mail"


def test_a_batchs_is_live_emails_go_to_the_default_worker_in_one_message(pub, quiet_queue, worker_process):
    shares, deliveries = _scheduled(pub, 2)
    start = len(worker_process.log())

    assert set(batch.publish_many([d.pk for d in deliveries]).values()) == {"published"}

    live = Notification.objects.for_org(pub.org).filter(kind="share_published")
    assert live.count() == 2, "one in-app notice per share, written by one INSERT"
    wait_for(lambda: live.filter(emailed_at__isnull=False).count() == 2, message="both e-mails")
    mail = worker_process.sent_mail()
    assert all(share.author.email in mail for share in shares)
    log = worker_process.log()[start:]
    results = re.findall(r"send_notification_emails\[[^]]+\] succeeded in [0-9.]+s: (\d+)", log)
    assert results == ["2"], "one task message carried both e-mails"


def test_a_batchs_notices_speak_each_authors_language(pub, quiet_queue):
    shares, deliveries = _scheduled(pub, 2)
    type(shares[0].author).objects.filter(pk=shares[0].author_id).update(language="fr")

    assert set(batch.publish_many([d.pk for d in deliveries]).values()) == {"published"}

    live = Notification.objects.for_org(pub.org).filter(kind="share_published")
    french = live.get(user_id=shares[0].author_id).message
    assert french.startswith("Votre partage de") and "Acme opens a wind farm" in french  # (French spaces)
    assert french.endswith("est en ligne.")
    assert live.get(user_id=shares[1].author_id).message == "Your share of “Acme opens a wind farm” is live."


def test_claims_share_their_authors_lock_and_a_suspension_waits_for_them(pub):
    membership = pub.employee("locked@acme.com")
    author = membership.user_id

    def suspend():
        suspend_membership(membership=membership, by="scim:Okta")
        return "suspended"

    results: dict = {}
    # A claim in progress (a batch's or the engine's): the author's row read under lock.
    with held_by_another_connection(lambda: engine.authors_active(pub.org.pk, [author])) as claim:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")  # a wait would fail here, not hang
            assert engine.authors_active(pub.org.pk, [author]) == {author: True}, "another claim is not held up"
        suspending = thread_on_own_connection(suspend, results, "suspend")
        suspending.start()
        suspending.join(1.0)
        assert suspending.is_alive() and "suspend" not in results, "the suspension waits for the claim's commit"
    suspending.join(10)
    assert claim["held"] == {author: True} and results == {"suspend": "suspended"}
    with transaction.atomic():
        assert engine.authors_active(pub.org.pk, [author]) == {author: False}


def _publish_twelve_slowly(pub, settings, tmp_path, *, batch_size: int, slots: int, threads: int) -> dict:
    """A worker of its own (`threads` threads, `slots` call slots) publishes 12 deliveries due
    at once (one task each, or a batch a share), every call slowed to 0.3 s; each delivery
    must be posted once. Returns the emulator's count of calls in flight."""
    queue = f"publish-slots-{uuid.uuid4().hex[:8]}"
    settings.PUBLISH_QUEUE, settings.PUBLISH_BATCH_SIZE = queue, batch_size
    env = {**pub.worker.env, "PUBLISH_QUEUE": queue, "PUBLISH_CALLS_IN_FLIGHT": str(slots)}
    node = f"{queue}@localhost"
    worker = start_worker(
        node, ["-Q", queue, "--pool=threads", f"--concurrency={threads}"], env, tmp_path / "worker.log"
    )
    try:
        _, deliveries = _scheduled(pub, 4)
        for network in ("linkedin", "x", "facebook"):
            pub.emulator.fault(network, "slow", delay=0.3, times=1000)
        pub.emulator.control("DELETE", "in_flight")
        publishing.sweep()
        wait_for(
            lambda: Delivery.objects.for_org(pub.org).filter(status=Delivery.Status.PUBLISHED).count() == 12,
            timeout=60,
            message="the 12 deliveries published",
        )
        assert len(pub.posts()) == len(deliveries) == 12
        return pub.emulator.control("GET", "in_flight")
    finally:
        worker.terminate()
        worker.wait(timeout=30)


@pytest.mark.parametrize("batch_size", [1, 3], ids=["one task a delivery", "batches"])
def test_a_worker_keeps_no_more_calls_in_flight_than_its_slots(pub, settings, tmp_path, batch_size):
    """PUBLISH_CALLS_IN_FLIGHT bounds the process's calls to the networks, whatever its
    threads: a worker of 6 threads with 2 slots has exactly 2 answered at once."""
    in_flight = _publish_twelve_slowly(pub, settings, tmp_path, batch_size=batch_size, slots=2, threads=6)
    assert in_flight["most"] == 2
    assert in_flight["seconds"] >= 12 * 0.3  # every publish counted, each slowed to 0.3 s


def test_a_batchs_calls_go_out_side_by_side_up_to_the_slots(pub, settings, tmp_path):
    """With slots, a batch's calls run in the process's call pool: one worker thread taking
    batches of 3 has 3 calls answered at once (one after the other, it would have 1)."""
    in_flight = _publish_twelve_slowly(pub, settings, tmp_path, batch_size=3, slots=3, threads=1)
    assert in_flight["most"] == 3
    assert in_flight["seconds"] >= 12 * 0.3
