"""Two beat workers escalating at the same moment, each on its own database connection (two
threads): the review is escalated once and everyone is notified once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification, Role
from compliance.models import AuditEntry, Policy, ReviewTask
from compliance.services import supervision
from content.services import sharing
from tests.accounts.factories import OrganizationFactory
from tests.content.factories import ContentItemFactory
from tests.helpers import member, thread_on_own_connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_worker_skips_the_review_the_first_is_escalating(settings):
    settings.SITE_URL = "https://go.acme.example"
    org = OrganizationFactory(slug="acme")
    Policy.objects.create(organization=org, review_mode="all")
    emma = member(org, Role.EMPLOYEE)
    dana, olga = member(org, Role.COMPLIANCE), member(org, Role.COMPLIANCE)
    item = ContentItemFactory(organization=org)
    share = sharing.submit_share(
        confirm_repeat=True, actor=emma, item_id=item.pk, commentary="New product.", target_keys=["assisted:linkedin"]
    )
    task = ReviewTask.objects.for_org(org).get(share=share)
    ReviewTask.objects.for_org(org).filter(pk=task.pk).update(due_at=timezone.now() - timedelta(hours=1))
    inside = threading.Barrier(2, timeout=15)
    second_done = threading.Event()
    results: dict = {}

    def first():
        with transaction.atomic():
            done = supervision.escalate_task(organization_id=org.pk, review_task_id=task.pk)
            inside.wait()  # the task row is locked and escalated, not committed yet
            second_done.wait(timeout=15)  # the second worker ran meanwhile
        return done

    def second():
        inside.wait()
        try:
            return supervision.escalate_overdue()
        finally:
            second_done.set()

    threads = [thread_on_own_connection(first, results, "first"), thread_on_own_connection(second, results, "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == {"first": True, "second": 0}
    assert supervision.escalate_overdue() == 0  # and after the first committed
    notified = Notification.objects.for_org(org).filter(kind=Notification.Kind.REVIEW_ESCALATED)
    assert sorted(notified.values_list("user_id", flat=True)) == sorted([dana.user_id, olga.user_id])
    assert AuditEntry.objects.for_org(org).filter(action="review_task.escalated").count() == 1
