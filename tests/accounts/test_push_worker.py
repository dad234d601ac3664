"""The push leaves from the Celery worker, never from the request: a real worker process
takes the notification's task after commit and the push reaches the local push service."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import Notification, Role
from accounts.services import notifications, push
from tests.accounts.factories import MembershipFactory, OrganizationFactory
from tests.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_sent_back_share_is_pushed_by_the_worker_after_commit(worker_process, push_service):
    employee = MembershipFactory(organization=OrganizationFactory(slug="acme", name="Acme"), roles=[Role.EMPLOYEE])
    subscription = push_service.subscription(push.application_server_key())
    push.subscribe_device(
        actor=employee,
        endpoint=subscription["endpoint"],
        p256dh=subscription["keys"]["p256dh"],
        auth=subscription["keys"]["auth"],
    )
    kind = Notification.Kind.SHARE_CHANGES_REQUESTED
    notifications.set_preferences(actor=employee, preferences={kind: {"push": True}})
    with transaction.atomic():
        notifications.notify(
            organization_id=employee.organization_id,
            user_id=employee.user_id,
            kind=kind,
            message="Compliance sent your share back: add the disclosure.",
            url="/o/acme/shares/3/",
        )
        assert push_service.received(subscription)["attempts"] == 0  # nothing before the commit
    messages = wait_for(lambda: push_service.received(subscription)["messages"], message="the worker's push")
    assert [m["payload"] for m in messages] == [
        {
            "kind": "share_changes_requested",
            "title": "Your share was sent back · Acme",
            "body": "Compliance sent your share back: add the disclosure.",
            "url": "/o/acme/shares/3/",
        }
    ]
