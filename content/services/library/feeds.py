"""RSS/Atom feeds whose entries become draft items."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.permissions import require
from advocacy import audit
from advocacy.errors import conflict_on_duplicate
from content import unfurl
from content.feed_reader import read_feed
from content.models import ContentFeed, ContentItem
from content.services.library.common import (
    MANAGE,
    POLL_FEED_TASK,
    _audit_item,
    _clean_url,
    _save_with_free_slug,
    _slug_base,
    enqueue_after_commit,
)
from content.services.library.images import request_image_fetch

MAX_FEED_ENTRIES = 100


# --- feeds --------------------------------------------------------------------------------------


def add_feed(*, actor: Membership, url: str) -> ContentFeed:
    """Follow an RSS/Atom feed: its entries become draft items, checked now and on a schedule.

    The address obeys the same rules as link previews (no private addresses). Raises
    ValidationFailed for a bad or private address, Conflict for a feed already followed.
    """
    require(actor, MANAGE)
    organization = actor.organization
    url = _clean_url(url)
    unfurl.vet_url(url)  # an early, clear answer; every poll checks again
    with transaction.atomic():
        with conflict_on_duplicate(_("That feed is already in the library."), fields={"url": [_("Already added.")]}):
            feed = ContentFeed.objects.create(organization=organization, url=url, created_by_id=actor.user_id)
        audit.record("feed.added", organization_id=organization.pk, target=feed, after={"url": url})
        enqueue_after_commit(POLL_FEED_TASK, feed.pk, organization.pk)
    return feed


@transaction.atomic
def set_feed_active(*, actor: Membership, feed: ContentFeed, active: bool) -> ContentFeed:
    """Pause or resume the scheduled checks of a feed. Another organization's is DoesNotExist."""
    require(actor, MANAGE)
    feed = ContentFeed.objects.for_org(actor.organization_id).select_for_update().get(pk=feed.pk)
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


def check_feed_now(*, actor: Membership, feed: ContentFeed) -> int:
    """The marketer's "check now": `poll_feed` at once. Another organization's feed is DoesNotExist."""
    require(actor, MANAGE)
    return poll_feed(feed=ContentFeed.objects.for_org(actor.organization_id).get(pk=feed.pk))


def poll_feed(*, feed: ContentFeed) -> int:
    """System operation (the schedule, a new feed's first poll, `check_feed_now`): import the
    feed's new entries as DRAFT items; answer how many were created.

    An entry is known by its id/guid (or its link when it has none); the database's unique
    constraint on (organization, feed, guid) decides, so polling again, or twice at once,
    never duplicates an item. A failure (refused address, timeout, not a feed) is recorded
    on the feed and raised as FetchFailed; successes clear the recorded error.
    """
    try:
        fetched = unfurl.fetch(feed.url, accept=unfurl.FEED_ACCEPT)
        parsed = read_feed(fetched.body, base_url=fetched.url)
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
