"""Library items: creating, editing, publishing, archiving (one or in bulk) and their link
previews (unfurl).

One function per business action: keyword-only arguments, one transaction, domain errors
from `advocacy.errors` in words for the marketer, follow-up work (fetching a preview)
enqueued only after commit. Fetching over the network never happens inside a transaction:
it can take seconds and must not hold a row lock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Organization, Team
from accounts.permissions import require
from advocacy.errors import ValidationFailed
from content import unfurl
from content.models import ContentItem
from content.services import slack
from content.services.library.announce import announce_after_commit
from content.services.library.common import (
    MANAGE,
    UNFURL_TASK,
    _audit_item,
    _check_window,
    _clean_title,
    _clean_url,
    _save_with_free_slug,
    _slug_base,
    enqueue_after_commit,
)
from content.services.library.images import (
    _checked_image,
    _delete_file_after_commit,
    _store_image,
    request_image_fetch,
    store_remote_image,
)
from content.services.library.suggestions import (
    SuggestionInput,
    _clean_suggestions,
    _suggestion_texts,
    _sync_suggestions,
)
from content.services.library.topics import _topic_names, _topics_named


def _teams_of(organization: Organization | int, teams: Iterable[Team | int | str]) -> list[Team]:
    try:
        ids = {t.pk if isinstance(t, Team) else int(t) for t in teams}
    except (TypeError, ValueError):
        raise ValidationFailed(
            _("A chosen team does not exist."), fields={"target_teams": [_("Unknown team.")]}
        ) from None
    if not ids:
        return []
    found = list(Team.objects.for_org(organization).filter(pk__in=ids))
    if len(found) != len(ids):
        raise ValidationFailed(_("A chosen team does not exist."), fields={"target_teams": [_("Unknown team.")]})
    return found


def _needs_preview(item: ContentItem) -> bool:
    return not item.title or not item.description or not (item.image or item.image_url)


@transaction.atomic
def create_item(
    *,
    actor: Membership,
    url: str,
    title: str = "",
    description: str = "",
    image: File | None = None,
    image_alt_text: str = "",
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
    require(actor, MANAGE)
    organization = actor.organization
    url = _clean_url(url)
    title = _clean_title(title)
    image_url = _clean_url(image_url, field="image_url") if image_url else ""
    cleaned_suggestions = _clean_suggestions(suggestions)
    _check_window(starts_at, expires_at)
    teams = _teams_of(organization, target_teams)
    topic_names = _topic_names(topics)
    extension = _checked_image(image) if image else ""
    image_alt_text = _clean_alt_text(image_alt_text)

    item = ContentItem(
        organization=organization,
        title=title,
        url=url,
        description=(description or "").strip(),
        image_alt_text=image_alt_text,
        image_url=image_url,
        featured=bool(featured),
        starts_at=starts_at,
        expires_at=expires_at,
        source=source,
        created_by_id=actor.user_id,
        language=organization.default_language,  # variants in other languages: library.variants
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
            "suggestions": _suggestion_lines(cleaned_suggestions),
            "topics": sorted(topic_names.values()),
            "target_teams": sorted(t.name for t in teams),
        },
    )
    if fetch_preview and _needs_preview(item):
        _request_unfurl(item)
    elif item.image_url and not item.image:
        request_image_fetch(item=item)
    return item


EDITABLE_FIELDS = frozenset(
    {"title", "url", "description", "image", "image_alt_text", "image_url", "suggestions", "topics", "target_teams"}
    | {"starts_at", "expires_at", "featured"}
)

# The item's own columns an edit sets, each with its check (in the order the errors are found).
_COLUMN_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "title": _clean_title,
    "url": _clean_url,
    "description": lambda value: (value or "").strip(),
    "image_alt_text": lambda value: _clean_alt_text(value),
    "image_url": lambda value: _clean_url(value, field="image_url") if value else "",
    "starts_at": lambda value: value,
    "expires_at": lambda value: value,
    "featured": bool,
}


def _suggestion_lines(suggestions: Iterable[SuggestionInput]) -> list[str]:
    return [f"{s.network or 'all'}: {s.text}" for s in suggestions]


@dataclass
class _Relation:
    """One of the item's relations an edit replaces: how to clean what was given, how the
    audit shows it before and after, and how to store it."""

    clean: Callable[[ContentItem, Any], Any]
    shown_before: Callable[[ContentItem], list[str]]
    shown_after: Callable[[Any], list[str]]
    store: Callable[[ContentItem, Any], None]


_RELATIONS: dict[str, _Relation] = {
    "suggestions": _Relation(
        clean=lambda item, given: _clean_suggestions(given),
        shown_before=_suggestion_texts,
        shown_after=_suggestion_lines,
        store=_sync_suggestions,
    ),
    "topics": _Relation(
        clean=lambda item, given: _topic_names(given),
        shown_before=lambda item: sorted(item.topics.values_list("name", flat=True)),
        shown_after=lambda names: sorted(names.values()),
        store=lambda item, names: item.topics.set(_topics_named(item.organization_id, names.values())),
    ),
    "target_teams": _Relation(
        clean=lambda item, given: _teams_of(item.organization_id, given),
        shown_before=lambda item: sorted(item.target_teams.values_list("name", flat=True)),
        shown_after=lambda teams: sorted(t.name for t in teams),
        store=lambda item, teams: item.target_teams.set(teams),
    ),
}


@dataclass
class _ItemEdit:
    """The checked changes of one `update_item`: only the fields given."""

    columns: dict[str, Any]
    relations: dict[str, Any]
    image_given: bool = False
    image: File | None = None
    image_extension: str = ""

    @classmethod
    def checked(cls, item: ContentItem, changes: dict[str, Any]) -> _ItemEdit:
        unknown = set(changes) - EDITABLE_FIELDS
        if unknown:
            raise TypeError(f"update_item() cannot change {', '.join(sorted(unknown))}")
        columns = {field: clean(changes[field]) for field, clean in _COLUMN_CLEANERS.items() if field in changes}
        _check_window(columns.get("starts_at", item.starts_at), columns.get("expires_at", item.expires_at))
        _check_title(item, columns)
        relations = {name: rel.clean(item, changes[name]) for name, rel in _RELATIONS.items() if name in changes}
        image = changes.get("image")
        extension = _checked_image(image) if image is not None else ""
        return cls(columns, relations, "image" in changes, image, extension)

    def changes(self, item: ContentItem, field: str) -> bool:
        return field in self.columns and self.columns[field] != getattr(item, field)

    def audit_views(self, item: ContentItem) -> tuple[dict, dict]:
        """(before, after) of what the edit touches, read before it is applied."""
        before = {f: getattr(item, f) for f in self.columns if self.changes(item, f)}
        after = {f: self.columns[f] for f in before}
        if self.image_given:
            before["image"], after["image"] = item.image.name or "", "" if self.image is None else "(new upload)"
        for name, value in self.relations.items():
            before[name], after[name] = _RELATIONS[name].shown_before(item), _RELATIONS[name].shown_after(value)
        return before, after

    def apply(self, item: ContentItem) -> None:
        for field, value in self.columns.items():
            setattr(item, field, value)
        if not self.image_given:
            return
        if self.image is not None:
            _store_image(item, self.image, self.image_extension)
        elif item.image:
            _delete_file_after_commit(item, item.image.name)
            item.image = ""


def _clean_alt_text(value: str | None) -> str:
    text = " ".join((value or "").split())
    if len(text) > 1000:
        raise ValidationFailed(
            _("The picture's description is too long: 1,000 characters at most."),
            fields={"image_alt_text": [_("At most 1,000 characters.")]},
        )
    return text


def _check_title(item: ContentItem, columns: dict[str, Any]) -> None:
    """An emptied title: refused once published, and while the page gave none (unless the
    link changes too: its page is fetched again)."""
    if "title" not in columns or columns["title"]:
        return
    if item.status == ContentItem.Status.PUBLISHED:
        raise ValidationFailed(_("A published item needs a title."), fields={"title": [_("Required.")]})
    if columns.get("url", item.url) == item.url:
        _check_untitled(item)


@transaction.atomic
def update_item(*, actor: Membership, item: ContentItem, **changes: Any) -> ContentItem:
    """Change the fields given (any of EDITABLE_FIELDS; the others stay as they are, the API's
    partial update); `image=None` removes the image, `suggestions`, `topics` and `target_teams`
    replace the lists.

    A published item keeps its title and link. A draft's slug follows its title; once
    published the slug is frozen (it names the campaign in tracked links). A new link
    fetches the page again after commit (filling only fields still empty).
    """
    require(actor, MANAGE)
    item = _locked(actor, item)
    edit = _ItemEdit.checked(item, changes)
    url_changed, title_changed = edit.changes(item, "url"), edit.changes(item, "title")
    before, after = edit.audit_views(item)
    edit.apply(item)
    if url_changed:
        item.canonical_url = item.fetched_title = ""  # they described the old page
    if title_changed and item.published_at is None:
        _save_with_free_slug(item, _slug_base(item.title, item.url))
    else:
        item.save()
    for name, value in edit.relations.items():
        _RELATIONS[name].store(item, value)
    changed = [f for f in after if before.get(f) != after[f]]
    _after_edit(item, before, after, changed, url_changed=url_changed)
    if "featured" in changed and item.status == ContentItem.Status.PUBLISHED:
        slack.queue_item(item=item)  # featured once published: to Slack (issue 22)
    return item


def _after_edit(item: ContentItem, before: dict, after: dict, changed: list[str], *, url_changed: bool) -> None:
    """Record what changed and fetch what the edit calls for: the new link's page, or the new picture link."""
    if changed:
        _audit_item(
            "content_item.updated",
            item,
            before={f: before[f] for f in changed},
            after={f: after[f] for f in changed},
        )
    if url_changed:
        _request_unfurl(item)
    elif "image_url" in changed and item.image_url and not item.image:
        request_image_fetch(item=item)


def _check_untitled(item: ContentItem) -> None:
    """An item may stay untitled only while its page is being fetched (or is about to be):
    once the fetch is over without a title to use, saving it untitled is refused here rather
    than at Publish, with the page's own title proposed when it has one."""
    if item.unfurl_status == ContentItem.Unfurl.FAILED:
        message = _("Give the item a title: its page could not be fetched, so there is no title to show.")
    elif item.unfurl_status == ContentItem.Unfurl.DONE and item.fetched_title:
        message = _("Give the item a title; the page's own is “%(title)s”.") % {"title": item.fetched_title}
    elif item.unfurl_status == ContentItem.Unfurl.DONE:
        message = _("Give the item a title: its page has none to show.")
    else:
        return
    raise ValidationFailed(message, fields={"title": [_("Required.")]})


def _locked(actor: Membership, item: ContentItem) -> ContentItem:
    """The item, locked; another organization's is DoesNotExist."""
    return ContentItem.objects.for_org(actor.organization_id).select_for_update().get(pk=item.pk)


def _and(words: list[str]) -> str:
    return f" {_('and')} ".join(words)


def _publish_problems(item: ContentItem, now: datetime) -> list[str]:
    problems = []
    if not item.title:
        problems.append(_("a title"))
    if not item.url:
        problems.append(_("a link"))
    if item.expires_at and item.expires_at <= now:
        problems.append(_("an expiry in the future"))
    return problems


@transaction.atomic
def publish_item(*, actor: Membership, item: ContentItem) -> ContentItem:
    """Offer the item to employees (from its start time). Needs a title and a link.

    Publishing a published item changes nothing. Raises ValidationFailed naming what is missing.
    """
    require(actor, MANAGE)
    item = _locked(actor, item)
    if item.status == ContentItem.Status.PUBLISHED:
        return item
    now = timezone.now()
    problems = _publish_problems(item, now)
    if problems:
        raise ValidationFailed(
            _("Before publishing, give the item %(problems)s.") % {"problems": _and(problems)},
            fields={"title": [_("Required.")]} if not item.title else {},
        )
    before = {"status": item.status}
    item.status = ContentItem.Status.PUBLISHED
    item.published_at = now
    item.save(update_fields=["status", "published_at", "updated_at"])
    _audit_item("content_item.published", item, before=before, after={"status": item.status, "published_at": now})
    slack.queue_item(item=item)  # featured: to the Slack channels that want it (issue 22)
    announce_after_commit(item)
    return item


@transaction.atomic
def unpublish_item(*, actor: Membership, item: ContentItem) -> ContentItem:
    """Take the item out of employees' feeds (or restore an archived one) as a draft.

    Shares already made are not touched.
    """
    require(actor, MANAGE)
    item = _locked(actor, item)
    if item.status != ContentItem.Status.DRAFT:
        before = {"status": item.status}
        item.status = ContentItem.Status.DRAFT
        item.save(update_fields=["status", "updated_at"])
        _audit_item("content_item.unpublished", item, before=before, after={"status": item.status})
    return item


@transaction.atomic
def archive_item(*, actor: Membership, item: ContentItem) -> ContentItem:
    """Put the item away: out of feeds and out of the library's default list. Kept for reports."""
    require(actor, MANAGE)
    item = _locked(actor, item)
    if item.status != ContentItem.Status.ARCHIVED:
        before = {"status": item.status}
        item.status = ContentItem.Status.ARCHIVED
        item.save(update_fields=["status", "updated_at"])
        _audit_item("content_item.archived", item, before=before, after={"status": item.status})
    return item


def _items_for_bulk(organization: int, item_ids: Iterable[int | str]) -> list[ContentItem]:
    try:
        ids = {int(i) for i in item_ids}
    except (TypeError, ValueError):
        raise ValidationFailed(_("Choose items from the list.")) from None
    if not ids:
        raise ValidationFailed(_("Choose at least one item first."))
    items = list(ContentItem.objects.for_org(organization).filter(pk__in=ids).select_for_update().order_by("pk"))
    if len(items) != len(ids):
        raise ValidationFailed(_("Some chosen items no longer exist; reload the page and choose again."))
    return items


@transaction.atomic
def bulk_publish(*, actor: Membership, item_ids: Iterable[int | str]) -> int:
    """Publish several items of the organization at once: all of them, or none.

    Raises ValidationFailed when an id is not the organization's item, or naming the items
    that cannot be published yet. Answers how many changed.
    """
    require(actor, MANAGE)
    organization = actor.organization_id
    items = _items_for_bulk(organization, item_ids)
    now = timezone.now()
    blocked = [(item, _publish_problems(item, now)) for item in items]
    blocked = [(item, problems) for item, problems in blocked if problems and item.status != "published"]
    if blocked:
        names = "; ".join(
            _("%(item)s (needs %(problems)s)") % {"item": item.title or item.url, "problems": _and(p)}
            for item, p in blocked[:5]
        )
        raise ValidationFailed(_("Nothing was published. Fix these first: %(names)s.") % {"names": names})
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
        announce_after_commit(item)
    return changed


@transaction.atomic
def bulk_archive(*, actor: Membership, item_ids: Iterable[int | str]) -> int:
    """Archive several items of the organization at once: all of them, or none if an id is foreign."""
    require(actor, MANAGE)
    organization = actor.organization_id
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
def request_unfurl(*, actor: Membership, item: ContentItem) -> ContentItem:
    """Fetch the item's page again (the marketer's "fetch again"): see `_request_unfurl`."""
    require(actor, MANAGE)
    return _request_unfurl(_locked(actor, item))


def _request_unfurl(item: ContentItem) -> ContentItem:
    """Mark the item's preview as being fetched and fetch it in a worker after commit."""
    ContentItem.objects.for_org(item.organization_id).filter(pk=item.pk).update(
        unfurl_status=ContentItem.Unfurl.PENDING, unfurl_error=""
    )
    item.unfurl_status, item.unfurl_error = ContentItem.Unfurl.PENDING, ""
    enqueue_after_commit(UNFURL_TASK, item.pk, item.organization_id)
    return item


def apply_unfurl(*, item_id: int, organization_id: int) -> ContentItem | None:
    """System operation (a worker): fetch the item's page and fill the fields that are
    still EMPTY; never overwrite.

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
