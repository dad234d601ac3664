"""`membership_for`, the row every organization page loads first, written as one statement:
held to the ORM's form of the same read (`membership_for_orm` below) in every case it decides."""

import pytest
from django.db import connection
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Subquery, Value, When
from django.test.utils import CaptureQueriesContext

from accounts import selectors
from accounts.models import Guideline, SsoConfiguration
from tests.accounts.factories import (
    GuidelineAcceptanceFactory,
    GuidelineFactory,
    MembershipFactory,
    OrganizationFactory,
    SsoConfigurationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def membership_for_orm(user, org_slug: str):
    """`membership_for` as the ORM reads it (what it was before it was written out): the reference."""
    return (
        user.memberships.filter(organization__slug=org_slug, is_active=True)
        .select_related("organization")
        .annotate(pending_guideline_version=_pending_guideline_version(), **_sso_binding())
        .first()
    )


def _sso_binding() -> dict:
    """`sso_required_here`: the organization requires its single sign-on; `named_break_glass`:
    the member is one of its break-glass admins (accounts.sso.sessions reads both, no query)."""
    return {
        "sso_required_here": Exists(
            SsoConfiguration.objects.all_organizations().filter(
                organization_id=OuterRef("organization_id"), is_enabled=True, sso_required=True
            )
        ),
        "named_break_glass": Exists(
            SsoConfiguration.break_glass.through.objects.filter(
                membership_id=OuterRef("pk"), ssoconfiguration__organization_id=OuterRef("organization_id")
            )
        ),
    }


def _pending_guideline_version():
    # Scoped by the outer membership row's organization (a subquery, not a page's query).
    current = (
        Guideline.objects.all_organizations()
        .filter(organization_id=OuterRef("organization_id"))
        .annotate(accepted_at=selectors._accepted_at(OuterRef(OuterRef("user_id"))))
        .order_by("-version")
    )
    pending = Case(When(accepted_at__isnull=True, then=F("version")), default=Value(None), output_field=IntegerField())
    return Subquery(current.annotate(pending=pending).values("pending")[:1], output_field=IntegerField())


COMPARED = ["pending_guideline_version", "sso_required_here", "named_break_glass"]


def both(user, slug):
    fast, reference = selectors.membership_for(user, slug), membership_for_orm(user, slug)
    if reference is None:
        assert fast is None
        return None
    assert fast is not None
    assert fast.pk == reference.pk
    # Every column of both rows, converted as the ORM converts them (the JSON list included).
    for model_row, model_ref in ((fast, reference), (fast.organization, reference.organization)):
        for field in type(model_ref)._meta.concrete_fields:
            assert getattr(model_row, field.attname) == getattr(model_ref, field.attname), field.attname
    assert [getattr(fast, name) for name in COMPARED] == [getattr(reference, name) for name in COMPARED]
    return fast


def test_the_membership_its_organization_and_flags_as_the_orm_reads_them():
    org = OrganizationFactory(slug="acme", default_language="fr")
    member = MembershipFactory(organization=org, roles=["employee", "admin"], last_share_targets=["x", "linkedin"])
    found = both(member.user, "acme")
    assert found.organization.slug == "acme" and found.organization.default_language == "fr"
    assert found.last_share_targets == ["x", "linkedin"]
    assert found.roles == member.roles
    assert (found.pending_guideline_version, found.sso_required_here, found.named_break_glass) == (None, False, False)


def test_one_query_and_the_organization_comes_with_it():
    member = MembershipFactory(organization=OrganizationFactory(slug="acme"))
    with CaptureQueriesContext(connection) as queries:
        found = selectors.membership_for(member.user, "acme")
        assert found.organization.name == member.organization.name
        assert found.user is member.user
    assert len(queries) == 1


def test_the_current_guidelines_are_pending_until_accepted_and_an_older_acceptance_does_not_count():
    org = OrganizationFactory(slug="acme")
    member = MembershipFactory(organization=org)
    first = GuidelineFactory(organization=org, version=1)
    assert both(member.user, "acme").pending_guideline_version == 1
    GuidelineAcceptanceFactory(organization=org, guideline=first, user=member.user)
    assert both(member.user, "acme").pending_guideline_version is None
    second = GuidelineFactory(organization=org, version=2)
    assert both(member.user, "acme").pending_guideline_version == 2
    # Someone else's acceptance, or another organization's guidelines, change nothing.
    other = MembershipFactory(organization=org)
    GuidelineAcceptanceFactory(organization=org, guideline=second, user=other.user)
    GuidelineFactory(organization=OrganizationFactory(), version=9)
    assert both(member.user, "acme").pending_guideline_version == 2


def test_single_sign_on_required_and_the_named_break_glass_admins():
    org = OrganizationFactory(slug="acme")
    admin = MembershipFactory(organization=org, roles=["admin"])
    config = SsoConfigurationFactory(organization=org, is_enabled=True, sso_required=False)
    assert both(admin.user, "acme").sso_required_here is False
    config.sso_required = True
    config.save()
    assert both(admin.user, "acme").sso_required_here is True
    assert both(admin.user, "acme").named_break_glass is False
    config.break_glass.add(admin)
    assert both(admin.user, "acme").named_break_glass is True
    config.is_enabled = False
    config.save()
    assert both(admin.user, "acme").sso_required_here is False
    # Another organization's configuration says nothing about this one.
    elsewhere = SsoConfigurationFactory(organization=OrganizationFactory(), is_enabled=True, sso_required=True)
    elsewhere.break_glass.add(MembershipFactory(organization=elsewhere.organization, user=admin.user))
    assert (both(admin.user, "acme").sso_required_here, both(admin.user, "acme").named_break_glass) == (False, True)


def test_no_row_for_a_suspended_member_another_organization_a_stranger_or_nobody():
    org, other = OrganizationFactory(slug="acme"), OrganizationFactory(slug="globex")
    member = MembershipFactory(organization=org)
    MembershipFactory(organization=other)
    assert both(member.user, "globex") is None
    assert both(member.user, "nope") is None
    assert both(UserFactory(), "acme") is None
    member.is_active = False
    member.save()
    assert both(member.user, "acme") is None
    from django.contrib.auth.models import AnonymousUser

    assert selectors.membership_for(AnonymousUser(), "acme") is None


def test_the_switchers_memberships_are_memberships_of_with_their_organizations_in_one_query():
    user = UserFactory()
    for name in ("Zeta", "Acme", "Mid"):
        MembershipFactory(organization=OrganizationFactory(name=name), user=user)
    suspended = MembershipFactory(organization=OrganizationFactory(name="Beta"), user=user)
    suspended.is_active = False
    suspended.save()
    MembershipFactory(organization=OrganizationFactory(name="Other"))  # someone else's
    with CaptureQueriesContext(connection) as queries:
        listed = selectors.switcher_memberships(user)
        names = [m.organization.name for m in listed]
        assert all(m.user is user for m in listed)
    assert len(queries) == 1
    reference = list(selectors.memberships_of(user))
    assert [m.pk for m in listed] == [m.pk for m in reference]
    assert names == ["Acme", "Mid", "Zeta"]
    assert [m.roles for m in listed] == [m.roles for m in reference]
    from django.contrib.auth.models import AnonymousUser

    assert selectors.switcher_memberships(AnonymousUser()) == []
