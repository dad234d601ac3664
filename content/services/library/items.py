"""Writes for the marketers' content library: items and their suggestions, topics and
targeting, publishing, link previews (unfurl), RSS/Atom feeds and employees' proposals.

One function per business action: keyword-only arguments, one transaction, domain errors
from `advocacy.errors` in words for the marketer, follow-up work (fetching a preview,
polling a new feed) enqueued only after commit. Fetching over the network never happens
inside a transaction: it can take seconds and must not hold a row lock.
"""

from __future__ import annotations

import io
import uuid
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from PIL import Image, ImageOps, UnidentifiedImageError

from accounts.models import Membership, Network, Organization, Team, User
from advocacy import audit
from advocacy.errors import Conflict, ValidationFailed, conflict_on_duplicate
from content import unfurl
from content.models import ContentFeed, ContentItem, ContentProposal, Suggestion, Topic
from content.services import sharing

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000
IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
MAX_SUGGESTIONS = 20
MAX_SUGGESTION_LENGTH = 3000
MAX_FEED_ENTRIES = 100


class _Keep:
    """`update_item(field=KEEP)`: leave that field as it is (the API's partial update)."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Any = _Keep()


@dataclass(frozen=True)
class SuggestionInput:
    """One suggested commentary; `network` empty means every network."""

    text: str
    network: str = ""


@dataclass(frozen=True)
class SuggestionCheck:
    """How a suggestion shared unchanged measures on one network, and what the post shows."""

    network: str
    label: str
    length: int
    limit: int
    fits: bool
    remaining: int
    preview: str

    @property
    def over(self) -> int:
        """How many characters too many (0 when it fits)."""
        return max(0, -self.remaining)


def suggestion_checks(
    text: str, network: str = "", *, disclose: Callable[[str, str], str] | None = None
) -> list[SuggestionCheck]:
    """The count and preview, per network the suggestion is for (all three for "every
    network"), of the post an employee makes by sharing it unchanged: built by
    `sharing.final_text`, with the policy's disclosure as screening appends it (`disclose`,
    from `hooks.disclosure_for`, read once per page), and measured by `networks.text.measure`
    through `sharing.text_checks`, as the composer and the publisher do; the tracked link
    counts at a real one's length. Pure: no query, so many suggestions cost nothing more."""
    disclose = disclose or (lambda _network, posted: posted)
    networks = [network] if network in Network.values else list(Network.values)
    posted = {net: disclose(net, sharing.final_text(net, text, sharing.sample_link())) for net in networks}
    counts = sharing.text_checks(posted)
    return [
        SuggestionCheck(
            network=net,
            label=Network(net).label,
            preview=sharing.preview_of(posted[net]),
            length=counts[net]["length"],
            limit=counts[net]["limit"],
            fits=counts[net]["fits"],
            remaining=counts[net]["remaining"],
        )
        for net in networks
    ]


# --- checks shared by the actions -----------------------------------------------------------

_url_validator = URLValidator(schemes=["http", "https"])


def _clean_url(value: str, *, field: str = "url") -> str:
    url = (value or "").strip()
    if not url:
        raise ValidationFailed("Give the link to the content.", fields={field: ["Required."]})
    if len(url) > 2000:
        raise ValidationFailed("That link is longer than 2,000 characters.", fields={field: ["Too long."]})
    try:
        _url_validator(url)
    except DjangoValidationError:
        raise ValidationFailed(
            "That is not a web address; it should start with https:// or http://.", fields={field: ["Not a link."]}
        ) from None
    return url


def _clean_title(value: str) -> str:
    title = " ".join((value or "").split())
    if len(title) > 300:
        raise ValidationFailed("The title is longer than 300 characters.", fields={"title": ["Too long."]})
    return title


def _check_window(starts_at: datetime | None, expires_at: datetime | None) -> None:
    if starts_at and expires_at and expires_at <= starts_at:
        raise ValidationFailed(
            "The expiry must come after the start.", fields={"expires_at": ["Must be after the start."]}
        )


def _clean_suggestions(suggestions: Iterable[SuggestionInput | dict | tuple | str]) -> list[SuggestionInput]:
    cleaned: list[SuggestionInput] = []
    for raw in suggestions:
        if isinstance(raw, SuggestionInput):
            text, network = raw.text, raw.network
        elif isinstance(raw, dict):
            text, network = raw.get("text", ""), raw.get("network", "")
        elif isinstance(raw, tuple):
            text, network = raw
        else:
            text, network = raw, ""
        text, network = (text or "").strip(), (network or "").strip().lower()
        if not text:
            continue
        if network and network not in Network.values:
            raise ValidationFailed(
                f"Unknown network {network!r}; use one of {', '.join(Network.values)} or leave it empty for all.",
                fields={"suggestions": ["Unknown network."]},
            )
        if len(text) > MAX_SUGGESTION_LENGTH:
            raise ValidationFailed(
                f"A suggestion is longer than {MAX_SUGGESTION_LENGTH:,} characters.",
                fields={"suggestions": ["Too long."]},
            )
        cleaned.append(SuggestionInput(text=text, network=network))
    if len(cleaned) > MAX_SUGGESTIONS:
        raise ValidationFailed(
            f"At most {MAX_SUGGESTIONS} suggestions per item.", fields={"suggestions": ["Too many."]}
        )
    return cleaned


def _topic_names(names: Iterable[str]) -> dict[str, str]:
    """slug -> name, in the order given, one per slug."""
    wanted: dict[str, str] = {}
    for raw in names:
        name = " ".join((raw or "").split())
        if not name:
            continue
        if len(name) > 80:
            raise ValidationFailed(
                f"The topic {name[:40]}… is longer than 80 characters.", fields={"topics": ["Too long."]}
            )
        slug = slugify(name)[:80]
        if not slug:
            raise ValidationFailed(
                f"The topic {name!r} needs at least one letter or digit.", fields={"topics": ["Invalid."]}
            )
        wanted.setdefault(slug, name)
    return wanted


def _topics_named(organization: Organization | int, names: Iterable[str]) -> list[Topic]:
    """The organization's topics with these names, creating the missing ones."""
    wanted = _topic_names(names)
    if not wanted:
        return []
    org_id = organization if isinstance(organization, int) else organization.pk
    topics = Topic.objects.for_org(org_id)
    known = set(topics.filter(slug__in=wanted).values_list("slug", flat=True))
    missing = [Topic(organization_id=org_id, slug=s, name=n) for s, n in wanted.items() if s not in known]
    if missing:
        Topic.objects.bulk_create(missing, ignore_conflicts=True)  # a concurrent creation wins
    by_slug = {t.slug: t for t in topics.filter(slug__in=wanted)}
    return [by_slug[s] for s in wanted]


def _teams_of(organization: Organization | int, teams: Iterable[Team | int | str]) -> list[Team]:
    try:
        ids = {t.pk if isinstance(t, Team) else int(t) for t in teams}
    except (TypeError, ValueError):
        raise ValidationFailed("A chosen team does not exist.", fields={"target_teams": ["Unknown team."]}) from None
    if not ids:
        return []
    found = list(Team.objects.for_org(organization).filter(pk__in=ids))
    if len(found) != len(ids):
        raise ValidationFailed("A chosen team does not exist.", fields={"target_teams": ["Unknown team."]})
    return found


def _checked_image(upload: File) -> str:
    """Check an upload is a real JPEG/PNG/GIF/WebP of at most 5 MB; answer its extension."""
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    if size > MAX_IMAGE_BYTES:
        raise ValidationFailed(
            f"The image is {size / 1024 / 1024:.1f} MB; the limit is 5 MB.", fields={"image": ["Larger than 5 MB."]}
        )
    not_an_image = ValidationFailed(
        "That file is not an image we can use; upload a JPEG, PNG, GIF or WebP picture.",
        fields={"image": ["Not a usable image."]},
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
                    "The image has too many pixels; use one under 40 megapixels.", fields={"image": ["Too large."]}
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
            f"{kind or 'That'} images are not supported; upload a JPEG, PNG, GIF or WebP picture.",
            fields={"image": ["Unsupported type."]},
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


# --- slugs ----------------------------------------------------------------------------------


def _slug_base(title: str, url: str) -> str:
    base = slugify(title)[:100].strip("-")
    if not base:
        parts = url.split("://", 1)[-1]
        base = slugify(parts.replace("/", " ").replace(".", " "))[:100].strip("-")
    return base or "item"


def _free_slug(organization_id: int, base: str, *, exclude_pk: int | None = None) -> str:
    taken = ContentItem.objects.for_org(organization_id).filter(slug__startswith=base)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    used = set(taken.values_list("slug", flat=True))
    if base not in used:
        return base
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def _save_with_free_slug(item: ContentItem, base: str, **save_kwargs) -> bool:
    """Save with a slug unique in the organization (the constraint decides races).

    Answers False, saving nothing, when the row is a feed entry that already exists.
    """
    for _attempt in range(5):
        item.slug = _free_slug(item.organization_id, base, exclude_pk=item.pk)
        try:
            with transaction.atomic():
                item.save(**save_kwargs)
            return True
        except IntegrityError:
            if item.source_guid and item._state.adding and _feed_entry_exists(item):
                return False
    raise Conflict("Could not find a free short name for this item; change its title a little and save again.")


def _feed_entry_exists(item: ContentItem) -> bool:
    return (
        ContentItem.objects.for_org(item.organization_id)
        .filter(feed_id=item.feed_id, source_guid=item.source_guid)
        .exists()
    )


# --- items ------------------------------------------------------------------------------------


def _sync_suggestions(item: ContentItem, wanted: list[SuggestionInput]) -> None:
    """Keep unchanged suggestions (shares point at them), drop the removed, add the new, in order."""
    existing = list(Suggestion.objects.for_org(item.organization_id).filter(item=item).order_by("position", "pk"))
    pool: dict[tuple[str, str], list[Suggestion]] = {}
    for suggestion in existing:
        pool.setdefault((suggestion.text, suggestion.network), []).append(suggestion)
    kept, new = [], []
    for position, want in enumerate(wanted):
        matches = pool.get((want.text, want.network))
        if matches:
            suggestion = matches.pop(0)
            if suggestion.position != position:
                suggestion.position = position
                kept.append(suggestion)
            else:
                kept.append(None)
        else:
            new.append(
                Suggestion(
                    organization_id=item.organization_id,
                    item=item,
                    text=want.text,
                    network=want.network,
                    position=position,
                )
            )
    leftovers = [s.pk for group in pool.values() for s in group]
    if leftovers:
        Suggestion.objects.for_org(item.organization_id).filter(pk__in=leftovers).delete()
    moved = [s for s in kept if s is not None]
    if moved:
        Suggestion.objects.for_org(item.organization_id).bulk_update(moved, ["position"])
    if new:
        Suggestion.objects.bulk_create(new)


def _suggestion_texts(item: ContentItem) -> list[str]:
    rows = Suggestion.objects.for_org(item.organization_id).filter(item=item).order_by("position", "pk")
    return [f"{network or 'all'}: {text}" for network, text in rows.values_list("network", "text")]


def _audit_item(action: str, item: ContentItem, before: dict | None = None, after: dict | None = None) -> None:
    audit.record(action, organization_id=item.organization_id, target=item, before=before, after=after)


def _needs_preview(item: ContentItem) -> bool:
    return not item.title or not item.description or not (item.image or item.image_url)


@transaction.atomic
def create_item(
    *,
    organization: Organization,
    by: User | None,
    url: str,
    title: str = "",
    description: str = "",
    image: File | None = None,
    image_url: str = "",
    suggestions: Iterable[SuggestionInput | dict | tuple | str] = (),
    topics: Iterable[str] = (),
    target_teams: Iterable[Team | int] = (),
    starts_at: datetime | None = None,
    expires_at: datetime | None = None,
    featured: bool = False,
    source: str = ContentItem.Source.MANUAL,
    fetch_preview: bool = True,
) -> ContentItem:
    """Add a draft item. Its slug comes from the title (unique in the organization).

    When the title, description or image is missing and `fetch_preview` is on, the page is
    fetched in a worker after commit to fill the empty fields. Raises ValidationFailed
    (with the field) for a bad link, title, image, team, topic or window.
    """
    url = _clean_url(url)
    title = _clean_title(title)
    image_url = _clean_url(image_url, field="image_url") if image_url else ""
    cleaned_suggestions = _clean_suggestions(suggestions)
    _check_window(starts_at, expires_at)
    teams = _teams_of(organization, target_teams)
    topic_names = _topic_names(topics)
    extension = _checked_image(image) if image else ""

    item = ContentItem(
        organization=organization,
        title=title,
        url=url,
        description=(description or "").strip(),
        image_url=image_url,
        featured=bool(featured),
        starts_at=starts_at,
        expires_at=expires_at,
        source=source,
        created_by=by,
    )
    if image:
        _store_image(item, image, extension)
    _save_with_free_slug(item, _slug_base(title, url))
    _sync_suggestions(item, cleaned_suggestions)
    if topic_names:
        item.topics.set(_topics_named(organization, topic_names.values()))
    if teams:
        item.target_teams.set(teams)
    _audit_item(
        "content_item.created",
        item,
        after={
            "title": item.title,
            "url": item.url,
            "slug": item.slug,
            "status": item.status,
            "source": item.source,
            "suggestions": [f"{s.network or 'all'}: {s.text}" for s in cleaned_suggestions],
            "topics": sorted(topic_names.values()),
            "target_teams": sorted(t.name for t in teams),
        },
    )
    if fetch_preview and _needs_preview(item):
        request_unfurl(item=item)
    elif item.image_url and not item.image:
        request_image_fetch(item=item)
    return item


@transaction.atomic
def update_item(
    *,
    item: ContentItem,
    title: str = KEEP,
    url: str = KEEP,
    description: str = KEEP,
    image: File | None = KEEP,
    image_url: str = KEEP,
    suggestions: Iterable[SuggestionInput | dict | tuple | str] = KEEP,
    topics: Iterable[str] = KEEP,
    target_teams: Iterable[Team | int] = KEEP,
    starts_at: datetime | None = KEEP,
    expires_at: datetime | None = KEEP,
    featured: bool = KEEP,
) -> ContentItem:
    """Change an item; arguments left at KEEP stay as they are, `image=None` removes the image.

    A published item keeps its title and link. A draft's slug follows its title; once
    published the slug is frozen (it names the campaign in tracked links). A new link
    fetches the page again after commit (filling only fields still empty).
    """
    item = _locked(item)
    changes: dict[str, Any] = {}
    if title is not KEEP:
        changes["title"] = _clean_title(title)
    if url is not KEEP:
        changes["url"] = _clean_url(url)
    if description is not KEEP:
        changes["description"] = (description or "").strip()
    if image_url is not KEEP:
        changes["image_url"] = _clean_url(image_url, field="image_url") if image_url else ""
    if starts_at is not KEEP:
        changes["starts_at"] = starts_at
    if expires_at is not KEEP:
        changes["expires_at"] = expires_at
    if featured is not KEEP:
        changes["featured"] = bool(featured)
    _check_window(changes.get("starts_at", item.starts_at), changes.get("expires_at", item.expires_at))
    if item.status == ContentItem.Status.PUBLISHED and "title" in changes and not changes["title"]:
        raise ValidationFailed("A published item needs a title.", fields={"title": ["Required."]})
    url_changed = "url" in changes and changes["url"] != item.url
    if "title" in changes and not changes["title"] and not url_changed:
        _check_untitled(item)
    cleaned_suggestions = _clean_suggestions(suggestions) if suggestions is not KEEP else None
    teams = _teams_of(item.organization_id, target_teams) if target_teams is not KEEP else None
    topic_names = _topic_names(topics) if topics is not KEEP else None
    extension = _checked_image(image) if image not in (KEEP, None) else ""

    title_changed = "title" in changes and changes["title"] != item.title
    before = {f: getattr(item, f) for f, v in changes.items() if getattr(item, f) != v}
    after = {f: changes[f] for f in before}
    if image is not KEEP:
        before["image"], after["image"] = item.image.name or "", "" if image is None else "(new upload)"
    if cleaned_suggestions is not None:
        before["suggestions"] = _suggestion_texts(item)
        after["suggestions"] = [f"{s.network or 'all'}: {s.text}" for s in cleaned_suggestions]
    if topic_names is not None:
        before["topics"] = sorted(item.topics.values_list("name", flat=True))
        after["topics"] = sorted(topic_names.values())
    if teams is not None:
        before["target_teams"] = sorted(item.target_teams.values_list("name", flat=True))
        after["target_teams"] = sorted(t.name for t in teams)
    for field, value in changes.items():
        setattr(item, field, value)
    if url_changed:
        item.canonical_url = item.fetched_title = ""  # they described the old page
    if image is None and item.image:
        _delete_file_after_commit(item, item.image.name)
        item.image = ""
    elif image is not KEEP and image is not None:
        _store_image(item, image, extension)
    if title_changed and item.published_at is None:
        _save_with_free_slug(item, _slug_base(item.title, item.url))
    else:
        item.save()
    if cleaned_suggestions is not None:
        _sync_suggestions(item, cleaned_suggestions)
    if topic_names is not None:
        item.topics.set(_topics_named(item.organization_id, topic_names.values()))
    if teams is not None:
        item.target_teams.set(teams)
    changed = [f for f in after if before.get(f) != after[f]]
    if changed:
        _audit_item(
            "content_item.updated",
            item,
            before={f: before[f] for f in changed},
            after={f: after[f] for f in changed},
        )
    if url_changed:
        request_unfurl(item=item)
    elif "image_url" in changed and item.image_url and not item.image:
        request_image_fetch(item=item)
    return item


def _check_untitled(item: ContentItem) -> None:
    """An item may stay untitled only while its page is being fetched (or is about to be):
    once the fetch is over without a title to use, saving it untitled is refused here rather
    than at Publish, with the page's own title proposed when it has one."""
    if item.unfurl_status == ContentItem.Unfurl.FAILED:
        message = "Give the item a title: its page could not be fetched, so there is no title to show."
    elif item.unfurl_status == ContentItem.Unfurl.DONE and item.fetched_title:
        message = f"Give the item a title; the page's own is “{item.fetched_title}”."
    elif item.unfurl_status == ContentItem.Unfurl.DONE:
        message = "Give the item a title: its page has none to show."
    else:
        return
    raise ValidationFailed(message, fields={"title": ["Required."]})


def _locked(item: ContentItem) -> ContentItem:
    return ContentItem.objects.for_org(item.organization_id).select_for_update().get(pk=item.pk)


def _publish_problems(item: ContentItem, now: datetime) -> list[str]:
    problems = []
    if not item.title:
        problems.append("a title")
    if not item.url:
        problems.append("a link")
    if item.expires_at and item.expires_at <= now:
        problems.append("an expiry in the future")
    return problems


@transaction.atomic
def publish_item(*, item: ContentItem) -> ContentItem:
    """Offer the item to employees (from its start time). Needs a title and a link.

    Publishing a published item changes nothing. Raises ValidationFailed naming what is missing.
    """
    item = _locked(item)
    if item.status == ContentItem.Status.PUBLISHED:
        return item
    now = timezone.now()
    problems = _publish_problems(item, now)
    if problems:
        raise ValidationFailed(
            f"Before publishing, give the item {' and '.join(problems)}.",
            fields={"title": ["Required."]} if not item.title else {},
        )
    before = {"status": item.status}
    item.status = ContentItem.Status.PUBLISHED
    item.published_at = now
    item.save(update_fields=["status", "published_at", "updated_at"])
    _audit_item("content_item.published", item, before=before, after={"status": item.status, "published_at": now})
    return item


@transaction.atomic
def unpublish_item(*, item: ContentItem) -> ContentItem:
    """Take the item out of employees' feeds (or restore an archived one) as a draft.

    Shares already made are not touched.
    """
    item = _locked(item)
    if item.status != ContentItem.Status.DRAFT:
        before = {"status": item.status}
        item.status = ContentItem.Status.DRAFT
        item.save(update_fields=["status", "updated_at"])
        _audit_item("content_item.unpublished", item, before=before, after={"status": item.status})
    return item


@transaction.atomic
def archive_item(*, item: ContentItem) -> ContentItem:
    """Put the item away: out of feeds and out of the library's default list. Kept for reports."""
    item = _locked(item)
    if item.status != ContentItem.Status.ARCHIVED:
        before = {"status": item.status}
        item.status = ContentItem.Status.ARCHIVED
        item.save(update_fields=["status", "updated_at"])
        _audit_item("content_item.archived", item, before=before, after={"status": item.status})
    return item


def _items_for_bulk(organization: Organization, item_ids: Iterable[int | str]) -> list[ContentItem]:
    try:
        ids = {int(i) for i in item_ids}
    except (TypeError, ValueError):
        raise ValidationFailed("Choose items from the list.") from None
    if not ids:
        raise ValidationFailed("Choose at least one item first.")
    items = list(ContentItem.objects.for_org(organization).filter(pk__in=ids).select_for_update().order_by("pk"))
    if len(items) != len(ids):
        raise ValidationFailed("Some chosen items no longer exist; reload the page and choose again.")
    return items


@transaction.atomic
def bulk_publish(*, organization: Organization, item_ids: Iterable[int | str]) -> int:
    """Publish several items of the organization at once: all of them, or none.

    Raises ValidationFailed when an id is not the organization's item, or naming the items
    that cannot be published yet. Answers how many changed.
    """
    items = _items_for_bulk(organization, item_ids)
    now = timezone.now()
    blocked = [(item, _publish_problems(item, now)) for item in items]
    blocked = [(item, problems) for item, problems in blocked if problems and item.status != "published"]
    if blocked:
        names = "; ".join(f"{item.title or item.url} (needs {' and '.join(p)})" for item, p in blocked[:5])
        raise ValidationFailed(f"Nothing was published. Fix these first: {names}.")
    to_publish = [item for item in items if item.status != ContentItem.Status.PUBLISHED]
    changed = (
        ContentItem.objects.for_org(organization)
        .filter(pk__in=[item.pk for item in to_publish])
        .update(status=ContentItem.Status.PUBLISHED, published_at=now, updated_at=now)
    )
    for item in to_publish:
        _audit_item(
            "content_item.published",
            item,
            before={"status": item.status},
            after={"status": ContentItem.Status.PUBLISHED, "published_at": now, "bulk": True},
        )
    return changed


@transaction.atomic
def bulk_archive(*, organization: Organization, item_ids: Iterable[int | str]) -> int:
    """Archive several items of the organization at once: all of them, or none if an id is foreign."""
    items = _items_for_bulk(organization, item_ids)
    to_archive = [item for item in items if item.status != ContentItem.Status.ARCHIVED]
    changed = (
        ContentItem.objects.for_org(organization)
        .filter(pk__in=[item.pk for item in to_archive])
        .update(status=ContentItem.Status.ARCHIVED, updated_at=timezone.now())
    )
    for item in to_archive:
        _audit_item(
            "content_item.archived",
            item,
            before={"status": item.status},
            after={"status": ContentItem.Status.ARCHIVED, "bulk": True},
        )
    return changed


# --- link previews ------------------------------------------------------------------------------


@transaction.atomic
def request_unfurl(*, item: ContentItem) -> ContentItem:
    """Mark the item's preview as being fetched and fetch it in a worker after commit."""
    ContentItem.objects.for_org(item.organization_id).filter(pk=item.pk).update(
        unfurl_status=ContentItem.Unfurl.PENDING, unfurl_error=""
    )
    item.unfurl_status, item.unfurl_error = ContentItem.Unfurl.PENDING, ""
    item_id, organization_id = item.pk, item.organization_id

    def enqueue() -> None:
        from content.tasks import unfurl_item  # the tasks module imports this one

        unfurl_item.delay(item_id, organization_id)

    transaction.on_commit(enqueue)
    return item


def request_image_fetch(*, item: ContentItem) -> None:
    """Fetch and store the item's `image_url` in a worker after commit (store_remote_image)."""
    item_id, organization_id = item.pk, item.organization_id

    def enqueue() -> None:
        from content.tasks import fetch_item_image  # the tasks module imports this one

        fetch_item_image.delay(item_id, organization_id)

    transaction.on_commit(enqueue)


def apply_unfurl(*, item_id: int, organization_id: int) -> ContentItem | None:
    """Fetch the item's page and fill the fields that are still EMPTY; never overwrite.

    Sets `unfurl_status` to done, or to failed with the reason in words (a refused private
    address, a timeout, a 404...). If the link was changed while fetching, the result is
    dropped: the fetch of the new link decides. Answers None for a missing item.
    """
    item = ContentItem.objects.for_org(organization_id).filter(pk=item_id).first()
    if item is None:
        return None
    fetched_url = item.url
    preview, error = None, ""
    try:
        preview = unfurl.unfurl(fetched_url)
    except unfurl.FetchFailed as exc:
        error = exc.message
    with transaction.atomic():
        item = ContentItem.objects.for_org(organization_id).select_for_update().filter(pk=item_id).first()
        if item is None or item.url != fetched_url:
            return item
        if preview is None:
            item.unfurl_status, item.unfurl_error = ContentItem.Unfurl.FAILED, error[:500]
            item.save(update_fields=["unfurl_status", "unfurl_error", "updated_at"])
            _audit_item(
                "content_item.preview_failed", item, after={"unfurl_status": item.unfurl_status, "error": error[:500]}
            )
            return item
        filled_fields = ["title", "description", "image_url", "canonical_url", "fetched_title"]
        before = {f: getattr(item, f) for f in filled_fields}
        title_filled = not item.title and bool(preview.title)
        item.fetched_title = " ".join((preview.title or "").split())[:300]
        if not item.title:
            item.title = preview.title
        if not item.description:
            item.description = preview.description
        if not item.image and not item.image_url:
            item.image_url = preview.image_url
        if not item.canonical_url and preview.canonical_url != fetched_url:
            item.canonical_url = preview.canonical_url
        item.unfurl_status, item.unfurl_error = ContentItem.Unfurl.DONE, ""
        if title_filled and item.published_at is None:
            _save_with_free_slug(item, _slug_base(item.title, item.url))
        else:
            item.save()
        filled = [f for f in filled_fields if before[f] != getattr(item, f)]
        _audit_item(
            "content_item.preview_fetched",
            item,
            before={f: before[f] for f in filled},
            after={"unfurl_status": item.unfurl_status, **{f: getattr(item, f) for f in filled}},
        )
    return store_remote_image(item_id=item.pk, organization_id=organization_id) or item


IMAGE_ACCEPT = "image/jpeg,image/png,image/gif,image/webp;q=0.9"


def store_remote_image(*, item_id: int, organization_id: int) -> ContentItem | None:
    """Fetch the item's `image_url` (the page's og:image, a feed's enclosure, one a marketer
    typed) through the SSRF-safe fetcher, check and re-encode it like an upload and store it
    as the item's image, so no browser ever loads a third-party address from our pages.
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
        problem = f"The picture could not be fetched: {exc.message}"
    except ValidationFailed as exc:
        problem = f"The picture at {wanted[:200]} is not usable: {exc.message}"
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


# --- topics -------------------------------------------------------------------------------------


@transaction.atomic
def create_topic(*, organization: Organization, name: str) -> Topic:
    """A topic employees can follow; its slug comes from the name, unique in the organization."""
    wanted = _topic_names([name])
    if not wanted:
        raise ValidationFailed("Give the topic a name.", fields={"name": ["Required."]})
    slug, clean_name = next(iter(wanted.items()))
    with conflict_on_duplicate(f"There is already a topic called {clean_name}.", fields={"name": ["Taken."]}):
        topic = Topic.objects.create(organization=organization, name=clean_name, slug=slug)
    audit.record("topic.created", organization_id=organization.pk, target=topic, after={"name": clean_name})
    return topic


# --- feeds --------------------------------------------------------------------------------------


def add_feed(*, organization: Organization, url: str, by: User | None) -> ContentFeed:
    """Follow an RSS/Atom feed: its entries become draft items, checked now and on a schedule.

    The address obeys the same rules as link previews (no private addresses). Raises
    ValidationFailed for a bad or private address, Conflict for a feed already followed.
    """
    url = _clean_url(url)
    unfurl.vet_url(url)  # an early, clear answer; every poll checks again
    with transaction.atomic():
        with conflict_on_duplicate("That feed is already in the library.", fields={"url": ["Already added."]}):
            feed = ContentFeed.objects.create(organization=organization, url=url, created_by=by)
        audit.record("feed.added", organization_id=organization.pk, target=feed, after={"url": url})
        feed_id, organization_id = feed.pk, organization.pk

        def enqueue() -> None:
            from content.tasks import poll_feed as poll_feed_task

            poll_feed_task.delay(feed_id, organization_id)

        transaction.on_commit(enqueue)
    return feed


@transaction.atomic
def set_feed_active(*, feed: ContentFeed, active: bool) -> ContentFeed:
    """Pause or resume the scheduled checks of a feed."""
    before = {"is_active": feed.is_active}
    feed.is_active = bool(active)
    feed.save(update_fields=["is_active"])
    if before["is_active"] != feed.is_active:
        audit.record(
            "feed.resumed" if feed.is_active else "feed.paused",
            organization_id=feed.organization_id,
            target=feed,
            before=before,
            after={"is_active": feed.is_active},
        )
    return feed


def _record_feed_check(feed: ContentFeed, *, error: str = "", title: str = "") -> None:
    changes = {"last_checked_at": timezone.now(), "last_error": error[:500]}
    if title and not feed.title:
        changes["title"] = title[:300]
    ContentFeed.objects.for_org(feed.organization_id).filter(pk=feed.pk).update(**changes)
    for field, value in changes.items():
        setattr(feed, field, value)


def poll_feed(*, feed: ContentFeed) -> int:
    """Import the feed's new entries as DRAFT items; answer how many were created.

    An entry is known by its id/guid (or its link when it has none); the database's unique
    constraint on (organization, feed, guid) decides, so polling again, or twice at once,
    never duplicates an item. A failure (refused address, timeout, not a feed) is recorded
    on the feed and raised as FetchFailed; successes clear the recorded error.
    """
    try:
        fetched = unfurl.fetch(feed.url, accept=unfurl.FEED_ACCEPT)
        parsed = unfurl.parse_feed(fetched.body, base_url=fetched.url)
    except unfurl.FetchFailed as exc:
        _record_feed_check(feed, error=exc.message)
        raise
    entries = parsed.entries[:MAX_FEED_ENTRIES]
    created = 0
    with transaction.atomic():
        known = set(
            ContentItem.objects.for_org(feed.organization_id)
            .filter(feed=feed, source_guid__in=[e.guid for e in entries])
            .values_list("source_guid", flat=True)
        )
        for entry in entries:
            if entry.guid in known:
                continue
            known.add(entry.guid)
            item = ContentItem(
                organization_id=feed.organization_id,
                title=entry.title,
                url=entry.link,
                description=entry.summary,
                image_url=entry.image_url,
                status=ContentItem.Status.DRAFT,
                source=ContentItem.Source.FEED,
                feed=feed,
                source_guid=entry.guid,
                created_by_id=feed.created_by_id,
            )
            if _save_with_free_slug(item, _slug_base(entry.title, entry.link), force_insert=True):
                created += 1
                _audit_item(
                    "content_item.imported",
                    item,
                    after={"title": item.title, "url": item.url, "feed": feed.pk, "guid": entry.guid[:200]},
                )
                if item.image_url:
                    request_image_fetch(item=item)
        _record_feed_check(feed, title=parsed.title)
    return created


def feeds_due() -> list[tuple[int, int]]:
    """(feed id, organization id) of every active feed of every organization, for the schedule."""
    return list(
        ContentFeed.objects.all_organizations()  # the schedule serves every tenant, on purpose
        .filter(is_active=True)
        .order_by("pk")
        .values_list("pk", "organization_id")
    )


# --- proposals from employees ------------------------------------------------------------------


@transaction.atomic
def propose_content(*, membership: Membership, url: str, reason: str = "") -> ContentProposal:
    """Any member suggests a link worth sharing; it lands in the marketers' inbox.

    Raises ValidationFailed for a bad link, Conflict when the same link is already waiting.
    """
    url = _clean_url(url)
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationFailed("Keep the reason under 2,000 characters.", fields={"reason": ["Too long."]})
    waiting = ContentProposal.objects.for_org(membership.organization_id).filter(
        url=url, status=ContentProposal.Status.NEW
    )
    if waiting.exists():
        raise Conflict(
            "Someone already proposed this link; the marketing team will look at it.",
            fields={"url": ["Already proposed."]},
        )
    proposal = ContentProposal.objects.create(
        organization_id=membership.organization_id, url=url, reason=reason, proposed_by_id=membership.user_id
    )
    audit.record(
        "proposal.created",
        organization_id=membership.organization_id,
        target=proposal,
        after={"url": url, "reason": reason[:500]},
    )
    return proposal


def _locked_new_proposal(proposal: ContentProposal) -> ContentProposal:
    proposal = ContentProposal.objects.for_org(proposal.organization_id).select_for_update().get(pk=proposal.pk)
    if proposal.status != ContentProposal.Status.NEW:
        raise Conflict(f"This proposal was already {proposal.get_status_display().lower()}.")
    return proposal


@transaction.atomic
def accept_proposal(*, proposal: ContentProposal, by: User | None) -> ContentItem:
    """Turn a proposal into a draft item (its preview fetched after commit) and mark it accepted.

    Raises Conflict when the proposal was already accepted or declined.
    """
    proposal = _locked_new_proposal(proposal)
    item = create_item(organization=proposal.organization, by=by, url=proposal.url, source=ContentItem.Source.PROPOSAL)
    proposal.status = ContentProposal.Status.ACCEPTED
    proposal.item = item
    proposal.save(update_fields=["status", "item"])
    audit.record(
        "proposal.accepted",
        organization_id=proposal.organization_id,
        target=proposal,
        before={"status": ContentProposal.Status.NEW},
        after={"status": proposal.status, "item": item.pk},
    )
    return item


@transaction.atomic
def decline_proposal(*, proposal: ContentProposal, by: User | None) -> ContentProposal:
    """Close a proposal without adding it. Raises Conflict when it was already handled."""
    proposal = _locked_new_proposal(proposal)
    proposal.status = ContentProposal.Status.DECLINED
    proposal.save(update_fields=["status"])
    audit.record(
        "proposal.declined",
        organization_id=proposal.organization_id,
        target=proposal,
        before={"status": ContentProposal.Status.NEW},
        after={"status": proposal.status},
    )
    return proposal
