"""The third-party SCIM checker (scim2-tester) against the live server: discovery, then create,
read, query, replace, patch and delete of Users and Groups over real HTTP, with no failure."""

from __future__ import annotations

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

from accounts.models import ScimUser
from accounts.services.scim import create_scim_token
from tests.accounts.factories import OrganizationFactory, acting

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


@pytest.fixture
def checked_org(transactional_db):
    return OrganizationFactory(slug="checked")


def test_scim2_tester_finds_no_failure_on_the_live_server(live_server, checked_org):
    _, plain = create_scim_token(actor=acting(checked_org), name="scim2-tester")
    http = httpx2.Client(
        base_url=f"{live_server.url}/scim/v2/o/{checked_org.slug}",
        headers={"Authorization": f"Bearer {plain}"},
        timeout=30,
    )
    results = check_server(SyncSCIMClient(http))
    failures = [
        f"{r.resource_type or ''} {r.title}: {r.status.name} {r.reason}" for r in results if r.status not in PASSING
    ]
    assert results and not failures, "\n".join(failures)
    ran = {r.title for r in results if r.status is Status.SUCCESS}
    # The checker really reached the resources, not only discovery.
    assert {"object_creation", "object_replacement", "object_deletion", "check_replace_attribute"} <= ran, ran
    assert ScimUser.objects.for_org(checked_org).exists()  # users went through the real endpoint
