"""SAML 2.0 sign-in per organization against a real IdP process (tests/accounts/saml_idp.py):
the SP redirects to the IdP, the IdP answers with a signed Response that the test posts to the
ACS like a browser would. Each refusal case asks the IdP for the faulty response."""

from __future__ import annotations

import hashlib
import socket
import time
from urllib.parse import urlsplit

import pytest
import redis
import time_machine
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Organization, Provisioning, Role, SsoConfiguration, Team, User
from accounts.sso.saml import (
    ALLOWED_CLOCK_SKEW_SECONDS,
    METADATA_FRESH_SECONDS,
    InvalidIdentityProvider,
    idp_from_metadata_url,
    metadata_cache_key,
    parse_metadata_xml,
    remember_assertion,
    replay_key,
    validate_certificate,
)
from tests.accounts.factories import (
    MembershipFactory,
    OrganizationFactory,
    SignupDomainFactory,
    SsoConfigurationFactory,
    UserFactory,
)
from tests.accounts.saml_fixture import SamlIdp, posted_form

# What the sign-in page says when the IdP's answer is refused (accounts.sso.adapter).
REFUSED = "its answer could not be verified"


def saml_configuration(organization, saml_idp, **fields) -> SsoConfiguration:
    values = {
        "protocol": SsoConfiguration.Protocol.SAML,
        "is_enabled": True,
        "saml_idp_entity_id": saml_idp.entity_id,
        "saml_idp_sso_url": saml_idp.sso_url,
        "saml_idp_x509_cert": saml_idp.cert,
        "attribute_mapping": {"team": "department", "location": "location", "roles": "groups"},
        "role_mapping": {"advocates": "marketer"},
        **fields,
    }
    return SsoConfiguration.objects.create(organization=organization, **values)


@pytest.fixture
def client(client):
    """Browsers always send Host; python3-saml builds the URL it checks from it."""
    client.defaults["HTTP_HOST"] = "testserver"
    return client


def organization(slug: str, domain: str | None = None):
    """An organization that proved it owns `domain` (its IdP may then sign its people in)."""
    org = OrganizationFactory(slug=slug, name=slug.title())
    if domain:
        SignupDomainFactory(organization=org, domain=domain, verified_at=timezone.now())
    return org


@pytest.fixture
def acme(db, saml_idp):
    org = organization("acme", "acme.example")
    saml_configuration(org, saml_idp)
    saml_idp.next_sign_in()
    return org


def idp_response(client, slug: str) -> tuple[str, dict]:
    """Start a sign-in at the SP and follow the redirect to the IdP: the ACS URL and fields the
    IdP's page would POST."""
    response = client.post(f"/accounts/saml/{slug}/login/")
    assert response.status_code == 302, response.content[:500]
    return posted_form(SamlIdp.open(response["Location"]))


def post_to_acs(client, action: str, fields: dict):
    """What the browser does with the IdP's page: POST to the ACS, follow to the finish view."""
    response = client.post(urlsplit(action).path, fields)
    assert response.status_code == 302, response.content[:500]
    return client.get(response["Location"], follow=True)


def sign_in(client, slug: str = "acme"):
    return post_to_acs(client, *idp_response(client, slug))


def unsolicited(saml_idp) -> str:
    """An IdP-initiated response for acme (no request of ours to answer)."""
    return saml_idp.post(
        "/_idp/unsolicited",
        {
            "acs_url": "http://testserver/accounts/saml/acme/acs/",
            "audience": "http://testserver/accounts/saml/acme/metadata/",
        },
    )


def assert_refused(response, reason: str) -> None:
    page = response.content.decode()
    assert REFUSED in page, page[:2000]
    assert reason in page, page[:2000]
    assert not SocialAccount.objects.exists()
    assert "_auth_user_id" not in response.client.session


def assert_accepted(response) -> SocialAccount:
    """Signed in, as the person the IdP named, through this organization's SAML app."""
    page = response.content.decode()
    assert REFUSED not in page, page[:2000]
    account = SocialAccount.objects.get()
    assert account.provider == "saml-acme"
    assert account.uid == "ada@acme.example"
    assert response.client.session["_auth_user_id"] == str(account.user_id)
    return account


# --- the service provider's metadata -------------------------------------------------------


def test_metadata_names_the_organizations_acs_url_and_entity_id(client, acme):
    response = client.get("/accounts/saml/acme/metadata/")
    assert response.status_code == 200
    xml = response.content.decode()
    assert 'entityID="http://testserver/accounts/saml/acme/metadata/"' in xml
    assert 'Location="http://testserver/accounts/saml/acme/acs/"' in xml


def test_metadata_of_an_unknown_organization_is_404(client, acme):
    assert client.get("/accounts/saml/nobody/metadata/").status_code == 404
    assert client.post("/accounts/saml/nobody/login/").status_code == 404


def test_an_organization_signing_in_over_oidc_has_no_saml_endpoints(client, acme):
    SsoConfigurationFactory(organization=organization("globex"), protocol="oidc")
    assert client.get("/accounts/saml/globex/metadata/").status_code == 404
    # allauth's ACS only parks the POST and redirects; the finish step finds no SAML app.
    parked = client.post("/accounts/saml/globex/acs/", {"SAMLResponse": "x"})
    assert client.get(parked["Location"]).status_code == 404


# --- accepted ------------------------------------------------------------------------------


def test_signed_assertion_is_accepted(client, acme):
    account = assert_accepted(sign_in(client))
    assert account.extra_data["department"] == ["Engineering"]


def test_response_signed_only_at_the_response_level_is_accepted(client, acme, saml_idp):
    saml_idp.next_sign_in(fault="response_signed")
    assert_accepted(sign_in(client))


@pytest.mark.parametrize("source", ["metadata_url", "metadata_xml"])
def test_the_idp_can_be_given_by_its_metadata(client, db, saml_idp, source):
    """By URL (fetched by the server) or pasted, instead of entity id + SSO URL + certificate."""
    given = {"saml_metadata_url": saml_idp.metadata_url} if source == "metadata_url" else {}
    if source == "metadata_xml":
        given = {"saml_metadata_xml": saml_idp.get("/metadata")}
    blank = {"saml_idp_entity_id": "", "saml_idp_sso_url": "", "saml_idp_x509_cert": ""}
    saml_configuration(organization("acme", "acme.example"), saml_idp, **blank, **given)
    saml_idp.next_sign_in()
    assert_accepted(sign_in(client))


# --- refused -------------------------------------------------------------------------------


# What the IdP spoils -> the reason python3-saml gives (shown to the person, for their IT team).
SPOILED = {
    "unsigned": "No Signature found",
    "foreign_key": "Signature validation failed",  # signed, by a key the organization does not trust
    "tampered": "Signature validation failed",  # the e-mail changed after the IdP signed
    "sha1": "Deprecated signature algorithm found",
    "audience": "is not a valid audience",
    "destination": "The response was received at http://testserver/accounts/saml/acme/acs/ instead of",
    "recipient": "A valid SubjectConfirmation was not found on this Response",
    "expired": "Could not validate timestamp: expired",
}


@pytest.mark.parametrize("fault", SPOILED)
def test_a_spoiled_response_is_refused_and_signs_nobody_in(client, acme, saml_idp, fault):
    saml_idp.next_sign_in(fault=fault)
    assert_refused(sign_in(client), SPOILED[fault])


def test_replayed_assertion_is_refused(client, acme):
    action, fields = idp_response(client, "acme")
    assert_accepted(post_to_acs(client, action, fields))
    client.logout()
    # The same response again, from a browser that did start a sign-in (state present).
    idp_response(client, "acme")
    page = post_to_acs(client, action, fields).content.decode()
    assert REFUSED in page and "already used" in page
    assert SocialAccount.objects.count() == 1
    assert "_auth_user_id" not in client.session


def test_replayed_idp_initiated_assertion_is_refused(client, db, saml_idp):
    saml_configuration(organization("acme", "acme.example"), saml_idp, saml_allow_idp_initiated=True)
    saml_idp.next_sign_in()
    page = unsolicited(saml_idp)
    action, fields = posted_form(page)
    assert_accepted(post_to_acs(client, action, fields))
    client.logout()
    page = post_to_acs(client, action, fields).content.decode()
    assert REFUSED in page and "already used" in page


def test_idp_initiated_sign_in_is_refused_unless_the_admin_allowed_it(client, acme, saml_idp):
    page = unsolicited(saml_idp)
    response = post_to_acs(client, *posted_form(page))
    assert REFUSED in response.content.decode()
    assert not SocialAccount.objects.exists()

    SsoConfiguration.objects.for_org(acme).update(saml_allow_idp_initiated=True)
    saml_idp.next_sign_in()
    page = unsolicited(saml_idp)
    assert_accepted(post_to_acs(client, *posted_form(page)))


# --- clock skew: 300 s (python3-saml's ALLOWED_CLOCK_DRIFT) on NotBefore ------------------


def test_an_idp_clock_four_minutes_ahead_is_tolerated(client, acme):
    action, fields = idp_response(client, "acme")
    # The IdP stamped NotBefore with its own "now": ours runs 4 minutes behind it.
    with time_machine.travel(timezone.now() - timezone.timedelta(minutes=4), tick=True):
        assert_accepted(post_to_acs(client, action, fields))


def test_an_idp_clock_six_minutes_ahead_is_refused(client, acme):
    action, fields = idp_response(client, "acme")
    with time_machine.travel(timezone.now() - timezone.timedelta(minutes=6), tick=True):
        assert_refused(post_to_acs(client, action, fields), "Could not validate timestamp: not yet valid")


# --- isolation -----------------------------------------------------------------------------


def test_a_response_for_one_organization_is_refused_at_anothers_acs(client, acme, saml_idp):
    # Beta trusts the very same IdP: only the audience and destination tell them apart.
    saml_configuration(organization("beta"), saml_idp)
    action, fields = idp_response(client, "acme")
    response = post_to_acs(client, action.replace("/saml/acme/", "/saml/beta/"), fields)
    page = response.content.decode()
    assert REFUSED in page
    assert "The response was received at http://testserver/accounts/saml/beta/acs/" in page
    assert not SocialAccount.objects.exists()


def test_another_organizations_idp_naming_our_member_signs_nobody_in(client, acme, saml_idp):
    """Beta's admin points Beta at an IdP that asserts ada@acme.example: Ada, already signed in
    once through Acme, is not reached (another provider id; Beta never proved acme.example)."""
    ada = assert_accepted(sign_in(client)).user
    client.logout()
    saml_configuration(organization("beta"), saml_idp)
    page = sign_in(client, "beta").content.decode()
    assert "has not verified the domain of ada@acme.example" in page
    assert "_auth_user_id" not in client.session
    assert not Membership.objects.for_org(Organization.objects.get(slug="beta")).exists()
    assert SocialAccount.objects.get().user == ada


# --- just-in-time provisioning (accounts.services.sso, through the adapter) -----------------


def test_a_first_sign_in_creates_the_membership_with_the_mapped_team_and_role(client, acme):
    account = assert_accepted(sign_in(client))
    membership = Membership.objects.for_org(acme).get(user=account.user)
    assert membership.provisioned_via == Provisioning.SSO
    assert membership.roles == {Role.MARKETER}  # the IdP's group "advocates", by the role mapping
    assert sorted(membership.teams.values_list("name", "kind")) == [
        ("Engineering", Team.Kind.DEPARTMENT),
        ("London", Team.Kind.LOCATION),
    ]
    assert account.user.name == "Ada Lovelace"


def test_an_existing_user_with_the_address_is_linked_not_duplicated(client, acme):
    ada = UserFactory(email="ada@acme.example")
    account = assert_accepted(sign_in(client))
    assert account.user == ada
    assert User.objects.filter(email__iexact="ada@acme.example").count() == 1
    client.logout()
    assert_accepted(sign_in(client))  # the second time through the linked SAML account
    assert SocialAccount.objects.count() == 1


def test_the_admins_test_sign_in_shows_the_mapped_attributes_and_signs_nobody_in(client, acme, saml_idp):
    admin = MembershipFactory(organization=acme, roles=[Role.ADMIN]).user
    client.force_login(admin)
    saml_idp.next_sign_in(email="grace@acme.example", name="Grace Hopper", groups=["advocates", "staff"])
    response = client.post("/o/acme/settings/sso/test/")
    assert response.status_code == 302
    page = post_to_acs(client, *posted_form(SamlIdp.open(response["Location"]))).content.decode()
    config = SsoConfiguration.objects.for_org(acme).get()
    assert config.test_result["ok"] is True
    assert config.test_result["email"] == "grace@acme.example"
    assert config.test_result["team"] == "Engineering"
    assert config.test_result["roles"] == ["marketer"]
    assert config.test_result["raw"]["groups"] == ["advocates", "staff"]
    assert "grace@acme.example" in page
    assert client.session["_auth_user_id"] == str(admin.pk)  # still the admin
    assert not User.objects.filter(email="grace@acme.example").exists()


# --- what the settings form checks, in words -------------------------------------------------


def test_metadata_that_is_not_xml_is_refused_in_words():
    with pytest.raises(InvalidIdentityProvider, match="not well-formed XML"):
        parse_metadata_xml("<EntityDescriptor><unclosed></EntityDescriptor>")


def test_metadata_with_an_entity_declaration_is_refused():
    bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(InvalidIdentityProvider, match="could not be read"):
        parse_metadata_xml(bomb)


def test_metadata_without_an_identity_provider_is_refused_in_words():
    sp_only = '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example"/>'
    with pytest.raises(InvalidIdentityProvider, match="describes no identity provider"):
        parse_metadata_xml(sp_only)


def test_the_idps_metadata_gives_its_entity_id_sso_url_and_certificate(saml_idp):
    idp = parse_metadata_xml(saml_idp.get("/metadata"))
    assert idp["entityId"] == saml_idp.entity_id
    assert idp["sso_url"] == saml_idp.sso_url
    assert idp["x509cert"] in "".join(saml_idp.cert.split())


def test_a_certificate_that_does_not_parse_is_refused_in_words(saml_idp):
    with pytest.raises(InvalidIdentityProvider, match="certificate could not be read"):
        validate_certificate("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----")
    # PEM, or the bare base64 some IdPs show, both read.
    assert validate_certificate(saml_idp.cert).subject.rfc4514_string() == "CN=idp"
    bare = "".join(line for line in saml_idp.cert.splitlines() if "CERTIFICATE" not in line)
    assert validate_certificate(bare).subject.rfc4514_string() == "CN=idp"


# --- the replay window ---------------------------------------------------------------------


def test_an_assertion_id_is_kept_until_it_expires_plus_the_allowed_skew():
    not_on_or_after = time.time() + 60
    assert remember_assertion(idp_entity_id="https://idp", assertion_id="_a1", not_on_or_after=not_on_or_after)
    assert not remember_assertion(idp_entity_id="https://idp", assertion_id="_a1", not_on_or_after=not_on_or_after)
    # Another IdP's assertion with the same ID is another assertion.
    assert remember_assertion(idp_entity_id="https://other", assertion_id="_a1", not_on_or_after=not_on_or_after)
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(cache.make_key(replay_key("https://idp", "_a1")))
    assert 60 + ALLOWED_CLOCK_SKEW_SECONDS - 5 <= ttl <= 60 + ALLOWED_CLOCK_SKEW_SECONDS


# --- the admin's SAML settings (the SSO settings page) -------------------------------------


def saml_form(saml_idp, **overrides) -> dict:
    data = {
        "protocol": "saml",
        "saml_idp_entity_id": saml_idp.entity_id,
        "saml_idp_sso_url": saml_idp.sso_url,
        "saml_idp_x509_cert": saml_idp.cert,
        "attr_team": "department",
        "attr_roles": "groups",
        "role_mapping": "advocates = marketer",
        "default_roles": ["employee"],
        "is_enabled": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def admin_client(client, db):
    org = organization("acme", "acme.example")
    client.force_login(MembershipFactory(organization=org, roles=[Role.ADMIN]).user)
    return client


def test_the_admin_configures_saml_and_is_shown_what_to_give_the_idp(admin_client, saml_idp):
    response = admin_client.post("/o/acme/settings/sso/", saml_form(saml_idp, saml_allow_idp_initiated="on"))
    assert response.status_code == 302, response.content.decode()[:3000]
    config = SsoConfiguration.objects.for_org(Organization.objects.get(slug="acme")).get()
    assert config.protocol == "saml" and config.is_enabled and config.saml_allow_idp_initiated
    assert config.saml_idp_entity_id == saml_idp.entity_id
    page = admin_client.get("/o/acme/settings/sso/").content.decode()
    assert '<code data-testid="saml-metadata-url">http://testserver/accounts/saml/acme/metadata/</code>' in page
    assert '<code data-testid="saml-acs-url">http://testserver/accounts/saml/acme/acs/</code>' in page
    # What was saved works: a sign-in through it.
    admin_client.logout()
    saml_idp.next_sign_in()
    assert_accepted(sign_in(admin_client))


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("saml_metadata_xml", "<EntityDescriptor><oops></EntityDescriptor>", "The metadata is not well-formed XML"),
        ("saml_idp_x509_cert", "not a certificate at all", "The certificate could not be read"),
        ("saml_metadata_url", "{idp}/no-such-page", "The metadata URL could not be read (404 Client Error"),
        ("saml_metadata_url", "{idp}/cert", "The metadata is not well-formed XML"),
    ],
)
def test_bad_saml_input_is_refused_in_words_and_changes_nothing(admin_client, saml_idp, field, value, words):
    value = value.format(idp=saml_idp.url)
    response = admin_client.post("/o/acme/settings/sso/", saml_form(saml_idp, **{field: value}))
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not SsoConfiguration.objects.for_org(Organization.objects.get(slug="acme")).exists()


def test_saml_cannot_be_enabled_without_an_idp(admin_client, saml_idp):
    blank = {"saml_idp_entity_id": "", "saml_idp_sso_url": "", "saml_idp_x509_cert": ""}
    response = admin_client.post("/o/acme/settings/sso/", saml_form(saml_idp, **blank))
    assert response.status_code == 200
    assert "give your identity provider&#x27;s SAML metadata" in response.content.decode()
    assert not SsoConfiguration.objects.for_org(Organization.objects.get(slug="acme")).exists()


def test_an_assertion_naming_no_expiry_is_kept_for_the_fallback_window(settings):
    settings.SAML_REPLAY_FALLBACK_SECONDS = 7200
    assert remember_assertion(idp_entity_id="https://idp", assertion_id="_a2", not_on_or_after=None)
    assert not remember_assertion(idp_entity_id="https://idp", assertion_id="_a2", not_on_or_after=None)
    ttl = redis.Redis.from_url(settings.REDIS_URL).ttl(cache.make_key(replay_key("https://idp", "_a2")))
    assert 7200 - 5 <= ttl <= 7200


def test_lxml_and_xmlsec_use_the_same_libxml2():
    """python3-saml signs and verifies with xmlsec on lxml trees: both wheels must bundle the same
    libxml2 (requirements.txt pins lxml and xmlsec together), or signatures cannot be checked."""
    import xmlsec
    from lxml import etree

    assert xmlsec.get_libxml_version() == etree.LIBXML_VERSION
    assert xmlsec.get_libxml_compiled_version() == etree.LIBXML_COMPILED_VERSION


@pytest.mark.parametrize(
    ("field", "words"),
    [
        ("saml_metadata_url", "The SAML metadata URL must start with https://"),
        ("saml_idp_sso_url", "The SAML single sign-on URL must start with https://"),
    ],
)
def test_saml_urls_must_be_https(admin_client, saml_idp, field, words):
    """Plain http only for the local hosts SSO_HTTP_ISSUER_HOSTS names (the tests' 127.0.0.1)."""
    response = admin_client.post("/o/acme/settings/sso/", saml_form(saml_idp, **{field: "http://idp.example.com/x"}))
    assert response.status_code == 200
    assert words in response.content.decode()
    assert not SsoConfiguration.objects.for_org(Organization.objects.get(slug="acme")).exists()


def test_a_metadata_url_at_a_private_address_is_not_reached(db):
    """An admin-typed URL is no way into the deployment's network: a peer that is not a public
    address (here loopback 127.0.0.2, not among SSO_HTTP_ISSUER_HOSTS) is refused before any
    request is sent."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.2", 0))
        listener.listen()
        url = f"https://127.0.0.2:{listener.getsockname()[1]}/metadata"
        with pytest.raises(InvalidIdentityProvider, match="is at a private address"):
            idp_from_metadata_url(url)


def test_while_the_metadata_url_is_down_the_last_copy_read_still_serves(saml_idp):
    """Read once (kept), then the URL stops answering: after METADATA_FRESH_SECONDS the copy
    read last still gives the IdP; with no copy at all, the failure is said in words."""
    down = "http://127.0.0.1:9/metadata"  # nothing listens there
    with pytest.raises(InvalidIdentityProvider, match="could not be read"):
        idp_from_metadata_url(down)
    idp = idp_from_metadata_url(saml_idp.metadata_url)
    key_of_up = [k for k in redis_keys() if "saml:idp-metadata:" in k and not k.endswith(":failed")]
    assert len(key_of_up) == 1
    # The same copy under the URL that is now down, read 5 hours ago.
    kept = {"idp": idp, "read_at": time.time() - 5 * 3600}
    cache.set("saml:idp-metadata:" + hashlib.sha256(f"{down}\n".encode()).hexdigest(), kept)
    assert idp_from_metadata_url(down) == idp


def redis_keys() -> list[str]:
    return [k.decode() for k in redis.Redis.from_url(settings.REDIS_URL).keys("*")]


def test_single_logout_is_not_mounted_so_an_unsigned_logout_request_signs_nobody_out(client, acme):
    """No IdP logout is configured and allauth would accept an unsigned LogoutRequest: any site
    could sign a visitor out by sending them there. The route answers 404 and ends nothing."""
    from onelogin.saml2.utils import OneLogin_Saml2_Utils

    account = assert_accepted(sign_in(client))
    logout_request = (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_forged" Version="2.0" '
        'IssueInstant="2026-01-01T00:00:00Z" Destination="http://testserver/accounts/saml/acme/sls/">'
        "<saml:Issuer>https://anybody.example/</saml:Issuer><saml:NameID>ada@acme.example</saml:NameID>"
        "</samlp:LogoutRequest>"
    )
    encoded = OneLogin_Saml2_Utils.deflate_and_base64_encode(logout_request)
    response = client.get("/accounts/saml/acme/sls/", {"SAMLRequest": encoded})
    assert response.status_code == 404
    assert client.session["_auth_user_id"] == str(account.user_id)
    assert client.get("/accounts/saml/nobody/sls/").status_code == 404


def test_a_metadata_url_that_fails_with_nothing_kept_is_said_in_words_and_not_asked_again_at_once(
    client, db, saml_idp, plain_server
):
    """The IdP's metadata URL answers 500 and no copy was ever read: every SAML page says so
    in words (no 500), and for a short while the URL is not asked again (nobody waits)."""
    org = organization("acme", "acme.example")
    plain_server.answer(500, b"down")
    saml_configuration(org, saml_idp, saml_idp_entity_id="", saml_idp_sso_url="", saml_idp_x509_cert="",
                       saml_metadata_url=f"{plain_server.url}/metadata")  # fmt: skip
    response = client.post("/accounts/saml/acme/login/")
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert "sign-in provider cannot be reached" in client.get(response["Location"]).content.decode()
    assert plain_server.hits == 1
    assert client.get("/accounts/saml/acme/metadata/").status_code == 302
    response = client.post(reverse("sso_discover"), {"login": "ada@acme.example"})
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert plain_server.hits == 1  # the failure is remembered for METADATA_RETRY_SECONDS
    # Once the short retry window is over (its marker gone), the URL is asked again.
    cache.delete(metadata_cache_key(f"{plain_server.url}/metadata") + ":failed")
    client.post("/accounts/saml/acme/login/")
    assert plain_server.hits == 2


def test_a_stale_copy_serves_while_the_url_fails_and_the_url_is_not_asked_on_every_request(saml_idp, plain_server):
    plain_server.answer(200, saml_idp_metadata(saml_idp))
    url = f"{plain_server.url}/metadata"
    idp = idp_from_metadata_url(url)
    plain_server.answer(500, b"down")
    with time_machine.travel(time.time() + METADATA_FRESH_SECONDS + 1):
        assert idp_from_metadata_url(url) == idp
        assert idp_from_metadata_url(url) == idp
    assert plain_server.hits == 2  # one read, one failed re-read; the third call waited for nothing


def saml_idp_metadata(saml_idp) -> bytes:
    import urllib.request

    with urllib.request.urlopen(saml_idp.metadata_url, timeout=10) as answer:
        return answer.read()


def test_a_huge_metadata_document_is_not_read(db, plain_server):
    from accounts.sso.http import MAX_DOCUMENT_BYTES

    plain_server.answer(200, b"<x>" + b" " * (MAX_DOCUMENT_BYTES + 10) + b"</x>")
    with pytest.raises(InvalidIdentityProvider, match="larger than 1024 KB"):
        idp_from_metadata_url(f"{plain_server.url}/metadata")
