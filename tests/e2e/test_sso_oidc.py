"""Single sign-on over OpenID Connect in Chromium, against a real provider process
(oidc-provider-mock, tests/accounts/oidc_provider.py): the admin configures and tests it, turns
it on and requires it; a new person signs in e-mail first, through the provider, and lands in
Acme with the mapped team and role; an existing member is linked, not duplicated; passwords
are refused except to the break-glass admin; a spoilt ID token signs nobody in."""

from __future__ import annotations

import re

import pytest
from allauth.socialaccount.models import SocialAccount
from playwright.sync_api import expect

from accounts.models import Membership, Provisioning, Role, SsoConfiguration, User
from analytics.management.commands.seed_demo import DEMO_PASSWORD
from tests.e2e.conftest import login, path_of, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def through_provider(page, sub: str) -> None:
    """On the provider's own page: sign in as `sub` and come back."""
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.get_by_placeholder("sub").fill(sub)
    with page.expect_navigation(url=re.compile(r"^(?!.*/oauth2/authorize)")):
        page.get_by_role("button", name="Authorize").click()


def email_step(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    step = page.get_by_test_id("email-step")
    step.get_by_label("Email").fill(email)
    step.get_by_role("button", name="Continue").click()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/accounts/login/"))


def test_admin_configures_tests_and_requires_oidc_then_people_sign_in_through_it(
    page, live_server, demo, oidc_provider
):
    oidc_provider.set_user(
        "nina", email="nina.newhire@acme.test", name="Nina Newhire", department="Field Sales", office="Lyon",
        groups=["Marketing"],
    )  # fmt: skip
    oidc_provider.set_user("emma", email="employee@acme.test", name="Emma Employee")

    # 1. The admin fills in the provider from Settings, and runs a test sign-in.
    login(page, live_server, "admin@acme.test")
    page.goto(f"{live_server.url}/o/acme/settings/")
    page.get_by_role("link", name=re.compile("Single sign-on")).click()
    page.get_by_label("Issuer URL").fill(oidc_provider.issuer)
    page.get_by_label("Client id").fill("advocacy-e2e")
    page.get_by_label("Client secret").fill("e2e-client-secret")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Single sign-on settings saved.")).to_be_visible()
    expect(page.get_by_test_id("secret-stored")).to_be_visible()
    assert "e2e-client-secret" not in page.content()
    page.get_by_role("button", name="Test sign-in").click()
    through_provider(page, "nina")
    page.wait_for_url(re.compile(r"/o/acme/settings/sso/$"))
    mapped = page.get_by_test_id("sso-test-mapped")
    expect(mapped).to_contain_text("nina.newhire@acme.test")
    expect(mapped).to_contain_text("Field Sales")
    expect(mapped).to_contain_text("marketer")
    expect(page.get_by_test_id("sso-test-outcome")).to_contain_text("succeeded")
    screenshot(page, "sso-settings-tested")
    assert not User.objects.filter(email="nina.newhire@acme.test").exists()  # a test creates nobody

    # 2. Enabled and required, with the admin as break-glass.
    page.get_by_label(re.compile("^Enabled")).check()
    page.get_by_label(re.compile("^SSO required")).check()
    page.get_by_label("admin@acme.test").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Single sign-on settings saved.")).to_be_visible()
    config = SsoConfiguration.objects.for_org(demo).get()
    assert config.is_enabled and config.sso_required
    sign_out(page)

    # 3. A new person: e-mail first, the provider, back signed in, provisioned just in time.
    email_step(page, live_server, "nina.newhire@acme.test")
    through_provider(page, "nina")
    page.wait_for_url(re.compile(r"/o/acme/"))
    assert path_of(page).startswith("/o/acme/")
    nina = Membership.objects.for_org(demo).select_related("user").get(user__email="nina.newhire@acme.test")
    assert nina.provisioned_via == Provisioning.SSO
    assert Role.MARKETER in nina.roles
    assert {t.name for t in nina.teams.all()} == {"Field Sales", "Lyon"}
    screenshot(page, "sso-signed-in")
    sign_out(page)

    # 4. An existing member: linked to her account, not duplicated.
    emma = User.objects.get(email="employee@acme.test")
    email_step(page, live_server, "employee@acme.test")
    through_provider(page, "emma")
    page.wait_for_url(re.compile(r"/o/acme/"))
    assert User.objects.filter(email__iexact="employee@acme.test").count() == 1
    assert SocialAccount.objects.get(provider="org-acme", uid="emma").user == emma
    sign_out(page)

    # 5. Her password no longer works; the break-glass admin's still does.
    page.goto(f"{live_server.url}/accounts/login/?with=password")
    form = page.locator("form[action$='/accounts/login/']")
    form.get_by_label("Email").fill("employee@acme.test")
    form.get_by_label("Password", exact=False).first.fill(DEMO_PASSWORD)
    form.get_by_role("button", name=re.compile(r"sign in", re.I)).click()
    expect(page.locator(".form-errors, .errorlist").first).to_contain_text("Acme signs you in with its company sign-in")
    # The e-mail step sends every acme.test address to the provider (it tells nobody who is
    # break-glass); the break-glass admin takes "Sign in with a password instead".
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Sign in with a password instead").click()
    form = page.locator("form[action$='/accounts/login/']")
    form.get_by_label("Email").fill("admin@acme.test")
    form.get_by_label("Password", exact=False).first.fill(DEMO_PASSWORD)
    with page.expect_navigation():
        form.get_by_role("button", name=re.compile(r"sign in", re.I)).click()
    assert path_of(page).startswith("/o/acme")


def test_a_spoilt_id_token_signs_nobody_in(page, live_server, demo, oidc_provider):
    SsoConfiguration.objects.for_org(demo).update(
        oidc_issuer=oidc_provider.issuer, is_enabled=True, oidc_client_id="advocacy-e2e"
    )
    oidc_provider.set_user("mo", email="mo@acme.test")
    reasons = {
        "wrong_nonce": "its nonce does not match",
        "wrong_audience": "wrong audience",
        "expired": "the ID token has expired",
    }
    for fault, reason in reasons.items():
        oidc_provider.fault(fault)
        email_step(page, live_server, "mo@acme.test")
        through_provider(page, "mo")
        page.wait_for_url(re.compile(r"/accounts/login/$"))
        expect(page.locator(".message-error").first).to_contain_text(reason)
        assert not User.objects.filter(email="mo@acme.test").exists(), fault
    oidc_provider.fault("")
    email_step(page, live_server, "mo@acme.test")
    through_provider(page, "mo")
    page.wait_for_url(re.compile(r"/o/acme/"))
    assert User.objects.filter(email="mo@acme.test").exists()
