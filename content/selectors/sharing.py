"""Reads for employees: the feed, the composer's item, their shares. Fixed query counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Membership
from advocacy.sql import tenant_dicts
from content.models import ContentItem, Delivery, Share


def live_items(organization, *, now=None) -> QuerySet[ContentItem]:
    """Published items inside their start/expiry window (`_FEED_PAGE_SQL` says the same in
    SQL)."""
    now = now or timezone.now()
    return (
        ContentItem.objects.for_org(organization)
        .filter(status=ContentItem.Status.PUBLISHED)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
    )


def targeted_at(items: QuerySet[ContentItem], membership: Membership) -> QuerySet[ContentItem]:
    """Items for everyone, or for one of the member's teams (`_FEED_PAGE_SQL` says the same
    in SQL)."""
    team_ids = membership.teams.values("pk")
    return items.filter(
        ~Exists(ContentItem.target_teams.through.objects.filter(contentitem_id=OuterRef("pk")))
        | Exists(ContentItem.target_teams.through.objects.filter(contentitem_id=OuterRef("pk"), team_id__in=team_ids))
    )


def feed_for(membership: Membership, *, topic: str = "", search: str = "", followed: bool = False, now=None):
    """The employee's feed: live items targeted at them, featured first then newest (the
    digest's rows). Topic filters are EXISTS, so no DISTINCT is needed. The feed page reads
    the same rows with their cards in one statement (`feed_page`, which the tests hold to
    these rows: change both)."""
    org_id = membership.organization_id
    items = targeted_at(live_items(org_id, now=now), membership)
    item_topics = ContentItem.topics.through.objects.filter(contentitem_id=OuterRef("pk"))
    if topic:
        items = items.filter(Exists(item_topics.filter(topic__slug=topic)))
    if followed:
        items = items.filter(Exists(item_topics.filter(topic__followers=membership)))
    if search:
        items = items.filter(Q(title__icontains=search) | Q(description__icontains=search))
    return items.order_by("-featured", "-published_at", "-pk")


@dataclass
class FeedSuggestion:
    pk: int
    text: str
    network: str


@dataclass
class FeedCard:
    """What one card of the feed shows (`feed_page`)."""

    pk: int
    title: str
    url: str
    description: str
    featured: bool
    expires_at: datetime | None
    colleagues_shared: int
    topic_names: list[str]
    suggestions: list[FeedSuggestion] = field(default_factory=list)
    start: FeedSuggestion | None = None  # the words the composer starts from (the view picks)
    language: str = ""  # the item's own words' ("" = the organization's default; selectors.languages)


# The feed page in one statement: `feed_for`'s rows (live, targeted at the member, the
# filters, featured first then newest) with each card's suggestions, topics and colleagues.
# Django's ORM spent more time building the four queries of a page than PostgreSQL spent
# answering them; tests/content/test_sharing.py holds the two to the same rows.
_FEED_PAGE_SQL = """
SELECT i.id, i.title, i.url, i.description, i.featured, i.expires_at, i.language,
  (SELECT count(DISTINCT s.author_id) FROM content_share s
    WHERE s.organization_id = %(org)s AND s.item_id = i.id AND s.status <> %(cancelled)s
      AND s.author_id <> %(user)s) AS colleagues,
  (SELECT coalesce(json_agg(t.name ORDER BY t.name, t.id), '[]') FROM content_contentitem_topics it
    JOIN content_topic t ON t.id = it.topic_id AND t.organization_id = %(org)s
    WHERE it.contentitem_id = i.id) AS topics,
  (SELECT coalesce(json_agg(json_build_array(g.id, g.text, g.network) ORDER BY g.position, g.id), '[]')
    FROM content_suggestion g WHERE g.organization_id = %(org)s AND g.item_id = i.id) AS suggestions
FROM content_contentitem i
WHERE i.organization_id = %(org)s AND i.status = %(published)s
  AND (i.starts_at IS NULL OR i.starts_at <= %(now)s)
  AND (i.expires_at IS NULL OR i.expires_at > %(now)s)
  AND (NOT EXISTS (SELECT 1 FROM content_contentitem_target_teams tt WHERE tt.contentitem_id = i.id)
       OR EXISTS (SELECT 1 FROM content_contentitem_target_teams tt
                  JOIN accounts_membership_teams mt ON mt.team_id = tt.team_id
                  WHERE tt.contentitem_id = i.id AND mt.membership_id = %(membership)s))
  {filters}
ORDER BY i.featured DESC, i.published_at DESC, i.id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""
_FEED_FILTERS = {
    "topic": """AND EXISTS (SELECT 1 FROM content_contentitem_topics it JOIN content_topic t ON t.id = it.topic_id
                WHERE it.contentitem_id = i.id AND t.organization_id = %(org)s AND t.slug = %(topic)s)""",
    "followed": """AND EXISTS (SELECT 1 FROM content_contentitem_topics it
                JOIN content_topic_followers f ON f.topic_id = it.topic_id
                WHERE it.contentitem_id = i.id AND f.membership_id = %(membership)s)""",
    "search": "AND (i.title ILIKE %(like)s OR i.description ILIKE %(like)s)",
}


def _like(words: str) -> str:
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def feed_page(
    membership: Membership,
    *,
    topic: str = "",
    search: str = "",
    followed: bool = False,
    offset: int = 0,
    limit: int = 21,
    now=None,
) -> list[FeedCard]:
    """`limit` cards of the member's feed from `offset`, in one query (see _FEED_PAGE_SQL)."""
    filters = []
    if topic:
        filters.append(_FEED_FILTERS["topic"])
    if followed:
        filters.append(_FEED_FILTERS["followed"])
    if search:
        filters.append(_FEED_FILTERS["search"])
    rows = tenant_dicts(
        membership.organization_id,
        _FEED_PAGE_SQL.format(filters="\n  ".join(filters)),
        {
            "user": membership.user_id,
            "membership": membership.pk,
            "now": now or timezone.now(),
            "published": ContentItem.Status.PUBLISHED,
            "cancelled": Share.Status.CANCELLED,
            "topic": topic,
            "like": _like(search),
            "limit": limit,
            "offset": offset,
        },
    )
    return [
        FeedCard(
            pk=row["id"],
            title=row["title"],
            url=row["url"],
            description=row["description"],
            featured=row["featured"],
            expires_at=row["expires_at"],
            colleagues_shared=row["colleagues"],
            topic_names=row["topics"],
            suggestions=[FeedSuggestion(*s) for s in row["suggestions"]],
            language=row["language"],
        )
        for row in rows
    ]


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
