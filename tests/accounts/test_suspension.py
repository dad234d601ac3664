"""Suspending a member (issue 20, deprovisioning): refused at once, sessions and API tokens
ended, password sign-in refused, history kept, reactivation restores everything; and the
members page that shows how and when each member came and who suspended them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import selectors, services
from accounts.models import Membership, Provisioning, Role
from accounts.services.suspension import suspend_membership
from advocacy.errors import Conflict, NotFound, ValidationFailed
from compliance.models import AuditEntry, Decision
from content.models import Share
from tests.accounts.factories import PASSWORD, MembershipFactory, OrganizationFactory, TeamFactory, UserFactory
from tests.compliance.factories import DecisionFactory
from tests.content.factories import ShareFactory
from tests.helpers import member
from tests.helpers import org_url as url

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def admin(org):
    return member(org, Role.ADMIN, Role.EMPLOYEE)


def test_a_signed_in_member_is_signed_out_at_the_next_request_and_refused_in_the_organization(client, org):
    emma = member(org)
    client.force_login(emma.user)
    assert client.get(url("org_home", org)).status_code == 200

    suspend_membership(membership=emma, by="scim:Okta", reason="left the company")

    response = client.get(url("org_home", org))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session
    # Even a fresh session finds no membership there.
    emma.user.refresh_from_db()
    client.force_login(emma.user)
    assert client.get(url("org_home", org)).status_code == 404


def test_only_the_suspended_users_sessions_end(client, org):
    emma, colleague = member(org), member(org)
    client.force_login(colleague.user)
    suspend_membership(membership=emma, by="scim:Okta")
    assert client.get(url("org_home", org)).status_code == 200


def test_password_sign_in_is_refused_with_words_when_no_membership_is_left(client, org):
    emma = member(org)
    suspend_membership(membership=emma, by="scim:Okta")
    response = client.post(reverse("account_login"), {"login": emma.user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert b"Your access has been suspended by your organization" in response.content
    assert "_auth_user_id" not in client.session
    # A wrong password says nothing about the suspension.
    wrong = client.post(reverse("account_login"), {"login": emma.user.email, "password": "wrong-guess-1"})
    assert b"suspended" not in wrong.content


def test_a_member_of_another_organization_still_signs_in_there_but_not_here(client, org):
    emma = member(org)
    other = MembershipFactory(organization=OrganizationFactory(slug="beta"), user=emma.user)
    suspend_membership(membership=emma, by="admin:boss@acme.com")
    response = client.post(reverse("account_login"), {"login": emma.user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(url("org_home", other.organization)).status_code == 200
    assert client.get(url("org_home", org)).status_code == 404


def test_a_user_without_any_membership_yet_still_signs_in(client):
    user = UserFactory()
    response = client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_api_tokens_of_the_member_stop_working_at_once(client, org):
    emma = member(org)
    _, plain = services.create_api_token(actor=emma, name="zapier")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    assert client.get("/api/v1/o/acme/teams/", **auth).status_code == 200
    suspend_membership(membership=emma, by="scim:Okta")
    assert client.get("/api/v1/o/acme/teams/", **auth).status_code == 401


def test_suspending_twice_records_once_and_the_record_says_who_when_why(org):
    emma = member(org)
    suspend_membership(membership=emma, by="scim:Okta", reason="left the company")
    suspend_membership(membership=emma, by="scim:Okta", reason="again")
    emma.refresh_from_db()
    assert emma.is_suspended and emma.suspended_by == "scim:Okta" and emma.suspension_reason == "left the company"
    entries = AuditEntry.objects.for_org(org).filter(action="membership.suspended")
    assert entries.count() == 1
    assert entries.get().after["reason"] == "left the company" and entries.get().after["sessions_ended"] is True


def test_the_last_admin_cannot_be_suspended_nor_an_admin_themselves(org, admin):
    with pytest.raises(Conflict, match="last admin"):
        suspend_membership(membership=admin, by="scim:Okta")
    second = member(org, Role.ADMIN)
    with pytest.raises(Conflict, match="yourself"):
        services.suspend_member(actor=second, membership=second, reason="test")
    admin.refresh_from_db()
    second.refresh_from_db()
    assert admin.is_active and second.is_active


def test_an_admin_must_say_why_and_cannot_reach_another_organization(org, admin):
    emma = member(org)
    with pytest.raises(ValidationFailed, match="Say why"):
        services.suspend_member(actor=admin, membership=emma, reason="  ")
    stranger = member(OrganizationFactory(slug="beta"))
    with pytest.raises(NotFound):
        services.suspend_member(actor=admin, membership=stranger, reason="nope")
    with pytest.raises(NotFound):
        services.reactivate_member(actor=admin, membership=stranger)
    emma.refresh_from_db()
    stranger.refresh_from_db()
    assert emma.is_active and stranger.is_active


def test_reactivation_restores_roles_teams_shares_and_history(org, admin):
    emma = member(org, Role.EMPLOYEE, Role.MARKETER)
    sales = TeamFactory(organization=org, name="Sales")
    emma.teams.add(sales)
    published = ShareFactory(item__organization=org, author=emma.user, status=Share.Status.PUBLISHED)
    decided = ShareFactory(item__organization=org, author=emma.user, status=Share.Status.REJECTED)
    DecisionFactory(share=decided, outcome=Decision.Outcome.REJECTED, reviewer=admin.user)
    entries_before = set(AuditEntry.objects.for_org(org).values_list("pk", flat=True))

    services.suspend_member(actor=admin, membership=emma, reason="on leave")
    services.reactivate_member(actor=admin, membership=emma)

    emma.refresh_from_db()
    assert emma.is_active and not emma.is_suspended and emma.suspended_at is None
    assert emma.roles == {Role.EMPLOYEE, Role.MARKETER} and list(emma.teams.all()) == [sales]
    assert set(Share.objects.for_org(org).filter(author=emma.user).values_list("pk", "status")) == {
        (published.pk, Share.Status.PUBLISHED),
        (decided.pk, Share.Status.REJECTED),
    }
    assert Decision.objects.for_org(org).filter(share=decided).count() == 1
    entries_after = set(AuditEntry.objects.for_org(org).values_list("pk", flat=True))
    assert entries_before < entries_after
    actions = list(AuditEntry.objects.for_org(org).filter(pk__in=entries_after - entries_before).values_list("action"))
    assert ("membership.suspended",) in actions and ("membership.reactivated",) in actions
    reactivated = AuditEntry.objects.for_org(org).get(action="membership.reactivated")
    assert reactivated.after["by"] == f"admin:{admin.user.email}"


# --- the members page ----------------------------------------------------------------------------


def test_members_page_shows_how_and_when_each_member_came_and_who_suspended_whom(client, org, admin):
    MembershipFactory(organization=org, user__email="scim@acme.com", provisioned_via=Provisioning.SCIM)
    gone = MembershipFactory(organization=org, user__email="gone@acme.com", provisioned_via=Provisioning.SSO)
    removed = member(org)
    services.remove_member(actor=admin, membership=removed)
    services.suspend_member(actor=admin, membership=gone, reason="left in March")
    client.force_login(admin.user)
    page = client.get(url("members", org)).content.decode()
    assert "Directory (SCIM)" in page and "Single sign-on" in page
    assert "Suspended" in page and f"by admin:{admin.user.email}: left in March" in page
    assert removed.user.email not in page
    assert url("member_reactivate", org, membership_id=gone.pk) in page
    assert url("content:held_list", org) in page


def test_the_admin_suspends_and_reactivates_from_the_pages(client, org, admin):
    emma = member(org)
    client.force_login(admin.user)
    edit = client.get(url("member_edit", org, membership_id=emma.pk)).content.decode()
    assert url("member_suspend", org, membership_id=emma.pk) in edit and "data-confirm" in edit

    refused = client.post(url("member_suspend", org, membership_id=emma.pk), {"reason": ""}, follow=True)
    assert "Say why the member is suspended." in refused.content.decode()
    emma.refresh_from_db()
    assert emma.is_active

    done = client.post(url("member_suspend", org, membership_id=emma.pk), {"reason": "left"}, follow=True)
    assert f"Suspended {emma.user.email}" in done.content.decode()
    emma.refresh_from_db()
    assert emma.is_suspended and emma.suspended_by == f"admin:{admin.user.email}"
    # A suspended member is not edited nor suspended again; reactivation is the way back.
    assert client.get(url("member_edit", org, membership_id=emma.pk)).status_code == 404
    assert client.post(url("member_suspend", org, membership_id=emma.pk), {"reason": "x"}).status_code == 404

    back = client.post(url("member_reactivate", org, membership_id=emma.pk), follow=True)
    assert f"Reactivated {emma.user.email}" in back.content.decode()
    emma.refresh_from_db()
    assert emma.is_active


def test_only_admins_suspend(client, org, admin):
    emma, officer = member(org), member(org, Role.COMPLIANCE)
    client.force_login(officer.user)
    assert client.post(url("member_suspend", org, membership_id=emma.pk), {"reason": "x"}).status_code == 403
    emma.refresh_from_db()
    assert emma.is_active


def test_the_last_admin_is_refused_on_the_page_in_words(client, org, admin):
    other_admin = member(org, Role.ADMIN)
    services.suspend_member(actor=admin, membership=other_admin, reason="left")
    client.force_login(admin.user)
    # The only active admin is the actor: suspending themselves is refused first.
    response = client.post(url("member_suspend", org, membership_id=admin.pk), {"reason": "x"}, follow=True)
    assert "You cannot suspend yourself" in response.content.decode()


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200
    return len(ctx)


def test_members_page_query_count_is_fixed_with_suspended_members(client, org, admin):
    def grow():
        emma = MembershipFactory(organization=org, provisioned_via=Provisioning.SCIM)
        emma.teams.add(TeamFactory(organization=org))
        suspend_membership(membership=emma, by="scim:Okta", reason="left")
        MembershipFactory(organization=org).teams.add(TeamFactory(organization=org))

    client.force_login(admin.user)
    grow()
    client.get(url("members", org))  # the first visit remembers the organization
    small = _queries(client, url("members", org))
    for _ in range(10):
        grow()
    assert _queries(client, url("members", org)) == small == 8


def test_the_api_lists_active_members_only(org, admin):
    emma = member(org)
    suspend_membership(membership=emma, by="scim:Okta")
    assert emma.pk not in {m.pk for m in selectors.members_of(org)}
    assert emma.pk in {m.pk for m in selectors.members_of(org, with_suspended=True)}
    assert Membership.objects.for_org(org).get(pk=emma.pk).is_suspended


def _request_through_middleware(path="/"):
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.messages.middleware import MessageMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    for middleware in (SessionMiddleware, AuthenticationMiddleware, MessageMiddleware):
        middleware(lambda r: None).process_request(request)
    return request


@pytest.mark.parametrize("suspended", [True, False], ids=["suspended", "active"])
def test_every_way_in_refuses_a_suspended_user_not_only_the_password(org, suspended):
    """Single sign-on and login codes end in allauth's perform_login, like the password form."""
    from allauth.account.internal.flows.login import perform_login
    from allauth.account.models import Login
    from allauth.core import context
    from django.contrib.messages import get_messages

    emma = member(org)
    if suspended:
        suspend_membership(membership=emma, by="scim:Okta")
        emma.user.refresh_from_db()
    request = _request_through_middleware()
    with context.request_context(request):  # as allauth's middleware sets it
        response = perform_login(request, Login(user=emma.user, email=emma.user.email))
    words = [str(m) for m in get_messages(request)]
    if suspended:
        assert response.status_code == 302 and response["Location"] == reverse("account_login")
        assert "_auth_user_id" not in request.session
        assert any("Your access has been suspended" in w for w in words)
    else:
        assert response.status_code == 302 and response["Location"] != reverse("account_login")
        assert int(request.session["_auth_user_id"]) == emma.user.pk
