"""SAML 2.0 sign-in end to end in Chromium: the e-mail step sends Ada to her company's IdP (a
pysaml2 process on loopback, tests/accounts/saml_idp.py), whose page POSTs the signed Response
to Acme's ACS; she lands signed in, a member provisioned just in time."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import Membership, Provisioning, Role, SsoConfiguration, User
from tests.accounts.factories import OrganizationFactory, SignupDomainFactory
from tests.e2e.conftest import login, path_of, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(transactional_db, saml_idp):
    org = OrganizationFactory(slug="acme", name="Acme")
    SignupDomainFactory(organization=org, domain="acme.example", verified_at=timezone.now())
    SsoConfiguration.objects.create(
        organization=org,
        protocol=SsoConfiguration.Protocol.SAML,
        is_enabled=True,
        saml_metadata_url=saml_idp.metadata_url,
        attribute_mapping={"team": "department", "roles": "groups"},
        role_mapping={"advocates": "marketer"},
    )
    return org


def sign_in_by_email(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    step = page.get_by_test_id("email-step")
    step.get_by_label("Email").fill(email)
    step.get_by_role("button", name="Continue").click()


def test_saml_sign_in_through_the_idp_provisions_and_signs_in(page, live_server, acme, saml_idp):
    saml_idp.next_sign_in(email="ada@acme.example", name="Ada Lovelace", groups=["advocates"])
    seen = []
    page.on("request", lambda request: seen.append((request.method, request.url.split("?")[0])))

    sign_in_by_email(page, live_server, "ada@acme.example")
    # Through the IdP (its page posts the Response back) to the product, signed in.
    page.wait_for_url(re.compile(rf"^{re.escape(live_server.url)}/o/acme/"))
    assert ("GET", saml_idp.sso_url) in seen
    assert ("POST", f"{live_server.url}/accounts/saml/acme/acs/") in seen
    assert path_of(page) == "/o/acme/"
    screenshot(page, "saml-signed-in")

    membership = Membership.objects.for_org(acme).get(user__email="ada@acme.example")
    assert membership.provisioned_via == Provisioning.SSO
    assert membership.roles == {Role.MARKETER}
    assert list(membership.teams.values_list("name", flat=True)) == ["Engineering"]
    assert page.get_by_role("button", name="Sign out").is_visible()


def test_a_refused_saml_answer_comes_back_to_the_sign_in_page_in_words(page, live_server, acme, saml_idp):
    saml_idp.next_sign_in(fault="audience")
    sign_in_by_email(page, live_server, "ada@acme.example")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    text = page.inner_text("main")
    assert "its answer could not be verified" in text
    assert "is not a valid audience" in text
    assert not Membership.objects.for_org(acme).exists()


def test_admin_configures_saml_by_metadata_url_and_runs_a_test_sign_in(page, live_server, demo, saml_idp):
    saml_idp.next_sign_in(email="nina.newhire@acme.test", name="Nina Newhire", department="Field Sales")
    login(page, live_server, "admin@acme.test")
    page.goto(f"{live_server.url}/o/acme/settings/sso/")
    page.get_by_label("Protocol").select_option("saml")
    page.get_by_label("SAML: IdP metadata URL").fill(saml_idp.metadata_url)
    page.get_by_label("Team claim").fill("department")
    page.get_by_label("Roles claim").fill("groups")
    page.get_by_label("Role mapping").fill("advocates = marketer")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Single sign-on settings saved.")).to_be_visible()
    # What to enter at the IdP.
    expect(page.get_by_test_id("saml-metadata-url")).to_have_text(f"{live_server.url}/accounts/saml/acme/metadata/")
    expect(page.get_by_test_id("saml-acs-url")).to_have_text(f"{live_server.url}/accounts/saml/acme/acs/")

    page.get_by_role("button", name="Test sign-in").click()
    page.wait_for_url(re.compile(r"/o/acme/settings/sso/$"))
    expect(page.get_by_test_id("sso-test-outcome")).to_contain_text("succeeded")
    mapped = page.get_by_test_id("sso-test-mapped")
    expect(mapped).to_contain_text("nina.newhire@acme.test")
    expect(mapped).to_contain_text("Field Sales")
    expect(mapped).to_contain_text("marketer")
    screenshot(page, "saml-settings-tested")
    assert not User.objects.filter(email="nina.newhire@acme.test").exists()  # a test creates nobody
    assert path_of(page) == "/o/acme/settings/sso/"
