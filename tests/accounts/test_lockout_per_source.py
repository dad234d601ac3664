"""Failed logins lock an account for the source that failed, not for everyone (issue 15, info item)."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_wrong_passwords_from_one_address_do_not_lock_the_account_for_another():
    UserFactory(email="ana@example.com")
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(6):
        attacker.post(reverse("account_login"), {"login": "ana@example.com", "password": "wrong-guess-1"})
    blocked = attacker.post(reverse("account_login"), {"login": "ana@example.com", "password": PASSWORD})
    assert b"Too many failed login attempts" in blocked.content
    assert "_auth_user_id" not in attacker.session
    ana = Client(REMOTE_ADDR="198.51.100.9")
    response = ana.post(reverse("account_login"), {"login": "ana@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in ana.session
