"""The allauth seam: what happens in our domain when allauth confirms an address."""

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from accounts import services


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return settings.ACCOUNT_ALLOW_SIGNUPS

    def confirm_email(self, request, email_address):
        """After allauth marks the address verified, join orgs that allow its domain."""
        confirmed = super().confirm_email(request, email_address)
        services.join_organizations_by_email_domain(user=email_address.user, email=email_address.email)
        return confirmed
