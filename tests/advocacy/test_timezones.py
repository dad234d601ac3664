"""Times in the viewer's zone, labelled (issue 16, item 4): the filter, the middleware, the
pages, the profile's zone picker, the zone a new account gets, the e-mails."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import accept_invitation, invite_member
from accounts.services.connections import warn_expiring_connections
from advocacy.timezones import clean_browser_zone, format_when, zone_name_for
from tests.accounts.factories import (
    PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    SocialConnectionFactory,
    UserFactory,
)
from tests.accounts.test_invitations import token_from
from tests.content.factories import DeliveryFactory, ShareFactory, ShareVersionFactory
from tests.helpers import org_url

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
WINTER_NINE_IN_PARIS = datetime(2026, 1, 9, 8, 0, tzinfo=UTC)  # 09:00 CET (UTC+1)
SUMMER_NINE_IN_PARIS = datetime(2026, 7, 9, 7, 0, tzinfo=UTC)  # 09:00 CEST (UTC+2)


def render(source: str, value, zone: str) -> str:
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        return Template(source).render(Context({"value": value}))


# --- the filter ---------------------------------------------------------------------------


def test_when_shows_paris_winter_time_as_cet():
    html = render("{{ value|when }}", WINTER_NINE_IN_PARIS, "Europe/Paris")
    # A no-break space keeps the zone on the line of its clock.
    assert html == '<time datetime="2026-01-09T09:00:00+01:00">9 Jan 2026 09:00\xa0CET</time>'


def test_when_shows_paris_summer_time_as_cest():
    assert render("{{ value|when_text }}", SUMMER_NINE_IN_PARIS, "Europe/Paris") == "9 Jul 2026 09:00 CEST"


def test_when_names_the_zone_on_both_sides_of_the_october_change():
    before, after = datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert render("{{ value|when_text:'H:i' }}", before, "Europe/Paris") == "02:30 CEST"
    assert render("{{ value|when_text:'H:i' }}", after, "Europe/Paris") == "02:30 CET"


def test_when_uses_the_active_zone_and_labels_utc_and_numeric_zones():
    assert render("{{ value|when_text }}", WINTER_NINE_IN_PARIS, "UTC") == "9 Jan 2026 08:00 UTC"
    assert render("{{ value|when_text }}", WINTER_NINE_IN_PARIS, "America/New_York") == "9 Jan 2026 03:00 EST"
    # tzdata has no letters for Dubai ("+04"): it reads as an offset from UTC.
    assert render("{{ value|when_text:'H:i' }}", WINTER_NINE_IN_PARIS, "Asia/Dubai") == "12:00 UTC+04"


def test_when_of_nothing_is_empty_so_default_applies():
    assert render('{{ value|when|default:"never" }}', None, "Europe/Paris") == "never"


def test_format_when_takes_an_explicit_zone():
    assert format_when(SUMMER_NINE_IN_PARIS, "H:i", "Asia/Tokyo") == "16:00 JST"


# --- whose zone ---------------------------------------------------------------------------


def test_zone_is_the_users_else_the_organizations_else_utc():
    paris_org, tokyo_user = OrganizationFactory(timezone="Europe/Paris"), UserFactory(timezone="Asia/Tokyo")
    assert zone_name_for(tokyo_user, paris_org) == "Asia/Tokyo"
    assert zone_name_for(UserFactory(timezone=""), paris_org) == "Europe/Paris"
    assert zone_name_for(UserFactory(timezone=""), None) == "UTC"


def test_a_browser_zone_is_kept_only_when_the_server_knows_it():
    assert clean_browser_zone("Europe/Paris") == "Europe/Paris"
    assert clean_browser_zone("Mars/Olympus_Mons") == ""
    assert clean_browser_zone("") == ""
    assert clean_browser_zone(None) == ""


# --- pages --------------------------------------------------------------------------------


@pytest.fixture
def paris_share():
    org = OrganizationFactory(slug="acme", timezone="Europe/Paris")
    emma = MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__timezone="Europe/Paris")
    share = ShareFactory(
        item__organization=org,
        author=emma.user,
        status="scheduled",
        scheduled_for=WINTER_NINE_IN_PARIS,
        submitted_at=WINTER_NINE_IN_PARIS - timedelta(days=1),
    )
    ShareVersionFactory(share=share)
    DeliveryFactory(share=share, status="pending")
    return org, emma, share


def test_my_shares_and_the_share_page_show_the_employees_time_labelled(client, paris_share):
    org, emma, share = paris_share
    client.force_login(emma.user)
    listing = client.get(org_url("content:my_shares", org)).content.decode()
    detail = client.get(org_url("content:share_detail", org, share_id=share.pk)).content.decode()
    assert "9 Jan 2026 09:00\xa0CET" in listing and "08:00" not in listing
    assert "9 Jan 2026 09:00\xa0CET" in detail


def test_an_officer_in_new_york_sees_the_same_share_in_new_york_time(client, paris_share):
    org, _emma, share = paris_share
    officer = MembershipFactory(organization=org, roles=[Role.COMPLIANCE], user__timezone="America/New_York")
    client.force_login(officer.user)
    page = client.get(org_url("compliance:review", org, share_id=share.pk)).content.decode()
    assert "scheduled for <time" in page and "9 Jan 2026 03:00\xa0EST" in page


def test_a_member_without_a_zone_reads_the_organizations_zone(client, paris_share):
    org, emma, _share = paris_share
    emma.user.timezone = ""
    emma.user.save()
    client.force_login(emma.user)
    assert "9 Jan 2026 09:00\xa0CET" in client.get(org_url("content:my_shares", org)).content.decode()


def test_the_zone_does_not_leak_into_the_next_request_nor_into_the_api(client, paris_share):
    org, emma, share = paris_share
    client.force_login(emma.user)
    client.get(org_url("content:my_shares", org))
    assert timezone.get_current_timezone_name() == "UTC"
    answer = client.get(f"/api/v1/o/{org.slug}/shares/{share.pk}/").json()
    assert answer["scheduled_for"].endswith(("Z", "+00:00"))


# --- the profile's picker -----------------------------------------------------------------


def test_profile_offers_every_zone_in_a_searchable_list_and_saves_one(client, paris_share):
    org, emma, _share = paris_share
    client.force_login(emma.user)
    url = org_url("profile", org)
    page = client.get(url).content.decode()
    assert 'list="zone-names"' in page and '<option value="Asia/Tokyo">' in page
    assert '<label for="id_timezone">Time zone:</label>' in page and 'aria-describedby="id_timezone_helptext"' in page
    response = client.post(url, {"name": "Emma", "timezone": "asia/tokyo", "review_shortcuts": "on"})
    assert response.status_code == 302
    emma.user.refresh_from_db()
    assert (emma.user.name, emma.user.timezone, emma.user.review_shortcuts) == ("Emma", "Asia/Tokyo", True)
    assert "9 Jan 2026 17:00\xa0JST" in client.get(org_url("content:my_shares", org)).content.decode()


def test_profile_refuses_an_unknown_zone_in_plain_words_and_changes_nothing(client, paris_share):
    org, emma, _share = paris_share
    client.force_login(emma.user)
    response = client.post(org_url("profile", org), {"name": "Someone else", "timezone": "Paris"})
    assert response.status_code == 200
    assert "“Paris” is not a time zone we know" in response.content.decode()
    emma.user.refresh_from_db()
    assert (emma.user.timezone, emma.user.name) == ("Europe/Paris", emma.user.name)
    assert emma.user.name != "Someone else"


def test_profile_empty_zone_follows_the_organization(client, paris_share):
    org, emma, _share = paris_share
    client.force_login(emma.user)
    client.post(org_url("profile", org), {"name": "Emma", "timezone": "", "review_shortcuts": "on"})
    emma.user.refresh_from_db()
    assert emma.user.timezone == ""
    assert "9 Jan 2026 09:00\xa0CET" in client.get(org_url("content:my_shares", org)).content.decode()


def test_profile_page_query_count(client, paris_share, django_assert_num_queries):
    org, emma, _share = paris_share
    client.force_login(emma.user)
    # session, user, membership; the layout's organization switcher and unread count
    with django_assert_num_queries(5):
        assert client.get(org_url("profile", org)).status_code == 200


# --- a new account's zone comes from the browser ------------------------------------------


def test_sign_up_keeps_the_browsers_zone(client):
    form = client.get(reverse("account_signup")).content.decode()
    assert 'name="timezone"' in form and "data-browser-zone" in form
    response = client.post(
        reverse("account_signup"),
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD, "timezone": "Europe/Paris"},
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@example.com").timezone == "Europe/Paris"


def test_sign_up_with_an_unknown_browser_zone_follows_the_organization(client):
    client.post(
        reverse("account_signup"),
        {"email": "odd@example.com", "password1": PASSWORD, "password2": PASSWORD, "timezone": "Nowhere/Town"},
    )
    assert User.objects.get(email="odd@example.com").timezone == ""


@pytest.fixture
def invite(django_capture_on_commit_callbacks):
    """Invite newbie@example.com to `org`: the invitation and the secret from its e-mail."""

    def invite(org):
        admin = MembershipFactory(organization=org, roles=[Role.ADMIN])
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invite_member(actor=admin, email="newbie@example.com", roles=[Role.EMPLOYEE])
        return invitation, token_from(mail.outbox[-1].body)

    return invite


def test_invitation_acceptance_keeps_the_browsers_zone(client, invite):
    org = OrganizationFactory(timezone="Europe/Paris")
    _invitation, secret = invite(org)
    url = reverse("invitation_accept", kwargs={"token": secret})
    assert "data-browser-zone" in client.get(url).content.decode()
    response = client.post(
        url, {"name": "New Bie", "password1": PASSWORD, "password2": PASSWORD, "timezone": "America/Chicago"}
    )
    assert response.status_code == 302
    assert User.objects.get(email="newbie@example.com").timezone == "America/Chicago"


def test_invitation_acceptance_with_an_unknown_zone_falls_back_to_the_organization(invite):
    org = OrganizationFactory(timezone="Europe/Paris")
    _invitation, secret = invite(org)
    membership = accept_invitation(token=secret, name="New Bie", password=PASSWORD, timezone_name="Atlantis/Capital")
    assert membership.user.timezone == ""
    assert zone_name_for(membership.user, org) == "Europe/Paris"


# --- e-mails name the recipient's zone ----------------------------------------------------


def test_the_invitation_email_names_the_organizations_zone(invite):
    org = OrganizationFactory(timezone="Europe/Paris")
    with time_machine.travel(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), tick=False):
        invitation, _ = invite(org)
    local = invitation.expires_at.astimezone(PARIS)
    assert f"works until {local:%-d %B %Y at %H:%M} CET" in mail.outbox[-1].body


def test_the_expiring_connection_email_names_the_recipients_zone():
    org = OrganizationFactory(timezone="Europe/Paris")
    emma = MembershipFactory(organization=org, user__timezone="America/New_York")
    now = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    SocialConnectionFactory(
        organization=org, user=emma.user, network="linkedin", refresh_token="", expires_at=now + timedelta(days=3)
    )
    with time_machine.travel(now, tick=False):
        warn_expiring_connections()
    assert "stops working on 8 January 2026 at 07:00 EST" in mail.outbox[-1].body
