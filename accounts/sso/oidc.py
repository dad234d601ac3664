"""OpenID Connect through allauth's `openid_connect` provider: one app per organization,
provider id "org-<slug>" (URLs /accounts/oidc/org-<slug>/login/ and .../login/callback/).

allauth checks the state, sends the PKCE challenge (SOCIALACCOUNT_PROVIDERS) and verifies the
ID token's issuer, audience and expiry when it decodes it; the nonce is sent through the app's
`auth_params` and checked by the adapter (`accounts.sso.adapter`)."""

from __future__ import annotations

import secrets

from allauth.socialaccount.models import SocialApp
from django.utils.translation import gettext as _

from accounts.models import SsoConfiguration

PROVIDER = "openid_connect"
PREFIX = "org-"


def provider_id(organization_slug: str) -> str:
    return f"{PREFIX}{organization_slug}"


def organization_slug(provider: str | None, client_id: str | None) -> str | None:
    if provider and provider.startswith(PREFIX):
        return provider.removeprefix(PREFIX)
    return None


def social_app(config: SsoConfiguration) -> SocialApp:
    """The organization's allauth app, unsaved, with its secret decrypted."""
    return SocialApp(
        provider=PROVIDER,
        provider_id=provider_id(config.organization.slug),
        name=config.organization.name,
        client_id=config.oidc_client_id,
        secret=config.oidc_client_secret,
        settings={
            "server_url": config.oidc_issuer,
            # The claims come from the ID token, whose issuer, audience, expiry and nonce are
            # checked; the userinfo endpoint adds nothing that is checked.
            "fetch_userinfo": False,
            "oauth_pkce_enabled": True,
        },
    )


def claims_of(sociallogin) -> dict:
    """The ID token's claims as allauth decoded them (and the userinfo answer, if fetched)."""
    data = sociallogin.account.extra_data or {}
    return {**(data.get("id_token") or {}), **(data.get("userinfo") or {})}


def mapped_attributes(sociallogin, config: SsoConfiguration) -> dict:
    from accounts.sso import attribute_values

    return attribute_values(claims_of(sociallogin), config)


# --- nonce ----------------------------------------------------------------------------------
# allauth 65.21.1 neither sends nor checks an OpenID Connect nonce. The app built for a request
# that starts a sign-in (a POST: allauth's login view, the e-mail step, the test sign-in) asks
# the provider for a fresh one (the app's `auth_params`), remembered in the session; the
# adapter's pre_social_login, which receives the ID token as allauth decoded and checked it,
# refuses a token whose nonce this session did not ask for, and forgets it (one use).

NONCES_SESSION_KEY = "sso_oidc_nonces"
NONCES_KEPT = 5  # sign-ins started in other tabs of the same session


def ask_for_nonce(request, app: SocialApp) -> None:
    """On a request that may start a sign-in, make `app` send a nonce this session remembers."""
    if request is None or request.method != "POST" or not hasattr(request, "session"):
        return
    started = getattr(request, "_sso_nonces", None)
    if started is None:
        started = request._sso_nonces = {}
    if app.provider_id not in started:
        nonce = secrets.token_urlsafe(32)
        started[app.provider_id] = nonce
        nonces = request.session.get(NONCES_SESSION_KEY, {})
        nonces[app.provider_id] = [*nonces.get(app.provider_id, [])[-(NONCES_KEPT - 1) :], nonce]
        request.session[NONCES_SESSION_KEY] = nonces
    app.settings["auth_params"] = {"nonce": started[app.provider_id]}


def email_is_verified(claims: dict) -> bool:
    """The provider vouches that the person owns the address it sent (`email_verified`, a
    boolean, though some providers send the string "true"). Without it anybody who can type an
    address into the provider's directory could take over the account that owns it here."""
    verified = claims.get("email_verified")
    return verified is True or (isinstance(verified, str) and verified.strip().lower() == "true")


def verify(request, sociallogin) -> str | None:
    """Why the ID token may not be used, or None: its nonce was not asked for by this session,
    or the provider does not say the address was verified. A nonce that matches is forgotten:
    a token replayed later is refused."""
    claims = (sociallogin.account.extra_data or {}).get("id_token") or {}
    nonce = claims.get("nonce")
    nonces = request.session.get(NONCES_SESSION_KEY, {})
    expected = nonces.get(sociallogin.account.provider, [])
    if not nonce or nonce not in expected:
        return _("The answer of your company's sign-in does not belong to this sign-in (its nonce does not match).")
    expected.remove(nonce)
    request.session[NONCES_SESSION_KEY] = nonces
    if not email_is_verified(claims_of(sociallogin)):
        return _(
            "Your company's sign-in did not confirm that your e-mail address is verified "
            "(email_verified), so we cannot sign you in with it. Ask your administrator."
        )
    return None


def provider_lookup(config: SsoConfiguration) -> tuple[str, str | None]:
    """What allauth's get_provider is asked for this organization's app."""
    return provider_id(config.organization.slug), None


def is_complete(config: SsoConfiguration) -> bool:
    return bool(config.oidc_issuer and config.oidc_client_id and config.oidc_client_secret)
