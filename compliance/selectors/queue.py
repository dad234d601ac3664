"""The review queue: open tasks, their counts, filters and the next one (tenant-scoped,
fixed query counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.paginator import Page, Paginator
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Network
from advocacy.sql import tenant_dicts
from compliance.models import Action, ReviewTask, ReviewTaskSupervisor
from content.models import Delivery, Share

AGE_CHOICES = [
    ("", _("Any age")),
    ("1", _("Over 1 hour")),
    ("4", _("Over 4 hours")),
    ("24", _("Over a day")),
    ("72", _("Over 3 days")),
]
SEVERITY_CHOICES = [
    ("", _("Any finding")),
    (Action.BLOCK, _("Blocking")),
    (Action.REVIEW, _("Needs review")),
    (Action.WARN, _("Warning")),
    ("none", _("No findings")),
]
ASSIGNED_CHOICES = [
    ("", _("Everyone's")),
    ("me", _("Mine")),
    ("supervised", _("Mine (supervised)")),
    ("unassigned", _("Unassigned")),
]


# No task waits a century: a longer "waiting at least" finds the same nothing, and more
# hours than this would overflow the date arithmetic (a 500, found by schemathesis).
MAX_AGE_HOURS = 24 * 366 * 100


@dataclass(frozen=True)
class QueueFilters:
    """What the queue is narrowed to; bad values are dropped, never an error."""

    team: int | None = None
    network: str = ""
    age_hours: int | None = None
    severity: str = ""
    assigned: str = ""

    @classmethod
    def from_params(cls, params) -> QueueFilters:
        def number(name):
            value = (params.get(name) or "").strip()
            return int(value) if value.isdigit() and len(value) < 10 else None

        age = number("age")
        network = params.get("network") or ""
        severity = params.get("severity") or ""
        assigned = params.get("assigned") or ""
        return cls(
            team=number("team"),
            network=network if network in Network.values else "",
            age_hours=None if age is None else min(age, MAX_AGE_HOURS),
            severity=severity if severity in dict(SEVERITY_CHOICES) else "",
            assigned=assigned if assigned in dict(ASSIGNED_CHOICES) else "",
        )


def open_tasks(organization) -> QuerySet:
    """Open review tasks whose share is still in review (a task whose share was cancelled
    meanwhile stays open but is not waiting). The share's organization is named too, so
    PostgreSQL reads the shares waiting through their small partial index
    (`share_in_review_idx`) instead of scanning every share for the status."""
    return ReviewTask.objects.for_org(organization).filter(
        closed_at__isnull=True, share__status=Share.Status.IN_REVIEW, share__organization=organization
    )


def queue_counts(organization, *, now=None) -> dict[str, int]:
    """{"waiting": shares waiting for a human, "overdue": those of them past their review
    deadline} (1 query). The deadline is set when a share enters the queue, the policy's
    `review_sla_hours` later; the queue page flags the same tasks."""
    now = now or timezone.now()
    return open_tasks(organization).aggregate(waiting=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))


def supervised_by(organization, user_id) -> ExpressionWrapper | Value:
    """True for a review task routed to `user_id` as one of its supervisors, as an expression.
    A task nobody in particular supervises (routed to every officer) is nobody's own.
    `id IN (the user's task ids)` rather than a correlated EXISTS: PostgreSQL reads the user's
    supervised tasks once into a hash, where EXISTS ran once per waiting task for the queue's
    sort (5,000 probes at 5,000 waiting)."""
    if not user_id:
        return Value(False, output_field=BooleanField())
    supervised = (
        ReviewTaskSupervisor.objects.for_org(organization)
        .filter(user_id=user_id)
        .exclude(reason=ReviewTaskSupervisor.Reason.EVERYONE)
        .values("task_id")
    )
    return ExpressionWrapper(Q(pk__in=supervised), output_field=BooleanField())


def review_queue(organization, filters: QueueFilters = QueueFilters(), *, user_id=None, now=None) -> QuerySet:
    """Open review tasks of shares still in review: the ones `user_id` supervises first, then
    the rest, each group soonest deadline first; `is_overdue` and `is_mine` (supervised by
    `user_id`) set. Rows only: the page reads its 50 through `review_queue_page`, the API
    loads its own with `with_row_relations`."""
    now = now or timezone.now()
    tasks = open_tasks(organization).annotate(
        is_overdue=ExpressionWrapper(Q(due_at__lt=now), output_field=BooleanField()),
        is_mine=supervised_by(organization, user_id),
    )
    if filters.team:
        tasks = tasks.filter(team_id=filters.team)
    if filters.network:
        deliveries = Delivery.objects.for_org(organization).filter(share_id=OuterRef("share_id"))
        tasks = tasks.filter(
            Exists(deliveries.filter(network=filters.network).exclude(status=Delivery.Status.CANCELLED))
        )
    if filters.age_hours:
        tasks = tasks.filter(opened_at__lte=now - timedelta(hours=filters.age_hours))
    if filters.severity == "none":
        tasks = tasks.filter(worst_action="")
    elif filters.severity:
        tasks = tasks.filter(worst_action=filters.severity)
    if filters.assigned == "me" and user_id:
        tasks = tasks.filter(assigned_to_id=user_id)
    elif filters.assigned == "supervised":
        tasks = tasks.filter(is_mine=True) if user_id else tasks.none()
    elif filters.assigned == "unassigned":
        tasks = tasks.filter(assigned_to__isnull=True)
    return tasks.order_by("-is_mine", "due_at", "pk") if user_id else tasks.order_by("due_at", "pk")


@dataclass
class QueueRow:
    """What one row of the queue page shows (`review_queue_page`)."""

    pk: int
    share_id: int
    worst_action: str
    networks: list[str]
    due_at: datetime
    opened_at: datetime
    escalated_at: datetime | None
    assigned_to_id: int | None
    assignee_name: str
    team_name: str
    team_kind: str
    version: int
    commentary: str
    author_id: int
    author_name: str
    title: str
    is_overdue: bool = False
    is_mine: bool = False


# The page's rows, once their ids are known: each task with what its row shows of its share,
# author, item, team and assignee, in one statement (the ORM's select and four prefetches
# cost more to build than PostgreSQL spent answering them). The networks come as a text array:
# a JSON column read raw is its text, which the page drew one character a chip.
_QUEUE_ROWS_SQL = """
SELECT t.id AS pk, t.share_id, t.worst_action,
       ARRAY(SELECT jsonb_array_elements_text(t.networks)) AS networks, t.due_at, t.opened_at, t.escalated_at,
       t.assigned_to_id, coalesce(nullif(assignee.name, ''), assignee.email, '') AS assignee_name,
       coalesce(team.name, '') AS team_name, coalesce(team.kind, '') AS team_kind,
       s.version, s.commentary, s.author_id, coalesce(nullif(author.name, ''), author.email) AS author_name,
       i.title
FROM compliance_reviewtask t
JOIN content_share s ON s.id = t.share_id AND s.organization_id = %(org)s
JOIN accounts_user author ON author.id = s.author_id
JOIN content_contentitem i ON i.id = s.item_id AND i.organization_id = %(org)s
LEFT JOIN accounts_team team ON team.id = t.team_id AND team.organization_id = %(org)s
LEFT JOIN accounts_user assignee ON assignee.id = t.assigned_to_id
WHERE t.organization_id = %(org)s AND t.id = ANY(%(ids)s)
"""


def review_queue_page(
    organization, filters: QueueFilters = QueueFilters(), *, user_id=None, number: int = 1, per_page: int = 50, now=None
) -> Page:
    """One page of `review_queue` as a Page of `QueueRow`s whose paginator already knows the
    count, read in two narrow steps: the page's task ids, sort keys only, with the count of
    every waiting task (one statement: a window count over the rows the sort reads anyway),
    then those rows (`_QUEUE_ROWS_SQL`). Sorting 5,000 full rows (each task joined to its
    share's columns) cost twice as much as sorting their ids. A number past the last page
    gives the last page, as `Paginator.get_page` does."""
    now = now or timezone.now()
    ordered = review_queue(organization, filters, user_id=user_id, now=now)
    keys = ordered.annotate(total=Window(Count("pk"))).values_list("pk", "total", "is_mine")
    paginator = Paginator([], per_page)
    number = max(number, 1)
    rows = list(keys[(number - 1) * per_page : number * per_page])
    if not rows and number > 1:  # past the end: the count says where the last page is
        total = ordered.count()
        number = max(1, -(-total // per_page))
        rows = list(keys[(number - 1) * per_page : number * per_page])
    paginator.count = rows[0][1] if rows else 0
    mine = {pk: bool(is_mine) for pk, _, is_mine in rows}
    found = tenant_dicts(organization, _QUEUE_ROWS_SQL, {"ids": list(mine)}) if rows else []
    loaded = {row["pk"]: QueueRow(**row, is_overdue=row["due_at"] < now, is_mine=mine[row["pk"]]) for row in found}
    # A task closed between the two reads is left out of this page.
    return Page([loaded[pk] for pk in mine if pk in loaded], number, paginator)


def with_row_relations(tasks: QuerySet) -> QuerySet:
    """Review tasks with their share, its author and item, the team and the assignee loaded
    (5 queries a page: the tasks with their shares, then the others for that page only; joined
    in the first query, PostgreSQL would join them for every waiting task before sorting)."""
    return tasks.select_related("share").prefetch_related("share__author", "share__item", "team", "assigned_to")


def review_tasks(organization, *, user_id=None) -> QuerySet:
    """Every review task of the organization, open or closed, loaded like the queue's."""
    return (
        ReviewTask.objects.for_org(organization)
        .select_related("share", "share__author", "share__item", "team", "assigned_to")
        .annotate(
            is_overdue=ExpressionWrapper(
                Q(closed_at__isnull=True, due_at__lt=timezone.now()), output_field=BooleanField()
            ),
            is_mine=supervised_by(organization, user_id),
        )
    )


def compliance_officers(organization) -> list[Membership]:
    """Who a task can be assigned to (1 query)."""
    return list(
        Membership.objects.for_org(organization)
        .filter(is_compliance=True, is_active=True)
        .select_related("user")
        .order_by("user__email")
    )


def next_in_queue(organization, *, after_share_id: int, user_id=None, now=None) -> ReviewTask | None:
    """The waiting share to open after this one, in the queue's order: the ones `user_id`
    supervises first, then the soonest deadline; never this one (1 query)."""
    order = ("-is_mine", "due_at", "pk") if user_id else ("due_at", "pk")
    return (
        open_tasks(organization)
        .annotate(is_mine=supervised_by(organization, user_id))
        .exclude(share_id=after_share_id)
        .order_by(*order)
        .only("pk", "share_id", "due_at")
        .first()
    )
