"""Facebook Page tokens (issue 14, point 5): a Page token Facebook refuses is read again
from /me/accounts with the member's user token, never exchanged as if it were a user
token; a user token Facebook refuses asks the employee to reconnect. Real HTTP against
the network emulator, accounts connected through our real OAuth round trip."""

from __future__ import annotations

import pytest
import requests

from accounts.models import NetworkApp, Notification, SocialConnection
from accounts.services import connections
from content.services import publishing
from networks.base import client_for
from networks.errors import TokenExpired
from tests.accounts import test_connections_oauth as oauth
from tests.accounts.factories import OrganizationFactory
from tests.accounts.test_connections_oauth import SECRET, connect
from tests.content import publishing_setup

# Fixtures shared with the OAuth round-trip tests.
emulator, member = oauth.emulator, oauth.member

GRAPH = "/v24.0"


def connect_page(client, member, emulator, tasks=("CREATE_CONTENT", "MANAGE")):
    """Emma connects Facebook with one Page: (the emulator account, member row, Page row)."""
    client.force_login(member.user)
    remote, _ = connect(client, emulator, "facebook", pages=[{"name": "Acme Paris", "tasks": list(tasks)}])
    rows = SocialConnection.objects.for_org(member.organization).filter(network="facebook")
    return remote, rows.get(kind="member"), rows.get(kind="page")


def facebook_client(organization):
    return client_for("facebook", connections.network_config(organization, "facebook"))


def tokens_on_the_emulator(emulator) -> dict[str, dict]:
    return {t["token"]: t for t in emulator.state()["tokens"] if t["network"] == "facebook"}


def page_post(emulator, page_id: str, token: str, message: str) -> requests.Response:
    return requests.post(
        f"{emulator.origin('facebook')}{GRAPH}/{page_id}/feed",
        data={"message": message, "access_token": token},
        timeout=10,
    )


def refresh(row: SocialConnection) -> SocialConnection:
    return connections.refresh_connection(connection_id=row.pk, organization_id=row.organization_id, force=True)


def test_a_page_token_refused_with_190_is_read_again_from_me_accounts(client, member, emulator):
    _, person, page = connect_page(client, member, emulator)
    exchanges_before = emulator.state()["counters"]["facebook"]["refreshes"]
    emulator.fault("facebook", "expire_token", account_id=page.remote_id)
    with pytest.raises(TokenExpired):  # the Page post gets 190 (subcode 463)
        facebook_client(member.organization).publish(
            access_token=page.access_token, author_id=page.remote_id, text="Wind farm open day"
        )

    refreshed = refresh(page)

    assert refreshed.status == SocialConnection.Status.ACTIVE and refreshed.access_token != page.access_token
    stored = SocialConnection.objects.for_org(member.organization).get(pk=page.pk)
    assert stored.access_token == refreshed.access_token and stored.status == "active"
    issued = tokens_on_the_emulator(emulator)[stored.access_token]
    assert issued["page_id"] == page.remote_id and issued["expires_at"] is None, "a Page token that does not expire"
    assert page_post(emulator, page.remote_id, stored.access_token, "Wind farm open day").status_code == 200
    person_after = SocialConnection.objects.for_org(member.organization).get(pk=person.pk)
    assert (person_after.access_token, person_after.status) == (person.access_token, "active")
    assert emulator.state()["counters"]["facebook"]["refreshes"] == exchanges_before, "no fb_exchange_token call"


def test_a_revoked_user_token_asks_to_reconnect_both_rows_and_tells_the_employee(client, member, emulator):
    remote, person, page = connect_page(client, member, emulator)
    emulator.fault("facebook", "revoked", account_id=remote["id"])  # a password change: 190/460

    refreshed = refresh(page)

    rows = {c.kind: c for c in SocialConnection.objects.for_org(member.organization).filter(network="facebook")}
    assert refreshed.status == SocialConnection.Status.NEEDS_RECONNECT
    assert (rows["member"].status, rows["page"].status) == ("needs_reconnect", "needs_reconnect")
    assert "Reconnect Facebook" in rows["page"].status_reason and "Acme Paris" in rows["page"].status_reason
    assert rows["page"].access_token == page.access_token, "nothing else was stored on the Page row"
    assert connections.connection_health(rows["page"])[0] == "needs_reconnect"
    [notice] = Notification.objects.for_org(member.organization).filter(
        user=member.user, kind="connection_needs_reconnect"
    )
    assert "needs reconnecting" in notice.message and "Reconnect Facebook" in notice.message
    assert notice.url == "/o/acme/connections/"
    assert person.access_token == rows["member"].access_token


def test_a_page_whose_member_must_reconnect_is_not_left_active(client, member, emulator):
    _, person, page = connect_page(client, member, emulator)
    connections.mark_needs_reconnect(person, "Facebook asks you to reconnect.")

    assert refresh(page).status == SocialConnection.Status.NEEDS_RECONNECT
    stored = SocialConnection.objects.for_org(member.organization).get(pk=page.pk)
    assert stored.status == "needs_reconnect" and "Reconnect Facebook" in stored.status_reason


def test_a_page_without_create_content_needs_reconnect_with_the_reason(client, member, emulator):
    _, person, page = connect_page(client, member, emulator, tasks=("ANALYZE",))

    refreshed = refresh(page)

    assert refreshed.status == SocialConnection.Status.NEEDS_RECONNECT
    assert "CREATE_CONTENT" in refreshed.status_reason and "Acme Paris" in refreshed.status_reason
    assert SocialConnection.objects.for_org(member.organization).get(pk=person.pk).status == "active"


def test_a_page_no_longer_managed_needs_reconnect_with_the_reason(client, member, emulator):
    _, person, page = connect_page(client, member, emulator)
    # The row names a Page that /me/accounts does not list (the member lost their role on it).
    SocialConnection.objects.for_org(member.organization).filter(pk=page.pk).update(remote_id="100000000000001")

    refreshed = refresh(page)

    assert refreshed.status == SocialConnection.Status.NEEDS_RECONNECT
    assert "no longer among the Pages you manage" in refreshed.status_reason
    assert SocialConnection.objects.for_org(member.organization).get(pk=person.pk).status == "active"


def test_the_emulator_is_as_strict_as_graph_about_page_and_user_tokens(client, member, emulator):
    remote, person, page = connect_page(client, member, emulator)
    refused = page_post(emulator, page.remote_id, person.access_token, "Posted with a user token")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == 200, "(#200): a Page token is needed"
    exchange = requests.get(
        f"{emulator.origin('facebook')}{GRAPH}/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": "test-facebook-app",
            "client_secret": SECRET["facebook"],
            "fb_exchange_token": page.access_token,
        },
        timeout=10,
    )
    assert exchange.status_code == 400 and "access_token" not in exchange.json(), "user tokens only"
    # A user token that expires leaves the never-expiring Page token working ...
    emulator.fault("facebook", "expire_token", account_id=remote["id"], path="/me")
    me = requests.get(
        f"{emulator.origin('facebook')}{GRAPH}/me", params={"access_token": person.access_token}, timeout=10
    )
    assert (me.json()["error"]["code"], me.json()["error"]["error_subcode"]) == (190, 463)
    assert page_post(emulator, page.remote_id, page.access_token, "Still mine").status_code == 200
    # ... a password change invalidates both.
    emulator.fault("facebook", "revoked", account_id=page.remote_id)
    gone = page_post(emulator, page.remote_id, page.access_token, "After the password change")
    assert (gone.json()["error"]["code"], gone.json()["error"]["error_subcode"]) == (190, 460)
    accounts = requests.get(
        f"{emulator.origin('facebook')}{GRAPH}/me/accounts", params={"access_token": person.access_token}, timeout=10
    )
    assert accounts.json()["error"]["code"] == 190


@pytest.fixture
def pub(network_emulator, settings, transactional_db):
    """The publishing tests' world (tests/content/publishing_setup.py) for Facebook, without
    their worker (a second session fixture of that name would start a second worker on the
    same queue): the test calls publish() itself, and submitted shares go to a queue no
    worker reads."""
    network_emulator.reset()
    settings.SITE_URL = publishing_setup.SITE_URL
    settings.PUBLISH_QUEUE = "publish-nobody-listens"
    settings.FACEBOOK_ORIGIN = network_emulator.origin("facebook")
    org = OrganizationFactory(slug="acme", name="Acme", timezone="Europe/Paris")
    callback = settings.SITE_URL + "/connections/callback/facebook/"
    network_emulator.register_app("facebook", "acme-facebook-app", SECRET["facebook"], [callback])
    NetworkApp.objects.create(
        organization=org, network="facebook", client_id="acme-facebook-app", client_secret=SECRET["facebook"]
    )
    return publishing_setup.Publishing(network_emulator, None, org)


def test_the_publisher_posts_with_a_page_token_read_again_after_a_190(pub):
    emma = pub.employee()
    page = pub.connect(emma, "facebook")
    person = SocialConnection.objects.for_org(pub.org).get(pk=page.parent_id)
    pub.emulator.fault("facebook", "expire_token", account_id=page.remote_id, path="/feed")
    share = pub.share(emma, [page])

    assert publishing.publish(pub.deliveries(share)[0].pk) == "published"
    page_after = SocialConnection.objects.for_org(pub.org).get(pk=page.pk)
    person_after = SocialConnection.objects.for_org(pub.org).get(pk=person.pk)
    assert page_after.status == "active" and page_after.access_token != page.access_token
    assert (person_after.access_token, person_after.status) == (person.access_token, "active")
    [post] = pub.posts("facebook")
    assert post["author"] == page.remote_id and pub.deliveries(share)[0].remote_id == post["id"]
    assert pub.emulator.state()["counters"]["facebook"]["faults_fired.expire_token"] == 1


def test_a_page_post_refused_because_the_member_changed_password_asks_to_reconnect_both(pub):
    """190/460 on a Page post (Facebook invalidated the user's tokens): the publisher reads
    the Page token again with the user token, which is refused too, so the member and the
    Page both need reconnecting and the delivery waits for it: never a silent "Connected"."""
    emma = pub.employee()
    page = pub.connect(emma, "facebook")
    pub.emulator.fault("facebook", "revoked", path="/feed")
    share = pub.share(emma, [page])

    assert publishing.publish(pub.deliveries(share)[0].pk) == "needs_reconnect"
    rows = SocialConnection.objects.for_org(pub.org).filter(pk__in=[page.pk, page.parent_id])
    assert sorted(rows.values_list("status", flat=True)) == ["needs_reconnect", "needs_reconnect"]
    assert pub.deliveries(share)[0].status == "needs_reconnect"
    assert Notification.objects.for_org(pub.org).filter(user=emma.user, message__contains="Reconnect").exists()
    assert pub.posts("facebook") == []
