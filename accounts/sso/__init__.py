"""Single sign-on per organization, on django-allauth's own providers.

No SocialApp rows: each organization's SsoConfiguration is turned into an unsaved allauth
SocialApp at request time (`accounts.sso.adapter.SocialAccountAdapter`). Each protocol module
in PROTOCOLS provides:

* `organization_slug(provider, client_id) -> str | None`: the organization an allauth app
  lookup names (OIDC: provider id "org-<slug>"; SAML: client id "<slug>"), or None;
* `social_app(config) -> SocialApp`: the unsaved app, secret decrypted;
* `mapped_attributes(sociallogin, config) -> dict`: email, name, team, location, language
  (one of ours from the OIDC `locale` claim or the SAML preferredLanguage/locale attribute,
  else ""), roles (a list of role values) and raw (the claims or attributes as received, for "test sign-in");
* `provider_lookup(config) -> (provider, client_id)`: what allauth's get_provider is asked to
  start a sign-in (accounts.sso.adapter.start_sign_in: the e-mail step, the test sign-in);
* `is_complete(config) -> bool`: enough is filled in to try a test sign-in;
* optionally `verify(request, sociallogin) -> str | None` (why the answer is refused: the OIDC
  nonce) and `ask_for_nonce(request, app)` (called on every app built).

`attribute_values` and `mapped_roles` below are the mapping rules both protocols share.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from accounts.models import Role, SsoConfiguration
from accounts.sso import oidc, saml
from advocacy.languages import clean_language

PROTOCOLS = {SsoConfiguration.Protocol.OIDC.value: oidc, SsoConfiguration.Protocol.SAML.value: saml}

# What each mapped attribute is read from when the admin names no claim or attribute.
DEFAULT_ATTRIBUTE_NAMES = {
    "email": "email",
    "name": "name",
    "team": "",
    "location": "",
    "roles": "",
    "language": "locale",  # OIDC's standard claim (a BCP 47 tag, "fr-FR")
}


def module_for(config: SsoConfiguration):
    return PROTOCOLS[config.protocol]


def organization_slug(provider: str | None, client_id: str | None) -> str | None:
    """The organization whose app an allauth lookup asks for, or None (not one of ours)."""
    for module in PROTOCOLS.values():
        slug = module.organization_slug(provider, client_id)
        if slug:
            return slug
    return None


def _first(value):
    if isinstance(value, list | tuple):
        return value[0] if value else ""
    return value


def _as_list(value) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]


def attribute_values(claims: dict, config: SsoConfiguration, *, raw: dict | None = None) -> dict:
    """email, name, team, location, language (strings) and roles (our role values) from the claims or
    attributes a provider sent, by the configuration's attribute and role mappings; `raw`: what
    the provider sent as received (default: `claims`)."""
    names = {**DEFAULT_ATTRIBUTE_NAMES, **{k: v for k, v in (config.attribute_mapping or {}).items() if v}}
    values = {
        key: str(_first(claims.get(names[key], "")) or "").strip() for key in ("email", "name", "team", "location")
    }
    values["email"] = values["email"].lower()
    values["language"] = clean_language(str(_first(claims.get(names["language"], "")) or "")[:35])
    provided = _as_list(claims.get(names["roles"])) if names["roles"] else []
    values["roles"] = mapped_roles(provided, config)
    values["raw"] = claims if raw is None else raw
    return values


def mapped_roles(provided: list[str], config: SsoConfiguration) -> list[str]:
    """Our roles for the provider's role or group values: those the role mapping names, else
    the configuration's default roles, else employee."""
    valid = {role.value for role in Role}
    mapping = config.role_mapping or {}
    roles = {mapping[value] for value in provided if mapping.get(value) in valid}
    if not roles:
        roles = {r for r in (config.default_roles or []) if r in valid} or {Role.EMPLOYEE.value}
    return [role.value for role in Role if role.value in roles]


def insecure_url(url: str) -> bool:
    """A provider URL that is not https, on a host SSO_HTTP_ISSUER_HOSTS does not name (make run,
    tests): its keys, certificate or sign-in page could be swapped on the way."""
    if not url:
        return False
    parts = urlsplit(url)
    return parts.scheme != "https" and parts.hostname not in settings.SSO_HTTP_ISSUER_HOSTS
