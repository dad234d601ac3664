"""The review queue's writes: record a screening, claim and assign, decide, bulk-approve.

Guarantees:
* Every screened version of a share keeps its findings (`Screening`); a share in review
  has exactly one open `ReviewTask` (reopened when the employee resubmits).
* One decision stands per version of a share: `decide` locks the share row, checks that
  it is still in review at the version the reviewer saw, and the unique constraint on
  (share, version) backs the lock up. The loser is told who decided and when.
* Four-eyes (policy option, on by default): nobody decides on, claims or is assigned
  their own share.
* The decision moves the share through `content.services.sharing.record_decision` (the
  share lifecycle's door; approval goes on into publishing); rejection and send-back tell
  the employee why, with a link to the share.
* A task opened or reopened is routed to the author's supervisors (never the author:
  `compliance.services.supervision`); the queue shows each officer the ones they supervise
  first.
* Every state change writes an audit entry inside its transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext

from accounts.models import Membership, Notification
from accounts.permissions import Permission, require
from accounts.services.notifications import notify
from advocacy import audit
from advocacy.errors import Conflict, NotAllowed, NotFound, ValidationFailed, conflict_on_duplicate
from advocacy.languages import later
from advocacy.timezones import format_when, zone_name_for
from compliance.models import Action, Decision, Policy, ReviewTask, Screening
from compliance.services import supervision
from content.hooks import ScreeningResult
from content.models import Share, ShareVersion
from content.services import sharing

DEFAULT_SLA_HOURS = 24
SEVERITY = {Action.BLOCK: 3, Action.REVIEW: 2, Action.WARN: 1, "": 0}

Outcome = Decision.Outcome


# --- the policy's answers (a missing Policy row means the defaults) ---------------------------


def policy_of(organization_id: int) -> Policy:
    """The organization's policy, or an unsaved one with the defaults (1 query)."""
    return Policy.objects.for_org(organization_id).first() or Policy(organization_id=organization_id)


def worst_action(findings: dict[str, list[dict]]) -> str:
    """The most severe action among findings ('' when there are none)."""
    worst = ""
    for found in findings.values():
        for finding in found:
            if SEVERITY.get(finding.get("action", ""), 0) > SEVERITY[worst]:
                worst = finding["action"]
    return worst


def _serialise(result: ScreeningResult) -> dict[str, list[dict]]:
    return {network: [asdict(f) for f in found] for network, found in result.findings.items()}


def _check_four_eyes(policy: Policy, share: Share, user_id: int, doing: str = "decide on") -> None:
    if policy.four_eyes and share.author_id == user_id:
        if doing == "claim":
            raise NotAllowed(
                _(
                    "You wrote this share, so you cannot claim it: the four-eyes rule asks another compliance "
                    "officer to review it."
                )
            )
        raise NotAllowed(
            _(
                "You wrote this share, so you cannot decide on it: the four-eyes rule asks another compliance "
                "officer to review it."
            )
        )


# --- screening results ------------------------------------------------------------------------


@transaction.atomic
def record_screening(*, share: Share, result: ScreeningResult) -> Screening:
    """Keep the findings of the share's current version and route the review task.

    Registered as `content.hooks.register_screened`: called inside the transaction that
    submitted or edited the share, after its status was set. A share in review gets its
    task opened (or reopened, with a fresh deadline, when the employee resubmitted); a
    share that left review (approved or blocked after an edit) has its task closed.
    """
    org_id = share.organization_id
    now = timezone.now()
    findings = _serialise(result)
    worst = worst_action(findings)
    version = ShareVersion.objects.for_org(org_id).filter(share_id=share.pk, number=share.version).first()
    screening = Screening.objects.create(
        organization_id=org_id,
        share=share,
        version=version,
        findings=findings,
        texts=dict(result.texts),
        worst_action=worst,
        outcome=share.status,
    )
    audit.record(
        "share.screened",
        organization_id=org_id,
        target=share,
        after={
            "version": share.version,
            "outcome": share.status,
            "worst_action": worst,
            "findings": sum(len(f) for f in findings.values()),
        },
    )
    task = ReviewTask.objects.for_org(org_id).select_for_update().filter(share_id=share.pk).first()
    if share.status == Share.Status.IN_REVIEW:
        sla = policy_of(org_id).review_sla_hours or DEFAULT_SLA_HOURS
        networks = sorted(set(result.texts) | set(findings))
        values = {
            "team_id": share.team_id,
            "worst_action": worst,
            "networks": networks,
            "due_at": now + timedelta(hours=sla),
            "opened_at": now,
            "closed_at": None,
            "escalated_at": None,
        }
        if task is None:
            task = ReviewTask.objects.create(organization_id=org_id, share=share, **values)
            routed = supervision.route_review_task(task=task, share=share)
            audit.record(
                "review_task.opened",
                organization_id=org_id,
                target=task,
                after={**_task_state(task), "supervisors": routed},
            )
        else:
            before = _task_state(task)
            for name, value in values.items():
                setattr(task, name, value)
            task.save()  # the reviewer who held it keeps it
            routed = supervision.route_review_task(task=task, share=share)
            audit.record(
                "review_task.reopened",
                organization_id=org_id,
                target=task,
                before=before,
                after={**_task_state(task), "supervisors": routed},
            )
    elif task is not None and task.closed_at is None:
        _close(task, now)
    return screening


def _task_state(task: ReviewTask) -> dict:
    return {
        "share": task.share_id,
        "assigned_to": task.assigned_to_id,
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "closed_at": task.closed_at.isoformat() if task.closed_at else None,
        "worst_action": task.worst_action,
    }


def _close(task: ReviewTask, now) -> None:
    before = _task_state(task)
    task.closed_at = now
    task.save(update_fields=["closed_at"])
    audit.record(
        "review_task.closed", organization_id=task.organization_id, target=task, before=before, after=_task_state(task)
    )


# --- claim and assign -----------------------------------------------------------------------


def _open_task(membership: Membership, review_task_id: int) -> ReviewTask:
    task = (
        ReviewTask.objects.for_org(membership.organization_id)
        .select_for_update(of=("self",))
        .select_related("share", "assigned_to")
        .filter(pk=review_task_id)
        .first()
    )
    if task is None:
        raise NotFound(_("No such review task."))
    if task.closed_at is not None or task.share.status != Share.Status.IN_REVIEW:
        raise Conflict(_("This share is no longer waiting for review."))
    return task


@transaction.atomic
def claim(*, actor: Membership, review_task_id: int) -> ReviewTask:
    """Take a waiting share for yourself. Raises Conflict when a colleague holds it (ask
    them, or assign it), NotAllowed for your own share under four-eyes."""
    require(actor, Permission.COMPLIANCE_REVIEW)
    task = _open_task(actor, review_task_id)
    _check_four_eyes(policy_of(actor.organization_id), task.share, actor.user_id, "claim")
    if task.assigned_to_id == actor.user_id:
        return task
    if task.assigned_to_id is not None:
        raise Conflict(
            _("%(name)s already has this one; ask them, or reassign it.") % {"name": task.assigned_to.get_full_name()}
        )
    return _set_assignee(task, actor.user_id, "review_task.claimed")


@transaction.atomic
def assign(*, actor: Membership, review_task_id: int, user_id: int) -> ReviewTask:
    """Give a waiting share to a compliance officer of the organization (or reassign it)."""
    require(actor, Permission.COMPLIANCE_REVIEW)
    task = _open_task(actor, review_task_id)
    assignee = (
        Membership.objects.for_org(actor.organization_id)
        .filter(user_id=user_id, is_compliance=True, is_active=True)
        .select_related("user")
        .first()
    )
    if assignee is None:
        raise ValidationFailed(
            _("Choose a compliance officer of this organization."),
            fields={"user": [_("Not a compliance officer here.")]},
        )
    policy = policy_of(actor.organization_id)
    if policy.four_eyes and task.share.author_id == assignee.user_id:
        raise NotAllowed(
            _("%(name)s wrote this share; the four-eyes rule asks someone else to review it.")
            % {"name": assignee.user.get_full_name()}
        )
    return _set_assignee(task, assignee.user_id, "review_task.assigned")


@transaction.atomic
def unassign(*, actor: Membership, review_task_id: int) -> ReviewTask:
    """Put a share back in the common queue."""
    require(actor, Permission.COMPLIANCE_REVIEW)
    task = _open_task(actor, review_task_id)
    if task.assigned_to_id is None:
        return task
    return _set_assignee(task, None, "review_task.unassigned")


def _set_assignee(task: ReviewTask, user_id: int | None, action: str) -> ReviewTask:
    before = _task_state(task)
    task.assigned_to_id = user_id
    task.claimed_at = timezone.now() if user_id else None
    task.save(update_fields=["assigned_to", "claimed_at"])
    audit.record(action, organization_id=task.organization_id, target=task, before=before, after=_task_state(task))
    return task


# --- decisions ------------------------------------------------------------------------------

COMMENT_REQUIRED = {
    Outcome.REJECTED: gettext_lazy("Write a comment for the employee: say why this share is rejected."),
    Outcome.CHANGES_REQUESTED: gettext_lazy(
        "Write a comment for the employee: say what to change before it can go out."
    ),
}
NOTICE = {
    Outcome.APPROVED: (
        Notification.Kind.SHARE_APPROVED,
        gettext_noop("Compliance approved your share of “%(title)s”."),
    ),
    Outcome.REJECTED: (
        Notification.Kind.SHARE_REJECTED,
        gettext_noop("Compliance rejected your share of “%(title)s”: %(comment)s"),
    ),
    Outcome.CHANGES_REQUESTED: (
        Notification.Kind.SHARE_CHANGES_REQUESTED,
        gettext_noop("Compliance sent back your share of “%(title)s”: %(comment)s Edit it and resubmit."),
    ),
}


def _decided_words(decision: Decision, zone: str) -> str:
    """Told to the reviewer who came second, in their own zone (labelled)."""
    who = decision.reviewer.get_full_name() if decision.reviewer else _("the policy")
    when = format_when(decision.decided_at, "Y-m-d H:i", zone)
    return _("Already decided by %(who)s at %(when)s (%(outcome)s).") % {
        "who": who,
        "when": when,
        "outcome": decision.get_outcome_display().lower(),
    }


@audit.linked_after_commit()  # a hot path of one organization: see content.services.sharing.submit_share
@transaction.atomic
def decide(
    *, actor: Membership, share_id: int, outcome: str, comment: str = "", version: int | None = None
) -> Decision:
    """Approve, reject or send back the version of a share the reviewer saw.

    `version` is the version shown to the reviewer (None: the current one). Raises
    ValidationFailed (unknown outcome, missing comment for reject or send-back),
    PermissionDenied (not a compliance officer), NotAllowed (your own share under four-eyes), NotFound
    (no such share in this organization), Conflict (someone decided first, the employee
    changed it since, or it left review). Nothing is written then.
    """
    require(actor, Permission.COMPLIANCE_REVIEW)
    if outcome not in Outcome.values:
        raise ValidationFailed(
            _("Choose approve, reject or send back."),
            fields={"outcome": [_("Unknown decision %(outcome)s.") % {"outcome": repr(outcome)}]},
        )
    comment = (comment or "").strip()
    if outcome in COMMENT_REQUIRED and not comment:
        raise ValidationFailed(str(COMMENT_REQUIRED[outcome]), fields={"comment": [_("Required for this decision.")]})
    org_id = actor.organization_id
    share = (
        Share.objects.for_org(org_id)
        .select_for_update(of=("self",))
        .select_related("item", "organization")
        .filter(pk=share_id)
        .first()
    )
    if share is None:
        raise NotFound(_("No such share."))
    seen = version or share.version
    earlier = (
        Decision.objects.for_org(org_id).filter(share_id=share.pk, version=seen).select_related("reviewer").first()
    )
    if earlier is not None:
        raise Conflict(_decided_words(earlier, zone_name_for(actor.user, share.organization)))
    if share.version != seen:
        raise Conflict(
            _(
                "The employee changed it since you opened it (now version %(version)s); open it again to review "
                "the new words."
            )
            % {"version": share.version}
        )
    if share.status != Share.Status.IN_REVIEW:
        raise Conflict(
            _("This share is no longer waiting for review (it is %(status)s).")
            % {"status": share.get_status_display().lower()}
        )
    _check_four_eyes(policy_of(org_id), share, actor.user_id)

    now = timezone.now()
    before = {"status": share.status, "version": share.version}
    hashes = sharing.record_decision(share, outcome=outcome, comment=comment)
    task = ReviewTask.objects.for_org(org_id).filter(share_id=share.pk, closed_at__isnull=True).first()
    with conflict_on_duplicate(_("Already decided by a colleague a moment ago; reload to see the decision.")):
        decision = Decision.objects.create(
            organization_id=org_id,
            share=share,
            version=share.version,
            outcome=outcome,
            reviewer_id=actor.user_id,
            comment=comment,
            text_hashes={str(k): v for k, v in hashes.items()},
            decided_at=now,
            review_opened_at=task.opened_at if task is not None else None,
        )
    if task is not None:
        _close(task, now)
    audit.record(
        f"share.{'sent_back' if outcome == Outcome.CHANGES_REQUESTED else outcome}",
        organization_id=org_id,
        target=share,
        before=before,
        after={
            "status": share.status,
            "version": share.version,
            "decision": decision.pk,
            "comment": comment,
            "text_hashes": decision.text_hashes,
        },
    )
    kind, words = NOTICE[outcome]
    notify(
        organization_id=org_id,
        user_id=share.author_id,
        kind=kind,
        message=later(words, title=share.item.title, comment=comment),
        url=reverse("content:share_detail", kwargs={"org_slug": share.organization.slug, "share_id": share.pk}),
    )
    return decision


# --- bulk approval --------------------------------------------------------------------------

SKIP_FINDINGS = gettext_lazy("has findings: open it to review")
SKIP_OWN = gettext_lazy("your own share (four-eyes)")
SKIP_GONE = gettext_lazy("no longer waiting for review")


@dataclass
class BulkResult:
    approved: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)  # share id -> why

    def summary(self) -> str:
        count = len(self.approved)
        words = ngettext("Approved %(count)s share.", "Approved %(count)s shares.", count) % {"count": count}
        if self.skipped:
            reasons: dict[str, int] = {}
            for why in self.skipped.values():
                reasons[str(why)] = reasons.get(str(why), 0) + 1
            listed = "; ".join(f"{n} {why}" for why, n in reasons.items())
            # Translators: reasons is e.g. "2 has findings: open it to review; 1 your own share (four-eyes)".
            words += " " + _("Skipped %(count)s: %(reasons)s.") % {"count": len(self.skipped), "reasons": listed}
        return words


def bulk_approve(*, actor: Membership, share_ids: list[int]) -> BulkResult:
    """Approve the chosen shares that have no findings at all; report the others and why.

    Each approval is its own transaction (through `decide`), so one that a colleague
    decided meanwhile is skipped without undoing the rest.
    """
    require(actor, Permission.COMPLIANCE_REVIEW)
    ids = list(dict.fromkeys(int(i) for i in share_ids))
    if not ids:
        raise ValidationFailed(
            _("Tick the shares to approve first."), fields={"share_ids": [_("Choose at least one.")]}
        )
    tasks = {
        t.share_id: t
        for t in ReviewTask.objects.for_org(actor.organization_id)
        .filter(share_id__in=ids, closed_at__isnull=True)
        .select_related("share")
    }
    policy = policy_of(actor.organization_id)
    result = BulkResult()
    for share_id in ids:
        task = tasks.get(share_id)
        if task is None or task.share.status != Share.Status.IN_REVIEW:
            result.skipped[share_id] = SKIP_GONE
        elif task.worst_action:
            result.skipped[share_id] = SKIP_FINDINGS
        elif policy.four_eyes and task.share.author_id == actor.user_id:
            result.skipped[share_id] = SKIP_OWN
        else:
            try:
                decide(actor=actor, share_id=share_id, outcome=Outcome.APPROVED, version=task.share.version)
            except Conflict:
                result.skipped[share_id] = SKIP_GONE
            else:
                result.approved.append(share_id)
    return result
