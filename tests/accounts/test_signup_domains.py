"""Self sign-up domains (issue 15, finding 1): a domain enrols people only once its
organization proved it owns it with a DNS TXT record (looked up over real DNS, on a local
server), one organization at a time; public mailbox providers are refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Membership, Notification, Role, SignupDomain, User
from accounts.services import domains
from tests.accounts.factories import OrganizationFactory
from tests.accounts.test_auth import link_in_last_mail, sign_up
from tests.helpers import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme():
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def globex():
    return OrganizationFactory(slug="globex", name="Globex")


def list_domain(client, org, domain: str):
    admin = member(org, Role.ADMIN)
    client.force_login(admin.user)
    response = client.post(
        reverse("org_settings", kwargs={"org_slug": org.slug}),
        {"name": org.name, "timezone": "UTC", "self_signup_domains": domain},
    )
    return admin, response


def publish_txt(dns, signup_domain: SignupDomain) -> None:
    dns.records[domains.txt_name(signup_domain.domain)] = [domains.txt_value(signup_domain)]


def verify(client, org, signup_domain: SignupDomain):
    url = reverse("org_domain_verify", kwargs={"org_slug": org.slug, "signup_domain_id": signup_domain.pk})
    return client.post(url, follow=True)


def join_as(client, email: str) -> User:
    client.logout()
    sign_up(client, email)
    client.post(link_in_last_mail(r"https?://\S+/accounts/confirm-email/\S+"))
    return User.objects.get(email=email)


def test_another_organization_listing_our_domain_enrols_nobody(client, acme, globex):
    """The probe's repro: Globex's admin lists acme.test; a new hire at acme.test joins nothing."""
    list_domain(client, globex, "acme.test")
    user = join_as(client, "newhire@acme.test")
    assert not Membership.objects.for_org(globex).filter(user=user).exists()


def test_a_domain_proven_by_its_txt_record_enrols_people_who_verify_an_address(client, acme, dns):
    _, response = list_domain(client, acme, "acme.test")
    assert response.status_code == 302
    row = SignupDomain.objects.for_org(acme).get(domain="acme.test")
    page = client.get(reverse("org_settings", kwargs={"org_slug": "acme"})).content.decode()
    assert domains.txt_name("acme.test") in page and domains.txt_value(row) in page

    missing = verify(client, acme, row).content.decode()
    assert "did not find the TXT record" in missing
    row.refresh_from_db()
    assert row.verified_at is None

    publish_txt(dns, row)
    assert "acme.test is verified" in verify(client, acme, row).content.decode()
    row.refresh_from_db()
    assert row.verified_at is not None
    user = join_as(client, "newhire@acme.test")
    assert Membership.objects.for_org(acme).get(user=user).roles == {"employee"}


def test_a_domain_is_verified_by_one_organization_at_a_time(client, acme, globex, dns):
    list_domain(client, acme, "acme.test")
    ours = SignupDomain.objects.for_org(acme).get()
    publish_txt(dns, ours)
    verify(client, acme, ours)

    list_domain(client, globex, "acme.test")
    theirs = SignupDomain.objects.for_org(globex).get()
    publish_txt(dns, theirs)  # even with a record of its own (say, a stolen DNS login): refused
    page = verify(client, globex, theirs).content.decode()
    assert "already verified by another organization" in page
    theirs.refresh_from_db()
    assert theirs.verified_at is None
    user = join_as(client, "second@acme.test")
    assert [m.organization_id for m in Membership.objects.all_organizations().filter(user=user)] == [acme.pk]


def test_public_mailbox_providers_are_refused(client, acme):
    _, response = list_domain(client, acme, "example.org\ngmail.com")
    assert response.status_code == 200
    assert "gmail.com is a public mailbox provider" in response.content.decode()
    assert not SignupDomain.objects.for_org(acme).exists()


def test_a_dns_that_does_not_answer_changes_nothing(client, acme, settings):
    list_domain(client, acme, "acme.test")
    row = SignupDomain.objects.for_org(acme).get()
    settings.DNS_NAMESERVERS = ["127.0.0.1:9"]  # nothing listens there
    settings.DNS_TIMEOUT = 0.5
    page = verify(client, acme, row).content.decode()
    assert "did not answer" in page
    row.refresh_from_db()
    assert row.verified_at is None


def test_the_migration_pauses_existing_domains_and_tells_the_admins(acme):
    """Run the data step of accounts 0005 on a domain listed before it existed."""
    from importlib import import_module

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    admin = member(acme, Role.ADMIN)
    SignupDomain.objects.create(organization=acme, domain="acme.test")
    step = "0005_signup_domain_ownership"
    historical = MigrationLoader(connection).project_state(("accounts", step)).apps
    import_module(f"accounts.migrations.{step}").disable_unproven_domains(historical, None)
    assert SignupDomain.objects.for_org(acme).get().verified_at is None
    notice = Notification.objects.for_org(acme).get(user=admin.user)
    assert "acme.test is paused" in notice.message and notice.url == "/o/acme/settings/"
