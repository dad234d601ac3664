"""Reads shared by pages and the API, scoped to one organization, with fixed query counts."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import (
    ApiToken,
    Invitation,
    InvitationImport,
    Membership,
    NetworkApp,
    Organization,
    SignupDomain,
    SocialConnection,
    Team,
    User,
)


def membership_for(user: User, org_slug: str) -> Membership | None:
    """The user's active membership in the organization named by the URL, or None (1 query)."""
    return user.memberships.filter(organization__slug=org_slug, is_active=True).select_related("organization").first()


def memberships_of(user: User) -> QuerySet[Membership]:
    """Every active membership of a user with its organization, for the org switcher."""
    return user.memberships.filter(is_active=True).select_related("organization").order_by("organization__name")


def members_of(organization: Organization, *, search: str = "", team: Team | None = None):
    """Active members with user and teams loaded (2 queries whatever the count)."""
    qs = (
        Membership.objects.for_org(organization)
        .filter(is_active=True)
        .select_related("user")
        .prefetch_related("teams")  # through the related manager: scoped by the parent rows
    )
    if search:
        qs = qs.filter(Q(user__email__icontains=search) | Q(user__name__icontains=search))
    if team is not None:
        qs = qs.filter(teams=team)
    return qs.order_by("user__email")


def teams_of(organization: Organization) -> QuerySet[Team]:
    """Teams with their active member counts (1 query)."""
    return (
        Team.objects.for_org(organization)
        .annotate(member_count=Count("memberships", filter=Q(memberships__is_active=True)))
        .order_by("kind", "name")
    )


def invitations_of(organization: Organization, *, status: str | None = Invitation.Status.PENDING):
    """Invitations with inviter and teams loaded (2 queries)."""
    qs = (
        Invitation.objects.for_org(organization)
        .select_related("invited_by")
        .prefetch_related("teams")  # through the related manager: scoped by the parent rows
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def invitation_imports_of(organization: Organization) -> QuerySet[InvitationImport]:
    return InvitationImport.objects.for_org(organization).defer("csv_text")


def api_tokens_of(membership: Membership) -> QuerySet[ApiToken]:
    """The member's own tokens in this organization, newest first."""
    return ApiToken.objects.for_org(membership.organization_id).filter(user_id=membership.user_id)


def signup_domains_of(organization: Organization) -> list[str]:
    """The e-mail domains whose verified owners may join by themselves."""
    return list(SignupDomain.objects.for_org(organization).values_list("domain", flat=True))


def connections_of(membership: Membership):
    """The member's connections in this organization, Pages after their account (1 query)."""
    return (
        SocialConnection.objects.for_org(membership.organization_id)
        .filter(user_id=membership.user_id)
        .order_by("network", "kind", "name")
    )


def network_apps_of(organization: Organization) -> dict[str, NetworkApp]:
    return {app.network: app for app in NetworkApp.objects.for_org(organization)}
