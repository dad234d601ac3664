"""A new password ends the user's API tokens, and says so (issue 15, info: tokens survive a reset)."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import ApiToken
from tests.accounts.factories import PASSWORD, ApiTokenFactory, UserFactory
from tests.helpers import reset_password_by_mail

pytestmark = pytest.mark.django_db


def active_tokens(user) -> int:
    return ApiToken.objects.all_organizations().filter(user=user, revoked_at__isnull=True).count()


def test_password_reset_revokes_every_api_token_and_tells_the_user(client):
    user = UserFactory(email="ana@example.com")
    ApiTokenFactory(user=user)
    ApiTokenFactory(user=user)
    other = ApiTokenFactory()
    response = reset_password_by_mail(client, "ana@example.com", "brand-New-secret-77")
    assert active_tokens(user) == 0
    assert active_tokens(other.user) == 1
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("2 API tokens were revoked" in m for m in shown), shown


def test_password_change_revokes_the_api_tokens(client):
    user = UserFactory(email="ana@example.com")
    ApiTokenFactory(user=user)
    client.force_login(user)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": "brand-New-secret-77", "password2": "brand-New-secret-77"},
    )
    assert response.status_code == 302
    assert active_tokens(user) == 0
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("API token was revoked" in m for m in shown), shown
