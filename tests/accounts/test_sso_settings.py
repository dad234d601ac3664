"""The SSO settings page and the rules that keep an organization from locking itself out:
secrets write-only, changes audited, "SSO required" only after a successful test sign-in and
with a break-glass admin; then passwords (and password resets) refused to its members, except
the break-glass admins; a domain claimed by one organization only."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, SignupDomain, SsoConfiguration
from accounts.services import domains
from advocacy.errors import Conflict
from compliance.models import AuditEntry
from tests.accounts.factories import (
    PASSWORD,
    OrganizationFactory,
    SignupDomainFactory,
    SsoConfigurationFactory,
    UserFactory,
)
from tests.helpers import member, org_url

pytestmark = pytest.mark.django_db

SECRET = "s3cret-only-the-provider-knows"
ISSUER = "http://localhost:8769"


def sso_config(org, **fields) -> SsoConfiguration:
    """A configuration whose provider is the one `form()` posts (so saving it changes no provider)."""
    fields.setdefault("attribute_mapping", {"email": "email", "name": "name", "team": "department", "roles": "groups"})
    return SsoConfigurationFactory(organization=org, oidc_issuer=ISSUER, oidc_client_id="advocacy", **fields)


@pytest.fixture
def acme():
    org = OrganizationFactory(slug="acme", name="Acme")
    SignupDomainFactory(organization=org, domain="acme.test", verified_at=timezone.now())
    return org


def with_email(membership, email: str):
    """The member's user, with this (verified) address instead of the factory's."""
    EmailAddress.objects.filter(user=membership.user).update(email=email)
    membership.user.email = email
    membership.user.save()
    return membership


@pytest.fixture
def admin(acme):
    return with_email(member(acme, Role.ADMIN, Role.EMPLOYEE), "boss@acme.test")


def form(**overrides) -> dict:
    data = {
        "protocol": "oidc",
        "oidc_issuer": ISSUER,
        "oidc_client_id": "advocacy",
        "oidc_client_secret": "",
        "attr_email": "email",
        "attr_name": "name",
        "attr_team": "department",
        "attr_location": "",
        "attr_roles": "groups",
        "role_mapping": "Marketing = marketer\nCompliance = compliance",
        "default_roles": ["employee"],
        "session_minutes": "120",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None and v is not False}


def test_admin_saves_settings_secret_is_encrypted_and_never_shown(client, acme, admin):
    client.force_login(admin.user)
    response = client.post(org_url("sso_settings", acme), form(oidc_client_secret=SECRET, is_enabled="on"))
    assert response.status_code == 302, response.content.decode()[:2000]
    config = SsoConfiguration.objects.for_org(acme).get()
    assert config.oidc_client_secret == SECRET and config.is_enabled
    assert config.role_mapping == {"Marketing": "marketer", "Compliance": "compliance"}
    assert config.attribute_mapping == {"email": "email", "name": "name", "team": "department", "roles": "groups"}
    assert config.session_minutes == 120
    # Stored encrypted: the column does not hold the secret.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT oidc_client_secret FROM accounts_ssoconfiguration WHERE id = %s", [config.pk])
        assert SECRET not in cursor.fetchone()[0]
    page = client.get(org_url("sso_settings", acme))
    assert SECRET.encode() not in page.content
    assert b'data-testid="secret-stored"' in page.content
    # Saving again with the secret left empty keeps it.
    client.post(org_url("sso_settings", acme), form(is_enabled="on", session_minutes="60"))
    config.refresh_from_db()
    assert config.oidc_client_secret == SECRET and config.session_minutes == 60
    entries = AuditEntry.objects.filter(organization_id=acme.pk, action="sso.configured").order_by("pk")
    assert entries.count() == 2
    assert SECRET not in str(entries[0].after) and entries[0].after["secrets_replaced"] == ["oidc_client_secret"]
    assert entries[1].before == {"session_minutes": 120} and entries[1].after["session_minutes"] == 60


def test_settings_page_is_for_admins_only(client, acme):
    client.force_login(member(acme, Role.EMPLOYEE, Role.MARKETER).user)
    assert client.get(org_url("sso_settings", acme)).status_code in (403, 404)
    assert client.post(org_url("sso_test", acme)).status_code in (403, 404)


def test_bad_input_changes_nothing(client, acme, admin):
    client.force_login(admin.user)
    response = client.post(
        org_url("sso_settings", acme), form(role_mapping="Marketing = wizard", oidc_client_secret=SECRET)
    )
    assert response.status_code == 200
    assert "Not a role here: wizard" in response.content.decode()
    response = client.post(org_url("sso_settings", acme), form(oidc_client_secret="", is_enabled="on"))
    assert "client secret" in response.content.decode()
    response = client.post(
        org_url("sso_settings", acme), form(oidc_issuer="http://idp.example.com", oidc_client_secret=SECRET)
    )
    assert "must start with https://" in response.content.decode()
    assert not SsoConfiguration.objects.for_org(acme).exists()


def mark_tested(config: SsoConfiguration, ok: bool = True) -> None:
    config.tested_at = timezone.now()
    config.test_result = {"ok": ok, "email": "boss@acme.test"}
    config.save()


def test_sso_required_refused_until_a_test_succeeded_and_a_break_glass_admin_is_named(client, acme, admin):
    config = sso_config(acme, is_enabled=True)
    client.force_login(admin.user)
    required = form(is_enabled="on", sso_required="on")
    response = client.post(org_url("sso_settings", acme), {**required, "break_glass": [admin.pk]})
    assert "Run a test sign-in that succeeds" in response.content.decode()
    mark_tested(config, ok=False)
    response = client.post(org_url("sso_settings", acme), {**required, "break_glass": [admin.pk]})
    assert "Run a test sign-in that succeeds" in response.content.decode()
    mark_tested(config, ok=True)
    response = client.post(org_url("sso_settings", acme), required)
    assert "break-glass admin" in response.content.decode()
    config.refresh_from_db()
    assert not config.sso_required
    response = client.post(org_url("sso_settings", acme), {**required, "break_glass": [admin.pk]})
    assert response.status_code == 302
    config.refresh_from_db()
    assert config.sso_required and list(config.break_glass.all()) == [admin]


def test_changing_the_provider_forgets_the_last_test(client, acme, admin):
    config = sso_config(acme, is_enabled=True)
    mark_tested(config)
    client.force_login(admin.user)
    client.post(org_url("sso_settings", acme), form(is_enabled="on", oidc_issuer="http://localhost:9999"))
    config.refresh_from_db()
    assert config.tested_at is None and config.test_result == {}


def test_break_glass_must_be_an_admin_of_this_organization(client, acme, admin):
    sso_config(acme)
    employee = member(acme, Role.EMPLOYEE)
    client.force_login(admin.user)
    response = client.post(org_url("sso_settings", acme), {**form(), "break_glass": [employee.pk]})
    assert response.status_code == 200  # not a choice: only the admins are offered
    assert employee.user.email not in response.content.decode().split("Break-glass")[-1].split("</fieldset>")[0]


@pytest.fixture
def required(acme, admin):
    config = sso_config(acme, is_enabled=True, sso_required=True)
    config.break_glass.set([admin])
    return config


def password_login(client, email: str):
    return client.post(reverse("account_login"), {"login": email, "password": PASSWORD})


def test_sso_required_refuses_password_and_password_reset(client, acme, required):
    with_email(member(acme, Role.EMPLOYEE), "ann@acme.test")
    response = password_login(client, "ann@acme.test")
    assert response.status_code == 200
    assert "Acme signs you in with its company sign-in" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The reset form answers as for anybody ("we sent you a mail"), and sends nothing.
    response = client.post(reverse("account_reset_password"), {"email": "ann@acme.test"})
    assert response.status_code == 302 and response["Location"] == reverse("account_reset_password_done")
    assert mail.outbox == []


def test_sso_required_binds_members_with_an_address_outside_the_domain(client, acme, required):
    contractor = member(acme, Role.EMPLOYEE)  # user<n>@example.com: not acme.test
    response = password_login(client, contractor.user.email)
    assert "Acme signs you in with its company sign-in" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_reset_link_mailed_before_sso_was_required_no_longer_sets_a_password(client, acme, admin):
    employee = member(acme, Role.EMPLOYEE)
    client.post(reverse("account_reset_password"), {"email": employee.user.email})
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", mail.outbox[-1].body).group(0)
    config = sso_config(acme, is_enabled=True, sso_required=True)
    config.break_glass.set([admin])
    page = client.get(re.sub(r"^https?://[^/]+", "", link), follow=True)
    set_url = page.redirect_chain[-1][0]
    response = client.post(set_url, {"password1": "brand-New-secret-77", "password2": "brand-New-secret-77"})
    assert "Acme signs you in with its company sign-in" in response.content.decode()
    employee.user.refresh_from_db()
    assert employee.user.check_password(PASSWORD)


def test_break_glass_admin_keeps_the_password(client, acme, admin, required):
    response = password_login(client, "boss@acme.test")
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == admin.user_id


def test_other_organizations_keep_passwords(client, acme, required):
    outsider = UserFactory(email="zed@elsewhere.test")
    response = password_login(client, outsider.email)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == outsider.pk


def test_enabled_but_not_required_keeps_passwords(client, acme, admin):
    sso_config(acme, is_enabled=True, sso_required=False)
    response = password_login(client, "boss@acme.test")
    assert response.status_code == 302


def test_a_domain_routes_to_one_organization_only(acme, dns):
    """Verified domains are what SSO routes by: a second organization cannot verify acme.test."""
    globex = OrganizationFactory(slug="globex", name="Globex")
    claim = SignupDomainFactory(organization=globex, domain="acme.test")
    dns.records[domains.txt_name("acme.test")] = [domains.txt_value(claim)]
    with pytest.raises(Conflict, match="already verified by another organization"):
        domains.verify_signup_domain(actor=member(globex, Role.ADMIN), signup_domain_id=claim.pk)
    assert SignupDomain.objects.all_organizations().filter(domain="acme.test", verified_at__isnull=False).count() == 1


def test_settings_page_queries_do_not_grow_with_admins_and_domains(client, acme, admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    config = sso_config(acme)
    client.force_login(admin.user)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(org_url("sso_settings", acme)).status_code == 200
        return len(ctx.captured_queries)

    config.break_glass.set([admin])
    few = count()
    for n in range(5):
        extra = member(acme, Role.ADMIN)
        config.break_glass.add(extra)
        SignupDomainFactory(organization=acme, domain=f"d{n}.acme.test")
    assert count() == few


# --- "SSO required" binds the organization's pages to a session its provider started ---------


def refused_to_sign_in_page(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_sso_required_refuses_the_organizations_pages_to_a_session_its_provider_did_not_start(client, acme, required):
    employee = with_email(member(acme, Role.EMPLOYEE), "ann@acme.test")
    client.force_login(employee.user)  # a session from before, or from a password elsewhere
    response = client.get(org_url("content:feed", acme))
    assert refused_to_sign_in_page(response)
    assert "_auth_user_id" not in client.session  # signed out
    page = client.get(response["Location"])
    assert "Acme requires its company sign-in" in page.content.decode()


def test_a_session_another_organizations_provider_started_does_not_open_this_one(client, acme, required):
    from accounts.sso.sessions import SESSION_KEY

    employee = with_email(member(acme, Role.EMPLOYEE), "ann@acme.test")
    other = OrganizationFactory(slug="globex")
    client.force_login(employee.user)
    session = client.session
    session[SESSION_KEY] = {"org": other.pk, "name": "Globex", "minutes": 60, "at": 0, "until": None}
    session.save()
    assert refused_to_sign_in_page(client.get(org_url("content:feed", acme)))
    client.force_login(employee.user)
    session = client.session
    session[SESSION_KEY] = {"org": acme.pk, "name": "Acme", "minutes": 60, "at": 0, "until": None}
    session.save()
    assert client.get(org_url("content:feed", acme)).status_code == 200


def test_break_glass_admin_keeps_the_pages_but_only_while_admin(client, acme, admin, required):
    client.force_login(admin.user)
    assert client.get(org_url("content:feed", acme)).status_code == 200
    admin.is_admin = False  # demoted, still named in the stored break-glass list
    admin.save(update_fields=["is_admin"])
    assert refused_to_sign_in_page(client.get(org_url("content:feed", acme)))


def test_turning_sso_required_on_ends_password_sessions_but_the_break_glass_admins(client, acme, admin):
    from django.test import Client

    config = sso_config(acme, is_enabled=True)
    mark_tested(config)
    employee = member(acme, Role.EMPLOYEE)
    other_org = OrganizationFactory(slug="initech")
    employee_elsewhere = member(other_org, Role.EMPLOYEE)  # another organization's session stays
    browsers = {m.pk: Client() for m in (employee, employee_elsewhere)}
    for m in (employee, employee_elsewhere):
        browsers[m.pk].force_login(m.user)
    client.force_login(admin.user)
    response = client.post(
        org_url("sso_settings", acme), {**form(is_enabled="on", sso_required="on"), "break_glass": [admin.pk]}
    )
    assert response.status_code == 302
    assert browsers[employee.pk].get(reverse("account_email")).status_code == 302  # signed out
    assert "_auth_user_id" not in browsers[employee.pk].session
    assert "_auth_user_id" in browsers[employee_elsewhere.pk].session
    assert browsers[employee_elsewhere.pk].get(org_url("content:feed", other_org)).status_code == 200
    assert client.get(org_url("sso_settings", acme)).status_code == 200  # the break-glass admin stays
    entry = AuditEntry.objects.filter(organization_id=acme.pk, action="sso.configured").latest("pk")
    assert entry.after["sessions_ended"] == 1


def test_before_a_right_password_members_break_glass_and_strangers_get_the_same_answers(client, acme, admin, required):
    """Nothing tells who is a member of an SSO-required organization, or who is break-glass,
    before the right password: the wrong-password answer and the reset answer are the same."""
    with_email(member(acme, Role.EMPLOYEE), "ann@acme.test")
    addresses = ["ann@acme.test", "boss@acme.test", "nobody@acme.test"]

    def wrong_password(email):
        response = client.post(reverse("account_login"), {"login": email, "password": "not-the-password"})
        page = re.sub(r'(csrfmiddlewaretoken" value=|"X-CSRFToken": )"[^"]*"', "", response.content.decode())
        return response.status_code, page.replace(email, "<email>")

    def reset(email):
        response = client.post(reverse("account_reset_password"), {"email": email})
        return response.status_code, response.get("Location")

    answers = {email: (wrong_password(email), reset(email)) for email in addresses}
    assert len(set(answers.values())) == 1, answers
    assert "Acme" not in answers["ann@acme.test"][0][1]
    # After the right password the refusal is said (a stranger cannot get this far).
    response = password_login(client, "ann@acme.test")
    assert "Acme signs you in with its company sign-in" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "change",
    [{"oidc_client_secret": "a-new-secret"}, {"attr_email": "upn"}, {"attr_roles": "roles"}],
)
def test_a_new_secret_or_email_or_roles_claim_forgets_the_last_test(client, acme, admin, change):
    config = sso_config(
        acme, is_enabled=True, attribute_mapping={"email": "email", "team": "department", "roles": "groups"}
    )
    mark_tested(config)
    client.force_login(admin.user)
    client.post(org_url("sso_settings", acme), form(is_enabled="on", **change))
    config.refresh_from_db()
    assert config.tested_at is None and config.test_result == {}


def test_a_name_or_team_claim_change_keeps_the_last_test(client, acme, admin):
    config = sso_config(
        acme, is_enabled=True, attribute_mapping={"email": "email", "team": "department", "roles": "groups"}
    )
    mark_tested(config)
    client.force_login(admin.user)
    client.post(org_url("sso_settings", acme), form(is_enabled="on", attr_team="division"))
    config.refresh_from_db()
    assert config.test_result["ok"] is True


def test_a_stored_break_glass_admin_who_was_demoted_no_longer_counts(acme, admin):
    from accounts.services.sso import save_sso_configuration
    from advocacy.errors import ValidationFailed

    config = sso_config(acme, is_enabled=True, sso_required=False)
    mark_tested(config)
    demoted = member(acme, Role.ADMIN)
    config.break_glass.set([demoted])
    demoted.is_admin = False
    demoted.save(update_fields=["is_admin"])
    with pytest.raises(ValidationFailed, match="break-glass admin"):
        save_sso_configuration(actor=admin, fields={"sso_required": True})
    config.refresh_from_db()
    assert not config.sso_required
