"""The OAuth round trip through our Django views, against the network emulator over real HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connections as db_connections
from django.urls import reverse
from django.utils import timezone

from accounts import crypto
from accounts.models import Role, SocialConnection
from accounts.services import connections
from tests.accounts.factories import MembershipFactory, OrganizationFactory

SECRET = {"linkedin": "li-secret", "x": "x-secret", "facebook": "fb-secret"}


@pytest.fixture
def emulator(network_emulator, settings):
    """A clean emulator with one app per network, and our settings pointing at it."""
    network_emulator.reset()
    apps = {}
    for network in ("linkedin", "x", "facebook"):
        setattr(settings, f"{network.upper()}_ORIGIN", network_emulator.origin(network))
        client_id = f"test-{network}-app"
        apps[network] = (client_id, SECRET[network])
        network_emulator.register_app(
            network, client_id, SECRET[network], [settings.SITE_URL + f"/connections/callback/{network}/"]
        )
    settings.NETWORK_APPS = apps
    return network_emulator


@pytest.fixture
def member(db):
    return MembershipFactory(organization=OrganizationFactory(slug="acme"), roles=[Role.EMPLOYEE])


def start(client, network: str) -> str:
    response = client.post(reverse("connection_start", kwargs={"org_slug": "acme", "network": network}))
    assert response.status_code == 302, response.content
    return response["Location"]


def consent(authorize_url: str) -> str:
    """The browser at the network: auto-approved, it is sent back to our callback."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=10)
    assert response.status_code in (302, 303), response.text[:500]
    parts = urlsplit(response.headers["Location"])
    return f"{parts.path}?{parts.query}"


def connect(client, emulator, network: str, **account) -> tuple[dict, object]:
    remote = emulator.create_account(network, **{"name": "Emma Employee", **account})
    emulator.auto_approve(network, remote["id"])
    return remote, client.get(consent(start(client, network)))


@pytest.mark.parametrize("network", ["linkedin", "x"])
def test_connecting_stores_the_account_with_encrypted_tokens(client, member, emulator, network):
    client.force_login(member.user)
    authorize = start(client, network)
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(emulator.origin(network))
    assert query["state"][0] in client.session[connections.SESSION_KEY]
    if network == "x":
        assert query["code_challenge_method"] == ["S256"] and "code_verifier" not in query
    remote = emulator.create_account(network, name="Emma Employee", username="emma")
    emulator.auto_approve(network, remote["id"])
    response = client.get(consent(authorize))
    assert response["Location"] == "/o/acme/connections/"
    connection = SocialConnection.objects.for_org(member.organization).get(network=network)
    assert (connection.remote_id, connection.name, connection.status) == (remote["id"], "Emma Employee", "active")
    issued = [t["token"] for t in emulator.state()["tokens"] if t["network"] == network and t["kind"] == "access"]
    assert connection.access_token == issued[-1]
    assert connection.expires_at > timezone.now() + timedelta(minutes=100)
    if network == "x":
        assert connection.refresh_token, "offline.access gives X a refresh token"
    assert not client.session[connections.SESSION_KEY], "the state was used up"


def test_facebook_connects_the_profile_for_assisted_share_and_offers_pages(client, member, emulator):
    client.force_login(member.user)
    _, response = connect(
        client,
        emulator,
        "facebook",
        pages=[
            {"name": "Acme Paris", "tasks": ["CREATE_CONTENT", "MODERATE"]},
            {"name": "Fan club", "tasks": ["ANALYZE"]},
        ],
    )
    assert response["Location"] == "/o/acme/connections/facebook/pages/"
    rows = {c.name: c for c in SocialConnection.objects.for_org(member.organization).filter(network="facebook")}
    assert rows["Emma Employee"].can_post is False, "no app may post on a personal timeline"
    assert rows["Acme Paris"].can_post and not rows["Acme Paris"].is_selected
    assert rows["Fan club"].can_post is False
    picked = client.post(reverse("facebook_pages", kwargs={"org_slug": "acme"}), {"pages": [rows["Acme Paris"].pk]})
    assert picked.status_code == 302
    assert SocialConnection.objects.for_org(member.organization).get(name="Acme Paris").is_selected


def test_a_tampered_state_is_refused_and_changes_nothing(client, member, emulator):
    client.force_login(member.user)
    remote = emulator.create_account("linkedin", name="Emma")
    emulator.auto_approve("linkedin", remote["id"])
    callback = consent(start(client, "linkedin")).replace("state=", "state=x")
    response = client.get(callback, follow=True)
    assert b"not valid any more" in response.content
    assert not SocialConnection.objects.for_org(member.organization).exists()


def test_denied_consent_says_so_and_changes_nothing(client, member, emulator):
    client.force_login(member.user)
    emulator.auto_approve("x", None, deny=True)
    response = client.get(consent(start(client, "x")), follow=True)
    assert b"You did not allow access on X" in response.content
    assert not SocialConnection.objects.for_org(member.organization).exists()


def test_a_replayed_code_is_refused_by_the_network_and_the_old_tokens_stay(client, member, emulator):
    client.force_login(member.user)
    remote = emulator.create_account("x", name="Emma")
    emulator.auto_approve("x", remote["id"])
    first_callback = consent(start(client, "x"))
    client.get(first_callback)
    before = SocialConnection.objects.for_org(member.organization).get()
    # A new attempt, but the old code is sent back with the new state: the network refuses it.
    new_state = parse_qs(urlsplit(start(client, "x")).query)["state"][0]
    old_code = parse_qs(urlsplit(first_callback).query)["code"][0]
    response = client.get(f"/connections/callback/x/?state={new_state}&code={old_code}", follow=True)
    assert b"did not complete the connection" in response.content
    after = SocialConnection.objects.for_org(member.organization).get()
    assert (after.access_token, after.refresh_token) == (before.access_token, before.refresh_token)


def test_the_pkce_verifier_is_kept_encrypted_in_the_session(client, member, emulator):
    client.force_login(member.user)
    authorize = start(client, "x")
    challenge = parse_qs(urlsplit(authorize).query)["code_challenge"][0]
    [pending] = client.session[connections.SESSION_KEY].values()
    stored = pending["verifier"]
    plain = crypto.decrypt(stored)
    digest = base64.urlsafe_b64encode(hashlib.sha256(plain.encode()).digest()).rstrip(b"=").decode()
    assert digest == challenge, "the stored value is the verifier of this request's challenge"
    assert plain not in stored and plain not in json.dumps(dict(client.session))


def test_a_wrong_pkce_verifier_is_refused(client, member, emulator):
    client.force_login(member.user)
    remote = emulator.create_account("x", name="Emma")
    emulator.auto_approve("x", remote["id"])
    callback = consent(start(client, "x"))
    session = client.session
    pending = session[connections.SESSION_KEY]
    for value in pending.values():
        value["verifier"] = crypto.encrypt("a" * 64)  # not the one whose challenge the network holds
    session[connections.SESSION_KEY] = pending
    session.save()
    response = client.get(callback, follow=True)
    assert b"did not complete the connection" in response.content
    assert not SocialConnection.objects.for_org(member.organization).exists()


def test_reconnecting_updates_the_same_row_and_leaves_other_connections_alone(client, member, emulator):
    client.force_login(member.user)
    remote, _ = connect(client, emulator, "linkedin")
    connect(client, emulator, "x")
    first = SocialConnection.objects.for_org(member.organization).get(network="linkedin")
    x_before = SocialConnection.objects.for_org(member.organization).get(network="x")
    connections.mark_needs_reconnect(first, "revoked")
    emulator.auto_approve("linkedin", remote["id"])
    client.get(consent(start(client, "linkedin")))
    again = SocialConnection.objects.for_org(member.organization).get(network="linkedin")
    assert again.pk == first.pk and again.status == "active" and again.access_token != first.access_token
    x_after = SocialConnection.objects.for_org(member.organization).get(network="x")
    assert (x_after.access_token, x_after.updated_at) == (x_before.access_token, x_before.updated_at)


def test_x_refresh_rotates_and_stores_the_new_refresh_token(client, member, emulator):
    client.force_login(member.user)
    connect(client, emulator, "x")
    before = SocialConnection.objects.for_org(member.organization).get(network="x")
    after = connections.refresh_connection(connection_id=before.pk, organization_id=member.organization_id, force=True)
    assert after.status == "active"
    assert after.access_token != before.access_token and after.refresh_token != before.refresh_token
    stored = SocialConnection.objects.for_org(member.organization).get(pk=before.pk)
    assert stored.refresh_token == after.refresh_token
    # The spent refresh token is refused by the network: reusing it would break the account.
    response = requests.post(
        emulator.origin("x") + "/2/oauth2/token",
        data={"grant_type": "refresh_token", "refresh_token": before.refresh_token, "client_id": "test-x-app"},
        auth=("test-x-app", SECRET["x"]),
        timeout=10,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_linkedin_without_refresh_tokens_asks_to_reconnect(client, member, emulator):
    client.force_login(member.user)
    connect(client, emulator, "linkedin")
    row = SocialConnection.objects.for_org(member.organization).get()
    done = connections.refresh_connection(connection_id=row.pk, organization_id=member.organization_id, force=True)
    assert done.status == "needs_reconnect" and "reconnect" in done.status_reason


@pytest.mark.django_db(transaction=True)
def test_two_refreshes_at_once_rotate_the_x_token_only_once(client, emulator):
    member = MembershipFactory(organization=OrganizationFactory(slug="acme"), roles=[Role.EMPLOYEE])
    client.force_login(member.user)
    connect(client, emulator, "x")
    row = SocialConnection.objects.for_org(member.organization).get()
    SocialConnection.objects.for_org(member.organization).filter(pk=row.pk).update(
        expires_at=timezone.now() + timedelta(minutes=1)  # due for refresh
    )
    barrier, results = threading.Barrier(2), []

    def refresh():
        try:
            barrier.wait(10)
            results.append(connections.refresh_connection(connection_id=row.pk, organization_id=row.organization_id))
        finally:
            db_connections.close_all()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r.status for r in results] == ["active", "active"]
    final = SocialConnection.objects.for_org(member.organization).get(pk=row.pk)
    assert final.status == "active" and final.refresh_token != row.refresh_token
    access = [t for t in emulator.state()["tokens"] if t["network"] == "x" and t["kind"] == "access"]
    assert len(access) == 2, "one token from connecting, one from exactly one refresh"
    assert final.access_token == access[-1]["token"]
