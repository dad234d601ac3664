"""ETags from the version column (RFC 7644 3.14): If-Match on PUT, PATCH and DELETE."""

from __future__ import annotations

import pytest

from accounts.models import Membership, ScimUser
from tests.accounts.scim.conftest import user_body


@pytest.fixture
def ada(scim):
    return scim.post("Users", user_body("ada@acme.test")).json()["id"]


def test_every_write_moves_the_version(scim, ada):
    assert scim.get(f"Users/{ada}")["ETag"] == 'W/"1"'
    patched = scim.patch(f"Users/{ada}", [{"op": "replace", "path": "displayName", "value": "Ada"}])
    assert patched["ETag"] == patched.json()["meta"]["version"] == 'W/"2"'
    assert scim.get(f"Users/{ada}")["ETag"] == 'W/"2"'


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_stale_if_match_is_412_and_changes_nothing(scim, org, ada, method):
    scim.patch(f"Users/{ada}", [{"op": "replace", "path": "displayName", "value": "Ada"}])  # now version 2
    before = ScimUser.objects.for_org(org).get(membership_id=int(ada))
    if method == "put":
        response = scim.put(f"Users/{ada}", user_body("ada@acme.test", given="Stale"), HTTP_IF_MATCH='W/"1"')
    elif method == "patch":
        response = scim.patch(f"Users/{ada}", [{"op": "replace", "value": {"active": False}}], HTTP_IF_MATCH='W/"1"')
    else:
        response = scim.delete(f"Users/{ada}", HTTP_IF_MATCH='W/"1"')
    assert response.status_code == 412
    assert response.json()["status"] == "412"
    after = ScimUser.objects.for_org(org).get(membership_id=int(ada))
    assert (after.version, after.document, after.deleted_at) == (before.version, before.document, None)
    assert Membership.objects.for_org(org).get(pk=int(ada)).is_active


def test_a_current_if_match_is_honoured(scim, ada):
    response = scim.patch(
        f"Users/{ada}", [{"op": "replace", "path": "title", "value": "Countess"}], HTTP_IF_MATCH='W/"1"'
    )
    assert response.status_code == 200 and response.json()["title"] == "Countess"
    assert scim.put(f"Users/{ada}", user_body("ada@acme.test"), HTTP_IF_MATCH="*").status_code == 200
    assert scim.delete(f"Users/{ada}", HTTP_IF_MATCH='W/"3"').status_code == 204


def test_group_writes_honour_if_match(scim):
    group = scim.post("Groups", {"displayName": "Eng"})
    assert group["ETag"] == 'W/"1"'
    stale = scim.patch(
        f"Groups/{group.json()['id']}", [{"op": "replace", "path": "displayName", "value": "X"}], HTTP_IF_MATCH='W/"7"'
    )
    assert stale.status_code == 412
    assert scim.get(f"Groups/{group.json()['id']}").json()["displayName"] == "Eng"


def test_if_none_match_with_the_current_version_is_304(scim, ada):
    assert scim.get(f"Users/{ada}", HTTP_IF_NONE_MATCH='W/"1"').status_code == 304
    assert scim.get(f"Users/{ada}", HTTP_IF_NONE_MATCH='W/"0"').status_code == 200
