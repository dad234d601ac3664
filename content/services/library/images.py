"""An item's picture: checks of an upload, re-encoding, storage and fetching a remote one."""

from __future__ import annotations

import io
import uuid
import warnings

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from advocacy.errors import ValidationFailed
from content import unfurl
from content.models import ContentItem
from content.services.library.common import FETCH_IMAGE_TASK, _audit_item, enqueue_after_commit

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


def _checked_image(upload: File) -> str:
    """Check an upload is a real JPEG/PNG/GIF/WebP of at most 5 MB; answer its extension."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size > MAX_IMAGE_BYTES:
        raise ValidationFailed(
            _("The image is %(size)s MB; the limit is 5 MB.") % {"size": f"{size / 1024 / 1024:.1f}"},
            fields={"image": [_("Larger than 5 MB.")]},
        )
    not_an_image = ValidationFailed(
        _("That file is not an image we can use; upload a JPEG, PNG, GIF or WebP picture."),
        fields={"image": [_("Not a usable image.")]},
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as picture:
                kind = picture.format
                width, height = picture.size
                picture.verify()
            if width * height > MAX_IMAGE_PIXELS:
                raise ValidationFailed(
                    _("The image has too many pixels; use one under 40 megapixels."),
                    fields={"image": [_("Too large.")]},
                )
            upload.seek(0)
            with Image.open(upload) as picture:
                picture.load()  # verify() skips the pixel data; a truncated file fails here
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise not_an_image from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
        raise not_an_image from None
    if kind not in IMAGE_FORMATS:
        raise ValidationFailed(
            _("%(kind)s images are not supported; upload a JPEG, PNG, GIF or WebP picture.") % {"kind": kind}
            if kind
            else _("That images are not supported; upload a JPEG, PNG, GIF or WebP picture."),
            fields={"image": [_("Unsupported type.")]},
        )
    upload.seek(0)
    return IMAGE_FORMATS[kind]


def reencoded_image(upload: File) -> tuple[bytes, str]:
    """The picture drawn again by Pillow from its pixels (a checked upload): nothing of the
    uploaded file survives but the image, so no EXIF or GPS, no comments, no bytes of
    another format riding along (a PNG that is also HTML). Turned upright by its EXIF
    orientation first. PNG when it has transparency, else JPEG. Returns (bytes, extension)."""
    upload.seek(0)
    with Image.open(upload) as picture:
        picture.seek(0)  # an animation keeps its first frame
        upright = ImageOps.exif_transpose(picture)
        transparent = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
        clean = upright.convert("RGBA" if transparent else "RGB")
    clean.info = {}  # no comment, ICC profile or EXIF carried over from the upload
    out = io.BytesIO()
    if transparent:
        clean.save(out, format="PNG", optimize=True)
    else:
        clean.save(out, format="JPEG", quality=88, optimize=True, progressive=True)
    return out.getvalue(), "png" if transparent else "jpg"


def _store_image(item: ContentItem, upload: File, extension: str) -> None:
    """Save the re-encoded picture through the storage API under a name we choose (never the
    uploader's)."""
    old = item.image.name if item.image else ""
    data, extension = reencoded_image(upload)
    item.image.save(f"{uuid.uuid4().hex}.{extension}", ContentFile(data), save=False)
    if old:
        _delete_file_after_commit(item, old)


def _delete_file_after_commit(item: ContentItem, name: str) -> None:
    storage = item.image.storage
    transaction.on_commit(lambda: storage.delete(name))


def request_image_fetch(*, item: ContentItem) -> None:
    """System operation (another service's follow-up): fetch and store the item's
    `image_url` in a worker after commit (store_remote_image)."""
    enqueue_after_commit(FETCH_IMAGE_TASK, item.pk, item.organization_id)


IMAGE_ACCEPT = "image/jpeg,image/png,image/gif,image/webp;q=0.9"


def store_remote_image(*, item_id: int, organization_id: int) -> ContentItem | None:
    """System operation (a worker): fetch the item's `image_url` (the page's og:image, a
    feed's enclosure, one a marketer typed) through the SSRF-safe fetcher, check and
    re-encode it like an upload and store it as the item's image, so no browser ever loads
    a third-party address from our pages.
    A failure leaves the item without a picture and says why in `unfurl_error`; nothing
    else changes. The network call happens outside any transaction."""
    item = ContentItem.objects.for_org(organization_id).filter(pk=item_id).first()
    if item is None or item.image or not item.image_url:
        return item
    wanted = item.image_url
    try:
        fetched = unfurl.fetch(wanted, accept=IMAGE_ACCEPT, max_bytes=MAX_IMAGE_BYTES)
        upload = File(io.BytesIO(fetched.body), name="remote")
        _checked_image(upload)
    except unfurl.FetchFailed as exc:
        problem = _("The picture could not be fetched: %(problem)s") % {"problem": exc.message}
    except ValidationFailed as exc:
        problem = _("The picture at %(url)s is not usable: %(problem)s") % {"url": wanted[:200], "problem": exc.message}
    else:
        problem = ""
    with transaction.atomic():
        item = ContentItem.objects.for_org(organization_id).select_for_update().filter(pk=item_id).first()
        if item is None or item.image or item.image_url != wanted:
            return item  # changed meanwhile: that change decides
        if problem:
            item.unfurl_error = problem[:500]
            item.save(update_fields=["unfurl_error", "updated_at"])
            return item
        _store_image(item, upload, "")
        item.save(update_fields=["image", "updated_at"])
        _audit_item("content_item.image_fetched", item, after={"image": item.image.name, "from": wanted[:500]})
    return item
