"""Relaxations of review wait for a second person (issue 15, finding 8): review rules that ask
for less, removing a rule that lets a weaker default apply, several changes side by side,
self-confirmation refused, stale confirmations refused, plain words, pages and API."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from advocacy.errors import Conflict, NotAllowed, NotFound
from compliance.models import AuditEntry, PendingPolicyChange, Policy, ReviewRule
from compliance.selectors import policy as policy_selectors
from compliance.services import policy as services
from compliance.services import review
from content.services import sharing
from tests.accounts.factories import OrganizationFactory, TeamFactory
from tests.compliance.factories import PolicyFactory, ReviewRuleFactory
from tests.content.factories import ContentItemFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

Kind = PendingPolicyChange.Kind


@pytest.fixture
def org(settings):
    settings.SITE_URL = "https://go.acme.example"
    org = OrganizationFactory(slug="acme", name="Acme")
    PolicyFactory(organization=org, review_mode="findings", four_eyes=True, auto_approve_suggestions=False)
    return org


@pytest.fixture
def sales(org):
    return TeamFactory(organization=org, name="Sales")


@pytest.fixture
def cora(org):
    return member(org, Role.COMPLIANCE, Role.EMPLOYEE)


@pytest.fixture
def dora(org):
    return member(org, Role.COMPLIANCE)


def waiting(org) -> list[PendingPolicyChange]:
    return list(policy_selectors.pending_changes(org.pk))


def entries(org, action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.for_org(org).filter(action=action).order_by("sequence"))


def rule_mode(org, team) -> str | None:
    rule = ReviewRule.objects.for_org(org).filter(team=team).first()
    return rule.review_mode if rule else None


def submit(membership, text: str):
    item = ContentItemFactory(organization=membership.organization)
    return sharing.submit_share(
        actor=membership, item_id=item.pk, commentary=text, target_keys=["assisted:x"], confirm_repeat=True
    )


# --- the finding, reproduced --------------------------------------------------------------


def test_one_officer_cannot_lighten_their_teams_rule_and_publish_unreviewed_until_another_confirms(
    org, sales, cora, dora
):
    ReviewRuleFactory(team=sales, review_mode="all")
    cora.teams.add(sales)
    held = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    assert isinstance(held, PendingPolicyChange) and rule_mode(org, sales) == "all"

    share = submit(cora, "Proud of our launch.")
    assert share.status == "in_review", "her team still has every share reviewed"
    with pytest.raises(NotAllowed):
        review.decide(actor=cora, share_id=share.pk, outcome="approved", comment="", version=1)
    with pytest.raises(NotAllowed, match="other than the person who asked"):
        services.confirm_policy_change(actor=cora, change_id=held.pk)
    share.refresh_from_db()
    assert share.status == "in_review" and rule_mode(org, sales) == "all"

    services.confirm_policy_change(actor=dora, change_id=held.pk)
    assert rule_mode(org, sales) == "none"
    assert submit(cora, "Proud of our launch, again.").status == "approved", "confirmed: no review for Sales"
    share.refresh_from_db()
    assert share.status == "in_review", "what was waiting still waits for a reviewer"


# --- which rule changes are relaxations ----------------------------------------------------


@pytest.mark.parametrize(
    "earlier, asked, held",
    [
        ("all", "findings", True),
        ("all", "none", True),
        ("findings", "none", True),
        (None, "none", True),  # a new rule lighter than the default ("findings")
        (None, "findings", False),  # the same as the default
        (None, "all", False),
        ("none", "findings", False),
        ("findings", "all", False),
        ("all", "all", False),
    ],
)
def test_a_rule_asking_for_less_waits_and_one_asking_for_more_applies_at_once(org, sales, cora, earlier, asked, held):
    if earlier:
        ReviewRuleFactory(team=sales, review_mode=earlier)
    result = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode=asked)
    if held:
        assert isinstance(result, PendingPolicyChange) and result.kind == Kind.REVIEW_RULE_SET
        assert rule_mode(org, sales) == earlier
        assert [c.pk for c in waiting(org)] == [result.pk]
        assert not entries(org, "policy.review_rule_set")
    else:
        assert isinstance(result, ReviewRule) and rule_mode(org, sales) == asked
        assert waiting(org) == []
        assert len(entries(org, "policy.review_rule_set")) == 1


def test_a_role_rule_asking_for_less_waits_too(org, cora):
    ReviewRuleFactory(team=None, organization=org, role="employee", review_mode="all")
    held = services.set_review_rule(actor=cora, role="employee", review_mode="findings")
    assert (
        held.describe()
        == "Review rule for role Employee: from every share reviewed to only shares with findings reviewed"
    )
    assert ReviewRule.objects.for_org(org).get(role="employee").review_mode == "all"


def test_removing_a_rule_waits_when_the_default_asks_for_less(org, sales, cora):
    rule = ReviewRuleFactory(team=sales, review_mode="all")
    held = services.remove_review_rule(actor=cora, review_rule_id=rule.pk)
    assert isinstance(held, PendingPolicyChange) and held.kind == Kind.REVIEW_RULE_REMOVE
    assert ReviewRule.objects.for_org(org).filter(pk=rule.pk).exists()
    assert not entries(org, "policy.review_rule_removed")


def test_removing_a_rule_waits_when_another_rule_asks_for_less(org, sales, cora):
    Policy.objects.for_org(org).update(review_mode="all")
    rule = ReviewRuleFactory(team=sales, review_mode="all")
    ReviewRuleFactory(team=None, organization=org, role="employee", review_mode="none")
    held = services.remove_review_rule(actor=cora, review_rule_id=rule.pk)
    assert isinstance(held, PendingPolicyChange), "a Sales employee would fall to the employee rule: no review"
    assert ReviewRule.objects.for_org(org).filter(pk=rule.pk).exists()


@pytest.mark.parametrize("default, mode", [("all", "all"), ("findings", "findings"), ("all", "none")])
def test_removing_a_rule_applies_at_once_when_nothing_weaker_takes_over(org, sales, cora, default, mode):
    Policy.objects.for_org(org).update(review_mode=default)
    rule = ReviewRuleFactory(team=sales, review_mode=mode)
    removed = services.remove_review_rule(actor=cora, review_rule_id=rule.pk)
    assert isinstance(removed, ReviewRule)
    assert not ReviewRule.objects.for_org(org).exists() and waiting(org) == []
    assert len(entries(org, "policy.review_rule_removed")) == 1


# --- several waiting side by side -----------------------------------------------------------


def test_changes_wait_side_by_side_and_asking_again_replaces_only_your_own_for_that_target(org, sales, cora, dora):
    legal = TeamFactory(organization=org, name="Legal")
    ReviewRuleFactory(team=sales, review_mode="all")
    ReviewRuleFactory(team=legal, review_mode="all")
    settings = {field: getattr(Policy.objects.for_org(org).get(), field) for field in services.SETTINGS_FIELDS}
    services.update_policy(actor=cora, **{**settings, "four_eyes": False})
    first_sales = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    services.set_review_rule(actor=cora, team_id=legal.pk, review_mode="findings")
    assert [c.kind for c in waiting(org)] == [Kind.SETTINGS, Kind.REVIEW_RULE_SET, Kind.REVIEW_RULE_SET]

    again = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="findings")
    doras = services.set_review_rule(actor=dora, team_id=sales.pk, review_mode="none")
    descriptions = [c.describe() for c in waiting(org)]
    assert descriptions == [
        "Turn four-eyes review off",
        "Review rule for team Legal: from every share reviewed to only shares with findings reviewed",
        "Review rule for team Sales: from every share reviewed to only shares with findings reviewed",
        "Review rule for team Sales: from every share reviewed to no review",
    ]
    assert [c.pk for c in waiting(org)][2:] == [again.pk, doras.pk]
    first_sales.refresh_from_db()
    assert first_sales.outcome == PendingPolicyChange.Outcome.WITHDRAWN and first_sales.decided_by_id == cora.user_id
    replaced = entries(org, "policy.change_withdrawn")
    assert [(e.target_id, e.after["reason"]) for e in replaced] == [
        (str(first_sales.pk), "Replaced by a newer request.")
    ]


# --- who confirms and withdraws --------------------------------------------------------------


@pytest.mark.parametrize("roles", [[Role.COMPLIANCE], [Role.COMPLIANCE, Role.ADMIN]], ids=["officer", "officer-admin"])
def test_the_requester_never_confirms_their_own_change(org, sales, roles):
    asker = member(org, *roles)
    ReviewRuleFactory(team=sales, review_mode="all")
    held = services.set_review_rule(actor=asker, team_id=sales.pk, review_mode="none")
    with pytest.raises(NotAllowed, match="Someone other than the person who asked"):
        services.confirm_policy_change(actor=asker, change_id=held.pk)
    assert rule_mode(org, sales) == "all" and [c.pk for c in waiting(org)] == [held.pk]
    assert not entries(org, "policy.change_confirmed")
    services.withdraw_policy_change(actor=asker, change_id=held.pk)
    assert waiting(org) == [] and rule_mode(org, sales) == "all"


def test_another_officer_confirms_a_rule_change_and_it_is_applied_as_asked_and_audited(org, sales, cora, dora):
    ReviewRuleFactory(team=sales, review_mode="all")
    held = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="findings")
    requested = entries(org, "policy.change_requested")[-1]
    assert requested.after["description"] == held.describe() and requested.before["review_mode"] == "all"

    confirmed = services.confirm_policy_change(actor=dora, change_id=held.pk)
    assert (confirmed.outcome, confirmed.decided_by_id) == (PendingPolicyChange.Outcome.CONFIRMED, dora.user_id)
    assert rule_mode(org, sales) == "findings"
    applied = entries(org, "policy.review_rule_set")[-1]
    assert (applied.actor_id, applied.before["review_mode"], applied.after["review_mode"]) == (
        None,  # no request here; the actor comes from the request or acting_as
        "all",
        "findings",
    )
    entry = entries(org, "policy.change_confirmed")[-1]
    assert entry.after["description"] == held.describe() and entry.after["requested_by_id"] == cora.user_id
    assert entry.sequence > applied.sequence, "what changed, then who confirmed it, in one transaction"
    assert Policy.objects.for_org(org).get().updated_by_id == dora.user_id


def test_an_admin_confirms_a_rule_removal(org, sales, cora):
    rule = ReviewRuleFactory(team=sales, review_mode="all")
    held = services.remove_review_rule(actor=cora, review_rule_id=rule.pk)
    admin_member = member(org, Role.ADMIN)
    services.confirm_policy_change(actor=admin_member, change_id=held.pk)
    assert not ReviewRule.objects.for_org(org).exists()
    assert entries(org, "policy.review_rule_removed")[-1].before == {
        "team_id": sales.pk,
        "role": "",
        "review_mode": "all",
    }


def test_another_officer_or_an_admin_withdraws_and_an_employee_cannot(org, sales, cora, dora):
    ReviewRuleFactory(team=sales, review_mode="all")
    first = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    with pytest.raises(PermissionDenied):
        services.withdraw_policy_change(actor=member(org, Role.EMPLOYEE), change_id=first.pk)
    services.withdraw_policy_change(actor=dora, change_id=first.pk)
    second = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    services.withdraw_policy_change(actor=member(org, Role.ADMIN), change_id=second.pk)
    assert waiting(org) == [] and rule_mode(org, sales) == "all"
    withdrawn = entries(org, "policy.change_withdrawn")
    assert [e.target_id for e in withdrawn] == [str(first.pk), str(second.pk)]
    assert withdrawn[0].after["description"] == "Review rule for team Sales: from every share reviewed to no review"
    with pytest.raises(NotFound):
        services.confirm_policy_change(actor=dora, change_id=first.pk)


# --- stale confirmations ---------------------------------------------------------------------


def test_confirming_a_change_whose_rule_changed_meanwhile_is_refused_and_changes_nothing(org, sales, cora, dora):
    ReviewRuleFactory(team=sales, review_mode="findings")
    held = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    services.set_review_rule(actor=dora, team_id=sales.pk, review_mode="all")  # tightening: at once
    count = AuditEntry.objects.for_org(org).count()
    with pytest.raises(Conflict) as refused:
        services.confirm_policy_change(actor=dora, change_id=held.pk)
    assert refused.value.message == (
        "“Review rule for team Sales: from only shares with findings reviewed to no review” was not applied: "
        "the rule changed since it was asked. Withdraw it, and ask again if it is still wanted."
    )
    assert rule_mode(org, sales) == "all" and [c.pk for c in waiting(org)] == [held.pk]
    assert AuditEntry.objects.for_org(org).count() == count


def test_confirming_a_removal_of_a_rule_already_gone_or_a_new_rule_already_made_is_refused(org, sales, cora, dora):
    rule = ReviewRuleFactory(team=sales, review_mode="all")
    removal = services.remove_review_rule(actor=cora, review_rule_id=rule.pk)
    legal = TeamFactory(organization=org, name="Legal")
    new_rule = services.set_review_rule(actor=cora, team_id=legal.pk, review_mode="none")
    rule.delete()
    ReviewRuleFactory(team=legal, review_mode="none")
    for held in (removal, new_rule):
        with pytest.raises(Conflict, match="the rule changed since it was asked"):
            services.confirm_policy_change(actor=dora, change_id=held.pk)
    assert len(waiting(org)) == 2


def test_confirming_settings_that_changed_meanwhile_is_refused(org, cora, dora):
    settings = {field: getattr(Policy.objects.for_org(org).get(), field) for field in services.SETTINGS_FIELDS}
    Policy.objects.for_org(org).update(review_mode="all")
    settings["review_mode"] = "all"
    coras = services.update_policy(actor=cora, **{**settings, "review_mode": "findings"})
    assert coras.review_mode == "all"
    doras_change = services.update_policy(actor=dora, **{**settings, "review_mode": "none"})
    assert doras_change.review_mode == "all"
    first, second = waiting(org)
    services.confirm_policy_change(actor=dora, change_id=first.pk)
    with pytest.raises(Conflict, match="these settings changed since it was asked"):
        services.confirm_policy_change(actor=cora, change_id=second.pk)
    assert Policy.objects.for_org(org).get().review_mode == "findings"


# --- plain words -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, changes, before, words",
    [
        (Kind.SETTINGS, {"four_eyes": False}, {"four_eyes": True}, "Turn four-eyes review off"),
        (
            Kind.SETTINGS,
            {"review_mode": "none", "auto_approve_suggestions": True},
            {"review_mode": "all", "auto_approve_suggestions": False},
            "Default review: from every share reviewed to no review; "
            "Let unchanged pre-approved suggestions with no findings skip review",
        ),
        (
            Kind.REVIEW_RULE_SET,
            {"team_id": 7, "team_name": "Sales", "role": "", "review_mode": "findings"},
            {"team_id": 7, "team_name": "Sales", "role": "", "review_mode": "all", "default_review_mode": "none"},
            "Review rule for team Sales: from every share reviewed to only shares with findings reviewed",
        ),
        (
            Kind.REVIEW_RULE_SET,
            {"team_id": None, "team_name": "", "role": "marketer", "review_mode": "none"},
            {"team_id": None, "team_name": "", "role": "marketer", "review_mode": None, "default_review_mode": "all"},
            "Review rule for role Marketer: from the default (every share reviewed) to no review",
        ),
        (
            Kind.REVIEW_RULE_REMOVE,
            {"team_id": 8, "team_name": "Press", "role": ""},
            {"team_id": 8, "team_name": "Press", "role": "", "review_mode": "all", "default_review_mode": "findings"},
            "Remove the review rule for team Press (every share reviewed); its members get the default "
            "(only shares with findings reviewed) or another rule",
        ),
    ],
)
def test_describe_says_the_change_in_plain_words(kind, changes, before, words):
    change = PendingPolicyChange(kind=kind, changes=changes, before=before)
    assert change.describe() == words
    assert str(change) == words


def ask_for_less_review(org, officer) -> PendingPolicyChange:
    """A new team with every share reviewed, and `officer` asking for no review there."""
    team = TeamFactory(organization=org)
    ReviewRuleFactory(team=team, review_mode="all")
    return services.set_review_rule(actor=officer, team_id=team.pk, review_mode="none")


# --- pages -----------------------------------------------------------------------------------


def test_the_policy_page_lists_each_change_with_the_buttons_each_person_may_use(client, org, sales, cora, dora):
    ReviewRuleFactory(team=sales, review_mode="all")
    held = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    settings = {field: getattr(Policy.objects.for_org(org).get(), field) for field in services.SETTINGS_FIELDS}
    settings_change = services.update_policy(actor=dora, **{**settings, "four_eyes": False})
    assert settings_change.four_eyes is True
    theirs = waiting(org)[1]
    confirm_mine = org_url("compliance:policy_change_confirm", org, pending_policy_change_id=held.pk)
    confirm_theirs = org_url("compliance:policy_change_confirm", org, pending_policy_change_id=theirs.pk)
    withdraw_mine = org_url("compliance:policy_change_withdraw", org, pending_policy_change_id=held.pk)
    client.force_login(cora.user)
    body = client.get(org_url("compliance:policy", org)).content.decode()
    assert body.count('data-testid="pending-policy-change"') == 2
    assert "Review rule for team Sales: from every share reviewed to no review" in body
    assert "Turn four-eyes review off" in body and "{&#x27;" not in body and "{'" not in body
    assert confirm_mine not in body and confirm_theirs in body and withdraw_mine in body
    assert client.post(confirm_theirs).status_code == 302
    assert Policy.objects.for_org(org).get().four_eyes is False


def test_an_admin_confirms_on_the_policy_changes_page_and_an_employee_is_refused(client, org, sales, cora):
    ReviewRuleFactory(team=sales, review_mode="all")
    held = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    confirm = org_url("compliance:policy_change_confirm", org, pending_policy_change_id=held.pk)
    client.force_login(member(org, Role.EMPLOYEE).user)
    assert client.get(org_url("compliance:policy_changes", org)).status_code == 403
    assert client.post(confirm).status_code == 403
    client.force_login(member(org, Role.ADMIN).user)
    page = client.get(org_url("compliance:policy_changes", org)).content.decode()
    assert confirm in page and 'href="/o/acme/policy/changes/"' in page, "in the admin's navigation"
    done = client.post(confirm, follow=True)
    assert done.redirect_chain[-1][0] == org_url("compliance:policy_changes", org)
    assert "Confirmed and applied: Review rule for team Sales" in done.content.decode()
    assert rule_mode(org, sales) == "none"


def test_the_requester_posting_confirm_is_told_why_and_nothing_changes(client, org, sales, cora):
    ReviewRuleFactory(team=sales, review_mode="all")
    held = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    client.force_login(cora.user)
    response = client.post(
        org_url("compliance:policy_change_confirm", org, pending_policy_change_id=held.pk), follow=True
    )
    assert "Someone other than the person who asked must confirm this change." in response.content.decode()
    assert rule_mode(org, sales) == "all"


def test_another_organizations_change_is_404_on_the_pages(client, org, sales, cora):
    ReviewRuleFactory(team=sales, review_mode="all")
    held = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    globex = OrganizationFactory(slug="globex")
    intruder = member(globex, Role.COMPLIANCE, Role.ADMIN)
    client.force_login(intruder.user)
    for name in ("compliance:policy_change_confirm", "compliance:policy_change_withdraw"):
        assert client.post(org_url(name, globex, pending_policy_change_id=held.pk)).status_code == 404
    assert "Sales" not in client.get(org_url("compliance:policy_changes", globex)).content.decode()
    assert [c.pk for c in waiting(org)] == [held.pk] and rule_mode(org, sales) == "all"


def test_the_policy_changes_page_has_a_fixed_query_count(client, org, cora, django_assert_num_queries):
    ask_for_less_review(org, cora)
    client.force_login(member(org, Role.ADMIN).user)
    url = org_url("compliance:policy_changes", org)
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    ask_for_less_review(org, cora)
    ask_for_less_review(org, cora)
    with django_assert_num_queries(len(first)):
        assert client.get(url).content.decode().count('data-testid="pending-policy-change"') == 3


# --- API -------------------------------------------------------------------------------------


def api(org, *parts) -> str:
    return "/".join([f"/api/v1/o/{org.slug}/policy", *map(str, parts)]) + "/"


def test_api_lists_pending_changes_and_confirms_and_withdraws_them(client, org, sales, cora, dora):
    ReviewRuleFactory(team=sales, review_mode="all")
    held = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    client.force_login(cora.user)
    listed = client.get(api(org)).json()["pending_changes"]
    assert listed == [
        {
            "id": held.pk,
            "kind": "review_rule_set",
            "description": "Review rule for team Sales: from every share reviewed to no review",
            "requested_by": cora.user.email,
            "created_at": listed[0]["created_at"],
        }
    ]
    own = client.post(api(org, "changes", held.pk, "confirm"))
    assert own.status_code == 403 and "Someone other than the person who asked" in own.json()["error"]["message"]
    assert rule_mode(org, sales) == "all"

    client.force_login(dora.user)
    confirmed = client.post(api(org, "changes", held.pk, "confirm"))
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["outcome"] == "confirmed" and confirmed.json()["decided_by"] == dora.user.email
    assert rule_mode(org, sales) == "none"
    assert client.post(api(org, "changes", held.pk, "confirm")).status_code == 404, "decided: no longer waiting"

    again = services.remove_review_rule(actor=cora, review_rule_id=ReviewRule.objects.for_org(org).get(team=sales).pk)
    assert isinstance(again, ReviewRule), "removing 'no review' asks for no less"
    services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="all")
    later = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="findings")
    client.force_login(member(org, Role.ADMIN).user)
    assert [c["id"] for c in client.get(api(org, "changes")).json()["results"]] == [later.pk]
    withdrawn = client.post(api(org, "changes", later.pk, "withdraw"))
    assert withdrawn.status_code == 200 and withdrawn.json()["outcome"] == "withdrawn"
    assert client.get(api(org, "changes")).json()["results"] == []


def test_api_refuses_a_stale_confirmation_with_409(client, org, sales, cora, dora):
    ReviewRuleFactory(team=sales, review_mode="findings")
    held = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    services.set_review_rule(actor=dora, team_id=sales.pk, review_mode="all")
    client.force_login(dora.user)
    refused = client.post(api(org, "changes", held.pk, "confirm"))
    assert refused.status_code == 409 and "the rule changed since it was asked" in refused.json()["error"]["message"]
    assert rule_mode(org, sales) == "all"


def test_api_another_organizations_change_is_404_like_a_missing_one(client, org, sales, cora):
    ReviewRuleFactory(team=sales, review_mode="all")
    held = services.set_review_rule(actor=cora, team_id=sales.pk, review_mode="none")
    globex = OrganizationFactory(slug="globex")
    client.force_login(member(globex, Role.COMPLIANCE).user)
    for verb in ("confirm", "withdraw"):
        theirs = client.post(api(globex, "changes", held.pk, verb))
        missing = client.post(api(globex, "changes", 987654321, verb))
        assert theirs.status_code == 404 and theirs.json() == missing.json()
    assert client.get(api(globex)).json()["pending_changes"] == []
    assert [c.pk for c in waiting(org)] == [held.pk]


def test_api_pending_changes_list_has_a_fixed_query_count(client, org, cora, django_assert_num_queries):
    ask_for_less_review(org, cora)
    client.force_login(member(org, Role.ADMIN).user)
    client.get(api(org, "changes"))
    ask_for_less_review(org, cora)
    ask_for_less_review(org, cora)
    with django_assert_num_queries(5):  # session, user, membership + organization, count, page
        assert client.get(api(org, "changes")).json()["count"] == 3


def test_the_api_schema_documents_the_pending_changes(client, org, cora):
    client.force_login(cora.user)
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    base = "/api/v1/o/{org_slug}/policy/changes/{pending_policy_change_id}"
    assert {f"{base}/confirm/", f"{base}/withdraw/"} <= set(schema["paths"])
    listed = schema["components"]["schemas"]["PendingPolicyChange"]["properties"]
    assert {"id", "kind", "description", "requested_by", "created_at"} == set(listed)
    assert "pending_changes" in schema["components"]["schemas"]["Policy"]["properties"]


# --- Django admin ----------------------------------------------------------------------------


def test_pending_policy_changes_are_not_editable_in_the_django_admin():
    assert not admin.site.is_registered(PendingPolicyChange)
