"""The home page as a checklist (issue 16, item 8): per role what is left to do, each item
one click away, shown while due and gone once done, counting only the member's own
organization, at a fixed number of queries whatever the data size."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.urls import resolve
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, SocialConnection
from accounts.services import domains
from accounts.services import guidelines as guideline_services
from compliance.services import review
from compliance.views import home
from content.models import Share
from content.services import library, sharing
from tests.accounts.factories import (
    GuidelineFactory,
    InvitationFactory,
    MembershipFactory,
    OrganizationFactory,
    SignupDomainFactory,
    SocialConnectionFactory,
    TeamFactory,
)
from tests.compliance.factories import PolicyFactory
from tests.content.factories import ContentItemFactory, ContentProposalFactory, ShareFactory
from tests.helpers import member
from tests.helpers import org_url as url

pytestmark = pytest.mark.django_db

TODO = re.compile(r'data-todo="(\w+)">\s*<a href="([^"]+)">([^<]+)</a>')


@pytest.fixture
def org():
    """Acme, where every share goes to a reviewer who has 8 hours to decide."""
    org = OrganizationFactory(slug="acme", name="Acme")
    PolicyFactory(organization=org, review_mode="all", review_sla_hours=8)
    return org


@pytest.fixture
def globex():
    return OrganizationFactory(slug="globex", name="Globex")


def todos(client, org) -> dict[str, tuple[str, str]]:
    """{key: (text, link)} of the checklist on the member's home page."""
    response = client.get(url("org_home", org))
    assert response.status_code == 200
    return {key: (" ".join(text.split()), href) for key, href, text in TODO.findall(response.content.decode())}


def submit(membership, text="Proud of this launch.", item=None) -> Share:
    item = item or ContentItemFactory(organization=membership.organization)
    return sharing.submit_share(
        actor=membership,
        item_id=item.pk,
        commentary=text,
        target_keys=["assisted:linkedin"],
        confirm_repeat=True,
    )


# --- the employee ---------------------------------------------------------------------------


def test_a_new_employee_is_asked_to_connect_accept_the_guidelines_and_share(client, org):
    emma = member(org, Role.EMPLOYEE)
    GuidelineFactory(organization=org, version=1)
    client.force_login(emma.user)
    found = todos(client, org)
    assert found == {
        "connect": ("Connect a social account", url("connections", org)),
        "guidelines": ("Read and accept the social media guidelines", url("guidelines", org)),
        "first_share": ("Make your first share", url("content:feed", org)),
    }
    for _text, link in found.values():
        assert client.get(link).status_code == 200


def test_each_employee_item_disappears_once_done(client, org):
    emma = member(org, Role.EMPLOYEE)
    guideline = GuidelineFactory(organization=org, version=1)
    client.force_login(emma.user)

    SocialConnectionFactory(organization=org, user=emma.user)
    assert set(todos(client, org)) == {"guidelines", "first_share"}

    guideline_services.accept_guidelines(actor=emma, guideline_id=guideline.pk)
    assert set(todos(client, org)) == {"first_share"}

    submit(emma)
    assert todos(client, org) == {}
    assert "Nothing is waiting for you" in client.get(url("org_home", org)).content.decode()


def test_a_new_guideline_version_asks_again_and_none_asks_nothing(client, org):
    emma = member(org, Role.EMPLOYEE)
    client.force_login(emma.user)
    assert "guidelines" not in todos(client, org)  # the organization has published none
    guideline_services.accept_guidelines(actor=emma, guideline_id=GuidelineFactory(organization=org, version=1).pk)
    assert "guidelines" not in todos(client, org)
    GuidelineFactory(organization=org, version=2)
    assert "guidelines" in todos(client, org)


def test_an_account_the_network_withdrew_asks_for_a_reconnection(client, org):
    emma = member(org, Role.EMPLOYEE)
    client.force_login(emma.user)
    connection = SocialConnectionFactory(organization=org, user=emma.user)
    assert "connect" not in todos(client, org) and "reconnect" not in todos(client, org)
    connection.status = SocialConnection.Status.NEEDS_RECONNECT
    connection.save()
    found = todos(client, org)
    assert found["reconnect"] == ("Reconnect 1 account", url("connections", org))
    assert "connect" not in found


def test_shares_sent_back_are_counted_and_one_of_them_is_a_click_away(client, org):
    emma, cora = member(org, Role.EMPLOYEE), member(org, Role.COMPLIANCE)
    client.force_login(emma.user)
    first, second = submit(emma), submit(emma, "Another launch, another day.")
    assert "sent_back" not in todos(client, org)  # in review: nothing to do for her

    review.decide(actor=cora, share_id=first.pk, outcome="changes_requested", comment="Say it is your view.")
    found = todos(client, org)
    assert found["sent_back"] == ("1 share sent back to you", url("content:share_detail", org, share_id=first.pk))
    assert resolve(found["sent_back"][1]).url_name == "share_detail"

    review.decide(actor=cora, share_id=second.pk, outcome="rejected", comment="Not this one.")
    assert todos(client, org)["sent_back"] == ("2 shares sent back to you", url("content:my_shares", org))

    sharing.edit_share(actor=emma, share_id=first.pk, commentary="In my view, a proud launch.")
    assert todos(client, org)["sent_back"] == (
        "1 share sent back to you",
        url("content:share_detail", org, share_id=second.pk),
    )

    # A rejection stays hers to look at for two weeks, then leaves the list.
    with time_machine.travel(timezone.now() + timedelta(days=15)):
        client.force_login(emma.user)  # the session would have expired meanwhile
        assert "sent_back" not in todos(client, org)


# --- the compliance officer ------------------------------------------------------------------


def test_the_officer_sees_the_shares_waiting_and_those_past_the_deadline(client, org):
    emma, cora = member(org, Role.EMPLOYEE), member(org, Role.COMPLIANCE)
    client.force_login(cora.user)
    assert todos(client, org) == {}
    shares = [submit(emma, f"Launch number {n}.") for n in range(3)]
    assert todos(client, org) == {"queue": ("3 shares waiting for review", url("compliance:queue", org))}

    with time_machine.travel(timezone.now() + timedelta(hours=9)):  # the policy gives 8 hours
        review.decide(actor=cora, share_id=shares[0].pk, outcome="approved")
        submit(emma, "A fresh one, not late.")
        found = todos(client, org)
        assert found == {
            "queue": ("3 shares waiting for review", url("compliance:queue", org)),
            "overdue": ("2 past the review deadline", url("compliance:queue", org)),
        }
        assert client.get(found["overdue"][1]).status_code == 200

        for share in shares[1:]:
            review.decide(actor=cora, share_id=share.pk, outcome="rejected", comment="No.")
        assert todos(client, org) == {"queue": ("1 share waiting for review", url("compliance:queue", org))}


# --- the marketer ----------------------------------------------------------------------------


def test_the_marketer_sees_new_proposals_until_each_is_accepted_or_declined(client, org):
    mark, emma = member(org, Role.MARKETER), member(org, Role.EMPLOYEE)
    client.force_login(mark.user)
    assert todos(client, org) == {}
    one = library.propose_content(actor=emma, url="https://example.com/a", reason="Great read.")
    two = library.propose_content(actor=emma, url="https://example.com/b")
    link = url("content:library_proposals", org)
    assert todos(client, org) == {"proposals": ("2 proposals from employees", link)}
    assert client.get(link).status_code == 200
    library.decline_proposal(actor=mark, proposal=one)
    assert todos(client, org) == {"proposals": ("1 proposal from employees", link)}
    library.accept_proposal(actor=mark, proposal=two)
    assert todos(client, org) == {}


# --- the admin -------------------------------------------------------------------------------


def test_the_admin_sees_invitations_members_without_a_team_and_unverified_domains(client, org, dns):
    ada = member(org, Role.ADMIN)
    ada.teams.add(TeamFactory(organization=org))
    client.force_login(ada.user)
    assert todos(client, org) == {}

    invitation = account_services.invite_member(actor=ada, email="new@acme.example")
    InvitationFactory(organization=org, expires_at=timezone.now() - timedelta(days=1))  # expired: not waiting
    loner = member(org, Role.EMPLOYEE)
    domain = SignupDomainFactory(organization=org, domain="acme.example")
    found = todos(client, org)
    assert found == {
        "invitations": ("1 invitation not accepted yet", url("invitations", org)),
        "no_team": ("1 member without a team", url("members", org) + "?team=none"),
        "domains": ("1 sign-up domain not verified", url("org_settings", org) + "#domains-h"),
    }
    # One click lands where it is done: the members page lists exactly those in no team.
    listed = client.get(found["no_team"][1]).content.decode().split("<tbody>")[1]
    assert loner.user.email in listed and ada.user.email not in listed
    assert client.get(found["invitations"][1]).status_code == 200
    assert 'data-testid="domain-unverified"' in client.get(found["domains"][1].split("#")[0]).content.decode()

    account_services.revoke_invitation(actor=ada, invitation=invitation)
    account_services.update_membership(actor=ada, membership=loner, roles=["employee"], teams=list(ada.teams.all()))
    dns.records[domains.txt_name(domain.domain)] = [domains.txt_value(domain)]
    domains.verify_signup_domain(actor=ada, signup_domain_id=domain.pk)
    assert todos(client, org) == {}


def test_each_role_sees_only_its_own_items(client, org):
    """The same organization with something due for every role: each member sees their part."""
    emma = member(org, Role.EMPLOYEE)
    submit(emma)
    ContentProposalFactory(organization=org)
    InvitationFactory(organization=org)
    expected = {
        Role.EMPLOYEE: {"connect"},
        Role.MARKETER: {"proposals"},
        Role.COMPLIANCE: {"queue"},
        Role.EXECUTIVE: set(),
        Role.ADMIN: {"invitations", "no_team"},
    }
    for role, keys in expected.items():
        client.force_login(member(org, role).user)
        assert set(todos(client, org)) == keys | ({"first_share"} if role == Role.EMPLOYEE else set()), role


# --- another organization's rows never count -------------------------------------------------


def fill_with_work(org, user, *, n: int) -> None:
    """Everything that would make any checklist item due, n times over, in `org`, including
    the `user`'s own connections, guideline acceptance and shares sent back there."""
    them = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    item = ContentItemFactory(organization=org)
    for _ in range(n):
        ShareFactory(organization=org, item=item, author=user, status=Share.Status.CHANGES_REQUESTED)
        ContentProposalFactory(organization=org)
        InvitationFactory(organization=org)
        SignupDomainFactory(organization=org)
        MembershipFactory(organization=org)
        SocialConnectionFactory(organization=org, user=user)
        SocialConnectionFactory(organization=org, user=user, status=SocialConnection.Status.NEEDS_RECONNECT)
    PolicyFactory(organization=org, review_mode="all")
    for _ in range(n):
        submit(them)


def test_counts_never_include_another_organizations_rows(client, org, globex):
    """One person with every role in Acme, and the same person busy in Globex: Acme's home
    page counts Acme only."""
    person = member(org, *Role)
    person.teams.add(TeamFactory(organization=org))
    MembershipFactory(organization=globex, user=person.user, roles=list(Role))
    fill_with_work(globex, person.user, n=3)
    GuidelineFactory(organization=globex, version=1)  # after the shares: it must be accepted before sharing
    client.force_login(person.user)
    assert todos(client, org) == {
        "connect": ("Connect a social account", url("connections", org)),
        "first_share": ("Make your first share", url("content:feed", org)),
    }
    # And Globex's page counts Globex's rows (so the rows above were there to be miscounted).
    found = todos(client, globex)
    assert found["sent_back"][0] == "3 shares sent back to you"
    assert found["reconnect"][0] == "Reconnect 3 accounts"
    assert found["queue"][0] == "3 shares waiting for review"
    assert found["proposals"][0] == "3 proposals from employees"
    assert found["invitations"][0] == "3 invitations not accepted yet"
    assert found["domains"][0] == "3 sign-up domains not verified"


# --- a fixed number of queries ---------------------------------------------------------------

BASE_QUERIES = 5  # session, user, membership, organizations for the switcher, unread count
ROLE_PARTS = {
    Role.EMPLOYEE: ["employee"],
    Role.MARKETER: ["marketer"],
    Role.COMPLIANCE: ["compliance"],
    Role.EXECUTIVE: [],
    Role.ADMIN: ["admin"],
}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_the_home_page_costs_the_same_queries_whatever_the_data(client, org, role, django_assert_num_queries):
    person = member(org, role)
    client.force_login(person.user)
    client.get(url("org_home", org))  # the first visit remembers the organization (one UPDATE)
    expected = BASE_QUERIES + sum(home.QUERIES[part] for part in ROLE_PARTS[role])

    fill_with_work(org, person.user, n=1)
    with django_assert_num_queries(expected):
        small = todos(client, org)
    fill_with_work(org, person.user, n=20)
    with django_assert_num_queries(expected):
        large = todos(client, org)
    assert small.keys() == large.keys() and (small != {} or role == Role.EXECUTIVE)


def test_a_member_with_every_role_costs_the_sum_of_the_parts(client, org, django_assert_num_queries):
    person = member(org, *Role)
    client.force_login(person.user)
    client.get(url("org_home", org))
    fill_with_work(org, person.user, n=5)
    with django_assert_num_queries(BASE_QUERIES + sum(home.QUERIES.values())):
        assert len(todos(client, org)) == 7
