"""What the library's writes share: the checks of a link, a title and a window, the item's
audit entry, slugs unique in the organization, and the names of the content tasks they enqueue."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from celery import current_app
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.permissions import Permission
from advocacy import audit
from advocacy.errors import Conflict, ValidationFailed
from content.models import ContentItem

MANAGE = Permission.LIBRARY_MANAGE  # the permission every marketer write requires

# --- content tasks, enqueued by name (the tasks module imports the services, not the reverse) ---

UNFURL_TASK = "content.tasks.unfurl_item"
FETCH_IMAGE_TASK = "content.tasks.fetch_item_image"
POLL_FEED_TASK = "content.tasks.poll_feed"


def _send(task_name: str, *args: int) -> None:
    current_app.send_task(task_name, args=list(args))


def enqueue_after_commit(task_name: str, *args: int) -> None:
    """Send the task `task_name` with `args` to the worker once the transaction commits (the
    callback is `partial(_send, task_name, *args)`: a test reads the name in `.args[0]`)."""
    transaction.on_commit(partial(_send, task_name, *args))


# --- checks shared by the actions -----------------------------------------------------------

_url_validator = URLValidator(schemes=["http", "https"])


def _clean_url(value: str, *, field: str = "url") -> str:
    url = (value or "").strip()
    if not url:
        raise ValidationFailed(_("Give the link to the content."), fields={field: [_("Required.")]})
    if len(url) > 2000:
        raise ValidationFailed(_("That link is longer than 2,000 characters."), fields={field: [_("Too long.")]})
    try:
        _url_validator(url)
    except DjangoValidationError:
        raise ValidationFailed(
            _("That is not a web address; it should start with https:// or http://."),
            fields={field: [_("Not a link.")]},
        ) from None
    return url


def _clean_title(value: str) -> str:
    title = " ".join((value or "").split())
    if len(title) > 300:
        raise ValidationFailed(_("The title is longer than 300 characters."), fields={"title": [_("Too long.")]})
    return title


def _check_window(starts_at: datetime | None, expires_at: datetime | None) -> None:
    if starts_at and expires_at and expires_at <= starts_at:
        raise ValidationFailed(
            _("The expiry must come after the start."), fields={"expires_at": [_("Must be after the start.")]}
        )


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
    raise Conflict(_("Could not find a free short name for this item; change its title a little and save again."))


def _feed_entry_exists(item: ContentItem) -> bool:
    return (
        ContentItem.objects.for_org(item.organization_id)
        .filter(feed_id=item.feed_id, source_guid=item.source_guid)
        .exists()
    )


def _audit_item(action: str, item: ContentItem, before: dict | None = None, after: dict | None = None) -> None:
    audit.record(action, organization_id=item.organization_id, target=item, before=before, after=after)
