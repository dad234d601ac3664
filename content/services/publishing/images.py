"""A delivery's picture, posted natively, and its upload exactly once per delivery.

Which picture: the one the employee chose for the share, else the content item's, each
only with its alt text (a picture nobody described is not posted: the post goes out as a
link post, as before). The picture is uploaded to the network in its own step before the
post, and the upload (the network's media id and when it expires) is recorded on the
delivery row in a transaction of its own, only while the publishing worker's lease is
still its own:

* a retried post (transient failure, rate limit, lease run out) reuses the delivery's own
  upload while it is valid, and uploads anew when it has expired or the network no longer
  knows it (`MediaExpired`);
* an upload made by a worker killed before it was recorded is an orphan no row names: no
  delivery, this one or another, ever posts it (the next attempt uploads again). Unused
  uploads are never shown; X forgets them after 24 hours.

Everything here is called by `engine` (the claim reads, the call uploads and records).
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.db import transaction

from advocacy import audit
from content.models import Delivery, Share
from networks.base import ImageUpload, NetworkClient, PostImage

# An upload this close to its expiry is not reused: the post could reach the network after it.
EXPIRY_MARGIN = timedelta(minutes=10)


@dataclass(frozen=True)
class Picture:
    """What the claim carries: the stored file's name, its alt text, and the delivery's own
    upload as recorded when the claim was made."""

    name: str
    alt_text: str
    media_id: str = ""
    media_expires_at: datetime | None = None


def picture_for(share: Share, delivery: Delivery) -> Picture | None:
    """The share's own picture, else its item's; None when neither has one with alt text."""
    if share.image and share.image_alt_text.strip():
        name, alt = share.image.name, share.image_alt_text
    elif share.item.image and share.item.image_alt_text.strip():
        name, alt = share.item.image.name, share.item.image_alt_text
    else:
        return None
    return Picture(
        name=name, alt_text=alt.strip(), media_id=delivery.media_id, media_expires_at=delivery.media_expires_at
    )


def own_upload(picture: Picture, now: datetime) -> ImageUpload | None:
    """The delivery's recorded upload while it is still valid (None: upload anew)."""
    if not picture.media_id:
        return None
    if picture.media_expires_at is not None and picture.media_expires_at <= now + EXPIRY_MARGIN:
        return None
    return ImageUpload(media_id=picture.media_id, expires_at=picture.media_expires_at, alt_text=picture.alt_text)


def read(picture: Picture) -> PostImage:
    """The stored file's bytes (JPEG or PNG: the library and the composer re-encode every
    picture), with its MIME type and alt text."""
    with default_storage.open(picture.name, "rb") as handle:
        data = handle.read()
    mime_type = mimetypes.guess_type(picture.name)[0] or "image/jpeg"
    return PostImage(data=data, mime_type=mime_type, alt_text=picture.alt_text)


class LeaseLost(Exception):
    """The delivery is no longer this worker's: it must not post."""


def upload(*, claim, picture: Picture, client: NetworkClient, access_token: str, author_id: str) -> ImageUpload:
    """Upload the picture for the claim's delivery and record it on the row before anything
    names it in a post. Raises the client's errors, or LeaseLost when the lease ran out
    meanwhile (the upload is then an orphan no row names)."""
    uploaded = client.upload_image(access_token=access_token, author_id=author_id, image=read(picture))
    record(claim=claim, upload=uploaded)
    return uploaded


def record(*, claim, upload: ImageUpload | None) -> None:
    """Write the delivery's upload (None: forget it, the network no longer has it), only
    while the claim's lease is the delivery's. Raises LeaseLost otherwise."""
    with audit.linked_after_commit(), transaction.atomic():
        delivery = Delivery.objects.for_org(claim.organization_id).select_for_update().get(pk=claim.delivery_id)
        if delivery.status != Delivery.Status.PUBLISHING or delivery.lease_expires_at != claim.lease_expires_at:
            raise LeaseLost(claim.delivery_id)
        before = {"media_id": delivery.media_id}
        delivery.media_id = upload.media_id if upload else ""
        delivery.media_expires_at = upload.expires_at if upload else None
        delivery.save(update_fields=["media_id", "media_expires_at", "updated_at"])
        audit.record(
            "delivery.image_uploaded" if upload else "delivery.image_forgotten",
            organization_id=claim.organization_id,
            target=delivery,
            before=before,
            after={
                "media_id": delivery.media_id,
                "media_expires_at": delivery.media_expires_at.isoformat() if delivery.media_expires_at else None,
            },
        )
