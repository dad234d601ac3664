"""Full-text search over what was posted and decided (issue 19, item 4): "show every post
that mentioned X and who approved it" in one search.

A hit is a share version: its own words (the commentary and the words per network), the
texts screening saw and its findings, or the reviewer's comment on it match. Each hit comes
with its author, team, networks, date, the decision on that version and who made it, and the
matched words marked. PostgreSQL full-text search over stored tsvector columns with GIN
indexes (advocacy.search): nothing is recomputed per search. Tenant-scoped; one query for a
page of hits (the decision, the reviewer and the networks are subqueries), one for the count.
"""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.search import SearchHeadline, SearchRank
from django.db.models import CharField, Exists, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Network, Team
from advocacy.search import search_config, search_query
from compliance.models import Decision, Screening
from content.models import Delivery, ShareVersion

# Decision filter: value -> words. "auto": approved by the policy, without a reviewer.
DECISION_CHOICES = [
    ("", _("Any decision")),
    ("approved", _("Approved by a reviewer")),
    ("auto", _("Approved by the policy")),
    ("rejected", _("Rejected")),
    ("changes_requested", _("Sent back")),
    ("none", _("No decision yet")),
]
NETWORK_CHOICES = [("", _("Any network")), *Network.choices]

# ts_headline marks the matched words with these; `marked` escapes the rest and turns them into
# <mark>. Characters no text of ours uses, so a post cannot forge a mark.
_START, _STOP = "\ue000", "\ue001"
EXPORT_LIMIT = 50_000


@dataclass(frozen=True)
class SearchFilters:
    """What an officer searches for; every filter optional. Days are in the viewer's zone."""

    q: str = ""
    person: int | None = None  # the author's user id
    team: int | None = None
    network: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    decision: str = ""

    def as_dict(self) -> dict:
        return {k: v for k, v in vars(self).items() if v not in ("", None)}


def people(organization) -> list[tuple[int, str]]:
    """Authors to filter by: the organization's members, by name (1 query)."""
    rows = (
        Membership.objects.for_org(organization)
        .select_related("user")
        .order_by("user__name", "user__email")
        .values_list("user_id", "user__name", "user__email")
    )
    return [(user_id, name or email) for user_id, name, email in rows]


def teams(organization) -> list[tuple[int, str]]:
    """Teams to filter by (1 query)."""
    return list(Team.objects.for_org(organization).order_by("name").values_list("pk", "name"))


def version_hits(
    organization, filters: SearchFilters, *, zone: str = "UTC", marks: bool = True
) -> QuerySet[ShareVersion]:
    """Share versions of the organization matching `filters`, best match first (newest first
    without words). Each carries `decision_outcome`, `reviewer_name` ("" for the policy),
    `decided_at`, `decision_comment`, `networks`, `rank`, and with `marks` `text_marked` /
    `comment_marked` (the text with the matched words between markers; see `marked`): the
    page shows them, the export (up to 50,000 rows) does not pay for them."""
    decisions = Decision.objects.for_org(organization).filter(share_id=OuterRef("share_id"), version=OuterRef("number"))
    networks = (
        Delivery.objects.for_org(organization)
        .filter(share_id=OuterRef("share_id"))
        .order_by()
        .values("share_id")
        .annotate(names=ArrayAgg("network", distinct=True))
        .values("names")
    )
    qs = (
        ShareVersion.objects.for_org(organization)
        .select_related("share__author", "share__team", "share__item")
        .defer("search_vector")
        .annotate(
            decision_outcome=Subquery(decisions.values("outcome")[:1]),
            decision_reviewer=Subquery(decisions.values("reviewer_id")[:1]),
            reviewer_name=Subquery(
                decisions.annotate(
                    who=Coalesce(NullIf(F("reviewer__name"), Value("")), F("reviewer__email"), output_field=CharField())
                ).values("who")[:1]
            ),
            decided_at=Subquery(decisions.values("decided_at")[:1]),
            decision_comment=Subquery(decisions.values("comment")[:1]),
            networks=Subquery(networks),
        )
    )
    words = filters.q.strip()
    if words:
        config = search_config(organization)
        query = search_query(words, config)
        versions = ShareVersion.objects.for_org(organization)
        # the version's words, what screening saw and found, or the reviewer's comment: each
        # side reads its GIN index, and the union of their ids picks the versions
        matching = (
            versions.filter(search_vector=query)
            .values("pk")
            .union(
                Screening.objects.for_org(organization)
                .filter(search_vector=query, version__isnull=False)
                .values("version_id"),
                versions.filter(share__decisions__search_vector=query, share__decisions__version=F("number")).values(
                    "pk"
                ),
            )
        )
        qs = qs.annotate(rank=SearchRank(F("search_vector"), query)).filter(pk__in=matching)
        if marks:
            qs = qs.annotate(
                text_marked=_headline("commentary", query, config),
                comment_marked=Subquery(decisions.annotate(h=_headline("comment", query, config)).values("h")[:1]),
            )
        order = ["-rank", "-created_at", "-pk"]
    else:
        order = ["-created_at", "-pk"]
    if filters.person:
        qs = qs.filter(share__author_id=filters.person)
    if filters.team:
        qs = qs.filter(share__team_id=filters.team)
    if filters.network:
        on = Delivery.objects.for_org(organization).filter(share_id=OuterRef("share_id"), network=filters.network)
        qs = qs.filter(Exists(on))
    tz = zoneinfo.ZoneInfo(zone)
    if filters.date_from:
        qs = qs.filter(created_at__gte=datetime.datetime.combine(filters.date_from, datetime.time.min, tzinfo=tz))
    if filters.date_to:
        end = filters.date_to + datetime.timedelta(days=1)
        qs = qs.filter(created_at__lt=datetime.datetime.combine(end, datetime.time.min, tzinfo=tz))
    if filters.decision == "none":
        qs = qs.filter(decision_outcome__isnull=True)
    elif filters.decision == "auto":
        qs = qs.filter(decision_outcome=Decision.Outcome.APPROVED, decision_reviewer__isnull=True)
    elif filters.decision == Decision.Outcome.APPROVED:
        qs = qs.filter(decision_outcome=Decision.Outcome.APPROVED, decision_reviewer__isnull=False)
    elif filters.decision in Decision.Outcome.values:
        qs = qs.filter(decision_outcome=filters.decision)
    return qs.order_by(*order)


def _headline(column: str, query, config: str) -> SearchHeadline:
    return SearchHeadline(
        column, query, config=config, start_sel=_START, stop_sel=_STOP, highlight_all=True, max_fragments=0
    )


def marked(text: str | None) -> SafeString:
    """A headline with its matched words in <mark>, everything else escaped."""
    safe = escape(text or "")
    return mark_safe(safe.replace(_START, '<mark class="search-hit">').replace(_STOP, "</mark>"))  # noqa: S308


def decision_label(outcome: str | None, reviewer_name: str | None) -> str:
    """ "Approved by Dana Officer", "Approved by the policy", "" before a decision."""
    if not outcome:
        return ""
    words = Decision.Outcome(outcome).label if outcome in Decision.Outcome.values else outcome
    return gettext("%(decision)s by %(who)s") % {"decision": words, "who": reviewer_name or gettext("the policy")}
