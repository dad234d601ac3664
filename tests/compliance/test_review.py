"""The review queue: recording screenings, claim/assign, decisions (four-eyes, comments,
conflicts, notifications, publishing), bulk approval, diffs, the dashboard, pages and API."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Notification, Role
from advocacy.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from compliance import selectors
from compliance.models import Decision, Policy, ReviewTask, ReviewTaskSupervisor, Screening
from compliance.services import review
from compliance.services.audit import chain_pending
from content import hooks
from content.hooks import Finding, ScreeningResult
from content.models import Delivery, Share, ShareVersion
from content.services import sharing
from tests.accounts.factories import OrganizationFactory, TeamFactory
from tests.compliance.factories import DecisionFactory, submitted
from tests.content.factories import ContentItemFactory, SuggestionFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

FLAGGED = re.compile(r"\bguaranteed\b", re.I)


def flag_guaranteed(*, organization, author, item, texts, unchanged_suggestion, language=""):
    """A stand-in policy for these tests: 'guaranteed' needs review, 'forbidden' blocks."""
    findings = {}
    for network, text in texts.items():
        found = [
            Finding("guaranteed", "review", "Promises of returns need review", m.start(), m.end())
            for m in FLAGGED.finditer(text)
        ]
        found += [
            Finding("forbidden", "block", "Not allowed", m.start(), m.end()) for m in re.finditer("forbidden", text)
        ]
        if found:
            findings[network] = found
    return ScreeningResult(
        findings=findings,
        needs_review=bool(findings) or "review me" in " ".join(texts.values()),
        blocked=any(f.action == "block" for fs in findings.values() for f in fs),
        texts=dict(texts),
    )


@pytest.fixture(autouse=True)
def screening():
    previous = hooks._screen
    hooks.register_screening(flag_guaranteed)
    yield
    hooks.register_screening(previous)


@pytest.fixture
def org(settings):
    settings.SITE_URL = "https://go.acme.example"
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def emma(org):
    return member(org, Role.EMPLOYEE)


@pytest.fixture
def cora(org):
    m = member(org, Role.COMPLIANCE)
    m.user.name = "Cora Compliance"
    m.user.save()
    return m


@pytest.fixture
def carl(org):
    return member(org, Role.COMPLIANCE)


def submit(membership, text="Guaranteed returns, friends!", *, networks=("linkedin",), suggestion=None, item=None):
    return submitted(membership, text, networks=networks, suggestion=suggestion, item=item)


def task_of(share) -> ReviewTask:
    return ReviewTask.objects.for_org(share.organization_id).get(share=share)


# --- recording screenings -------------------------------------------------------------------


def test_share_with_a_finding_opens_a_task_with_the_policy_deadline_and_keeps_the_findings(org, emma):
    Policy.objects.create(organization=org, review_sla_hours=8)
    team = TeamFactory(organization=org)
    emma.teams.add(team)
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        share = submit(emma, networks=("linkedin", "x"))
    assert share.status == Share.Status.IN_REVIEW
    task = task_of(share)
    assert task.team == team and task.worst_action == "review" and task.networks == ["linkedin", "x"]
    assert task.opened_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert task.due_at == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    assert task.closed_at is None
    screening = Screening.objects.for_org(org).get(share=share)
    assert screening.version == ShareVersion.objects.for_org(org).get(share=share, number=1)
    assert screening.outcome == "in_review" and screening.worst_action == "review"
    text = Delivery.objects.for_org(org).get(share=share, network="linkedin").text
    assert screening.texts["linkedin"] == text
    assert screening.findings["linkedin"] == [
        {"rule": "guaranteed", "action": "review", "message": "Promises of returns need review", "start": 0, "end": 10}
    ]


def test_without_a_policy_the_deadline_is_24_hours(org, emma):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        share = submit(emma)
    assert task_of(share).due_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def test_a_share_that_needs_no_review_gets_a_screening_but_no_task(org, emma):
    share = submit(emma, "Nice launch today.")
    assert share.status == Share.Status.APPROVED
    assert Screening.objects.for_org(org).get(share=share).outcome == "approved"
    assert not ReviewTask.objects.for_org(org).filter(share=share).exists()


def test_an_edit_without_findings_stays_in_review_with_its_task_open(org, emma):
    share = submit(emma)
    edited = sharing.edit_share(actor=emma, share_id=share.pk, commentary="A calmer sentence.")
    assert edited.status == Share.Status.IN_REVIEW and edited.version == 2
    task = task_of(share)
    assert task.closed_at is None
    assert list(selectors.review_queue(org).values_list("share_id", flat=True)) == [share.pk]


def test_a_resubmitted_share_reopens_its_task_with_a_fresh_deadline_and_keeps_its_reviewer(org, emma, cora):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        share = submit(emma)
        review.claim(actor=cora, review_task_id=task_of(share).pk)
        review.decide(actor=cora, share_id=share.pk, outcome="changes_requested", comment="Drop the promise.")
    assert task_of(share).closed_at is not None
    with time_machine.travel(datetime(2026, 3, 3, 10, 0, tzinfo=UTC), tick=False):
        sharing.edit_share(actor=emma, share_id=share.pk, commentary="Guaranteed fun at the launch!")
    task = task_of(share)
    assert task.closed_at is None and task.assigned_to == cora.user
    assert task.opened_at == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert task.due_at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    assert Screening.objects.for_org(org).filter(share=share).count() == 2


def test_record_screening_can_be_called_directly_through_the_hook(org, emma):
    share = submit(emma, "Nice launch today.")
    share.status = Share.Status.IN_REVIEW
    share.save()
    hooks.screened(share=share, result=ScreeningResult(needs_review=True, texts={"x": "Nice launch today."}))
    task = task_of(share)
    assert task.worst_action == "" and task.networks == ["x"] and task.closed_at is None


# --- decisions ------------------------------------------------------------------------------


def test_approval_hands_the_share_to_publishing_and_keeps_the_approved_hashes(org, emma, cora):
    share = submit(emma, networks=("linkedin", "x"))
    decision = review.decide(actor=cora, share_id=share.pk, outcome="approved", version=1)
    share.refresh_from_db()
    assert share.status == Share.Status.APPROVED
    deliveries = list(Delivery.objects.for_org(org).filter(share=share))
    expected = {str(d.pk): hashlib.sha256(d.text.encode()).hexdigest() for d in deliveries}
    assert decision.text_hashes == expected
    assert all(d.approved_text_hash == expected[str(d.pk)] and d.due_at is not None for d in deliveries)
    assert (decision.reviewer, decision.version, decision.outcome) == (cora.user, 1, "approved")
    assert task_of(share).closed_at is not None
    notice = Notification.objects.for_org(org).get(user=emma.user)
    assert notice.kind == Notification.Kind.SHARE_APPROVED


@pytest.mark.parametrize("outcome", ["rejected", "changes_requested"])
@pytest.mark.parametrize("comment", ["", "   "])
def test_reject_and_send_back_need_a_comment_and_change_nothing_without_one(org, emma, cora, outcome, comment):
    share = submit(emma)
    with pytest.raises(ValidationFailed) as caught:
        review.decide(actor=cora, share_id=share.pk, outcome=outcome, comment=comment, version=1)
    assert caught.value.message.startswith("Write a comment for the employee")
    assert "comment" in caught.value.fields
    share.refresh_from_db()
    assert share.status == Share.Status.IN_REVIEW
    assert not Decision.objects.for_org(org).exists()
    assert task_of(share).closed_at is None


def test_an_unknown_outcome_is_refused_in_plain_words(org, emma, cora):
    share = submit(emma)
    with pytest.raises(ValidationFailed, match="Choose approve, reject or send back"):
        review.decide(actor=cora, share_id=share.pk, outcome="maybe", version=1)


def test_send_back_tells_the_employee_the_comment_with_a_link_to_the_share(org, emma, cora, mailoutbox):
    share = submit(emma)
    review.decide(
        actor=cora, share_id=share.pk, outcome="changes_requested", comment="Please drop “guaranteed”.", version=1
    )
    share.refresh_from_db()
    assert share.status == Share.Status.CHANGES_REQUESTED and share.review_comment == "Please drop “guaranteed”."
    notice = Notification.objects.for_org(org).get(user=emma.user)
    assert notice.kind == Notification.Kind.SHARE_CHANGES_REQUESTED
    assert "Please drop “guaranteed”." in notice.message and share.item.title in notice.message
    assert notice.url == org_url("content:share_detail", org, share_id=share.pk)


def test_reject_marks_the_share_rejected_and_tells_the_employee_why(org, emma, cora):
    share = submit(emma)
    review.decide(actor=cora, share_id=share.pk, outcome="rejected", comment="Not for this product.", version=1)
    share.refresh_from_db()
    assert share.status == Share.Status.REJECTED and share.review_comment == "Not for this product."
    notice = Notification.objects.for_org(org).get(user=emma.user)
    assert notice.kind == Notification.Kind.SHARE_REJECTED and "Not for this product." in notice.message
    assert not Delivery.objects.for_org(org).filter(share=share).exclude(approved_text_hash="").exists()


def test_second_reviewer_sees_already_decided_with_who_and_when(org, emma, cora, carl):
    share = submit(emma)
    with time_machine.travel(datetime(2026, 3, 2, 9, 30, tzinfo=UTC), tick=False):
        review.decide(actor=cora, share_id=share.pk, outcome="approved", version=1)
    with pytest.raises(Conflict) as caught:
        review.decide(actor=carl, share_id=share.pk, outcome="rejected", comment="No.", version=1)
    assert caught.value.message.startswith("Already decided by Cora Compliance at 2026-03-02 10:30 CET")
    assert Decision.objects.for_org(org).filter(share=share).count() == 1


def test_a_decision_on_a_version_the_employee_replaced_is_refused(org, emma, cora):
    share = submit(emma)
    sharing.edit_share(actor=emma, share_id=share.pk, commentary="Guaranteed: a new sentence.")
    with pytest.raises(Conflict, match="The employee changed it since you opened it"):
        review.decide(actor=cora, share_id=share.pk, outcome="approved", version=1)
    assert not Decision.objects.for_org(org).exists()
    review.decide(actor=cora, share_id=share.pk, outcome="approved", version=2)


def test_a_cancelled_share_cannot_be_decided(org, emma, cora):
    share = submit(emma)
    sharing.cancel_share(actor=emma, share_id=share.pk)
    with pytest.raises(Conflict, match="no longer waiting for review"):
        review.decide(actor=cora, share_id=share.pk, outcome="approved", version=1)
    assert not selectors.review_queue(org).exists()


def test_the_database_holds_one_decision_per_version(org, emma, cora):
    share = submit(emma)
    DecisionFactory(share=share, version=1, reviewer=cora.user)
    with pytest.raises(IntegrityError):
        DecisionFactory(share=share, version=1, outcome="rejected")


def test_four_eyes_nobody_decides_their_own_share(org, cora):
    cora.set_roles([Role.COMPLIANCE, Role.EMPLOYEE])
    cora.save()
    share = submit(cora)
    with pytest.raises(NotAllowed, match="You wrote this share"):
        review.decide(actor=cora, share_id=share.pk, outcome="approved", version=1)
    with pytest.raises(NotAllowed, match="You wrote this share"):
        review.claim(actor=cora, review_task_id=task_of(share).pk)
    assert Share.objects.for_org(org).get(pk=share.pk).status == Share.Status.IN_REVIEW


def test_without_four_eyes_an_officer_may_decide_their_own_share(org, cora):
    Policy.objects.create(organization=org, four_eyes=False)
    cora.set_roles([Role.COMPLIANCE, Role.EMPLOYEE])
    cora.save()
    share = submit(cora)
    assert review.decide(actor=cora, share_id=share.pk, outcome="approved", version=1).outcome == "approved"


def test_only_compliance_officers_decide_and_other_orgs_shares_are_not_found(org, emma, cora):
    share = submit(emma)
    with pytest.raises(PermissionDenied):
        review.decide(actor=emma, share_id=share.pk, outcome="approved", version=1)
    stranger = member(OrganizationFactory(), Role.COMPLIANCE)
    with pytest.raises(NotFound):
        review.decide(actor=stranger, share_id=share.pk, outcome="approved", version=1)


# --- claim and assign -----------------------------------------------------------------------


def test_claim_assign_and_unassign(org, emma, cora, carl):
    share = submit(emma)
    task = task_of(share)
    review.claim(actor=cora, review_task_id=task.pk)
    assert task_of(share).assigned_to == cora.user and task_of(share).claimed_at is not None
    with pytest.raises(Conflict, match="Cora Compliance already has this one"):
        review.claim(actor=carl, review_task_id=task.pk)
    review.assign(actor=cora, review_task_id=task.pk, user_id=carl.user_id)
    assert task_of(share).assigned_to == carl.user
    with pytest.raises(ValidationFailed, match="Choose a compliance officer"):
        review.assign(actor=cora, review_task_id=task.pk, user_id=emma.user_id)
    review.unassign(actor=carl, review_task_id=task.pk)
    assert task_of(share).assigned_to is None


def test_four_eyes_a_share_is_not_assigned_to_its_author(org, cora, carl):
    carl.set_roles([Role.COMPLIANCE, Role.EMPLOYEE])
    carl.save()
    share = submit(carl)
    with pytest.raises(NotAllowed, match="wrote this share"):
        review.assign(actor=cora, review_task_id=task_of(share).pk, user_id=carl.user_id)


# --- bulk approval --------------------------------------------------------------------------


def test_bulk_approve_approves_only_shares_without_findings_and_says_why_others_were_skipped(org, emma, cora):
    clean = submit(emma, "Please review me, nothing special.")
    flagged = submit(emma, "Guaranteed success.")
    decided = submit(emma, "review me too")
    review.decide(actor=cora, share_id=decided.pk, outcome="approved", version=1)
    cora.set_roles([Role.COMPLIANCE, Role.EMPLOYEE])
    cora.save()
    own = submit(cora, "review me: my own words.")
    result = review.bulk_approve(actor=cora, share_ids=[clean.pk, flagged.pk, decided.pk, own.pk])
    assert result.approved == [clean.pk]
    assert result.skipped == {
        flagged.pk: review.SKIP_FINDINGS,
        decided.pk: review.SKIP_GONE,
        own.pk: review.SKIP_OWN,
    }
    assert result.summary() == (
        "Approved 1 share. Skipped 3: 1 has findings: open it to review; 1 no longer waiting for review; "
        "1 your own share (four-eyes)."
    )
    statuses = dict(Share.objects.for_org(org).values_list("pk", "status"))
    assert statuses[clean.pk] == "approved" and statuses[flagged.pk] == "in_review" and statuses[own.pk] == "in_review"


def test_bulk_approve_with_nothing_ticked_says_so(org, cora):
    with pytest.raises(ValidationFailed, match="Tick the shares"):
        review.bulk_approve(actor=cora, share_ids=[])


# --- diffs and highlights -------------------------------------------------------------------


def test_word_diff_marks_inserted_and_deleted_words():
    assert selectors.diff_words("I like it.", "I love it.") == [
        selectors.Segment("I ", "equal"),
        selectors.Segment("like", "delete"),
        selectors.Segment("love", "insert"),
        selectors.Segment(" it.", "equal"),
    ]
    diff = selectors.diff_words("Proud of our team.", "Really proud of our team today.")
    assert "".join(s.text for s in diff if s.kind != "insert") == "Proud of our team."
    assert "".join(s.text for s in diff if s.kind != "delete") == "Really proud of our team today."
    assert any("today" in s.text for s in diff if s.kind == "insert")


def test_highlight_cuts_the_text_at_findings():
    runs = selectors.highlight("Guaranteed returns", [{"rule": "g", "action": "review", "start": 0, "end": 10}])
    assert [(r.text, r.action) for r in runs] == [("Guaranteed", "review"), (" returns", "")]


def test_review_shows_diffs_against_the_suggestion_and_the_previous_version(org, emma, cora):
    item = ContentItemFactory(organization=org)
    suggestion = SuggestionFactory(item=item, text="Proud of our team.")
    share = submit(emma, "Proud of our guaranteed team.", suggestion=suggestion, item=item)
    review.decide(actor=cora, share_id=share.pk, outcome="changes_requested", comment="Reword.", version=1)
    sharing.edit_share(actor=emma, share_id=share.pk, commentary="Proud of our guaranteed crew.")
    found = selectors.review_for(org, share.pk)
    assert [(s.kind, s.text) for s in found.diff_suggestion] == [
        ("equal", "Proud of our "),
        ("delete", "team"),
        ("insert", "guaranteed crew"),
        ("equal", "."),
    ]
    assert [(s.kind, s.text) for s in found.diff_previous if s.kind != "equal"] == [
        ("delete", "team"),
        ("insert", "crew"),
    ]
    assert found.previous_number == 1
    assert [n.network for n in found.networks] == ["linkedin"]
    assert [s.text for s in found.networks[0].segments if s.findings] == ["guaranteed"]


# --- the dashboard --------------------------------------------------------------------------


def test_dashboard_numbers_match_a_hand_count(org, emma, cora):
    t0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    shares = []
    for i, text in enumerate(["Guaranteed A", "Guaranteed B and forbidden? no", "review me C", "Guaranteed D"]):
        with time_machine.travel(t0 + timedelta(minutes=i), tick=False):
            shares.append(submit(emma, text.replace("forbidden? no", "more")))
    # decisions after 1 h, 3 h and 5 h (opened at t0 + 0, 1, 2 min)
    waits = [1, 3, 5]
    outcomes = ["approved", "changes_requested", "approved"]
    for share, hours, outcome in zip(shares[:3], waits, outcomes, strict=True):
        opened = Screening.objects.for_org(org).get(share=share).created_at
        with time_machine.travel(opened + timedelta(hours=hours), tick=False):
            review.decide(actor=cora, share_id=share.pk, outcome=outcome, comment="Fix it.", version=1)
    with time_machine.travel(t0 + timedelta(hours=30), tick=False):
        numbers = selectors.dashboard_numbers(org, days=30)
        later = selectors.dashboard_numbers(org, days=30, now=t0 + timedelta(hours=2))
    assert numbers.queue_size == 1  # only D still waits
    assert numbers.overdue == 1  # D was due at t0 + 24 h
    assert later.overdue == 0
    assert numbers.decided == 3 and numbers.approved == 2
    assert numbers.approval_rate == pytest.approx(2 / 3)
    assert numbers.median_hours == pytest.approx(3)
    # "guaranteed" was found in A, B and D (once per screening); C had no finding
    assert numbers.top_findings == [("guaranteed", 3)]
    before = selectors.dashboard_numbers(org, days=7, now=t0 - timedelta(days=1))
    assert (before.decided, before.top_findings, before.median_hours) == (0, [], None)


def test_dashboard_numbers_take_four_queries(org, emma, cora, django_assert_num_queries):
    for _ in range(3):
        submit(emma)
    with django_assert_num_queries(4):
        selectors.dashboard_numbers(org)


# --- pages ----------------------------------------------------------------------------------


def test_queue_page_lists_waiting_shares_soonest_due_first_and_flags_overdue(client, org, emma, cora):
    first = submit(emma, "Guaranteed one")
    second = submit(emma, "Guaranteed two")
    ReviewTask.objects.for_org(org).filter(share=second).update(due_at=timezone.now() - timedelta(hours=1))
    client.force_login(cora.user)
    response = client.get(org_url("compliance:queue", org))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index(f'data-share="{second.pk}"') < body.index(f'data-share="{first.pk}"')
    row = re.search(rf'<tr data-share="{second.pk}" class="([^"]*)"', body)
    assert row.group(1) == "overdue" and "Overdue" in body


def test_queue_filters_by_team_network_severity_age_and_assignee(client, org, emma, cora):
    team = TeamFactory(organization=org)
    a = submit(emma, "Guaranteed one", networks=("x",))
    emma.teams.add(team)
    b = submit(emma, "review me please", networks=("linkedin",))
    ReviewTask.objects.for_org(org).filter(share=a).update(opened_at=timezone.now() - timedelta(hours=30))
    review.claim(actor=cora, review_task_id=task_of(b).pk)

    def shown(**params):
        return [
            t.share_id
            for t in selectors.review_queue(org, selectors.QueueFilters.from_params(params), user_id=cora.user_id)
        ]

    assert shown() == [a.pk, b.pk]
    assert shown(team=str(team.pk)) == [b.pk]
    assert shown(network="x") == [a.pk]
    assert shown(severity="review") == [a.pk]
    assert shown(severity="none") == [b.pk]
    assert shown(age="24") == [a.pk]
    assert shown(assigned="me") == [b.pk]
    assert shown(assigned="unassigned") == [a.pk]
    assert shown(team="bogus", network="myspace", severity="???") == [a.pk, b.pk]
    client.force_login(cora.user)
    body = client.get(org_url("compliance:queue", org), {"network": "x"}).content.decode()
    assert f'data-share="{a.pk}"' in body and f'data-share="{b.pk}"' not in body


def test_queue_pages_hold_the_queue_order_and_count_every_waiting_task(org, emma, cora):
    assert selectors.review_queue_page(org, user_id=cora.user_id).paginator.count == 0
    shares = [submit(emma, f"Guaranteed {n}") for n in range(5)]
    ReviewTask.objects.for_org(org).filter(share=shares[3]).update(due_at=timezone.now() - timedelta(hours=1))
    whole = [t.share_id for t in selectors.review_queue(org, user_id=cora.user_id)]
    assert whole[0] == shares[3].pk and sorted(whole) == sorted(s.pk for s in shares)

    def page(number):
        tasks = selectors.review_queue_page(org, user_id=cora.user_id, number=number, per_page=2)
        return tasks.number, tasks.paginator.count, [(t.share_id, t.is_overdue) for t in tasks]

    overdue = {shares[3].pk}
    assert page(1) == (1, 5, [(pk, pk in overdue) for pk in whole[:2]])
    assert page(2) == (2, 5, [(pk, False) for pk in whole[2:4]])
    assert page(3) == (3, 5, [(whole[4], False)])
    assert page(9) == page(3), "past the end: the last page"
    review.claim(actor=cora, review_task_id=task_of(shares[3]).pk)
    first = selectors.review_queue_page(org, user_id=cora.user_id, per_page=2)[0]
    assert (first.share_id, first.assignee_name, first.author_name, first.version, first.team_name) == (
        shares[3].pk,
        cora.user.get_full_name(),
        emma.user.get_full_name(),
        1,
        "",
    )
    assert first.title == shares[3].item.title and first.commentary == shares[3].commentary
    network_x = selectors.review_queue_page(
        org, selectors.QueueFilters.from_params({"network": "myspace"}), user_id=cora.user_id
    )
    assert network_x.paginator.count == 5, "an unknown filter value is ignored, as on the whole queue"


# The session, the user, the membership, the page's ids with the count, its rows (with their
# shares, authors, items, teams and assignees), the policy, the filter's teams and the
# layout's two: whatever the number of tasks waiting.
QUEUE_PAGE_QUERIES = 9


def test_queue_page_query_count_is_fixed(client, org, emma, cora, django_assert_num_queries):
    client.force_login(cora.user)
    url = org_url("compliance:queue", org)
    client.get(url)
    counts = []
    for _ in range(2):
        for _ in range(4):
            submit(emma, "Guaranteed things", networks=("linkedin", "x"))
        with CaptureQueriesContext(db) as ctx:
            assert client.get(url).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1], counts
    with django_assert_num_queries(QUEUE_PAGE_QUERIES):
        client.get(url)


def test_queue_page_offers_bulk_and_claim_only_where_allowed(client, org, emma, cora):
    clean = submit(emma, "review me, plain words")
    flagged = submit(emma, "Guaranteed")
    client.force_login(cora.user)
    body = client.get(org_url("compliance:queue", org)).content.decode()
    assert f'name="share_ids" value="{clean.pk}"' in body
    assert f'name="share_ids" value="{flagged.pk}"' not in body
    response = client.post(org_url("compliance:bulk_approve", org), {"share_ids": [clean.pk, flagged.pk]}, follow=True)
    assert "Approved 1 share. Skipped 1: 1 has findings" in response.content.decode()


def test_review_page_highlights_findings_shows_diffs_and_has_the_decision_form(client, org, emma, cora):
    item = ContentItemFactory(organization=org)
    suggestion = SuggestionFactory(item=item, text="A good day for us.")
    share = submit(emma, "A guaranteed good day for us.", suggestion=suggestion, item=item)
    client.force_login(cora.user)
    body = client.get(org_url("compliance:review", org, share_id=share.pk)).content.decode()
    mark = '<mark class="finding finding-review" title="Promises of returns need review" data-rule="guaranteed">'
    assert mark + "guaranteed</mark>" in body
    assert "A<ins> guaranteed</ins> good day for us." in body
    assert 'name="outcome" value="changes_requested"' in body and 'name="version" value="1"' in body
    assert "data-next" not in body  # nothing else waits
    other = submit(emma, "Guaranteed again")
    body = client.get(org_url("compliance:review", org, share_id=share.pk)).content.decode()
    assert f'href="{org_url("compliance:review", org, share_id=other.pk)}" data-next' in body
    assert "js/review.js" in body


def test_review_page_query_count_is_fixed(client, org, emma, cora, carl, django_assert_num_queries):
    share = submit(emma, "Guaranteed, one version.")
    client.force_login(cora.user)
    url = org_url("compliance:review", org, share_id=share.pk)
    client.get(url)
    with CaptureQueriesContext(db) as ctx:
        client.get(url)
    review.decide(actor=cora, share_id=share.pk, outcome="changes_requested", comment="Again.", version=1)
    for text in ["Guaranteed v2", "Guaranteed v3"]:
        sharing.edit_share(actor=emma, share_id=share.pk, commentary=text)
    submit(emma)
    with django_assert_num_queries(len(ctx)):
        assert client.get(url).status_code == 200


def test_sending_back_from_the_page_needs_a_comment_then_goes_to_the_next_share(client, org, emma, cora):
    share = submit(emma)
    other = submit(emma, "Guaranteed other")
    client.force_login(cora.user)
    url = org_url("compliance:review", org, share_id=share.pk)
    response = client.post(url, {"outcome": "changes_requested", "comment": "", "version": "1"})
    assert response.status_code == 200
    assert "Write a comment for the employee: say what to change" in response.content.decode()
    assert Share.objects.for_org(org).get(pk=share.pk).status == "in_review"
    response = client.post(url, {"outcome": "changes_requested", "comment": "Drop the promise.", "version": "1"})
    assert response.status_code == 302
    assert response.url == org_url("compliance:review", org, share_id=other.pk)
    assert Share.objects.for_org(org).get(pk=share.pk).status == "changes_requested"


def test_a_stale_page_is_told_who_decided_and_keeps_the_typed_comment(client, org, emma, cora, carl):
    share = submit(emma)
    review.decide(actor=carl, share_id=share.pk, outcome="approved", version=1)
    client.force_login(cora.user)
    response = client.post(
        org_url("compliance:review", org, share_id=share.pk),
        {"outcome": "rejected", "comment": "My long careful reason.", "version": "1"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Already decided by" in body
    assert Decision.objects.for_org(org).get(share=share).reviewer == carl.user


def test_own_share_has_no_decision_buttons_under_four_eyes(client, org, cora):
    cora.set_roles([Role.COMPLIANCE, Role.EMPLOYEE])
    cora.save()
    share = submit(cora)
    client.force_login(cora.user)
    body = client.get(org_url("compliance:review", org, share_id=share.pk)).content.decode()
    assert 'data-testid="four-eyes"' in body and 'name="outcome"' not in body
    queue = client.get(org_url("compliance:queue", org)).content.decode()
    assert "Yours (four-eyes)" in queue and f'name="share_ids" value="{share.pk}"' not in queue


def test_claim_and_assign_from_the_page(client, org, emma, cora, carl):
    share = submit(emma)
    task = task_of(share)
    client.force_login(cora.user)
    client.post(org_url("compliance:task_claim", org, review_task_id=task.pk))
    assert task_of(share).assigned_to == cora.user
    response = client.post(org_url("compliance:task_assign", org, review_task_id=task.pk), {"user": carl.user_id})
    assert response.status_code == 302 and task_of(share).assigned_to == carl.user
    client.post(org_url("compliance:task_assign", org, review_task_id=task.pk), {"user": "nobody"})
    assert task_of(share).assigned_to == carl.user


def test_queue_rows_link_to_their_review_and_claim_through_the_queue_form(client, org, emma, cora):
    share = submit(emma, "Guaranteed")
    task = task_of(share)
    client.force_login(cora.user)
    queue_url = org_url("compliance:queue", org)
    body = client.get(queue_url).content.decode()
    review_url = org_url("compliance:review", org, share_id=share.pk)
    claim_url = org_url("compliance:task_claim", org, review_task_id=task.pk)
    assert f'<a href="{review_url}" data-review-link>' in body
    # The Claim button submits the queue's form (its CSRF token and "next") to the task's claim URL.
    assert f'formaction="{claim_url}"' in body and 'form="claim-' not in body
    assert client.get(review_url).status_code == 200
    response = client.post(claim_url, {"next": queue_url})
    assert response.status_code == 302 and response["Location"] == queue_url
    assert task_of(share).assigned_to == cora.user


def test_queue_rows_read_in_the_officers_language_with_names_and_titles_escaped(client, org, emma, cora, carl):
    """The rows are built in Python (compliance.views.review._queue_row): they are translated
    like the rest of the page, and what people typed is escaped."""
    emma.user.name = "Emma & Co"
    emma.user.save()
    item = ContentItemFactory(organization=org, title="Launch <b>news</b>")
    clean = submit(emma, "review me, plain words", item=item)
    flagged = submit(emma, "Guaranteed")
    review.claim(actor=cora, review_task_id=task_of(flagged).pk)
    review.decide(actor=cora, share_id=flagged.pk, outcome="changes_requested", comment="Reword.", version=1)
    sharing.edit_share(actor=emma, share_id=flagged.pk, commentary="Guaranteed, reworded.")
    carl.user.language = "fr"
    carl.user.save(update_fields=["language"])
    client.force_login(carl.user)
    body = client.get(org_url("compliance:queue", org)).content.decode()
    rows = {int(m.group(1)): m.group(0) for m in re.finditer(r'<tr data-share="(\d+)".*?</tr>', body, re.S)}
    assert set(rows) == {clean.pk, flagged.pk}
    assert (
        f'<input type="checkbox" name="share_ids" value="{clean.pk}" '
        'aria-label="Choisir le partage Launch &lt;b&gt;news&lt;/b&gt; de Emma &amp; Co">'
    ) in rows[clean.pk]
    assert "<strong>Launch &lt;b&gt;news&lt;/b&gt;</strong>" in rows[clean.pk]
    assert ">Prendre</button>" in rows[clean.pk] and "en attente depuis" in rows[clean.pk]
    assert '<span class="finding-badge finding-review">À valider</span>' in rows[flagged.pk]
    assert "Emma &amp; Co · version 2</span>" in rows[flagged.pk]
    assert "<td>Cora Compliance</td>" in rows[flagged.pk] and "share_ids" not in rows[flagged.pk]
    assert "waiting" not in body and "Claim<" not in body


def test_queue_rows_name_each_network_once(client, org, emma, cora):
    share = submit(emma, "Guaranteed", networks=("linkedin", "x"))
    client.force_login(cora.user)
    body = client.get(org_url("compliance:queue", org)).content.decode()
    assert '<span class="tag">LinkedIn</span><span class="tag">X</span>' in body
    assert selectors.review_queue_page(org, user_id=cora.user_id)[0].networks == ["linkedin", "x"]
    assert task_of(share).networks == ["linkedin", "x"]


def test_queue_sorts_the_tasks_the_officer_supervises_first(org, emma, cora):
    first, supervised = submit(emma, "Guaranteed, first"), submit(emma, "Guaranteed, next")
    ReviewTask.objects.for_org(org).filter(share=first).update(due_at=timezone.now() - timedelta(hours=1))
    routed = task_of(supervised)
    ReviewTaskSupervisor.objects.for_org(org).update_or_create(
        organization=org, task=routed, user=cora.user, defaults={"reason": ReviewTaskSupervisor.Reason.TEAM}
    )
    queue = list(selectors.review_queue(org, user_id=cora.user_id))
    assert [(t.share_id, t.is_mine) for t in queue[:2]] == [(supervised.pk, True), (first.pk, False)]
    mine = list(selectors.review_queue(org, selectors.QueueFilters(assigned="supervised"), user_id=cora.user_id))
    assert [t.share_id for t in mine] == [supervised.pk]


def test_employees_cannot_open_the_review_pages(client, org, emma):
    share = submit(emma)
    client.force_login(emma.user)
    assert client.get(org_url("compliance:queue", org)).status_code == 403
    assert client.get(org_url("compliance:review", org, share_id=share.pk)).status_code == 403
    assert client.get(org_url("compliance:dashboard", org)).status_code == 403


def test_dashboard_page_shows_the_numbers_with_a_fixed_query_count(client, org, emma, cora, django_assert_num_queries):
    client.force_login(cora.user)
    url = org_url("compliance:dashboard", org)
    share = submit(emma)
    review.decide(actor=cora, share_id=share.pk, outcome="approved", version=1)
    submit(emma)
    with CaptureQueriesContext(db) as ctx:
        body = client.get(url).content.decode()
    assert '<p class="stat-value" data-stat="queue_size">1</p>' in body
    assert '<p class="stat-value" data-stat="approval_rate">100%</p>' in body
    assert '<tr data-rule="guaranteed"><td>guaranteed</td><td>2</td>' in body
    for _ in range(3):
        submit(emma)
    with django_assert_num_queries(len(ctx)):
        client.get(url)


def test_compliance_officers_see_the_dashboard_in_the_navigation(client, org, cora):
    client.force_login(cora.user)
    body = client.get(org_url("compliance:queue", org)).content.decode()
    assert f'href="{org_url("compliance:dashboard", org)}"' in body


# --- the employee's side --------------------------------------------------------------------


def test_the_employee_sees_the_comment_and_resubmits_from_the_share_page(client, org, emma, cora):
    share = submit(emma)
    review.decide(actor=cora, share_id=share.pk, outcome="changes_requested", comment="Drop the promise.", version=1)
    client.force_login(emma.user)
    assert "Drop the promise." in client.get(org_url("content:my_shares", org)).content.decode()
    url = org_url("content:share_detail", org, share_id=share.pk)
    assert "Drop the promise." in client.get(url).content.decode()
    client.post(url, {"commentary": "Guaranteed to smile, nothing more."})
    share.refresh_from_db()
    assert (share.status, share.version, share.review_comment) == ("in_review", 2, "")
    assert task_of(share).closed_at is None


# --- API ------------------------------------------------------------------------------------


@pytest.fixture
def api(client, cora):
    client.force_login(cora.user)
    return client


def test_api_lists_the_queue_with_a_fixed_query_count(api, org, emma, django_assert_num_queries):
    url = f"/api/v1/o/{org.slug}/review-tasks/"
    submit(emma)
    with CaptureQueriesContext(db) as ctx:
        first = api.get(url).json()
    for _ in range(3):
        submit(emma)
    with django_assert_num_queries(len(ctx)):
        data = api.get(url, {"severity": "review"}).json()
    assert first["count"] == 1 and data["count"] == 4
    assert data["results"][0]["worst_action"] == "review" and data["results"][0]["version"] == 1


def test_api_retrieves_one_with_findings_and_decides(api, org, emma):
    share = submit(emma)
    task = task_of(share)
    url = f"/api/v1/o/{org.slug}/review-tasks/{task.pk}/"
    data = api.get(url).json()
    assert data["share"] == share.pk and data["findings"]["linkedin"][0]["rule"] == "guaranteed"
    assert data["versions"][0]["number"] == 1 and data["decisions"] == []
    response = api.post(url + "decide/", {"outcome": "rejected", "version": 1}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"comment": ["Required for this decision."]}
    response = api.post(
        url + "decide/", {"outcome": "rejected", "comment": "No.", "version": 1}, content_type="application/json"
    )
    assert response.status_code == 201 and response.json()["outcome"] == "rejected"
    response = api.post(url + "decide/", {"outcome": "approved", "version": 1}, content_type="application/json")
    assert response.status_code == 409
    assert response.json()["error"]["message"].startswith("Already decided by Cora Compliance")
    data = api.get(url).json()  # a decided task still shows its history
    assert [(d["outcome"], d["comment"]) for d in data["decisions"]] == [("rejected", "No.")]
    assert api.get(f"/api/v1/o/{org.slug}/review-tasks/").json()["count"] == 0


def test_api_decide_on_a_stale_version_is_409(api, org, emma):
    share = submit(emma)
    sharing.edit_share(actor=emma, share_id=share.pk, commentary="Guaranteed, second try.")
    url = f"/api/v1/o/{org.slug}/review-tasks/{task_of(share).pk}/decide/"
    response = api.post(url, {"outcome": "approved", "version": 1}, content_type="application/json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"


def test_api_is_for_compliance_officers_only(client, org, emma):
    submit(emma)
    client.force_login(emma.user)
    assert client.get(f"/api/v1/o/{org.slug}/review-tasks/").status_code == 403


def test_top_findings_count_each_rule_once_per_screening_most_frequent_first(org):
    from tests.compliance.factories import ScreeningFactory
    from tests.content.factories import ShareFactory

    share = ShareFactory(organization=org, item__organization=org)

    def found(rule):
        return {"rule": rule, "action": "warn", "message": rule, "start": 0, "end": 1}

    ScreeningFactory(
        share=share, worst_action="warn", findings={"linkedin": [found("A"), found("B")], "x": [found("A")]}
    )
    ScreeningFactory(share=share, worst_action="warn", findings={"x": [found("B")]})
    ScreeningFactory(share=share, worst_action="warn", findings={"facebook": [found("C")]})
    ScreeningFactory(share=share, worst_action="", findings={})
    numbers = selectors.dashboard_numbers(org)
    assert numbers.top_findings == [("B", 2), ("A", 1), ("C", 1)]
    assert selectors.dashboard_numbers(org, top=1).top_findings == [("B", 2)]


def test_screening_claims_and_decisions_leave_audit_entries_with_the_reviewer(
    org, emma, cora, django_capture_on_commit_callbacks
):
    from advocacy import audit
    from compliance.models import AuditEntry

    # Submission and decision link their entries into the chain just after their commits
    # (advocacy.audit.linked_after_commit): run those callbacks as a real commit would.
    with django_capture_on_commit_callbacks(execute=True):
        share = submit(emma)
    task = task_of(share)
    with audit.acting_as(cora.user, ip="203.0.113.9"):
        review.claim(actor=cora, review_task_id=task.pk)
        review.decide(actor=cora, share_id=share.pk, outcome="changes_requested", comment="Drop it.", version=1)
    # The decision's linker (the test's transaction still holds the submission's callback, so
    # Django registers no second one; a real commit would have run and cleared it).
    chain_pending(org.pk)
    entries = list(
        AuditEntry.objects.for_org(org).filter(target_id__in=[str(share.pk), str(task.pk)]).order_by("sequence")
    )
    actions = [e.action for e in entries if e.target_type in ("content.share", "compliance.reviewtask")]
    assert actions[-5:] == [
        "share.screened",
        "review_task.opened",
        "review_task.claimed",
        "review_task.closed",
        "share.sent_back",
    ]
    sent_back = entries[-1]
    assert sent_back.actor_id == cora.user_id and sent_back.ip == "203.0.113.9"
    assert sent_back.before == {"status": "in_review", "version": 1}
    assert sent_back.after["status"] == "changes_requested" and sent_back.after["comment"] == "Drop it."


# --- review keys (issue 16, item 9; WCAG 2.1.4) ---------------------------------------------
# Single-key shortcuts are on by default and a reviewer can turn them off in their settings;
# the pages say which and the script reads it (the browser side: tests/e2e/test_review_keys.py).


def test_shortcuts_are_on_by_default_and_both_review_pages_say_so(client, org, cora):
    share = submit(member(org, Role.EMPLOYEE))
    client.force_login(cora.user)
    queue = client.get(org_url("compliance:queue", org)).content.decode()
    page = client.get(org_url("compliance:review", org, share_id=share.pk)).content.decode()
    assert cora.user.review_shortcuts is True
    assert 'data-review-shortcuts="on"' in queue and "<kbd>x</kbd> tick" in queue
    assert 'data-review-shortcuts="on"' in page and 'data-key="a">Approve <kbd>a</kbd>' in page


def test_a_reviewer_turns_single_key_shortcuts_off_and_the_pages_drop_them(client, org, cora):
    share = submit(member(org, Role.EMPLOYEE))
    client.force_login(cora.user)
    response = client.post(org_url("profile", org), {"name": "Cora", "timezone": ""})  # the box unticked
    assert response.status_code == 302
    cora.user.refresh_from_db()
    assert cora.user.review_shortcuts is False
    queue = client.get(org_url("compliance:queue", org)).content.decode()
    page = client.get(org_url("compliance:review", org, share_id=share.pk)).content.decode()
    assert 'data-review-shortcuts="off"' in queue and 'data-review-shortcuts="on"' not in queue
    assert 'data-review-shortcuts="off"' in page and "<kbd>a</kbd>" not in page
    # Turned on again the same way.
    client.post(org_url("profile", org), {"name": "Cora", "timezone": "", "review_shortcuts": "on"})
    cora.user.refresh_from_db()
    assert cora.user.review_shortcuts is True


def test_a_refused_settings_form_keeps_the_shortcut_choice(client, org, cora):
    client.force_login(cora.user)
    response = client.post(org_url("profile", org), {"name": "Cora", "timezone": "Moon/Base"})
    assert response.status_code == 200 and "is not a time zone we know" in response.content.decode()
    cora.user.refresh_from_db()
    assert cora.user.review_shortcuts is True


def test_a_change_made_only_in_one_network_tab_shows_in_the_diff_since_the_send_back(org, emma, cora):
    """The employee keeps the common words and rewords only X's: the reviewer sees X's change."""
    share = sharing.submit_share(
        actor=emma,
        item_id=ContentItemFactory(organization=org).pk,
        commentary="Proud of our team.",
        network_texts={"x": "Guaranteed fun for X."},
        target_keys=["assisted:linkedin", "assisted:x"],
        confirm_repeat=True,
    )
    assert share.status == "in_review"
    review.decide(actor=cora, share_id=share.pk, outcome="changes_requested", comment="X: reword.", version=1)
    sharing.edit_share(
        actor=emma, share_id=share.pk, commentary="Proud of our team.", network_texts={"x": "Great fun for X."}
    )
    found = selectors.review_for(org, share.pk)
    assert [(s.kind, s.text) for s in found.diff_sent_back if s.kind != "equal"] == [
        ("delete", "Guaranteed"),
        ("insert", "Great"),
    ]
    assert "X only: Great fun for X." in "".join(s.text for s in found.diff_sent_back if s.kind != "delete")
