"""Reads shared by pages and the API, scoped to one organization, with fixed query counts."""

from __future__ import annotations

import functools

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.crypto import secret_hash
from accounts.models import (
    ApiToken,
    Guideline,
    GuidelineAcceptance,
    Invitation,
    InvitationImport,
    Membership,
    NetworkApp,
    Notification,
    Organization,
    PushSubscription,
    SignupDomain,
    SocialConnection,
    Team,
    TrainingItem,
    User,
)
from advocacy import bearer_keys
from advocacy.errors import NotFound
from advocacy.sql import all_organizations_cursor, model_columns, model_from_row


def membership_for(user: User, org_slug: str) -> Membership | None:
    """The user's active membership in the organization named by the URL, or None (1 query).

    It carries `pending_guideline_version`: the current guidelines' version when this member
    has not accepted it, else None. Every page of the organization loads this row, so the
    guidelines banner costs no query of its own; and `sso_required_here`/`named_break_glass`
    for the single sign-on check (accounts.sso.sessions).

    Every page and API call runs it first, so it is one statement written once per process
    (`_membership_sql`): the same query through the ORM spent about 2.5 ms of CPU per request
    building its three subqueries (bench/README.md, issue 21). The tests hold it to the ORM's
    form of the same read (tests/accounts/test_membership_for.py)."""
    if not user.is_authenticated:
        return None
    # The organization is what this finds (the URL names it); the rows are the user's own.
    with all_organizations_cursor() as cursor:
        cursor.execute(_membership_sql(), {"user": user.pk, "slug": org_slug})
        row = cursor.fetchone()
    if row is None:
        return None
    membership, rest = _membership_with_organization(row, user)
    membership.pending_guideline_version, membership.sso_required_here, membership.named_break_glass = rest
    return membership


def _membership_with_organization(row: tuple, user: User) -> tuple[Membership, tuple]:
    """A membership and its organization from a row of `model_columns` of both (in that
    order), the user's own; and what the row has after them."""
    width, org_width = len(Membership._meta.concrete_fields), len(Organization._meta.concrete_fields)
    membership = model_from_row(Membership, row[:width])
    membership._state.fields_cache["organization"] = model_from_row(Organization, row[width : width + org_width])
    membership._state.fields_cache["user"] = user  # as `user.memberships` would have it
    return membership, row[width + org_width :]


@functools.cache
def _membership_sql() -> str:
    from accounts.models import SsoConfiguration

    q = connection.ops.quote_name
    break_glass = SsoConfiguration.break_glass.through._meta
    return f"""
SELECT {model_columns(Membership, "m")}, {model_columns(Organization, "o")},
  (SELECT CASE WHEN a.accepted_at IS NULL THEN g.version END
     FROM {q(Guideline._meta.db_table)} g
     LEFT JOIN LATERAL (
       SELECT ga.accepted_at FROM {q(GuidelineAcceptance._meta.db_table)} ga
        WHERE ga.guideline_id = g.id AND ga.user_id = m.user_id LIMIT 1
     ) a ON true
    WHERE g.organization_id = m.organization_id
    ORDER BY g.version DESC LIMIT 1) AS pending_guideline_version,
  EXISTS (SELECT 1 FROM {q(SsoConfiguration._meta.db_table)} sc
           WHERE sc.organization_id = m.organization_id AND sc.is_enabled AND sc.sso_required)
    AS sso_required_here,
  EXISTS (SELECT 1 FROM {q(break_glass.db_table)} bg
            JOIN {q(SsoConfiguration._meta.db_table)} sc ON sc.id = bg.ssoconfiguration_id
           WHERE bg.membership_id = m.id AND sc.organization_id = m.organization_id)
    AS named_break_glass
FROM {q(Membership._meta.db_table)} m
JOIN {q(Organization._meta.db_table)} o ON o.id = m.organization_id
WHERE m.user_id = %(user)s AND o.slug = %(slug)s AND m.is_active
ORDER BY m.id
LIMIT 1"""  # noqa: S608 (identifiers from the models, values are parameters)


def pending_guideline_version(membership: Membership) -> int | None:
    """The version of the current guidelines this member still has to accept, or None: read
    from the page's membership row where `membership_for` loaded it, else 1 query."""
    if hasattr(membership, "pending_guideline_version"):
        return membership.pending_guideline_version
    guideline = current_guideline_for(membership)
    return guideline.version if guideline is not None and guideline.accepted_at is None else None


def memberships_of(user: User) -> QuerySet[Membership]:
    """Every active membership of a user with its organization, for the org switcher."""
    return user.memberships.filter(is_active=True).select_related("organization").order_by("organization__name")


def switcher_memberships(user: User) -> list[Membership]:
    """`memberships_of` as a list, for the organization switcher every page draws: one
    statement written once (the ORM's select_related and ordering cost about 0.8 ms of CPU
    a page; bench/README.md, issue 21). Held to `memberships_of` by the tests."""
    if not user.is_authenticated:
        return []
    with all_organizations_cursor() as cursor:  # the user's own rows in every organization
        cursor.execute(_switcher_sql(), {"user": user.pk})
        rows = cursor.fetchall()
    return [_membership_with_organization(row, user)[0] for row in rows]


@functools.cache
def _switcher_sql() -> str:
    q = connection.ops.quote_name
    return f"""
SELECT {model_columns(Membership, "m")}, {model_columns(Organization, "o")}
FROM {q(Membership._meta.db_table)} m
JOIN {q(Organization._meta.db_table)} o ON o.id = m.organization_id
WHERE m.user_id = %(user)s AND m.is_active
ORDER BY o.name, m.id"""  # noqa: S608 (identifiers from the models, the value a parameter)


def members_of(
    organization: Organization,
    *,
    search: str = "",
    team: Team | None = None,
    without_team=False,
    with_suspended=False,
):
    """Active members with user and teams loaded (2 queries whatever the count); only those
    in no team when `without_team`; the suspended ones too when `with_suspended` (the
    members page; a removed member is never listed)."""
    present = Q(is_active=True) | Q(suspended_at__isnull=False) if with_suspended else Q(is_active=True)
    qs = (
        Membership.objects.for_org(organization)
        .filter(present)
        .select_related("user")
        .prefetch_related("teams")  # through the related manager: scoped by the parent rows
    )
    if search:
        qs = qs.filter(Q(user__email__icontains=search) | Q(user__name__icontains=search))
    if team is not None:
        qs = qs.filter(teams=team)
    if without_team:
        qs = qs.filter(teams__isnull=True)
    return qs.order_by("user__email")


def teams_of(organization: Organization) -> QuerySet[Team]:
    """Teams with their active member counts (1 query)."""
    return (
        Team.objects.for_org(organization)
        .annotate(member_count=Count("memberships", filter=Q(memberships__is_active=True)))
        .order_by("kind", "name")
    )


def invitations_of(
    organization: Organization, *, status: str | None = Invitation.Status.PENDING, include_revoked: bool = True
):
    """Invitations with inviter and teams loaded (2 queries). Without `include_revoked`, a
    revoked invitation is gone (the API's view: DELETE revokes it)."""
    qs = (
        Invitation.objects.for_org(organization)
        .select_related("invited_by")
        .prefetch_related("teams")  # through the related manager: scoped by the parent rows
    )
    if status:
        qs = qs.filter(status=status)
    if not include_revoked:
        qs = qs.exclude(status=Invitation.Status.REVOKED)
    return qs


def invitation_imports_of(organization: Organization) -> QuerySet[InvitationImport]:
    return InvitationImport.objects.for_org(organization).defer("csv_text")


def api_tokens_of(membership: Membership) -> QuerySet[ApiToken]:
    """The member's own tokens in this organization, newest first."""
    return ApiToken.objects.for_org(membership.organization_id).filter(user_id=membership.user_id)


def signup_domains_of(organization: Organization) -> list[str]:
    """The e-mail domains whose verified owners may join by themselves."""
    return list(SignupDomain.objects.for_org(organization).values_list("domain", flat=True))


def signup_domain_rows(organization: Organization) -> list[SignupDomain]:
    """The organization's self sign-up domains with their verification state (1 query)."""
    return list(SignupDomain.objects.for_org(organization).order_by("domain"))


def connections_of(membership: Membership, *, include_disconnected: bool = True):
    """The member's connections in this organization, Pages after their account (1 query).
    Without `include_disconnected`, a disconnected one is gone (the API's view: DELETE
    disconnects it; the page keeps it to offer reconnecting)."""
    qs = SocialConnection.objects.for_org(membership.organization_id).filter(user_id=membership.user_id)
    if not include_disconnected:
        qs = qs.exclude(status=SocialConnection.Status.DISCONNECTED)
    return qs.order_by("network", "kind", "name")


def connection_counts(membership: Membership) -> dict[str, int]:
    """{"active": accounts the member can share to, "needs_reconnect": accounts whose access
    the network withdrew} (1 query)."""
    return (
        SocialConnection.objects.for_org(membership.organization_id)
        .filter(user_id=membership.user_id)
        .aggregate(
            active=Count("pk", filter=Q(status=SocialConnection.Status.ACTIVE, is_selected=True)),
            needs_reconnect=Count("pk", filter=Q(status=SocialConnection.Status.NEEDS_RECONNECT)),
        )
    )


def setup_counts(organization: Organization, *, now=None) -> dict[str, int]:
    """What an admin has left to set up (3 queries): invitations waiting for an answer (not
    expired), active members in no team, self sign-up domains not verified."""
    now = now or timezone.now()
    return {
        "pending_invitations": Invitation.objects.for_org(organization)
        .filter(status=Invitation.Status.PENDING, expires_at__gt=now)
        .count(),
        "members_without_team": Membership.objects.for_org(organization)
        .filter(is_active=True, teams__isnull=True)
        .count(),
        "unverified_domains": SignupDomain.objects.for_org(organization).filter(verified_at__isnull=True).count(),
    }


def network_apps_of(organization: Organization) -> dict[str, NetworkApp]:
    return {app.network: app for app in NetworkApp.objects.for_org(organization)}


# --- guidelines and training ----------------------------------------------------------


def current_guideline(organization: Organization | int) -> Guideline | None:
    """The highest published version, or None (1 query)."""
    return Guideline.objects.for_org(organization).order_by("-version").first()


def current_guideline_for(membership: Membership) -> Guideline | None:
    """The current version with `accepted_at`: when this member accepted it, or None (1 query)."""
    return (
        Guideline.objects.for_org(membership.organization_id)
        .annotate(accepted_at=_accepted_at(membership.user_id))
        .order_by("-version")
        .first()
    )


def _accepted_at(user) -> Subquery:
    """When `user` (an id or an outer reference) accepted the guideline of the outer row."""
    # The guideline row of the outer query is already scoped to one organization.
    accepted = GuidelineAcceptance.objects.all_organizations().filter(guideline_id=OuterRef("pk"), user_id=user)
    return Subquery(accepted.values("accepted_at")[:1])


def guidelines_of(organization: Organization) -> QuerySet[Guideline]:
    """Every version, newest first, with its publisher and how many members accepted it (1 query)."""
    return (
        Guideline.objects.for_org(organization)
        .select_related("published_by")
        .annotate(acceptance_count=Count("acceptances"))
        .order_by("-version")
    )


def training_items_of(organization: Organization, *, published_only: bool = False) -> QuerySet[TrainingItem]:
    """Lessons in their order (1 query)."""
    items = TrainingItem.objects.for_org(organization)
    if published_only:
        items = items.filter(is_published=True)
    return items.order_by("position", "pk")


def acceptances_for(guideline: Guideline) -> QuerySet[Membership]:
    """Active members with `accepted_at` for this version (None when not accepted): 1 query.

    Members who accepted come first, then the others by e-mail.
    """
    accepted = GuidelineAcceptance.objects.for_org(guideline.organization_id).filter(
        guideline_id=guideline.pk, user_id=OuterRef("user_id")
    )
    return (
        Membership.objects.for_org(guideline.organization_id)
        .filter(is_active=True)
        .select_related("user")
        .annotate(accepted_at=Subquery(accepted.values("accepted_at")[:1]))
        .order_by(F("accepted_at").desc(nulls_last=True), "user__email")
    )


def acceptance_summary(guideline: Guideline) -> dict[str, int]:
    """{"accepted": n, "members": m} for the active members of the organization (1 query)."""
    counts = Membership.objects.for_org(guideline.organization_id).aggregate(
        members=Count("pk", filter=Q(is_active=True)),
        accepted=Count(
            "pk",
            filter=Q(is_active=True)
            & Exists(
                GuidelineAcceptance.objects.for_org(guideline.organization_id).filter(
                    guideline_id=guideline.pk, user_id=OuterRef("user_id")
                )
            ),
        ),
    )
    return {"members": counts["members"], "accepted": counts["accepted"]}


# --- notifications ----------------------------------------------------------------------


def notifications_of(membership: Membership, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The member's own notifications, newest first (1 query per page)."""
    qs = Notification.objects.for_org(membership.organization_id).filter(user_id=membership.user_id)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-pk")


def unread_count(membership: Membership) -> int:
    """How many of the member's notifications are unread (1 query)."""
    return notifications_of(membership, unread_only=True).count()


def push_endpoints_of(membership: Membership) -> list[str]:
    """The endpoints of the devices the member turned push notifications on for (1 query;
    a member keeps at most push.DEVICES_PER_MEMBER)."""
    devices = PushSubscription.objects.for_org(membership.organization_id).filter(user_id=membership.user_id)
    return list(devices.order_by("pk").values_list("endpoint", flat=True))


def invitation_by_token(token: str) -> Invitation:
    """The invitation a link's secret names; NotFound for an unknown secret."""
    invitation = (
        Invitation.objects.all_organizations()  # the secret is the proof; no org in the URL
        .select_related("organization", "invited_by")
        .filter(token_hash=secret_hash(token or ""))
        .first()
    )
    if invitation is None:
        raise NotFound(_("This invitation link is not valid. Ask for a new one."))
    return invitation


def authenticate_api_token(plain: str) -> ApiToken | None:
    """The active token whose secret is `plain`, with its user and organization; else None."""
    rows = ApiToken.objects.all_organizations().select_related("user", "organization")  # the secret decides the org
    token = bearer_keys.find_key(rows, "adv", plain)
    return token if token is not None and token.user.is_active else None


def account_exists(email: str) -> bool:
    """Whether an account uses this address (any case), whatever its organizations."""
    return User.objects.filter(email__iexact=email).exists()


def sign_in_refusal(user: User) -> str | None:
    """Words refusing a sign-in when every membership the user has is suspended (none left
    active); None otherwise (a user without any membership yet may sign in and create or
    join an organization)."""
    memberships = list(user.memberships.values_list("is_active", "suspended_at"))
    if not memberships or any(active for active, _ in memberships):
        return None
    if not any(suspended_at for _, suspended_at in memberships):
        return None
    return _(
        "Your access has been suspended by your organization. "
        "Ask your organization's administrator to restore it if you think this is a mistake."
    )


def recipient_of(*, organization_id: int, user_id: int) -> tuple[User, Organization]:
    """The recipient and their organization, with just what `for_recipient` reads (their
    language and zone, the organization's default language and zone), in one query."""
    own = User.objects.filter(pk=user_id)
    row = (
        Organization.objects.filter(pk=organization_id)
        .annotate(
            recipient_language=Subquery(own.values("language")[:1]),
            recipient_timezone=Subquery(own.values("timezone")[:1]),
        )
        .values("default_language", "timezone", "recipient_language", "recipient_timezone")
        .first()
    ) or {}
    user = User(pk=user_id, language=row.get("recipient_language") or "", timezone=row.get("recipient_timezone") or "")
    organization = Organization(
        pk=organization_id, default_language=row.get("default_language") or "", timezone=row.get("timezone") or ""
    )
    return user, organization
