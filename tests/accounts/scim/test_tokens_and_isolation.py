"""SCIM tokens: the organization's only, stored hashed, shown once, revocable; another
organization's token reaches nothing and changes nothing. The admin page and its audit."""

from __future__ import annotations

from django.urls import reverse

from accounts.models import Membership, ScimGroup, ScimToken, ScimUser, Team
from accounts.services.scim import create_scim_token, revoke_scim_token, set_scim_group_roles
from advocacy.bearer_keys import digest
from compliance.models import AuditEntry
from tests.accounts.factories import MembershipFactory, OrganizationFactory, acting
from tests.accounts.scim.conftest import user_body


def test_no_token_a_wrong_token_or_another_kind_of_key_is_401_in_scim_shape(scim):
    for token in ("", "scim_nope_nope", "adv_abc_def", "garbage"):
        response = scim.get("Users", token=token) if token else scim.client.get(scim.url("Users"))
        assert response.status_code == 401, token
        assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_without_a_token_an_unknown_organization_looks_like_a_known_one(scim):
    assert scim.get("Users", token="", slug="no-such-org").status_code == scim.get("Users", token="").status_code == 401


def test_the_token_is_stored_hashed_and_shown_once(org):
    token, plain = create_scim_token(actor=acting(org), name="Entra ID")
    assert plain.startswith(f"scim_{token.prefix}_")
    row = ScimToken.objects.for_org(org).get(pk=token.pk)
    assert row.token_hash == digest(plain) and plain not in (row.token_hash, row.prefix, row.name)


def test_a_revoked_token_stops_at_once_and_last_use_is_noted(scim, org):
    assert scim.get("Users").status_code == 200
    token = ScimToken.objects.for_org(org).get()
    assert token.last_used_at is not None
    revoke_scim_token(actor=acting(org), token=token)
    assert scim.get("Users").status_code == 401
    assert AuditEntry.objects.for_org(org).filter(action="scim.token_revoked").exists()


def test_a_token_of_org_a_on_org_b_is_404_and_changes_nothing(scim, org, client):
    victim = OrganizationFactory(slug="victim")
    _, victims_token = create_scim_token(actor=acting(victim), name="Victim's Okta")
    member = MembershipFactory(organization=victim, user__email="vic@victim.test")
    scim_user = ScimUser.objects.create(organization=victim, membership=member, user_name="vic@victim.test")
    team = Team.objects.create(organization=victim, name="Board")
    ScimGroup.objects.create(organization=victim, team=team)
    attempts = [
        ("GET", "Users", None),
        ("POST", "Users", user_body("intruder@acme.test")),
        ("GET", f"Users/{member.pk}", None),
        ("PUT", f"Users/{member.pk}", user_body("vic@victim.test", given="Owned")),
        ("PATCH", f"Users/{member.pk}", {"Operations": [{"op": "replace", "value": {"active": False}}]}),
        ("DELETE", f"Users/{member.pk}", None),
        ("GET", "Groups", None),
        ("PATCH", f"Groups/{team.pk}", {"Operations": [{"op": "replace", "path": "displayName", "value": "Owned"}]}),
        ("DELETE", f"Groups/{team.pk}", None),
        ("GET", "ServiceProviderConfig", None),
        ("GET", "Schemas", None),
    ]
    for method, path, body in attempts:
        response = scim.call(method, path, body, slug="victim")  # acme's token, victim's URL
        assert response.status_code == 404, (method, path)
        assert response.json()["status"] == "404"
        # And the victim's ids on acme's own URL are no user or group of acme's.
        if "/" in path:
            assert scim.call(method, path, body).status_code in (404, 400), (method, path)
    member.refresh_from_db()
    scim_user.refresh_from_db()
    team.refresh_from_db()
    assert member.is_active and scim_user.version == 1 and scim_user.deleted_at is None
    assert team.name == "Board" and ScimGroup.objects.for_org(victim).filter(team=team).exists()
    assert not Membership.objects.for_org(victim).filter(user__email="intruder@acme.test").exists()
    assert not AuditEntry.objects.for_org(victim).filter(action__startswith="scim.user").exists()
    # The victim's own token still reaches its own users.
    assert scim.get(f"Users/{member.pk}", token=victims_token, slug="victim").status_code == 200


def test_every_scim_write_is_audited_with_the_directory_as_actor(scim, org):
    ada = scim.post("Users", user_body("ada@acme.test")).json()["id"]
    scim.patch(f"Users/{ada}", [{"op": "replace", "path": "title", "value": "Countess"}])
    group = scim.post("Groups", {"displayName": "Eng", "members": [{"value": ada}]}).json()["id"]
    scim.patch(f"Groups/{group}", [{"op": "replace", "path": "displayName", "value": "Engineering"}])
    scim.delete(f"Groups/{group}")
    scim.delete(f"Users/{ada}")
    entries = (
        AuditEntry.objects.for_org(org).filter(action__startswith="scim.").exclude(action__startswith="scim.token")
    )
    assert sorted(entries.values_list("action", flat=True)) == sorted(
        [
            "scim.user_created",
            "scim.user_updated",
            "scim.group_created",
            "scim.group_updated",
            "scim.group_deleted",
            "scim.user_deleted",
        ]
    )
    assert set(entries.values_list("actor_label", flat=True)) == {"scim:Okta"}
    assert Team.objects.for_org(org).filter(name="Engineering").exists()  # a deleted group keeps its team


def test_a_group_mapped_to_roles_gives_them_to_its_members_and_takes_them_back(scim, org):
    ada = scim.post("Users", user_body("ada@acme.test")).json()["id"]
    group_id = scim.post("Groups", {"displayName": "Comms", "members": [{"value": ada}]}).json()["id"]
    group = ScimGroup.objects.for_org(org).get(team_id=int(group_id))
    set_scim_group_roles(actor=acting(org), scim_group=group, roles=["marketer"])
    assert Membership.objects.for_org(org).get(pk=int(ada)).is_marketer
    scim.patch(f"Groups/{group_id}", [{"op": "remove", "path": f'members[value eq "{ada}"]'}])
    assert not Membership.objects.for_org(org).get(pk=int(ada)).is_marketer
    scim.patch(f"Groups/{group_id}", [{"op": "add", "path": "members", "value": [{"value": ada}]}])
    assert Membership.objects.for_org(org).get(pk=int(ada)).is_marketer
    assert AuditEntry.objects.for_org(org).filter(action="scim.group_roles_changed").exists()


def test_the_admin_page_creates_a_token_shown_once_and_revokes_it(client, org):
    admin = acting(org)
    client.force_login(admin.user)
    url = reverse("scim_settings", kwargs={"org_slug": org.slug})
    page = client.get(url)
    assert page.status_code == 200
    assert b"http://testserver/scim/v2/o/acme/" in page.content
    created = client.post(url, {"name": "Okta"})
    token = ScimToken.objects.for_org(org).get()
    assert b"scim_" + token.prefix.encode() in created.content and b"Copy your new token now" in created.content
    assert b"Copy your new token now" not in client.get(url).content
    client.post(reverse("scim_token_revoke", kwargs={"org_slug": org.slug, "scim_token_id": token.pk}))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEntry.objects.for_org(org).filter(action="scim.token_created").exists()


def test_the_admin_page_maps_a_group_to_roles(client, scim, org):
    ada = scim.post("Users", user_body("ada@acme.test")).json()["id"]
    group_id = scim.post("Groups", {"displayName": "Comms", "members": [{"value": ada}]}).json()["id"]
    group = ScimGroup.objects.for_org(org).get(team_id=int(group_id))
    client.force_login(acting(org).user)
    url = reverse("scim_group_roles", kwargs={"org_slug": org.slug, "scim_group_id": group.pk})
    client.post(url, {"roles": ["compliance"]})
    assert Membership.objects.for_org(org).get(pk=int(ada)).is_compliance
    client.post(url, {"roles": ["nonsense"]})
    group.refresh_from_db()
    assert group.roles == ["compliance"]  # a bad role changes nothing


def test_only_admins_reach_the_scim_page(client, org):
    employee = MembershipFactory(organization=org, roles=["employee", "marketer"])
    client.force_login(employee.user)
    assert client.get(reverse("scim_settings", kwargs={"org_slug": org.slug})).status_code == 403
