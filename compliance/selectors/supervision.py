"""Reads of the supervision page and API (who supervises whom), tenant-scoped, fixed query
counts."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Membership, Team
from compliance.models import SupervisionAssignment
from compliance.selectors.policy import policy_or_default
from compliance.selectors.queue import compliance_officers


@dataclass
class SupervisionPage:
    assignments: list[SupervisionAssignment]
    officers: list[Membership]
    teams: list[Team]
    sla_hours: int

    def of_scope(self, scope: str) -> list[SupervisionAssignment]:
        return [a for a in self.assignments if a.scope == scope]

    @property
    def by_team(self) -> list[SupervisionAssignment]:
        return self.of_scope(SupervisionAssignment.Scope.TEAM)

    @property
    def by_role(self) -> list[SupervisionAssignment]:
        return self.of_scope(SupervisionAssignment.Scope.ROLE)

    @property
    def fallback_pool(self) -> list[SupervisionAssignment]:
        return self.of_scope(SupervisionAssignment.Scope.FALLBACK)

    @property
    def unsupervised_teams(self) -> list[Team]:
        """Teams and locations nobody supervises: their members' posts go by role, else to the
        fallback pool, else to every compliance officer."""
        covered = {a.team_id for a in self.by_team}
        return [t for t in self.teams if t.pk not in covered]


def supervision_assignments(organization_id: int):
    """Every assignment with its reviewer and team, teams first (a queryset: 1 query)."""
    return (
        SupervisionAssignment.objects.for_org(organization_id)
        .select_related("reviewer", "team")
        .order_by("scope", "team__kind", "team__name", "role", "reviewer__email", "pk")
    )


def supervision_page(organization_id: int) -> SupervisionPage:
    """Everything the supervision page shows (4 queries)."""
    return SupervisionPage(
        assignments=list(supervision_assignments(organization_id)),
        officers=compliance_officers(organization_id),
        teams=list(Team.objects.for_org(organization_id).order_by("kind", "name")),
        sla_hours=policy_or_default(organization_id).review_sla_hours,
    )
