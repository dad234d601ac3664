"""SCIM filtering (RFC 7644 3.4.2.2), paging and attribute selection, over the endpoint."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.accounts.scim.conftest import user_body


@pytest.fixture
def people(scim):
    made = {}
    for user_name, given, external_id in [
        ("ada@acme.test", "Ada", "00u1"),
        ("grace@acme.test", "Grace", "00u2"),
        ("alan@other.test", "Alan", "00u3"),
    ]:
        made[user_name] = scim.post("Users", user_body(user_name, given=given, external_id=external_id)).json()["id"]
    scim.post("Groups", {"displayName": "Engineering", "members": [{"value": made["ada@acme.test"]}]})
    scim.post("Groups", {"displayName": "Sales"})
    return made


def found(scim, expression: str, kind: str = "Users") -> list[str]:
    response = scim.get(f"{kind}?filter={quote(expression)}")
    assert response.status_code == 200, response.content
    key = "userName" if kind == "Users" else "displayName"
    return sorted(r[key] for r in response.json()["Resources"])


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('userName eq "ada@acme.test"', ["ada@acme.test"]),
        ('userName eq "ADA@ACME.TEST"', ["ada@acme.test"]),  # userName is not case-exact
        ('USERNAME Eq "ada@acme.test"', ["ada@acme.test"]),  # nor are attribute names and operators
        ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "grace@acme.test"', ["grace@acme.test"]),
        ('externalId eq "00u2"', ["grace@acme.test"]),
        ('emails[type eq "work"].value eq "alan@other.test"', ["alan@other.test"]),
        ('emails.value eq "alan@other.test"', ["alan@other.test"]),
        ('userName eq "ada@acme.test" or externalId eq "00u3"', ["ada@acme.test", "alan@other.test"]),
        ('userName sw "a" and (externalId eq "00u1" or externalId eq "00u2")', ["ada@acme.test"]),
        ('not (userName co "acme")', ["alan@other.test"]),
        ('userName co "acme"', ["ada@acme.test", "grace@acme.test"]),
        ('userName ew "other.test"', ["alan@other.test"]),
        ('name.givenName sw "gr"', ["grace@acme.test"]),
        ("externalId pr", ["ada@acme.test", "alan@other.test", "grace@acme.test"]),
        ("active eq true", ["ada@acme.test", "alan@other.test", "grace@acme.test"]),
        ('userName eq "nobody@acme.test"', []),
    ],
)
def test_user_filters(scim, people, expression, expected):
    assert found(scim, expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('displayName eq "engineering"', ["Engineering"]),
        ('displayName eq "Sales" or displayName eq "Engineering"', ["Engineering", "Sales"]),
        ('displayName sw "Sa"', ["Sales"]),
    ],
)
def test_group_filters(scim, people, expression, expected):
    assert found(scim, expression, "Groups") == expected


def test_groups_filtered_by_member(scim, people):
    assert found(scim, f'members[value eq "{people["ada@acme.test"]}"]', "Groups") == ["Engineering"]


@pytest.mark.parametrize(
    "expression",
    ["userName eq", 'userName xx "a"', 'userName eq "a" and (', 'nickName eq "x"', 'password eq "x"', "(("],
)
def test_a_filter_we_cannot_read_or_run_is_invalid_filter(scim, people, expression):
    response = scim.get(f"Users?filter={quote(expression)}")
    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidFilter"
    assert response.json()["status"] == "400"


def test_paging_is_one_based_with_the_total(scim, people):
    first = scim.get("Users?startIndex=1&count=2").json()
    rest = scim.get("Users?startIndex=3&count=2").json()
    assert first["totalResults"] == rest["totalResults"] == 3
    assert (first["startIndex"], first["itemsPerPage"], rest["startIndex"], rest["itemsPerPage"]) == (1, 2, 3, 1)
    ids = [r["id"] for r in first["Resources"] + rest["Resources"]]
    assert sorted(ids) == sorted(people.values()) and len(set(ids)) == 3
    assert scim.get("Users?count=0").json() | {"Resources": None} == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 3,
        "startIndex": 1,
        "itemsPerPage": 0,
        "Resources": None,
    }
    assert scim.get("Users?count=ten").json()["scimType"] == "invalidValue"


def test_attributes_and_excluded_attributes(scim, people):
    by_external_id = quote('externalId eq "00u1"')
    only = scim.get(f"Users?attributes=userName,name.givenName&filter={by_external_id}").json()
    assert only["Resources"] == [
        {
            "id": people["ada@acme.test"],
            "schemas": [only["Resources"][0]["schemas"][0]],
            "userName": "ada@acme.test",
            "name": {"givenName": "Ada"},
        }
    ]
    without = scim.get(f"Users/{people['ada@acme.test']}?excludedAttributes=emails,name").json()
    assert "emails" not in without and "name" not in without and without["userName"] == "ada@acme.test"
    group = scim.get('Groups?excludedAttributes=members&filter=displayName eq "Engineering"').json()["Resources"][0]
    assert "members" not in group and group["displayName"] == "Engineering"
