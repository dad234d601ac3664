"""SCIM Groups are teams: PUT, DELETE, taking over a team, uniqueness, and POST /.search."""

from __future__ import annotations

from accounts.models import Membership, ScimGroup, Team
from tests.accounts.factories import MembershipFactory, TeamFactory
from tests.accounts.scim.conftest import user_body


def test_put_replaces_name_and_members(scim, org):
    ada = scim.post("Users", user_body("ada@acme.test")).json()["id"]
    grace = scim.post("Users", user_body("grace@acme.test")).json()["id"]
    group = scim.post("Groups", {"displayName": "Eng", "members": [{"value": ada}]}).json()["id"]
    response = scim.put(
        f"Groups/{group}", {"displayName": "Engineering", "externalId": "g1", "members": [{"value": grace}]}
    )
    body = response.json()
    assert response.status_code == 200
    assert (body["displayName"], body["externalId"], [m["value"] for m in body["members"]]) == (
        "Engineering",
        "g1",
        [grace],
    )
    team = Team.objects.for_org(org).get(pk=int(group))
    assert sorted(m.pk for m in team.memberships.all()) == [int(grace)]


def test_a_group_named_like_a_team_takes_it_over_and_keeps_members_the_directory_does_not_know(scim, org):
    team = TeamFactory(organization=org, name="Sales")
    by_admin = MembershipFactory(organization=org)
    by_admin.teams.add(team)
    ada = scim.post("Users", user_body("ada@acme.test")).json()["id"]
    response = scim.post("Groups", {"displayName": "sales", "members": [{"value": ada}]})
    assert response.status_code == 201 and response.json()["id"] == str(team.pk)
    scim.put(f"Groups/{team.pk}", {"displayName": "Sales", "members": []})
    assert list(team.memberships.all()) == [by_admin]  # only the directory's own members left


def test_a_second_group_of_the_same_name_is_a_uniqueness_conflict(scim, org):
    scim.post("Groups", {"displayName": "Eng"})
    again = scim.post("Groups", {"displayName": "ENG"})
    assert again.status_code == 409 and again.json()["scimType"] == "uniqueness"
    assert ScimGroup.objects.for_org(org).count() == 1
    assert scim.post("Groups", {"members": []}).json()["scimType"] == "invalidValue"  # no displayName


def test_delete_keeps_the_team_and_lets_its_members_go(scim, org):
    ada = scim.post("Users", user_body("ada@acme.test")).json()["id"]
    group = scim.post("Groups", {"displayName": "Eng", "members": [{"value": ada}]}).json()["id"]
    assert scim.delete(f"Groups/{group}").status_code == 204
    assert scim.get(f"Groups/{group}").status_code == 404
    team = Team.objects.for_org(org).get(pk=int(group))
    assert not team.memberships.exists()
    assert Membership.objects.for_org(org).get(pk=int(ada)).is_active  # the person stays


def test_a_user_lists_the_groups_it_is_in(scim):
    ada = scim.post("Users", user_body("ada@acme.test", department="Research")).json()["id"]
    group = scim.post("Groups", {"displayName": "Eng", "members": [{"value": ada}]}).json()["id"]
    groups = scim.get(f"Users/{ada}").json()["groups"]
    assert [(g["value"], g["display"]) for g in groups] == [(group, "Eng")]  # not the department team


def test_search_across_users_and_groups(scim):
    scim.post("Users", user_body("ada@acme.test"))
    scim.post("Groups", {"displayName": "Eng"})
    everything = scim.post(".search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}).json()
    assert everything["totalResults"] == 2
    assert {r["meta"]["resourceType"] for r in everything["Resources"]} == {"User", "Group"}
    users = scim.post(".search", {"filter": 'userName eq "ada@acme.test"', "attributes": ["userName"]}).json()
    assert users["totalResults"] == 1 and users["Resources"][0]["userName"] == "ada@acme.test"
    paged = scim.post(".search", {"startIndex": 2, "count": 1}).json()
    assert paged["itemsPerPage"] == 1 and paged["Resources"][0]["meta"]["resourceType"] == "Group"
    assert scim.post(".search", {"filter": "nonsense eq 1"}).json()["scimType"] == "invalidFilter"
