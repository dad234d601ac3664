"""The policy editor: services (rules, audit, nothing saved on bad input), pages, API, composer."""

import html
import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import Role
from advocacy.errors import NotAllowed, NotFound, ValidationFailed
from compliance.models import AllowedDomain, AuditEntry, LexiconTerm, PatternRule, Policy, ReviewRule
from compliance.selectors import policy as policy_selectors
from compliance.services import policy as services
from tests.accounts.factories import MembershipFactory, OrganizationFactory, TeamFactory
from tests.compliance.factories import (
    AllowedDomainFactory,
    LexiconTermFactory,
    PatternRuleFactory,
    PolicyFactory,
    ReviewRuleFactory,
)
from tests.content.factories import ContentItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme")


@pytest.fixture
def cora(org):
    return MembershipFactory(organization=org, roles=[Role.COMPLIANCE])


def pending(org):
    """The one relaxation waiting in `org` (these tests ask for one at a time), or None."""
    waiting = list(policy_selectors.pending_changes(org.pk))
    assert len(waiting) <= 1, waiting
    return waiting[0] if waiting else None


def audit_actions(org):
    return list(AuditEntry.objects.for_org(org).order_by("sequence").values_list("action", flat=True))


SETTINGS = {
    "review_mode": "all",
    "auto_approve_suggestions": False,
    "four_eyes": True,
    "review_sla_hours": 8,
    "disclosure": "#AcmeEmployee",
    "disclosure_mode": "append",
    "restrict_link_domains": True,
    "link_domain_action": "block",
}


# --- services -----------------------------------------------------------------------------


def test_update_policy_creates_it_and_audits_before_and_after(org, cora):
    policy = services.update_policy(actor=cora, **SETTINGS)
    assert (policy.review_mode, policy.review_sla_hours, policy.disclosure) == ("all", 8, "#AcmeEmployee")
    assert audit_actions(org) == ["policy.created", "policy.updated"]
    entry = AuditEntry.objects.for_org(org).get(action="policy.updated")
    assert entry.before["review_mode"] == "findings" and entry.after["review_mode"] == "all"


@pytest.mark.parametrize(
    "change, words",
    [
        ({"review_sla_hours": 0}, "between 1 and 720"),
        ({"review_mode": "sometimes"}, "Choose who needs review"),
        ({"disclosure": "", "disclosure_mode": "require"}, "Write the disclosure"),
        ({"disclosure": "#" * 101}, "at most 100"),
    ],
)
def test_update_policy_refuses_bad_input_and_changes_nothing(org, cora, change, words):
    with pytest.raises(ValidationFailed, match=words):
        services.update_policy(actor=cora, **{**SETTINGS, **change})
    assert not Policy.objects.for_org(org).exists()
    assert audit_actions(org) == []


def test_only_compliance_officers_change_the_policy(org):
    employee = MembershipFactory(organization=org, roles=[Role.EMPLOYEE, Role.ADMIN])
    with pytest.raises(PermissionDenied):
        services.add_term(actor=employee, term="guaranteed")
    assert not LexiconTerm.objects.for_org(org).exists()


def test_one_officer_cannot_switch_four_eyes_off_a_second_must_confirm(org, cora):
    from compliance.models import PendingPolicyChange

    services.update_policy(actor=cora, **SETTINGS)
    policy = services.update_policy(actor=cora, **{**SETTINGS, "four_eyes": False, "review_sla_hours": 12})
    policy.refresh_from_db()
    assert policy.four_eyes is True and policy.review_sla_hours == 12  # the rest applies at once
    change = pending(org)
    assert change.changes == {"four_eyes": False} and change.requested_by_id == cora.user_id
    with pytest.raises(NotAllowed, match="other than"):
        services.confirm_policy_change(actor=cora, change_id=change.pk)
    policy.refresh_from_db()
    assert policy.four_eyes is True
    dora = MembershipFactory(organization=org, roles=[Role.COMPLIANCE])
    services.confirm_policy_change(actor=dora, change_id=change.pk)
    policy.refresh_from_db()
    change.refresh_from_db()
    assert policy.four_eyes is False
    assert (change.outcome, change.decided_by_id) == (PendingPolicyChange.Outcome.CONFIRMED, dora.user_id)
    actions = audit_actions(org)
    assert actions.index("policy.change_requested") < actions.index("policy.change_confirmed")
    with pytest.raises(NotFound):
        services.confirm_policy_change(actor=dora, change_id=change.pk)


def test_review_mode_and_auto_approval_relaxations_wait_and_can_be_withdrawn(org, cora):
    services.update_policy(actor=cora, **SETTINGS)
    services.update_policy(actor=cora, **{**SETTINGS, "review_mode": "none", "auto_approve_suggestions": True})
    policy = Policy.objects.for_org(org).get()
    assert (policy.review_mode, policy.auto_approve_suggestions) == ("all", False)
    change = pending(org)
    assert change.changes == {"review_mode": "none", "auto_approve_suggestions": True}
    services.withdraw_policy_change(actor=cora, change_id=change.pk)
    assert pending(org) is None
    assert "policy.change_withdrawn" in audit_actions(org)


def test_an_admin_confirms_and_an_employee_cannot(org, cora):
    services.update_policy(actor=cora, **SETTINGS)
    services.update_policy(actor=cora, **{**SETTINGS, "review_mode": "findings"})
    change = pending(org)
    employee = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    with pytest.raises(PermissionDenied):
        services.confirm_policy_change(actor=employee, change_id=change.pk)
    admin = MembershipFactory(organization=org, roles=[Role.ADMIN])
    services.confirm_policy_change(actor=admin, change_id=change.pk)
    assert Policy.objects.for_org(org).get().review_mode == "findings"


def test_another_organizations_pending_change_is_not_found(org, cora):
    services.update_policy(actor=cora, **SETTINGS)
    services.update_policy(actor=cora, **{**SETTINGS, "four_eyes": False})
    change = pending(org)
    other = MembershipFactory(organization=OrganizationFactory(slug="globex"), roles=[Role.COMPLIANCE])
    with pytest.raises(NotFound):
        services.confirm_policy_change(actor=other, change_id=change.pk)
    with pytest.raises(NotFound):
        services.withdraw_policy_change(actor=other, change_id=change.pk)


def test_tightening_applies_at_once(org, cora):
    PolicyFactory(organization=org, review_mode="none", four_eyes=False, auto_approve_suggestions=True)
    policy = services.update_policy(actor=cora, **{**SETTINGS, "review_mode": "all", "four_eyes": True})
    policy.refresh_from_db()
    assert (policy.review_mode, policy.four_eyes) == ("all", True)
    assert pending(org) is None


def test_policy_page_shows_the_pending_change_and_a_second_officer_confirms_it(client, org, cora):
    services.update_policy(actor=cora, **SETTINGS)
    services.update_policy(actor=cora, **{**SETTINGS, "four_eyes": False})
    change = pending(org)
    confirm = url("policy_change_confirm", org, pending_policy_change_id=change.pk)
    client.force_login(cora.user)
    body = client.get(url("policy", org)).content.decode()
    assert 'data-testid="pending-policy-change"' in body and confirm not in body
    saved = client.post(url("policy", org), {**SETTINGS, "four_eyes": ""}, follow=True).content.decode()
    assert "waits for another compliance officer" in saved
    change = pending(org)
    confirm = url("policy_change_confirm", org, pending_policy_change_id=change.pk)
    client.post(confirm)
    assert Policy.objects.for_org(org).get().four_eyes is True
    dora = MembershipFactory(organization=org, roles=[Role.COMPLIANCE])
    client.force_login(dora.user)
    assert confirm in client.get(url("policy", org)).content.decode()
    assert client.post(confirm).status_code == 302
    assert Policy.objects.for_org(org).get().four_eyes is False


def test_add_term_refuses_duplicates_the_way_screening_compares(org, cora):
    services.add_term(actor=cora, term="Guaranteed", action="review", note="Promises")
    for same in ["guaranteed", "g.u.a.r.a.n.t.e.e.d", "GUARANTEED "]:
        with pytest.raises(ValidationFailed, match="already in the lexicon"):
            services.add_term(actor=cora, term=same)
    with pytest.raises(ValidationFailed, match="no letter or digit"):
        services.add_term(actor=cora, term="!!!")
    with pytest.raises(ValidationFailed, match="block, review or warn"):
        services.add_term(actor=cora, term="insider", action="maybe")
    assert list(LexiconTerm.objects.for_org(org).values_list("term", flat=True)) == ["Guaranteed"]
    assert audit_actions(org) == ["policy.created", "policy.term_added"]


def test_adding_a_term_bumps_the_policy_version(org, cora):
    policy = PolicyFactory(organization=org)
    before = policy.updated_at
    services.add_term(actor=cora, term="insider", action="block")
    policy.refresh_from_db()
    assert policy.updated_at > before and policy.updated_by_id == cora.user_id


def test_import_terms_is_all_or_nothing_and_names_the_bad_line(org, cora):
    LexiconTermFactory(organization=org, term="insider")
    with pytest.raises(ValidationFailed, match="Line 3: The action must be block, review or warn"):
        services.import_terms(actor=cora, text="alpha\nbeta,block\ngamma,never,note\n")
    assert list(LexiconTerm.objects.for_org(org).values_list("term", flat=True)) == ["insider"]
    result = services.import_terms(
        actor=cora,
        text='term,action,note\nguaranteed,review,Promises of returns\n"cash, fast",block,\nINSIDER\n\nrisk-free\n',
        default_action="warn",
    )
    assert (result.added, result.already_there) == (3, ["INSIDER"])
    rows = dict(LexiconTerm.objects.for_org(org).values_list("term", "action"))
    assert rows == {"insider": "review", "guaranteed": "review", "cash, fast": "block", "risk-free": "warn"}
    entry = AuditEntry.objects.for_org(org).get(action="policy.terms_imported")
    assert entry.after["count"] == 3


def test_patterns_are_validated_before_they_are_saved(org, cora):
    with pytest.raises(ValidationFailed, match="Back-references") as refused:
        services.add_pattern(actor=cora, name="Echo", pattern=r"(\w+) \1")
    assert refused.value.fields["pattern"]
    with pytest.raises(ValidationFailed, match="matches empty text"):
        services.add_pattern(actor=cora, name="Empty", pattern=r"a*")
    assert not PatternRule.objects.for_org(org).exists()
    rule = services.add_pattern(actor=cora, name="Returns", pattern=r"\d+% returns", action="review")
    with pytest.raises(ValidationFailed, match="exists already"):
        services.add_pattern(actor=cora, name="returns", pattern=r"x")
    services.remove_pattern(actor=cora, pattern_rule_id=rule.pk)
    assert audit_actions(org)[-2:] == ["policy.pattern_added", "policy.pattern_removed"]


def test_domains_are_normalised_and_checked(org, cora):
    allowed = services.add_domain(actor=cora, domain="https://WWW.Acme.example/news?x=1")
    assert allowed.domain == "www.acme.example"
    for bad in ["not a domain", "localhost", "http://"]:
        with pytest.raises(ValidationFailed, match="not a domain name"):
            services.add_domain(actor=cora, domain=bad)
    with pytest.raises(ValidationFailed, match="already allowed"):
        services.add_domain(actor=cora, domain="www.acme.example")
    assert AllowedDomain.objects.for_org(org).count() == 1


def test_review_rules_per_team_or_role_replace_their_earlier_rule(org, cora):
    PolicyFactory(organization=org, review_mode="none")
    team = TeamFactory(organization=org)
    first = services.set_review_rule(actor=cora, team_id=team.pk, review_mode="findings")
    again = services.set_review_rule(actor=cora, team_id=team.pk, review_mode="all")
    assert first.pk == again.pk and again.review_mode == "all"
    services.set_review_rule(actor=cora, role="marketer", review_mode="findings")
    with pytest.raises(ValidationFailed, match="either a team or a role"):
        services.set_review_rule(actor=cora, team_id=team.pk, role="marketer", review_mode="all")
    with pytest.raises(ValidationFailed, match="is not a role"):
        services.set_review_rule(actor=cora, role="pope", review_mode="all")
    with pytest.raises(NotFound):
        services.set_review_rule(actor=cora, team_id=TeamFactory().pk, review_mode="all")
    assert ReviewRule.objects.for_org(org).count() == 2


def test_removing_another_organizations_term_is_not_found(org, cora):
    foreign = LexiconTermFactory()
    with pytest.raises(NotFound):
        services.remove_term(actor=cora, lexicon_term_id=foreign.pk)
    assert LexiconTerm.objects.for_org(foreign.organization).exists()


# --- pages --------------------------------------------------------------------------------


def url(name, org, **kwargs):
    return reverse(f"compliance:{name}", kwargs={"org_slug": org.slug, **kwargs})


def test_policy_pages_are_for_compliance_officers_only(client, org, cora):
    for roles in ([Role.EMPLOYEE], [Role.ADMIN], [Role.MARKETER]):
        other = MembershipFactory(organization=org, roles=roles)
        client.force_login(other.user)
        assert client.get(url("policy", org)).status_code == 403
        assert client.post(url("policy_terms", org), {"term": "x", "action": "block"}).status_code == 403
    assert not LexiconTerm.objects.for_org(org).exists()
    client.force_login(cora.user)
    body = client.get(url("policy", org)).content.decode()
    assert 'href="/o/acme/policy/"' in body, "the Policy navigation entry"


def test_policy_page_saves_settings_and_refuses_bad_input_keeping_what_was_typed(client, org, cora):
    client.force_login(cora.user)
    data = {**SETTINGS, "review_sla_hours": "9", "disclosure_mode": "require", "disclosure": ""}
    refused = client.post(url("policy", org), data)
    assert refused.status_code == 400
    assert "Write the disclosure" in html.unescape(refused.content.decode())
    assert not Policy.objects.for_org(org).exists()
    saved = client.post(url("policy", org), {**data, "disclosure": "#ad"})
    assert saved.status_code == 302
    assert Policy.objects.for_org(org).get().disclosure == "#ad"


def test_terms_page_adds_imports_and_removes(client, org, cora):
    client.force_login(cora.user)
    assert client.post(url("policy_terms", org), {"term": "guaranteed", "action": "review"}).status_code == 302
    refused = client.post(url("policy_terms", org), {"term": "Guaranteed", "action": "review"})
    assert refused.status_code == 400 and "already in the lexicon" in html.unescape(refused.content.decode())
    imported = client.post(
        url("policy_terms_import", org), {"text": "insider,block\nrisk-free", "default_action": "warn"}
    )
    assert imported.status_code == 302
    bad = client.post(url("policy_terms_import", org), {"text": "one\ntwo,bogus", "default_action": "warn"})
    assert bad.status_code == 400 and "Line 2" in html.unescape(bad.content.decode())
    assert LexiconTerm.objects.for_org(org).count() == 3
    term = LexiconTerm.objects.for_org(org).get(term="insider")
    assert client.post(url("policy_term_delete", org, lexicon_term_id=term.pk)).status_code == 302
    assert LexiconTerm.objects.for_org(org).count() == 2
    foreign = LexiconTermFactory()
    assert client.post(url("policy_term_delete", org, lexicon_term_id=foreign.pk)).status_code == 404


def test_pattern_domain_and_rule_forms(client, org, cora):
    client.force_login(cora.user)
    refused = client.post(url("policy_pattern_add", org), {"name": "Evil", "pattern": r"(a)\1", "action": "block"})
    assert refused.status_code == 400 and "Back-references" in html.unescape(refused.content.decode())
    assert client.post(
        url("policy_pattern_add", org), {"name": "Returns", "pattern": r"\d+% returns", "action": "review"}
    ).status_code == 302  # fmt: skip
    assert client.post(url("policy_domain_add", org), {"domain": "acme.example"}).status_code == 302
    team = TeamFactory(organization=org)
    neither = client.post(url("policy_review_rule_set", org), {"rule-review_mode": "all"})
    assert neither.status_code == 400 and "either a team or a role" in neither.content.decode()
    assert not ReviewRule.objects.for_org(org).exists()
    assert client.post(
        url("policy_review_rule_set", org), {"rule-team": team.pk, "rule-role": "", "rule-review_mode": "all"}
    ).status_code == 302  # fmt: skip
    body = client.get(url("policy", org)).content.decode()
    assert "Returns" in body and "acme.example" in body and f"Team {team.name}" in body
    rule = ReviewRule.objects.for_org(org).get()
    removing = client.post(url("policy_review_rule_delete", org, review_rule_id=rule.pk), follow=True)
    assert "Not applied yet: Remove the review rule for team" in removing.content.decode()
    assert ReviewRule.objects.for_org(org).get() == rule, "the default asks for less: a second person confirms"
    assert client.post(
        url("policy_review_rule_set", org), {"rule-team": team.pk, "rule-role": "", "rule-review_mode": "findings"}
    ).status_code == 302  # fmt: skip
    assert client.post(url("policy_review_rule_delete", org, review_rule_id=rule.pk)).status_code == 302
    assert ReviewRule.objects.for_org(org).get().review_mode == "all", "lighter review waits too"
    tighter = TeamFactory(organization=org)
    client.post(
        url("policy_review_rule_set", org), {"rule-team": tighter.pk, "rule-role": "", "rule-review_mode": "none"}
    )
    none_rule = ReviewRule.objects.for_org(org).filter(team=tighter)
    assert not none_rule.exists(), "a new rule asking for less than the default waits"


def test_policy_pages_have_fixed_query_counts(client, org, cora, django_assert_num_queries):
    client.force_login(cora.user)
    PolicyFactory(organization=org)

    def grow():
        team = TeamFactory(organization=org)
        ReviewRuleFactory(team=team)
        PatternRuleFactory(organization=org)
        AllowedDomainFactory(organization=org)
        for _ in range(3):
            LexiconTermFactory(organization=org)

    grow()
    client.get(url("policy", org))
    counts = {}
    for name in ("policy", "policy_terms"):
        client.get(url(name, org))
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as first:
            assert client.get(url(name, org)).status_code == 200
        grow()
        grow()
        with django_assert_num_queries(len(first)):
            assert client.get(url(name, org)).status_code == 200
        counts[name] = len(first)
    assert counts["policy"] <= 14, counts


# --- API ----------------------------------------------------------------------------------


def test_api_reads_the_policy_and_writes_terms(client, org, cora, django_assert_num_queries):
    PolicyFactory(organization=org, disclosure="#ad", disclosure_mode="require")
    PatternRuleFactory(organization=org, name="Returns")
    AllowedDomainFactory(organization=org, domain="acme.example")
    client.force_login(cora.user)
    base = "/api/v1/o/acme"
    read = client.get(f"{base}/policy/").json()
    assert read["disclosure_mode"] == "require" and read["allowed_domains"] == ["acme.example"]
    assert [p["name"] for p in read["patterns"]] == ["Returns"] and read["term_count"] == 0
    created = client.post(
        f"{base}/lexicon-terms/", {"term": "insider", "action": "block"}, content_type="application/json"
    )
    assert created.status_code == 201, created.content
    duplicate = client.post(f"{base}/lexicon-terms/", {"term": "INSIDER"}, content_type="application/json")
    assert duplicate.status_code == 400 and "already in the lexicon" in duplicate.json()["error"]["message"]
    bad_import = client.post(f"{base}/lexicon-terms/import/", {"text": "a\nb,nope"}, content_type="application/json")
    assert bad_import.status_code == 400 and "Line 2" in bad_import.json()["error"]["message"]
    imported = client.post(
        f"{base}/lexicon-terms/import/", {"text": "guaranteed\nrisk-free,warn"}, content_type="application/json"
    )
    assert imported.json() == {"added": 2, "already_there": []}
    client.get(f"{base}/lexicon-terms/")
    for _ in range(5):
        LexiconTermFactory(organization=org)
    with django_assert_num_queries(5):  # session, user, membership + organization, count, page
        listed = client.get(f"{base}/lexicon-terms/?page_size=200")
    assert listed.json()["count"] == 8
    for _ in range(20):
        LexiconTermFactory(organization=org)
    with django_assert_num_queries(5):
        assert client.get(f"{base}/lexicon-terms/?page_size=200").json()["count"] == 28
    # + policy, term count, patterns, domains, review rules, pending changes (teams: none)
    with django_assert_num_queries(10):
        client.get(f"{base}/policy/")
    assert client.get(f"{base}/lexicon-terms/?q=risk").json()["count"] == 1
    term_id = created.json()["id"]
    assert client.delete(f"{base}/lexicon-terms/{term_id}/").status_code == 204
    assert not LexiconTerm.objects.for_org(org).filter(pk=term_id).exists()


def test_api_is_for_compliance_officers_only(client, org):
    employee = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    client.force_login(employee.user)
    assert client.get("/api/v1/o/acme/policy/").status_code == 403
    assert (
        client.post("/api/v1/o/acme/lexicon-terms/", {"term": "x"}, content_type="application/json").status_code == 403
    )
    assert not LexiconTerm.objects.for_org(org).exists()


# --- the composer shows the findings in the text -------------------------------------------


def test_composer_highlights_findings_in_the_text_with_the_rules_note(client, org, settings):
    settings.SITE_URL = "https://go.acme.example"
    PolicyFactory(organization=org)
    LexiconTermFactory(organization=org, term="guaranteed", action="review", note="Promises of returns need review")
    LexiconTermFactory(organization=org, term="insider", action="block")
    emma = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    item = ContentItemFactory(organization=org)
    client.force_login(emma.user)
    check = reverse("content:compose_check", kwargs={"org_slug": "acme", "content_item_id": item.pk})
    body = client.post(
        check, {"commentary": "  <b>Returns</b> g.u.a.r.a.n.t.e.e.d & insider tips", "targets": ["assisted:x"]}
    ).content.decode()
    assert 'data-findings="X"' in body
    assert '<mark class="finding finding-review" title="“guaranteed”: Promises of returns need review"' in body
    assert ">g.u.a.r.a.n.t.e.e.d</mark>" in body
    assert ">insider</mark>" in body and "finding-block" in body
    assert "&lt;b&gt;Returns&lt;/b&gt;" in body and "<b>Returns</b>" not in body, "the text is escaped"

    # the officer writes "guarantee" once (with its inflections, the default): the composer flags
    # "we guarantee it", "guarantees" and "guaranteeed" under that rule
    services.add_term(actor=MembershipFactory(organization=org, roles=[Role.COMPLIANCE]), term="guarantee")
    for commentary, flagged in [
        ("we guarantee it", "guarantee"),
        ("Guarantees for everyone", "Guarantees"),
        ("It is guaranteeed", "guaranteeed"),
    ]:
        body = client.post(check, {"commentary": commentary, "targets": ["assisted:x"]}).content.decode()
        marks = re.findall(
            r'<mark class="finding finding-review" title="([^"]*)" data-rule="([^"]*)">([^<]*)</mark>', body
        )
        assert [(rules.split(), words) for _title, rules, words in marks] == [
            (["lexicon:guarantee", "lexicon:guaranteed"], flagged)  # the older "guaranteed" matches its forms too
        ], commentary
        assert "“guarantee” needs a compliance review." in html.unescape(marks[0][0])


# --- lexicon rules officers write -----------------------------------------------------------


def test_a_new_term_matches_its_inflections_and_carries_its_kind(org, cora):
    from compliance.services.screening import screen_share

    term = services.add_term(
        actor=cora, term="guarantee", action="review", near="", exceptions=["not guaranteed", "not guaranteed"]
    )
    assert (term.match, term.language, term.exceptions) == ("inflections", "en", ["not guaranteed"])
    wild = services.add_term(actor=cora, term="crypto*", action="warn")
    assert wild.match == "wildcard", "a term with a * is a wildcard term"
    near = services.add_term(actor=cora, term="promise", near="return", near_distance=3)
    assert (near.near, near.near_distance) == ("return", 3)
    entry = AuditEntry.objects.for_org(org).filter(action="policy.term_added").first()
    assert entry.after["exceptions"] == ["not guaranteed"] and entry.after["match"] == "inflections"
    texts = {"x": "We guarantee cryptocurrency, not guaranteed; a promise of big returns"}
    result = screen_share(organization=org, author=None, item=None, texts=texts, unchanged_suggestion=False)
    assert [(f.rule, texts["x"][f.start : f.end]) for f in result.findings["x"]] == [
        ("lexicon:guarantee", "guarantee"),
        ("lexicon:promise", "promise of big returns"),
        ("lexicon:crypto*", "cryptocurrency"),
    ]


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"term": "gu*ar"}, "not inside it"),
        ({"term": "ab*"}, "at least 3 letters"),
        ({"term": "guarantee", "match": "wildcard"}, r"Put a \* where any letters"),
        ({"term": "guarant*", "match": "exact"}, "has a *"),
        ({"term": "guarantee", "match": "regex"}, "how the term matches"),
        ({"term": "guarantee", "language": "tlh"}, "language"),
        ({"term": "guarantee", "near": "guarantees"}, None),
        ({"term": "guarantee", "near": "Guarantee"}, "cannot be near itself"),
        ({"term": "guarantee", "near": "return", "near_distance": 0}, "between 1 and 30"),
        ({"term": "guarantee", "exceptions": ["no promises"]}, "does not contain “guarantee”"),
        ({"term": "guarantee", "exceptions": ["!!"]}, "no letter or digit"),
        ({"term": "guarantee", "exceptions": [f"not guaranteed {n}" for n in range(21)]}, "At most 20"),
    ],
)
def test_a_term_that_cannot_work_is_refused_in_words_and_nothing_is_saved(org, cora, fields, words):
    if words is None:  # a partner that is another form of the term is allowed (it is another word)
        services.add_term(actor=cora, **fields)
        return
    with pytest.raises(ValidationFailed, match=words):
        services.add_term(actor=cora, **fields)
    assert not LexiconTerm.objects.for_org(org).exists()
    assert "policy.term_added" not in audit_actions(org)


def test_tightening_a_term_applies_at_once_and_is_audited(org, cora):
    term = services.add_term(actor=cora, term="guarantee", action="warn", match="exact", exceptions=["no guarantee"])
    saved = services.update_term(actor=cora, lexicon_term_id=term.pk, action="block", match="inflections")
    assert isinstance(saved, LexiconTerm)
    term.refresh_from_db()
    assert (term.action, term.match, term.exceptions) == ("block", "inflections", [])
    entry = AuditEntry.objects.for_org(org).filter(action="policy.term_updated").get()
    assert entry.before == {"action": "warn", "match": "exact", "exceptions": ["no guarantee"]}
    assert entry.after == {"term": "guarantee", "action": "block", "match": "inflections", "exceptions": []}
    assert pending(org) is None


@pytest.mark.parametrize(
    "change",
    [
        {"action": "warn"},
        {"action": "block", "match": "exact"},
        {"action": "block", "exceptions": ["not guaranteed"]},
        {"action": "block", "near": "return"},
        {"action": "block", "language": "fr"},
    ],
)
def test_loosening_a_term_waits_for_a_second_person_who_applies_it(org, cora, change):
    from compliance.models import PendingPolicyChange

    term = services.add_term(actor=cora, term="guarantee", action="block")
    waiting = services.update_term(actor=cora, lexicon_term_id=term.pk, **change)
    assert isinstance(waiting, PendingPolicyChange) and waiting.kind == "term_update"
    assert waiting.describe().startswith("Lexicon term “guarantee”: ")
    term.refresh_from_db()
    assert (term.action, term.match, term.near, term.exceptions, term.language) == (
        "block", "inflections", "", [], "en",
    )  # fmt: skip
    with pytest.raises(NotAllowed):
        services.confirm_policy_change(actor=cora, change_id=waiting.pk)
    dora = MembershipFactory(organization=org, roles=[Role.COMPLIANCE])
    services.confirm_policy_change(actor=dora, change_id=waiting.pk)
    term.refresh_from_db()
    for name, value in change.items():
        assert getattr(term, name) == value
    assert audit_actions(org)[-2:] == ["policy.term_updated", "policy.change_confirmed"]


def test_a_pending_term_change_is_not_applied_once_the_term_changed(org, cora):
    from advocacy.errors import Conflict

    term = services.add_term(actor=cora, term="guarantee", action="block")
    waiting = services.update_term(actor=cora, lexicon_term_id=term.pk, action="block", exceptions=["not guaranteed"])
    services.update_term(actor=cora, lexicon_term_id=term.pk, action="block", note="Promises")
    dora = MembershipFactory(organization=org, roles=[Role.COMPLIANCE])
    with pytest.raises(Conflict, match="the term changed"):
        services.confirm_policy_change(actor=dora, change_id=waiting.pk)
    term.refresh_from_db()
    assert term.exceptions == []


def test_updating_another_organizations_term_is_not_found(org, cora):
    foreign = LexiconTermFactory(action="block")
    with pytest.raises(NotFound):
        services.update_term(actor=cora, lexicon_term_id=foreign.pk, action="warn")
    foreign.refresh_from_db()
    assert foreign.action == "block"


def test_terms_page_says_one_word_apart_in_the_singular(client, org, cora):
    services.add_term(actor=cora, term="promise", near="return", near_distance=1)
    client.force_login(cora.user)
    page = html.unescape(client.get(url("policy_terms", org)).content.decode())
    assert "within 1 word of “return”" in page


def test_terms_page_adds_every_kind_and_edits_a_term(client, org, cora):
    client.force_login(cora.user)
    added = client.post(
        url("policy_terms", org),
        {"term": "guarantee", "action": "review", "match": "inflections", "language": "en", "near": "return",
         "near_distance": "4", "exceptions": "not guaranteed\nno guarantee", "note": ""},
    )  # fmt: skip
    assert added.status_code == 302
    term = LexiconTerm.objects.for_org(org).get()
    assert (term.near, term.near_distance, term.exceptions) == ("return", 4, ["not guaranteed", "no guarantee"])
    page = html.unescape(client.get(url("policy_terms", org)).content.decode())
    assert "with its other forms (English), within 4 words of “return”" in page
    assert "Allowed: “not guaranteed”, “no guarantee”" in page
    refused = client.post(url("policy_terms", org), {"term": "gu*ar", "action": "review", "match": "wildcard"})
    assert refused.status_code == 400 and "not inside it" in html.unescape(refused.content.decode())
    edit = url("policy_term_edit", org, lexicon_term_id=term.pk)
    assert "Change “guarantee”" in html.unescape(client.get(edit).content.decode())
    form = {"action": "block", "match": "inflections", "language": "en", "near": "", "near_distance": "5",
            "exceptions": "not guaranteed"}  # fmt: skip
    assert client.post(edit, form).status_code == 302
    term.refresh_from_db()
    assert (term.action, term.near, term.exceptions) == ("block", "", ["not guaranteed"])
    loosened = client.post(edit, {**form, "action": "warn"}, follow=True)
    assert "Not applied yet: Lexicon term “guarantee”: action from Block to Warn" in html.unescape(
        loosened.content.decode()
    )
    term.refresh_from_db()
    assert term.action == "block"
    bad = client.post(edit, {**form, "exceptions": "nothing here"})
    assert bad.status_code == 400 and "does not contain" in html.unescape(bad.content.decode())
    foreign = LexiconTermFactory()
    assert client.get(url("policy_term_edit", org, lexicon_term_id=foreign.pk)).status_code == 404


def test_the_test_a_text_box_shows_what_matches_and_why(client, org, cora, django_assert_max_num_queries):
    services.add_term(actor=cora, term="guarantee", action="review", exceptions=["not guaranteed"])
    services.add_term(actor=cora, term="promise", action="block", near="return", near_distance=5)
    services.add_term(actor=cora, term="*vest*", action="warn")
    client.force_login(cora.user)
    text = "We guaranteeed it, not guaranteed; a <b>promise</b> of returns; invest."
    page = client.get(url("policy", org)).content.decode()
    assert 'data-testid="policy-test"' in page and "hx-post" in page
    with django_assert_max_num_queries(18):  # the policy page's 14, the compiled policy's key and rules
        answered = client.post(url("policy_test", org), {"text": text})  # without JavaScript: the whole page
    body = html.unescape(answered.content.decode())
    assert answered.status_code == 200 and "<h1>Compliance policy</h1>" in body
    assert "“guaranteeed” matched as an inflection of “guarantee” (English)" in body
    assert "allowed by the exception “not guaranteed”" in body
    assert "within 5 words of “return” (“returns”)" in body
    assert "“invest” fits the wildcard “*vest*”" in body
    assert '<mark class="finding finding-review"' in answered.content.decode()
    assert "&lt;b&gt;promise&lt;/b&gt;" in answered.content.decode(), "the text is escaped"
    partial = client.post(url("policy_test", org), {"text": "We guarantee it"}, HTTP_HX_REQUEST="true")
    partial_body = html.unescape(partial.content.decode())
    assert "<h1>" not in partial_body and 'id="policy-test-result"' in partial_body
    assert "“guarantee” matched as written" in partial_body
    clean = client.post(url("policy_test", org), {"text": "Nothing to see"}, HTTP_HX_REQUEST="true")
    assert "Nothing in this text would be flagged." in clean.content.decode()
    empty = client.post(url("policy_test", org), {"text": ""}, HTTP_HX_REQUEST="true")
    assert empty.status_code == 400 and "required" in empty.content.decode()
    assert audit_actions(org).count("policy.term_added") == 3, "testing a text writes nothing"


def test_the_test_a_text_box_is_for_compliance_officers_only(client, org):
    emma = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    client.force_login(emma.user)
    assert client.post(url("policy_test", org), {"text": "We guarantee it"}).status_code == 403


def test_api_writes_every_kind_changes_a_term_and_tests_a_text(client, org, cora):
    client.force_login(cora.user)
    base = "/api/v1/o/acme/lexicon-terms"
    created = client.post(
        f"{base}/",
        {"term": "guarantee", "action": "block", "exceptions": ["not guaranteed"], "near": "", "language": "en"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["match"] == "inflections" and created.json()["exceptions"] == ["not guaranteed"]
    bad = client.post(
        f"{base}/", {"term": "x", "exceptions": ["nothing"]}, content_type="application/json"
    )  # fmt: skip
    assert bad.status_code == 400 and "does not contain" in bad.json()["error"]["message"]
    term_id = created.json()["id"]
    tightened = client.put(
        f"{base}/{term_id}/", {"action": "block", "exceptions": []}, content_type="application/json"
    )  # fmt: skip
    assert tightened.status_code == 200 and tightened.json()["exceptions"] == []
    loosened = client.put(f"{base}/{term_id}/", {"action": "warn"}, content_type="application/json")
    assert loosened.status_code == 202 and loosened.json()["kind"] == "term_update"
    checked = client.post(f"{base}/test/", {"text": "We guarantee it"}, content_type="application/json")
    explained = {"rule": "guarantee", "action": "block", "matched": "guarantee", "allowed_by": ""}
    assert checked.json() == {"explanations": [{**explained, "reasons": ["“guarantee” matched as written"]}]}
    foreign = LexiconTermFactory()
    assert client.put(f"{base}/{foreign.pk}/", {"action": "warn"}, content_type="application/json").status_code == 404
