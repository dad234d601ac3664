"""The compliance dashboard's numbers (4 queries whatever the volume), and promise 1 checked
after the fact: nothing on a network that wanted a human without that human's approval.

The figures about decisions count human decisions only (a reviewer decided); versions that
went out without a human (the policy routed them straight to publishing: no findings under
"only shares with findings", an unchanged pre-approved suggestion, "no review") are counted
apart as auto-approvals, never as decisions, so a share whose second version was approved
by the policy neither lowers nor raises the approval rate."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Q,
    QuerySet,
)
from django.db.models.functions import Extract
from django.utils import timezone

from advocacy.sql import tenant_rows
from compliance.models import Action, Decision, Screening
from compliance.selectors.queue import queue_counts
from content import lifecycle
from content.models import Delivery


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
    auto_approved: int = 0

    @property
    def median_minutes(self) -> float | None:
        return None if self.median_hours is None else self.median_hours * 60

    @property
    def approval_rate(self) -> float | None:
        """Share of human decisions in the period that approved, 0..1 (None: no human decided
        anything, which is not 0%)."""
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


# A screening's outcome is the share's status right after routing: approved or scheduled
# means the policy let that version through without a human.
AUTO_APPROVED_OUTCOMES = ("approved", "scheduled")


def auto_approved_count(organization, since, now) -> int:
    """Versions of shares the policy approved without a human in the period (1 query)."""
    return (
        Screening.objects.for_org(organization)
        .filter(created_at__gte=since, created_at__lte=now, outcome__in=AUTO_APPROVED_OUTCOMES)
        .count()
    )


def top_rules(organization, since, now, top: int) -> list[tuple[str, int]]:
    """Rules found most often (once per screening), counted by PostgreSQL (1 query)."""
    rows = tenant_rows(organization, _TOP_RULES_SQL, {"since": since, "now": now, "top": top})
    return [(rule, n) for rule, n in rows]


def dashboard_numbers(organization, *, days: int = 30, now=None, top: int = 10) -> DashboardNumbers:
    """The compliance dashboard over the last `days` (4 queries, whatever the volume):
    queue size and overdue now; human decisions in the period with the median time from
    entering the queue (the review task's opening) to the decision, and the approval rate;
    the versions approved by the policy without a human, apart; the rules found most often
    (once per screening), aggregated by PostgreSQL."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    queue = queue_counts(organization, now=now)
    decided, approved, median = decision_numbers(_decisions_in(organization, since, now))
    rules = top_rules(organization, since, now, top)
    auto = auto_approved_count(organization, since, now)
    return DashboardNumbers(
        since=since,
        until=now,
        queue_size=queue["waiting"],
        overdue=queue["overdue"],
        decided=decided,
        approved=approved,
        median_hours=median,
        top_findings=rules,
        auto_approved=auto,
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
