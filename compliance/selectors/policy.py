"""Reads of the policy editor (pages and API share them), tenant-scoped, fixed query counts."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Team
from compliance.models import AllowedDomain, LexiconTerm, PatternRule, PendingPolicyChange, Policy, ReviewRule


def policy_or_default(organization_id: int) -> Policy:
    """The organization's policy, or an unsaved one with the defaults (1 query)."""
    return Policy.objects.for_org(organization_id).first() or Policy(organization_id=organization_id)


@dataclass
class PolicyPage:
    policy: Policy
    term_count: int
    patterns: list[PatternRule]
    domains: list[AllowedDomain]
    review_rules: list[ReviewRule]
    teams: list[Team]
    pending_changes: list[PendingPolicyChange]


def policy_page(organization_id: int) -> PolicyPage:
    """Everything the policy page shows but the lexicon itself (7 queries)."""
    return PolicyPage(
        policy=policy_or_default(organization_id),
        term_count=LexiconTerm.objects.for_org(organization_id).count(),
        patterns=list(PatternRule.objects.for_org(organization_id)),
        domains=list(AllowedDomain.objects.for_org(organization_id)),
        review_rules=list(
            ReviewRule.objects.for_org(organization_id).select_related("team").order_by("team__name", "role")
        ),
        teams=list(Team.objects.for_org(organization_id)),
        pending_changes=list(pending_changes(organization_id)),
    )


def pending_changes(organization_id: int):
    """The relaxations waiting for a second person, oldest first, with who asked (a queryset:
    1 query to list)."""
    return (
        PendingPolicyChange.objects.for_org(organization_id)
        .filter(outcome=PendingPolicyChange.Outcome.PENDING)
        .select_related("requested_by")
        .order_by("created_at", "pk")
    )


def lexicon(organization_id: int, search: str = ""):
    """The lexicon, alphabetical, optionally filtered by a substring (a queryset to paginate)."""
    terms = LexiconTerm.objects.for_org(organization_id).order_by("term", "pk")
    if search:
        terms = terms.filter(term__icontains=search)
    return terms
