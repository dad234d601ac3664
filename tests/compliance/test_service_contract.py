"""The compliance app's service contract: every write takes `actor` keyword-only and checks
the permission map inside the service (`require`, no role helpers of its own); a wrong role
is PermissionDenied and writes nothing."""

from __future__ import annotations

import datetime
import inspect

import pytest
from django.core.exceptions import PermissionDenied

from accounts.models import Role
from compliance.selectors.search import SearchFilters
from compliance.services import (
    archive,
    archive_feed,
    audit,
    audit_search,
    holds,
    policy,
    retention,
    review,
    screening,
    supervision,
)
from tests.accounts.factories import MembershipFactory
from tests.service_contract import database_snapshot, public_functions, takes_actor

WRITES = {
    review: {"claim", "assign", "unassign", "decide", "bulk_approve"},
    policy: {
        "update_policy",
        "confirm_policy_change",
        "withdraw_policy_change",
        "add_term",
        "remove_term",
        "update_term",
        "import_terms",
        "add_pattern",
        "remove_pattern",
        "add_domain",
        "remove_domain",
        "set_review_rule",
        "remove_review_rule",
    },
    archive: {"request_export", "record_download"},
    archive_feed: {"save_destination", "check_destination", "request_run"},
    retention: {"set_retention"},
    supervision: {"add_supervisor", "remove_supervisor"},
    holds: {"place_hold", "change_hold", "release_hold"},
    audit_search: {"export_search"},
}
# Workers, schedules and the screening of a submitted share: no person acts.
SYSTEM = {
    review: {"record_screening"},
    archive: {"build_export", "write_archive"},
    archive_feed: {"deliver"},
    audit: {"record_entry", "record_entries", "anchor_heads", "chain_pending", "chain_all_pending"},
    policy: {"get_or_create_policy"},
    supervision: {"route_review_task", "escalate_overdue", "escalate_task"},
    retention: {"purge_expired_records"},
}
PURE_OR_READS = {
    review: {"policy_of", "worst_action"},
    policy: {"parse_terms"},
    archive: {
        "range_bounds",
        "shares_in_range",
        "share_chunks",
        "share_records",
        "share_record",
        "audit_record",
        "audit_head",
    },
    archive_feed: {"post_file", "decision_file", "feed_files", "due_destinations"},
    audit: {
        "canonical_value",
        "entry_payload",
        "canonical_json",
        "signing_keys",
        "compute_hash",
        "iter_chain",
        "verify_chain",
        "anchors_of",
        "latest_anchor",
        "check_anchors",
    },
    retention: {
        "retention_years",
        "retained_until",
        "check_share_deletable",
        "refuse_deletion",
        "expired_shares",
        "organizations_purging",
        "retention_settings",
    },
    screening: {
        "compiled_policy_for",
        "review_mode_for",
        "decide",
        "disclosure_applier",
        "screen_share",
        "check_text",
    },
    supervision: {"supervisors_for", "escalation_pool"},
}
MODULES = (archive, archive_feed, audit, audit_search, holds, policy, retention, review, screening, supervision)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_every_public_function_is_sorted_and_every_write_takes_an_actor(module):
    writes = WRITES.get(module, set())
    sorted_out = writes | SYSTEM.get(module, set()) | PURE_OR_READS.get(module, set())
    assert set(public_functions(module)) == sorted_out, "sort the new function into WRITES, SYSTEM or PURE_OR_READS"
    assert [name for name in sorted(writes) if not takes_actor(getattr(module, name))] == []


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_roles_are_checked_with_the_permission_map_only(module):
    source = inspect.getsource(module)
    assert "_require_" not in source and "can(" not in source


@pytest.fixture
def people(db):
    officer = MembershipFactory(roles=[Role.COMPLIANCE])
    org = officer.organization
    return {
        "employee": MembershipFactory(organization=org, roles=[Role.EMPLOYEE]),
        "marketer": MembershipFactory(organization=org, roles=[Role.MARKETER]),
        "officer": officer,
    }


TODAY = datetime.date(2026, 1, 15)
POLICY = {
    "review_mode": "all",
    "auto_approve_suggestions": False,
    "four_eyes": True,
    "review_sla_hours": 24,
    "disclosure": "",
    "disclosure_mode": "off",
    "restrict_link_domains": False,
    "link_domain_action": "review",
}
# (write, its arguments but the actor): ids need not exist, the role is checked first.
CALLS = [
    (review.claim, {"review_task_id": 1}),
    (review.assign, {"review_task_id": 1, "user_id": 1}),
    (review.unassign, {"review_task_id": 1}),
    (review.decide, {"share_id": 1, "outcome": "approved"}),
    (review.bulk_approve, {"share_ids": [1]}),
    (policy.update_policy, POLICY),
    (policy.confirm_policy_change, {"change_id": 1}),
    (policy.withdraw_policy_change, {"change_id": 1}),
    (policy.add_term, {"term": "guaranteed"}),
    (policy.remove_term, {"lexicon_term_id": 1}),
    (policy.update_term, {"lexicon_term_id": 1, "action": "warn", "exceptions": ["not guaranteed"]}),
    (policy.import_terms, {"text": "guaranteed\nrisk-free"}),
    (policy.add_pattern, {"name": "Prices", "pattern": r"\$\d+"}),
    (policy.remove_pattern, {"pattern_rule_id": 1}),
    (policy.add_domain, {"domain": "acme.example"}),
    (policy.remove_domain, {"allowed_domain_id": 1}),
    (policy.set_review_rule, {"review_mode": "none"}),
    (policy.remove_review_rule, {"review_rule_id": 1}),
    (archive.request_export, {"date_from": TODAY, "date_to": TODAY}),
    (archive.record_download, {"export": None}),
    (archive_feed.save_destination, {"name": "Vendor", "kind": "s3", "bucket": "b"}),
    (archive_feed.check_destination, {"archive_destination_id": 1}),
    (archive_feed.request_run, {"archive_destination_id": 1}),
    (retention.set_retention, {"years": 3}),
    (supervision.add_supervisor, {"reviewer_id": 1, "scope": "fallback"}),
    (supervision.remove_supervisor, {"supervision_assignment_id": 1}),
    (retention.set_retention, {"years": 7, "delete_after_retention": True}),
    (holds.place_hold, {"name": "Matter", "reason": "Subpoena", "date_from": TODAY}),
    (holds.change_hold, {"hold_id": 1, "name": "Matter", "reason": "Subpoena"}),
    (holds.release_hold, {"hold_id": 1, "reason": "Closed"}),
    (audit_search.export_search, {"filters": SearchFilters(q="guaranteed")}),
]


def test_the_calls_cover_every_write():
    assert {write.__name__ for write, _args in CALLS} == set().union(*WRITES.values())


@pytest.mark.parametrize("wrong", ["employee", "marketer"])
@pytest.mark.parametrize(("write", "arguments"), CALLS, ids=[c[0].__name__ for c in CALLS])
def test_a_wrong_role_is_refused_and_nothing_changes(
    people, wrong, write, arguments, django_capture_on_commit_callbacks
):
    before = database_snapshot()
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(PermissionDenied):
        write(actor=people[wrong], **arguments)
    assert database_snapshot() == before and callbacks == []
