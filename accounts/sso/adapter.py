"""allauth's social-account seam for single sign-on per organization (accounts/sso/).

* Apps: none in the database. `list_apps` answers a lookup that names one organization
  ("org-<slug>" for OIDC, client id "<slug>" for SAML) with an unsaved app built from its
  SsoConfiguration; any other lookup finds nothing, so no page lists every tenant's provider.
* `pre_social_login`: the protocol's own checks (the OIDC nonce), then either a "test sign-in"
  (the admin's session asked for one: keep the mapped attributes, sign nobody in, back to the
  SSO settings page) or a sign-in: just-in-time provisioning (accounts.services.sso), the
  provider account linked to the user, and the session's lifetime set by the organization.
* Providers are reached over a session that talks to public addresses only (accounts.sso.http).
* Errors (a refused ID token, a provider that said no) come back to the sign-in page, or to the
  SSO settings page during a test, in words, with nothing changed.
"""

from __future__ import annotations

import requests
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter, get_adapter
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts import sso
from accounts.models import Membership
from accounts.permissions import Permission, can
from accounts.services import sso as sso_services
from accounts.sso import selectors, sessions
from accounts.sso.http import ProviderRefused, guard

TEST_SESSION_KEY = "sso_test_sign_in"


def start_test(request, config) -> None:
    """Mark this admin's session: the next sign-in through `config`'s provider is a test."""
    request.session[TEST_SESSION_KEY] = {"org": config.organization.slug, "user": request.user.pk}


def _testing(request, config) -> bool:
    """True when this session's admin asked for a test of this organization's provider (once)."""
    marker = request.session.get(TEST_SESSION_KEY) or {}
    if marker.get("org") != config.organization.slug or marker.get("user") != request.user.pk:
        return False
    del request.session[TEST_SESSION_KEY]
    membership = Membership.objects.for_org(config.organization).filter(user_id=request.user.pk).first()
    return can(membership, Permission.ORG_SETTINGS)


def start_sign_in(request, config, next_url: str | None = None, *, back: str = "account_login"):
    """The redirect to `config`'s provider that starts a sign-in (from a POST: the OIDC nonce is
    asked for there); back to `back` with words when the provider cannot be reached."""
    provider, client_id = sso.module_for(config).provider_lookup(config)
    try:
        provider = get_adapter(request).get_provider(request, provider, client_id=client_id)
        return provider.redirect(request, process="login", next_url=next_url)
    except ProviderRefused as refused:
        messages.error(
            request,
            _("%(organization)s's sign-in provider cannot be used: %(refused)s")
            % {"organization": config.organization.name, "refused": refused},
        )
        return redirect(back)
    except (requests.RequestException, sso.saml.InvalidIdentityProvider):
        messages.error(request, unreachable(config))
        return redirect(back)


def unreachable(config) -> str:
    return _("%(organization)s's sign-in provider cannot be reached. Try again later, or ask your administrator.") % {
        "organization": config.organization.name
    }


def _id_token_problem(exception) -> str:
    """Why allauth refused the ID token, when PyJWT said (allauth raises "Invalid id_token" from it)."""
    import jwt

    cause = getattr(exception, "__cause__", None)
    if isinstance(cause, jwt.ExpiredSignatureError):
        return " " + _("(the ID token has expired)")
    if isinstance(cause, jwt.InvalidAudienceError):
        return " " + _("(the ID token was issued for another application: wrong audience)")
    if isinstance(cause, jwt.InvalidIssuerError):
        return " " + _("(the ID token names another issuer)")
    return ""


def settings_url(config) -> str:
    return reverse("sso_settings", kwargs={"org_slug": config.organization.slug})


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request, sociallogin) -> bool:
        # Provisioning is pre_social_login's; allauth's own sign-up form is never reached.
        return False

    def list_apps(self, request, provider=None, client_id=None):
        slug = sso.organization_slug(provider, client_id)
        config = selectors.configuration_for_slug(slug) if slug else None
        if config is None or config.protocol not in sso.PROTOCOLS:
            return []
        module = sso.module_for(config)
        if module.organization_slug(provider, client_id) != slug:
            return []  # the other protocol's URL: this organization does not use it
        try:
            app = module.social_app(config)
        except sso.saml.InvalidIdentityProvider:  # its metadata URL is down, nothing kept
            if request is None:
                return []
            messages.error(request, unreachable(config))
            raise ImmediateHttpResponse(redirect("account_login")) from None
        app.sso_configuration = config
        if hasattr(module, "ask_for_nonce"):
            module.ask_for_nonce(request, app)
        return [app]

    def get_requests_session(self):
        return guard(super().get_requests_session())

    def pre_social_login(self, request, sociallogin) -> None:
        config = self._configuration(sociallogin)
        module = sso.module_for(config)
        testing = _testing(request, config)
        problem = module.verify(request, sociallogin) if hasattr(module, "verify") else None
        if problem:
            self._refuse(request, config, problem, testing=testing)
        attributes = module.mapped_attributes(sociallogin, config)
        if testing:
            config = sso_services.record_test_sign_in(config=config, attributes=attributes)
            if config.test_result["ok"]:
                messages.success(request, _("Test sign-in worked: check the attributes it mapped below."))
            else:
                messages.error(request, _("Test sign-in: %(problem)s") % {"problem": config.test_result["problem"]})
            raise ImmediateHttpResponse(redirect(settings_url(config)))
        if not config.is_enabled:
            self._refuse(
                request,
                config,
                _("Single sign-on is not turned on for %(organization)s yet.")
                % {"organization": config.organization.name},
            )
        linked = sociallogin.user if sociallogin.is_existing else None
        try:
            user = sso_services.provision_sso_member(config=config, attributes=attributes, linked_user=linked)
        except sso_services.SsoRefused as refused:
            self._refuse(request, config, refused.message)
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)
        sessions.note_sign_in(request, config)  # written into the session once logged in

    def on_authentication_error(self, request, provider, error=None, exception=None, extra_context=None) -> None:
        """A provider that said no, or an ID token allauth refused (issuer, audience, expiry,
        signature): back with words instead of allauth's bare error page."""
        app = getattr(provider, "app", None)
        config = getattr(app, "sso_configuration", None)
        if config is None:
            return
        reason = _("you cancelled it") if error == "cancelled" else _("its answer could not be verified")
        reason += _id_token_problem(exception)
        problem = _("The sign-in through %(organization)s's provider failed: %(reason)s.") % {
            "organization": config.organization.name,
            "reason": reason,
        }
        # SAML: python3-saml's reason (wrong audience, expired, unsigned, replayed...), for IT.
        detail = (extra_context or {}).get("saml_last_error_reason")
        if detail:
            problem += " " + _("Details for your IT team: %(detail)s") % {"detail": detail}
        self._refuse(request, config, problem, testing=_testing(request, config))

    def _configuration(self, sociallogin):
        app = sociallogin.provider.app
        config = getattr(app, "sso_configuration", None)
        if config is None:  # not one of ours: nothing signs in through it
            raise ImmediateHttpResponse(redirect("account_login"))
        return config

    def _refuse(self, request, config, problem: str, *, testing: bool = False):
        messages.error(request, problem)
        if testing:
            sso_services.record_test_sign_in(config=config, attributes={}, problem=problem)
            raise ImmediateHttpResponse(redirect(settings_url(config)))
        raise ImmediateHttpResponse(redirect("account_login"))
