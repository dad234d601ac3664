"""A new person speaks the browser's language from the start (issue 23): at sign-up and when
accepting an invitation, the browser's language (the switcher's cookie, else Accept-Language)
becomes theirs when we ship it and they have none; otherwise they follow the organization."""

import pytest
from django.conf import settings
from django.urls import reverse

from accounts.models import User
from tests.accounts.factories import UserFactory
from tests.accounts.test_auth import sign_up
from tests.accounts.test_invitations import admin, invited  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

PASSWORD = "a-Strong-passphrase-42"


def test_sign_up_takes_the_browsers_language(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9,en;q=0.5"
    assert sign_up(client, "anna@example.com").status_code == 302
    assert User.objects.get(email="anna@example.com").language == "de"


def test_sign_up_takes_the_switchers_cookie_first(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    sign_up(client, "ana@example.com")
    assert User.objects.get(email="ana@example.com").language == "es"


@pytest.mark.parametrize("header", ["", "ja-JP,zh;q=0.8"])
def test_a_browser_asking_for_nothing_we_ship_leaves_the_language_to_the_organization(client, header):
    if header:
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = header
    sign_up(client, "kenji@example.com")
    assert User.objects.get(email="kenji@example.com").language == ""


def accept(client, token, **post):
    return client.post(reverse("invitation_accept", args=[token]), post)


def test_accepting_an_invitation_takes_the_browsers_language(client, invited):  # noqa: F811
    _invitation, token = invited
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "fr-CA,fr;q=0.9"
    response = accept(client, token, name="Nina", password1=PASSWORD, password2=PASSWORD)
    assert response.status_code == 302
    assert User.objects.get(email="new@example.com").language == "fr"


def test_a_signed_in_person_keeps_their_own_language_on_accepting(client, invited):  # noqa: F811
    _invitation, token = invited
    own = UserFactory(email="new@example.com", language="es")
    client.force_login(own)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"
    assert accept(client, token).status_code == 302
    own.refresh_from_db()
    assert own.language == "es"


def test_a_signed_in_person_without_one_gets_the_browsers(client, invited):  # noqa: F811
    _invitation, token = invited
    own = UserFactory(email="new@example.com", language="")
    client.force_login(own)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"
    assert accept(client, token).status_code == 302
    own.refresh_from_db()
    assert own.language == "de"
