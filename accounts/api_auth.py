"""DRF authentication for personal API tokens (`Authorization: Bearer adv_...`)."""

from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from accounts import selectors
from advocacy.bearer_keys import BearerKeyAuthentication


class PersonalTokenAuthentication(BearerKeyAuthentication):
    kind = "adv"
    what = gettext_lazy("API token")

    def resolve(self, plain: str):
        token = selectors.authenticate_api_token(plain)
        return None if token is None else (token.user, token)


class PersonalTokenScheme(OpenApiAuthenticationExtension):
    target_class = PersonalTokenAuthentication
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (`adv_...`), bound to one user and one organization.",
        }
