"""Single sign-on over OpenID Connect against a real provider process (oidc-provider-mock,
tests/accounts/oidc_provider.py): home-realm discovery, just-in-time provisioning, linking,
the nonce / audience / expiry checks, test sign-in, session lifetime and tenant isolation."""

from __future__ import annotations

import pytest
from allauth.socialaccount.models import SocialAccount
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Provisioning, Role, Team, User
from compliance.models import AuditEntry
from tests.accounts.factories import OrganizationFactory, SignupDomainFactory, SsoConfigurationFactory, UserFactory
from tests.helpers import member

pytestmark = pytest.mark.django_db


def sso_org(provider, slug: str, domain: str, **fields):
    org = OrganizationFactory(slug=slug, name=slug.capitalize())
    SignupDomainFactory(organization=org, domain=domain, verified_at=timezone.now())
    defaults = {
        "oidc_issuer": provider.issuer,
        "is_enabled": True,
        "attribute_mapping": {"team": "department", "location": "office", "roles": "groups"},
        "role_mapping": {"Marketing": "marketer"},
        "session_minutes": 90,
    }
    config = SsoConfigurationFactory(organization=org, **{**defaults, **fields})
    return org, config


@pytest.fixture
def acme(oidc_provider):
    return sso_org(oidc_provider, "acme", "acme.test")


def start(client, email: str):
    """The e-mail step of the sign-in page."""
    return client.post(reverse("sso_discover"), {"login": email})


def sign_in(client, provider, email: str, sub: str | None = None):
    """E-mail step -> the provider (the person signs in there as `sub`) -> back: the answer
    of our callback."""
    response = start(client, email)
    assert response.status_code == 302 and response["Location"].startswith(provider.issuer), response
    back = provider.consent(response["Location"], sub or email)
    return client.get(back)


def signed_in_as(client) -> User | None:
    from django.contrib.auth import get_user

    user = get_user(client)
    return user if user.is_authenticated else None


def test_first_sign_in_provisions_member_with_mapped_team_location_and_role(client, oidc_provider, acme):
    org, _config = acme
    oidc_provider.set_user(
        "ada", email="ada@acme.test", name="Ada Lovelace", department="Engineering", office="London",
        groups=["Marketing", "Unmapped"],
    )  # fmt: skip
    response = sign_in(client, oidc_provider, "ada@acme.test", "ada")
    assert response.status_code == 302
    user = signed_in_as(client)
    assert user is not None and user.email == "ada@acme.test" and user.name == "Ada Lovelace"
    assert not user.has_usable_password()
    membership = Membership.objects.for_org(org).get(user=user)
    assert membership.provisioned_via == Provisioning.SSO
    assert membership.roles == {Role.MARKETER}
    assert {(t.name, t.kind) for t in membership.teams.all()} == {
        ("Engineering", Team.Kind.DEPARTMENT), ("London", Team.Kind.LOCATION),
    }  # fmt: skip
    assert SocialAccount.objects.get(user=user).provider == "org-acme"
    assert AuditEntry.objects.filter(organization_id=org.pk, action="sso.member_provisioned").count() == 1
    # The session lasts what the organization set.
    assert client.session.get_expiry_age() == 90 * 60


def test_default_roles_apply_when_no_mapping_matches(client, oidc_provider):
    org, _config = sso_org(oidc_provider, "initech", "initech.test", default_roles=["employee", "executive"])
    oidc_provider.set_user("bob", email="bob@initech.test", groups=["Nobody"])
    sign_in(client, oidc_provider, "bob@initech.test", "bob")
    membership = Membership.objects.for_org(org).get(user__email="bob@initech.test")
    assert membership.roles == {Role.EMPLOYEE, Role.EXECUTIVE}


def test_existing_user_is_linked_not_duplicated(client, oidc_provider, acme):
    org, _ = acme
    existing = UserFactory(email="grace@acme.test")
    oidc_provider.set_user("grace-sub", email="grace@acme.test", name="Grace")
    sign_in(client, oidc_provider, "grace@acme.test", "grace-sub")
    assert signed_in_as(client) == existing
    assert User.objects.filter(email__iexact="grace@acme.test").count() == 1
    assert existing.has_usable_password()  # her password is hers; SSO-required would take it away
    assert SocialAccount.objects.get(provider="org-acme", uid="grace-sub").user == existing
    assert Membership.objects.for_org(org).filter(user=existing).count() == 1
    # A second sign-in finds the link: still one user, one membership.
    client.logout()
    sign_in(client, oidc_provider, "grace@acme.test", "grace-sub")
    assert signed_in_as(client) == existing
    assert Membership.objects.for_org(org).filter(user=existing).count() == 1


def test_address_outside_the_verified_domains_is_refused(client, oidc_provider, acme):
    org, _ = acme
    victim = UserFactory(email="ceo@globex.test")
    oidc_provider.set_user("mallory", email="ceo@globex.test")
    # The e-mail step routes by acme.test; the provider then claims another company's address.
    response = sign_in(client, oidc_provider, "someone@acme.test", "mallory")
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert signed_in_as(client) is None
    assert not Membership.objects.for_org(org).filter(user=victim).exists()
    assert not SocialAccount.objects.exists()


def test_suspended_membership_is_refused(client, oidc_provider, acme):
    from accounts.services.suspension import suspend_membership

    org, _ = acme
    suspended = member(org, Role.EMPLOYEE)
    suspended.user.email = "gone@acme.test"
    suspended.user.save()
    suspend_membership(membership=suspended, by="admin:test", reason="left")
    oidc_provider.set_user("gone", email="gone@acme.test")
    response = sign_in(client, oidc_provider, "gone@acme.test", "gone")
    assert response["Location"] == reverse("account_login")
    assert signed_in_as(client) is None
    assert any("suspended" in m for m in messages_of(response))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        # Our check (allauth 65.21.1 sends and checks no nonce): accounts.sso.oidc.verify.
        ("wrong_nonce", "its nonce does not match"),
        # allauth's own checks when it decodes the ID token (jwtkit.verify_and_decode).
        ("wrong_audience", "its answer could not be verified (the ID token was issued for another application"),
        ("expired", "its answer could not be verified (the ID token has expired)"),
    ],
)
def test_spoilt_id_tokens_are_refused(client, oidc_provider, acme, fault, said):
    _org, _ = acme
    oidc_provider.set_user("eve", email="eve@acme.test")
    oidc_provider.fault(fault)
    response = sign_in(client, oidc_provider, "eve@acme.test", "eve")
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert any(said in m for m in messages_of(response)), messages_of(response)
    assert signed_in_as(client) is None
    assert not User.objects.filter(email="eve@acme.test").exists()
    assert not SocialAccount.objects.exists()
    # The same person with a sound token gets in: the fault alone made the difference.
    oidc_provider.fault("")
    sign_in(client, oidc_provider, "eve@acme.test", "eve")
    assert signed_in_as(client).email == "eve@acme.test"


def test_callback_in_another_browser_is_refused(client, oidc_provider, acme):
    """A sign-in started in one browser and finished in another: the state (and the nonce) belong
    to the session that started it, so a stolen callback URL signs nobody in."""
    from django.test import Client

    oidc_provider.set_user("ivy", email="ivy@acme.test")
    response = start(client, "ivy@acme.test")
    back = oidc_provider.consent(response["Location"], "ivy")
    other = Client()
    other.get(back)
    assert signed_in_as(other) is None
    assert not User.objects.filter(email="ivy@acme.test").exists()


def test_disabled_configuration_sends_nobody_and_signs_nobody_in(client, oidc_provider):
    _org, _config = sso_org(oidc_provider, "hooli", "hooli.test", is_enabled=False)
    response = start(client, "jo@hooli.test")
    assert response["Location"] == reverse("account_login") + "?email=jo%40hooli.test"
    # Even straight at allauth's login URL (as a person could), nobody signs in.
    response = client.post("/accounts/oidc/org-hooli/login/")
    oidc_provider.set_user("jo", email="jo@hooli.test")
    back = oidc_provider.consent(response["Location"], "jo")
    response = client.get(back)
    assert signed_in_as(client) is None
    assert not User.objects.filter(email="jo@hooli.test").exists()


def test_address_of_no_sso_organization_goes_to_the_password_step(client, oidc_provider, acme):
    response = start(client, "someone@elsewhere.test")
    assert response["Location"] == reverse("account_login") + "?email=someone%40elsewhere.test"
    page = client.get(response["Location"])
    assert b'value="someone@elsewhere.test"' in page.content and b'name="password"' in page.content


def test_test_sign_in_records_mapped_attributes_and_signs_nobody_in(client, oidc_provider):
    org, config = sso_org(oidc_provider, "umbrella", "umbrella.test", is_enabled=False)
    admin = member(org, Role.ADMIN)
    client.force_login(admin.user)
    oidc_provider.set_user("tess", email="tess@umbrella.test", name="Tess", department="Sales", groups=["Marketing"])
    response = client.post(reverse("sso_test", kwargs={"org_slug": org.slug}))
    assert response["Location"].startswith(oidc_provider.issuer)
    response = client.get(oidc_provider.consent(response["Location"], "tess"))
    assert response["Location"] == reverse("sso_settings", kwargs={"org_slug": org.slug})
    assert signed_in_as(client) == admin.user  # still the admin: nobody else signed in
    assert not User.objects.filter(email="tess@umbrella.test").exists()
    config.refresh_from_db()
    assert config.tested_at is not None
    assert config.test_result["ok"] is True
    assert config.test_result["email"] == "tess@umbrella.test"
    assert config.test_result["team"] == "Sales" and config.test_result["roles"] == ["marketer"]
    assert config.test_result["raw"]["department"] == "Sales"
    page = client.get(response["Location"])
    assert b"tess@umbrella.test" in page.content and b"succeeded" in page.content


def test_a_failed_test_sign_in_is_recorded_as_failed(client, oidc_provider):
    org, config = sso_org(oidc_provider, "soylent", "soylent.test", is_enabled=False)
    client.force_login(member(org, Role.ADMIN).user)
    oidc_provider.set_user("x", email="x@soylent.test")
    oidc_provider.fault("wrong_audience")
    response = client.post(reverse("sso_test", kwargs={"org_slug": org.slug}))
    client.get(oidc_provider.consent(response["Location"], "x"))
    config.refresh_from_db()
    assert config.tested_at is not None and config.test_result["ok"] is False


def test_one_organizations_provider_cannot_provision_into_another(client, oidc_provider, acme):
    """org-acme's URLs act for Acme only: a globex.test address signed in there is refused,
    and Globex's own provider URL never lands anybody in Acme."""
    acme_org, _ = acme
    globex, _ = sso_org(oidc_provider, "globex", "globex.test")
    oidc_provider.set_user("gus", email="gus@globex.test")
    response = client.post("/accounts/oidc/org-acme/login/")
    client.get(oidc_provider.consent(response["Location"], "gus"))
    assert signed_in_as(client) is None
    assert not Membership.objects.for_org(globex).exists()
    assert not Membership.objects.for_org(acme_org).exists()
    # Through Globex's own URL the same person joins Globex, and only Globex.
    response = client.post("/accounts/oidc/org-globex/login/")
    client.get(oidc_provider.consent(response["Location"], "gus"))
    assert signed_in_as(client).email == "gus@globex.test"
    assert Membership.objects.for_org(globex).filter(user__email="gus@globex.test").exists()
    assert not Membership.objects.for_org(acme_org).exists()


def test_unknown_organization_provider_url_is_404(client):
    assert client.post("/accounts/oidc/org-nobody/login/").status_code == 404
    assert client.get("/accounts/oidc/org-nobody/login/callback/?code=x&state=y").status_code == 404


def test_email_step_with_a_bad_address_says_so_and_goes_nowhere(client):
    response = start(client, "not an address")
    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert b'data-testid="email-step"' in response.content


def test_a_provider_at_a_private_address_is_not_contacted(client, oidc_provider, settings):
    """An admin-typed issuer cannot reach the deployment's own network: a peer that is not a
    public address is refused on the connected socket (only the allowed local hosts pass)."""
    settings.SSO_HTTP_ISSUER_HOSTS = ["localhost"]
    loopback_issuer = oidc_provider.issuer.replace("//localhost:", "//127.0.0.1:")
    _org, config = sso_org(oidc_provider, "private", "private.test", oidc_issuer=loopback_issuer)
    response = start(client, "pat@private.test")
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert any("cannot be reached" in m for m in messages_of(response))
    # The same provider by an allowed host name is reached.
    config.oidc_issuer = oidc_provider.issuer
    config.save()
    assert start(client, "pat@private.test")["Location"].startswith(oidc_provider.issuer)


@pytest.mark.parametrize("email_verified", [False, "false", None])
def test_an_address_the_provider_does_not_call_verified_signs_nobody_in(client, oidc_provider, acme, email_verified):
    """A provider that does not vouch for the address (email_verified false or missing) cannot
    sign in, link or create the user who owns it here."""
    org, _ = acme
    victim = UserFactory(email="cfo@acme.test")
    oidc_provider.set_user("mallory", email="cfo@acme.test", email_verified=email_verified)
    response = sign_in(client, oidc_provider, "cfo@acme.test", "mallory")
    assert response["Location"] == reverse("account_login")
    assert any("did not confirm that your e-mail address is verified" in m for m in messages_of(response))
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()
    assert not Membership.objects.for_org(org).filter(user=victim).exists()
    oidc_provider.set_user("newcomer", email="new@acme.test", email_verified=email_verified)
    sign_in(client, oidc_provider, "new@acme.test", "newcomer")
    assert not User.objects.filter(email="new@acme.test").exists()
    # Verified, the same address signs in (and links the existing user).
    oidc_provider.set_user("mallory", email="cfo@acme.test", email_verified=True)
    sign_in(client, oidc_provider, "cfo@acme.test", "mallory")
    assert signed_in_as(client) == victim


def test_a_session_the_organizations_provider_started_opens_an_sso_required_organization(client, oidc_provider):
    org, config = sso_org(oidc_provider, "cyberdyne", "cyberdyne.test", sso_required=True)
    config.break_glass.set([member(org, Role.ADMIN)])
    oidc_provider.set_user("kyle", email="kyle@cyberdyne.test")
    sign_in(client, oidc_provider, "kyle@cyberdyne.test", "kyle")
    assert client.get(reverse("content:feed", kwargs={"org_slug": org.slug})).status_code == 200


def test_session_lifetime_is_absolute_and_survives_a_sign_in_from_a_signed_in_session(client, oidc_provider, acme):
    """90 minutes from the sign-in, however active the session: saving it does not renew it.
    A sign-in started while somebody else was signed in (allauth logs that one out) keeps it."""
    import datetime as dt

    import time_machine

    org, _ = acme
    client.force_login(UserFactory())
    oidc_provider.set_user("ada", email="ada@acme.test")
    start_time = timezone.now()
    sign_in(client, oidc_provider, "ada@acme.test", "ada")
    assert signed_in_as(client).email == "ada@acme.test"
    assert client.session.get_expiry_age() == 90 * 60
    feed = reverse("content:feed", kwargs={"org_slug": org.slug})
    with time_machine.travel(start_time + dt.timedelta(minutes=60), tick=False):
        assert client.get(feed).status_code == 200
        session = client.session
        session["touched"] = True  # any write saves the session again
        session.save()
    with time_machine.travel(start_time + dt.timedelta(minutes=91), tick=False):
        response = client.get(feed)
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
        assert signed_in_as(client) is None
        assert any("ended after 90 minutes" in m for m in messages_of(response))


def test_the_email_step_sends_members_break_glass_and_strangers_of_a_domain_alike(client, oidc_provider):
    """Every address of an SSO organization's domain goes to its provider: the answer does not
    tell a member from a stranger or a break-glass admin (who uses "a password instead")."""
    from urllib.parse import parse_qs, urlsplit

    org, config = sso_org(oidc_provider, "wayne", "wayne.test", sso_required=True)
    admin = member(org, Role.ADMIN)
    admin.user.email = "boss@wayne.test"
    admin.user.save()
    config.break_glass.set([admin])
    employee = member(org, Role.EMPLOYEE)
    employee.user.email = "ann@wayne.test"
    employee.user.save()

    def answer(email):
        location = start(client, email)["Location"]
        parts = urlsplit(location)
        query = {k: v for k, v in parse_qs(parts.query).items() if k not in ("state", "nonce", "code_challenge")}
        return parts.netloc, parts.path, tuple(sorted((k, tuple(v)) for k, v in query.items()))

    answers = {email: answer(email) for email in ("boss@wayne.test", "ann@wayne.test", "nobody@wayne.test")}
    assert len(set(answers.values())) == 1, answers
    assert f"{oidc_provider.issuer}".endswith(answers["boss@wayne.test"][0])
    page = client.get(reverse("account_login"))
    assert b"Sign in with a password instead" in page.content


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("foreign_issuer", "names the issuer https://attacker.example, not"),
        ("plain_http_token_endpoint", "token_endpoint must be an https:// URL"),
    ],
)
def test_a_discovery_document_for_another_issuer_or_with_plain_http_endpoints_is_refused(
    client, oidc_provider, acme, fault, said
):
    oidc_provider.set_user("eve", email="eve@acme.test")
    oidc_provider.fault(fault)
    response = start(client, "eve@acme.test")
    assert response.status_code == 302 and response["Location"] == reverse("account_login")
    assert any(said in m for m in messages_of(response)), messages_of(response)
    oidc_provider.fault("")
    assert start(client, "eve@acme.test")["Location"].startswith(oidc_provider.issuer)


def test_a_huge_discovery_document_is_not_read(client, oidc_provider, plain_server):
    from accounts.sso.http import MAX_DOCUMENT_BYTES

    plain_server.answer(200, b"{" + b" " * (MAX_DOCUMENT_BYTES + 10) + b"}")
    sso_org(oidc_provider, "bigco", "bigco.test", oidc_issuer=plain_server.url)
    response = start(client, "ann@bigco.test")
    assert response["Location"] == reverse("account_login")
    assert any("larger than 1024 KB" in m for m in messages_of(response)), messages_of(response)


def test_the_authorize_redirect_carries_a_pkce_s256_challenge(client, oidc_provider, acme):
    from urllib.parse import parse_qs, urlsplit

    query = parse_qs(urlsplit(start(client, "ada@acme.test")["Location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43  # base64url of a SHA-256 digest


def test_a_nonce_is_accepted_once(rf):
    """The one-use rule of accounts.sso.oidc.verify: the same ID token (same nonce) a second
    time is refused, though this session asked for that nonce."""
    from allauth.socialaccount.models import SocialApp, SocialLogin
    from django.contrib.sessions.backends.db import SessionStore

    from accounts.sso import oidc

    request = rf.post("/")
    request.session = SessionStore()
    app = SocialApp(provider="openid_connect", provider_id="org-acme", settings={})
    oidc.ask_for_nonce(request, app)
    claims = {"nonce": app.settings["auth_params"]["nonce"], "email_verified": True}
    login = SocialLogin(account=SocialAccount(provider="org-acme", extra_data={"id_token": claims}))
    assert oidc.verify(request, login) is None
    assert "its nonce does not match" in oidc.verify(request, login)


def test_a_provider_account_linked_to_one_address_cannot_sign_in_as_another(client, oidc_provider, acme):
    org, _ = acme
    grace = UserFactory(email="grace@acme.test")
    other = UserFactory(email="other@acme.test")
    oidc_provider.set_user("grace-sub", email="grace@acme.test")
    sign_in(client, oidc_provider, "grace@acme.test", "grace-sub")
    assert signed_in_as(client) == grace
    client.logout()
    # The provider now says the same subject is somebody else here.
    oidc_provider.set_user("grace-sub", email="other@acme.test")
    response = sign_in(client, oidc_provider, "other@acme.test", "grace-sub")
    assert response["Location"] == reverse("account_login")
    assert any("linked to another address than other@acme.test" in m for m in messages_of(response))
    assert signed_in_as(client) is None
    assert not Membership.objects.for_org(org).filter(user=other).exists()
