"""SAML 2.0 sign-in for one organization, on django-allauth's `saml` provider (python3-saml).

The organization's SsoConfiguration becomes an unsaved allauth SocialApp (`social_app`):
client_id = the organization's slug, so its endpoints are allauth's
/accounts/saml/<slug>/login/, /acs/, /metadata/ and /sls/, and its SP entity id is its own
metadata URL. The IdP comes from pasted metadata XML, else a metadata URL, else entity id +
SSO URL + certificate.

What python3-saml checks on every response, in strict mode (always on here): the XML
signature with the IdP's certificate (the Response, the Assertion or both must be signed; an
unsigned response is refused), no deprecated algorithm (SHA-1), the Destination and the
SubjectConfirmationData Recipient equal to this organization's ACS URL, the Audience equal to
this organization's entity id, the Issuer equal to the configured IdP, and the validity
window: Conditions NotBefore/NotOnOrAfter with 300 s of allowed clock skew
(OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT), the SubjectConfirmationData NotOnOrAfter
without skew. allauth refuses a response that answers no request of this browser unless the
admin allowed IdP-initiated sign-in.

What python3-saml and allauth 65.21.1 do not do is refuse an assertion seen before: an
intercepted response could be posted again while it is valid. OrganizationSAMLProvider (the
`provider_class` of SOCIALACCOUNT_PROVIDERS["saml"], allauth's documented way to replace a
provider class) keeps each accepted assertion's ID in the cache (Redis) until it expires and
refuses it a second time.
"""

from __future__ import annotations

import hashlib
import time

import requests
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.saml.provider import SAMLProvider
from cryptography import x509
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from accounts.sso.http import guard

# Where the usual identity providers put the e-mail and the name (Okta, Entra ID, Google,
# OneLogin, ADFS: names, OIDs and claim URIs) when the admin names no attribute. Team, location
# and roles are read only from the attributes the admin names (accounts.sso.attribute_values).
DEFAULT_ATTRIBUTES = {
    "email": [
        "email",
        "mail",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    ],
    "name": [
        "name",
        "displayName",
        "urn:oid:2.16.840.1.113730.3.1.241",
        "http://schemas.microsoft.com/identity/claims/displayname",
    ],
    "first_name": [
        "givenName",
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
    ],
    # The person's language (a BCP 47 tag): inetOrgPerson's preferredLanguage, or "locale".
    "locale": [
        "locale",
        "preferredLanguage",
        "urn:oid:2.16.840.1.113730.3.1.39",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/locale",
    ],
    "last_name": [
        "sn",
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
    ],
}
ALLOWED_CLOCK_SKEW_SECONDS = OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT
METADATA_TIMEOUT_SECONDS = 10
METADATA_FRESH_SECONDS = 4 * 3600
METADATA_KEEP_SECONDS = 30 * 86400
# After a failed read, the URL is not asked again for this long: the requests meanwhile use the
# copy kept (or fail at once, in words) rather than each waiting out the timeout.
METADATA_RETRY_SECONDS = 60
REPLAY_MESSAGE = gettext_lazy("This sign-in response was already used. Sign in again from the start.")


PREFIX = "saml-"
# SsoConfiguration's fields that name the IdP (a change makes the last test sign-in stale).
IDP_FIELDS = ["saml_metadata_url", "saml_metadata_xml", "saml_idp_entity_id", "saml_idp_sso_url", "saml_idp_x509_cert"]


def provider_id(slug: str) -> str:
    """One provider id per organization, so that SocialAccount(provider, uid) never matches a
    subject of another organization's IdP (a NameID is only unique within its IdP)."""
    return f"{PREFIX}{slug}"


def organization_slug(provider: str | None, client_id: str | None) -> str | None:
    """allauth's SAML views ask for ("saml", <slug>); a SocialAccount's provider is "saml-<slug>"."""
    if provider == SAMLProvider.id and client_id:
        return client_id
    if provider and provider.startswith(PREFIX):
        return provider.removeprefix(PREFIX)
    return None


def provider_lookup(config) -> tuple[str, str | None]:
    """What allauth's get_provider is asked for this organization's app."""
    return SAMLProvider.id, config.organization.slug


def is_complete(config) -> bool:
    """Enough to try a sign-in: the IdP's metadata, or its entity id, SSO URL and certificate."""
    return bool(
        config.saml_metadata_xml.strip()
        or config.saml_metadata_url
        or (config.saml_idp_entity_id and config.saml_idp_sso_url and config.saml_idp_x509_cert.strip())
    )


def attribute_names(config, key: str) -> list[str]:
    """The attribute names tried for `key`: the admin's choice first, then the usual ones."""
    chosen = (config.attribute_mapping or {}).get(key)
    names = [chosen] if isinstance(chosen, str) and chosen else []
    return names + [n for n in DEFAULT_ATTRIBUTES.get(key, []) if n not in names]


def idp_settings(config) -> dict:
    """allauth's `idp` settings: pasted metadata, else the metadata URL (read and kept by
    idp_from_metadata_url), else entity id + SSO URL + certificate."""
    if config.saml_metadata_xml.strip():
        idp = parse_metadata_xml(config.saml_metadata_xml, entity_id=config.saml_idp_entity_id or None)
        return {"entity_id": idp["entityId"], "sso_url": idp["sso_url"], "x509cert": idp["x509cert"]}
    if config.saml_metadata_url:
        # Read here rather than by allauth (urllib, any address): accounts.sso.http's session.
        idp = idp_from_metadata_url(config.saml_metadata_url, entity_id=config.saml_idp_entity_id or None)
        return {"entity_id": idp["entityId"], "sso_url": idp["sso_url"], "x509cert": idp["x509cert"]}
    return {
        "entity_id": config.saml_idp_entity_id,
        "sso_url": config.saml_idp_sso_url,
        "x509cert": config.saml_idp_x509_cert,
    }


def app_settings(config) -> dict:
    """The settings of allauth's SAML app for this configuration."""
    return {
        "idp": idp_settings(config),
        "attribute_mapping": {
            "email": attribute_names(config, "email"),
            "first_name": attribute_names(config, "first_name"),
            "last_name": attribute_names(config, "last_name"),
        },
        "advanced": {
            "strict": True,
            # python3-saml refuses a response in which neither the Response nor the Assertion
            # is signed; IdPs differ in which one they sign (Okta and Entra ID the assertion,
            # some the response), and a signed Response covers its assertion.
            "want_assertion_signed": False,
            "want_message_signed": False,
            "reject_deprecated_algorithm": True,
            "want_attribute_statement": False,
            # `localhost` (make run) is a single-label host; the URLs are Django's own.
            "allow_single_label_domains": True,
            "reject_idp_initiated_sso": not config.saml_allow_idp_initiated,
            "name_id_format": OneLogin_Saml2_Constants.NAMEID_UNSPECIFIED,
        },
    }


def social_app(config) -> SocialApp:
    """The organization's SAML app, built from its configuration (never saved)."""
    organization = config.organization
    return SocialApp(
        provider=SAMLProvider.id,
        provider_id=provider_id(organization.slug),
        client_id=organization.slug,
        name=organization.name,
        settings=app_settings(config),
    )


def _first(raw: dict, names: list[str]) -> str:
    for name in names:
        for value in raw.get(name) or []:
            if value:
                return str(value).strip()
    return ""


def claims_of(sociallogin, config) -> dict:
    """The attributes as received, plus `email`, `name` and `locale` (the person's language)
    found where the usual IdPs put them (or the NameID, for the e-mail) when the admin names no
    attribute for them."""
    raw = dict(sociallogin.account.extra_data or {})
    claims = dict(raw)
    if not raw.get("email"):
        claims["email"] = _first(raw, attribute_names(config, "email")) or (sociallogin.user.email or "")
    if not raw.get("name"):
        first_last = [_first(raw, attribute_names(config, key)) for key in ("first_name", "last_name")]
        claims["name"] = _first(raw, attribute_names(config, "name")) or " ".join(p for p in first_last if p)
    if not raw.get("locale"):
        claims["locale"] = _first(raw, DEFAULT_ATTRIBUTES["locale"])
    return claims


def mapped_attributes(sociallogin, config) -> dict:
    """email, name, team, location, language, roles (our roles, by the role mapping) and raw (every
    attribute as the IdP sent it)."""
    from accounts.sso import attribute_values

    # No `email_verified` here: the IdP asserts the address, and provisioning accepts only an
    # address in a domain the organization proved it owns (accounts.services.sso), so the
    # organization's own directory speaks for it.
    return attribute_values(claims_of(sociallogin, config), config, raw=dict(sociallogin.account.extra_data or {}))


# --- replay protection ------------------------------------------------------------------


def replay_key(idp_entity_id: str, assertion_id: str) -> str:
    digest = hashlib.sha256(f"{idp_entity_id}\n{assertion_id}".encode()).hexdigest()
    return f"saml:assertion:{digest}"


def remember_assertion(*, idp_entity_id: str, assertion_id: str, not_on_or_after: float | None) -> bool:
    """Keep an accepted assertion's ID until it can no longer be accepted (its NotOnOrAfter plus
    the allowed clock skew; SAML_REPLAY_FALLBACK_SECONDS when it names no expiry). True the
    first time, False when the ID was already kept (a replay). Atomic (Redis SET NX)."""
    if not_on_or_after:
        ttl = int(not_on_or_after - time.time()) + ALLOWED_CLOCK_SKEW_SECONDS
    else:
        ttl = settings.SAML_REPLAY_FALLBACK_SECONDS
    return cache.add(replay_key(idp_entity_id, assertion_id), 1, timeout=max(ttl, 1))


class OrganizationSAMLProvider(SAMLProvider):
    """allauth's SAML provider plus the replay check: called by allauth's ACS view once the
    response's signature and conditions were validated, before anybody is signed in."""

    package = "allauth.socialaccount.providers.saml"  # allauth's URLs and views stay its own

    def sociallogin_from_response(self, request, response):
        idp_entity_id = response.get_settings().get_idp_data()["entityId"]
        assertion_id = response.get_last_assertion_id()
        first_time = remember_assertion(
            idp_entity_id=idp_entity_id,
            assertion_id=assertion_id or "",
            not_on_or_after=response.get_last_assertion_not_on_or_after(),
        )
        if not assertion_id or not first_time:
            raise ImmediateHttpResponse(
                render_authentication_error(
                    request,
                    self,
                    extra_context={"saml_errors": ["replayed"], "saml_last_error_reason": str(REPLAY_MESSAGE)},
                )
            )
        return super().sociallogin_from_response(request, response)


# --- what the settings form checks -------------------------------------------------------


class InvalidIdentityProvider(ValueError):
    """The IdP's metadata or certificate cannot be used; the message says why, in words."""


def parse_metadata_xml(xml: str, entity_id: str | None = None) -> dict:
    """The IdP in pasted metadata: entityId, sso_url (HTTP-Redirect binding) and x509cert.
    Raises InvalidIdentityProvider with a reason an admin understands."""
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml.strip(), entity_id=entity_id)
    except etree.XMLSyntaxError as exc:
        raise InvalidIdentityProvider(_("The metadata is not well-formed XML (%(error)s).") % {"error": exc}) from None
    except Exception as exc:  # python3-saml raises bare Exception for forbidden DTDs/entities
        raise InvalidIdentityProvider(_("The metadata could not be read (%(error)s).") % {"error": exc}) from None
    idp = parsed.get("idp") or {}
    sso_url = (idp.get("singleSignOnService") or {}).get("url")
    cert = idp.get("x509cert") or ((idp.get("x509certMulti") or {}).get("signing") or [None])[0]
    if not idp.get("entityId"):
        raise InvalidIdentityProvider(_("The metadata describes no identity provider (no IDPSSODescriptor)."))
    if not sso_url:
        raise InvalidIdentityProvider(_("The metadata names no single sign-on URL (HTTP-Redirect binding)."))
    if not cert:
        raise InvalidIdentityProvider(_("The metadata holds no signing certificate."))
    validate_certificate(cert)
    return {"entityId": idp["entityId"], "sso_url": sso_url, "x509cert": cert}


def read_metadata_url(url: str, entity_id: str | None = None) -> dict:
    """The IdP in the metadata published at `url`, fetched now over the session that reaches
    public addresses only (accounts.sso.http). Raises InvalidIdentityProvider, in words."""
    try:
        response = guard(requests.Session()).get(url, timeout=METADATA_TIMEOUT_SECONDS)
        response.raise_for_status()
    except requests.RequestException as exc:
        raise InvalidIdentityProvider(_("The metadata URL could not be read (%(error)s).") % {"error": exc}) from None
    idp = parse_metadata_xml(response.text, entity_id=entity_id)
    return idp


def metadata_cache_key(url: str, entity_id: str | None = None) -> str:
    return "saml:idp-metadata:" + hashlib.sha256(f"{url}\n{entity_id or ''}".encode()).hexdigest()


def idp_from_metadata_url(url: str, entity_id: str | None = None) -> dict:
    """The IdP published at `url`: read again once METADATA_FRESH_SECONDS passed; while the URL
    cannot be read, the last copy read (kept METADATA_KEEP_SECONDS) still signs people in.
    Raises InvalidIdentityProvider when there is no copy at all."""
    key = metadata_cache_key(url, entity_id)
    failed_key = f"{key}:failed"
    kept = cache.get(key)
    if kept and time.time() - kept["read_at"] < METADATA_FRESH_SECONDS:
        return kept["idp"]
    failed = cache.get(failed_key)
    if failed:  # read and failed a moment ago: do not wait for the URL again yet
        if kept:
            return kept["idp"]
        raise InvalidIdentityProvider(failed)
    try:
        idp = read_metadata_url(url, entity_id)
    except InvalidIdentityProvider as exc:
        cache.set(failed_key, str(exc), METADATA_RETRY_SECONDS)
        if kept:
            return kept["idp"]
        raise
    cache.set(key, {"idp": idp, "read_at": time.time()}, METADATA_KEEP_SECONDS)
    cache.delete(failed_key)
    return idp


def validate_certificate(pem: str) -> x509.Certificate:
    """The IdP's signing certificate, PEM or bare base64. Raises InvalidIdentityProvider."""
    text = OneLogin_Saml2_Utils.format_cert(pem.strip(), heads=True)
    try:
        return x509.load_pem_x509_certificate(text.encode())
    except ValueError:
        raise InvalidIdentityProvider(
            _(
                "The certificate could not be read: paste the IdP's X.509 signing certificate (PEM, "
                "-----BEGIN CERTIFICATE----- ...)."
            )
        ) from None
