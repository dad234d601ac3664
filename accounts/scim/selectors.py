"""Reads for the SCIM endpoints, scoped to the token's organization, each a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Prefetch, QuerySet

from accounts.models import Membership, ScimGroup, ScimToken, ScimUser, Team
from advocacy import bearer_keys


def scim_token(plain: str) -> ScimToken | None:
    """The active token whose secret is `plain`, with its organization; else None."""
    rows = ScimToken.objects.all_organizations().select_related("organization")  # the secret decides the org
    return bearer_keys.find_key(rows, "scim", plain)


def scim_tokens(organization) -> QuerySet[ScimToken]:
    return ScimToken.objects.for_org(organization).select_related("created_by")


def scim_users(organization) -> QuerySet[ScimUser]:
    """The organization's SCIM users (not deleted), with the SCIM groups each is in (`scim_teams`)."""
    groups = Team.objects.for_org(organization).filter(scim_group__isnull=False).order_by("pk")
    return (
        ScimUser.objects.for_org(organization)
        .filter(deleted_at__isnull=True)
        .select_related("membership")
        .prefetch_related(Prefetch("membership__teams", queryset=groups, to_attr="scim_teams"))
        .order_by("membership_id")
    )


def _id(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def scim_user(organization, resource_id: str) -> ScimUser | None:
    pk = _id(resource_id)
    return None if pk is None else scim_users(organization).filter(membership_id=pk).first()


def scim_groups(organization) -> QuerySet[ScimGroup]:
    return ScimGroup.objects.for_org(organization).select_related("team").order_by("team_id")


def scim_group(organization, resource_id: str) -> ScimGroup | None:
    pk = _id(resource_id)
    return None if pk is None else scim_groups(organization).filter(team_id=pk).first()


def group_members(organization, team_ids: list[int]) -> dict[int, list[int]]:
    """team id -> the ids of the SCIM users in it, in one query."""
    rows = (
        Membership.teams.through.objects.filter(
            team_id__in=team_ids,
            membership__organization_id=organization.pk,
            membership__scim__isnull=False,
            membership__scim__deleted_at__isnull=True,
        )
        .order_by("membership_id")
        .values_list("team_id", "membership_id")
    )
    found = defaultdict(list)
    for team_id, membership_id in rows:
        found[team_id].append(membership_id)
    return found
