""" "New content for you": a push to the devices of the members an item is for, once it goes
live (issue 22, point 4). The member's preference for content_digest decides (its `push`
switch, read at sending time); the push leaves from the worker, never from the request."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Notification, Organization
from accounts.services import push
from content.models import ContentItem
from content.selectors.library import audience_of
from content.selectors.sharing import live_items

NEW_ITEM_PUSH_TASK = "content.tasks.push_new_item"


def announce_after_commit(item: ContentItem) -> None:
    """Push "new content for you" once the transaction commits, at the item's start time
    when that is still ahead (the callback is a `partial` of `_send`: item id, org id, eta)."""
    eta: datetime | None = item.starts_at if item.starts_at and item.starts_at > timezone.now() else None
    transaction.on_commit(partial(_send, item.pk, item.organization_id, eta))


def _send(item_id: int, organization_id: int, eta: datetime | None) -> None:
    current_app.send_task(NEW_ITEM_PUSH_TASK, args=[item_id, organization_id], eta=eta)


def new_item_push(
    *, item_id: int, organization_id: int, now: datetime | None = None
) -> tuple[list[int], dict[str, Any]]:
    """System operation: the devices to push a live item to, and the push. Nothing when the
    item is not live any more (unpublished, expired) or nobody it is for wants the push."""
    item = live_items(organization_id, now=now).filter(pk=item_id).first()
    if item is None:
        return [], {}
    kind = Notification.Kind.CONTENT_DIGEST
    targets = push.push_targets(
        organization_id=organization_id, user_ids=audience_of(item).values("user_id"), kind=kind
    )
    if not targets:
        return [], {}
    slug, language = Organization.objects.filter(pk=organization_id).values_list("slug", "default_language").get()
    url = reverse("content:compose", kwargs={"org_slug": slug, "content_item_id": item.pk})
    # One push for every device: its words (the title's kind) in the organization's language.
    with translation.override(language or settings.LANGUAGE_CODE):
        payload = push.push_payload(organization_id=organization_id, kind=kind, message=item.title or item.url, url=url)
    return targets, payload
