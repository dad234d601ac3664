"""Reads for employees: the feed, the composer's item, their shares. Fixed query counts."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Membership
from content.models import ContentItem, Delivery, Share, Suggestion, Topic


def live_items(organization, *, now=None) -> QuerySet[ContentItem]:
    """Published items inside their start/expiry window."""
    now = now or timezone.now()
    return (
        ContentItem.objects.for_org(organization)
        .filter(status=ContentItem.Status.PUBLISHED)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    )


def targeted_at(items: QuerySet[ContentItem], membership: Membership) -> QuerySet[ContentItem]:
    """Items for everyone, or for one of the member's teams."""
    team_ids = membership.teams.values("pk")
    return items.filter(
        ~Exists(ContentItem.target_teams.through.objects.filter(contentitem_id=OuterRef("pk")))
        | Exists(ContentItem.target_teams.through.objects.filter(contentitem_id=OuterRef("pk"), team_id__in=team_ids))
    )


def feed_for(membership: Membership, *, topic: str = "", search: str = "", followed: bool = False, now=None):
    """The employee's feed: live items targeted at them, featured first then newest, with
    suggestions and topics prefetched. Topic filters are EXISTS, so no DISTINCT is needed.
    Add colleague counts to the page shown with `with_colleague_counts` (one query)."""
    org_id = membership.organization_id
    items = targeted_at(live_items(org_id, now=now), membership)
    item_topics = ContentItem.topics.through.objects.filter(contentitem_id=OuterRef("pk"))
    if topic:
        items = items.filter(Exists(item_topics.filter(topic__slug=topic)))
    if followed:
        items = items.filter(Exists(item_topics.filter(topic__followers=membership)))
    if search:
        items = items.filter(Q(title__icontains=search) | Q(description__icontains=search))
    return items.prefetch_related(
        Prefetch("suggestions", queryset=Suggestion.objects.for_org(org_id)),
        Prefetch("topics", queryset=Topic.objects.for_org(org_id)),
    ).order_by("-featured", "-published_at", "-pk")


def with_colleague_counts(items, membership: Membership) -> list[ContentItem]:
    """Set `colleagues_shared` (colleagues who shared each item) on a page of items (1 query)."""
    items = list(items)
    counts = dict(
        Share.objects.for_org(membership.organization_id)
        .filter(item__in=[i.pk for i in items])
        .exclude(status=Share.Status.CANCELLED)
        .exclude(author_id=membership.user_id)
        .values("item")
        .annotate(n=Count("author", distinct=True))
        .values_list("item", "n")
    )
    for item in items:
        item.colleagues_shared = counts.get(item.pk, 0)
    return items


# A rejected share stays rejected until its author edits it; it is theirs to look at for
# this long after the decision, then it leaves the home page's checklist.
REJECTED_SHOWN_FOR = timedelta(days=14)


def share_counts(membership: Membership, *, now=None) -> dict:
    """The employee's shares for the home page's checklist (1 query): `shares`, how many they
    made (cancelled ones aside); `sent_back`, how many compliance sent back to them (changes
    requested, or rejected in the last REJECTED_SHOWN_FOR); `sent_back_id`, the newest of
    those (so that a single one is a click away)."""
    now = now or timezone.now()
    sent_back = Q(status=Share.Status.CHANGES_REQUESTED) | Q(
        status=Share.Status.REJECTED, updated_at__gte=now - REJECTED_SHOWN_FOR
    )
    return (
        Share.objects.for_org(membership.organization_id)
        .filter(author_id=membership.user_id)
        .aggregate(
            shares=Count("pk", filter=~Q(status=Share.Status.CANCELLED)),
            sent_back=Count("pk", filter=sent_back),
            sent_back_id=Max("pk", filter=sent_back),
        )
    )


def shares_of(membership: Membership) -> QuerySet[Share]:
    """The employee's shares, newest first, with item and deliveries (3 queries)."""
    return (
        Share.objects.for_org(membership.organization_id)
        .filter(author_id=membership.user_id)
        .select_related("item")
        .prefetch_related(
            Prefetch(
                "deliveries",
                queryset=Delivery.objects.for_org(membership.organization_id).select_related("connection"),
            )
        )
    )


def held_shares(organization) -> QuerySet[Share]:
    """Shares held because their author was suspended, oldest hold first, with author, item
    and deliveries loaded and `author_active` (may it be released?) annotated: 2 queries
    whatever the count."""
    org_id = getattr(organization, "pk", organization)
    author_active = Membership.objects.for_org(org_id).filter(user_id=OuterRef("author_id"), is_active=True)
    return (
        Share.objects.for_org(org_id)
        .filter(status=Share.Status.HELD)
        .select_related("author", "item")
        .prefetch_related(Prefetch("deliveries", queryset=Delivery.objects.for_org(org_id).order_by("network")))
        .annotate(author_active=Exists(author_active))
        .order_by("held_at", "pk")
    )
