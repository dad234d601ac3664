"""Writes for SCIM provisioning: the organization's directory creates, changes and removes
members (users) and teams (groups); the admin manages the directory's tokens and maps groups to
roles. Every write is audited; `by` names the directory's token ("scim:<token name>").

Guarantees: a person is one User whatever the organizations (a first push of a known e-mail links
the existing account, and an existing membership, never duplicates); deprovisioning suspends
(`accounts.services.suspension`) and keeps every record; each call runs a fixed number of queries
whatever the organization's size (group member changes are set operations, not loops).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Provisioning, Role, ScimGroup, ScimToken, ScimUser, Team, User
from accounts.permissions import Permission, require
from accounts.scim.errors import ScimError, VersionMismatch
from accounts.scim.patch import apply_patch, member_changes
from accounts.scim.resources import GroupFields, UserFields, group_fields, group_resource, user_fields, user_resource
from accounts.services.suspension import reactivate_membership, suspend_membership
from advocacy import audit, bearer_keys
from advocacy.errors import Conflict, ValidationFailed
from advocacy.languages import clean_language

MemberTeams = Membership.teams.through


# --- tokens (the admin) --------------------------------------------------------------------------


@transaction.atomic
def create_scim_token(*, actor: Membership, name: str) -> tuple[ScimToken, str]:
    """A token for the organization's directory; returns (row, plain token), shown this once."""
    require(actor, Permission.ORG_SETTINGS)
    token, plain = bearer_keys.issue_key(
        ScimToken,
        "scim",
        name=name,
        unnamed="Name the token after the directory that will use it.",
        organization_id=actor.organization_id,
        created_by_id=actor.user_id,
    )
    audit.record(
        "scim.token_created",
        organization_id=actor.organization_id,
        target=token,
        after={"name": token.name, "prefix": token.prefix},
    )
    return token, plain


@transaction.atomic
def revoke_scim_token(*, actor: Membership, token: ScimToken) -> ScimToken:
    """Stop a directory token at once. Another organization's token: ScimToken.DoesNotExist."""
    require(actor, Permission.ORG_SETTINGS)
    token = ScimToken.objects.for_org(actor.organization_id).select_for_update().get(pk=token.pk)
    if bearer_keys.revoke_key(token):
        audit.record(
            "scim.token_revoked",
            organization_id=token.organization_id,
            target=token,
            before={"revoked_at": None},
            after={"revoked_at": token.revoked_at, "name": token.name, "prefix": token.prefix},
        )
    return token


# --- users ---------------------------------------------------------------------------------------


def _check_version(row, version: int | None) -> None:
    if version is not None and version != row.version:
        raise VersionMismatch(
            _("The resource changed since version %(version)s; it is at version %(current)s.")
            % {"version": version, "current": row.version}
        )


def _save_unique(row, user_name: str) -> None:
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise Conflict(
            _("Another user of this organization has the userName %(user_name)s.") % {"user_name": user_name},
            code="uniqueness",
        ) from None


def _user_name_taken(organization_id: int, user_name: str, but: int | None = None) -> bool:
    rows = ScimUser.objects.for_org(organization_id).filter(user_name__iexact=user_name, deleted_at__isnull=True)
    return rows.exclude(pk=but).exists() if but else rows.exists()


def _write_user_fields(scim_user: ScimUser, fields: UserFields) -> None:
    scim_user.user_name = fields.user_name
    scim_user.external_id = fields.external_id
    scim_user.display_name = fields.display_name
    scim_user.email = fields.email
    scim_user.department = fields.department
    scim_user.location = fields.location
    scim_user.document = fields.document
    scim_user.updated_at = timezone.now()


def _write_language(user: User, fields: UserFields) -> None:
    """The directory's preferredLanguage becomes the person's language (when it names one;
    one we do not ship, or "", makes them follow the organization's default)."""
    if fields.language is not None and user.language != fields.language:
        user.language = fields.language
        user.save(update_fields=["language"])


def _move_teams(membership: Membership, before: tuple[str, str], after: tuple[str, str]) -> None:
    """Leave the previous department / location team, join the new one (made when missing)."""
    for kind, old, new in zip((Team.Kind.DEPARTMENT, Team.Kind.LOCATION), before, after, strict=True):
        if old.lower() == new.lower():
            continue
        if old:
            leaving = Team.objects.for_org(membership.organization_id).filter(kind=kind, name__iexact=old)
            MemberTeams.objects.filter(membership_id=membership.pk, team__in=leaving).delete()
        if new:
            team = Team.objects.for_org(membership.organization_id).filter(kind=kind, name__iexact=new).first()
            if team is None:
                team, _created = Team.objects.for_org(membership.organization_id).get_or_create(
                    organization_id=membership.organization_id, kind=kind, name=new
                )
            MemberTeams.objects.bulk_create(
                [MemberTeams(membership_id=membership.pk, team_id=team.pk)], ignore_conflicts=True
            )


def _set_active(membership: Membership, active: bool, by: str) -> Membership:
    if active and not membership.is_active:
        return reactivate_membership(membership=membership, by=by)
    if not active and membership.is_active:
        return suspend_membership(membership=membership, by=by, reason="deactivated in the directory")
    return membership


@transaction.atomic
def provision_scim_user(*, organization, by: str, document: dict) -> ScimUser:
    """Create the person's membership from a directory's User (or link the account and the
    membership that the e-mail already has). Conflict (uniqueness) when the organization's
    directory already has this userName, or already provisioned this person."""
    fields = user_fields(document)
    if _user_name_taken(organization.pk, fields.user_name):
        raise Conflict(
            _("A user with the userName %(user_name)s already exists.") % {"user_name": fields.user_name},
            code="uniqueness",
        )
    # Unordered: ".first()" would order by id, and the planner would walk every user in id order.
    user = next(iter(User.objects.filter(email__iexact=fields.email)[:1]), None)
    if user is None:
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email=fields.email, password=None, name=fields.display_name[:150], language=fields.language or ""
                )
        except IntegrityError:  # created by a concurrent push: link it
            user = User.objects.get(email__iexact=fields.email)
    _write_language(user, fields)
    membership = Membership.objects.for_org(organization).select_related("scim").filter(user=user).first()
    action, scim_user = "scim.user_linked", getattr(membership, "scim", None)
    if membership is None:
        action = "scim.user_created"
        membership = Membership.objects.create(
            organization=organization, user=user, provisioned_via=Provisioning.SCIM, provisioned_at=timezone.now()
        )
    before = ("", "")
    if scim_user is None:
        scim_user = ScimUser(organization=organization, membership=membership)
    elif scim_user.deleted_at is None:
        raise Conflict(
            _("%(email)s is already provisioned, as userName %(user_name)s.")
            % {"email": fields.email, "user_name": scim_user.user_name},
            code="uniqueness",
        )
    else:  # deleted earlier in the directory, pushed again: the same membership comes back
        before = (scim_user.department, scim_user.location)
        scim_user.deleted_at = None
        scim_user.version += 1
        scim_user.created_at = timezone.now()
    _write_user_fields(scim_user, fields)
    scim_user.membership = membership
    _save_unique(scim_user, fields.user_name)
    _move_teams(membership, before, (fields.department, fields.location))
    scim_user.membership = _set_active(membership, fields.active, by)
    audit.record(
        action,
        organization_id=organization.pk,
        target=membership,
        after={"by": by, "userName": fields.user_name, "externalId": fields.external_id, "email": fields.email},
    )
    return scim_user


def _locked_user(scim_user: ScimUser, version: int | None) -> ScimUser:
    """The row again, locked, at the version If-Match named (else VersionMismatch)."""
    scim_user = (
        ScimUser.objects.for_org(scim_user.organization_id)
        .select_for_update(of=("self",))
        .select_related("membership")
        .get(pk=scim_user.pk, deleted_at__isnull=True)
    )
    _check_version(scim_user, version)
    return scim_user


def _update_user(scim_user: ScimUser, fields: UserFields, by: str) -> ScimUser:
    if fields.user_name.lower() != scim_user.user_name.lower() and _user_name_taken(
        scim_user.organization_id, fields.user_name, but=scim_user.pk
    ):
        raise Conflict(
            _("Another user of this organization has the userName %(user_name)s.") % {"user_name": fields.user_name},
            code="uniqueness",
        )
    compared = ("user_name", "external_id", "display_name", "email", "department", "location", "document")
    before = {name: getattr(scim_user, name) for name in compared}
    teams_before = (scim_user.department, scim_user.location)
    # Written when the directory's preferredLanguage changed: a PATCH of another attribute does
    # not take back what the person chose in their profile since.
    language_before = clean_language(str((scim_user.document or {}).get("preferredLanguage") or ""))
    language_changed = fields.language is not None and fields.language != language_before
    _write_user_fields(scim_user, fields)
    if language_changed:
        _write_language(User.objects.get(pk=scim_user.membership.user_id), fields)
    scim_user.version += 1
    _save_unique(scim_user, fields.user_name)
    _move_teams(scim_user.membership, teams_before, (fields.department, fields.location))
    was_active = scim_user.membership.is_active
    scim_user.membership = _set_active(scim_user.membership, fields.active, by)
    changed = sorted(name for name in compared if before[name] != getattr(scim_user, name))
    audit.record(
        "scim.user_updated",
        organization_id=scim_user.organization_id,
        target=scim_user.membership,
        before={name: before[name] for name in changed if name != "document"} | {"active": was_active},
        after={"by": by, "changed": changed, "active": fields.active},
    )
    return scim_user


@transaction.atomic
def replace_scim_user(*, scim_user: ScimUser, by: str, document: dict, version: int | None = None) -> ScimUser:
    """PUT: the directory's whole User replaces ours (VersionMismatch when If-Match is stale)."""
    scim_user = _locked_user(scim_user, version)
    return _update_user(scim_user, user_fields(document), by)


@transaction.atomic
def patch_scim_user(*, scim_user: ScimUser, by: str, body: dict, version: int | None = None) -> ScimUser:
    """PATCH: the operations applied to the current User, then saved like a PUT."""
    scim_user = _locked_user(scim_user, version)
    document = apply_patch(user_resource(scim_user, ""), body)
    return _update_user(scim_user, user_fields(document), by)


@transaction.atomic
def delete_scim_user(*, scim_user: ScimUser, by: str, version: int | None = None) -> ScimUser:
    """DELETE: suspend the membership and forget it for SCIM (404 from now on); every record is
    kept, and a later push of the same person brings the same membership back."""
    scim_user = _locked_user(scim_user, version)
    suspend_membership(membership=scim_user.membership, by=by, reason="deleted in the directory")
    scim_user.deleted_at = scim_user.updated_at = timezone.now()
    scim_user.version += 1
    scim_user.save(update_fields=["deleted_at", "updated_at", "version"])
    audit.record(
        "scim.user_deleted",
        organization_id=scim_user.organization_id,
        target=scim_user.membership,
        after={"by": by, "userName": scim_user.user_name},
    )
    return scim_user


# --- groups --------------------------------------------------------------------------------------


def _role_columns(roles: Iterable[str], value: bool) -> dict[str, bool]:
    return {f"is_{Role(role).value}": value for role in roles}


def _grant_roles(organization_id: int, membership_ids: set[int], roles: list[str]) -> None:
    if membership_ids and roles:
        Membership.objects.for_org(organization_id).filter(pk__in=membership_ids).update(**_role_columns(roles, True))


def _revoke_roles(organization_id: int, membership_ids: set[int], roles: list[str]) -> None:
    """Take away the group's roles from members who left it, unless another group grants them."""
    if not membership_ids:
        return
    for role in roles:
        (
            Membership.objects.for_org(organization_id)
            .filter(pk__in=membership_ids)
            .exclude(teams__scim_group__roles__contains=[role])
            .update(**_role_columns([role], False))
        )


def group_member_ids(team_id: int) -> set[int]:
    """The team's members that the directory knows (live SCIM users)."""
    return set(
        MemberTeams.objects.filter(
            team_id=team_id, membership__scim__isnull=False, membership__scim__deleted_at__isnull=True
        ).values_list("membership_id", flat=True)
    )


def _member_ids(values) -> set[int]:
    try:
        return {int(str(v).strip()) for v in values}
    except ValueError:
        raise ScimError(_("A member's value is the id of a user."), scim_type="invalidValue") from None


def _change_members(group: ScimGroup, add: set[int], remove: set[int]) -> tuple[set[int], set[int]]:
    """Add and remove these members (ids of SCIM users); (added, removed) as they really changed.
    Queries depend on neither the group's size nor how many change."""
    if add:
        known = set(
            ScimUser.objects.for_org(group.organization_id)
            .filter(membership_id__in=add, deleted_at__isnull=True)
            .values_list("membership_id", flat=True)
        )
        if unknown := add - known:
            raise ScimError(_("No user has the id %(id)s.") % {"id": min(unknown)}, scim_type="invalidValue")
        present = set(
            MemberTeams.objects.filter(team_id=group.team_id, membership_id__in=add).values_list(
                "membership_id", flat=True
            )
        )
        add = add - present
        MemberTeams.objects.bulk_create(
            [MemberTeams(membership_id=pk, team_id=group.team_id) for pk in sorted(add)], ignore_conflicts=True
        )
        _grant_roles(group.organization_id, add, group.roles)
    if remove:
        leaving = MemberTeams.objects.filter(
            team_id=group.team_id, membership_id__in=remove, membership__scim__deleted_at__isnull=True
        )
        remove = set(leaving.values_list("membership_id", flat=True))
        MemberTeams.objects.filter(team_id=group.team_id, membership_id__in=remove).delete()
        _revoke_roles(group.organization_id, remove, group.roles)
    return add, remove


def _set_members(group: ScimGroup, wanted: list[int]) -> tuple[set[int], set[int]]:
    """Make the group's SCIM members exactly `wanted`; (added, removed). Members the directory
    does not know (added by an admin) stay."""
    current = group_member_ids(group.team_id)
    return _change_members(group, set(wanted) - current, current - set(wanted))


@transaction.atomic
def create_scim_group(*, organization, by: str, document: dict) -> ScimGroup:
    """A directory group becomes a team (an existing team of that name is taken over)."""
    fields = group_fields(document)
    team = (
        Team.objects.for_org(organization)
        .select_related("scim_group")
        .filter(name__iexact=fields.display_name)
        .order_by("kind")
        .first()
    )
    if team is not None and getattr(team, "scim_group", None) is not None:
        raise Conflict(
            _("A group named %(display_name)s already exists.") % {"display_name": fields.display_name},
            code="uniqueness",
        )
    if team is None:
        team = Team.objects.create(organization=organization, name=fields.display_name, kind=Team.Kind.DEPARTMENT)
    group = ScimGroup.objects.create(organization=organization, team=team, external_id=fields.external_id)
    added, _removed = _set_members(group, fields.member_ids)
    audit.record(
        "scim.group_created",
        organization_id=organization.pk,
        target=team,
        after={"by": by, "displayName": team.name, "externalId": group.external_id, "members_added": len(added)},
    )
    return group


def _locked_group(group: ScimGroup, version: int | None) -> ScimGroup:
    """The row again, locked, at the version If-Match named (else VersionMismatch)."""
    group = (
        ScimGroup.objects.for_org(group.organization_id)
        .select_for_update(of=("self",))
        .select_related("team")
        .get(pk=group.pk)
    )
    _check_version(group, version)
    return group


def _update_group(group: ScimGroup, fields: GroupFields, by: str) -> ScimGroup:
    team = group.team
    old_name = team.name
    if fields.display_name != team.name:
        taken = Team.objects.for_org(group.organization_id).filter(kind=team.kind, name__iexact=fields.display_name)
        if taken.exclude(pk=team.pk).exists():
            raise Conflict(
                _("A team named %(display_name)s already exists.") % {"display_name": fields.display_name},
                code="uniqueness",
            )
        team.name = fields.display_name
        team.save(update_fields=["name"])
    added, removed = _set_members(group, fields.member_ids)
    group.external_id = fields.external_id
    return _record_group_update(group, by, old_name, added, removed)


def _record_group_update(group: ScimGroup, by: str, old_name: str, added: set[int], removed: set[int]) -> ScimGroup:
    group.version += 1
    group.updated_at = timezone.now()
    group.save(update_fields=["external_id", "version", "updated_at"])
    audit.record(
        "scim.group_updated",
        organization_id=group.organization_id,
        target=group.team,
        before={"displayName": old_name},
        after={"by": by, "displayName": group.team.name, "members_added": len(added), "members_removed": len(removed)},
    )
    return group


@transaction.atomic
def replace_scim_group(*, scim_group: ScimGroup, by: str, document: dict, version: int | None = None) -> ScimGroup:
    """PUT: name, externalId and the members become the document's."""
    group = _locked_group(scim_group, version)
    return _update_group(group, group_fields(document), by)


@transaction.atomic
def patch_scim_group(*, scim_group: ScimGroup, by: str, body: dict, version: int | None = None) -> ScimGroup:
    """PATCH: the operations (members add / remove, displayName) applied to the current group."""
    group = _locked_group(scim_group, version)
    changes = member_changes(body)
    if changes is None:
        document = apply_patch(group_resource(group, sorted(group_member_ids(group.team_id)), ""), body)
        return _update_group(group, group_fields(document), by)
    added, removed = _change_members(group, _member_ids(changes[0]), _member_ids(changes[1]))
    return _record_group_update(group, by, group.team.name, added, removed)


@transaction.atomic
def delete_scim_group(*, scim_group: ScimGroup, by: str, version: int | None = None) -> None:
    """DELETE: the directory's members leave the team (and the group's roles); the team stays,
    with whatever targets and reports refer to it."""
    group = _locked_group(scim_group, version)
    _added, removed = _set_members(group, [])
    audit.record(
        "scim.group_deleted",
        organization_id=group.organization_id,
        target=group.team,
        after={"by": by, "displayName": group.team.name, "members_removed": len(removed)},
    )
    group.delete()


@transaction.atomic
def set_scim_group_roles(*, actor: Membership, scim_group: ScimGroup, roles: list[str]) -> ScimGroup:
    """The roles a directory group gives its members (added to theirs; leaving takes them back
    unless another group gives them)."""
    require(actor, Permission.ORG_SETTINGS)
    group = ScimGroup.objects.for_org(actor.organization_id).select_for_update().get(pk=scim_group.pk)
    try:
        wanted = sorted({Role(role).value for role in roles})
    except ValueError:
        raise ValidationFailed(_("Pick roles from the list."), fields={"roles": [_("Unknown role.")]}) from None
    before = list(group.roles)
    members = group_member_ids(group.team_id)
    group.roles = wanted
    group.save(update_fields=["roles"])
    _grant_roles(group.organization_id, members, [r for r in wanted if r not in before])
    _revoke_roles(group.organization_id, members, [r for r in before if r not in wanted])
    audit.record(
        "scim.group_roles_changed",
        organization_id=group.organization_id,
        target=group.team,
        before={"roles": before},
        after={"roles": wanted},
    )
    return group
