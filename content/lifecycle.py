"""The share lifecycle: the one owner of `Share.status` and `Delivery.status`.

Every status write in the code base goes through this module (a test walks the source and
fails the build otherwise). Each transition is a row of a table below, named by its
*kind*; one function writes each kind: it checks the table, writes the row and records the
audit entry. What views, templates and the engine ask ("can it be edited? retried?
deleted?") is derived from the same tables. A row whose two states are equal is an action
the state allows without changing it (a share being published accepts more claims; a
published share can be taken down).

The share::

    submitted --route--> in_review --decide--> approved | scheduled --start--> publishing --finish--> published
        |                    |   \\--decide--> changes_requested --edit--> submitted (then always a human)
        |                    \\--decide--> rejected --edit--> submitted (then always a human)
        |--route--> approved | scheduled   (no human needed: see `needs_human`)
        \\--route--> rejected               (a blocking finding)
    approved | scheduled --edit--> submitted;  --back_to_review--> in_review (text differs from the approved one)
    cancelled from any state before publishing; failed when no delivery got out;
    published | failed --retry--> publishing (a failed delivery sent again); failed --finish--> published (attached)
    in_review | approved | scheduled | publishing --hold--> held   (its author was suspended: nothing more goes out;
        the engine holds it too when it finds the author suspended at claim time)
    held --release--> the state it was held from (an admin's choice; never automatic);  held --cancel--> cancelled
        (published when one of its posts got out before the hold: the rest cancelled)

The delivery::

    pending --claim--> publishing --record--> published | posted_id_unknown (the network has it, id unknown)
                          |--record--> retrying (transient, with its time) --claim--> publishing
                          |--record--> needs_reconnect --retry--> pending
                          \\--record--> failed (permanent, with the network's reason) --retry--> pending
    pending | retrying --refuse--> failed | needs_reconnect (the account cannot post; nothing was sent)
    pending | retrying --back_to_review--> pending (unapproved again)
    pending | retrying | needs_reconnect --cancel--> cancelled
    pending --confirm--> published (an assisted share the employee posted in the network's window,
        with the post's link if they pasted one; published --confirm--> published adds it later)
    posted_id_unknown | failed --attach--> published (the employee pasted the post's link; verified)
    retrying | failed | posted_id_unknown --late_answer--> published (an earlier call did post it)

The rule of `needs_human`: a share goes to a person unless screening needs none *and* it
is the first version of a share that never was in front of a reviewer. Once a share was in
review, sent back or rejected (`Share.review_required`), every later version goes to a
human whatever its findings; a version edited after approval goes to a human unless the
author's review mode is "none"; so does a share with a picture of the employee's own
(screening reads words, not pictures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy

from advocacy import audit
from advocacy.errors import Conflict
from advocacy.sql import tenant_bulk_update
from content import hooks
from content.models import Delivery, Share

S = Share.Status
D = Delivery.Status

# (from, to, kind)
SHARE_TRANSITIONS: frozenset[tuple[str, str, str]] = frozenset(
    {
        (S.SUBMITTED, S.IN_REVIEW, "route"),
        (S.SUBMITTED, S.APPROVED, "route"),
        (S.SUBMITTED, S.SCHEDULED, "route"),
        (S.SUBMITTED, S.REJECTED, "route"),
        (S.IN_REVIEW, S.APPROVED, "decide"),
        (S.IN_REVIEW, S.SCHEDULED, "decide"),
        (S.IN_REVIEW, S.REJECTED, "decide"),
        (S.IN_REVIEW, S.CHANGES_REQUESTED, "decide"),
        *((s, S.SUBMITTED, "edit") for s in (S.IN_REVIEW, S.CHANGES_REQUESTED, S.REJECTED, S.APPROVED, S.SCHEDULED)),
        *((s, S.CANCELLED, "cancel") for s in (S.IN_REVIEW, S.CHANGES_REQUESTED, S.APPROVED, S.SCHEDULED, S.HELD)),
        # The author was suspended: held until an admin releases it (back where it was) or cancels it.
        *((s, S.HELD, "hold") for s in (S.IN_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHING)),
        *((S.HELD, s, "release") for s in (S.IN_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHING)),
        (S.HELD, S.PUBLISHED, "cancel"),  # held while publishing, one of its posts out already: the rest cancelled
        *((s, S.IN_REVIEW, "back_to_review") for s in (S.APPROVED, S.SCHEDULED, S.PUBLISHING)),
        (S.APPROVED, S.PUBLISHING, "start"),
        (S.SCHEDULED, S.PUBLISHING, "start"),
        (S.PUBLISHING, S.PUBLISHING, "start"),
        # The share follows its deliveries (`roll_up`).
        *((s, t, "finish") for s in (S.APPROVED, S.SCHEDULED, S.PUBLISHING) for t in (S.PUBLISHED, S.FAILED)),
        (S.FAILED, S.PUBLISHED, "finish"),
        (S.PUBLISHED, S.PUBLISHING, "retry"),
        (S.FAILED, S.PUBLISHING, "retry"),
        (S.PUBLISHING, S.PUBLISHING, "retry"),
        (S.PUBLISHED, S.PUBLISHED, "take_down"),
        (S.FAILED, S.FAILED, "take_down"),
        # Assisted shares are posted by the employee once approved.
        *((s, s, "confirm") for s in (S.APPROVED, S.SCHEDULED, S.PUBLISHING, S.PUBLISHED, S.FAILED)),
    }
)

DELIVERY_TRANSITIONS: frozenset[tuple[str, str, str]] = frozenset(
    {
        (D.PENDING, D.PUBLISHING, "claim"),
        (D.RETRYING, D.PUBLISHING, "claim"),
        (D.PUBLISHING, D.PUBLISHING, "claim"),  # a lease ran out: reconcile, then call again
        *((D.PUBLISHING, t, "record") for t in (D.PUBLISHED, D.POSTED_ID_UNKNOWN, D.RETRYING, D.FAILED)),
        (D.PUBLISHING, D.NEEDS_RECONNECT, "record"),
        *((s, t, "refuse") for s in (D.PENDING, D.RETRYING) for t in (D.FAILED, D.NEEDS_RECONNECT)),
        (D.PENDING, D.PENDING, "back_to_review"),
        (D.RETRYING, D.PENDING, "back_to_review"),
        (D.FAILED, D.PENDING, "retry"),
        (D.NEEDS_RECONNECT, D.PENDING, "retry"),
        *((s, D.CANCELLED, "cancel") for s in (D.PENDING, D.RETRYING, D.NEEDS_RECONNECT)),
        (D.PENDING, D.PUBLISHED, "confirm"),
        (D.PUBLISHED, D.PUBLISHED, "confirm"),
        (D.POSTED_ID_UNKNOWN, D.PUBLISHED, "attach"),
        (D.FAILED, D.PUBLISHED, "attach"),
        *((s, D.PUBLISHED, "late_answer") for s in (D.RETRYING, D.FAILED, D.POSTED_ID_UNKNOWN)),
        (D.PUBLISHED, D.PUBLISHED, "take_down"),
    }
)


def sources(table: frozenset, kind: str) -> frozenset[str]:
    """The states in which a transition of `kind` may start."""
    return frozenset(start for start, _, k in table if k == kind)


def allows(table: frozenset, status: str, kind: str) -> bool:
    return status in sources(table, kind)


# --- what the rest of the code asks, derived from the tables ---------------------------------

SHARE_EDITABLE = sources(SHARE_TRANSITIONS, "edit")
SHARE_CANCELLABLE = sources(SHARE_TRANSITIONS, "cancel")
SHARE_PUBLISHABLE = sources(SHARE_TRANSITIONS, "start")  # its waiting deliveries may be claimed
SHARE_RETRYABLE = sources(SHARE_TRANSITIONS, "retry")
SHARE_DELETABLE = sources(SHARE_TRANSITIONS, "take_down")
SHARE_CONFIRMABLE = sources(SHARE_TRANSITIONS, "confirm")
SHARE_HOLDABLE = sources(SHARE_TRANSITIONS, "hold")
SHARE_FOLLOWS_DELIVERIES = sources(SHARE_TRANSITIONS, "finish") | SHARE_RETRYABLE

DELIVERY_WAITING = sources(DELIVERY_TRANSITIONS, "claim") - {D.PUBLISHING}
DELIVERY_RETRYABLE = sources(DELIVERY_TRANSITIONS, "retry")
DELIVERY_CANCELLABLE = sources(DELIVERY_TRANSITIONS, "cancel")
DELIVERY_ATTACHABLE = sources(DELIVERY_TRANSITIONS, "attach")
DELIVERY_ON_THE_WAY = DELIVERY_WAITING | {D.PUBLISHING}
# The network has the post: shown as posted, counted as a post, never called failed.
DELIVERY_POSTED = frozenset({D.PUBLISHED, D.POSTED_ID_UNKNOWN})

# Failure reasons where pressing "retry" can change the outcome (not a duplicate or a too-long text).
RETRYABLE_REASONS = frozenset(
    {"transient", "rate_limited", "needs_reconnect", "blocked", "forbidden", "not_configured"}
)


class IllegalTransition(Conflict):
    """The table has no such move from the row's current state."""


# --- the two writers ----------------------------------------------------------------------------


# One sentence per thing and action, for translators (the status is the only hole).
_CANNOT = {
    ("share", "edit"): gettext_lazy("This share is %(status)s; it can no longer be changed."),
    ("share", "cancel"): gettext_lazy("This share is %(status)s; it can no longer be cancelled."),
    ("share", "retry"): gettext_lazy("This share is %(status)s; it can no longer be retried."),
    ("share", "take_down"): gettext_lazy("This share is %(status)s; it can no longer be taken down."),
    ("share", "attach"): gettext_lazy("This share is %(status)s; it can no longer be given a link."),
    ("share", "confirm"): gettext_lazy("This share is %(status)s; it can no longer be posted yet."),
    ("share", "hold"): gettext_lazy("This share is %(status)s; it can no longer be held."),
    ("share", "release"): gettext_lazy("This share is %(status)s; it can no longer be released."),
    ("post", "edit"): gettext_lazy("This post is %(status)s; it can no longer be changed."),
    ("post", "cancel"): gettext_lazy("This post is %(status)s; it can no longer be cancelled."),
    ("post", "retry"): gettext_lazy("This post is %(status)s; it can no longer be retried."),
    ("post", "take_down"): gettext_lazy("This post is %(status)s; it can no longer be taken down."),
    ("post", "attach"): gettext_lazy("This post is %(status)s; it can no longer be given a link."),
    ("post", "confirm"): gettext_lazy("This post is %(status)s; it can no longer be posted yet."),
    ("post", "hold"): gettext_lazy("This post is %(status)s; it can no longer be held."),
    ("post", "release"): gettext_lazy("This post is %(status)s; it can no longer be released."),
}


def _words(status_display: str, kind: str, noun: str) -> str:
    sentence = _CANNOT.get((noun, kind))
    if sentence is not None:
        return sentence % {"status": status_display.lower()}
    return f"This {noun} is {status_display.lower()}; it can no longer be {kind.replace('_', ' ')}."


def check_share(share: Share, kind: str) -> None:
    """Raise IllegalTransition unless the share's state allows a `kind` action now."""
    if not allows(SHARE_TRANSITIONS, share.status, kind):
        raise IllegalTransition(_words(share.get_status_display(), kind, "share"))


def check_delivery(delivery: Delivery, kind: str) -> None:
    if not allows(DELIVERY_TRANSITIONS, delivery.status, kind):
        raise IllegalTransition(_words(delivery.get_status_display(), kind, "post"))


def _move(row, table, to: str, kind: str, noun: str, *, action, fields, before, after) -> None:
    if (row.status, to, kind) not in table:
        raise IllegalTransition(_words(row.get_status_display(), kind, noun))
    was = row.status
    row.status = to
    row.save(update_fields=sorted({"status", "updated_at", *fields}))
    if action != "":
        audit.record(
            action or f"{row._meta.model_name}.{to}",
            organization_id=row.organization_id,
            target=row,
            before={"status": was, **(before or {})},
            after={"status": to, **(after or {})},
        )


def _entering_review(shares: Sequence[Share], to: str, fields: Iterable[str]) -> list[str]:
    """Entering review marks the shares `review_required` for good; the fields to save."""
    if to != S.IN_REVIEW:
        return list(fields)
    for share in shares:
        share.review_required = True
    return [*fields, "review_required"]


def move_share(
    share: Share,
    to: str,
    kind: str,
    *,
    action: str | None = None,
    fields: Iterable[str] = (),
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Move a (locked) share along a `kind` row of the table, save it with `fields`, and
    audit it as `action` (default `share.<to>`; none when `action` is "", for a caller
    that writes a fuller entry itself). Entering review marks it `review_required` for
    good. Raises IllegalTransition and writes nothing then."""
    fields = _entering_review([share], to, fields)
    _move(share, SHARE_TRANSITIONS, to, kind, "share", action=action, fields=fields, before=before, after=after)


def move_delivery(
    delivery: Delivery,
    to: str,
    kind: str,
    *,
    action: str | None = None,
    fields: Iterable[str] = (),
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Move a (locked) delivery along a `kind` row, save it with `fields` and audit it as
    `action` (default `delivery.<to>`; none when `action` is ""). Raises IllegalTransition
    and writes nothing then. A delivery that gets onto its network calls the
    `hooks.delivery_posted` seam (analytics refreshes the author's stats after commit)."""
    was_posted = delivery.status in DELIVERY_POSTED
    _move(delivery, DELIVERY_TRANSITIONS, to, kind, "post", action=action, fields=fields, before=before, after=after)
    if to in DELIVERY_POSTED and not was_posted:
        hooks.delivery_posted(delivery=delivery)


def move_each(
    rows: Sequence[Delivery] | Sequence[Share],
    to: str,
    kind: str,
    *,
    fields: Iterable[str] = (),
    before: Callable[[Any], dict] | None = None,
    after: Callable[[Any], dict] | None = None,
) -> None:
    """`move_delivery` (or `move_share`) for several (locked) rows of one kind and one
    organization at once (the publishing batch): each is checked against the table before
    anything is written, all are saved with `fields` in one UPDATE
    (`advocacy.sql.tenant_bulk_update`), each gets its own audit entry (`before`/`after` are
    functions of the row; all written by one `audit.record_many`), and each delivery that
    gets onto its network its `hooks.delivery_posted` call. Raises IllegalTransition and
    writes nothing then."""
    if not rows:
        return
    shares = isinstance(rows[0], Share)
    table, noun = (SHARE_TRANSITIONS, "share") if shares else (DELIVERY_TRANSITIONS, "post")
    for row in rows:
        if (row.status, to, kind) not in table:
            raise IllegalTransition(_words(row.get_status_display(), kind, noun))
    if shares:
        fields = _entering_review(rows, to, fields)
    now = timezone.now()
    was = [row.status for row in rows]
    for row in rows:
        row.status = to
        row.updated_at = now  # auto_now is not applied by bulk_update
    tenant_bulk_update(rows[0].organization_id, rows, sorted({"status", "updated_at", *fields}))
    audit.record_many(
        rows[0].organization_id,
        [
            {
                "action": f"{rows[0]._meta.model_name}.{to}",
                "target": row,
                "before": {"status": status, **(before(row) if before else {})},
                "after": {"status": to, **(after(row) if after else {})},
            }
            for row, status in zip(rows, was, strict=True)
        ],
    )
    if not shares:
        for delivery, status in zip(rows, was, strict=True):
            if to in DELIVERY_POSTED and status not in DELIVERY_POSTED:
                hooks.delivery_posted(delivery=delivery)


HOLD_REASON = "author suspended"


def hold_share(share: Share, *, by: str, now=None) -> None:
    """Hold a (locked) share because its author is suspended, remembering where it was
    (`held_from`, `held_at`); audited ("share.held"). Its waiting deliveries stay as they are
    and wait: a held share is not publishable. Raises IllegalTransition."""
    share.held_from, share.held_at = share.status, now or timezone.now()
    move_share(share, S.HELD, "hold", fields=["held_from", "held_at"], after={"reason": HOLD_REASON, "by": by})


def move_deliveries(share: Share, to: str, kind: str, **values) -> list[int]:
    """Move every delivery of the share that the table lets move by `kind` (one UPDATE);
    returns their ids. The caller audits the share-level change that caused it."""
    rows = Delivery.objects.for_org(share.organization_id).filter(
        share=share, status__in=[start for start, end, k in DELIVERY_TRANSITIONS if k == kind and end == to]
    )
    ids = sorted(rows.values_list("pk", flat=True))
    if ids:
        Delivery.objects.for_org(share.organization_id).filter(pk__in=ids).update(
            status=to, updated_at=timezone.now(), **values
        )
    return ids


# --- the rule of promise 1 -------------------------------------------------------------------


def needs_human(share: Share, *, screening_needs_review: bool, review_mode: str) -> bool:
    """Whether this version of the share must go to a reviewer (see the module docstring).

    `screening_needs_review` is screening's answer for this text (it already applies the
    policy's auto-approval of unchanged suggestions, which only a first version may use);
    `review_mode` is the author's ("all" | "findings" | "none")."""
    if screening_needs_review or share.review_required:
        return True
    if share.image and review_mode != "none":
        return True  # the employee's own picture: no screening reads a picture, a human looks at it
    return share.version > 1 and review_mode != "none"


# --- the share follows its deliveries ---------------------------------------------------------


def rolled_up_status(share_status: str, statuses: list[str]) -> str:
    """What the share's status should be given its API deliveries' statuses: publishing
    while any is on its way, published when at least one got out and none is on its way,
    failed when none got out."""
    if not statuses:
        return share_status
    if any(s in DELIVERY_ON_THE_WAY for s in statuses):
        started = any(s != D.PENDING for s in statuses)
        if share_status in (S.PUBLISHED, S.FAILED) or started:
            return S.PUBLISHING
        return share_status
    if any(s in DELIVERY_POSTED for s in statuses):
        return S.PUBLISHED
    return S.FAILED
