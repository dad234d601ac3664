"""Compliance reads shared by pages and the API, tenant-scoped, with fixed query counts, one
module a concept: `queue` (the review queue), `review` (one review: findings, versions,
diffs), `dashboard` (the dashboard's numbers and promise 1 checked after the fact), `audit`
(the audit log and archive pages) and `policy` (the policy editor).

The queue's, the review's and the dashboard's public names are re-exported here, so
`from compliance.selectors import review_queue` and `selectors.review_for(...)` read as
before; the audit and policy reads are imported from their modules.
"""

from compliance.selectors.dashboard import (
    DashboardNumbers,
    auto_approved_count,
    dashboard_numbers,
    decision_numbers,
    published_without_approval,
    top_rules,
)
from compliance.selectors.queue import (
    AGE_CHOICES,
    ASSIGNED_CHOICES,
    MAX_AGE_HOURS,
    SEVERITY_CHOICES,
    QueueFilters,
    compliance_officers,
    next_in_queue,
    open_tasks,
    queue_counts,
    review_queue,
    review_queue_page,
    review_tasks,
    with_row_relations,
)
from compliance.selectors.review import NetworkFindings, Review, Segment, all_words, diff_words, highlight, review_for

__all__ = [
    "AGE_CHOICES",
    "ASSIGNED_CHOICES",
    "MAX_AGE_HOURS",
    "SEVERITY_CHOICES",
    "DashboardNumbers",
    "NetworkFindings",
    "QueueFilters",
    "Review",
    "Segment",
    "all_words",
    "auto_approved_count",
    "compliance_officers",
    "dashboard_numbers",
    "decision_numbers",
    "diff_words",
    "highlight",
    "next_in_queue",
    "open_tasks",
    "published_without_approval",
    "queue_counts",
    "review_for",
    "review_queue",
    "review_queue_page",
    "review_tasks",
    "top_rules",
    "with_row_relations",
]
