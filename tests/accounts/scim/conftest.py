"""A SCIM client for the tests: the organization's token, real requests through Django's stack."""

from __future__ import annotations

import json

import pytest

from accounts.scim.resources import ENTERPRISE_SCHEMA, PATCH_SCHEMA, USER_SCHEMA
from accounts.services.scim import create_scim_token
from tests.accounts.factories import OrganizationFactory, acting


class Scim:
    def __init__(self, client, organization, plain: str):
        self.client, self.organization, self.plain = client, organization, plain

    def url(self, path: str, slug: str | None = None) -> str:
        return f"/scim/v2/o/{slug or self.organization.slug}/{path}"

    def call(self, method: str, path: str, body=None, *, token: str | None = None, slug=None, **meta):
        """`meta`: request headers as WSGI keys (HTTP_IF_MATCH=...)."""
        token = self.plain if token is None else token
        if token:
            meta["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        data = json.dumps(body) if body is not None and not isinstance(body, str) else body
        return self.client.generic(
            method, self.url(path, slug), data=data or "", content_type="application/scim+json", **meta
        )

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.call("PUT", path, body, **kw)

    def patch(self, path, operations, **kw):
        return self.call("PATCH", path, {"schemas": [PATCH_SCHEMA], "Operations": operations}, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)

    def create_user(self, user_name: str, **extra) -> dict:
        body = {"schemas": [USER_SCHEMA], "userName": user_name, "active": True, **extra}
        response = self.post("Users", body)
        assert response.status_code == 201, response.content
        return response.json()


def user_body(user_name: str, *, given="Ada", family="Lovelace", department=None, external_id=None, **extra) -> dict:
    body = {
        "schemas": [USER_SCHEMA] + ([ENTERPRISE_SCHEMA] if department else []),
        "userName": user_name,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "active": True,
        **extra,
    }
    if external_id:
        body["externalId"] = external_id
    if department:
        body[ENTERPRISE_SCHEMA] = {"department": department}
    return body


@pytest.fixture
def org(db):
    return OrganizationFactory(slug="acme")


@pytest.fixture
def scim(client, org) -> Scim:
    _, plain = create_scim_token(actor=acting(org), name="Okta")
    return Scim(client, org, plain)
