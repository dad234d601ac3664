"""Retention: nothing in scope of the archive is deleted before the organization's period ends."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role, User
from advocacy.errors import NotAllowed, ValidationFailed
from compliance.models import AuditEntry, Decision, Policy, Screening
from compliance.services import retention
from content.models import ContentItem, Delivery, Share, ShareVersion
from tests.accounts.factories import MembershipFactory, OrganizationFactory
from tests.compliance.factories import DecisionFactory, PolicyFactory, ScreeningFactory
from tests.content.factories import DeliveryFactory, ShareFactory, ShareVersionFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db


def _share_with_history(org, *, age_days=0):
    share = ShareFactory(item__organization=org)
    version = ShareVersionFactory(share=share)
    ScreeningFactory(share=share, version=version)
    DecisionFactory(share=share)
    DeliveryFactory(share=share)
    if age_days:
        old = timezone.now() - datetime.timedelta(days=age_days)
        Share.objects.for_org(org).filter(pk=share.pk).update(submitted_at=old, updated_at=old, created_at=old)
        share.refresh_from_db()
    return share


@pytest.mark.parametrize("model", [Share, ShareVersion, Delivery, Decision, Screening])
def test_records_inside_the_retention_period_cannot_be_deleted_by_anyone(model):
    org = OrganizationFactory()
    share = _share_with_history(org, age_days=365 * 6)  # 6 years old, the default keeps 7
    rows = model.objects.for_org(org)
    with pytest.raises(DatabaseError, match=r"retention: share .* kept until"), transaction.atomic():
        rows.delete()
    assert rows.exists() and Share.objects.for_org(org).filter(pk=share.pk).exists()


def test_a_share_past_its_retention_period_can_be_deleted_with_its_history():
    org = OrganizationFactory()
    PolicyFactory(organization=org, retention_years=7)
    old = _share_with_history(org, age_days=365 * 8)
    young = _share_with_history(org)
    Share.objects.for_org(org).filter(pk=old.pk).delete()
    assert not Share.objects.for_org(org).filter(pk=old.pk).exists()
    assert not ShareVersion.objects.for_org(org).filter(share_id=old.pk).exists()
    assert Share.objects.for_org(org).filter(pk=young.pk).exists()


def test_the_period_follows_the_policy():
    org = OrganizationFactory()
    share = _share_with_history(org, age_days=365 * 2 + 5)
    with pytest.raises(DatabaseError), transaction.atomic():
        Share.objects.for_org(org).filter(pk=share.pk).delete()
    with pytest.raises(NotAllowed, match="kept for 7 years"):
        retention.check_share_deletable(share)
    retention.set_retention(actor=MembershipFactory(organization=org, roles=[Role.COMPLIANCE]), years=2)
    retention.check_share_deletable(share)
    Share.objects.for_org(org).filter(pk=share.pk).delete()
    assert not Share.objects.for_org(org).filter(pk=share.pk).exists()


def test_last_activity_restarts_the_period():
    org = OrganizationFactory()
    PolicyFactory(organization=org, retention_years=1)
    share = _share_with_history(org, age_days=800)
    Share.objects.for_org(org).filter(pk=share.pk).update(updated_at=timezone.now())  # published last week, say
    with pytest.raises(DatabaseError), transaction.atomic():
        Share.objects.for_org(org).filter(pk=share.pk).delete()


def test_content_items_and_users_with_shares_cannot_be_deleted():
    org = OrganizationFactory()
    share = _share_with_history(org)
    with pytest.raises(ProtectedError), transaction.atomic():
        ContentItem.objects.for_org(org).filter(pk=share.item_id).delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        User.objects.filter(pk=share.author_id).delete()
    assert Share.objects.for_org(org).filter(pk=share.pk).exists()


def test_set_retention_validates_and_is_audited():
    org = OrganizationFactory()
    officer = member(org, Role.COMPLIANCE)
    for bad in ("", "seven", 0, 101):
        with pytest.raises(ValidationFailed):
            retention.set_retention(actor=officer, years=bad)
    assert not AuditEntry.objects.for_org(org).filter(action="policy.retention_changed").exists()
    retention.set_retention(actor=officer, years=10)
    assert Policy.objects.for_org(org).get().retention_years == 10
    entry = AuditEntry.objects.for_org(org).get(action="policy.retention_changed")
    assert (entry.before, entry.after) == ({"retention_years": 7}, {"retention_years": 10})


def test_officers_change_retention_on_the_archive_page_and_others_cannot(client):
    org = OrganizationFactory(slug="acme")
    officer = member(org, Role.COMPLIANCE)
    client.force_login(officer.user)
    url = org_url("compliance:archive_retention", org)
    assert client.post(url, {"retention_years": "12"}, REMOTE_ADDR="203.0.113.8").status_code == 302
    assert retention.retention_years(org) == 12
    assert AuditEntry.objects.for_org(org).get(action="policy.retention_changed").ip == "203.0.113.8"
    page = client.get(org_url("compliance:archive", org)).content.decode()
    assert "12 years" in page
    client.post(url, {"retention_years": "0"})
    assert retention.retention_years(org) == 12
    client.force_login(member(org, Role.ADMIN, Role.EMPLOYEE).user)
    assert client.post(url, {"retention_years": "1"}).status_code == 403
    assert retention.retention_years(org) == 12


def test_the_archive_page_says_one_year_in_the_singular(client):
    org = OrganizationFactory(slug="acme")
    officer = member(org, Role.COMPLIANCE)
    retention.set_retention(actor=officer, years=1)
    client.force_login(officer.user)
    page = client.get(org_url("compliance:archive", org)).content.decode()
    assert '<strong data-testid="retention-years">1 year</strong>' in page


# --- the retention purge (issue 19, item 3) --------------------------------------------------


def _purging(org, *, years=7):
    PolicyFactory(organization=org, retention_years=years)
    Policy.objects.for_org(org).update(delete_after_retention=True)


def test_nothing_is_purged_unless_the_organization_asked_for_it():
    org = OrganizationFactory()
    PolicyFactory(organization=org, retention_years=7)
    old = _share_with_history(org, age_days=365 * 9)
    report = retention.purge_expired_records(organization_id=org.pk)
    assert (report.removed, report.kept_by_hold) == (0, {})
    assert Share.objects.for_org(org).filter(pk=old.pk).exists()
    assert not AuditEntry.objects.for_org(org).filter(action="retention.purged").exists()


def test_the_purge_removes_expired_records_and_skips_held_and_young_ones():
    from compliance.services import holds

    org = OrganizationFactory()
    _purging(org)
    officer = member(org, Role.COMPLIANCE)
    held_person = MembershipFactory(organization=org)
    expired = [_share_with_history(org, age_days=365 * 8) for _ in range(3)]
    held = _share_with_history(org, age_days=365 * 8)
    Share.objects.for_org(org).filter(pk=held.pk).update(author=held_person.user)
    young = _share_with_history(org, age_days=365 * 6)
    other_org = OrganizationFactory()
    _purging(other_org)
    theirs = _share_with_history(other_org, age_days=365 * 8)
    holds.place_hold(actor=officer, name="Matter 2026-14", reason="Subpoena", membership_id=held_person.pk)

    report = retention.purge_expired_records(organization_id=org.pk, batch_size=2)

    assert report.removed == 3 and report.kept_by_hold == {"Matter 2026-14": 1}
    remaining = set(Share.objects.for_org(org).values_list("pk", flat=True))
    assert remaining == {held.pk, young.pk}
    assert not ShareVersion.objects.for_org(org).filter(share_id__in=[s.pk for s in expired]).exists()
    assert Decision.objects.for_org(org).filter(share=held).exists()
    assert Share.objects.for_org(other_org).filter(pk=theirs.pk).exists()  # one organization at a time
    entry = AuditEntry.objects.for_org(org).get(action="retention.purged")
    assert entry.after == {"shares_removed": 3, "retention_years": 7, "kept_by_legal_holds": {"Matter 2026-14": 1}}


def test_the_daily_task_purges_every_organization_that_asked():
    purging, keeping = OrganizationFactory(), OrganizationFactory()
    _purging(purging)
    PolicyFactory(organization=keeping)
    gone, kept = _share_with_history(purging, age_days=365 * 8), _share_with_history(keeping, age_days=365 * 8)
    from compliance import tasks

    assert tasks.purge_expired_records() == {str(purging.pk): 1}
    assert not Share.objects.for_org(purging).filter(pk=gone.pk).exists()
    assert Share.objects.for_org(keeping).filter(pk=kept.pk).exists()
    assert settings.CELERY_BEAT_SCHEDULE["purge-expired-records"]["task"] == tasks.purge_expired_records.name


def test_the_purge_runs_a_fixed_number_of_queries_per_batch(django_assert_num_queries):
    small, large, larger = OrganizationFactory(), OrganizationFactory(), OrganizationFactory()
    for org, count in ((small, 2), (large, 6), (larger, 6)):
        _purging(org)
        for _ in range(count):
            _share_with_history(org, age_days=365 * 8)
    with CaptureQueriesContext(connection) as one_batch_of_two:
        assert retention.purge_expired_records(organization_id=small.pk, batch_size=2).removed == 2
    one_batch = len(one_batch_of_two.captured_queries)
    with django_assert_num_queries(one_batch):  # three times the shares, the same queries
        assert retention.purge_expired_records(organization_id=large.pk, batch_size=6).removed == 6
    per_batch = QUERIES_PER_PURGE_BATCH
    with django_assert_num_queries(one_batch + 2 * per_batch):  # three batches instead of one
        assert retention.purge_expired_records(organization_id=larger.pk, batch_size=2).removed == 6


# a savepoint and its release, the batch's ids, the shares, the versions' and deliveries' ids, and
# 13 DELETEs or UPDATEs, one per table that hangs from a share (content, compliance, analytics;
# the one-click e-mail links keep their use, without the share)
QUERIES_PER_PURGE_BATCH = 19


def test_officers_turn_the_purge_on_on_the_archive_page_and_it_is_audited(client):
    org = OrganizationFactory(slug="acme")
    officer = member(org, Role.COMPLIANCE)
    client.force_login(officer.user)
    assert "kept until someone deletes them" in client.get(org_url("compliance:archive", org)).content.decode()
    url = org_url("compliance:archive_retention", org)
    client.post(url, {"retention_years": "7", "delete_after_retention": "on"})
    assert retention.organizations_purging() == [org.pk]
    assert retention.retention_settings(org)[1] is True
    entry = AuditEntry.objects.for_org(org).get(action="policy.retention_changed")
    assert (entry.before, entry.after) == ({"delete_after_retention": False}, {"delete_after_retention": True})
    page = client.get(org_url("compliance:archive", org)).content.decode()
    assert "deleted every day, except those under a legal hold" in page
    client.post(url, {"retention_years": "0", "delete_after_retention": ""})  # refused whole
    assert retention.organizations_purging() == [org.pk]
    assert retention.retention_settings(org)[1] is True
