"""Sign-up, e-mail verification, login, throttling, logout, password reset, self sign-up."""

import re

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from tests.accounts.factories import PASSWORD, MembershipFactory, SignupDomainFactory, UserFactory
from tests.helpers import reset_password_by_mail

pytestmark = pytest.mark.django_db


def link_in_last_mail(pattern: str = r"https?://\S+") -> str:
    match = re.search(pattern, mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return re.sub(r"^https?://[^/]+", "", match.group(0))


def sign_up(client, email: str, password: str = "a-Strong-passphrase-42"):
    return client.post(reverse("account_signup"), {"email": email, "password1": password, "password2": password})


def test_sign_up_verifies_the_email_then_logs_in(client):
    response = sign_up(client, "new.person@example.com")
    assert response.status_code == 302
    user = User.objects.get(email="new.person@example.com")
    assert not user.emailaddress_set.get().verified
    assert client.get(reverse("home")).status_code == 302  # not logged in before confirming
    confirm = link_in_last_mail(r"https?://\S+/accounts/confirm-email/\S+")
    client.post(confirm)
    assert user.emailaddress_set.get().verified
    home = client.get(reverse("home"))
    assert home.status_code == 200 and b"not in an organization yet" in home.content


def test_sign_up_refuses_a_weak_password_and_keeps_the_email(client):
    response = sign_up(client, "weak@example.com", password="password")
    assert response.status_code == 200
    assert b"too common" in response.content
    assert b'value="weak@example.com"' in response.content
    assert not User.objects.filter(email="weak@example.com").exists()


def test_login_and_logout(client):
    user = UserFactory(email="ana@example.com")
    response = client.post(reverse("account_login"), {"login": "ANA@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk
    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session


def test_wrong_password_says_so_and_does_not_log_in(client):
    UserFactory(email="ana@example.com")
    response = client.post(reverse("account_login"), {"login": "ana@example.com", "password": "nope-nope-1"})
    assert response.status_code == 200
    assert b"not correct" in response.content
    assert "_auth_user_id" not in client.session


@time_machine.travel("2026-03-02 09:00Z", tick=False)
def test_failed_logins_are_throttled_even_for_the_right_password(client):
    UserFactory(email="ana@example.com")
    for _ in range(3):
        client.post(reverse("account_login"), {"login": "ana@example.com", "password": "wrong-guess-1"})
    response = client.post(reverse("account_login"), {"login": "ana@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert b"Too many wrong passwords from here. Try again in 1 second." in response.content
    assert "_auth_user_id" not in client.session


def test_password_reset_by_email(client):
    UserFactory(email="ana@example.com")
    reset_password_by_mail(client, "ana@example.com", "brand-New-secret-77")
    assert client.login(email="ana@example.com", password="brand-New-secret-77")
    assert not client.login(email="ana@example.com", password=PASSWORD)


def test_self_sign_up_joins_orgs_of_the_verified_domain_only(client):
    acme = SignupDomainFactory(domain="acme.example", verified_at=timezone.now()).organization
    SignupDomainFactory(domain="other.example", verified_at=timezone.now())
    sign_up(client, "joiner@acme.example")
    user = User.objects.get(email="joiner@acme.example")
    assert not Membership.objects.for_org(acme).filter(user=user).exists(), "not before verification"
    client.post(link_in_last_mail(r"https?://\S+/accounts/confirm-email/\S+"))
    membership = Membership.objects.for_org(acme).get(user=user)
    assert membership.roles == {"employee"}
    assert user.memberships.count() == 1
    assert client.get(reverse("home"))["Location"] == f"/o/{acme.slug}/"


def test_anonymous_visitor_of_an_org_page_is_sent_to_login(client):
    membership = MembershipFactory()
    response = client.get(f"/o/{membership.organization.slug}/members/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
