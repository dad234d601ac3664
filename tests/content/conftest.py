import pytest

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, OrganizationFactory


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme", timezone="Europe/Paris")


@pytest.fixture
def marketer(org):
    return MembershipFactory(organization=org, roles=[Role.MARKETER])


@pytest.fixture
def employee(org):
    return MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
