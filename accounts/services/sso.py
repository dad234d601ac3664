"""Single sign-on writes: the organization's configuration (by its admin), a "test sign-in"
result, and just-in-time provisioning of the person a provider signed in.

Provisioning rules (`provision_sso_member`):
* The provider speaks for the organization only about addresses in a domain the organization
  proved it owns (a verified SignupDomain, accounts.services.domains): anything else is
  refused, so an organization's provider can never sign in somebody else's user.
* An existing user with that address is linked, never duplicated; a new one is created with a
  verified address and no password, and becomes a member with the mapped team and location
  (teams created when missing) and the mapped roles (role mapping, else default roles, else
  employee). Roles and teams of an existing membership are left as the admin set them.
* A suspended membership is refused.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Membership, Provisioning, Role, SignupDomain, SsoConfiguration, Team, User
from accounts.permissions import Permission, require
from accounts.sso import DEFAULT_ATTRIBUTE_NAMES, insecure_url, saml
from accounts.sso.selectors import domain_of
from advocacy import audit
from advocacy.errors import NotAllowed, ValidationFailed

# Fields an admin edits through `save_sso_configuration` (the secret apart: write-only).
EDITABLE_FIELDS = [
    "protocol",
    "is_enabled",
    "sso_required",
    "session_minutes",
    "attribute_mapping",
    "role_mapping",
    "default_roles",
    "oidc_issuer",
    "oidc_client_id",
    *saml.IDP_FIELDS,
    "saml_allow_idp_initiated",
]
# A change to any of these (or to the secret, or to the claims of e-mail and roles) makes the last
# test sign-in say nothing about the new provider.
PROVIDER_FIELDS = ["protocol", "oidc_issuer", "oidc_client_id", *saml.IDP_FIELDS]
SECRET_FIELDS = ["oidc_client_secret"]


# URLs that must be https (but for the local hosts SSO_HTTP_ISSUER_HOSTS names), and why.
HTTPS_FIELDS = {
    "oidc_issuer": gettext_lazy(
        "The issuer URL must start with https:// (the provider's keys and tokens travel over it)."
    ),
    "saml_metadata_url": gettext_lazy(
        "The SAML metadata URL must start with https:// (the IdP's certificate comes from it)."
    ),
    "saml_idp_sso_url": gettext_lazy("The SAML single sign-on URL must start with https:// (people sign in there)."),
}


class SsoRefused(NotAllowed):
    """A sign-in through the organization's provider that may not go on; `message` says why."""

    code = "sso_refused"


def refusal_for(config: SsoConfiguration, attributes: dict) -> str | None:
    """Why `provision_sso_member` would refuse these mapped attributes, or None."""
    org, email = config.organization, attributes.get("email") or ""
    if "@" not in email:
        return _("Your company's sign-in did not send an e-mail address, so we cannot tell who you are.")
    if not SignupDomain.objects.for_org(org).filter(domain=domain_of(email), verified_at__isnull=False).exists():
        return _(
            "%(organization)s has not verified the domain of %(email)s, so its sign-in cannot sign you in with it. "
            "Ask your administrator."
        ) % {"organization": org.name, "email": email}
    suspended = Membership.objects.for_org(org).filter(user__email__iexact=email, is_active=False).exists()
    if suspended:
        return _("Your access to %(organization)s is suspended. Ask your administrator.") % {"organization": org.name}
    return None


def provision_sso_member(*, config: SsoConfiguration, attributes: dict, linked_user: User | None = None) -> User:
    """The user a sign-in through `config`'s provider stands for, provisioned just in time (see
    the module's rules). `linked_user`: the user this provider account was linked to before,
    which must still be the address's owner. Raises SsoRefused, writing nothing.

    Two first sign-ins of the same person (or two new people of one new team) at once: the
    second to insert meets the first's row (IntegrityError; a row lock cannot guard a row that
    does not exist yet), its savepoint is rolled back and it looks again, finding that row."""
    try:
        return _provision(config=config, attributes=attributes, linked_user=linked_user)
    except IntegrityError:
        return _provision(config=config, attributes=attributes, linked_user=linked_user)


@transaction.atomic
def _provision(*, config: SsoConfiguration, attributes: dict, linked_user: User | None) -> User:
    problem = refusal_for(config, attributes)
    if problem:
        raise SsoRefused(problem)
    org, email = config.organization, attributes["email"]
    user = User.objects.select_for_update().filter(email__iexact=email).first()
    if linked_user is not None and (user is None or user.pk != linked_user.pk):
        raise SsoRefused(
            _("This company account was linked to another address than %(email)s. Ask your administrator.")
            % {"email": email}
        )
    with audit.acting_as(user=user, label=email):
        if user is None:
            name, language = attributes.get("name", "")[:150], attributes.get("language", "")
            user = User.objects.create_user(email=email, password=None, name=name, language=language)
        elif not user.language and attributes.get("language"):  # the provider's, for one who has none
            user.language = attributes["language"]
            user.save(update_fields=["language"])
        address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
        if address is None:
            EmailAddress.objects.create(
                user=user, email=email, verified=True, primary=not EmailAddress.objects.filter(user=user).exists()
            )
        elif not address.verified:
            address.verified = True
            address.save(update_fields=["verified"])
        membership = Membership.objects.for_org(org).filter(user=user).first()
        if membership is None:
            _create_membership(org=org, user=user, attributes=attributes)
    return user


def _create_membership(*, org, user: User, attributes: dict) -> Membership:
    membership = Membership(organization=org, user=user, provisioned_via=Provisioning.SSO)
    membership.set_roles(attributes.get("roles") or [Role.EMPLOYEE])
    membership.save()
    teams = [
        _team(org, name, kind)
        for name, kind in (
            (attributes.get("team"), Team.Kind.DEPARTMENT),
            (attributes.get("location"), Team.Kind.LOCATION),
        )
        if name
    ]
    membership.teams.set(teams)
    audit.record(
        "sso.member_provisioned",
        organization_id=org.pk,
        target=membership,
        after={
            "user": user.email,
            "roles": sorted(r.value for r in membership.roles),
            "teams": [team.name for team in teams],
        },
    )
    return membership


def _team(org, name: str, kind: str) -> Team:
    team, created = Team.objects.for_org(org).get_or_create(organization=org, kind=kind, name=name[:120])
    if created:
        audit.record("team.created", organization_id=org.pk, target=team, after={"name": team.name, "kind": kind})
    return team


@transaction.atomic
def record_test_sign_in(*, config: SsoConfiguration, attributes: dict, problem: str = "") -> SsoConfiguration:
    """Keep what the provider sent in a "test sign-in" and how it maps, for the admin to read
    before enforcing (or `problem`: why the provider's answer was refused). Nobody is signed in
    or provisioned."""
    config = SsoConfiguration.objects.for_org(config.organization_id).select_for_update().get(pk=config.pk)
    problem = problem or refusal_for(config, attributes)
    config.tested_at = timezone.now()
    config.test_result = {
        "ok": problem is None,
        "problem": problem or "",
        **{key: attributes.get(key) for key in ("email", "name", "team", "location", "roles")},
        "raw": {
            k: v for k, v in (attributes.get("raw") or {}).items() if isinstance(v, str | int | float | bool | list)
        },
    }
    config.save(update_fields=["tested_at", "test_result", "updated_at"])
    audit.record(
        "sso.tested",
        organization_id=config.organization_id,
        target=config,
        after={"ok": problem is None, "email": attributes.get("email", ""), "problem": problem or ""},
    )
    return config


@transaction.atomic
def save_sso_configuration(
    *, actor: Membership, fields: dict, secrets: dict | None = None, break_glass: list[Membership] | None = None
) -> SsoConfiguration:
    """Create or change the organization's single sign-on. `fields`: values of EDITABLE_FIELDS;
    `secrets`: new values of SECRET_FIELDS (an empty one keeps the stored secret);
    `break_glass`: the admins who keep their password when SSO is required.

    Refuses (ValidationFailed, nothing changed): a provider that is incomplete while enabled,
    and "SSO required" unless SSO is enabled, the last test sign-in of this provider succeeded
    and at least one active admin is named break-glass, so that nobody is locked out."""
    require(actor, Permission.ORG_SETTINGS)
    org = actor.organization
    config = SsoConfiguration.objects.for_org(org).select_for_update().first()
    created = config is None
    if created:
        config = SsoConfiguration(organization=org, protocol=fields.get("protocol") or SsoConfiguration.Protocol.OIDC)
    before = _snapshot(config) if not created else {}
    old_break_glass = set() if created else set(config.break_glass.values_list("pk", flat=True))
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise ValueError(f"{name} is not an editable SSO field")
        setattr(config, name, value)
    changed_secrets = sorted(name for name, value in (secrets or {}).items() if value)
    for name in changed_secrets:
        setattr(config, name, secrets[name])
    if not created and (_provider_changed(before, config) or changed_secrets):
        config.tested_at, config.test_result = None, {}
    members = list(break_glass) if break_glass is not None else None
    if members is not None:
        foreign = [m for m in members if m.organization_id != org.pk or not m.is_active or not m.is_admin]
        if foreign:
            raise ValidationFailed(_("Break-glass accounts must be active admins of this organization."),
                                   fields={"break_glass": [_("Choose active admins.")]})  # fmt: skip
    # The stored list is checked again: an admin named then demoted or suspended no longer counts.
    stored = [] if created else [m for m in config.break_glass.all() if m.is_active and m.is_admin]
    _check(config, members if members is not None else stored)
    config.save()
    if members is not None:
        config.break_glass.set(members)
    after = _snapshot(config)
    new_break_glass = set(config.break_glass.values_list("pk", flat=True))
    sessions_ended = 0
    if config.sso_required and not before.get("sso_required"):
        # Sessions started with a password end now (User._get_session_auth_hash), but the
        # break-glass admins'; the members sign in again through the provider.
        bound = Membership.objects.for_org(org).filter(is_active=True).exclude(pk__in=new_break_glass)
        sessions_ended = User.objects.filter(pk__in=bound.values("user_id")).update(
            session_generation=F("session_generation") + 1
        )
    changes = {k: v for k, v in after.items() if before.get(k) != v}
    if changes or changed_secrets or new_break_glass != old_break_glass:
        audit.record(
            "sso.configured",
            organization_id=org.pk,
            target=config,
            before={k: before.get(k) for k in changes},
            after={
                **changes,
                "secrets_replaced": changed_secrets,
                **({"sessions_ended": sessions_ended} if sessions_ended else {}),
                "break_glass": sorted(
                    Membership.objects.for_org(org).filter(pk__in=new_break_glass).values_list("user__email", flat=True)
                ),
            },
        )
    return config


# Mapped attributes whose change could lock everybody out (nobody found, nobody admin).
LOCKOUT_ATTRIBUTES = ("email", "roles")


def _provider_changed(before: dict, config: SsoConfiguration) -> bool:
    """The last test sign-in says nothing about the provider now configured."""
    if any(before.get(f) != getattr(config, f) for f in PROVIDER_FIELDS):
        return True
    old, new = before.get("attribute_mapping") or {}, config.attribute_mapping or {}
    return any(
        (old.get(key) or DEFAULT_ATTRIBUTE_NAMES[key]) != (new.get(key) or DEFAULT_ATTRIBUTE_NAMES[key])
        for key in LOCKOUT_ATTRIBUTES
    )


def _snapshot(config: SsoConfiguration) -> dict:
    return {name: getattr(config, name) for name in EDITABLE_FIELDS}


def _check(config: SsoConfiguration, break_glass: list[Membership]) -> None:
    if config.protocol == SsoConfiguration.Protocol.OIDC and config.is_enabled:
        missing = [
            label
            for label, value in (
                ("issuer", config.oidc_issuer),
                ("client id", config.oidc_client_id),
                ("client secret", config.oidc_client_secret),
            )
            if not value
        ]
        if missing:
            raise ValidationFailed(
                _("To turn single sign-on on, fill in the provider's %(missing)s.") % {"missing": ", ".join(missing)},
                fields={"is_enabled": [_("Provider incomplete.")]},
            )
    if config.protocol == SsoConfiguration.Protocol.SAML and config.is_enabled and not saml.is_complete(config):
        raise ValidationFailed(
            _(
                "To turn single sign-on on, give your identity provider's SAML metadata (its URL or the XML), or its "
                "entity id, single sign-on URL and signing certificate."
            ),
            fields={"is_enabled": [_("Provider incomplete.")]},
        )
    for name, why in HTTPS_FIELDS.items():
        if insecure_url(getattr(config, name)):
            raise ValidationFailed(str(why), fields={name: [_("Use https.")]})
    valid_roles = {role.value for role in Role}
    bad = sorted({str(v) for v in (config.role_mapping or {}).values() if v not in valid_roles})
    bad += sorted({str(v) for v in (config.default_roles or []) if v not in valid_roles})
    if bad:
        raise ValidationFailed(
            _("Not a role here: %(bad)s. Roles are %(roles)s.")
            % {"bad": ", ".join(bad), "roles": ", ".join(sorted(valid_roles))},
            fields={"role_mapping": [_("Unknown role.")]},
        )
    if config.session_minutes is not None and not 5 <= config.session_minutes <= 60 * 24 * 30:
        raise ValidationFailed(
            _("A session lasts between 5 minutes and 30 days (43200 minutes)."),
            fields={"session_minutes": [_("Out of range.")]},
        )
    if config.sso_required:
        if not config.is_enabled:
            raise ValidationFailed(
                _("Turn single sign-on on before you require it."), fields={"sso_required": [_("SSO is off.")]}
            )
        if not (config.test_result or {}).get("ok"):
            raise ValidationFailed(
                _(
                    "Run a test sign-in that succeeds with this provider before you require single sign-on: "
                    "otherwise a wrong setting would lock everybody out."
                ),
                fields={"sso_required": [_("No successful test sign-in.")]},
            )
        if not break_glass:
            raise ValidationFailed(
                _("Name at least one break-glass admin who keeps a password, in case the provider fails."),
                fields={"break_glass": [_("Required when SSO is required.")]},
            )
