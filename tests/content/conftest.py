import pytest

from accounts.models import Role
from tests.accounts.factories import MembershipFactory, OrganizationFactory
from tests.content.loopback import LoopbackSite


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme", timezone="Europe/Paris")


@pytest.fixture
def marketer(org):
    return MembershipFactory(organization=org, roles=[Role.MARKETER])


@pytest.fixture
def employee(org):
    return MembershipFactory(organization=org, roles=[Role.EMPLOYEE])


@pytest.fixture
def site(settings):
    """A page server on loopback that the unfurler may fetch (only its host:port is allowed)."""
    with LoopbackSite() as loopback:
        settings.UNFURL_ALLOWED_HOSTS = [loopback.hostport]
        yield loopback
