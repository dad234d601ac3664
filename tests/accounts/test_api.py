"""The REST API: personal tokens, one error shape, members/teams/invitations, pagination, schema."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import selectors, services
from accounts.models import ApiToken, Invitation, Role, Team
from tests.accounts.factories import MembershipFactory, OrganizationFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return MembershipFactory(organization=OrganizationFactory(slug="acme"), roles=[Role.ADMIN, Role.EMPLOYEE])


@pytest.fixture
def api(client, admin):
    _, plain = services.create_api_token(actor=admin, name="tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    return client


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def test_token_is_stored_hashed_and_shown_once(admin):
    token, plain = services.create_api_token(actor=admin, name="sync")
    assert plain.startswith(f"adv_{token.prefix}_")
    stored = ApiToken.objects.for_org(admin.organization).get(pk=token.pk)
    assert plain not in (stored.token_hash, stored.prefix, stored.name)
    assert selectors.authenticate_api_token(plain).pk == token.pk
    assert selectors.authenticate_api_token(plain[:-1] + "x") is None


def test_token_page_shows_the_token_once(client, admin):
    client.force_login(admin.user)
    created = client.post("/o/acme/tokens/", {"name": "HR sync"}).content.decode()
    token = ApiToken.objects.for_org(admin.organization).get()
    assert f"adv_{token.prefix}_" in created and "Copy your new token now" in created
    listed = client.get("/o/acme/tokens/").content.decode()
    assert f"adv_{token.prefix}_…" in listed and "Copy your new token now" not in listed


def test_revoked_token_stops_working_at_once(client, admin):
    token, plain = services.create_api_token(actor=admin, name="x")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    assert client.get("/api/v1/o/acme/teams/", **auth).status_code == 200
    services.revoke_api_token(actor=admin, token=token)
    assert_error(client.get("/api/v1/o/acme/teams/", **auth), 401, "authentication_failed")


def test_no_credentials_is_401_in_the_error_shape(client):
    assert_error(client.get("/api/v1/o/acme/members/"), 401, "not_authenticated")


def test_validation_errors_name_the_fields(api):
    error = assert_error(
        api.post(
            "/api/v1/o/acme/invitations/", {"email": "nope", "roles": ["wizard"]}, content_type="application/json"
        ),
        400,
        "invalid",
    )
    assert set(error["fields"]) == {"email", "roles"}


def test_domain_errors_come_from_services_in_the_same_shape(api, admin):
    api.post("/api/v1/o/acme/invitations/", {"email": "a@example.com"}, content_type="application/json")
    error = assert_error(
        api.post("/api/v1/o/acme/invitations/", {"email": "a@example.com"}, content_type="application/json"),
        409,
        "conflict",
    )
    assert "pending invitation" in error["message"] and error["fields"] == {"email": ["Already invited."]}
    assert Invitation.objects.for_org(admin.organization).count() == 1


def test_role_is_checked_through_the_permission_map(client):
    employee = MembershipFactory(organization=OrganizationFactory(slug="acme"))
    _, plain = services.create_api_token(actor=employee, name="x")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    assert client.get("/api/v1/o/acme/teams/", **auth).status_code == 200
    assert_error(
        client.post("/api/v1/o/acme/teams/", {"name": "X", "kind": "department"}, **auth), 403, "permission_denied"
    )
    assert_error(client.get("/api/v1/o/acme/members/", **auth), 403, "permission_denied")


def test_members_endpoint_lists_and_updates_roles(api, admin):
    # The admin's name comes from Faker, so the searches use strings no generated name holds
    # ("bo" alone matched a "Bobby" or a "Jacobo" now and then).
    other = MembershipFactory(organization=admin.organization, user__email="bo@example.com", user__name="Bo Qvistrand")
    team = TeamFactory(organization=admin.organization)
    for search in ("bo@example", "qvistrand"):
        listing = api.get(f"/api/v1/o/acme/members/?search={search}").json()
        assert listing["count"] == 1 and listing["results"][0]["email"] == "bo@example.com", search
    response = api.patch(
        f"/api/v1/o/acme/members/{other.pk}/",
        {"roles": ["marketer"], "team_ids": [team.pk]},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["roles"] == ["marketer"] and response.json()["teams"][0]["id"] == team.pk
    assert api.delete(f"/api/v1/o/acme/members/{other.pk}/").status_code == 204
    assert api.get("/api/v1/o/acme/members/").json()["count"] == 1


def test_teams_crud(api, admin):
    created = api.post(
        "/api/v1/o/acme/teams/", {"name": "Sales", "kind": "department"}, content_type="application/json"
    )
    assert created.status_code == 201 and created.json()["name"] == "Sales"
    team_id = created.json()["id"]
    assert (
        api.patch(f"/api/v1/o/acme/teams/{team_id}/", {"name": "Field sales"}, content_type="application/json").json()[
            "name"
        ]
        == "Field sales"
    )
    assert api.delete(f"/api/v1/o/acme/teams/{team_id}/").status_code == 204
    assert not Team.objects.for_org(admin.organization).exists()


def test_invitations_create_resend_revoke(api, admin):
    created = api.post(
        "/api/v1/o/acme/invitations/",
        {"email": "c@example.com", "roles": ["employee"]},
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["status"] == "pending"
    inv_id = created.json()["id"]
    assert api.post(f"/api/v1/o/acme/invitations/{inv_id}/resend/").status_code == 200
    assert api.delete(f"/api/v1/o/acme/invitations/{inv_id}/").status_code == 204
    # revoked: gone from the API (kept for the members page and the audit trail)
    assert_error(api.get(f"/api/v1/o/acme/invitations/{inv_id}/"), 404, "not_found")
    assert api.get("/api/v1/o/acme/invitations/").json()["count"] == 0
    assert Invitation.objects.for_org(admin.organization).get(pk=inv_id).status == "revoked"
    assert_error(api.get("/api/v1/o/acme/invitations/?status=revoked"), 400, "invalid")
    assert_error(api.get("/api/v1/o/acme/invitations/?status=lost"), 400, "invalid")


def test_every_list_is_paginated_with_fixed_queries(api, admin):
    def grow(n):
        for _ in range(n):
            team = TeamFactory(organization=admin.organization)
            MembershipFactory(organization=admin.organization).teams.add(team)
            services.invite_member(
                actor=admin,
                email=f"{team.name.replace(' ', '')}@example.com",
                teams=[team],
            )

    def measure():
        counts = {}
        for path in ("members", "teams", "invitations"):
            with CaptureQueriesContext(connection) as ctx:
                body = api.get(f"/api/v1/o/acme/{path}/?page_size=2").json()
            assert {"count", "next", "previous", "results"} <= set(body) and len(body["results"]) == 2
            counts[path] = len(ctx)
        return counts

    grow(2)
    api.get("/api/v1/me/")  # the token's first use records last_used_at (one UPDATE)
    small = measure()
    grow(15)
    # token + membership, count, page, and one prefetch of teams where rows carry teams
    assert measure() == small == {"members": 5, "teams": 4, "invitations": 5}


def test_me_lists_the_callers_organizations(client, admin):
    MembershipFactory(user=admin.user, organization=OrganizationFactory(slug="globex"))
    client.force_login(admin.user)
    assert sorted(o["slug"] for o in client.get("/api/v1/me/").json()["organizations"]) == ["acme", "globex"]
    _, plain = services.create_api_token(actor=admin, name="x")
    via_token = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {plain}").json()
    assert [o["slug"] for o in via_token["organizations"]] == ["acme"]


def test_schema_and_docs_are_served(client, admin):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/o/{org_slug}/members/" in schema["paths"]
    assert "personalToken" in schema["components"]["securitySchemes"]
    assert client.get("/api/docs/").status_code == 200


def test_a_bad_role_is_told_in_words_not_as_a_python_repr(api, admin):
    other = MembershipFactory(organization=admin.organization)
    response = api.patch(
        f"/api/v1/o/{admin.organization.slug}/members/{other.pk}/",
        {"roles": ["superuser"]},
        content_type="application/json",
    )
    body = response.json()["error"]
    assert response.status_code == 400
    assert body["fields"] == {"roles": ['item 1: "superuser" is not a valid choice.']}
    assert "ErrorDetail" not in body["message"] and body["message"] == "Some fields are not valid: roles."


def test_a_non_numeric_id_on_the_api_is_a_json_404(api, admin):
    response = api.get(f"/api/v1/o/{admin.organization.slug}/shares/abc/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"
