"""Native picture posts end to end: the real worker uploads the share's picture to the
emulator and the post carries it with its alt text, exactly once per delivery; the
network's limits reach the employee in words; a worker killed between the upload and the
post leaves one post with one picture."""

from __future__ import annotations

import io
import os
import uuid
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from compliance.services import review
from content.models import Delivery, Share
from content.services import publishing, sharing
from tests.accounts.factories import MembershipFactory
from tests.conftest import wait_for
from tests.content.publishing_setup import expire_lease

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ALT = "Forty wind turbines in a row at sea, seen from the beach at dawn"
UPLOAD_PATHS = {"linkedin": "/rest/images", "x": "/2/media/upload", "facebook": "/photos"}


def image_bytes(fmt: str = "PNG", *, noise: int = 0) -> bytes:
    if noise:  # random pixels: incompressible, so the file is about `noise` bytes
        side = int((noise / 4) ** 0.5) + 1
        picture = Image.frombytes("RGBA", (side, side), os.urandom(side * side * 4))
    else:
        picture = Image.new("RGB", (120, 80), (20, 120, 200))
    out = io.BytesIO()
    picture.save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def pictured(pub):
    """The test item with a picture and its alt text; the files removed afterwards."""
    names: list[str] = []

    def give(data: bytes | None = None, *, extension: str = "png", alt: str = ALT):
        pub.item.image.save(f"test-{uuid.uuid4().hex}.{extension}", ContentFile(data or image_bytes()), save=False)
        pub.item.image_alt_text = alt
        pub.item.save(update_fields=["image", "image_alt_text"])
        names.append(pub.item.image.name)
        return pub.item

    yield give
    for name in names:
        default_storage.delete(name)


def media(pub, network: str) -> list[dict]:
    return [m for m in pub.emulator.state()["media"] if m["network"] == network]


@pytest.mark.parametrize("network", ["linkedin", "x", "facebook"])
def test_the_items_picture_is_posted_natively_with_its_alt_text(pub, pictured, network):
    pictured()
    emma = pub.employee()
    share = pub.share(emma, [pub.connect(emma, network)], "Forty turbines off the coast, and I saw them built.")
    pub.wait_until(share, Share.Status.PUBLISHED)

    (post,) = pub.posts(network)
    (delivery,) = pub.deliveries(share)
    (attached,) = post["extra"]["media"]
    assert attached["id"] == delivery.media_id and attached["alt_text"] == ALT
    assert (attached["mime_type"], attached["width"], attached["height"]) == ("image/png", 120, 80)
    link = f"/r/{delivery.tracking_code}"
    assert post["raw"].count(link) == 1, "the tracked link is in the text of a picture post, once"
    assert len(media(pub, network)) == 1


def test_the_employees_own_picture_is_posted_instead_of_the_items(pub, pictured):
    pictured()
    emma = pub.employee()
    x = pub.connect(emma, "x")
    out = io.BytesIO()
    Image.new("RGB", (200, 100), (250, 200, 0)).save(out, format="PNG")
    share = sharing.submit_share(
        confirm_repeat=True,
        actor=emma,
        item_id=pub.item.pk,
        commentary="My own view of the wind farm.",
        target_keys=[f"connection:{x.pk}"],
        image=SimpleUploadedFile("mine.png", out.getvalue(), content_type="image/png"),
        image_alt_text="The wind farm seen from my office window",
    )
    assert share.status == Share.Status.IN_REVIEW, "a picture of the employee's own goes to a reviewer"
    officer = MembershipFactory(organization=pub.org, roles=[Role.COMPLIANCE])
    review.decide(actor=officer, share_id=share.pk, outcome="approved")
    pub.wait_until(share, Share.Status.PUBLISHED)
    (post,) = pub.posts("x")
    (attached,) = post["extra"]["media"]
    assert (attached["width"], attached["height"]) == (200, 100)
    assert attached["alt_text"] == "The wind farm seen from my office window"
    default_storage.delete(Share.objects.for_org(pub.org).get(pk=share.pk).image.name)


def test_a_picture_without_alt_text_is_not_posted(pub, pictured):
    pictured(alt="")
    emma = pub.employee()
    share = pub.share(emma, [pub.connect(emma, "linkedin")])
    pub.wait_until(share, Share.Status.PUBLISHED)
    (post,) = pub.posts("linkedin")
    assert "media" not in post["extra"] and post["extra"]["content"]["article"], "a link post, as before"
    assert media(pub, "linkedin") == []


def test_a_retried_post_reuses_its_own_upload(pub, pictured):
    pictured()
    emma = pub.employee()
    pub.emulator.fault("x", "server_error", path="/2/tweets", method="POST")
    share = pub.share(emma, [pub.connect(emma, "x")])
    pub.wait_until(share, Share.Status.PUBLISHED)

    (delivery,) = pub.deliveries(share)
    assert delivery.attempts == 2
    (post,) = pub.posts("x")
    assert [m["id"] for m in post["extra"]["media"]] == [delivery.media_id]
    assert len(media(pub, "x")) == 1, "the second attempt posted the first attempt's upload"


@pytest.mark.parametrize("where", ["our record says expired", "only X knows it expired"])
def test_an_expired_upload_is_uploaded_anew(pub, pictured, where):
    pictured()
    emma = pub.employee()
    # The first post is throttled for an hour: the retry is the sweeper's, when the test says.
    pub.emulator.fault("x", "rate_limit", path="/2/tweets", method="POST", reset_in=3600)
    share = pub.share(emma, [pub.connect(emma, "x")])
    (delivery,) = pub.deliveries(share)
    wait_for(
        lambda: Delivery.objects.for_org(pub.org).get(pk=delivery.pk).status == Delivery.Status.RETRYING,
        message="the throttled first attempt",
    )
    delivery.refresh_from_db()
    first = delivery.media_id
    assert first and delivery.media_expires_at > timezone.now() + timedelta(hours=23)

    pub.emulator.control("POST", "clock", {"advance": 86400 + 60})  # X forgets the media id
    changes = {"next_attempt_at": timezone.now() - timedelta(seconds=1)}
    if where == "our record says expired":
        changes["media_expires_at"] = timezone.now() - timedelta(seconds=1)
    Delivery.objects.for_org(pub.org).filter(pk=delivery.pk).update(**changes)
    publishing.sweep()
    pub.wait_until(share, Share.Status.PUBLISHED)

    delivery.refresh_from_db()
    (post,) = pub.posts("x")
    assert delivery.media_id != first and [m["id"] for m in post["extra"]["media"]] == [delivery.media_id]
    assert len(media(pub, "x")) == 2
    assert pub.emulator.state()["counters"]["x"]["posts_created"] == 1


def test_a_photo_over_facebooks_4_mb_fails_with_words_for_the_employee(pub, pictured):
    pictured(image_bytes(noise=4 * 1024 * 1024 + 200_000))
    emma = pub.employee()
    share = pub.share(emma, [pub.connect(emma, "facebook")])
    pub.wait_until(share, Share.Status.FAILED)
    (delivery,) = pub.deliveries(share)
    assert delivery.failure_reason == "image" and delivery.attempts == 1
    assert delivery.last_error.startswith("Facebook refused the picture (change it, or share without it)")
    assert "4 MB" in delivery.last_error
    assert pub.posts() == [] and not publishing.can_retry(delivery), "retrying the same picture cannot help"


def test_a_picture_type_linkedin_refuses_fails_with_words_for_the_employee(pub, pictured):
    pictured(image_bytes("WEBP"), extension="webp")
    emma = pub.employee()
    share = pub.share(emma, [pub.connect(emma, "linkedin")])
    pub.wait_until(share, Share.Status.FAILED)
    (delivery,) = pub.deliveries(share)
    assert delivery.failure_reason == "image"
    assert "LinkedIn refused the picture" in delivery.last_error and "upload JPG, GIF or PNG" in delivery.last_error
    assert pub.posts() == []


@pytest.mark.parametrize("network", ["linkedin", "x", "facebook"])
def test_worker_killed_between_upload_and_post_leaves_one_post_with_one_picture(pub, pictured, network):
    """The worker uploads, then dies before its upload is recorded (the test holds the
    delivery's row, so the record waits): that upload is an orphan no row names. After
    the restart the delivery is reconciled (no post found), uploads again and posts once."""
    pictured()
    emma = pub.employee()
    account = pub.connect(emma, network)
    pub.emulator.fault(network, "slow", path=UPLOAD_PATHS[network], method="POST", delay=2)
    share = pub.share(emma, [account])
    (delivery,) = pub.deliveries(share)
    wait_for(
        lambda: Delivery.objects.for_org(pub.org).get(pk=delivery.pk).status == Delivery.Status.PUBLISHING,
        timeout=15,
        message="the worker to claim the delivery",
    )
    with transaction.atomic():
        Delivery.objects.for_org(pub.org).select_for_update().get(pk=delivery.pk)  # the record step waits
        wait_for(lambda: any(m["uploaded"] for m in media(pub, network)), timeout=15, message="the upload to arrive")
        pub.worker.kill()
    (orphan,) = media(pub, network)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PUBLISHING and delivery.media_id == "" and pub.posts() == []

    pub.worker.start()
    expire_lease(pub.org, delivery)
    assert publishing.sweep()["expired_leases"] == 1
    pub.wait_until(share, Share.Status.PUBLISHED)

    delivery.refresh_from_db()
    (post,) = pub.posts(network)
    assert [m["id"] for m in post["extra"]["media"]] == [delivery.media_id]
    assert delivery.media_id != orphan["id"], "the orphaned upload is never posted"
    assert pub.emulator.state()["counters"][network]["posts_created"] == 1
    assert [m["posts"] for m in media(pub, network) if m["id"] == orphan["id"]] == [[]]
