"""SCIM Users: a person's membership of the organization, pushed by its directory."""

from __future__ import annotations

from accounts.models import Membership, Provisioning, ScimUser, Team, User
from compliance.models import AuditEntry
from tests.accounts.factories import MembershipFactory, UserFactory
from tests.accounts.scim.conftest import user_body


def test_a_pushed_user_becomes_an_employee_provisioned_by_scim(scim, org):
    response = scim.post("Users", user_body("ada@acme.test", external_id="00u1", department="Research"))

    assert response.status_code == 201
    assert response["Content-Type"] == "application/scim+json"
    body = response.json()
    membership = Membership.objects.for_org(org).get(pk=int(body["id"]))
    assert membership.user.email == "ada@acme.test"
    assert membership.provisioned_via == Provisioning.SCIM
    assert membership.is_active and membership.is_employee
    assert body["userName"] == "ada@acme.test" and body["externalId"] == "00u1" and body["active"] is True
    assert body["meta"]["location"] == response["Location"] == f"http://testserver/scim/v2/o/acme/Users/{membership.pk}"
    assert body["meta"]["resourceType"] == "User" and body["meta"]["version"] == response["ETag"] == 'W/"1"'
    assert [t.name for t in membership.teams.all()] == ["Research"]
    assert Team.objects.for_org(org).get(name="Research").kind == Team.Kind.DEPARTMENT


def test_a_first_push_of_a_known_person_links_the_account_never_duplicates(scim, org):
    elsewhere = UserFactory(email="grace@acme.test")
    response = scim.post("Users", user_body("Grace@Acme.test"))

    assert response.status_code == 201
    assert User.objects.filter(email__iexact="grace@acme.test").count() == 1
    assert Membership.objects.for_org(org).get(pk=int(response.json()["id"])).user == elsewhere


def test_a_push_of_an_invited_member_takes_over_the_membership(scim, org):
    invited = MembershipFactory(organization=org, user__email="lin@acme.test", roles=["employee", "marketer"])
    response = scim.post("Users", user_body("lin@acme.test"))

    assert response.status_code == 201
    assert response.json()["id"] == str(invited.pk)
    invited.refresh_from_db()
    assert invited.is_marketer  # roles the admin gave stay
    assert Membership.objects.for_org(org).filter(user=invited.user).count() == 1
    assert AuditEntry.objects.for_org(org).filter(action="scim.user_linked").exists()


def test_the_same_user_name_twice_is_a_uniqueness_conflict(scim, org):
    scim.create_user("ada@acme.test", emails=[{"value": "ada@acme.test", "primary": True}])
    again = scim.post("Users", user_body("ADA@acme.test"))

    assert again.status_code == 409
    assert again.json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "409",
        "scimType": "uniqueness",
        "detail": "A user with the userName ADA@acme.test already exists.",
    }
    assert ScimUser.objects.for_org(org).count() == 1


def test_a_user_without_an_e_mail_is_refused_in_words_and_nothing_is_created(scim, org):
    response = scim.post("Users", {"userName": "not-an-address", "name": {"givenName": "No"}})

    assert response.status_code == 400
    assert response.json()["scimType"] == "invalidValue"
    assert "e-mail address" in response.json()["detail"]
    assert not ScimUser.objects.for_org(org).exists()
    assert not User.objects.filter(email__icontains="not-an-address").exists()


def test_a_body_that_is_not_json_is_invalid_syntax(scim):
    response = scim.post("Users", "{not json")
    assert response.status_code == 400 and response.json()["scimType"] == "invalidSyntax"


def test_plain_application_json_is_accepted(scim):
    response = scim.client.post(
        scim.url("Users"),
        data=user_body("json@acme.test"),
        content_type="application/json",
        headers={"Authorization": f"Bearer {scim.plain}"},
    )
    assert response.status_code == 201


def test_an_unknown_or_malformed_id_is_a_scim_404(scim):
    for path in ("Users/987654", "Users/not-a-number", "Groups/987654", "Nothing/here"):
        response = scim.get(path)
        assert response.status_code == 404, path
        assert response.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
        assert response.json()["status"] == "404"


def test_put_replaces_the_user_and_a_mover_changes_department_and_location(scim, org):
    created = scim.post("Users", user_body("ada@acme.test", department="Research")).json()
    body = user_body("ada@acme.test", given="Augusta", department="Sales", external_id="00u9")
    body["addresses"] = [{"type": "work", "locality": "Lyon"}]
    response = scim.put(f"Users/{created['id']}", body)

    assert response.status_code == 200
    assert response.json()["name"]["givenName"] == "Augusta"
    assert response.json()["externalId"] == "00u9" and response["ETag"] == 'W/"2"'
    membership = Membership.objects.for_org(org).get(pk=int(created["id"]))
    assert sorted((t.kind, t.name) for t in membership.teams.all()) == [("department", "Sales"), ("location", "Lyon")]
    assert AuditEntry.objects.for_org(org).filter(action="scim.user_updated").exists()


def test_delete_suspends_keeps_every_record_and_then_answers_404(scim, org):
    created = scim.create_user("ada@acme.test", emails=[{"value": "ada@acme.test", "primary": True}])
    response = scim.delete(f"Users/{created['id']}")

    assert response.status_code == 204
    membership = Membership.objects.for_org(org).get(pk=int(created["id"]))
    assert not membership.is_active  # suspended, not deleted
    assert ScimUser.objects.for_org(org).get(membership=membership).deleted_at is not None
    assert scim.get(f"Users/{created['id']}").status_code == 404
    assert scim.get('Users?filter=userName eq "ada@acme.test"').json()["totalResults"] == 0
    suspended = AuditEntry.objects.for_org(org).get(action="membership.suspended")
    assert suspended.after["by"] == "scim:Okta"
    assert AuditEntry.objects.for_org(org).filter(action="scim.user_deleted").exists()

    # The directory pushes the person again: the same membership comes back, active.
    again = scim.post("Users", user_body("ada@acme.test"))
    assert again.status_code == 201 and again.json()["id"] == created["id"]
    membership.refresh_from_db()
    assert membership.is_active


def test_active_false_suspends_and_active_true_reactivates_through_the_suspension_service(scim, org):
    created = scim.create_user("ada@acme.test", emails=[{"value": "ada@acme.test", "primary": True}])
    off = scim.patch(f"Users/{created['id']}", [{"op": "replace", "value": {"active": False}}])
    assert off.status_code == 200 and off.json()["active"] is False
    assert not Membership.objects.for_org(org).get(pk=int(created["id"])).is_active

    on = scim.patch(f"Users/{created['id']}", [{"op": "replace", "path": "active", "value": "True"}])
    assert on.json()["active"] is True
    assert Membership.objects.for_org(org).get(pk=int(created["id"])).is_active
    actions = list(
        AuditEntry.objects.for_org(org).filter(action__startswith="membership.").values_list("action", "after__by")
    )
    assert ("membership.suspended", "scim:Okta") in actions and ("membership.reactivated", "scim:Okta") in actions


def test_a_user_created_inactive_is_suspended_at_once(scim, org):
    response = scim.post("Users", user_body("late@acme.test", active=False))
    assert response.status_code == 201 and response.json()["active"] is False
    assert not Membership.objects.for_org(org).get(pk=int(response.json()["id"])).is_active


def test_the_password_is_never_stored_nor_returned(scim, org):
    response = scim.post("Users", user_body("pw@acme.test", password="Secret-123"))
    assert "password" not in response.json()
    assert "password" not in ScimUser.objects.for_org(org).get().document
    assert not User.objects.get(email="pw@acme.test").has_usable_password()
