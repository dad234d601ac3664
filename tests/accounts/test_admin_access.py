"""The Django admin is reached only through the product login, with TOTP (issue 15, finding 3)."""

import time

import pytest
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.urls import reverse

from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def current_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def staff(email="root@example.com"):
    return UserFactory(email=email, is_staff=True, is_superuser=True)


def test_admin_login_redirects_to_the_product_login_with_next(client):
    response = client.get("/admin/login/?next=/admin/accounts/team/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert "next=%2Fadmin%2Faccounts%2Fteam%2F" in response["Location"]


def test_staff_without_totp_is_sent_to_set_it_up(client):
    staff()
    client.post(reverse("account_login"), {"login": "root@example.com", "password": PASSWORD})
    assert "_auth_user_id" in client.session
    response = client.get("/admin/accounts/team/", follow=True)
    assert (reverse("mfa_activate_totp"), 302) in response.redirect_chain
    assert client.get("/admin/").status_code == 302


def test_staff_with_totp_signs_in_with_the_code_and_reaches_the_admin(client):
    user = staff()
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    response = client.post(reverse("account_login"), {"login": "root@example.com", "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # the password alone does not sign in
    client.post(reverse("mfa_authenticate"), {"code": current_code(secret)})
    assert int(client.session["_auth_user_id"]) == user.pk
    assert client.get("/admin/accounts/team/").status_code == 200


def test_staff_signed_in_before_setting_up_totp_must_use_it_once(client):
    user = staff()
    client.post(reverse("account_login"), {"login": "root@example.com", "password": PASSWORD})
    TOTP.activate(user, generate_totp_secret())
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("mfa_reauthenticate"))
