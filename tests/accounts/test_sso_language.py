"""Single sign-on gives a person without a language of their own the provider's: the OIDC
`locale` claim, the SAML preferredLanguage attribute (issue 23). Real provider processes."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.accounts.factories import UserFactory
from tests.accounts.test_sso_oidc import sign_in as oidc_sign_in
from tests.accounts.test_sso_oidc import signed_in_as, sso_org
from tests.accounts.test_sso_saml import assert_accepted, organization, saml_configuration
from tests.accounts.test_sso_saml import sign_in as saml_sign_in

pytestmark = pytest.mark.django_db


def test_the_oidc_locale_claim_sets_a_new_members_language(client, oidc_provider):
    sso_org(oidc_provider, "acme", "acme.test")
    oidc_provider.set_user("ada", email="ada@acme.test", name="Ada Lovelace", locale="fr-FR")
    assert oidc_sign_in(client, oidc_provider, "ada@acme.test", "ada").status_code == 302
    assert signed_in_as(client).language == "fr"


def test_a_locale_we_do_not_ship_leaves_the_language_to_the_organization(client, oidc_provider):
    sso_org(oidc_provider, "acme", "acme.test")
    oidc_provider.set_user("ada", email="ada@acme.test", name="Ada Lovelace", locale="ja-JP")
    oidc_sign_in(client, oidc_provider, "ada@acme.test", "ada")
    assert signed_in_as(client).language == ""


def test_a_persons_own_language_is_kept_and_one_without_gets_the_providers(client, oidc_provider):
    sso_org(oidc_provider, "acme", "acme.test")
    UserFactory(email="ada@acme.test", language="es")
    oidc_provider.set_user("ada", email="ada@acme.test", name="Ada Lovelace", locale="de")
    oidc_sign_in(client, oidc_provider, "ada@acme.test", "ada")
    assert User.objects.get(email="ada@acme.test").language == "es"
    client.logout()
    UserFactory(email="grace@acme.test", language="")
    oidc_provider.set_user("grace", email="grace@acme.test", name="Grace Hopper", locale="de-AT")
    oidc_sign_in(client, oidc_provider, "grace@acme.test", "grace")
    assert User.objects.get(email="grace@acme.test").language == "de"


@pytest.fixture
def saml_client(client):
    client.defaults["HTTP_HOST"] = "testserver"  # python3-saml checks the URL it builds from Host
    return client


def test_the_saml_preferred_language_attribute_sets_a_new_members_language(saml_client, db, saml_idp):
    saml_configuration(organization("acme", "acme.example"), saml_idp)
    saml_idp.next_sign_in(language="de-DE")
    account = assert_accepted(saml_sign_in(saml_client))
    assert User.objects.get(pk=account.user_id).language == "de"


def test_without_the_attribute_the_language_follows_the_organization(saml_client, db, saml_idp):
    saml_configuration(organization("acme", "acme.example"), saml_idp)
    saml_idp.next_sign_in()
    account = assert_accepted(saml_sign_in(saml_client))
    assert User.objects.get(pk=account.user_id).language == ""
