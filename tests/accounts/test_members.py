"""Members, teams, settings and the org switch: role-gated pages with fixed query counts."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import selectors, services
from accounts.models import Membership, Role, Team
from advocacy.errors import Conflict
from tests.accounts.factories import MembershipFactory, OrganizationFactory, TeamFactory, acting
from tests.helpers import member
from tests.helpers import org_url as url

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme")


ROLE_PAGES = {
    "content:feed": Role.EMPLOYEE,
    "content:library": Role.MARKETER,
    "compliance:queue": Role.COMPLIANCE,
    "analytics:reports": Role.EXECUTIVE,
    "members": Role.ADMIN,
    "teams": Role.ADMIN,
    "org_settings": Role.ADMIN,
    "invitations": Role.ADMIN,
}


@pytest.mark.parametrize("page", ROLE_PAGES)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_role_gated_pages(client, org, page, role):
    client.force_login(member(org, role).user)
    response = client.get(url(page, org))
    allowed = (
        ROLE_PAGES[page] == role
        or (page == "members" and role in (Role.COMPLIANCE, Role.EXECUTIVE))
        or (page == "analytics:reports" and role == Role.ADMIN)
    )
    assert response.status_code == (200 if allowed else 403), f"{role} on {page}"
    if not allowed:
        assert b"Not allowed" in response.content


def test_navigation_shows_only_what_the_role_may_open(client, org):
    client.force_login(member(org, Role.EMPLOYEE).user)
    page = client.get(url("org_home", org)).content.decode()
    assert ">Feed<" in page and ">Members<" not in page and ">Review queue<" not in page
    client.force_login(member(org, Role.COMPLIANCE, Role.ADMIN).user)
    page = client.get(url("org_home", org)).content.decode()
    assert ">Review queue<" in page and ">Members<" in page and ">Feed<" not in page


def queries_for(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx)


@pytest.mark.parametrize(
    "page, expected, grow",
    [
        ("members", 8, lambda org: MembershipFactory(organization=org).teams.add(TeamFactory(organization=org))),
        ("teams", 6, lambda org: TeamFactory(organization=org)),
        (
            "invitations",
            10,
            lambda org: services.invite_member(actor=acting(org), email=f"{uuid.uuid4().hex}@x.com"),
        ),
        # 5 + the checklist's employee part (3) and admin part (3): compliance.views.home.QUERIES
        ("org_home", 11, lambda org: MembershipFactory(user=Membership.objects.for_org(org).first().user)),
    ],
)
def test_page_query_count_is_fixed_whatever_the_size(client, org, page, expected, grow):
    admin = member(org, Role.ADMIN, Role.EMPLOYEE)
    client.force_login(admin.user)
    for _ in range(2):
        grow(org)
    client.get(url(page, org))  # the first visit remembers the organization (one UPDATE)
    small = queries_for(client, url(page, org))
    for _ in range(15):
        grow(org)
    assert queries_for(client, url(page, org)) == small == expected


def test_admin_edits_roles_and_teams(client, org):
    admin = member(org, Role.ADMIN)
    target = member(org)
    sales = TeamFactory(organization=org)
    client.force_login(admin.user)
    response = client.post(
        url("member_edit", org, membership_id=target.pk), {"roles": ["employee", "compliance"], "teams": [sales.pk]}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.roles == {Role.EMPLOYEE, Role.COMPLIANCE} and list(target.teams.all()) == [sales]


def test_the_last_admin_cannot_lose_the_role_or_leave(client, org):
    admin = member(org, Role.ADMIN)
    client.force_login(admin.user)
    response = client.post(url("member_edit", org, membership_id=admin.pk), {"roles": ["employee"]})
    assert response.status_code == 200 and b"at least one admin" in response.content
    with pytest.raises(Conflict):
        services.remove_member(actor=admin, membership=admin)
    admin.refresh_from_db()
    assert admin.is_admin and admin.is_active


def test_removed_member_loses_access_and_tokens(client, org):
    admin = member(org, Role.ADMIN)
    gone = member(org)
    token, _ = services.create_api_token(actor=gone, name="x")
    client.force_login(admin.user)
    client.post(url("member_remove", org, membership_id=gone.pk))
    client.force_login(gone.user)
    assert client.get(url("org_home", org)).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_team_names_are_unique_per_kind_and_errors_keep_input(client, org):
    client.force_login(member(org, Role.ADMIN).user)
    client.post(url("teams", org), {"name": "Paris", "kind": "location"})
    response = client.post(url("teams", org), {"name": "paris", "kind": "location"})
    assert response.status_code == 200 and b"already a location called paris" in response.content
    assert Team.objects.for_org(org).count() == 1
    client.post(url("teams", org), {"name": "Paris", "kind": "department"})
    assert Team.objects.for_org(org).count() == 2


def test_settings_validate_timezone_and_domains(client, org):
    client.force_login(member(org, Role.ADMIN).user)
    bad = client.post(url("org_settings", org), {"name": "Acme", "timezone": "Mars/Base", "self_signup_domains": ""})
    assert bad.status_code == 200
    bad = client.post(url("org_settings", org), {"name": "Acme", "timezone": "UTC", "self_signup_domains": "nodot"})
    assert b"Not an e-mail domain: nodot" in bad.content
    org.refresh_from_db()
    assert selectors.signup_domains_of(org) == []
    ok = client.post(
        url("org_settings", org),
        {"name": "Acme Corp", "timezone": "Europe/Berlin", "self_signup_domains": "acme.com\n@Acme.de"},
    )
    assert ok.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.timezone) == ("Acme Corp", "Europe/Berlin")
    assert selectors.signup_domains_of(org) == ["acme.com", "acme.de"]
    client.post(url("org_settings", org), {"name": "Acme Corp", "timezone": "UTC", "self_signup_domains": "acme.de"})
    assert selectors.signup_domains_of(org) == ["acme.de"]


def test_org_switch_is_remembered_for_the_next_login(client, org):
    first = member(org)
    other = OrganizationFactory(slug="globex", name="Globex")
    MembershipFactory(organization=other, user=first.user)
    client.force_login(first.user)
    page = client.get(url("org_home", org)).content.decode()
    assert 'href="/o/globex/"' in page and 'href="/o/acme/"' in page
    client.get("/o/globex/")
    assert client.get(reverse("home"))["Location"] == "/o/globex/"


def test_member_search_filters_with_htmx_partial(client, org):
    client.force_login(member(org, Role.ADMIN).user)
    MembershipFactory(organization=org, user__email="zoe@example.com")
    # "zoe@" and not "zoe": the admin's name comes from Faker and may be a Zoe
    response = client.get(url("members", org) + "?q=zoe@", HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "zoe@example.com" in body and "<html" not in body and body.count("<td><strong>") == 1


def test_members_page_is_paginated_and_the_pager_keeps_the_search(client, org):
    client.force_login(member(org, Role.ADMIN).user)
    for i in range(55):
        MembershipFactory(organization=org, user__email=f"zz{i:02d}@pager.example")
    # a domain no Faker name holds, so the admin never matches
    first = client.get(url("members", org) + "?q=pager.example").content.decode()
    assert first.count("<td><strong>") == 50 and "Page 1 of 2 · 55 in all" in first
    assert "?q=pager.example&amp;page=2" in first
    second = client.get(url("members", org) + "?q=pager.example&page=2").content.decode()
    assert second.count("<td><strong>") == 5 and "zz54@pager.example" in second


def test_user_without_organization_is_offered_to_create_one(client):
    from tests.accounts.factories import UserFactory

    user = UserFactory()
    client.force_login(user)
    assert b"Create an organization" in client.get(reverse("home")).content
    response = client.post(reverse("organization_create"), {"name": "Initech", "timezone": "UTC"})
    assert response["Location"] == "/o/initech/invitations/"
    assert Membership.objects.for_org(user.memberships.get().organization).get().is_admin
    again = client.post(reverse("organization_create"), {"name": "Initech", "timezone": "UTC"})
    assert again.status_code == 200 and b"The name Initech is taken" in again.content
    assert b'value="Initech"' in again.content


def test_admin_sets_the_daily_cap_and_posting_hours(client, org):
    client.force_login(member(org, Role.ADMIN).user)
    base = {"name": "Acme", "timezone": "Europe/Paris", "self_signup_domains": ""}
    half = client.post(url("org_settings", org), {**base, "posting_hours_start": "08:00"})
    assert half.status_code == 200 and b"Give both the first and the last posting time" in half.content
    client.post(
        url("org_settings", org),
        {**base, "daily_share_cap": "3", "posting_hours_start": "08:00", "posting_hours_end": "20:00"},
    )
    org.refresh_from_db()
    assert (org.daily_share_cap, f"{org.posting_hours_start:%H:%M}", f"{org.posting_hours_end:%H:%M}") == (
        3,
        "08:00",
        "20:00",
    )
    client.post(url("org_settings", org), base)
    org.refresh_from_db()
    assert (org.daily_share_cap, org.posting_hours_start) == (None, None)


def test_members_without_a_team_are_listed_alone_and_the_filter_survives_paging(client, org):
    admin = member(org, Role.ADMIN)
    sales = TeamFactory(organization=org)
    admin.teams.add(sales)
    placed = member(org)
    placed.teams.add(sales)
    alone = [member(org) for _ in range(51)]
    client.force_login(admin.user)
    first = client.get(url("members", org) + "?team=none").content.decode()
    rows = first.split("<tbody>")[1]
    assert "Members in no team." in first and "Page 1 of 2 · 51 in all" in first
    assert placed.user.email not in rows and admin.user.email not in rows
    assert "?team=none&amp;page=2" in first  # the pager keeps the filter
    second = client.get(url("members", org) + "?team=none&page=2").content.decode().split("<tbody>")[1]
    shown = {m.user.email for m in alone if m.user.email in rows or m.user.email in second}
    assert len(shown) == 51
