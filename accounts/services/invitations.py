"""Writes for invitations: invite, resend, revoke, accept, expire.

Each runs in a transaction, raises a domain error from `advocacy.errors` with words the
user understands, and sends the e-mail only after commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import selectors
from accounts.crypto import secret_hash
from accounts.models import (
    Invitation,
    Membership,
    Organization,
    Provisioning,
    Role,
    Team,
    User,
)
from accounts.permissions import Permission, require
from accounts.services.members import _parse_roles, _teams_of_org
from advocacy import audit
from advocacy.errors import Conflict, NotAllowed, ValidationFailed, conflict_on_duplicate
from advocacy.languages import clean_language, for_recipient
from advocacy.timezones import clean_browser_zone


def _clean_email(raw: str) -> str:
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(
            _("%(address)s is not a valid e-mail address.") % {"address": repr(raw)}
            if raw
            else _("An e-mail address is required."),
            fields={"email": [_("Invalid e-mail address.")]},
        ) from None
    return email


def invite_member(
    *,
    actor: Membership,
    email: str,
    roles: Iterable[str] = (Role.EMPLOYEE,),
    teams: Iterable[Team | int] = (),
) -> Invitation:
    """Invite one person by e-mail to the actor's organization; the e-mail goes out after commit.

    Raises ValidationFailed (bad address, role or team) or Conflict (already a member,
    already invited). Nothing is written when it raises.
    """
    require(actor, Permission.MEMBERS_MANAGE)
    return send_invitation(
        organization=actor.organization, invited_by=actor.user, email=email, roles=roles, teams=teams
    )


@transaction.atomic
def send_invitation(
    *,
    organization: Organization,
    invited_by: User | None,
    email: str,
    roles: Iterable[str] = (Role.EMPLOYEE,),
    teams: Iterable[Team | int] = (),
) -> Invitation:
    """System operation: invite one person on behalf of `invited_by`, whose right to invite
    was checked earlier (a CSV import's rows, checked when the admin uploaded the file).
    People go through `invite_member`."""
    email = _clean_email(email)
    wanted = _parse_roles(roles)
    team_rows = _teams_of_org(organization, teams)
    if Membership.objects.for_org(organization).filter(user__email__iexact=email, is_active=True).exists():
        raise Conflict(
            _("%(email)s is already a member.") % {"email": email}, fields={"email": [_("Already a member.")]}
        )
    secret = secrets.token_urlsafe(32)
    # One pending invitation per address: the database constraint decides, also for two
    # admins inviting the same address at the same moment.
    with conflict_on_duplicate(
        _("%(email)s has a pending invitation already; resend it instead.") % {"email": email},
        fields={"email": [_("Already invited.")]},
    ):
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            roles=sorted(r.value for r in wanted),
            token_hash=secret_hash(secret),
            invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
        )
    if team_rows:
        invitation.teams.set(team_rows)
    audit.record(
        "invitation.sent",
        organization_id=organization.pk,
        target=invitation,
        after={"email": email, "roles": invitation.roles, "teams": sorted(t.name for t in team_rows)},
    )
    transaction.on_commit(lambda: _send_invitation_email(invitation.pk, secret))
    return invitation


@transaction.atomic
def resend_invitation(*, actor: Membership, invitation: Invitation) -> Invitation:
    """Send a fresh link (the old one stops working) and extend the expiry."""
    require(actor, Permission.MEMBERS_MANAGE)
    invitation = Invitation.objects.for_org(actor.organization_id).select_for_update().get(pk=invitation.pk)
    if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
        raise Conflict(
            _("This invitation was %(status)s; it cannot be resent.")
            % {"status": invitation.get_status_display().lower()}
        )
    secret = secrets.token_urlsafe(32)
    before = {"status": invitation.status, "expires_at": invitation.expires_at}
    invitation.token_hash = secret_hash(secret)
    invitation.status = Invitation.Status.PENDING
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)
    with conflict_on_duplicate(_("%(email)s has another pending invitation.") % {"email": invitation.email}):
        invitation.save(update_fields=["token_hash", "status", "expires_at"])
    audit.record(
        "invitation.resent",
        organization_id=invitation.organization_id,
        target=invitation,
        before=before,
        after={"status": invitation.status, "expires_at": invitation.expires_at, "email": invitation.email},
    )
    transaction.on_commit(lambda: _send_invitation_email(invitation.pk, secret))
    return invitation


@transaction.atomic
def revoke_invitation(*, actor: Membership, invitation: Invitation) -> Invitation:
    """Make a pending invitation's link stop working."""
    require(actor, Permission.MEMBERS_MANAGE)
    invitation = Invitation.objects.for_org(actor.organization_id).select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise Conflict(
            _("This invitation is already %(status)s.") % {"status": invitation.get_status_display().lower()}
        )
    invitation.status = Invitation.Status.REVOKED
    invitation.save(update_fields=["status"])
    audit.record(
        "invitation.revoked",
        organization_id=invitation.organization_id,
        target=invitation,
        before={"status": Invitation.Status.PENDING},
        after={"status": Invitation.Status.REVOKED, "email": invitation.email},
    )
    return invitation


@transaction.atomic
def accept_invitation(
    *,
    token: str,
    user: User | None = None,
    name: str = "",
    password: str = "",
    timezone_name: str = "",
    language: str = "",
) -> Membership:
    """Join the organization: link the signed-in user, or create the invited one (in
    `timezone_name`, the browser's zone; "" or an unknown zone: the organization's). A person
    without a language of their own gets `language` (the browser's, when we ship it).

    No `actor`: the person is not a member yet; the link's secret is the proof.
    A signed-in user must own the invited address. Without one, a new account is created
    with that address already verified (the e-mail link proved it); if an account with
    the address exists, its owner must sign in first. Double submits are safe.
    """
    found = selectors.invitation_by_token(token)
    invitation = Invitation.objects.for_org(found.organization_id).select_for_update().get(pk=found.pk)
    if invitation.status == Invitation.Status.ACCEPTED:
        raise Conflict(_("This invitation has already been accepted. Sign in to continue."))
    if not invitation.is_usable:
        raise Conflict(_("This invitation has expired or was withdrawn. Ask for a new one."))
    if user is not None:
        if user.email.lower() != invitation.email:
            raise NotAllowed(
                _(
                    "This invitation is for %(email)s, but you are signed in as %(signed_in)s. Sign out and open the "
                    "link again."
                )
                % {"email": invitation.email, "signed_in": user.email}
            )
    else:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise Conflict(
                _("An account for %(email)s exists already: sign in to accept.") % {"email": invitation.email}
            )
        try:
            validate_password(password, User(email=invitation.email, name=name))
        except DjangoValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), fields={"password": exc.messages}) from None
        user = User.objects.create_user(
            email=invitation.email,
            password=password,
            name=name.strip(),
            timezone=clean_browser_zone(timezone_name),
            language=clean_language(language),
        )
    EmailAddress.objects.update_or_create(
        user=user, email=invitation.email, defaults={"verified": True, "primary": True}
    )
    membership, created = Membership.objects.for_org(invitation.organization).get_or_create(
        organization=invitation.organization, user=user, defaults={"provisioned_via": Provisioning.INVITATION}
    )
    # A current member keeps the roles they have and gains the invited ones.
    kept = membership.roles if (membership.is_active and not created) else frozenset()
    roles_before = (
        None if created else {"roles": sorted(r.value for r in membership.roles), "is_active": membership.is_active}
    )
    membership.set_roles(set(kept) | set(invitation.roles))
    membership.is_active = True
    membership.save()
    membership.teams.add(*invitation.teams.all())
    invitation.status = Invitation.Status.ACCEPTED
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["status", "accepted_at", "accepted_by"])
    audit.record(
        "invitation.accepted",
        organization_id=invitation.organization_id,
        target=invitation,
        before={"status": Invitation.Status.PENDING, **({"membership": roles_before} if roles_before else {})},
        after={
            "status": Invitation.Status.ACCEPTED,
            "user": user.email,
            "membership": membership.pk,
            "roles": sorted(r.value for r in membership.roles),
        },
        actor=audit.Actor(user_id=user.pk, label=user.email, ip=audit.current_actor().ip),
    )
    user.last_organization = invitation.organization
    changed = ["last_organization"]
    if not user.language and clean_language(language):
        user.language = clean_language(language)
        changed.append("language")
    user.save(update_fields=changed)
    return membership


@transaction.atomic
def expire_invitations() -> int:
    """System operation (beat): mark pending invitations past their expiry as expired; returns how many."""
    due = (
        Invitation.objects.all_organizations()  # housekeeping across tenants, by design
        .select_for_update()
        .filter(status=Invitation.Status.PENDING, expires_at__lte=timezone.now())
    )
    rows = list(due.values_list("pk", "organization_id", "email"))
    expired = (
        Invitation.objects.all_organizations()
        .filter(pk__in=[pk for pk, _, _ in rows])
        .update(status=Invitation.Status.EXPIRED)
    )
    for pk, organization_id, email in rows:
        audit.record(
            "invitation.expired",
            organization_id=organization_id,
            target_type="accounts.invitation",
            target_id=pk,
            before={"status": Invitation.Status.PENDING},
            after={"status": Invitation.Status.EXPIRED, "email": email},
        )
    return expired


def _send_invitation_email(invitation_id: int, secret: str) -> None:
    invitation = (
        Invitation.objects.all_organizations().select_related("organization", "invited_by").get(pk=invitation_id)
    )
    context = {
        "invitation": invitation,
        "organization": invitation.organization,
        "url": settings.SITE_URL + reverse("invitation_accept", kwargs={"token": secret}),
    }
    with for_recipient(None, invitation.organization):  # no account yet: the organization's zone and language
        message = render_to_string("accounts/email/invitation.txt", context)
        subject = _("Join %(organization)s") % {"organization": invitation.organization.name}
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        message=message,
        from_email=None,
        recipient_list=[invitation.email],
    )
