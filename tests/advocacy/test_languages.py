"""Whose language a page is in (advocacy.languages, issue 23): the person's own, else their
organization's default, else the browser's (the switcher's cookie, then Accept-Language), else
English; the middleware that applies it, the switcher, and the settings that choose it."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from accounts.models import Role, User
from advocacy.languages import browser_language, clean_language, for_recipient, language_for, later
from compliance.models import AuditEntry
from tests.accounts.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.helpers import member
from tests.helpers import org_url as url

pytestmark = pytest.mark.django_db

COOKIE = settings.LANGUAGE_COOKIE_NAME


def browser(accept: str = "", cookie: str = ""):
    request = RequestFactory().get("/", HTTP_ACCEPT_LANGUAGE=accept) if accept else RequestFactory().get("/")
    if cookie:
        request.COOKIES[COOKIE] = cookie
    return request


# --- the rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [("fr", "fr"), ("fr-CA", "fr"), ("de_AT", "de"), ("ES", "es"), ("en-GB", "en"), ("ja", ""), ("", ""), (None, "")],
)
def test_clean_language_reads_the_shipped_language_of_a_tag(value, code):
    assert clean_language(value) == code


def test_language_for_takes_the_persons_own_first():
    user = UserFactory(language="es")
    org = OrganizationFactory(default_language="de")
    assert language_for(user, org, browser("fr", cookie="en")) == "es"


def test_then_the_organizations_default():
    user = UserFactory(language="")
    org = OrganizationFactory(default_language="de")
    assert language_for(user, org, browser("fr", cookie="es")) == "de"


def test_then_the_switchers_cookie_then_accept_language_then_english():
    anonymous = AnonymousUser()
    assert language_for(anonymous, None, browser("fr", cookie="es")) == "es"
    assert language_for(anonymous, None, browser("fr-CH, de;q=0.5")) == "fr"
    assert language_for(anonymous, None, browser("ja, zh;q=0.8")) == "en"
    assert language_for(anonymous, None, browser()) == "en"
    assert language_for() == "en"


def test_an_unknown_own_language_falls_through_to_the_organizations():
    user = User(language="xx")
    assert language_for(user, OrganizationFactory(default_language="fr")) == "fr"


def test_browser_language_is_empty_when_the_browser_asks_for_nothing_we_ship():
    assert browser_language(browser("de-DE,de;q=0.9")) == "de"
    assert browser_language(browser("ja", cookie="fr")) == "fr"
    assert browser_language(browser("ja, zh;q=0.8")) == ""
    assert browser_language(browser()) == ""


def test_for_recipient_renders_a_later_text_in_the_recipients_language():
    text = later("Settings saved.")
    with translation.override("de"):
        with for_recipient(User(language="fr"), None):
            assert str(text) == "Paramètres enregistrés."
        assert str(text) == "Einstellungen gespeichert."


# --- the middleware -------------------------------------------------------------------------


def test_the_sign_in_page_speaks_the_browsers_language(client):
    response = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="de"' in page
    assert response["Content-Language"] == "de"
    assert ">E-Mail</label>" in page  # the e-mail step's label, from the German catalogue
    assert "Accept-Language" in response["Vary"] and "Cookie" in response["Vary"]


def test_without_accept_language_the_sign_in_page_is_english(client):
    response = client.get(reverse("account_login"))
    assert '<html lang="en"' in response.content.decode() and response["Content-Language"] == "en"


def test_a_member_with_a_language_of_their_own_sees_it_whatever_the_browser_says(client):
    org = OrganizationFactory(slug="acme", default_language="en")
    membership = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    User.objects.filter(pk=membership.user_id).update(language="fr")
    client.force_login(membership.user)
    response = client.get(url("profile", org), HTTP_ACCEPT_LANGUAGE="de")
    page = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "fr"
    assert '<html lang="fr"' in page
    assert "Fuseau horaire" in page and "Langue" in page  # the profile form's labels


def test_a_member_without_one_sees_the_organizations_default(client):
    org = OrganizationFactory(slug="acme", default_language="es")
    membership = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    client.force_login(membership.user)
    response = client.get(url("profile", org), HTTP_ACCEPT_LANGUAGE="de")
    assert response["Content-Language"] == "es" and "Zona horaria" in response.content.decode()


# --- the switcher ---------------------------------------------------------------------------


def test_the_switcher_saves_a_signed_in_persons_language_and_sets_the_cookie(client):
    user = UserFactory(language="")
    client.force_login(user)
    response = client.post(reverse("switch_language"), {"language": "de", "next": "/o/acme/feed/?page=2"})
    assert response.status_code == 302 and response["Location"] == "/o/acme/feed/?page=2"
    user.refresh_from_db()
    assert user.language == "de"
    assert response.cookies[COOKIE].value == "de"


def test_the_switcher_sets_the_cookie_for_anyone_and_the_next_page_speaks_it(client):
    response = client.post(reverse("switch_language"), {"language": "fr-FR", "next": "/accounts/login/"})
    assert response.status_code == 302 and response.cookies[COOKIE].value == "fr"
    page = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="de")
    assert page["Content-Language"] == "fr"


def test_a_bad_code_changes_nothing_and_says_so(client):
    user = UserFactory(language="es")
    client.force_login(user)
    response = client.post(reverse("switch_language"), {"language": "klingon", "next": "/accounts/login/"})
    user.refresh_from_db()
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert user.language == "es" and COOKIE not in response.cookies
    # Said in the person's own language, Spanish.
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == ["Elige uno de los idiomas de la lista."]


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/path", "javascript:alert(1)"])
def test_an_off_site_next_is_refused(client, next_url):
    response = client.post(reverse("switch_language"), {"language": "de", "next": next_url})
    assert response.status_code == 302 and response["Location"] == "/"
    assert response.cookies[COOKIE].value == "de"


def test_the_switcher_takes_only_post(client):
    assert client.get(reverse("switch_language"), {"language": "de"}).status_code == 405


# --- the settings that choose it ------------------------------------------------------------


def test_the_profile_form_saves_the_persons_language_and_empty_follows_the_organization(client):
    org = OrganizationFactory(slug="acme")
    membership = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    client.force_login(membership.user)
    data = {"name": "Ada", "timezone": "", "review_shortcuts": "on"}
    response = client.post(url("profile", org), {**data, "language": "de"})
    assert response.status_code == 302
    assert User.objects.get(pk=membership.user_id).language == "de"
    client.post(url("profile", org), {**data, "language": ""})
    assert User.objects.get(pk=membership.user_id).language == ""
    refused = client.post(url("profile", org), {**data, "language": "xx"})
    assert refused.status_code == 200 and User.objects.get(pk=membership.user_id).language == ""


def test_the_organizations_default_language_is_saved_and_audited(client):
    org = OrganizationFactory(slug="acme", name="Acme", timezone="UTC", default_language="en")
    client.force_login(member(org, Role.ADMIN).user)
    data = {"name": "Acme", "timezone": "UTC", "self_signup_domains": ""}
    response = client.post(url("org_settings", org), {**data, "default_language": "fr"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.default_language == "fr"
    entry = AuditEntry.objects.for_org(org).get(action="organization.settings_changed")
    assert entry.before == {"default_language": "en"} and entry.after == {"default_language": "fr"}
    # Saved again unchanged (or not sent at all): nothing new in the audit trail, nothing changed.
    client.post(url("org_settings", org), {**data, "default_language": "fr"})
    client.post(url("org_settings", org), data)
    org.refresh_from_db()
    assert org.default_language == "fr"
    assert AuditEntry.objects.for_org(org).filter(action="organization.settings_changed").count() == 1


def test_an_organization_default_we_do_not_ship_is_refused(client):
    org = OrganizationFactory(slug="acme", name="Acme", timezone="UTC", default_language="en")
    client.force_login(member(org, Role.ADMIN).user)
    response = client.post(
        url("org_settings", org),
        {"name": "Acme", "timezone": "UTC", "self_signup_domains": "", "default_language": "xx"},
    )
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.default_language == "en"
