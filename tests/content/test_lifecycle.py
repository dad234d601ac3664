"""The share lifecycle (content/lifecycle.py): the one writer of share and delivery statuses,
its tables, the sets derived from them, and the rule that sends a version to a human."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from content import lifecycle
from content.models import Delivery, Share

ROOT = Path(__file__).resolve().parents[2]
S = Share.Status
D = Delivery.Status

# Modules that seed history rows for demos (and everything in bench/): rows created in their
# final state, never moved from one state to another.
SEEDERS = {"analytics/demo.py", "analytics/management/commands/seed_analytics.py"}
OWNER = "content/lifecycle.py"
LIFECYCLE_MODELS = re.compile(r"\b(Share|Delivery)\b")
LIFECYCLE_STATUS = re.compile(r"\b(Share|Delivery)\.Status\b|\"(in_review|approved|published|pending|publishing)\"")
LIFECYCLE_NAMES = re.compile(r"share|deliver", re.IGNORECASE)
WRITE_CALLS = {"update", "create", "get_or_create", "update_or_create", "bulk_create", "bulk_update"}


def status_writes(source: str, *, seeder: bool = False) -> list[str]:
    """Every place in `source` that writes a share's or a delivery's status."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    base = ast.unparse(target.value)
                    value = ast.unparse(node.value) if node.value is not None else ""
                    if LIFECYCLE_NAMES.search(base) or LIFECYCLE_STATUS.search(value):
                        found.append(f"line {node.lineno}: {ast.unparse(node)}")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) >= 2:
                if isinstance(node.args[1], ast.Constant) and node.args[1].value == "status":
                    found.append(f"line {node.lineno}: {ast.unparse(node)}")
                continue
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            receiver = ast.unparse(func.value) if isinstance(func, ast.Attribute) else ""
            creating = name in ("Share", "Delivery") or (name in WRITE_CALLS and name != "update")
            if seeder and creating:
                continue
            for keyword in node.keywords:
                if keyword.arg != "status":
                    continue
                value = ast.unparse(keyword.value)
                on_model = name in ("Share", "Delivery") or (
                    name in WRITE_CALLS and (LIFECYCLE_MODELS.search(receiver) or LIFECYCLE_NAMES.search(receiver))
                )
                if on_model or (name in WRITE_CALLS and LIFECYCLE_STATUS.search(value)):
                    found.append(f"line {node.lineno}: {ast.unparse(node)[:120]}")
    return found


def project_sources():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "node_modules/", "tests/", "var/")) or "/migrations/" in rel:
            continue
        yield rel, path.read_text()


def test_no_status_is_written_outside_the_lifecycle_module():
    offenders = {}
    for rel, source in project_sources():
        if rel == OWNER:
            continue
        writes = status_writes(source, seeder=rel in SEEDERS or rel.startswith("bench/"))
        if writes:
            offenders[rel] = writes
    assert offenders == {}, "Share/Delivery status written outside content/lifecycle.py: " + repr(offenders)


@pytest.mark.parametrize(
    "source",
    [
        "share.status = Share.Status.APPROVED",
        "delivery.status = status",
        "x.status = Delivery.Status.PUBLISHED",
        "Delivery.objects.filter(pk=1).update(status=Delivery.Status.CANCELLED)",
        "Share.objects.for_org(1).filter(pk=2).update(status='approved')",
        "rows.update(status=Delivery.Status.PENDING, updated_at=now)",
        "setattr(share, 'status', 'approved')",
        "Share.objects.create(item=i, status=Share.Status.PUBLISHED)",
        "Delivery(share=s, status='published')",
    ],
)
def test_the_guard_catches_a_status_write(source):
    assert status_writes(source), source


@pytest.mark.parametrize(
    "source",
    [
        "connection.status = SocialConnection.Status.NEEDS_RECONNECT",
        "item.status = ContentItem.Status.PUBLISHED",
        "proposal.status = ContentProposal.Status.ACCEPTED",
        "ContentItem.objects.filter(pk=1).update(status=ContentItem.Status.ARCHIVED)",
        "Share.objects.filter(status=Share.Status.PUBLISHED)",
    ],
)
def test_the_guard_leaves_other_models_alone(source):
    assert status_writes(source) == []


def test_the_guard_reads_the_lifecycle_module_as_a_writer():
    # The owner itself writes statuses: the guard would flag it, so it is not blind.
    assert status_writes((ROOT / OWNER).read_text())


# --- the tables and what is derived from them -----------------------------------------------


def test_every_state_in_the_tables_is_a_real_state():
    assert {s for row in lifecycle.SHARE_TRANSITIONS for s in row[:2]} <= set(S.values)
    assert {s for row in lifecycle.DELIVERY_TRANSITIONS for s in row[:2]} <= set(D.values)


def test_derived_sets_answer_what_the_pages_ask():
    assert {S.IN_REVIEW, S.CHANGES_REQUESTED, S.REJECTED, S.APPROVED, S.SCHEDULED} == lifecycle.SHARE_EDITABLE
    assert {S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.SCHEDULED, S.HELD} == lifecycle.SHARE_CANCELLABLE
    assert {S.APPROVED, S.SCHEDULED, S.PUBLISHING} == lifecycle.SHARE_PUBLISHABLE
    # A suspended author's shares on their way (publishing included) are held; a held share goes
    # nowhere by itself: released where it was, or cancelled (published if a post got out before).
    assert {S.IN_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHING} == lifecycle.SHARE_HOLDABLE
    assert {end for start, end, _ in lifecycle.SHARE_TRANSITIONS if start == S.HELD} == {
        S.IN_REVIEW,
        S.APPROVED,
        S.SCHEDULED,
        S.PUBLISHING,
        S.CANCELLED,
        S.PUBLISHED,
    }
    assert {S.PUBLISHED, S.FAILED} == lifecycle.SHARE_DELETABLE
    assert {D.PENDING, D.RETRYING} == lifecycle.DELIVERY_WAITING
    assert {D.FAILED, D.NEEDS_RECONNECT} == lifecycle.DELIVERY_RETRYABLE
    assert {D.POSTED_ID_UNKNOWN, D.FAILED} == lifecycle.DELIVERY_ATTACHABLE
    # Nothing leaves a cancelled share or a published delivery except taking it down.
    assert not lifecycle.sources(lifecycle.SHARE_TRANSITIONS, "edit") & {S.PUBLISHING, S.PUBLISHED, S.CANCELLED}
    assert {end for start, end, _ in lifecycle.DELIVERY_TRANSITIONS if start == D.PUBLISHED} == {D.PUBLISHED}


def test_a_posted_delivery_is_never_moved_to_failed():
    for start, end, _ in lifecycle.DELIVERY_TRANSITIONS:
        if start in lifecycle.DELIVERY_POSTED:
            assert end in lifecycle.DELIVERY_POSTED, (start, end)


def test_a_move_outside_the_table_is_refused_and_writes_nothing(db):
    from tests.content.factories import ShareFactory

    share = ShareFactory(status=S.PUBLISHED)
    with pytest.raises(lifecycle.IllegalTransition, match="published; it can no longer be changed"):
        lifecycle.move_share(share, S.SUBMITTED, "edit")
    share.refresh_from_db()
    assert share.status == S.PUBLISHED


@pytest.mark.parametrize(
    ("statuses", "share_status", "expected"),
    [
        ([D.PENDING], S.APPROVED, S.APPROVED),
        ([D.PUBLISHING, D.PENDING], S.APPROVED, S.PUBLISHING),
        ([D.PUBLISHED, D.FAILED], S.PUBLISHING, S.PUBLISHED),
        ([D.POSTED_ID_UNKNOWN], S.PUBLISHING, S.PUBLISHED),
        ([D.FAILED, D.NEEDS_RECONNECT], S.PUBLISHING, S.FAILED),
        ([D.PENDING, D.PUBLISHED], S.PUBLISHED, S.PUBLISHING),
    ],
)
def test_the_share_follows_its_deliveries(statuses, share_status, expected):
    assert lifecycle.rolled_up_status(share_status, statuses) == expected


@pytest.mark.parametrize(
    ("version", "review_required", "screening", "mode", "expected"),
    [
        (1, False, False, "findings", False),  # a first version screening lets through
        (1, False, True, "findings", True),
        (2, False, False, "findings", True),  # edited after approval: a human
        (2, False, False, "all", True),
        (2, False, False, "none", False),  # the org reviews nothing
        (2, True, False, "none", True),  # it was in front of a reviewer once: always
        (3, True, False, "findings", True),
    ],
)
def test_needs_human(version, review_required, screening, mode, expected):
    share = Share(version=version, review_required=review_required)
    assert lifecycle.needs_human(share, screening_needs_review=screening, review_mode=mode) is expected


@pytest.mark.parametrize(("mode", "expected"), [("findings", True), ("all", True), ("none", False)])
def test_the_employees_own_picture_needs_a_human_unless_the_org_reviews_nothing(mode, expected):
    share = Share(version=1, review_required=False, image="shares/2026/12/mine.jpg")
    assert lifecycle.needs_human(share, screening_needs_review=False, review_mode=mode) is expected
    assert lifecycle.needs_human(Share(version=1), screening_needs_review=False, review_mode=mode) is False
