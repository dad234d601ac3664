"""Self sign-up domains: an organization proves it owns an e-mail domain before anyone who
verifies an address there joins it by themselves.

* A domain is added unverified, with a random token. The admin publishes the TXT record
  `_advocacy-verification.<domain>` = `advocacy-verification=<token>` and presses Verify;
  `verify_signup_domain` looks it up (integrations.dns, the resolver named by
  DNS_NAMESERVERS or the machine's) and marks the domain verified.
* One organization at a time: a database constraint lets a domain be verified in one
  organization only; a second one is told so.
* Free-mail domains (gmail.com, outlook.com, ...) are refused: nobody owns them for a company.
* Only verified domains enrol anybody (`accounts.services.join_organizations_by_email_domain`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, SignupDomain
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import Conflict, NotFound, ValidationFailed
from integrations.dns import DnsClient, DnsUnavailable

TXT_PREFIX = "_advocacy-verification"
TXT_VALUE = "advocacy-verification={token}"

# Mailbox providers anyone can sign up at: never a company's domain.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.fr", "hotmail.co.uk", "live.com",
        "live.fr", "msn.com", "yahoo.com", "yahoo.fr", "yahoo.co.uk", "ymail.com", "aol.com", "icloud.com",
        "me.com", "mac.com", "proton.me", "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de",
        "mail.com", "mail.ru", "yandex.ru", "yandex.com", "zoho.com", "qq.com", "163.com", "126.com",
        "orange.fr", "free.fr", "laposte.net", "sfr.fr", "wanadoo.fr", "t-online.de", "libero.it",
        "tutanota.com", "fastmail.com", "hey.com",
    }
)  # fmt: skip


def txt_name(domain: str) -> str:
    return f"{TXT_PREFIX}.{domain}"


def txt_value(signup_domain: SignupDomain) -> str:
    return TXT_VALUE.format(token=signup_domain.verification_token)


def clean_domains(raw: list[str]) -> list[str]:
    """The domains as stored (lower case, no @), or ValidationFailed naming the bad ones."""
    domains = sorted({d.strip().lower().lstrip("@").rstrip(".") for d in raw if d.strip()})
    bad = [d for d in domains if "." not in d or " " in d or "@" in d]
    if bad:
        raise ValidationFailed(
            _("Not an e-mail domain: %(bad)s. Write domains like example.com.") % {"bad": ", ".join(bad)},
            fields={"self_signup_domains": [_("Invalid domain.")]},
        )
    free = [d for d in domains if d in FREE_MAIL_DOMAINS]
    if free:
        raise ValidationFailed(
            _(
                "%(free)s is a public mailbox provider: anyone can have an address there, so it cannot let people "
                "join by themselves. Use your company's own domain."
            )
            % {"free": ", ".join(free)},
            fields={"self_signup_domains": [_("Public mailbox provider.")]},
        )
    return domains


def dns_client() -> DnsClient:
    return DnsClient(nameservers=settings.DNS_NAMESERVERS or None, timeout=settings.DNS_TIMEOUT)


def verify_signup_domain(*, actor: Membership, signup_domain_id: int) -> SignupDomain:
    """Look for the domain's TXT record and mark it verified. Raises NotFound (not this
    organization's), ValidationFailed (no such record yet, or the DNS did not answer),
    Conflict (another organization verified it first). The DNS is asked outside any
    transaction; nothing is written unless the record is there."""
    require(actor, Permission.ORG_SETTINGS)
    organization = actor.organization
    signup_domain = SignupDomain.objects.for_org(organization).filter(pk=signup_domain_id).first()
    if signup_domain is None:
        raise NotFound(_("No such domain."))
    if signup_domain.verified_at is not None:
        return signup_domain
    name, expected = txt_name(signup_domain.domain), txt_value(signup_domain)
    try:
        found = dns_client().txt_records(name)
    except DnsUnavailable as exc:
        raise ValidationFailed(
            _("%(message)s Nothing was changed; try again in a few minutes.") % {"message": exc.message}
        ) from None
    if expected not in found:
        raise ValidationFailed(
            _(
                "We did not find the TXT record %(name)s with the value %(expected)s yet. DNS changes can take up to "
                "an hour to show; try again later."
            )
            % {"name": name, "expected": expected}
        )
    try:
        with transaction.atomic():
            row = SignupDomain.objects.for_org(organization).select_for_update().get(pk=signup_domain.pk)
            if row.verified_at is None:
                row.verified_at = timezone.now()
                row.save(update_fields=["verified_at"])
                audit.record(
                    "organization.signup_domain_verified",
                    organization_id=organization.pk,
                    target=organization,
                    after={"domain": row.domain, "txt": name},
                )
    except IntegrityError:
        raise Conflict(
            _("%(domain)s is already verified by another organization. If it is yours, contact support.")
            % {"domain": signup_domain.domain}
        ) from None
    return row
