""" "New content for you" (issue 22, point 4): publishing an item pushes it, from the worker,
to the devices of the members it is for who opted in; at its start time when that is ahead."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from accounts.models import Notification, Role
from accounts.services import notifications, push
from content import tasks
from content.models import ContentItem
from content.services import library as services
from content.services.library import announce
from tests.accounts.factories import MembershipFactory, TeamFactory
from tests.content.factories import ContentItemFactory

pytestmark = pytest.mark.django_db

NEW = Notification.Kind.CONTENT_DIGEST


def device(push_service, membership) -> dict:
    subscription = push_service.subscription(push.application_server_key())
    push.subscribe_device(
        actor=membership,
        endpoint=subscription["endpoint"],
        p256dh=subscription["keys"]["p256dh"],
        auth=subscription["keys"]["auth"],
    )
    return subscription


def announced(callbacks) -> list[partial]:
    return [c for c in callbacks if isinstance(c, partial) and c.func is announce._send]


def test_publishing_pushes_the_item_to_the_members_it_is_for_who_opted_in(
    org, marketer, push_service, django_capture_on_commit_callbacks, eager_tasks
):
    sales = TeamFactory(organization=org, name="Sales")
    seller = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    seller.teams.add(sales)
    engineer = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])  # not in the target team
    quiet_seller = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])  # did not opt in
    quiet_seller.teams.add(sales)
    devices = {m: device(push_service, m) for m in (seller, engineer, quiet_seller)}
    for member in (seller, engineer):
        notifications.set_preferences(actor=member, preferences={NEW: {"push": True}})
    item = ContentItemFactory(organization=org, status=ContentItem.Status.DRAFT, title="Acme opens in Lyon")
    item.target_teams.add(sales)

    with django_capture_on_commit_callbacks() as callbacks:
        services.publish_item(actor=marketer, item=item)
    [callback] = announced(callbacks)
    assert callback.args == (item.pk, org.pk, None)  # no start time ahead: at once
    assert tasks.push_new_item.apply(args=callback.args[:2]).get() == 1

    [message] = push_service.received(devices[seller])["messages"]
    assert message["payload"] == {
        "kind": "content_digest",
        "title": "New content for you · Acme",
        "body": "Acme opens in Lyon",
        "url": f"/o/acme/feed/{item.pk}/share/",
    }
    assert push_service.received(devices[engineer])["attempts"] == 0
    assert push_service.received(devices[quiet_seller])["attempts"] == 0


def test_an_item_that_starts_later_is_pushed_at_its_start(org, marketer, django_capture_on_commit_callbacks):
    starts = timezone.now() + timedelta(days=2)
    item = ContentItemFactory(organization=org, status=ContentItem.Status.DRAFT, starts_at=starts)
    with django_capture_on_commit_callbacks() as callbacks:
        services.publish_item(actor=marketer, item=item)
    assert announced(callbacks)[0].args == (item.pk, org.pk, starts)


def test_an_item_taken_back_before_its_push_is_not_pushed(org, marketer, employee, push_service):
    device(push_service, employee)
    notifications.set_preferences(actor=employee, preferences={NEW: {"push": True}})
    item = ContentItemFactory(organization=org, status=ContentItem.Status.DRAFT)
    services.publish_item(actor=marketer, item=item)
    services.unpublish_item(actor=marketer, item=item)
    assert services.new_item_push(item_id=item.pk, organization_id=org.pk) == ([], {})
