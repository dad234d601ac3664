"""The allauth seam: what happens in our domain when allauth confirms an address."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.utils.translation import ngettext

from accounts import services


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUPS

    def confirm_email(self, request, email_address):
        """After allauth marks the address verified, join orgs that allow its domain."""
        confirmed = super().confirm_email(request, email_address)
        services.join_organizations_by_email_domain(user=email_address.user, email=email_address.email)
        return confirmed

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Failed logins count per account AND source address (the "key" of ACCOUNT_RATE_LIMITS'
        login_failed), so wrong passwords from one address do not lock the account elsewhere;
        the per-IP part of the rate still bounds each address. Overrides allauth 65's key."""
        return f"{super()._get_login_attempts_cache_key(request, **credentials)}:{self.get_client_ip(request)}"

    def set_password(self, user, password) -> None:
        """Password change and password reset both land here: revoke the API tokens too."""
        super().set_password(user, password)
        revoked = services.revoke_api_tokens_after_password_change(user=user)
        request = getattr(self, "request", None)
        if revoked and request is not None:
            messages.warning(
                request,
                ngettext(
                    "Your password changed, so your API token was revoked; create a new one if you need it.",
                    "Your password changed, so your %(count)d API tokens were revoked; create new ones as needed.",
                    revoked,
                )
                % {"count": revoked},
            )
