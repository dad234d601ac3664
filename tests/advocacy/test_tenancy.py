"""The scoping mechanism fails closed: an unscoped query on a tenant-owned model raises."""

import pytest
from django.apps import apps
from django.http import Http404

from accounts.models import Membership, Team
from advocacy.tenancy import TenantModel, UnscopedQuery, get_for_org_or_404
from tests.accounts.factories import MembershipFactory, OrganizationFactory, TeamFactory
from tests.factories import factory_for

TENANT_MODELS = [m for m in apps.get_models() if issubclass(m, TenantModel)]

UNSCOPED_OPERATIONS = {
    "list": lambda qs: list(qs),
    "count": lambda qs: qs.count(),
    "exists": lambda qs: qs.exists(),
    "first": lambda qs: qs.first(),
    "get": lambda qs: qs.get(id=1),
    "iterator": lambda qs: list(qs.iterator()),
    "values": lambda qs: list(qs.values("pk")),
    "aggregate": lambda qs: qs.aggregate(n=__import__("django.db.models", fromlist=["Count"]).Count("pk")),
    "update": lambda qs: qs.update(organization_id=qs.model.organization.field.related_model.objects.first().pk),
    "delete": lambda qs: qs.delete(),
    "in_bulk": lambda qs: qs.in_bulk([1]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("operation", UNSCOPED_OPERATIONS, ids=str)
def test_unscoped_query_raises_instead_of_returning_rows(model, operation):
    factory_for(model)()
    with pytest.raises(UnscopedQuery):
        UNSCOPED_OPERATIONS[operation](model.objects.all())
    with pytest.raises(UnscopedQuery):
        UNSCOPED_OPERATIONS[operation](model.objects.filter(id__gt=0))
    assert model.base_objects.count() >= 1, "the row is still there, nothing was changed"


@pytest.mark.django_db
def test_for_org_returns_only_that_organizations_rows():
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    kept = TeamFactory(organization=mine)
    TeamFactory(organization=theirs)
    assert list(Team.objects.for_org(mine)) == [kept]
    assert Team.objects.for_org(mine.pk).count() == 1


@pytest.mark.django_db
def test_for_org_needs_an_organization():
    with pytest.raises(UnscopedQuery):
        Team.objects.for_org(None)


@pytest.mark.django_db
def test_a_negated_or_or_organization_filter_is_not_a_scope():
    org = OrganizationFactory()
    TeamFactory(organization=org)
    with pytest.raises(UnscopedQuery):
        list(Team.objects.exclude(organization=org))
    from django.db.models import Q

    with pytest.raises(UnscopedQuery):
        list(Team.objects.filter(Q(organization=org) | Q(name="x")))


@pytest.mark.django_db
def test_filter_pinning_the_organization_and_related_managers_are_scoped():
    membership = MembershipFactory()
    team = TeamFactory(organization=membership.organization)
    membership.teams.add(team)
    assert list(Team.objects.filter(organization=membership.organization)) == [team]
    assert list(membership.teams.all()) == [team]
    assert list(team.memberships.all()) == [membership]
    assert list(membership.user.memberships.all()) == [membership]


@pytest.mark.django_db
def test_another_organizations_object_and_a_missing_one_are_the_same_404():
    mine, theirs = OrganizationFactory(), OrganizationFactory()
    other = TeamFactory(organization=theirs)
    with pytest.raises(Http404) as foreign:
        get_for_org_or_404(Team, mine, pk=other.pk)
    with pytest.raises(Http404) as missing:
        get_for_org_or_404(Team, mine, pk=other.pk + 1000)
    assert str(foreign.value) == str(missing.value)
    with pytest.raises(Http404):
        get_for_org_or_404(Membership, mine, pk="not-a-number")
