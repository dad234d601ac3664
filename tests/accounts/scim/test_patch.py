"""PATCH bodies as Okta and Microsoft Entra ID send them (from their SCIM provisioning guides),
and the RFC's errors for operations that cannot apply."""

from __future__ import annotations

import pytest

from accounts.models import Membership, Team
from accounts.scim.resources import ENTERPRISE_SCHEMA
from tests.accounts.scim.conftest import user_body

OKTA, ENTRA = "okta", "entra"


@pytest.fixture
def ada(scim):
    return scim.post("Users", user_body("ada@acme.test", external_id="00u1")).json()["id"]


def teams_of(org, membership_id) -> list[tuple[str, str]]:
    return sorted((t.kind, t.name) for t in Membership.objects.for_org(org).get(pk=int(membership_id)).teams.all())


# --- Okta ----------------------------------------------------------------------------------------


def test_okta_deactivates_with_a_pathless_replace(scim, org, ada):
    response = scim.patch(f"Users/{ada}", [{"op": "replace", "value": {"active": False}}])
    assert response.status_code == 200 and response.json()["active"] is False
    assert not Membership.objects.for_org(org).get(pk=int(ada)).is_active


def test_okta_updates_names_with_a_pathless_replace(scim, ada):
    response = scim.patch(
        f"Users/{ada}", [{"op": "replace", "value": {"name": {"givenName": "Augusta"}, "displayName": "Augusta Ada"}}]
    )
    body = response.json()
    assert body["name"] == {"givenName": "Augusta", "familyName": "Lovelace"}
    assert body["displayName"] == "Augusta Ada"


def test_okta_group_push_renames_with_the_id_repeated(scim, org):
    group = scim.post("Groups", {"displayName": "Eng"}).json()
    response = scim.patch(
        f"Groups/{group['id']}", [{"op": "replace", "value": {"id": group["id"], "displayName": "Engineering"}}]
    )
    assert response.status_code == 200 and response.json()["displayName"] == "Engineering"
    assert Team.objects.for_org(org).get(pk=int(group["id"])).name == "Engineering"


def test_okta_group_members_add_and_remove_by_filter(scim, org, ada):
    grace = scim.post("Users", user_body("grace@acme.test")).json()["id"]
    group = scim.post("Groups", {"displayName": "Eng", "members": []}).json()["id"]
    added = scim.patch(
        f"Groups/{group}",
        [{"op": "add", "path": "members", "value": [{"value": ada, "display": "ada@acme.test"}, {"value": grace}]}],
    )
    assert sorted(m["value"] for m in added.json()["members"]) == sorted([ada, grace])
    removed = scim.patch(f"Groups/{group}", [{"op": "remove", "path": f'members[value eq "{ada}"]'}])
    assert [m["value"] for m in removed.json()["members"]] == [grace]
    assert ("department", "Eng") not in teams_of(org, ada) and ("department", "Eng") in teams_of(org, grace)


# --- Entra ID ------------------------------------------------------------------------------------


def test_entra_disables_with_active_false_as_a_string_and_capitalised_op(scim, org, ada):
    response = scim.patch(f"Users/{ada}", [{"op": "Replace", "path": "active", "value": "False"}])
    assert response.status_code == 200 and response.json()["active"] is False
    assert not Membership.objects.for_org(org).get(pk=int(ada)).is_active


def test_entra_updates_the_work_email_and_family_name_by_path(scim, org, ada):
    response = scim.patch(
        f"Users/{ada}",
        [
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "ada.lovelace@acme.test"},
            {"op": "Replace", "path": "name.familyName", "value": "King"},
        ],
    )
    body = response.json()
    assert body["emails"] == [{"primary": True, "value": "ada.lovelace@acme.test", "type": "work"}]
    assert body["name"]["familyName"] == "King"


def test_entra_adds_a_work_email_that_did_not_exist(scim, org):
    created = scim.post("Users", {"userName": "bob@acme.test"}).json()["id"]
    response = scim.patch(
        f"Users/{created}", [{"op": "Add", "path": 'emails[type eq "work"].value', "value": "bob@acme.test"}]
    )
    assert response.json()["emails"] == [{"type": "work", "value": "bob@acme.test"}]


def test_entra_enterprise_department_and_work_locality_move_the_member(scim, org, ada):
    scim.patch(
        f"Users/{ada}",
        [
            {"op": "Add", "path": f"{ENTERPRISE_SCHEMA}:department", "value": "Research"},
            {"op": "Add", "path": 'addresses[type eq "work"].locality', "value": "Paris"},
            {"op": "Add", "path": f"{ENTERPRISE_SCHEMA}:manager", "value": {"value": "00u7"}},
        ],
    )
    assert teams_of(org, ada) == [("department", "Research"), ("location", "Paris")]
    mover = scim.patch(
        f"Users/{ada}",
        [
            {"op": "Replace", "path": f"{ENTERPRISE_SCHEMA}:department", "value": "Sales"},
            {"op": "Replace", "path": 'addresses[type eq "work"].locality', "value": "Lyon"},
        ],
    )
    assert mover.json()[ENTERPRISE_SCHEMA] == {"department": "Sales", "manager": {"value": "00u7"}}
    assert teams_of(org, ada) == [("department", "Sales"), ("location", "Lyon")]


def test_entra_group_members_add_and_remove_with_value_lists(scim, org, ada):
    group = scim.post("Groups", {"displayName": "Sales"}).json()["id"]
    scim.patch(f"Groups/{group}", [{"op": "Add", "path": "members", "value": [{"value": ada}]}])
    assert ("department", "Sales") in teams_of(org, ada)
    response = scim.patch(f"Groups/{group}", [{"op": "Remove", "path": "members", "value": [{"value": ada}]}])
    assert response.json()["members"] == []
    assert ("department", "Sales") not in teams_of(org, ada)


def test_entra_renames_a_group_by_path(scim, org):
    group = scim.post("Groups", {"displayName": "Old"}).json()["id"]
    response = scim.patch(f"Groups/{group}", [{"op": "Replace", "path": "displayName", "value": "New"}])
    assert response.json()["displayName"] == "New"


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operations", "status", "scim_type"),
    [
        ([{"op": "remove"}], 400, "noTarget"),
        ([{"op": "replace", "path": "id", "value": "42"}], 400, "mutability"),
        ([{"op": "replace", "path": "meta.version", "value": "x"}], 400, "mutability"),
        ([{"op": "replace", "path": "emails[type eq", "value": "x"}], 400, "invalidPath"),
        ([{"op": "replace", "path": "userName..x", "value": "x"}], 400, "invalidPath"),
        ([{"op": "replace", "path": 'phoneNumbers[type eq "work"]', "value": {"value": "1"}}], 400, "noTarget"),
        ([{"op": "move", "path": "userName", "value": "x"}], 400, "invalidSyntax"),
        ([{"op": "replace", "path": "active", "value": "maybe"}], 400, "invalidValue"),
        ([{"op": "replace", "path": "userName"}], 400, "invalidValue"),
        ([], 400, "invalidSyntax"),
    ],
)
def test_an_operation_that_cannot_apply_changes_nothing(scim, org, ada, operations, status, scim_type):
    before = scim.get(f"Users/{ada}").json()
    response = scim.patch(f"Users/{ada}", operations)
    assert response.status_code == status
    assert response.json()["scimType"] == scim_type
    assert scim.get(f"Users/{ada}").json() == before


def test_renaming_to_another_users_user_name_is_a_uniqueness_conflict(scim, ada):
    scim.post("Users", user_body("grace@acme.test"))
    response = scim.patch(f"Users/{ada}", [{"op": "replace", "path": "userName", "value": "Grace@acme.test"}])
    assert response.status_code == 409 and response.json()["scimType"] == "uniqueness"


def test_adding_a_member_that_is_no_user_is_invalid_value(scim, org):
    group = scim.post("Groups", {"displayName": "Eng"}).json()["id"]
    response = scim.patch(f"Groups/{group}", [{"op": "add", "path": "members", "value": [{"value": "987654"}]}])
    assert response.status_code == 400 and response.json()["scimType"] == "invalidValue"
