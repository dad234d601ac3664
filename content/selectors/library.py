"""Reads for the marketers' library pages and API, tenant-scoped, fixed query counts."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Membership, Organization, Team
from content.models import ContentFeed, ContentItem, ContentProposal, Share, Suggestion, Topic
from content.selectors.sharing import live_items, targeted_at

LIST_STATUSES = ("", *ContentItem.Status.values)  # "" = everything but archived


def _count_of(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT subquery (no join fan-out however many rows each side has)."""
    counted = queryset.order_by().values("item_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def with_counts(items: QuerySet[ContentItem]) -> QuerySet[ContentItem]:
    shares = Share.objects.filter(item_id=OuterRef("pk"), organization_id=OuterRef("organization_id")).exclude(
        status=Share.Status.CANCELLED
    )
    suggestions = Suggestion.objects.filter(item_id=OuterRef("pk"), organization_id=OuterRef("organization_id"))
    return items.annotate(suggestion_count=_count_of(suggestions), share_count=_count_of(shares))


def live_items_for(membership: Membership, *, topic: str = "", search: str = "") -> QuerySet[ContentItem]:
    """What a member may share now (`sharing.targeted_at(live_items)`), in the feed's order,
    with everything the API shows (6 queries)."""
    org = membership.organization_id
    items = targeted_at(live_items(org), membership)
    if topic:
        items = items.filter(topics__slug=topic)
    if search:
        items = items.filter(Q(title__icontains=search) | Q(description__icontains=search))
    return with_counts(items).prefetch_related(*_detail_prefetches(org)).order_by("-featured", "-published_at", "-pk")


def _detail_prefetches(organization: Organization | int) -> list[Prefetch]:
    return [
        Prefetch("suggestions", queryset=Suggestion.objects.for_org(organization).order_by("position", "pk")),
        Prefetch("topics", queryset=Topic.objects.for_org(organization)),
        Prefetch("target_teams", queryset=Team.objects.for_org(organization)),
    ]


def library_items(
    organization: Organization | int, *, status: str = "", topic: str = "", search: str = ""
) -> QuerySet[ContentItem]:
    """The library list: newest first, with topics, target teams, suggestion and share
    counts (3 queries whatever the size). `status` "" hides archived items."""
    items = ContentItem.objects.for_org(organization)
    if status in ContentItem.Status.values:
        items = items.filter(status=status)
    else:
        items = items.exclude(status=ContentItem.Status.ARCHIVED)
    if topic:
        items = items.filter(topics__slug=topic)
    if search:
        items = items.filter(Q(title__icontains=search) | Q(description__icontains=search) | Q(url__icontains=search))
    return (
        with_counts(items)
        .prefetch_related(
            Prefetch("topics", queryset=Topic.objects.for_org(organization)),
            Prefetch("target_teams", queryset=Team.objects.for_org(organization)),
        )
        .order_by("-created_at", "-pk")
    )


def status_counts(organization: Organization | int) -> dict[str, int]:
    """How many items in each status, for the library's tabs (1 query)."""
    rows = ContentItem.objects.for_org(organization).values("status").annotate(n=Count("pk")).order_by()
    counts = dict.fromkeys(ContentItem.Status.values, 0)
    counts.update({row["status"]: row["n"] for row in rows})
    counts[""] = counts[ContentItem.Status.DRAFT] + counts[ContentItem.Status.PUBLISHED]
    return counts


def item_detail(organization: Organization | int, *, include_archived: bool = True) -> QuerySet[ContentItem]:
    """Items with everything the editor shows: suggestions in order, topics, teams, feed,
    author, counts (5 queries for one item). Without `include_archived`, an archived item is
    gone (the API's view: DELETE archives it)."""
    items = ContentItem.objects.for_org(organization)
    if not include_archived:
        items = items.exclude(status=ContentItem.Status.ARCHIVED)
    return with_counts(items).select_related("feed", "created_by").prefetch_related(*_detail_prefetches(organization))


def visible_to_teams(items: QuerySet[ContentItem], team_ids: Iterable[int]) -> QuerySet[ContentItem]:
    """Items for everyone, or for one of these teams: `sharing.targeted_at` for a chosen
    set of teams instead of a member's (no teams = someone in no team)."""
    through = ContentItem.target_teams.through.objects
    return items.filter(
        ~Exists(through.filter(contentitem_id=OuterRef("pk")))
        | Exists(through.filter(contentitem_id=OuterRef("pk"), team_id__in=list(team_ids)))
    )


def preview_for_teams(organization: Organization | int, team_ids: Iterable[int], *, now=None) -> QuerySet[ContentItem]:
    """What an employee in these teams sees in the feed right now, in the feed's order,
    with suggestions and topics (3 queries)."""
    items = visible_to_teams(live_items(organization, now=now or timezone.now()), team_ids)
    return items.prefetch_related(
        Prefetch("suggestions", queryset=Suggestion.objects.for_org(organization).order_by("position", "pk")),
        Prefetch("topics", queryset=Topic.objects.for_org(organization)),
    ).order_by("-featured", "-published_at", "-pk")


def audience_of(item: ContentItem) -> QuerySet[Membership]:
    """The active members an item is for: everyone, or the members of its target teams (a
    query to use as a subquery; `targeted_at` says the same from the member's side)."""
    members = Membership.objects.for_org(item.organization_id).filter(is_active=True)
    targeted = ContentItem.target_teams.through.objects.filter(contentitem_id=item.pk)
    in_a_target_team = Membership.teams.through.objects.filter(
        membership_id=OuterRef("pk"), team_id__in=targeted.values("team_id")
    )
    return members.filter(~Exists(targeted) | Exists(in_a_target_team))


def proposals_inbox(organization: Organization | int, *, status: str = ContentProposal.Status.NEW):
    """Employees' proposals, newest first, with who proposed and the item made (1 query)."""
    proposals = ContentProposal.objects.for_org(organization).select_related("proposed_by", "item")
    if status in ContentProposal.Status.values:
        proposals = proposals.filter(status=status)
    return proposals.order_by("-created_at", "-pk")


def proposals_by(membership: Membership) -> QuerySet[ContentProposal]:
    """What one member proposed, newest first, with the item it became (1 query)."""
    return (
        ContentProposal.objects.for_org(membership.organization_id)
        .filter(proposed_by_id=membership.user_id)
        .select_related("item")
        .order_by("-created_at", "-pk")
    )


def new_proposal_count(organization: Organization | int) -> int:
    return ContentProposal.objects.for_org(organization).filter(status=ContentProposal.Status.NEW).count()


def feeds_of(organization: Organization | int) -> QuerySet[ContentFeed]:
    """Followed feeds with how many items each brought (1 query)."""
    return (
        ContentFeed.objects.for_org(organization)
        .annotate(item_count=Count("items"))
        .select_related("created_by")
        .order_by("url")
    )


def topics_of(organization: Organization | int) -> QuerySet[Topic]:
    """Topics with their item counts (1 query)."""
    return Topic.objects.for_org(organization).annotate(item_count=Count("items")).order_by("name")


def teams_for_targeting(organization: Organization | int) -> QuerySet[Team]:
    return Team.objects.for_org(organization).order_by("kind", "name")


def feeds_due() -> list[tuple[int, int]]:
    """For the schedule (a system read): (feed id, organization id) of every active feed of
    every organization."""
    return list(
        ContentFeed.objects.all_organizations()  # the schedule serves every tenant, on purpose
        .filter(is_active=True)
        .order_by("pk")
        .values_list("pk", "organization_id")
    )
