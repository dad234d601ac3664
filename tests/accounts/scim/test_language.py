"""SCIM preferredLanguage (RFC 7643 §4.1.1): the directory sets the person's language ("fr-FR"
reads "fr"; one we do not ship reads "", following the organization's default); the resource
gives back what the directory wrote."""

from __future__ import annotations

from accounts.models import Membership, User
from tests.accounts.factories import UserFactory
from tests.accounts.scim.conftest import user_body


def language_of(org, resource) -> str:
    return Membership.objects.for_org(org).select_related("user").get(pk=int(resource["id"])).user.language


def test_a_pushed_user_gets_the_preferred_language_and_the_resource_says_it(scim, org):
    response = scim.post("Users", user_body("ada@acme.test", preferredLanguage="fr-FR"))
    assert response.status_code == 201, response.content
    assert response.json()["preferredLanguage"] == "fr-FR"
    assert language_of(org, response.json()) == "fr"
    got = scim.get(f"Users/{response.json()['id']}").json()
    assert got["preferredLanguage"] == "fr-FR"


def test_a_language_we_do_not_ship_follows_the_organization(scim, org):
    created = scim.post("Users", user_body("ada@acme.test", preferredLanguage="ja-JP")).json()
    assert language_of(org, created) == "" and created["preferredLanguage"] == "ja-JP"


def test_without_preferred_language_an_existing_persons_choice_stays(scim, org):
    UserFactory(email="grace@acme.test", language="de")
    created = scim.post("Users", user_body("grace@acme.test")).json()
    assert language_of(org, created) == "de" and "preferredLanguage" not in created


def test_put_and_patch_change_the_language(scim, org):
    created = scim.post("Users", user_body("ada@acme.test", preferredLanguage="en-US")).json()
    assert language_of(org, created) == "en"
    replaced = scim.put(f"Users/{created['id']}", user_body("ada@acme.test", preferredLanguage="de-DE"))
    assert replaced.status_code == 200 and replaced.json()["preferredLanguage"] == "de-DE"
    assert language_of(org, created) == "de"
    patched = scim.patch(f"Users/{created['id']}", [{"op": "replace", "path": "preferredLanguage", "value": "es_MX"}])
    assert patched.status_code == 200, patched.content
    assert patched.json()["preferredLanguage"] == "es_MX" and language_of(org, created) == "es"


def test_a_patch_of_another_attribute_keeps_the_persons_own_choice(scim, org):
    created = scim.post("Users", user_body("ada@acme.test", preferredLanguage="fr")).json()
    User.objects.filter(email="ada@acme.test").update(language="de")  # chosen in the profile since
    patched = scim.patch(f"Users/{created['id']}", [{"op": "replace", "path": "displayName", "value": "Ada L."}])
    assert patched.status_code == 200, patched.content
    assert language_of(org, created) == "de"
