"""allauth's SocialAccountAdapter for per-organization apps: no SocialApp rows, the app is
built from the organization's SsoConfiguration when a request needs it."""

from __future__ import annotations

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter

from accounts.models import Organization, SsoConfiguration
from accounts.sso import PROTOCOLS


def _configuration(slug: str) -> SsoConfiguration | None:
    organization = Organization.objects.filter(slug=slug).first()
    if organization is None:
        return None
    return SsoConfiguration.objects.for_org(organization).select_related("organization").first()


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        # Only one organization's app at a time: never list every tenant's provider.
        slug = client_id
        if slug is None and provider and provider.startswith("saml-"):
            slug = provider.removeprefix("saml-")
        if not slug:
            return []
        config = _configuration(slug)
        if config is None or config.protocol not in PROTOCOLS:
            return []
        app = PROTOCOLS[config.protocol].social_app(config)
        if provider and provider not in (app.provider, app.provider_id):
            return []
        return [app]
