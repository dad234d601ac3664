"""Full-text search over posts and decisions (issue 19, item 4): every share version's words,
what screening saw, reviewers' comments; filters; the one-search answer "every post that
mentioned X and who approved it"; the audited CSV export; query counts; tenant isolation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from accounts.models import Role
from advocacy.search import config_for
from compliance.models import AuditEntry, Policy
from compliance.selectors.search import SearchFilters, marked, version_hits
from compliance.services import review
from compliance.services.audit_search import export_search
from content.services import sharing
from tests.accounts.factories import OrganizationFactory, TeamFactory
from tests.compliance.factories import LexiconTermFactory, PolicyFactory, submitted
from tests.content.factories import ContentItemFactory
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    org = OrganizationFactory(slug="acme", name="Acme", timezone="Europe/Paris")
    PolicyFactory(organization=org, review_mode=Policy.ReviewMode.ALL)
    return org


def named(membership, name):
    membership.user.name = name
    membership.user.save()
    return membership


@pytest.fixture
def emma(org):
    return named(member(org, Role.EMPLOYEE), "Emma Employee")


@pytest.fixture
def dana(org):
    return named(member(org, Role.COMPLIANCE), "Dana Officer")


def submit(membership, text, *, networks=("linkedin",), title="Acme opens a plant in Lyon"):
    item = ContentItemFactory(organization=membership.organization, title=title)
    return submitted(membership, text, networks=networks, item=item)


def second_version_approved(emma, dana, words="Returns are guaranteed, friends!", **kwargs):
    """Version 1 is harmless and sent back; version 2 says `words` and Dana approves it."""
    share = submit(emma, "Big news from Acme today.", **kwargs)
    review.decide(actor=dana, share_id=share.pk, outcome="changes_requested", comment="Say more about the plant.")
    sharing.edit_share(actor=emma, share_id=share.pk, commentary=words)
    review.decide(actor=dana, share_id=share.pk, outcome="approved", version=2)
    return share


def hits(org, **filters):
    return list(version_hits(org, SearchFilters(**filters)))


def test_a_word_in_the_second_version_is_found_with_its_approver(org, emma, dana):
    share = second_version_approved(emma, dana)
    found = hits(org, q="guaranteed")
    assert [(h.share_id, h.number) for h in found] == [(share.pk, 2)]
    hit = found[0]
    assert (hit.decision_outcome, hit.reviewer_name) == ("approved", "Dana Officer")
    assert hit.share.author.name == "Emma Employee" and hit.networks == ["linkedin"]
    assert str(marked(hit.text_marked)) == 'Returns are <mark class="search-hit">guaranteed</mark>, friends!'


def test_english_stems_find_inflections_and_words_not_there_find_nothing(org, emma, dana):
    share = second_version_approved(emma, dana)
    assert [h.share_id for h in hits(org, q="guarantee")] == [share.pk]
    assert [h.share_id for h in hits(org, q="guarantees")] == [share.pk]
    assert hits(org, q="warranty") == []
    assert config_for("en-us") == "english" and config_for("fr") == "french" and config_for("pt-br") == "simple"


def test_reviewer_comments_and_findings_are_searched_too(org, emma, dana):
    LexiconTermFactory(organization=org, term="guaranteed", note="Promises of returns breach FINRA 2210")
    share = second_version_approved(emma, dana)
    # "plant" is only in Dana's comment on version 1 (and the item's title, which is not searched)
    assert [(h.share_id, h.number) for h in hits(org, q="plant")] == [(share.pk, 1)]
    found = hits(org, q="plant")[0]
    assert found.decision_outcome == "changes_requested"
    assert str(marked(found.comment_marked)) == 'Say more about the <mark class="search-hit">plant</mark>.'
    # "FINRA" is only in the finding screening recorded on version 2
    assert [(h.share_id, h.number) for h in hits(org, q="finra")] == [(share.pk, 2)]


def test_html_in_a_post_is_escaped_around_the_marks(org, emma, dana):
    submit(emma, "<script>alert(1)</script> guaranteed")
    text = str(marked(hits(org, q="guaranteed")[0].text_marked))
    assert "<script>" not in text and "&lt;script&gt;" in text and '<mark class="search-hit">guaranteed</mark>' in text


def test_filters_by_person_team_network_date_and_decision(org, emma, dana):
    sales = TeamFactory(organization=org, name="Sales")
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False):
        approved = second_version_approved(emma, dana, networks=("linkedin",))
    bob = named(member(org, Role.EMPLOYEE), "Bob Builder")
    with time_machine.travel(datetime(2026, 3, 10, 9, 0, tzinfo=UTC), tick=False):
        waiting = submit(bob, "Our returns are guaranteed.", networks=("x",))
    approved.team = sales
    approved.save(update_fields=["team"])

    def ids(**filters):
        return sorted((h.share_id, h.number) for h in hits(org, q="guaranteed", **filters))

    assert ids() == sorted([(approved.pk, 2), (waiting.pk, 1)])
    assert ids(person=bob.user_id) == [(waiting.pk, 1)]
    assert ids(team=sales.pk) == [(approved.pk, 2)]
    assert ids(network="x") == [(waiting.pk, 1)]
    assert ids(date_from=date(2026, 3, 5)) == [(waiting.pk, 1)]
    assert ids(date_to=date(2026, 3, 5)) == [(approved.pk, 2)]
    assert ids(decision="approved") == [(approved.pk, 2)]
    assert ids(decision="none") == [(waiting.pk, 1)]
    assert ids(decision="rejected") == []
    assert hits(org, decision="changes_requested")[0].number == 1  # without words: filters alone


def test_the_page_answers_in_one_search_with_author_networks_decision_and_approver(client, org, emma, dana):
    share = second_version_approved(emma, dana)
    client.force_login(dana.user)
    page = client.get(org_url("compliance:audit_search", org), {"q": "guarantee"}).content.decode()
    assert f'data-share="{share.pk}" data-version="2"' in page
    assert "Emma Employee" in page and "LinkedIn" in page and "Approved by Dana Officer" in page
    assert '<mark class="search-hit">guaranteed</mark>' in page
    assert "CET" in page  # the viewer's zone (the organization's: Paris) with its label
    assert f'href="/o/acme/review/shares/{share.pk}/"' in page
    assert 'href="/o/acme/compliance/audit/?q=guarantee"' in page  # the trail's entries, searched the same way


def test_bad_filter_values_are_explained_and_left_out_never_a_500(client, org, emma, dana):
    second_version_approved(emma, dana)
    client.force_login(dana.user)
    url = org_url("compliance:audit_search", org)
    for params in (
        {"q": "guaranteed", "person": "nobody"},
        {"q": "guaranteed", "team": "999999"},
        {"q": "guaranteed", "network": "myspace"},
        {"q": "guaranteed", "decision": "maybe"},
        {"q": "guaranteed", "date_from": "yesterday"},
        {"q": "guaranteed", "date_from": "2026-03-10", "date_to": "2026-03-01"},
        {"q": "guaranteed & | !!! (("},
        {"q": "x" * 500},
    ):
        response = client.get(url, params)
        assert response.status_code == 200, params
    page = client.get(url, {"q": "guaranteed", "network": "myspace"}).content.decode()
    assert "This filter was left out." in page and 'data-version="2"' in page


def test_export_has_the_same_hits_neutralises_formulas_and_is_audited(client, org, emma, dana):
    share = second_version_approved(emma, dana, words="=HYPERLINK(1) guaranteed returns")
    submit(emma, "Something else entirely.")
    client.force_login(dana.user)
    url = org_url("compliance:audit_search_export", org)
    assert client.get(url, {"q": "guaranteed"}).status_code == 405
    response = client.post(f"{url}?q=guaranteed&decision=approved")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["share", "version", "written at", "author"]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["share"], row["version"], row["author"]) == (str(share.pk), "2", "Emma Employee")
    assert row["words"] == "'=HYPERLINK(1) guaranteed returns"
    assert (row["decision"], row["decided by"], row["networks"]) == (
        "Approved by Dana Officer",
        "Dana Officer",
        "LinkedIn",
    )
    assert row["written at"].endswith(("CET", "CEST"))
    entry = AuditEntry.objects.for_org(org).filter(action="archive.search_exported").get()
    assert entry.actor_id == dana.user_id
    assert entry.after == {"q": "guaranteed", "filters": {"q": "guaranteed", "decision": "approved"}, "rows": 1}


def test_only_audit_officers_search_and_export(client, org, emma, dana):
    second_version_approved(emma, dana)
    with pytest.raises(PermissionDenied):
        export_search(actor=emma, filters=SearchFilters(q="guaranteed"))
    client.force_login(emma.user)
    assert client.get(org_url("compliance:audit_search", org), {"q": "guaranteed"}).status_code == 403
    assert client.post(org_url("compliance:audit_search_export", org)).status_code == 403
    assert not AuditEntry.objects.for_org(org).filter(action="archive.search_exported").exists()


def test_another_organizations_posts_never_appear(client, org, emma, dana):
    mine = second_version_approved(emma, dana)
    globex = OrganizationFactory(slug="globex")
    PolicyFactory(organization=globex, review_mode=Policy.ReviewMode.ALL)
    theirs = submit(named(member(globex, Role.EMPLOYEE), "Gus Globex"), "Guaranteed at Globex too.")
    assert [h.share_id for h in hits(org, q="guaranteed")] == [mine.pk]
    assert [h.share_id for h in hits(globex, q="guaranteed")] == [theirs.pk]
    client.force_login(dana.user)
    page = client.get(org_url("compliance:audit_search", org), {"q": "guaranteed"}).content.decode()
    assert "Gus Globex" not in page and f'data-share="{theirs.pk}"' not in page
    rows = client.post(org_url("compliance:audit_search_export", org) + "?q=guaranteed").content.decode()
    assert "Gus Globex" not in rows and "Globex" not in rows
    # a person or team of the other organization is not a choice here: the filter is left out
    page = client.get(org_url("compliance:audit_search", org), {"q": "guaranteed", "person": theirs.author_id})
    assert "This filter was left out." in page.content.decode()


def test_page_and_export_take_a_fixed_number_of_queries(client, org, emma, dana, django_assert_max_num_queries):
    second_version_approved(emma, dana)
    client.force_login(dana.user)
    url = org_url("compliance:audit_search", org)
    export = org_url("compliance:audit_search_export", org) + "?q=guaranteed"
    client.get(url)  # warm the session
    with django_assert_max_num_queries(12) as few:
        client.get(url, {"q": "guaranteed"})
    with django_assert_max_num_queries(20) as few_export:
        client.post(export)
    for n in range(8):
        second_version_approved(emma, dana, words=f"Guaranteed number {n}", networks=("linkedin", "x"))
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url, {"q": "guaranteed"})
    assert page.content.decode().count('data-version="2"') == 9
    with django_assert_max_num_queries(len(few_export.captured_queries)):
        rows = client.post(export).content.decode()
    assert rows.count("\r\n") == 10
