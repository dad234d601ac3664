"""Two reviewers deciding the same share at the same moment, each on their own database
connection (two threads): exactly one decision stands, the other is told who decided."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from accounts.models import Role
from advocacy.errors import Conflict
from compliance.models import Decision
from compliance.services import review
from content import hooks
from content.hooks import ScreeningResult
from content.models import Share
from tests.accounts.factories import OrganizationFactory
from tests.content.factories import DeliveryFactory, ShareFactory, ShareVersionFactory
from tests.helpers import member, thread_on_own_connection

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def setup(settings):
    settings.SITE_URL = "https://go.acme.example"
    org = OrganizationFactory(slug="acme")
    emma = member(org, Role.EMPLOYEE)
    cora, carl = member(org, Role.COMPLIANCE), member(org, Role.COMPLIANCE)
    for m, name in ((cora, "Cora Compliance"), (carl, "Carl Checker")):
        m.user.name = name
        m.user.save()
    share = ShareFactory(organization=org, item__organization=org, author=emma.user, status=Share.Status.IN_REVIEW)
    ShareVersionFactory(share=share, number=1)
    DeliveryFactory(share=share)
    with transaction.atomic():
        hooks.screened(share=share, result=ScreeningResult(needs_review=True, texts={"linkedin": share.commentary}))
    return share, cora, carl


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return cursor.fetchone()[0] > 0


def test_the_second_reviewer_waits_for_the_lock_and_is_told_it_was_already_decided(setup):
    share, cora, carl = setup
    inside = threading.Barrier(2, timeout=15)
    results: dict = {}
    second_blocked = {}

    def first():
        with transaction.atomic():
            decision = review.decide(actor=cora, share_id=share.pk, outcome="approved", version=1)
            inside.wait()  # cora holds the share's row lock, her transaction still open
            deadline = time.monotonic() + 10
            while not _waiting_on_a_lock():  # carl's connection is now blocked on that lock
                if time.monotonic() > deadline:
                    break
                time.sleep(0.01)
            second_blocked["seen"] = _waiting_on_a_lock()
        return decision

    def second():
        inside.wait()
        return review.decide(
            actor=carl, share_id=share.pk, outcome="changes_requested", comment="Tone it down.", version=1
        )

    threads = [thread_on_own_connection(first, results, "first"), thread_on_own_connection(second, results, "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert second_blocked["seen"], "the second reviewer's connection waited on the first one's lock"
    assert isinstance(results["first"], Decision), results["first"]
    assert isinstance(results["second"], Conflict), results["second"]
    assert results["second"].message.startswith("Already decided by Cora Compliance at ")
    decisions = list(Decision.objects.for_org(share.organization_id).filter(share=share))
    assert [(d.reviewer_id, d.outcome) for d in decisions] == [(cora.user_id, "approved")]
    share.refresh_from_db()
    assert share.status == Share.Status.APPROVED and share.review_comment == ""


def test_two_reviewers_released_together_leave_exactly_one_decision(setup):
    share, cora, carl = setup
    start = threading.Barrier(2, timeout=15)
    results: dict = {}

    def deciding(membership, outcome, comment=""):
        def go():
            start.wait()
            return review.decide(actor=membership, share_id=share.pk, outcome=outcome, comment=comment, version=1)

        return go

    threads = [
        thread_on_own_connection(deciding(cora, "approved"), results, "cora"),
        thread_on_own_connection(deciding(carl, "rejected", "Not this one."), results, "carl"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    outcomes = sorted(type(r).__name__ for r in results.values())
    assert outcomes == ["Conflict", "Decision"], results
    winner = next(r for r in results.values() if isinstance(r, Decision))
    loser = next(r for r in results.values() if isinstance(r, Conflict))
    assert loser.message.startswith("Already decided by ")
    assert Decision.objects.for_org(share.organization_id).filter(share=share).count() == 1
    share.refresh_from_db()
    assert share.status == ("approved" if winner.outcome == "approved" else "rejected")
