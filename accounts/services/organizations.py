"""Writes for the organization (the tenant): create it, change its settings, join by e-mail domain."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.models import (
    Membership,
    Organization,
    Provisioning,
    SignupDomain,
    User,
    validate_timezone,
)
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import ValidationFailed, conflict_on_duplicate
from advocacy.languages import CODES


@transaction.atomic
def create_organization(*, name: str, creator: User, slug: str = "", timezone_name: str = "UTC") -> Organization:
    """Create a tenant and make its creator an admin (and employee) of it.

    No `actor`: any signed-in person may create an organization, and there is no
    membership to act as until this creates one (the creator is the actor)."""
    name = name.strip()
    if not name:
        raise ValidationFailed(_("Give the organization a name."), fields={"name": [_("Required.")]})
    slug = slugify(slug or name)[:60]
    if not slug:
        raise ValidationFailed(_("The name needs at least one letter or digit."), fields={"name": [_("Invalid.")]})
    _check_timezone(timezone_name)
    with conflict_on_duplicate(
        _("The name %(name)s is taken (its address would be /o/%(slug)s/); choose another.")
        % {"name": name, "slug": slug},
        fields={"name": [_("Taken.")]},
    ):
        org = Organization.objects.create(name=name, slug=slug, timezone=timezone_name)
    membership = Membership.objects.create(organization=org, user=creator, is_employee=True, is_admin=True)
    audit.record(
        "organization.created",
        organization_id=org.pk,
        target=org,
        after={"name": org.name, "slug": org.slug, "timezone": org.timezone},
    )
    audit.record(
        "membership.created",
        organization_id=org.pk,
        target=membership,
        after={"user": creator.email, "roles": sorted(r.value for r in membership.roles)},
    )
    return org


@transaction.atomic
def update_organization_settings(
    *,
    actor: Membership,
    name: str,
    timezone_name: str,
    self_signup_domains: Iterable[str],
    daily_share_cap: int | None = None,
    posting_hours_start=None,
    posting_hours_end=None,
    default_language: str | None = None,
) -> Organization:
    """Change the organization's name, time zone, default language (None leaves it), self
    sign-up domains and sharing rules (a daily cap per employee, and the local hours posts
    may go out; both optional)."""
    require(actor, Permission.ORG_SETTINGS)
    organization = actor.organization
    if (posting_hours_start is None) != (posting_hours_end is None):
        raise ValidationFailed(
            _("Give both the first and the last posting time, or neither."),
            fields={"posting_hours_end": [_("Both or neither.")]},
        )
    if posting_hours_start is not None and posting_hours_start == posting_hours_end:
        raise ValidationFailed(
            _("The posting hours start and end at the same time."),
            fields={"posting_hours_end": [_("Same as the start.")]},
        )
    if daily_share_cap is not None and daily_share_cap < 1:
        raise ValidationFailed(
            _("The daily cap is at least 1 share (leave it empty for no cap)."),
            fields={"daily_share_cap": [_("At least 1.")]},
        )
    name = name.strip()
    if not name:
        raise ValidationFailed(_("Give the organization a name."), fields={"name": [_("Required.")]})
    _check_timezone(timezone_name)
    from accounts.services.domains import clean_domains

    domains = clean_domains(list(self_signup_domains))
    fields = ["name", "timezone", "daily_share_cap", "posting_hours_start", "posting_hours_end"]
    if default_language is not None:
        if default_language not in CODES:
            raise ValidationFailed(
                _("Pick the organization's language from the list."),
                fields={"default_language": [_("Not a language we offer.")]},
            )
        fields.append("default_language")
    before = {f: getattr(organization, f) for f in fields}
    organization.name = name
    organization.timezone = timezone_name
    organization.daily_share_cap = daily_share_cap
    organization.posting_hours_start = posting_hours_start
    organization.posting_hours_end = posting_hours_end
    if default_language is not None:
        organization.default_language = default_language
    organization.save(update_fields=fields)
    after = {f: getattr(organization, f) for f in fields}
    changed = [f for f in fields if before[f] != after[f]]
    if changed:
        audit.record(
            "organization.settings_changed",
            organization_id=organization.pk,
            target=organization,
            before={f: before[f] for f in changed},
            after={f: after[f] for f in changed},
        )
    current = SignupDomain.objects.for_org(organization)
    existing = set(current.values_list("domain", flat=True))
    current.exclude(domain__in=domains).delete()
    SignupDomain.objects.bulk_create(
        SignupDomain(organization=organization, domain=d) for d in domains if d not in existing
    )
    if existing != set(domains):
        audit.record(
            "organization.signup_domains_changed",
            organization_id=organization.pk,
            target=organization,
            before={"self_signup_domains": sorted(existing)},
            after={"self_signup_domains": domains},
        )
    return organization


def _check_timezone(name: str) -> None:
    try:
        validate_timezone(name)
    except DjangoValidationError as exc:
        raise ValidationFailed(exc.messages[0], fields={"timezone": exc.messages}) from None


@transaction.atomic
def join_organizations_by_email_domain(*, user: User, email: str) -> list[Organization]:
    """Make a user with a *verified* address an employee of the org that proved it owns the
    address's domain (at most one: accounts.services.domains).

    System operation: called by the allauth adapter once the address is confirmed (the
    verified domain decides, no member acts); never for unverified ones.
    """
    domain = email.rsplit("@", 1)[-1].lower()
    allowing = (
        SignupDomain.objects.all_organizations()  # the verified domain picks the organizations
        .filter(domain=domain, verified_at__isnull=False)  # whose ownership was proven (services.domains)
        .select_related("organization")
    )
    joined = []
    for allowed in allowing:
        _membership, created = Membership.objects.for_org(allowed.organization).get_or_create(
            organization=allowed.organization,
            user=user,
            defaults={"is_employee": True, "provisioned_via": Provisioning.DOMAIN},
        )
        if created:
            joined.append(allowed.organization)
            audit.record(
                "membership.joined_by_domain",
                organization_id=allowed.organization_id,
                target_type="accounts.membership",
                target_id=_membership_pk(allowed.organization_id, user),
                after={"user": user.email, "roles": ["employee"], "domain": domain},
            )
    return joined


def _membership_pk(organization_id: int, user: User) -> int:
    return Membership.objects.for_org(organization_id).values_list("pk", flat=True).get(user=user)
