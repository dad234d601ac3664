"""Supervision (FINRA 3110): who reviews whose posts, and what happens when a review is late.

Guarantees:
* Only a member allowed `compliance.policy` sets who supervises whom (PermissionDenied
  otherwise). A supervisor is an active compliance officer of the organization
  (ValidationFailed otherwise); another organization's team, or assignment, is NotFound.
  Every change is audited ("supervision.*") inside its transaction.
* A share entering review (opened or reopened task) is routed to the supervisors of its
  author: the reviewers of the author's teams and locations and of the author's roles;
  when none, the fallback pool; when the pool is empty too, every compliance officer (as
  before supervision existed). The author is never among the supervisors of their own
  share, whatever the assignments say (four-eyes; `review.decide` keeps refusing them too).
* A review whose deadline (`Policy.review_sla_hours`) passed is escalated once: it is
  marked, widened to the escalation pool (the fallback pool, else every compliance
  officer), its supervisors and the escalation reviewers are notified, and the escalation
  is audited. Running the escalation again, or in two workers at once, changes nothing
  more (the task row is locked and `escalated_at` is set in the same transaction). A
  resubmitted share starts afresh: new supervisors, not escalated.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import Membership, Notification, Role, Team
from accounts.permissions import Permission, require
from accounts.services.notifications import notify
from advocacy import audit
from advocacy.errors import NotFound, ValidationFailed
from advocacy.languages import later
from compliance.models import ReviewTask, ReviewTaskSupervisor, SupervisionAssignment
from content.models import Share

Scope = SupervisionAssignment.Scope
Reason = ReviewTaskSupervisor.Reason
# Escalations handled per run; the next run (a few minutes later) takes the rest.
ESCALATION_BATCH = 500


def _officers(organization_id: int):
    """Active compliance officers of the organization (a queryset of memberships)."""
    return Membership.objects.for_org(organization_id).filter(is_compliance=True, is_active=True)


def _active_assignments(organization_id: int, *, author_id: int):
    """Assignments of reviewers who are still active compliance officers, the author's left out."""
    active = Exists(_officers(organization_id).filter(user_id=OuterRef("reviewer_id")))
    return SupervisionAssignment.objects.for_org(organization_id).filter(active).exclude(reviewer_id=author_id)


def _assignment_state(assignment: SupervisionAssignment) -> dict:
    return {
        "reviewer": assignment.reviewer_id,
        "scope": assignment.scope,
        "team": assignment.team_id,
        "role": assignment.role,
        "supervises": assignment.describe_target(),
    }


# --- who supervises whom (the compliance officer's writes) -----------------------------------


@transaction.atomic
def add_supervisor(
    *, actor: Membership, reviewer_id: int, scope: str, team_id: int | None = None, role: str = ""
) -> SupervisionAssignment:
    """Make a compliance officer the supervisor of one team or location (`scope="team"`), of
    everyone holding one role (`scope="role"`), or put them in the fallback pool
    (`scope="fallback"`), which takes the posts no assignment covers and overdue reviews.

    Raises ValidationFailed (not a compliance officer of this organization, an unknown scope
    or role, a team missing for the team scope, the same assignment twice) and NotFound
    (another organization's team). Nothing is written then."""
    require(actor, Permission.COMPLIANCE_POLICY)
    org_id = actor.organization_id
    if scope not in Scope.values:
        raise ValidationFailed(
            _("Choose a team or location, a role, or the fallback pool."), fields={"scope": [_("Unknown choice.")]}
        )
    reviewer = _officers(org_id).filter(user_id=reviewer_id).select_related("user").first()
    if reviewer is None:
        raise ValidationFailed(
            _("Choose a compliance officer of this organization as the supervisor."),
            fields={"reviewer": [_("Not a compliance officer here.")]},
        )
    team = None
    role = (role or "").strip() if scope == Scope.ROLE else ""
    if scope == Scope.TEAM:
        if not team_id:
            raise ValidationFailed(_("Choose the team or location to supervise."), fields={"team": [_("Required.")]})
        team = Team.objects.for_org(org_id).filter(pk=team_id).first()
        if team is None:
            raise NotFound(_("No such team."))
    elif scope == Scope.ROLE and role not in Role.values:
        raise ValidationFailed(_("Choose the role whose posts to supervise."), fields={"role": [_("Unknown role.")]})
    assignment = SupervisionAssignment(organization_id=org_id, reviewer_id=reviewer.user_id, scope=scope, team=team)
    assignment.role = role
    try:
        with transaction.atomic():
            assignment.save()
    except IntegrityError:
        raise ValidationFailed(
            _("%(name)s already supervises %(target)s.")
            % {"name": reviewer.user.get_full_name(), "target": assignment.describe_target()},
            fields={"reviewer": [_("Already assigned.")]},
        ) from None
    audit.record("supervision.assigned", organization_id=org_id, target=assignment, after=_assignment_state(assignment))
    return assignment


@transaction.atomic
def remove_supervisor(*, actor: Membership, supervision_assignment_id: int) -> SupervisionAssignment:
    """End one supervision assignment. Reviews already waiting keep the supervisors they were
    routed to; new ones are routed without it. Raises NotFound for an assignment that is not
    this organization's. Returns the removed assignment (no longer saved)."""
    require(actor, Permission.COMPLIANCE_POLICY)
    org_id = actor.organization_id
    assignment = (
        SupervisionAssignment.objects.for_org(org_id)
        .select_related("team")
        .filter(pk=supervision_assignment_id)
        .first()
    )
    if assignment is None:
        raise NotFound(_("No such supervision assignment."))
    audit.record("supervision.removed", organization_id=org_id, target=assignment, before=_assignment_state(assignment))
    assignment.delete()
    return assignment


# --- routing a review (system: called when a share enters review) ----------------------------


def supervisors_for(share: Share) -> dict[int, str]:
    """{user id: reason} of the reviewers responsible for the author of `share` (3 queries):
    the supervisors of the author's teams and locations and of the author's roles, else
    the fallback pool, else every compliance officer. Only active compliance officers; never
    the author."""
    org_id = share.organization_id
    author = Membership.objects.for_org(org_id).filter(user_id=share.author_id).prefetch_related("teams").first()
    team_ids = [t.pk for t in author.teams.all()] if author else []
    roles = [r.value for r in author.roles] if author else []
    assignments = _active_assignments(org_id, author_id=share.author_id).values_list(
        "reviewer_id", "scope", "team_id", "role"
    )
    routed: dict[int, str] = {}
    pool: list[int] = []
    for reviewer_id, scope, team_id, role in assignments:
        if scope == Scope.TEAM and team_id in team_ids:
            routed.setdefault(reviewer_id, Reason.TEAM)
        elif scope == Scope.ROLE and role in roles:
            routed.setdefault(reviewer_id, Reason.ROLE)
        elif scope == Scope.FALLBACK:
            pool.append(reviewer_id)
    if routed:
        return routed
    if pool:
        return dict.fromkeys(pool, Reason.FALLBACK)
    everyone = _officers(org_id).exclude(user_id=share.author_id).values_list("user_id", flat=True)
    return dict.fromkeys(everyone, Reason.EVERYONE)


def route_review_task(*, task: ReviewTask, share: Share) -> list[int]:
    """System operation (inside the transaction that opened or reopened `task`, which also
    clears an earlier escalation): record the supervisors of the share's author on the task,
    replacing earlier ones. Returns the supervisors' user ids."""
    org_id = task.organization_id
    ReviewTaskSupervisor.objects.for_org(org_id).filter(task=task).delete()
    routed = supervisors_for(share)
    ReviewTaskSupervisor.objects.bulk_create(
        ReviewTaskSupervisor(organization_id=org_id, task=task, user_id=user_id, reason=reason)
        for user_id, reason in routed.items()
    )
    _tell_supervisors(task, share, {user_id: r for user_id, r in routed.items() if r != Reason.EVERYONE})
    return sorted(routed)


_ROUTED_WORDS = {
    Reason.TEAM: gettext_noop("%(author)s's share of “%(title)s” waits for your review (you supervise their team)."),
    Reason.ROLE: gettext_noop("%(author)s's share of “%(title)s” waits for your review (you supervise their role)."),
}
_ROUTED_FALLBACK = gettext_noop(
    "%(author)s's share of “%(title)s” waits for your review (you are in the fallback pool)."
)


def _tell_supervisors(task: ReviewTask, share: Share, reasons: dict[int, str]) -> None:
    """Notify the supervisors a review was routed to by name (team, role or the fallback pool;
    a share routed to every officer tells nobody in particular: the queue shows it to all).
    `share` comes with its author, item and organization (the submit loaded them)."""
    for user_id, reason in sorted(reasons.items()):
        words = _ROUTED_WORDS.get(reason, _ROUTED_FALLBACK)
        _notify_about(share, [user_id], Notification.Kind.REVIEW_ROUTED, words)


def _notify_about(share: Share, user_ids, kind: str, words: str) -> None:
    """Tell `user_ids` about `share`'s review: `words` (a gettext_noop text with %(author)s and
    %(title)s: "<author>'s share of “<title>” …"), in each one's language, linked to the review page."""
    url = reverse("compliance:review", kwargs={"org_slug": share.organization.slug, "share_id": share.pk})
    message = later(words, author=share.author.get_full_name() or share.author.email, title=share.item.title)
    for user_id in user_ids:
        notify(organization_id=share.organization_id, user_id=user_id, kind=kind, message=message, url=url)


# --- escalation (system: the beat runs it every few minutes) ---------------------------------


def escalation_pool(organization_id: int, *, author_id: int) -> list[int]:
    """Who takes an overdue review: the fallback pool (active officers), else every
    compliance officer; never the author (2 queries at most)."""
    pool = list(
        _active_assignments(organization_id, author_id=author_id)
        .filter(scope=Scope.FALLBACK)
        .values_list("reviewer_id", flat=True)
    )
    if pool:
        return pool
    return list(_officers(organization_id).exclude(user_id=author_id).values_list("user_id", flat=True))


def escalate_overdue(*, now=None) -> int:
    """System operation (beat): escalate every review past its deadline that was not
    escalated yet, in every organization, each in its own transaction. Returns how many were
    escalated by this run (0 when run again)."""
    now = now or timezone.now()
    overdue = list(
        ReviewTask.objects.all_organizations()  # every tenant's overdue reviews, on purpose
        .filter(closed_at__isnull=True, escalated_at__isnull=True, due_at__lt=now, share__status=Share.Status.IN_REVIEW)
        .order_by("due_at", "pk")
        .values_list("organization_id", "pk")[:ESCALATION_BATCH]
    )
    return sum(escalate_task(organization_id=org_id, review_task_id=pk, now=now) for org_id, pk in overdue)


@transaction.atomic
def escalate_task(*, organization_id: int, review_task_id: int, now=None) -> bool:
    """System operation: escalate one overdue review (see the module's guarantees). Returns
    False, changing nothing, when it is not waiting, not overdue, already escalated, or
    being escalated by another worker right now."""
    now = now or timezone.now()
    task = (
        ReviewTask.objects.for_org(organization_id)
        .select_for_update(of=("self",), skip_locked=True)
        .select_related("share", "share__author", "share__item", "share__organization")
        .filter(pk=review_task_id, closed_at__isnull=True, escalated_at__isnull=True, due_at__lt=now)
        .first()
    )
    if task is None or task.share.status != Share.Status.IN_REVIEW:
        return False
    share = task.share
    supervisors = set(
        ReviewTaskSupervisor.objects.for_org(organization_id).filter(task=task).values_list("user_id", flat=True)
    )
    pool = escalation_pool(organization_id, author_id=share.author_id)
    added = [user_id for user_id in pool if user_id not in supervisors]
    ReviewTaskSupervisor.objects.bulk_create(
        ReviewTaskSupervisor(organization_id=organization_id, task=task, user_id=user_id, reason=Reason.ESCALATION)
        for user_id in added
    )
    task.escalated_at = now
    task.save(update_fields=["escalated_at"])
    told = sorted((supervisors | set(pool)) - {share.author_id})
    audit.record(
        "review_task.escalated",
        organization_id=organization_id,
        target=task,
        before={"escalated_at": None, "supervisors": sorted(supervisors)},
        after={
            "escalated_at": now.isoformat(),
            "due_at": task.due_at.isoformat(),
            "added_supervisors": sorted(added),
            "notified": told,
        },
    )
    _notify_about(
        share,
        told,
        Notification.Kind.REVIEW_ESCALATED,
        gettext_noop(
            "%(author)s's share of “%(title)s” passed its review deadline and was escalated. Please decide on it."
        ),
    )
    return True
