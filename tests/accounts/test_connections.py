"""Connected accounts without the network: encryption at rest, settings, health, state checks."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core import mail
from django.core.management import call_command
from django.db import connection as db
from django.urls import reverse
from django.utils import timezone

from accounts.models import NetworkApp, Role, SocialConnection
from accounts.services import connections
from advocacy.errors import ValidationFailed
from tests.accounts.factories import (
    MembershipFactory,
    NetworkAppFactory,
    OrganizationFactory,
    SocialConnectionFactory,
    acting,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def member():
    return MembershipFactory(organization=OrganizationFactory(slug="acme"), roles=[Role.EMPLOYEE])


def raw_row(table: str, pk: int) -> str:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        return " ".join(str(v) for v in cursor.fetchone())


def test_the_database_never_holds_a_token_or_secret_in_plain_text(member):
    conn = SocialConnectionFactory(
        organization=member.organization,
        user=member.user,
        access_token="plain-access-XYZ",
        refresh_token="plain-refresh-XYZ",
    )
    app = NetworkAppFactory(organization=member.organization, client_secret="plain-secret-XYZ")
    assert "plain-" not in raw_row("accounts_socialconnection", conn.pk)
    assert "plain-" not in raw_row("accounts_networkapp", app.pk)
    fresh = SocialConnection.objects.for_org(member.organization).get(pk=conn.pk)
    assert (fresh.access_token, fresh.refresh_token) == ("plain-access-XYZ", "plain-refresh-XYZ")


def test_key_rotation_reencrypts_every_secret(member, settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    conn = SocialConnectionFactory(organization=member.organization, user=member.user, access_token="tok-1")
    app = NetworkAppFactory(organization=member.organization, client_secret="sec-1")
    settings.TOKEN_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.TOKEN_ENCRYPTION_KEYS = [new]  # the old key is gone now
    assert SocialConnection.objects.for_org(member.organization).get(pk=conn.pk).access_token == "tok-1"
    assert NetworkApp.objects.for_org(member.organization).get(pk=app.pk).client_secret == "sec-1"


def test_network_config_prefers_the_orgs_app_then_the_deployments(member, settings):
    settings.NETWORK_APPS = {"linkedin": ("deploy-id", "deploy-secret"), "x": ("", ""), "facebook": ("", "")}
    org = member.organization
    assert connections.network_config(org, "linkedin").client_id == "deploy-id"
    assert connections.network_config(org, "x") is None, "no app anywhere: assisted share only"
    connections.update_network_app(
        actor=acting(org), network="x", is_enabled=True, client_id="org-x", client_secret="org-x-secret"
    )
    config = connections.network_config(org, "x")
    assert (config.client_id, config.client_secret) == ("org-x", "org-x-secret")
    assert config.redirect_uri.endswith("/connections/callback/x/")
    connections.update_network_app(
        actor=acting(org), network="linkedin", is_enabled=False, client_id="", client_secret=""
    )
    assert connections.network_config(org, "linkedin") is None


def test_a_client_id_needs_a_secret_and_the_secret_is_kept_when_left_empty(member):
    org = member.organization
    with pytest.raises(ValidationFailed, match="client secret"):
        connections.update_network_app(actor=acting(org), network="x", is_enabled=True, client_id="a", client_secret="")
    connections.update_network_app(actor=acting(org), network="x", is_enabled=True, client_id="a", client_secret="s")
    connections.update_network_app(actor=acting(org), network="x", is_enabled=False, client_id="a", client_secret="")
    app = NetworkApp.objects.for_org(org).get(network="x")
    assert (app.is_enabled, app.client_secret) == (False, "s")


def test_x_api_key_needs_its_secret_reaches_the_config_and_goes_with_the_client_id(member):
    org = member.organization

    def save(**fields):
        base = {"is_enabled": True, "client_id": "org-x", "client_secret": "", "api_key": "", "api_secret": ""}
        connections.update_network_app(actor=acting(org), network="x", **{**base, **fields})

    save(client_secret="org-x-secret")
    with pytest.raises(ValidationFailed, match="API Key Secret"):
        save(api_key="key-1")
    save(api_key="key-1", api_secret="key-secret")
    save(api_key="key-1")  # the secret is kept when left empty
    config = connections.network_config(org, "x")
    assert (config.app_key, config.app_secret) == ("key-1", "key-secret")
    save(client_id="", api_key="key-1")  # back to the deployment's app: its own keys go too
    app = NetworkApp.objects.for_org(org).get(network="x")
    assert (app.api_key, app.api_secret) == ("", "")


def test_network_settings_page_never_shows_the_secret(client, member):
    admin = MembershipFactory(organization=member.organization, roles=[Role.ADMIN])
    client.force_login(admin.user)
    page = client.post(
        reverse("network_settings", kwargs={"org_slug": "acme"}),
        {
            "network": "x",
            "x-is_enabled": "on",
            "x-client_id": "abc",
            "x-client_secret": "TOPSECRET",
            "x-api_key": "KEY-1",
            "x-api_secret": "KEYSECRET",
        },
    )
    assert page.status_code == 302
    body = client.get(reverse("network_settings", kwargs={"org_slug": "acme"})).content.decode()
    assert "abc" in body and "KEY-1" in body and "TOPSECRET" not in body and "KEYSECRET" not in body
    assert client.get(reverse("network_settings", kwargs={"org_slug": "acme"})).status_code == 200
    client.force_login(member.user)
    assert client.get(reverse("network_settings", kwargs={"org_slug": "acme"})).status_code == 403


def test_health_says_what_to_do(member):
    now = timezone.now()
    active = SocialConnectionFactory(
        organization=member.organization, user=member.user, expires_at=now + timedelta(days=30)
    )
    expiring = SocialConnectionFactory(
        organization=member.organization, user=member.user, expires_at=now + timedelta(days=3)
    )
    refreshable = SocialConnectionFactory(
        organization=member.organization,
        user=member.user,
        network="x",
        refresh_token="r",
        expires_at=now + timedelta(minutes=30),
    )
    revoked = SocialConnectionFactory(
        organization=member.organization,
        user=member.user,
        status="needs_reconnect",
        status_reason="LinkedIn asks you to reconnect.",
    )
    assert connections.connection_health(active)[0] == "active"
    state, words = connections.connection_health(expiring)
    assert state == "expiring" and f"{expiring.expires_at:%-d %B %Y}" in words
    assert connections.connection_health(refreshable)[0] == "active", "X renews itself"
    assert connections.connection_health(revoked) == ("needs_reconnect", "LinkedIn asks you to reconnect.")


def test_expiry_warning_is_sent_once_and_only_for_tokens_that_cannot_renew(member):
    now = timezone.now()
    SocialConnectionFactory(organization=member.organization, user=member.user, expires_at=now + timedelta(days=5))
    SocialConnectionFactory(organization=member.organization, user=member.user, expires_at=now + timedelta(days=40))
    SocialConnectionFactory(
        organization=member.organization,
        user=member.user,
        network="x",
        refresh_token="r",
        expires_at=now + timedelta(days=1),
    )
    assert connections.warn_expiring_connections() == 1
    assert connections.warn_expiring_connections() == 0
    assert mail.outbox[0].to == [member.user.email] and "/o/acme/connections/" in mail.outbox[0].body


def test_a_replayed_or_foreign_state_changes_nothing(member, client):
    conn = SocialConnectionFactory(organization=member.organization, user=member.user, access_token="keep-me")
    session = {connections.SESSION_KEY: {}}
    with pytest.raises(ValidationFailed, match="not valid any more"):
        connections.finish_connection(
            user=member.user, network="linkedin", session=session, params={"state": "forged", "code": "x"}
        )
    client.force_login(member.user)
    response = client.get(
        reverse("connection_callback", kwargs={"network": "linkedin"}) + "?state=a&code=b", follow=True
    )
    assert b"not valid any more" in response.content
    assert SocialConnection.objects.for_org(member.organization).get(pk=conn.pk).access_token == "keep-me"


def test_choosing_pages_only_among_ones_own_that_allow_posting(member):
    profile = SocialConnectionFactory(
        organization=member.organization, user=member.user, network="facebook", can_post=False
    )
    mine = SocialConnectionFactory(
        organization=member.organization,
        user=member.user,
        network="facebook",
        kind="page",
        parent=profile,
        is_selected=False,
    )
    readonly = SocialConnectionFactory(
        organization=member.organization,
        user=member.user,
        network="facebook",
        kind="page",
        parent=profile,
        is_selected=False,
        can_post=False,
    )
    someone_elses = SocialConnectionFactory(organization=member.organization, network="facebook", kind="page")
    with pytest.raises(ValidationFailed, match="not one of yours"):
        connections.select_pages(actor=member, page_ids=[someone_elses.pk])
    with pytest.raises(ValidationFailed, match="may not create posts"):
        connections.select_pages(actor=member, page_ids=[readonly.pk])
    assert connections.select_pages(actor=member, page_ids=[mine.pk]) == [mine]


def test_disconnect_forgets_tokens_of_the_account_and_its_pages_only(client, member):
    fb = SocialConnectionFactory(organization=member.organization, user=member.user, network="facebook")
    page = SocialConnectionFactory(
        organization=member.organization, user=member.user, network="facebook", kind="page", parent=fb
    )
    other = SocialConnectionFactory(organization=member.organization, user=member.user, network="x")
    client.force_login(member.user)
    client.post(reverse("connection_disconnect", kwargs={"org_slug": "acme", "social_connection_id": fb.pk}))
    rows = {c.pk: c for c in SocialConnection.objects.for_org(member.organization)}
    assert rows[fb.pk].status == rows[page.pk].status == "disconnected"
    assert rows[fb.pk].access_token == rows[page.pk].access_token == ""
    assert rows[other.pk].status == "active" and rows[other.pk].access_token


def test_connections_page_and_api_never_show_a_token(client, member):
    SocialConnectionFactory(
        organization=member.organization, user=member.user, access_token="SEEKRIT", refresh_token="SEEKRIT2"
    )
    client.force_login(member.user)
    page = client.get(reverse("connections", kwargs={"org_slug": "acme"})).content.decode()
    api = client.get("/api/v1/o/acme/connections/").content.decode()
    assert "SEEKRIT" not in page and "SEEKRIT" not in api
    assert '"health":"active"' in api.replace(" ", "")


def test_colleagues_cannot_see_or_disconnect_each_others_accounts(client, member):
    colleague = MembershipFactory(organization=member.organization)
    theirs = SocialConnectionFactory(organization=member.organization, user=colleague.user)
    client.force_login(member.user)
    assert client.get(f"/api/v1/o/acme/connections/{theirs.pk}/").status_code == 404
    assert client.delete(f"/api/v1/o/acme/connections/{theirs.pk}/").status_code == 404
    response = client.post(
        reverse("connection_disconnect", kwargs={"org_slug": "acme", "social_connection_id": theirs.pk})
    )
    assert response.status_code == 404
    assert SocialConnection.objects.for_org(member.organization).get(pk=theirs.pk).status == "active"


def test_connections_page_query_count_is_fixed(client, member):
    from django.test.utils import CaptureQueriesContext

    client.force_login(member.user)
    path = reverse("connections", kwargs={"org_slug": "acme"})
    client.get(path)
    counts = []
    for _ in range(2):
        for network in ("linkedin", "x", "facebook"):
            SocialConnectionFactory(organization=member.organization, user=member.user, network=network)
        with CaptureQueriesContext(db) as ctx:
            assert client.get(path).status_code == 200
        counts.append(len(ctx))
    # session, user, membership, connections, network apps, org switcher, unread notifications
    assert counts == [7, 7]


def test_the_refresh_sweep_picks_only_active_refreshable_tokens_about_to_expire(member):
    soon, later = timezone.now() + timedelta(minutes=5), timezone.now() + timedelta(hours=2)
    due = SocialConnectionFactory(
        organization=member.organization, user=member.user, network="x", refresh_token="r1", expires_at=soon
    )
    SocialConnectionFactory(
        organization=member.organization, user=member.user, network="x", refresh_token="r2", expires_at=later
    )
    SocialConnectionFactory(organization=member.organization, user=member.user, expires_at=soon)  # no refresh
    SocialConnectionFactory(
        organization=member.organization,
        user=member.user,
        network="x",
        refresh_token="r3",
        expires_at=soon,
        status="needs_reconnect",
    )
    assert list(connections.connections_due_for_refresh()) == [(due.pk, member.organization_id)]


def test_network_settings_page_reads_the_apps_once(client, member):
    from django.test.utils import CaptureQueriesContext

    admin = MembershipFactory(organization=member.organization, roles=[Role.ADMIN])
    client.force_login(admin.user)
    with CaptureQueriesContext(db) as ctx:
        assert client.get(reverse("network_settings", kwargs={"org_slug": "acme"})).status_code == 200
    assert sum("accounts_networkapp" in q["sql"] for q in ctx.captured_queries) == 1
