"""Pages, e-mails and browser scripts in the reader's language (issue 23): the layout loads the
scripts' catalogue for the page's own language, a French member reads French, and the
English pages keep their words."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Role
from advocacy.languages import for_recipient
from tests.accounts.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return MembershipFactory(organization=OrganizationFactory(slug="acme", name="Acme"), roles=[Role.EMPLOYEE])


def test_the_scripts_catalogue_is_the_asked_language_and_ours_only(client):
    french = client.get("/jsi18n/?language=fr")
    assert french.status_code == 200 and "javascript" in french["Content-Type"]
    body = french.content.decode()
    assert "Cet appareil re\\u00e7oit vos notifications." in body or "Cet appareil reçoit vos notifications." in body
    assert "Available %s" not in body  # django.contrib.admin's script strings are not shipped to every page
    assert "max-age=3600" in french["Cache-Control"]  # each page asks for it: the browser keeps it
    english = client.get("/jsi18n/?language=xx").content.decode()  # unknown: the reader's own (English here)
    assert "Cet appareil" not in english


def test_the_layout_loads_the_pages_catalogue_before_the_scripts(client, member):
    member.user.language = "de"
    member.user.save(update_fields=["language"])
    client.force_login(member.user)
    page = client.get("/o/acme/").content.decode()
    assert '<html lang="de" dir="ltr">' in page
    catalogue = page.index('src="/jsi18n/?language=de"')
    assert catalogue < page.index("js/pwa.js") and catalogue < page.index("js/app.js")


def test_a_french_member_reads_the_home_page_in_french(client, member):
    member.user.language = "fr"
    member.user.save(update_fields=["language"])
    client.force_login(member.user)
    page = client.get("/o/acme/").content.decode()
    assert "Reste à faire" in page and "Left to do" not in page
    assert "Se déconnecter" in page


def test_an_english_member_reads_the_same_words_as_before(client, member):
    client.force_login(member.user)
    page = client.get("/o/acme/").content.decode()
    assert "Left to do" in page and "Share company news" in page and '<html lang="en" dir="ltr">' in page


def test_the_invitation_email_is_in_the_recipients_language_with_the_date_and_time(member):
    invitation = type(
        "Invitation",
        (),
        {"invited_by": None, "email": "ana@example.com", "expires_at": timezone.now()},
    )()
    context = {"invitation": invitation, "organization": member.organization, "url": "https://x.test/i/1"}
    english = render_to_string("accounts/email/invitation.txt", context)
    assert "You are invited to join Acme on Advocacy" in english
    assert f"The link works until {timezone.localtime(invitation.expires_at):%-d %B %Y} at " in english
    member.user.language = "es"
    with for_recipient(member.user, member.organization):
        spanish = render_to_string("accounts/email/invitation.txt", context)
    assert "Te invitan a unirte a Acme en Advocacy" in spanish and " a las " in spanish
