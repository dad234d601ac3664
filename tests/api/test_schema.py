"""The OpenAPI schema says what the API answers: one object where there is no list, null
where null comes back, every field the answer has, every error in the one shape, and
deleted objects gone (issue 15, the schema item)."""

from __future__ import annotations

import jsonschema
import pytest

from accounts import services
from accounts.models import Role
from tests.accounts.factories import (
    InvitationFactory,
    MembershipFactory,
    OrganizationFactory,
    SocialConnectionFactory,
)
from tests.content.factories import ContentItemFactory

pytestmark = pytest.mark.django_db

ORG = "/api/v1/o/{org_slug}"
SINGLETONS = [
    "/api/v1/me/",
    f"{ORG}/policy/",
    f"{ORG}/analytics/roi/",
    f"{ORG}/analytics/content/",
    f"{ORG}/analytics/me/",
    f"{ORG}/analytics/leaderboard/",
    f"{ORG}/analytics/preferences/",
    f"{ORG}/analytics/points-rules/",
]
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def admin():
    org = OrganizationFactory(slug="acme")
    return MembershipFactory(organization=org, roles=[Role.ADMIN, Role.EMPLOYEE, Role.MARKETER, Role.COMPLIANCE])


@pytest.fixture
def api(client, admin):
    _, plain = services.create_api_token(actor=admin, name="tests")
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {plain}"
    return client


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def body_schema(schema, path, method, status):
    return schema["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def component(schema, ref_or_schema):
    return schema["components"]["schemas"][ref_or_schema["$ref"].rsplit("/", 1)[1]]


def json_schema(node):
    """OpenAPI 3.0's `nullable` in JSON Schema's words."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


def validates(schema, instance, against) -> None:
    """Validate an answer against a part of the schema, its references resolved in the whole."""
    jsonschema.validate(instance, json_schema({**against, "components": schema["components"]}))


# --- singletons ---------------------------------------------------------------------------------


def test_endpoints_without_a_list_are_described_as_one_object(schema, api, admin):
    for path in SINGLETONS:
        described = body_schema(schema, path, "get", 200)
        assert described.get("type") != "array", path
        assert "$ref" in described or described.get("type") == "object", path
        answer = api.get(path.replace("{org_slug}", "acme"))
        assert answer.status_code == 200, (path, answer.content)
        assert isinstance(answer.json(), dict)
        validates(schema, answer.json(), described)


def test_settings_written_with_post_answer_the_same_object(schema, api):
    for path in (f"{ORG}/analytics/preferences/", f"{ORG}/analytics/points-rules/"):
        assert body_schema(schema, path, "post", 200) == body_schema(schema, path, "get", 200)


# --- nullable fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, field",
    [
        ("Invitation", "invited_by"),
        ("ReviewTask", "assigned_to"),
        ("ReviewTaskDetail", "assigned_to"),
        ("Decision", "reviewer"),
        ("ContentItem", "image"),
        ("ContentItem", "expires_at"),
        ("AuditEntry", "actor"),
        ("Delivery", "published_at"),
        ("Policy", "updated_at"),
    ],
)
def test_fields_that_can_be_null_say_so(schema, name, field):
    assert schema["components"]["schemas"][name]["properties"][field].get("nullable") is True


def test_an_invitation_nobody_sent_validates_with_its_null_inviter(schema, api, admin):
    InvitationFactory(organization=admin.organization, invited_by=None)
    listing = api.get("/api/v1/o/acme/invitations/").json()
    assert listing["results"][0]["invited_by"] is None
    validates(schema, listing, body_schema(schema, f"{ORG}/invitations/", "get", 200))


# --- teams --------------------------------------------------------------------------------------


def test_creating_and_renaming_a_team_answer_with_its_member_count(schema, api):
    described = component(schema, body_schema(schema, f"{ORG}/teams/", "post", 201))
    assert "member_count" in described["required"]
    created = api.post(
        "/api/v1/o/acme/teams/", {"name": "Sales", "kind": "department"}, content_type="application/json"
    )
    assert created.status_code == 201 and created.json()["member_count"] == 0
    validates(schema, created.json(), body_schema(schema, f"{ORG}/teams/", "post", 201))
    renamed = api.patch(
        f"/api/v1/o/acme/teams/{created.json()['id']}/", {"name": "Field sales"}, content_type="application/json"
    )
    assert renamed.json() == {**created.json(), "name": "Field sales"}


# --- errors -------------------------------------------------------------------------------------


def test_every_operation_documents_its_errors_with_the_one_error_body(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    detail = component(schema, error["properties"]["error"])
    assert set(detail["properties"]) == set(detail["required"]) == {"code", "message", "fields"}
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        expected = {"401"}
        if path.startswith(ORG):
            expected.add("404")
        if method != "get":
            expected |= {"400", "403", "409"}
        assert expected <= set(responses), (method, path, sorted(responses))
        for status, response in responses.items():
            if status >= "400":
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
                assert response["description"], (method, path, status)


def test_reads_limited_to_some_roles_document_403_and_reads_for_everyone_do_not(schema):
    assert "403" in schema["paths"][f"{ORG}/audit-entries/"]["get"]["responses"]
    assert "403" in schema["paths"][f"{ORG}/policy/"]["get"]["responses"]
    assert "403" not in schema["paths"][f"{ORG}/teams/"]["get"]["responses"]
    assert "403" not in schema["paths"]["/api/v1/me/"]["get"]["responses"]


@pytest.mark.parametrize("path", ["teams/abc/", "shares/1x/", "content-items/%20/"])
def test_a_non_numeric_id_is_a_404_in_the_documented_error_shape(schema, api, path):
    response = api.get(f"/api/v1/o/acme/{path}")
    assert response.status_code == 404 and response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_found"
    validates(schema, response.json(), body_schema(schema, f"{ORG}/teams/{{team_id}}/", "get", 404))


def test_a_missing_object_and_an_unknown_organization_answer_the_documented_404(schema, api):
    for url in ("/api/v1/o/acme/teams/987654321/", "/api/v1/o/nowhere/teams/"):
        response = api.get(url)
        assert response.status_code == 404
        validates(schema, response.json(), body_schema(schema, f"{ORG}/teams/", "get", 404))


@pytest.mark.parametrize("size", ["abc", "0", "-1", "1.5"])
def test_a_page_size_that_is_not_a_whole_number_is_refused(schema, api, size):
    response = api.get(f"/api/v1/o/acme/teams/?page_size={size}")
    assert response.status_code == 400 and response.json()["error"]["fields"] == {
        "page_size": ["A whole number of at least 1."]
    }
    validates(schema, response.json(), body_schema(schema, f"{ORG}/teams/", "get", 400))


def test_a_page_size_over_the_maximum_gives_the_maximum(api, admin):
    assert api.get("/api/v1/o/acme/members/?page_size=100000").status_code == 200


def test_the_review_queue_takes_ages_up_to_a_century_and_refuses_more(schema, api):
    for age in ("878400", "0"):
        response = api.get(f"/api/v1/o/acme/review-tasks/?age={age}")
        assert response.status_code == 200 and response.json()["count"] == 0
    refused = api.get("/api/v1/o/acme/review-tasks/?age=999999999")  # was a 500: date overflow
    assert refused.status_code == 400 and set(refused.json()["error"]["fields"]) == {"age"}
    described = {p["name"]: p["schema"] for p in schema["paths"][f"{ORG}/review-tasks/"]["get"]["parameters"]}
    assert described["age"]["maximum"] == 878400


# --- soft deletes -------------------------------------------------------------------------------


# collection, the row, how the kept row shows it was deleted, an action on it, a status filter
SOFT_DELETES = [
    ("members", lambda admin: MembershipFactory(organization=admin.organization), "is_active", False, "", ""),
    (
        "invitations",
        lambda admin: InvitationFactory(organization=admin.organization),
        "status",
        "revoked",
        "resend",
        "revoked",
    ),
    (
        "content-items",
        lambda admin: ContentItemFactory(organization=admin.organization),
        "status",
        "archived",
        "publish",
        "archived",
    ),
    (
        "connections",
        lambda admin: SocialConnectionFactory(organization=admin.organization, user=admin.user),
        "status",
        "disconnected",
        "",
        "",
    ),
]


@pytest.mark.parametrize("collection, make, field, deleted, action, status", SOFT_DELETES)
def test_a_deleted_object_is_gone_from_the_api_though_its_row_is_kept(
    api, admin, collection, make, field, deleted, action, status
):
    row = make(admin)
    url = f"/api/v1/o/acme/{collection}/{row.pk}/"
    assert api.delete(url).status_code == 204
    response = api.get(url)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert row.pk not in [r["id"] for r in api.get(f"/api/v1/o/acme/{collection}/").json()["results"]]
    if action:
        assert api.post(f"{url}{action}/").status_code == 404
    if status:  # no filter brings it back
        assert api.get(f"/api/v1/o/acme/{collection}/?status={status}").status_code == 400
    assert getattr(type(row).objects.for_org(admin.organization).get(pk=row.pk), field) == deleted


def test_the_schema_says_deleted_objects_are_gone(schema):
    for path, method, operation in operations(schema):
        if method == "delete" and path.startswith(ORG):
            assert "deleted objects are gone" in operation["responses"]["404"]["description"], path


def test_an_error_message_is_in_the_callers_language_and_its_code_stays(schema, api):
    """Issue 23: the error shape's `message` is written for a person, in the language the
    caller asks for (Accept-Language); `code` is for programs and never changes."""
    english = api.get("/api/v1/o/acme/teams/999999/").json()["error"]
    french = api.get("/api/v1/o/acme/teams/999999/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").json()["error"]
    german = api.get("/api/v1/o/acme/teams/999999/", HTTP_ACCEPT_LANGUAGE="de").json()["error"]
    assert english["code"] == french["code"] == german["code"] == "not_found"
    assert len({english["message"], french["message"], german["message"]}) == 3, (english, french, german)
    from django.utils import translation

    with translation.override("fr"):
        assert french["message"] == translation.gettext(english["message"])
