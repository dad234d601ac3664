"""The withdrawal of a suspended member's connected accounts cannot be lost and cannot wipe
what the member connected again: a broker that is down at the suspension leaves it standing
and the periodic sweep withdraws later; a member reactivated and reconnected while the
withdrawal ran keeps the new tokens (real emulator, real worker)."""

import logging
import os
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from accounts import tasks
from accounts.models import NetworkApp, Role, SocialConnection
from accounts.services import connections
from accounts.services.suspension import reactivate_membership, suspend_membership
from networks.base import client_for
from tests.accounts.factories import OrganizationFactory, SocialConnectionFactory
from tests.conftest import use_broker, wait_for
from tests.content import publishing_setup
from tests.helpers import member
from tests.helpers import org_url as url


@pytest.fixture
def x_app(network_emulator, settings):
    """An organization with an X app on the emulator (no worker: the test runs each step)."""
    network_emulator.reset()
    settings.SITE_URL = publishing_setup.SITE_URL
    settings.X_ORIGIN = network_emulator.origin("x")
    org = OrganizationFactory(slug="acme", name="Acme")
    callback = settings.SITE_URL + "/connections/callback/x/"
    network_emulator.register_app("x", "acme-x-app", publishing_setup.SECRETS["x"], [callback])
    NetworkApp.objects.create(organization=org, network="x", client_id="acme-x-app", client_secret="x-secret")
    return org


def _connect(emulator, membership, remote_id: str) -> SocialConnection:
    """The member connects the X account (the real OAuth round trip)."""
    emulator.auto_approve("x", remote_id)
    session: dict = {}
    start = connections.start_connection(actor=membership, network="x", session=session)
    answer = requests.get(start, allow_redirects=False, timeout=10)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    _, connected = connections.finish_connection(user=membership.user, network="x", session=session, params=params)
    return connected[0]


def _works(org, token: str) -> bool:
    try:
        client_for("x", connections.network_config(org, "x")).profile(access_token=token)
    except Exception:
        return False
    return True


@pytest.mark.django_db
def test_a_member_reactivated_and_reconnected_while_the_withdrawal_ran_keeps_the_new_tokens(network_emulator, x_app):
    emma = member(x_app)
    remote = network_emulator.create_account("x", name="Emma Employee")["id"]
    account = _connect(network_emulator, emma, remote)
    old = account.access_token
    suspend_membership(membership=emma, by="scim:Okta")

    # The order the race runs in: the withdrawal reads the account, then (while it calls X)
    # the member is reactivated and connects again, then it would forget the tokens.
    [read] = connections.accounts_to_withdraw(organization_id=x_app.pk, user_id=emma.user_id)
    reactivate_membership(membership=emma, by="scim:Okta")
    again = _connect(network_emulator, emma, remote)
    assert again.pk == account.pk and again.access_token != old

    assert connections.withdraw_account(read) is None
    account.refresh_from_db()
    assert account.status == SocialConnection.Status.ACTIVE and account.access_token == again.access_token
    assert _works(x_app, account.access_token)
    assert connections.suspended_members_holding_tokens() == []


@pytest.mark.django_db
def test_tokens_connected_again_before_a_second_suspension_are_left_to_the_sweep(network_emulator, x_app):
    emma = member(x_app)
    remote = network_emulator.create_account("x", name="Emma Employee")["id"]
    _connect(network_emulator, emma, remote)
    suspend_membership(membership=emma, by="scim:Okta")
    [read] = connections.accounts_to_withdraw(organization_id=x_app.pk, user_id=emma.user_id)
    reactivate_membership(membership=emma, by="scim:Okta")
    again = _connect(network_emulator, emma, remote)
    suspend_membership(membership=emma, by="scim:Okta")

    # The withdrawal that read the old token does not forget the new one it never withdrew...
    assert connections.withdraw_account(read) == "access withdrawn"
    again.refresh_from_db()
    assert again.status == SocialConnection.Status.ACTIVE and _works(x_app, again.access_token)
    # ... the sweep finds it and withdraws it at X.
    assert connections.suspended_members_holding_tokens() == [(x_app.pk, emma.user_id)]
    assert connections.withdraw_accounts_of_suspended_member(organization_id=x_app.pk, user_id=emma.user_id) == {
        again.pk: "access withdrawn"
    }
    token = again.access_token
    again.refresh_from_db()
    assert again.status == SocialConnection.Status.DISCONNECTED and again.access_token == ""
    assert not _works(x_app, token)
    assert connections.suspended_members_holding_tokens() == []


def test_the_broker_down_at_the_suspension_leaves_it_standing_and_the_sweep_withdraws_later(
    client, transactional_db, worker_process, broker_down, caplog
):
    org = OrganizationFactory(slug="acme", name="Acme")
    admin, emma = member(org, Role.ADMIN), member(org)
    account = SocialConnectionFactory(organization=org, user=emma.user, network="x")
    client.force_login(admin.user)

    with caplog.at_level(logging.ERROR, logger="accounts.services.suspension"):
        done = client.post(url("member_suspend", org, membership_id=emma.pk), {"reason": "left"}, follow=True)

    assert done.status_code == 200 and f"Suspended {emma.user.email}" in done.content.decode()
    emma.refresh_from_db()
    assert emma.is_suspended
    assert "Could not schedule the withdrawal" in caplog.text
    account.refresh_from_db()
    assert account.access_token, "nothing withdrew it yet"

    # The broker is back: the beat's sweep finds the member and the worker withdraws.
    use_broker(os.environ["CELERY_BROKER_URL"])
    assert tasks.withdraw_accounts_of_suspended_members() == 1
    wait_for(
        lambda: SocialConnection.objects.for_org(org).get(pk=account.pk).status == SocialConnection.Status.DISCONNECTED,
        timeout=30,
        message="the sweep's withdrawal",
    )
    account.refresh_from_db()
    assert account.access_token == "" and account.refresh_token == ""
    assert tasks.withdraw_accounts_of_suspended_members() == 0
