"""Writes for members and teams: roles, removal, teams."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import (
    ApiToken,
    Membership,
    Organization,
    Role,
    Team,
)
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import Conflict, ValidationFailed


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
                _("Unknown role “%(value)s”; roles are %(names)s.") % {"value": shown[:40], "names": names},
                fields={"roles": [_("Unknown role.")]},
            ) from None
    if not parsed:
        raise ValidationFailed(_("Choose at least one role."), fields={"roles": [_("Required.")]})
    return parsed


def _teams_of_org(organization: Organization, teams: Iterable[Team | int]) -> list[Team]:
    ids = {t.pk if isinstance(t, Team) else int(t) for t in teams}
    found = list(Team.objects.for_org(organization).filter(pk__in=ids))
    if len(found) != len(ids):
        raise ValidationFailed(_("A chosen team does not exist."), fields={"teams": [_("Unknown team.")]})
    return found


def _check_same_organization(actor: Membership, team: Team) -> None:
    if team.organization_id != actor.organization_id:
        raise Team.DoesNotExist("No team found")  # another organization's answers like a missing one


def _admins_left_without(membership: Membership) -> int:
    return (
        Membership.objects.for_org(membership.organization_id)
        .filter(is_active=True, is_admin=True)
        .exclude(pk=membership.pk)
        .count()
    )


@transaction.atomic
def update_membership(
    *, actor: Membership, membership: Membership, roles: Iterable[str], teams: Iterable[Team | int] | None = None
) -> Membership:
    """Set a member's roles (and teams when given). The last admin cannot drop the role.
    Another organization's member: Membership.DoesNotExist."""
    require(actor, Permission.MEMBERS_MANAGE)
    wanted = _parse_roles(roles)
    membership = Membership.objects.for_org(actor.organization_id).select_for_update().get(pk=membership.pk)
    if membership.is_admin and Role.ADMIN not in wanted and _admins_left_without(membership) == 0:
        raise Conflict(_("An organization needs at least one admin; make someone else admin first."))
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
def remove_member(*, actor: Membership, membership: Membership) -> Membership:
    """Take a member out of the organization (kept, inactive, for history)."""
    require(actor, Permission.MEMBERS_MANAGE)
    membership = Membership.objects.for_org(actor.organization_id).select_for_update().get(pk=membership.pk)
    if membership.is_admin and _admins_left_without(membership) == 0:
        raise Conflict(_("The last admin cannot be removed; make someone else admin first."))
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
def create_team(*, actor: Membership, name: str, kind: str = Team.Kind.DEPARTMENT) -> Team:
    """Create a department or location team; names are unique per kind."""
    require(actor, Permission.TEAMS_MANAGE)
    organization = actor.organization
    name = name.strip()
    if not name:
        raise ValidationFailed(_("Give the team a name."), fields={"name": [_("Required.")]})
    if kind not in Team.Kind.values:
        raise ValidationFailed(_("A team is a department or a location."), fields={"kind": [_("Invalid.")]})
    if Team.objects.for_org(organization).filter(kind=kind, name__iexact=name).exists():
        raise Conflict(
            _already_called(kind, name),
            fields={"name": [_("Taken.")]},
        )
    team = Team.objects.create(organization=organization, name=name, kind=kind)
    audit.record("team.created", organization_id=organization.pk, target=team, after={"name": name, "kind": kind})
    return team


@transaction.atomic
def update_team(*, actor: Membership, team: Team, name: str, kind: str) -> Team:
    """Rename a team or change its kind. Another organization's team: Team.DoesNotExist."""
    require(actor, Permission.TEAMS_MANAGE)
    _check_same_organization(actor, team)
    name = name.strip()
    if not name:
        raise ValidationFailed(_("Give the team a name."), fields={"name": [_("Required.")]})
    if kind not in Team.Kind.values:
        raise ValidationFailed(_("A team is a department or a location."), fields={"kind": [_("Invalid.")]})
    clash = Team.objects.for_org(team.organization_id).filter(kind=kind, name__iexact=name).exclude(pk=team.pk)
    if clash.exists():
        raise Conflict(
            _already_called(kind, name),
            fields={"name": [_("Taken.")]},
        )
    before = {"name": team.name, "kind": team.kind}
    team.name, team.kind = name, kind
    team.save(update_fields=["name", "kind"])
    after = {"name": name, "kind": kind}
    if before != after:
        audit.record("team.updated", organization_id=team.organization_id, target=team, before=before, after=after)
    return team


@transaction.atomic
def delete_team(*, actor: Membership, team: Team) -> Team:
    """Delete a team (returned, no longer saved); its members stay members. Another
    organization's team: Team.DoesNotExist. Raises Conflict, naming them, when records that must
    be kept name the team (a compliance legal hold protects its team: deleting the team would
    erase whom the hold is about)."""
    require(actor, Permission.TEAMS_MANAGE)
    _check_same_organization(actor, team)
    audit.record(
        "team.deleted",
        organization_id=team.organization_id,
        target=team,
        before={"name": team.name, "kind": team.kind},
    )
    try:
        team.delete()
    except ProtectedError as exc:  # the outer transaction drops the audit entry with it
        kept = ", ".join(sorted({f"{type(o)._meta.verbose_name} “{o}”" for o in exc.protected_objects}))
        raise Conflict(
            _(
                "Team %(team)s is named by %(kept)s, a record that must be kept; it cannot be deleted. Rename it "
                "instead."
            )
            % {"team": team.name, "kept": kept}
        ) from None
    return team


def _already_called(kind: str, name: str) -> str:
    if kind == Team.Kind.LOCATION:
        return _("There is already a location called %(name)s.") % {"name": name}
    return _("There is already a department called %(name)s.") % {"name": name}
