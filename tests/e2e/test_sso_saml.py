"""SAML 2.0 sign-in end to end in Chromium: the e-mail step sends Ada to her company's IdP (a
pysaml2 process on loopback, tests/accounts/saml_idp.py), whose page POSTs the signed Response
to Acme's ACS; she lands signed in, a member provisioned just in time."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from accounts.models import Membership, Provisioning, Role, SsoConfiguration
from tests.accounts.factories import OrganizationFactory, SignupDomainFactory
from tests.e2e.conftest import path_of, screenshot

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
