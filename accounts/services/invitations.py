"""Writes for identity and tenancy: one function per business action.

Each runs in a transaction, raises a domain error from `advocacy.errors` with words the
user understands, and enqueues follow-up work (e-mails, imports) only after commit.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
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
from django.utils.text import slugify

from accounts.models import (
    ApiToken,
    Invitation,
    InvitationImport,
    Membership,
    Organization,
    Role,
    SignupDomain,
    Team,
    User,
    validate_timezone,
)
from advocacy import audit, bearer_keys
from advocacy.errors import Conflict, NotAllowed, NotFound, ValidationFailed, conflict_on_duplicate
from advocacy.timezones import clean_browser_zone, zone_of_recipient

# --- organizations ------------------------------------------------------------------------


@transaction.atomic
def create_organization(*, name: str, creator: User, slug: str = "", timezone_name: str = "UTC") -> Organization:
    """Create a tenant and make its creator an admin (and employee) of it."""
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the organization a name.", fields={"name": ["Required."]})
    slug = slugify(slug or name)[:60]
    if not slug:
        raise ValidationFailed("The name needs at least one letter or digit.", fields={"name": ["Invalid."]})
    _check_timezone(timezone_name)
    with conflict_on_duplicate(
        f"The name {name} is taken (its address would be /o/{slug}/); choose another.", fields={"name": ["Taken."]}
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
    organization: Organization,
    name: str,
    timezone_name: str,
    self_signup_domains: Iterable[str],
    daily_share_cap: int | None = None,
    posting_hours_start=None,
    posting_hours_end=None,
) -> Organization:
    """Change the organization's name, time zone, self sign-up domains and sharing rules
    (a daily cap per employee, and the local hours posts may go out; both optional)."""
    if (posting_hours_start is None) != (posting_hours_end is None):
        raise ValidationFailed(
            "Give both the first and the last posting time, or neither.",
            fields={"posting_hours_end": ["Both or neither."]},
        )
    if posting_hours_start is not None and posting_hours_start == posting_hours_end:
        raise ValidationFailed(
            "The posting hours start and end at the same time.", fields={"posting_hours_end": ["Same as the start."]}
        )
    if daily_share_cap is not None and daily_share_cap < 1:
        raise ValidationFailed(
            "The daily cap is at least 1 share (leave it empty for no cap).",
            fields={"daily_share_cap": ["At least 1."]},
        )
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the organization a name.", fields={"name": ["Required."]})
    _check_timezone(timezone_name)
    from accounts.services.domains import clean_domains

    domains = clean_domains(list(self_signup_domains))
    fields = ["name", "timezone", "daily_share_cap", "posting_hours_start", "posting_hours_end"]
    before = {f: getattr(organization, f) for f in fields}
    organization.name = name
    organization.timezone = timezone_name
    organization.daily_share_cap = daily_share_cap
    organization.posting_hours_start = posting_hours_start
    organization.posting_hours_end = posting_hours_end
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
def update_profile(*, user: User, name: str, timezone_name: str, review_shortcuts: bool) -> User:
    """The person's own settings, the same in every organization: their name, their time
    zone ("" = follow the organization's) and whether the review queue's single-key
    shortcuts are on. Raises ValidationFailed for an unknown zone; nothing is saved then."""
    timezone_name = (timezone_name or "").strip()
    if timezone_name:
        _check_timezone(timezone_name)
    user.name = (name or "").strip()[:150]
    user.timezone = timezone_name
    user.review_shortcuts = review_shortcuts
    user.save(update_fields=["name", "timezone", "review_shortcuts"])
    return user


def switch_organization(*, user: User, organization: Organization) -> None:
    """Remember the organization the user works in, for the next login."""
    if user.last_organization_id != organization.pk:
        user.last_organization = organization
        user.save(update_fields=["last_organization"])


@transaction.atomic
def join_organizations_by_email_domain(*, user: User, email: str) -> list[Organization]:
    """Make a user with a *verified* address an employee of the org that proved it owns the
    address's domain (at most one: accounts.services.domains).

    Called by the allauth adapter once the address is confirmed; never for unverified ones.
    """
    domain = email.rsplit("@", 1)[-1].lower()
    allowing = (
        SignupDomain.objects.all_organizations()  # the verified domain picks the organizations
        .filter(domain=domain, verified_at__isnull=False)  # whose ownership was proven (services.domains)
        .select_related("organization")
    )
    joined = []
    for allowed in allowing:
        _, created = Membership.objects.for_org(allowed.organization).get_or_create(
            organization=allowed.organization, user=user, defaults={"is_employee": True}
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


# --- members and teams --------------------------------------------------------------------


def _parse_roles(roles: Iterable[str]) -> set[Role]:
    parsed = set()
    for raw in roles:
        value = str(raw).strip().lower()
        if not value:
            continue
        try:
            parsed.add(Role(value))
        except ValueError:
            names = ", ".join(r.value for r in Role)
            shown = value if isinstance(raw, str) else "that value"  # never a Python repr
            raise ValidationFailed(
                f"Unknown role “{shown[:40]}”; roles are {names}.", fields={"roles": ["Unknown role."]}
            ) from None
    if not parsed:
        raise ValidationFailed("Choose at least one role.", fields={"roles": ["Required."]})
    return parsed


def _teams_of_org(organization: Organization, teams: Iterable[Team | int]) -> list[Team]:
    ids = {t.pk if isinstance(t, Team) else int(t) for t in teams}
    found = list(Team.objects.for_org(organization).filter(pk__in=ids))
    if len(found) != len(ids):
        raise ValidationFailed("A chosen team does not exist.", fields={"teams": ["Unknown team."]})
    return found


def _admins_left_without(membership: Membership) -> int:
    return (
        Membership.objects.for_org(membership.organization_id)
        .filter(is_active=True, is_admin=True)
        .exclude(pk=membership.pk)
        .count()
    )


@transaction.atomic
def update_membership(
    *, membership: Membership, roles: Iterable[str], teams: Iterable[Team | int] | None = None
) -> Membership:
    """Set a member's roles (and teams when given). The last admin cannot drop the role."""
    wanted = _parse_roles(roles)
    membership = Membership.objects.for_org(membership.organization_id).select_for_update().get(pk=membership.pk)
    if membership.is_admin and Role.ADMIN not in wanted and _admins_left_without(membership) == 0:
        raise Conflict("An organization needs at least one admin; make someone else admin first.")
    before = {"roles": sorted(r.value for r in membership.roles)}
    after = {"roles": sorted(r.value for r in wanted)}
    membership.set_roles(wanted)
    membership.save()
    if teams is not None:
        new_teams = _teams_of_org(membership.organization, teams)
        before["teams"] = sorted(membership.teams.values_list("name", flat=True))
        after["teams"] = sorted(t.name for t in new_teams)
        membership.teams.set(new_teams)
    changed = [k for k in after if before[k] != after[k]]
    if changed:
        audit.record(
            "membership.roles_changed" if changed == ["roles"] else "membership.updated",
            organization_id=membership.organization_id,
            target=membership,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, by: User) -> Membership:
    """Take a member out of the organization (kept, inactive, for history)."""
    membership = Membership.objects.for_org(membership.organization_id).select_for_update().get(pk=membership.pk)
    if membership.is_admin and _admins_left_without(membership) == 0:
        raise Conflict("The last admin cannot be removed; make someone else admin first.")
    was_active = membership.is_active
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    revoked = (
        ApiToken.objects.for_org(membership.organization_id)
        .filter(user_id=membership.user_id, revoked_at__isnull=True)
        .update(revoked_at=timezone.now())
    )
    audit.record(
        "membership.removed",
        organization_id=membership.organization_id,
        target=membership,
        before={"is_active": was_active},
        after={"is_active": False, "api_tokens_revoked": revoked},
    )
    return membership


@transaction.atomic
def create_team(*, organization: Organization, name: str, kind: str = Team.Kind.DEPARTMENT) -> Team:
    """Create a department or location team; names are unique per kind."""
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the team a name.", fields={"name": ["Required."]})
    if kind not in Team.Kind.values:
        raise ValidationFailed("A team is a department or a location.", fields={"kind": ["Invalid."]})
    if Team.objects.for_org(organization).filter(kind=kind, name__iexact=name).exists():
        raise Conflict(f"There is already a {kind} called {name}.", fields={"name": ["Taken."]})
    team = Team.objects.create(organization=organization, name=name, kind=kind)
    audit.record("team.created", organization_id=organization.pk, target=team, after={"name": name, "kind": kind})
    return team


@transaction.atomic
def update_team(*, team: Team, name: str, kind: str) -> Team:
    """Rename a team or change its kind."""
    name = name.strip()
    if not name:
        raise ValidationFailed("Give the team a name.", fields={"name": ["Required."]})
    if kind not in Team.Kind.values:
        raise ValidationFailed("A team is a department or a location.", fields={"kind": ["Invalid."]})
    clash = Team.objects.for_org(team.organization_id).filter(kind=kind, name__iexact=name).exclude(pk=team.pk)
    if clash.exists():
        raise Conflict(f"There is already a {kind} called {name}.", fields={"name": ["Taken."]})
    before = {"name": team.name, "kind": team.kind}
    team.name, team.kind = name, kind
    team.save(update_fields=["name", "kind"])
    after = {"name": name, "kind": kind}
    if before != after:
        audit.record("team.updated", organization_id=team.organization_id, target=team, before=before, after=after)
    return team


@transaction.atomic
def delete_team(*, team: Team) -> None:
    """Delete a team; its members stay members."""
    audit.record(
        "team.deleted",
        organization_id=team.organization_id,
        target=team,
        before={"name": team.name, "kind": team.kind},
    )
    team.delete()


# --- invitations --------------------------------------------------------------------------


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clean_email(raw: str) -> str:
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(
            f"{raw!r} is not a valid e-mail address." if raw else "An e-mail address is required.",
            fields={"email": ["Invalid e-mail address."]},
        ) from None
    return email


@transaction.atomic
def invite_member(
    *,
    organization: Organization,
    invited_by: User | None,
    email: str,
    roles: Iterable[str] = (Role.EMPLOYEE,),
    teams: Iterable[Team | int] = (),
) -> Invitation:
    """Invite one person by e-mail; the e-mail goes out after commit.

    Raises ValidationFailed (bad address, role or team) or Conflict (already a member,
    already invited). Nothing is written when it raises.
    """
    email = _clean_email(email)
    wanted = _parse_roles(roles)
    team_rows = _teams_of_org(organization, teams)
    if Membership.objects.for_org(organization).filter(user__email__iexact=email, is_active=True).exists():
        raise Conflict(f"{email} is already a member.", fields={"email": ["Already a member."]})
    secret = secrets.token_urlsafe(32)
    # One pending invitation per address: the database constraint decides, also for two
    # admins inviting the same address at the same moment.
    with conflict_on_duplicate(
        f"{email} has a pending invitation already; resend it instead.", fields={"email": ["Already invited."]}
    ):
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            roles=sorted(r.value for r in wanted),
            token_hash=_hash(secret),
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
def resend_invitation(*, invitation: Invitation) -> Invitation:
    """Send a fresh link (the old one stops working) and extend the expiry."""
    invitation = Invitation.objects.for_org(invitation.organization_id).select_for_update().get(pk=invitation.pk)
    if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
        raise Conflict(f"This invitation was {invitation.get_status_display().lower()}; it cannot be resent.")
    secret = secrets.token_urlsafe(32)
    before = {"status": invitation.status, "expires_at": invitation.expires_at}
    invitation.token_hash = _hash(secret)
    invitation.status = Invitation.Status.PENDING
    invitation.expires_at = timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS)
    with conflict_on_duplicate(f"{invitation.email} has another pending invitation."):
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
def revoke_invitation(*, invitation: Invitation) -> Invitation:
    """Make a pending invitation's link stop working."""
    invitation = Invitation.objects.for_org(invitation.organization_id).select_for_update().get(pk=invitation.pk)
    if invitation.status != Invitation.Status.PENDING:
        raise Conflict(f"This invitation is already {invitation.get_status_display().lower()}.")
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


def invitation_by_token(token: str) -> Invitation:
    """The invitation a link's secret names; NotFound for an unknown secret."""
    invitation = (
        Invitation.objects.all_organizations()  # the secret is the proof; no org in the URL
        .select_related("organization", "invited_by")
        .filter(token_hash=_hash(token or ""))
        .first()
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid. Ask for a new one.")
    return invitation


@transaction.atomic
def accept_invitation(
    *, token: str, user: User | None = None, name: str = "", password: str = "", timezone_name: str = ""
) -> Membership:
    """Join the organization: link the signed-in user, or create the invited one (in
    `timezone_name`, the browser's zone; "" or an unknown zone: the organization's).

    A signed-in user must own the invited address. Without one, a new account is created
    with that address already verified (the e-mail link proved it); if an account with
    the address exists, its owner must sign in first. Double submits are safe.
    """
    found = invitation_by_token(token)
    invitation = Invitation.objects.for_org(found.organization_id).select_for_update().get(pk=found.pk)
    if invitation.status == Invitation.Status.ACCEPTED:
        raise Conflict("This invitation has already been accepted. Sign in to continue.")
    if not invitation.is_usable:
        raise Conflict("This invitation has expired or was withdrawn. Ask for a new one.")
    if user is not None:
        if user.email.lower() != invitation.email:
            raise NotAllowed(
                f"This invitation is for {invitation.email}, but you are signed in as {user.email}. "
                "Sign out and open the link again."
            )
    else:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise Conflict(f"An account for {invitation.email} exists already: sign in to accept.")
        try:
            validate_password(password, User(email=invitation.email, name=name))
        except DjangoValidationError as exc:
            raise ValidationFailed(" ".join(exc.messages), fields={"password": exc.messages}) from None
        user = User.objects.create_user(
            email=invitation.email, password=password, name=name.strip(), timezone=clean_browser_zone(timezone_name)
        )
    EmailAddress.objects.update_or_create(
        user=user, email=invitation.email, defaults={"verified": True, "primary": True}
    )
    membership, created = Membership.objects.for_org(invitation.organization).get_or_create(
        organization=invitation.organization, user=user
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
    user.save(update_fields=["last_organization"])
    return membership


@transaction.atomic
def expire_invitations() -> int:
    """Mark pending invitations past their expiry as expired; returns how many."""
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
    with zone_of_recipient(None, invitation.organization):  # no account yet: the organization's zone
        message = render_to_string("accounts/email/invitation.txt", context)
    send_mail(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}Join {invitation.organization.name}",
        message=message,
        from_email=None,
        recipient_list=[invitation.email],
    )


# --- bulk invitations from CSV ------------------------------------------------------------

CSV_COLUMNS = ("email", "name", "roles", "teams")


@dataclass
class CsvRow:
    line: int
    email: str
    roles: list[str]
    teams: list[str]


def _split_cell(value: str) -> list[str]:
    """A multi-valued cell: values separated by ';' or '|'."""
    return [part.strip() for part in value.replace("|", ";").split(";") if part.strip()]


def _parse_invitation_csv(csv_text: str) -> list[CsvRow]:
    """Check the file's shape up front; rows are judged one by one later."""
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in header:
        raise ValidationFailed(
            "The file needs a header row with an 'email' column (optional: roles, teams).",
            fields={"file": ["No email column."]},
        )
    reader.fieldnames = header
    rows = []
    for record in reader:
        cells = {key: (value.strip() if isinstance(value, str) else "") for key, value in record.items() if key}
        rows.append(
            CsvRow(
                line=reader.line_num,
                email=cells.get("email", ""),
                roles=_split_cell(cells.get("roles", "")) or [Role.EMPLOYEE],
                teams=_split_cell(cells.get("teams", "")),
            )
        )
    if not rows:
        raise ValidationFailed("The file has a header but no rows.", fields={"file": ["Empty."]})
    if len(rows) > settings.BULK_INVITE_MAX_ROWS:
        raise ValidationFailed(
            f"The file has {len(rows)} rows; split it into files of at most {settings.BULK_INVITE_MAX_ROWS}.",
            fields={"file": ["Too many rows."]},
        )
    return rows


@transaction.atomic
def start_invitation_import(
    *, organization: Organization, created_by: User, filename: str, data: bytes
) -> InvitationImport:
    """Check the CSV's shape now, then process its rows in a worker (after commit)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationFailed(
            "The file is not UTF-8 text. Save it from your spreadsheet as 'CSV UTF-8'.",
            fields={"file": ["Not UTF-8."]},
        ) from None
    rows = _parse_invitation_csv(text)
    job = InvitationImport.objects.create(
        organization=organization,
        created_by=created_by,
        filename=filename[:255],
        csv_text=text,
        total_rows=len(rows),
    )
    from accounts.tasks import run_invitation_import

    transaction.on_commit(lambda: run_invitation_import.delay(job.pk))
    return job


IMPORT_BATCH = 25


def run_invitation_import(*, import_id: int) -> InvitationImport:
    """Invite every good row; report every bad one, with its line and the reason.

    A bad row never stops the others and never leaves half an invitation (each row runs
    in its own savepoint). Rows are committed in batches together with the progress that
    counts them, so a worker killed mid-way and the redelivered task resume right after
    the last committed batch: no row is invited twice, none is skipped, and a finished
    import is left alone. An unexpected error marks the upload failed, in words, and is
    raised again for the logs.
    """
    with transaction.atomic():
        job = InvitationImport.objects.all_organizations().select_for_update().get(pk=import_id)
        if job.is_finished:
            return job
        if job.status == InvitationImport.Status.QUEUED:
            job.status = InvitationImport.Status.RUNNING
            job.save(update_fields=["status"])
    organization = Organization.objects.get(pk=job.organization_id)
    rows = _parse_invitation_csv(job.csv_text)
    teams_by_name = {t.name.lower(): t for t in Team.objects.for_org(organization)}
    scoped = InvitationImport.objects.for_org(organization)
    try:
        for start in range(job.processed_rows, len(rows), IMPORT_BATCH):
            with transaction.atomic():
                job = scoped.select_for_update().get(pk=import_id)
                if job.is_finished or job.processed_rows > start:
                    continue  # another delivery of this task got here first
                _import_batch(job, organization, rows, start, teams_by_name)
    except Exception:
        scoped.filter(pk=import_id).update(
            status=InvitationImport.Status.FAILED,
            finished_at=timezone.now(),
            error="The upload stopped because of an internal error. The rows counted above were "
            "processed; upload the remaining rows again, or tell your administrator.",
        )
        raise
    scoped.filter(pk=import_id, status=InvitationImport.Status.RUNNING).update(
        status=InvitationImport.Status.DONE, finished_at=timezone.now()
    )
    return scoped.get(pk=import_id)


def _import_batch(
    job: InvitationImport, organization: Organization, rows: list[CsvRow], start: int, teams_by_name: dict[str, Team]
) -> None:
    rejected = list(job.rejected_rows)
    rejected_lines = {r["line"] for r in rejected}
    # Addresses invited by earlier rows of this file (earlier batches included).
    seen = {row.email.strip().lower() for row in rows[:start] if row.line not in rejected_lines}
    invited = job.invited_count
    batch = rows[start : start + IMPORT_BATCH]
    for row in batch:
        try:
            email = _clean_email(row.email)
            if email in seen:
                raise ValidationFailed("The address appears earlier in the file.")
            unknown = [t for t in row.teams if t.lower() not in teams_by_name]
            if unknown:
                raise ValidationFailed(f"Unknown team: {', '.join(unknown)}. Create it first.")
            invite_member(
                organization=organization,
                invited_by=job.created_by,
                email=email,
                roles=row.roles,
                teams=[teams_by_name[t.lower()] for t in row.teams],
            )
            seen.add(email)
            invited += 1
        except (ValidationFailed, Conflict) as exc:
            rejected.append({"line": row.line, "email": row.email, "reason": exc.message})
    job.processed_rows = start + len(batch)
    job.invited_count = invited
    job.rejected_rows = rejected
    job.save(update_fields=["processed_rows", "invited_count", "rejected_rows"])


# --- API tokens ---------------------------------------------------------------------------


@transaction.atomic
def create_api_token(*, membership: Membership, name: str) -> tuple[ApiToken, str]:
    """Make a personal token for this user in this organization; returns (row, plain token).

    The plain token exists only in the return value: store it now, it is never shown again.
    """
    name = name.strip()
    if not name:
        raise ValidationFailed("Name the token after what will use it.", fields={"name": ["Required."]})
    prefix, plain = bearer_keys.new_key("adv")
    token = ApiToken.objects.create(
        organization_id=membership.organization_id,
        user_id=membership.user_id,
        name=name[:100],
        prefix=prefix,
        token_hash=_hash(plain),
    )
    audit.record(
        "api_token.created",
        organization_id=membership.organization_id,
        target=token,
        after={"name": token.name, "prefix": prefix, "user": membership.user_id},
    )
    return token, plain


@transaction.atomic
def revoke_api_token(*, token: ApiToken, reason: str = "") -> ApiToken:
    """Stop a token from working, at once (`reason` goes into the audit entry)."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit.record(
            "api_token.revoked",
            organization_id=token.organization_id,
            target=token,
            before={"revoked_at": None},
            after={
                "revoked_at": token.revoked_at,
                "name": token.name,
                "prefix": token.prefix,
                **({"reason": reason} if reason else {}),
            },
        )
    return token


@transaction.atomic
def revoke_api_tokens_after_password_change(*, user) -> int:
    """A new password (changed or reset) ends every API token of the user, in every org.

    Called by the allauth adapter's `set_password`, the one door both flows go through.
    """
    tokens = list(
        ApiToken.objects.all_organizations()  # the user's tokens, whatever their organization
        .select_for_update()
        .filter(user_id=user.pk, revoked_at__isnull=True)
    )
    for token in tokens:
        revoke_api_token(token=token, reason="password changed")
    return len(tokens)


def authenticate_api_token(plain: str) -> ApiToken | None:
    """The active token whose secret is `plain`, with its user and organization; else None."""
    rows = ApiToken.objects.all_organizations().select_related("user", "organization")  # the secret decides the org
    token = bearer_keys.find_key(rows, "adv", plain)
    return token if token is not None and token.user.is_active else None
