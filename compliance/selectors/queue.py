"""Compliance reads shared by pages and the API, tenant-scoped, with fixed query counts:
the review queue, one review (findings, versions, diffs) and the dashboard's numbers."""

from __future__ import annotations

import difflib
import hashlib
import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    Aggregate,
    BooleanField,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.functions import Extract
from django.utils import timezone

from accounts.models import Membership, Network
from advocacy.sql import tenant_rows
from compliance.models import Action, Decision, ReviewTask, Screening
from content import lifecycle
from content.models import Delivery, Share

# --- the queue ------------------------------------------------------------------------------

AGE_CHOICES = [
    ("", "Any age"),
    ("1", "Over 1 hour"),
    ("4", "Over 4 hours"),
    ("24", "Over a day"),
    ("72", "Over 3 days"),
]
SEVERITY_CHOICES = [
    ("", "Any finding"),
    (Action.BLOCK, "Blocking"),
    (Action.REVIEW, "Needs review"),
    (Action.WARN, "Warning"),
    ("none", "No findings"),
]
ASSIGNED_CHOICES = [("", "Everyone's"), ("me", "Mine"), ("unassigned", "Unassigned")]


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


def review_queue(organization, filters: QueueFilters = QueueFilters(), *, user_id=None, now=None) -> QuerySet:
    """Open review tasks of shares still in review, soonest deadline first, each with its
    share, author, item, team and assignee loaded and `is_overdue` set (5 queries a page:
    the tasks with their shares, then the others for that page only; joined in the first
    query, PostgreSQL would join them for every waiting task before sorting and cutting)."""
    now = now or timezone.now()
    tasks = (
        open_tasks(organization)
        .select_related("share")
        .prefetch_related("share__author", "share__item", "team", "assigned_to")
        .annotate(is_overdue=ExpressionWrapper(Q(due_at__lt=now), output_field=BooleanField()))
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
    elif filters.assigned == "unassigned":
        tasks = tasks.filter(assigned_to__isnull=True)
    return tasks.order_by("due_at", "pk")


def review_tasks(organization) -> QuerySet:
    """Every review task of the organization, open or closed, loaded like the queue's."""
    return (
        ReviewTask.objects.for_org(organization)
        .select_related("share", "share__author", "share__item", "team", "assigned_to")
        .annotate(
            is_overdue=ExpressionWrapper(
                Q(closed_at__isnull=True, due_at__lt=timezone.now()), output_field=BooleanField()
            )
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


def next_in_queue(organization, *, after_share_id: int, now=None) -> ReviewTask | None:
    """The waiting share to open after this one: the soonest deadline that is not it (1 query)."""
    return (
        open_tasks(organization)
        .exclude(share_id=after_share_id)
        .order_by("due_at", "pk")
        .only("pk", "share_id", "due_at")
        .first()
    )


# --- one review -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A run of text: in a diff `kind` is equal / insert / delete; in highlighted text,
    `findings` lists the findings covering it (empty: plain text)."""

    text: str
    kind: str = "equal"
    findings: tuple = ()

    @property
    def action(self) -> str:
        """The most severe action among the findings covering this run."""
        order = {Action.BLOCK: 3, Action.REVIEW: 2, Action.WARN: 1}
        return max((f.get("action", "") for f in self.findings), key=lambda a: order.get(a, 0), default="")

    @property
    def title(self) -> str:
        return "; ".join(f.get("message") or f.get("rule", "") for f in self.findings)


_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def diff_words(old: str, new: str) -> list[Segment]:
    """Word-level differences from `old` to `new` (difflib), readable rather than minimal:
    a change is shown as everything removed, then everything added; a lone unchanged space or
    word between two changes joins them; a text rewritten almost entirely is shown
    as replaced whole."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    if a and b and matcher.ratio() < 0.3:
        return [Segment(old, "delete"), Segment(new, "insert")]
    runs = [
        [op == "equal", "".join(a[i1:i2]), "".join(b[j1:j2]), i2 - i1] for op, i1, i2, j1, j2 in matcher.get_opcodes()
    ]
    merged: list[list] = []
    for index, (same, old_text, new_text, size) in enumerate(runs):
        between_changes = 0 < index < len(runs) - 1 and not runs[index - 1][0] and not runs[index + 1][0]
        if same and size <= 1 and between_changes:
            same = False
        if merged and not same and not merged[-1][0]:
            merged[-1][1] += old_text
            merged[-1][2] += new_text
        else:
            merged.append([same, old_text, new_text])
    out: list[Segment] = []
    for same, old_text, new_text in merged:
        if same:
            out.append(Segment(old_text, "equal"))
            continue
        if old_text:
            out.append(Segment(old_text, "delete"))
        if new_text:
            out.append(Segment(new_text, "insert"))
    return out


def highlight(text: str, findings: list[dict]) -> list[Segment]:
    """The text cut at every finding boundary; each run knows the findings covering it."""
    spans = [f for f in findings if 0 <= f.get("start", 0) < f.get("end", 0) <= len(text)]
    cuts = sorted({0, len(text), *(f["start"] for f in spans), *(f["end"] for f in spans)})
    out = []
    for start, end in itertools.pairwise(cuts):
        covering = tuple(f for f in spans if f["start"] <= start and end <= f["end"])
        out.append(Segment(text[start:end], findings=covering))
    return out


@dataclass
class NetworkFindings:
    network: str
    label: str
    text: str
    findings: list[dict]
    segments: list[Segment]


@dataclass
class Review:
    share: Share
    task: ReviewTask | None
    versions: list
    screening: Screening | None
    decisions: list[Decision]
    deliveries: list[Delivery]
    networks: list[NetworkFindings] = field(default_factory=list)
    diff_suggestion: list[Segment] | None = None
    diff_previous: list[Segment] | None = None
    previous_number: int | None = None
    # The last "send back" or "reject" of an earlier version: its note, and the words since.
    sent_back: Decision | None = None
    diff_sent_back: list[Segment] | None = None

    @property
    def finding_count(self) -> int:
        return sum(len(n.findings) for n in self.networks)


def review_for(organization, share_id: int) -> Review | None:
    """Everything a reviewer needs about one share (5 queries), or None if it is not this
    organization's: the share with author, item, team, suggestion and review task; every
    version; the latest screening's findings per network as highlighted runs; decisions;
    deliveries; the diff against the suggestion it started from and the previous version."""
    share = (
        Share.objects.for_org(organization)
        .select_related("author", "item", "team", "suggestion", "review_task", "review_task__assigned_to")
        .filter(pk=share_id)
        .first()
    )
    if share is None:
        return None
    try:
        task = share.review_task
    except ReviewTask.DoesNotExist:
        task = None
    versions = list(share.versions.all().order_by("number"))
    screening = Screening.objects.for_org(organization).filter(share_id=share.pk).order_by("-created_at", "-pk").first()
    decisions = list(
        Decision.objects.for_org(organization)
        .filter(share_id=share.pk)
        .select_related("reviewer")
        .order_by("-decided_at")
    )
    deliveries = list(Delivery.objects.for_org(organization).filter(share_id=share.pk).select_related("connection"))
    review = Review(
        share=share, task=task, versions=versions, screening=screening, decisions=decisions, deliveries=deliveries
    )
    if screening is not None:
        labels = dict(Network.choices)
        for network in sorted(set(screening.texts) | set(screening.findings)):
            text = screening.texts.get(network, "")
            found = sorted(
                (
                    {**f, "matched": text[f.get("start", 0) : f.get("end", 0)]}
                    for f in screening.findings.get(network, [])
                ),
                key=lambda f: (f.get("start", 0), f.get("end", 0)),
            )
            review.networks.append(
                NetworkFindings(network, labels.get(network, network), text, found, highlight(text, found))
            )
    if share.suggestion is not None:
        review.diff_suggestion = diff_words(share.suggestion.text.strip(), share.commentary)
    current = all_words(share.commentary, share.network_texts)
    earlier = [v for v in versions if v.number < share.version]
    if earlier:
        review.diff_previous = diff_words(all_words(earlier[-1].commentary, earlier[-1].network_texts), current)
        review.previous_number = earlier[-1].number
    refused = [d for d in decisions if d.outcome != Decision.Outcome.APPROVED and d.version < share.version]
    if refused:
        review.sent_back = refused[0]
        then = next((v for v in versions if v.number == refused[0].version), None)
        if then is not None:
            review.diff_sent_back = diff_words(all_words(then.commentary, then.network_texts), current)
    return review


def all_words(commentary: str, network_texts: dict | None) -> str:
    """A version's words for the diffs between versions: the common ones, then each network's
    own ("X only: ..."), so that a change made in one network's tab shows too."""
    labels = dict(Network.choices)
    own = [f"{labels.get(net, net)} only: {words}" for net, words in sorted((network_texts or {}).items())]
    return "\n\n".join([commentary.strip(), *own])


# --- the dashboard --------------------------------------------------------------------------


@dataclass
class DashboardNumbers:
    since: datetime
    until: datetime
    queue_size: int
    overdue: int
    decided: int
    approved: int
    median_hours: float | None
    top_findings: list[tuple[str, int]]

    @property
    def median_minutes(self) -> float | None:
        return None if self.median_hours is None else self.median_hours * 60

    @property
    def approval_rate(self) -> float | None:
        """Share of human decisions in the period that approved, 0..1 (None: none decided)."""
        return self.approved / self.decided if self.decided else None


class _Median(Aggregate):
    """PostgreSQL's median of an expression (nulls ignored)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def _decisions_in(organization, since, now) -> QuerySet:
    """Human decisions in the period (each knows when its version entered review)."""
    return Decision.objects.for_org(organization).filter(
        reviewer__isnull=False, decided_at__gte=since, decided_at__lte=now
    )


def decision_numbers(decisions: QuerySet) -> tuple[int, int, float | None]:
    """(decided, approved, median hours from entering review to the decision), computed by
    PostgreSQL (1 query)."""
    wait = ExpressionWrapper(F("decided_at") - F("review_opened_at"), output_field=DurationField())
    row = decisions.aggregate(
        decided=Count("pk"),
        approved=Count("pk", filter=Q(outcome=Decision.Outcome.APPROVED)),
        median=_Median(Extract(wait, "epoch")),
    )
    return row["decided"], row["approved"], None if row["median"] is None else row["median"] / 3600


_TOP_RULES_SQL = f"""
    SELECT finding.value ->> 'rule' AS rule, COUNT(DISTINCT s.id) AS n
    FROM {Screening._meta.db_table} s
    CROSS JOIN LATERAL jsonb_each(s.findings) AS per_network(network, value)
    CROSS JOIN LATERAL jsonb_array_elements(per_network.value) AS finding(value)
    WHERE s.organization_id = %(org)s AND s.created_at >= %(since)s AND s.created_at <= %(now)s
      AND s.worst_action <> '' AND COALESCE(finding.value ->> 'rule', '') <> ''
    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %(top)s
"""  # noqa: S608 - the table name is ours, every value is a parameter


def top_rules(organization, since, now, top: int) -> list[tuple[str, int]]:
    """Rules found most often (once per screening), counted by PostgreSQL (1 query)."""
    rows = tenant_rows(organization, _TOP_RULES_SQL, {"since": since, "now": now, "top": top})
    return [(rule, n) for rule, n in rows]


def dashboard_numbers(organization, *, days: int = 30, now=None, top: int = 10) -> DashboardNumbers:
    """The compliance dashboard over the last `days` (3 queries, whatever the volume):
    queue size and overdue now; human decisions in the period with the median time from
    entering the queue (the review task's opening) to the decision, and the approval rate;
    the rules found most often (once per screening), aggregated by PostgreSQL."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    queue = queue_counts(organization, now=now)
    decided, approved, median = decision_numbers(_decisions_in(organization, since, now))
    rules = top_rules(organization, since, now, top)
    return DashboardNumbers(
        since=since,
        until=now,
        queue_size=queue["waiting"],
        overdue=queue["overdue"],
        decided=decided,
        approved=approved,
        median_hours=median,
        top_findings=rules,
    )


# --- promise 1, checked after the fact ------------------------------------------------------


def published_without_approval(organization) -> list[Delivery]:
    """Every delivery that is on a network (published, or posted with its id unknown) although
    the policy wanted a human for its share (it went to review, or a screening of it found
    something to review or block) and no reviewer approved exactly that text: a decision
    "approved" on its share whose hash for this delivery is the sha256 of the delivery's
    text. It must always be empty; the compliance dashboard shows it and the archive lists
    it. Two queries whatever the history (the candidates, then their approvals)."""
    wanted_human = Q(share__review_required=True) | Q(share__screenings__worst_action__in=[Action.REVIEW, Action.BLOCK])
    candidates = list(
        Delivery.objects.for_org(organization)
        .filter(wanted_human, status__in=sorted(lifecycle.DELIVERY_POSTED))
        .select_related("share")
        .distinct()
        .order_by("pk")
    )
    if not candidates:
        return []
    approved: dict[int, set[str]] = {}
    decisions = Decision.objects.for_org(organization).filter(
        share_id__in={d.share_id for d in candidates}, outcome=Decision.Outcome.APPROVED
    )
    for share_id, hashes in decisions.values_list("share_id", "text_hashes"):
        approved.setdefault(share_id, set()).update(f"{key}:{value}" for key, value in (hashes or {}).items())
    return [
        d
        for d in candidates
        if f"{d.pk}:{hashlib.sha256(d.text.encode('utf-8')).hexdigest()}" not in approved.get(d.share_id, set())
    ]
