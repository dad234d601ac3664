"""Retention: nothing in scope of the archive is deleted before the organization's period ends."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, transaction
from django.db.models import ProtectedError
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
