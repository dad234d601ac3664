"""Single sign-on per organization (issue 20), on django-allauth's own providers.

PROTOCOLS maps SsoConfiguration.protocol to its module; each module provides
`social_app(config) -> SocialApp` (an unsaved app built from the configuration at request
time) and `mapped_attributes(sociallogin, config) -> dict` (email, name, team, location,
roles, raw).
"""

from accounts.sso import saml

PROTOCOLS = {"saml": saml}
