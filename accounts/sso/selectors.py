"""Reads for single sign-on: which organization an e-mail address signs in with, and whether
a password may be used for it."""

from __future__ import annotations

from django.db.models import Q

from accounts.models import Membership, SignupDomain, SsoConfiguration, User


def domain_of(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


def configuration_of(organization) -> SsoConfiguration | None:
    return SsoConfiguration.objects.for_org(organization).select_related("organization").first()


def configuration_for_slug(slug: str) -> SsoConfiguration | None:
    """The configuration an allauth app lookup names (by the organization's slug)."""
    return (
        SsoConfiguration.objects.all_organizations()  # the slug in the URL picks the organization
        .select_related("organization")
        .filter(organization__slug=slug)
        .first()
    )


def configuration_for_email(email: str) -> SsoConfiguration | None:
    """The configuration of the organization that proved it owns the address's domain (one at
    most: a domain is verified by one organization only, accounts.services.domains), if any."""
    domain = domain_of(email)
    if not domain:
        return None
    verified = SignupDomain.objects.all_organizations().filter(domain=domain, verified_at__isnull=False)
    return (
        SsoConfiguration.objects.all_organizations()  # the verified domain picks the organization
        .select_related("organization")
        .filter(organization_id__in=verified.values("organization_id"))
        .first()
    )


def is_break_glass(config: SsoConfiguration, email: str) -> bool:
    """The address's owner is named break-glass and is still an active admin (an admin named
    then demoted or suspended keeps no password)."""
    return config.break_glass.filter(user__email__iexact=email, is_active=True, is_admin=True).exists()


def password_refused_by(email: str) -> SsoConfiguration | None:
    """The SSO-required configuration that takes the password away from this address, or None.

    An address is bound by the organization that owns its domain, and by every organization
    it is an active member of; the break-glass admins an organization names keep theirs there."""
    email = email.strip()
    if not email:
        return None
    required = SsoConfiguration.objects.all_organizations().filter(is_enabled=True, sso_required=True)
    user = User.objects.filter(email__iexact=email).first()
    member_of = Membership.objects.all_organizations().filter(user=user, is_active=True).values("organization_id")
    domain = domain_of(email)
    owned = SignupDomain.objects.all_organizations().filter(domain=domain, verified_at__isnull=False)
    binding = Q(organization_id__in=member_of) | Q(organization_id__in=owned.values("organization_id"))
    for config in required.filter(binding):
        if user is None or not is_break_glass(config, email):
            return config
    return None
