"""Supervision (FINRA 3110): who supervises whom, routing a review to its author's supervisors,
the queue mine-first, escalation past the deadline, and the dashboard's honest approval rate.

The real screening runs: the policy asks a human for every share (`review_mode="all"`)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection as db
from django.db import reset_queries
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Notification, Role, Team
from advocacy.errors import NotAllowed, NotFound, ValidationFailed
from compliance import selectors
from compliance.models import AuditEntry, Policy, ReviewTask, ReviewTaskSupervisor, SupervisionAssignment
from compliance.services import review, supervision
from compliance.tasks import escalate_overdue_reviews
from content.models import Delivery, Share, ShareVersion
from content.services import sharing
from tests.accounts.factories import OrganizationFactory, TeamFactory
from tests.compliance.factories import DecisionFactory, ScreeningFactory
from tests.content.factories import ContentItemFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

Reason = ReviewTaskSupervisor.Reason
ESCALATED = Notification.Kind.REVIEW_ESCALATED


@pytest.fixture
def org(settings):
    settings.SITE_URL = "https://go.acme.example"
    organization = OrganizationFactory(slug="acme", name="Acme")
    Policy.objects.create(organization=organization, review_mode="all", review_sla_hours=8)
    return organization


def officer(org, name):
    m = member(org, Role.COMPLIANCE)
    m.user.name = name
    m.user.save()
    return m


@pytest.fixture
def dana(org):
    return officer(org, "Dana Officer")


@pytest.fixture
def olga(org):
    return officer(org, "Olga Officer")


@pytest.fixture
def pia(org):
    return officer(org, "Pia Pool")


@pytest.fixture
def sales(org):
    return TeamFactory(organization=org, name="Sales", kind=Team.Kind.DEPARTMENT)


@pytest.fixture
def paris(org):
    return TeamFactory(organization=org, name="Paris", kind=Team.Kind.LOCATION)


@pytest.fixture
def emma(org):
    return member(org, Role.EMPLOYEE)


def submit(membership, text="Our new product is out."):
    item = ContentItemFactory(organization=membership.organization)
    return sharing.submit_share(
        confirm_repeat=True,
        actor=membership,
        item_id=item.pk,
        commentary=text,
        target_keys=["assisted:linkedin"],
    )


def task_of(share) -> ReviewTask:
    return ReviewTask.objects.for_org(share.organization_id).get(share=share)


def routed(share) -> dict[int, str]:
    rows = ReviewTaskSupervisor.objects.for_org(share.organization_id).filter(task__share=share)
    return dict(rows.values_list("user_id", "reason"))


def counted(get, *args, **kwargs):
    """(response, how many queries it took); the log is emptied first, so that a log already
    at its length limit cannot hide them."""
    reset_queries()
    with CaptureQueriesContext(db) as ctx:
        response = get(*args, **kwargs)
    return response, len(ctx)


def supervise(actor, reviewer, scope, team=None, role=""):
    return supervision.add_supervisor(
        actor=actor, reviewer_id=reviewer.user_id, scope=scope, team_id=team.pk if team else None, role=role
    )


# --- routing ----------------------------------------------------------------------------------


def test_a_share_is_routed_to_the_supervisors_of_its_authors_team(
    org, dana, olga, emma, sales, django_capture_on_commit_callbacks
):
    supervise(dana, dana, "team", team=sales)
    emma.teams.add(sales)
    with django_capture_on_commit_callbacks(execute=True):  # a submission links its entries after commit
        share = submit(emma)
    assert share.status == Share.Status.IN_REVIEW
    assert routed(share) == {dana.user_id: Reason.TEAM}
    opened = AuditEntry.objects.for_org(org).get(action="review_task.opened")
    assert opened.after["supervisors"] == [dana.user_id]


def test_a_share_is_routed_to_the_supervisors_of_its_authors_location(org, dana, olga, emma, sales, paris):
    supervise(dana, dana, "team", team=sales)
    supervise(dana, olga, "team", team=paris)
    emma.teams.add(paris)
    assert routed(submit(emma)) == {olga.user_id: Reason.TEAM}


def test_the_supervisors_a_share_is_routed_to_are_told_and_nobody_else(org, dana, olga, pia, emma, sales):
    supervise(dana, dana, "team", team=sales)
    supervise(dana, pia, "fallback")
    emma.teams.add(sales)
    emma.user.name = "Emma Employee"
    emma.user.save()
    share = submit(emma)
    told = Notification.objects.for_org(org).filter(kind=Notification.Kind.REVIEW_ROUTED)
    (notice,) = told
    assert notice.user_id == dana.user_id  # the team's supervisor; not the pool, not olga
    assert (
        notice.message
        == f"Emma Employee's share of “{share.item.title}” waits for your review (you supervise their team)."
    )
    assert notice.url == org_url("compliance:review", org, share_id=share.pk)
    # nobody supervises a marketer: the fallback pool is told why it gets it
    marketer = member(org, Role.EMPLOYEE, Role.MARKETER)
    submit(marketer)
    pool_notice = told.get(user_id=pia.user_id)
    assert pool_notice.message.endswith("(you are in the fallback pool).")


def test_a_share_routed_to_every_officer_tells_nobody_in_particular(org, dana, olga, emma):
    submit(emma)
    assert routed_reasons(org) == {Reason.EVERYONE}
    assert not Notification.objects.for_org(org).filter(kind=Notification.Kind.REVIEW_ROUTED).exists()


def routed_reasons(org) -> set[str]:
    return set(ReviewTaskSupervisor.objects.for_org(org).values_list("reason", flat=True))


def test_a_share_is_routed_by_the_authors_role(org, dana, olga, emma):
    supervise(dana, olga, "role", role=Role.MARKETER)
    marketer = member(org, Role.EMPLOYEE, Role.MARKETER)
    assert routed(submit(marketer)) == {olga.user_id: Reason.ROLE}
    # an employee who is no marketer is not olga's: nobody supervises them, so everyone gets it
    assert routed(submit(emma)) == {dana.user_id: Reason.EVERYONE, olga.user_id: Reason.EVERYONE}


def test_team_and_role_supervisors_are_combined(org, dana, olga, pia, sales):
    supervise(dana, dana, "team", team=sales)
    supervise(dana, olga, "role", role=Role.MARKETER)
    supervise(dana, pia, "fallback")
    marketer = member(org, Role.EMPLOYEE, Role.MARKETER)
    marketer.teams.add(sales)
    assert routed(submit(marketer)) == {dana.user_id: Reason.TEAM, olga.user_id: Reason.ROLE}


def test_what_no_assignment_covers_goes_to_the_fallback_pool(org, dana, olga, pia, emma, sales):
    supervise(dana, dana, "team", team=sales)
    supervise(dana, pia, "fallback")
    assert routed(submit(emma)) == {pia.user_id: Reason.FALLBACK}


def test_without_any_supervision_every_compliance_officer_gets_it(org, dana, olga, emma):
    assert routed(submit(emma)) == {dana.user_id: Reason.EVERYONE, olga.user_id: Reason.EVERYONE}


def test_an_inactive_officer_is_not_routed_to(org, dana, olga, emma, sales):
    supervise(dana, olga, "team", team=sales)
    olga.is_active = False
    olga.save()
    emma.teams.add(sales)
    assert routed(submit(emma)) == {dana.user_id: Reason.EVERYONE}


def test_nobody_supervises_their_own_post(org, dana, olga, pia, sales):
    # carl is an officer and an employee of Sales, and a supervisor of Sales himself
    carl = member(org, Role.COMPLIANCE, Role.EMPLOYEE)
    carl.teams.add(sales)
    supervise(dana, carl, "team", team=sales)
    supervise(dana, dana, "team", team=sales)
    share = submit(carl)
    assert routed(share) == {dana.user_id: Reason.TEAM}
    # he is the only supervisor of Sales and the only one in the pool: it goes to the others
    SupervisionAssignment.objects.for_org(org).filter(reviewer=dana.user).delete()
    supervise(dana, carl, "fallback")
    other = submit(carl, "Another post of mine.")
    assert routed(other) == {dana.user_id: Reason.EVERYONE, olga.user_id: Reason.EVERYONE, pia.user_id: "everyone"}
    # and the four-eyes rule still refuses him his own decision
    with pytest.raises(NotAllowed):
        review.decide(actor=carl, share_id=share.pk, outcome="approved", version=1)


def test_a_resubmitted_share_is_routed_afresh_and_no_longer_escalated(org, dana, olga, emma, sales):
    supervise(dana, dana, "team", team=sales)
    share = submit(emma)
    ReviewTask.objects.for_org(org).filter(share=share).update(due_at=timezone.now() - timedelta(hours=1))
    assert supervision.escalate_overdue() == 1
    review.decide(actor=dana, share_id=share.pk, outcome="changes_requested", comment="Shorter.", version=1)
    emma.teams.add(sales)
    sharing.edit_share(actor=emma, share_id=share.pk, commentary="Shorter words.")
    task = task_of(share)
    assert task.closed_at is None and task.escalated_at is None
    assert routed(share) == {dana.user_id: Reason.TEAM}


# --- who supervises whom: the service ---------------------------------------------------------


def test_adding_and_removing_a_supervisor_is_audited(org, dana, olga, sales):
    assignment = supervise(dana, olga, "team", team=sales)
    assert assignment.describe_target() == "the Sales team"
    entry = AuditEntry.objects.for_org(org).get(action="supervision.assigned")
    assert entry.after == {
        "reviewer": olga.user_id,
        "scope": "team",
        "team": sales.pk,
        "role": "",
        "supervises": "the Sales team",
    }
    supervision.remove_supervisor(actor=dana, supervision_assignment_id=assignment.pk)
    assert not SupervisionAssignment.objects.for_org(org).exists()
    removed = AuditEntry.objects.for_org(org).get(action="supervision.removed")
    assert removed.before["supervises"] == "the Sales team"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"scope": "galaxy"}, "scope"),
        ({"scope": "team"}, "team"),
        ({"scope": "role", "role": "astronaut"}, "role"),
        ({"scope": "role"}, "role"),
    ],
)
def test_bad_input_is_refused_in_plain_words_and_writes_nothing(org, dana, olga, arguments, field):
    entries = AuditEntry.objects.for_org(org).count()
    with pytest.raises(ValidationFailed) as refused:
        supervision.add_supervisor(actor=dana, reviewer_id=olga.user_id, **arguments)
    assert field in refused.value.fields
    assert not SupervisionAssignment.objects.for_org(org).exists()
    assert AuditEntry.objects.for_org(org).count() == entries


def test_only_a_compliance_officer_of_this_organization_supervises(org, dana, emma):
    with pytest.raises(ValidationFailed, match="compliance officer"):
        supervision.add_supervisor(actor=dana, reviewer_id=emma.user_id, scope="fallback")
    stranger = member(OrganizationFactory(), Role.COMPLIANCE)
    with pytest.raises(ValidationFailed, match="compliance officer"):
        supervision.add_supervisor(actor=dana, reviewer_id=stranger.user_id, scope="fallback")
    assert not SupervisionAssignment.objects.for_org(org).exists()


def test_the_same_assignment_twice_is_refused(org, dana, olga, sales):
    supervise(dana, olga, "team", team=sales)
    with pytest.raises(ValidationFailed, match="Olga Officer already supervises the Sales team"):
        supervise(dana, olga, "team", team=sales)
    supervise(dana, olga, "fallback")
    with pytest.raises(ValidationFailed, match="already supervises the fallback pool"):
        supervise(dana, olga, "fallback")
    assert SupervisionAssignment.objects.for_org(org).count() == 2


def test_another_organizations_team_and_assignment_are_not_found(org, dana, olga):
    other = OrganizationFactory()
    their_team = TeamFactory(organization=other)
    their_officer = member(other, Role.COMPLIANCE)
    theirs = supervision.add_supervisor(actor=their_officer, reviewer_id=their_officer.user_id, scope="fallback")
    with pytest.raises(NotFound):
        supervision.add_supervisor(actor=dana, reviewer_id=olga.user_id, scope="team", team_id=their_team.pk)
    with pytest.raises(NotFound):
        supervision.remove_supervisor(actor=dana, supervision_assignment_id=theirs.pk)
    assert SupervisionAssignment.objects.for_org(other).filter(pk=theirs.pk).exists()
    assert not SupervisionAssignment.objects.for_org(org).exists()


def test_an_employee_cannot_set_supervision(org, emma, dana):
    with pytest.raises(PermissionDenied):
        supervision.add_supervisor(actor=emma, reviewer_id=dana.user_id, scope="fallback")


# --- the queue --------------------------------------------------------------------------------


def test_the_queue_shows_each_officer_the_ones_they_supervise_first(org, dana, olga, emma, sales, paris):
    supervise(dana, dana, "team", team=sales)
    supervise(dana, olga, "team", team=paris)
    emma.teams.add(paris)
    olgas = submit(emma, "One for Olga.")  # due first
    emma.teams.remove(paris)
    emma.teams.add(sales)
    danas = submit(emma, "One for Dana.")

    def order(user_id, **params):
        filters = selectors.QueueFilters.from_params(params)
        return [(t.share_id, t.is_mine) for t in selectors.review_queue(org, filters, user_id=user_id)]

    assert order(dana.user_id) == [(danas.pk, True), (olgas.pk, False)]
    assert order(olga.user_id) == [(olgas.pk, True), (danas.pk, False)]
    assert order(dana.user_id, assigned="supervised") == [(danas.pk, True)]
    assert order(None) == [(olgas.pk, False), (danas.pk, False)]  # no viewer: soonest deadline first


def test_the_queue_page_puts_mine_first_with_a_fixed_query_count(
    client, org, dana, olga, emma, sales, django_assert_num_queries
):
    supervise(dana, dana, "team", team=sales)
    supervise(dana, olga, "fallback")  # the rest are olga's
    client.force_login(dana.user)
    url = org_url("compliance:queue", org)
    counts, mine = [], []
    for _ in range(2):
        for _ in range(3):
            submit(emma)  # not in Sales: olga's
        emma.teams.add(sales)
        mine.append(submit(emma).pk)  # due last, shown first
        emma.teams.remove(sales)
        response, count = counted(client.get, url)
        body = response.content.decode()
        counts.append(count)
        rows = re.findall(r'<tr data-share="(\d+)" class="[^"]*" data-queue-row( data-mine)?>', body)
        assert [int(pk) for pk, _ in rows[: len(mine)]] == mine
        assert [bool(flag) for _, flag in rows] == [True] * len(mine) + [False] * (len(rows) - len(mine))
    assert counts[0] == counts[1], counts
    assert sum(1 for _ in re.finditer("data-supervised", body)) == 2
    with django_assert_num_queries(counts[0]):
        client.get(url, {"assigned": "supervised"})


def test_the_api_says_which_tasks_are_mine_and_which_are_escalated(client, org, dana, olga, emma, sales):
    supervise(dana, olga, "team", team=sales)
    emma.teams.add(sales)
    share = submit(emma)
    ReviewTask.objects.for_org(org).filter(share=share).update(due_at=timezone.now() - timedelta(hours=1))
    supervision.escalate_overdue()
    client.force_login(olga.user)
    data = client.get(f"/api/v1/o/{org.slug}/review-tasks/").json()["results"]
    assert [(r["share"], r["is_mine"], r["escalated_at"] is not None) for r in data] == [(share.pk, True, True)]
    one = client.get(f"/api/v1/o/{org.slug}/review-tasks/{task_of(share).pk}/").json()
    assert one["is_mine"] is True


# --- escalation -------------------------------------------------------------------------------


def overdue(share, hours=1):
    ReviewTask.objects.for_org(share.organization_id).filter(share=share).update(
        due_at=timezone.now() - timedelta(hours=hours)
    )


def escalation_notices(org):
    return Notification.objects.for_org(org).filter(kind=ESCALATED)


def test_a_review_past_its_deadline_is_escalated_to_the_pool_and_everyone_is_told(
    client, org, dana, olga, pia, emma, sales
):
    supervise(dana, dana, "team", team=sales)
    supervise(dana, pia, "fallback")
    emma.teams.add(sales)
    late = submit(emma)
    on_time = submit(emma, "Still within the deadline.")
    overdue(late)
    assert supervision.escalate_overdue() == 1
    task = task_of(late)
    assert task.escalated_at is not None and task_of(on_time).escalated_at is None
    assert routed(late) == {dana.user_id: Reason.TEAM, pia.user_id: Reason.ESCALATION}
    told = sorted(escalation_notices(org).values_list("user_id", flat=True))
    assert told == sorted([dana.user_id, pia.user_id])
    notice = escalation_notices(org).first()
    assert "passed its review deadline" in notice.message
    assert notice.url == org_url("compliance:review", org, share_id=late.pk)
    entry = AuditEntry.objects.for_org(org).get(action="review_task.escalated")
    assert entry.target_id == str(task.pk)
    assert entry.after["added_supervisors"] == [pia.user_id]
    assert sorted(entry.after["notified"]) == sorted([dana.user_id, pia.user_id])
    client.force_login(pia.user)
    body = client.get(org_url("compliance:queue", org)).content.decode()
    row = re.search(rf'<tr data-share="{late.pk}".*?</tr>', body, re.S).group(0)
    assert re.search(r'<strong class="[^"]*" data-escalated title="Escalated [^"<>]+">Escalated</strong>', row)
    assert "data-supervised" in row
    other_row = re.search(rf'<tr data-share="{on_time.pk}".*?</tr>', body, re.S).group(0)
    assert "Escalated" not in other_row


def test_escalation_runs_twice_but_escalates_and_notifies_once(org, dana, olga, emma):
    share = submit(emma)
    overdue(share)
    assert escalate_overdue_reviews() == 1  # the beat's task
    first = task_of(share).escalated_at
    assert supervision.escalate_overdue() == 0
    assert escalate_overdue_reviews() == 0
    assert task_of(share).escalated_at == first
    # no pool: every officer supervised it already and is told once
    assert sorted(escalation_notices(org).values_list("user_id", flat=True)) == sorted([dana.user_id, olga.user_id])
    assert AuditEntry.objects.for_org(org).filter(action="review_task.escalated").count() == 1


def test_decided_or_not_yet_due_reviews_are_not_escalated(org, dana, olga, emma):
    decided = submit(emma)
    waiting = submit(emma, "Due later.")
    review.decide(actor=dana, share_id=decided.pk, outcome="approved", version=1)
    overdue(decided)
    assert supervision.escalate_overdue() == 0
    assert supervision.escalate_overdue(now=timezone.now() + timedelta(hours=9)) == 1
    assert task_of(waiting).escalated_at is not None
    assert not escalation_notices(org).filter(url__contains=f"/{decided.pk}/").exists()


def test_the_author_is_never_told_or_added_by_an_escalation(org, dana, emma):
    carl = member(org, Role.COMPLIANCE, Role.EMPLOYEE)
    supervise(dana, carl, "fallback")
    supervise(dana, dana, "fallback")
    share = submit(carl)
    overdue(share)
    supervision.escalate_overdue()
    assert carl.user_id not in routed(share)
    assert list(escalation_notices(org).values_list("user_id", flat=True)) == [dana.user_id]


def test_escalation_stays_within_each_organization(org, dana, emma):
    other = OrganizationFactory()
    Policy.objects.create(organization=other, review_mode="all")
    their_officer = member(other, Role.COMPLIANCE)
    their_share = submit(member(other, Role.EMPLOYEE))
    share = submit(emma)
    overdue(share)
    overdue(their_share)
    assert supervision.escalate_overdue() == 2
    assert list(escalation_notices(org).values_list("user_id", flat=True)) == [dana.user_id]
    assert list(escalation_notices(other).values_list("user_id", flat=True)) == [their_officer.user_id]


# --- the supervision page and API ---------------------------------------------------------------


def test_the_supervision_page_adds_lists_and_removes(client, org, dana, olga, sales, paris, django_assert_num_queries):
    client.force_login(dana.user)
    url = org_url("compliance:supervision", org)
    response, empty = counted(client.get, url)
    assert response.status_code == 200
    response = client.post(url, {"reviewer": olga.user_id, "scope": "team", "team": paris.pk})
    assert response.status_code == 302
    client.post(url, {"reviewer": dana.user_id, "scope": "role", "role": "marketer"})
    client.post(url, {"reviewer": dana.user_id, "scope": "fallback"})
    with django_assert_num_queries(empty):
        body = client.get(url).content.decode()
    assert re.search(r'data-testid="supervision-teams">.*Paris.*Olga Officer', body, re.S)
    assert re.search(r'data-testid="supervision-roles">.*Every marketer: Dana Officer', body, re.S)
    assert re.search(r'data-testid="supervision-pool">\s*<li[^>]*>Dana Officer', body)
    assert "Nobody supervises Sales" in body
    refused = client.post(url, {"reviewer": olga.user_id, "scope": "team", "team": paris.pk})
    assert refused.status_code == 400 and "already supervises the Paris location" in refused.content.decode()
    assignment = SupervisionAssignment.objects.for_org(org).get(team=paris)
    delete = org_url("compliance:supervision_delete", org, supervision_assignment_id=assignment.pk)
    assert client.post(delete).status_code == 302
    assert not SupervisionAssignment.objects.for_org(org).filter(team=paris).exists()


def test_the_supervision_page_is_for_compliance_officers_and_another_orgs_rows_are_404(client, org, dana, emma):
    client.force_login(emma.user)
    assert client.get(org_url("compliance:supervision", org)).status_code == 403
    other = OrganizationFactory()
    their_officer = member(other, Role.COMPLIANCE)
    theirs = supervision.add_supervisor(actor=their_officer, reviewer_id=their_officer.user_id, scope="fallback")
    client.force_login(dana.user)
    delete = org_url("compliance:supervision_delete", org, supervision_assignment_id=theirs.pk)
    assert client.post(delete).status_code == 404
    their_team = TeamFactory(organization=other)
    posted = client.post(
        org_url("compliance:supervision", org), {"reviewer": dana.user_id, "scope": "team", "team": their_team.pk}
    )
    assert posted.status_code == 400
    assert not SupervisionAssignment.objects.for_org(org).exists()


def test_the_api_lists_adds_and_removes_assignments(client, org, dana, olga, sales, django_assert_num_queries):
    client.force_login(dana.user)
    url = f"/api/v1/o/{org.slug}/supervision-assignments/"
    created = client.post(url, {"reviewer": olga.user_id, "scope": "team", "team": sales.pk}, "application/json")
    assert created.status_code == 201, created.content
    assert created.json()["supervises"] == "the Sales team"
    _, one = counted(client.get, url)
    client.post(url, {"reviewer": dana.user_id, "scope": "fallback"}, "application/json")
    with django_assert_num_queries(one):
        listed = client.get(url).json()
    assert [(r["reviewer_email"], r["scope"]) for r in listed["results"]] == [
        (dana.user.email, "fallback"),
        (olga.user.email, "team"),
    ]
    refused = client.post(url, {"reviewer": olga.user_id, "scope": "role", "role": ""}, "application/json")
    assert refused.status_code == 400
    assert client.delete(f"{url}{created.json()['id']}/").status_code == 204
    assert SupervisionAssignment.objects.for_org(org).count() == 1


# --- the dashboard's approval rate ------------------------------------------------------------


def test_a_second_version_approved_by_the_policy_is_no_human_decision(client, org, dana, emma):
    """v1 reviewed and approved by a human; v2 approved by the policy and published: one human
    decision, approved (100%, not 0%), and one auto-approval shown apart.

    Today's lifecycle sends every later version of a reviewed share to a human, so v2's
    records are written as the earlier lifecycle left them (the dashboard reads history):
    a screening that routed it straight to publishing and the policy's decision (no
    reviewer)."""
    share = submit(emma)
    review.decide(actor=dana, share_id=share.pk, outcome="approved", version=1)
    Share.objects.for_org(org).filter(pk=share.pk).update(version=2, status=Share.Status.PUBLISHED)
    version = ShareVersion.objects.create(organization=org, share=share, number=2, commentary="Try it.")
    ScreeningFactory(share=share, version=version, outcome="approved")
    DecisionFactory(share=share, version=2, outcome="approved", reviewer=None)
    Delivery.objects.for_org(org).filter(share=share).update(status=Delivery.Status.PUBLISHED)
    numbers = selectors.dashboard_numbers(org)
    assert (numbers.decided, numbers.approved, numbers.auto_approved) == (1, 1, 1)
    assert numbers.approval_rate == 1.0
    client.force_login(dana.user)
    body = client.get(org_url("compliance:dashboard", org)).content.decode()
    assert '<p class="stat-value" data-stat="approval_rate">100%</p>' in body
    assert "1 of 1 human decision approved" in body
    assert '<p class="stat-value" data-stat="auto_approved">1</p>' in body


def test_with_no_human_decision_the_rate_is_not_zero_percent(client, org, dana, emma):
    Policy.objects.for_org(org).update(review_mode="none", updated_at=timezone.now())
    share = submit(emma)
    assert share.status == Share.Status.APPROVED
    numbers = selectors.dashboard_numbers(org)
    assert (numbers.decided, numbers.auto_approved, numbers.approval_rate) == (0, 1, None)
    client.force_login(dana.user)
    body = client.get(org_url("compliance:dashboard", org)).content.decode()
    assert '<p class="stat-value" data-stat="approval_rate">No human decisions yet</p>' in body
    assert '<p class="stat-value" data-stat="auto_approved">1</p>' in body


def test_the_review_page_names_the_supervisors_and_the_escalation(client, org, dana, olga, pia, emma, sales):
    supervise(dana, olga, "team", team=sales)
    supervise(dana, pia, "fallback")
    emma.teams.add(sales)
    share = submit(emma)
    overdue(share)
    supervision.escalate_overdue()
    client.force_login(dana.user)
    body = client.get(org_url("compliance:review", org, share_id=share.pk)).content.decode()
    line = re.search(r'<p data-testid="supervisors">(.*?)</p>', body, re.S).group(1)
    assert "Olga Officer" in line and "(supervises the author&#x27;s team)" in line
    assert "Pia Pool" in line and "(escalated past the deadline)" in line
    assert "Escalated" in line


def test_after_a_decision_the_next_share_is_the_next_one_i_supervise(org, dana, olga, emma, sales, paris):
    supervise(dana, dana, "team", team=sales)
    supervise(dana, olga, "team", team=paris)
    emma.teams.add(sales)
    first_mine = submit(emma, "Mine, first.")
    emma.teams.remove(sales)
    emma.teams.add(paris)
    submit(emma, "Olga's, due before my second.")
    emma.teams.remove(paris)
    emma.teams.add(sales)
    second_mine = submit(emma, "Mine, second.")
    following = selectors.next_in_queue(org, after_share_id=first_mine.pk, user_id=dana.user_id)
    assert following.share_id == second_mine.pk
