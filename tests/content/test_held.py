"""A suspended member's posts on their way out are held (issue 20): the publisher and the
sweeper leave them alone, the admin sees them listed and releases or cancels each; their
connected accounts are withdrawn at the networks that allow it, after the suspension
committed, by the real worker against the emulator."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Membership, Role, SocialConnection
from accounts.services import connections
from accounts.services.suspension import reactivate_membership, suspend_membership
from advocacy.errors import Conflict
from compliance.models import AuditEntry
from compliance.selectors.queue import open_tasks
from content.models import Delivery, Share
from content.services import held, publishing
from content.services.sharing import submit_share
from networks import errors as net
from networks.base import client_for
from tests.accounts.factories import MembershipFactory, OrganizationFactory, SocialConnectionFactory
from tests.compliance.factories import LexiconTermFactory
from tests.conftest import wait_for
from tests.content.factories import ContentItemFactory, DeliveryFactory, ShareFactory
from tests.content.publishing_setup import make_due
from tests.helpers import member
from tests.helpers import org_url as url

S = Share.Status
LATER = timedelta(days=2)


def _client(org, network):
    return client_for(network, connections.network_config(org, network))


def _reconnect(pub, membership, network: str, remote_id: str) -> None:
    """The member connects the same network account again (the real OAuth round trip)."""
    pub.emulator.auto_approve(network, remote_id)
    session: dict = {}
    start = connections.start_connection(actor=membership, network=network, session=session)
    answer = requests.get(start, allow_redirects=False, timeout=10)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
    connections.finish_connection(user=membership.user, network=network, session=session, params=params)


def test_a_held_post_is_not_published_accounts_are_withdrawn_and_only_a_release_sends_it(pub, worker_process):
    emma = pub.employee("emma@acme.com")
    admin = MembershipFactory(organization=pub.org, roles=[Role.ADMIN])
    x = pub.connect(emma, "x")
    page = pub.connect(emma, "facebook")
    linkedin = pub.connect(emma, "linkedin")
    facebook = page.parent
    tokens = {"x": x.access_token, "facebook": facebook.access_token, "page": page.access_token}
    tokens["linkedin"] = linkedin.access_token
    assert _client(pub.org, "x").profile(access_token=tokens["x"]).remote_id == x.remote_id
    assert _client(pub.org, "facebook").profile(access_token=tokens["facebook"]).remote_id == facebook.remote_id
    share = pub.share(emma, [x], at=timezone.now() + LATER)
    assert share.status == S.SCHEDULED
    delivery = pub.deliveries(share)[0]
    make_due(pub.org, [delivery])

    suspend_membership(membership=emma, by="scim:Okta", reason="left the company")

    share.refresh_from_db()
    assert share.status == S.HELD and share.held_from == S.SCHEDULED and share.held_at
    # The sweeper does not dispatch it, and a publish message already on its way finds it held.
    assert publishing.sweep()["due"] == 0
    start = len(pub.worker.log())
    with transaction.atomic():
        publishing.enqueue_publish([delivery.pk])
    wait_for(
        lambda: re.findall(r"publish_delivery\[[^]]+\] succeeded in [0-9.]+s: '(\w+)'", pub.worker.log()[start:]),
        timeout=15,
        message="the publish task",
    )
    assert re.findall(r"succeeded in [0-9.]+s: '(\w+)'", pub.worker.log()[start:]) == ["skipped"]
    assert pub.posts() == []
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 0

    # After the commit, the worker withdrew the accounts at the networks that allow it.
    wait_for(
        lambda: (
            not SocialConnection.objects.for_org(pub.org)
            .filter(user=emma.user)
            .exclude(status=SocialConnection.Status.DISCONNECTED)
            .exists()
        ),
        timeout=30,
        message="the accounts to be disconnected",
    )
    with pytest.raises(net.TokenExpired):  # X answers a revoked token 401, like an expired one
        _client(pub.org, "x").profile(access_token=tokens["x"])
    with pytest.raises(net.TokenRevoked):
        _client(pub.org, "facebook").profile(access_token=tokens["facebook"])
    with pytest.raises(net.TokenRevoked):
        _client(pub.org, "facebook").managed_pages(access_token=tokens["page"])
    # LinkedIn offers apps no revocation: the token is only forgotten here.
    assert _client(pub.org, "linkedin").profile(access_token=tokens["linkedin"]).remote_id == linkedin.remote_id
    for row in SocialConnection.objects.for_org(pub.org).filter(user=emma.user):
        assert row.access_token == "" and row.refresh_token == ""
    outcomes = {
        e.after["network"]: e.after["at_the_network"]
        for e in AuditEntry.objects.for_org(pub.org).filter(action="connection.disconnected")
    }
    assert outcomes["x"] == "access withdrawn" and outcomes["facebook"] == "access withdrawn"
    assert outcomes["linkedin"].startswith("LinkedIn offers apps no way to withdraw access")

    # Nothing goes out while the author is suspended, and reactivation releases nothing.
    with pytest.raises(Conflict, match="still suspended"):
        held.release_held_share(actor=admin, share_id=share.pk)
    reactivate_membership(membership=emma, by="scim:Okta")
    share.refresh_from_db()
    assert share.status == S.HELD and publishing.sweep()["due"] == 0

    _reconnect(pub, emma, "x", x.remote_id)
    held.release_held_share(actor=admin, share_id=share.pk)
    pub.wait_until(share, S.PUBLISHED)
    assert len(pub.posts("x")) == 1
    released = AuditEntry.objects.for_org(pub.org).get(action="share.released")
    assert released.after["held_from"] == S.SCHEDULED and released.after["status"] == S.APPROVED


# --- without the worker: what is held, the review queue, release and cancel -----------------------


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme")


def _share(org, author, status, *, scheduled_for=None):
    share = ShareFactory(item__organization=org, author=author.user, status=status, scheduled_for=scheduled_for)
    text = share.commentary
    DeliveryFactory(
        share=share, mode=Delivery.Mode.API, approved_text_hash=publishing.text_hash(text), due_at=scheduled_for
    )
    return share


@pytest.mark.django_db
def test_suspension_holds_the_shares_on_their_way_and_nothing_else(org):
    emma, colleague = member(org), member(org)
    on_the_way = {status: _share(org, emma, status) for status in (S.IN_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHING)}
    others = {
        status: _share(org, emma, status)
        for status in (S.PUBLISHED, S.FAILED, S.CANCELLED, S.REJECTED, S.CHANGES_REQUESTED)
    }
    colleagues = _share(org, colleague, S.SCHEDULED)

    suspend_membership(membership=emma, by="scim:Okta")

    for status, share in on_the_way.items():
        share.refresh_from_db()
        assert (share.status, share.held_from) == (S.HELD, status)
    for status, share in others.items():
        share.refresh_from_db()
        assert share.status == status
    colleagues.refresh_from_db()
    assert colleagues.status == S.SCHEDULED
    entry = AuditEntry.objects.for_org(org).get(action="membership.suspended")
    assert sorted(entry.after["shares_held"]) == sorted(s.pk for s in on_the_way.values())
    assert AuditEntry.objects.for_org(org).filter(action="share.held").count() == 4


@pytest.mark.django_db
def test_a_held_share_leaves_the_review_queue_and_a_release_brings_it_back(org):
    LexiconTermFactory(organization=org, term="guaranteed", action="review")
    emma, admin = member(org), member(org, Role.ADMIN)
    item = ContentItemFactory(organization=org, status="published")
    share = submit_share(
        actor=emma, item_id=item.pk, commentary="Returns guaranteed, folks.", target_keys=["assisted:linkedin"]
    )
    assert share.status == S.IN_REVIEW and open_tasks(org).filter(share=share).exists()

    suspend_membership(membership=emma, by="scim:Okta")
    assert not open_tasks(org).filter(share=share).exists()
    reactivate_membership(membership=emma, by="scim:Okta")
    held.release_held_share(actor=admin, share_id=share.pk)

    share.refresh_from_db()
    assert share.status == S.IN_REVIEW and open_tasks(org).filter(share=share).exists()


@pytest.mark.django_db
def test_a_release_after_its_time_passed_sends_it_now_and_one_ahead_stays_scheduled(org):
    emma, admin = member(org), member(org, Role.ADMIN)
    past = _share(org, emma, S.SCHEDULED, scheduled_for=timezone.now() + timedelta(minutes=1))
    ahead = _share(org, emma, S.SCHEDULED, scheduled_for=timezone.now() + LATER)
    suspend_membership(membership=emma, by="scim:Okta")
    Share.objects.for_org(org).filter(pk=past.pk).update(scheduled_for=timezone.now() - timedelta(hours=1))
    reactivate_membership(membership=emma, by="scim:Okta")

    held.release_held_share(actor=admin, share_id=past.pk)
    held.release_held_share(actor=admin, share_id=ahead.pk)

    past.refresh_from_db()
    ahead.refresh_from_db()
    assert past.status == S.APPROVED and ahead.status == S.SCHEDULED
    now_due = Delivery.objects.for_org(org).get(share=past)
    assert now_due.due_at <= timezone.now() and now_due.approved_text_hash == publishing.text_hash(now_due.text)
    assert Delivery.objects.for_org(org).get(share=ahead).due_at == ahead.scheduled_for


@pytest.mark.django_db
def test_the_admin_cancels_a_held_share_and_everything_stays_on_record(org):
    emma, admin = member(org), member(org, Role.ADMIN)
    share = _share(org, emma, S.APPROVED)
    suspend_membership(membership=emma, by="scim:Okta")
    held.cancel_held_share(actor=admin, share_id=share.pk)
    share.refresh_from_db()
    assert share.status == S.CANCELLED
    assert Delivery.objects.for_org(org).get(share=share).status == Delivery.Status.CANCELLED
    entry = AuditEntry.objects.for_org(org).get(action="share.cancelled")
    assert entry.after["reason"] == "held: author suspended"
    with pytest.raises(Conflict):
        held.release_held_share(actor=admin, share_id=share.pk)


@pytest.mark.django_db
def test_the_held_posts_door_does_not_cancel_or_release_a_post_that_is_not_held(org):
    emma, admin = member(org), member(org, Role.ADMIN)
    share = _share(org, emma, S.SCHEDULED)
    for door in (held.cancel_held_share, held.release_held_share):
        with pytest.raises(Conflict, match="not held"):
            door(actor=admin, share_id=share.pk)
    share.refresh_from_db()
    assert share.status == S.SCHEDULED


@pytest.mark.django_db
def test_the_withdrawal_keeps_the_accounts_of_a_member_reactivated_before_it_ran(org):
    emma = member(org)
    account = SocialConnectionFactory(organization=org, user=emma.user, network="x")
    suspend_membership(membership=emma, by="scim:Okta")
    reactivate_membership(membership=emma, by="scim:Okta")
    assert connections.withdraw_accounts_of_suspended_member(organization_id=org.pk, user_id=emma.user.pk) == {}
    account.refresh_from_db()
    assert account.status == SocialConnection.Status.ACTIVE and account.access_token


# --- the admin's page ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_held_posts_page_lists_them_with_release_and_cancel_and_fixed_queries(client, org):
    admin = member(org, Role.ADMIN)

    def grow():
        someone = member(org)
        _share(org, someone, S.SCHEDULED, scheduled_for=timezone.now() + LATER)
        suspend_membership(membership=someone, by="scim:Okta")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url("content:held_list", org))
        assert response.status_code == 200
        return len(ctx)

    client.force_login(admin.user)
    grow()
    client.get(url("content:held_list", org))
    small = queries()
    for _ in range(8):
        grow()
    assert queries() == small
    page = client.get(url("content:held_list", org)).content.decode()
    share = Share.objects.for_org(org).filter(status=S.HELD).first()
    assert url("content:held_cancel", org, share_id=share.pk) in page
    assert "Reactivate the member to release it." in page

    done = client.post(url("content:held_cancel", org, share_id=share.pk), follow=True)
    assert "Cancelled: nothing will be posted." in done.content.decode()
    share.refresh_from_db()
    assert share.status == S.CANCELLED
    refused = client.post(url("content:held_release", org, share_id=share.pk), follow=True)
    assert "This post is cancelled, not held; nothing was changed." in refused.content.decode()


@pytest.mark.django_db
def test_only_admins_see_and_act_on_held_posts(client, org):
    officer, emma = member(org, Role.COMPLIANCE), member(org)
    share = _share(org, emma, S.APPROVED)
    suspend_membership(membership=emma, by="scim:Okta")
    client.force_login(officer.user)
    assert client.get(url("content:held_list", org)).status_code == 403
    assert client.post(url("content:held_cancel", org, share_id=share.pk)).status_code == 403
    share.refresh_from_db()
    assert share.status == S.HELD


def test_a_network_that_is_down_is_tried_again_and_the_last_try_forgets_the_tokens_anyway(pub, broker_down):
    # The broker is down at each suspension, so the worker does not withdraw at the same time
    # as the test: each withdrawal below is the test's own call.
    emma = pub.employee("emma@acme.com")
    x, linkedin = pub.connect(emma, "x"), pub.connect(emma, "linkedin")
    x_token = x.access_token
    suspend_membership(membership=emma, by="scim:Okta")
    pub.emulator.fault("x", "server_error", path="/2/oauth2/revoke", times=1)

    with pytest.raises(net.TransientFailure):
        connections.withdraw_accounts_of_suspended_member(
            organization_id=pub.org.pk, user_id=emma.user.pk, last_try=False
        )
    x.refresh_from_db()
    linkedin.refresh_from_db()
    assert x.status == SocialConnection.Status.ACTIVE and x.access_token == x_token, "kept for the next try"
    assert linkedin.status == SocialConnection.Status.DISCONNECTED, "the others are done already"

    assert connections.withdraw_accounts_of_suspended_member(organization_id=pub.org.pk, user_id=emma.user.pk) == {
        x.pk: "access withdrawn"
    }
    with pytest.raises(net.TokenExpired):
        _client(pub.org, "x").profile(access_token=x_token)

    emma2 = pub.employee("noah@acme.com")
    down = pub.connect(emma2, "x")
    suspend_membership(membership=emma2, by="scim:Okta")
    pub.emulator.fault("x", "server_error", path="/2/oauth2/revoke", times=1)
    outcome = connections.withdraw_accounts_of_suspended_member(organization_id=pub.org.pk, user_id=emma2.user.pk)
    assert outcome[down.pk].startswith("not withdrawn: X answered")
    down.refresh_from_db()
    assert down.status == SocialConnection.Status.DISCONNECTED and down.access_token == ""


# --- the engine: a suspended author's delivery is never sent, whatever escaped the hold ------------


def _results(pub, start: int) -> list[str]:
    return re.findall(r"publish_delivery\[[^]]+\] succeeded in [0-9.]+s: '(\w+)'", pub.worker.log()[start:])


def test_a_retrying_delivery_of_a_member_suspended_meanwhile_is_not_posted_until_released(pub, worker_process):
    emma = pub.employee("emma@acme.com")
    admin = MembershipFactory(organization=pub.org, roles=[Role.ADMIN])
    x, linkedin = pub.connect(emma, "x"), pub.connect(emma, "linkedin")
    # X throttles the first call for an hour: the X delivery waits, retrying; LinkedIn's goes out.
    pub.emulator.fault("x", "rate_limit", path="/2/tweets", method="POST", reset_in=3600)
    share = pub.share(emma, [x, linkedin])
    on_x = next(d for d in pub.deliveries(share) if d.network == "x")
    wait_for(lambda: Delivery.objects.for_org(pub.org).get(pk=on_x.pk).status == "retrying", timeout=15)
    wait_for(lambda: len(pub.posts("linkedin")) == 1, timeout=15, message="the LinkedIn post")
    share.refresh_from_db()
    assert share.status == S.PUBLISHING

    suspend_membership(membership=emma, by="scim:Okta", reason="left the company")

    share.refresh_from_db()
    assert (share.status, share.held_from) == (S.HELD, S.PUBLISHING)
    # Its retry time comes (time moves in the rows): neither the sweeper nor a message sends it.
    Delivery.objects.for_org(pub.org).filter(pk=on_x.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert publishing.sweep()["due"] == 0
    start = len(pub.worker.log())
    with transaction.atomic():
        publishing.enqueue_publish([on_x.pk])
    wait_for(lambda: _results(pub, start), timeout=15, message="the publish task")
    assert _results(pub, start) == ["skipped"]
    assert pub.posts("x") == [] and len(pub.posts("linkedin")) == 1
    on_x.refresh_from_db()
    assert on_x.status == Delivery.Status.RETRYING

    # Back, reconnected and released by an admin: the rest goes out, once.
    wait_for(
        lambda: (
            not SocialConnection.objects.for_org(pub.org).filter(pk=x.pk, access_token__gt="").exists()
            and SocialConnection.objects.for_org(pub.org).get(pk=x.pk).status == SocialConnection.Status.DISCONNECTED
        ),
        timeout=30,
        message="the accounts to be withdrawn",
    )
    reactivate_membership(membership=emma, by="scim:Okta")
    _reconnect(pub, emma, "x", x.remote_id)
    held.release_held_share(actor=admin, share_id=share.pk)
    pub.wait_until(share, S.PUBLISHED)
    assert len(pub.posts("x")) == 1 and len(pub.posts("linkedin")) == 1
    share.refresh_from_db()
    assert share.held_from == "" and share.held_at is None


def test_a_share_submitted_as_the_author_is_suspended_is_held_by_the_engine_not_posted(pub, worker_process):
    emma = pub.employee("emma@acme.com")
    x = pub.connect(emma, "x")
    stale = type(emma).objects.for_org(pub.org).get(pk=emma.pk)  # the request loaded it before the suspension

    suspend_membership(membership=emma, by="scim:Okta", reason="left the company")
    start = len(pub.worker.log())
    share = pub.share(stale, [x])  # its transaction commits after the hold's SELECT: nothing held it

    assert share.status == S.APPROVED
    wait_for(lambda: "held" in _results(pub, start), timeout=15, message="the publish task")
    share.refresh_from_db()
    assert (share.status, share.held_from) == (S.HELD, S.APPROVED)
    delivery = pub.deliveries(share)[0]
    assert delivery.status == Delivery.Status.PENDING and delivery.attempts == 0
    assert pub.posts() == []
    entry = AuditEntry.objects.for_org(pub.org).get(action="share.held", target_id=str(share.pk))
    assert entry.after["by"] == "publishing: its author is suspended"


@pytest.mark.django_db
def test_a_lease_that_ran_out_on_a_suspended_authors_post_is_reconciled_never_sent(org):
    emma = member(org)
    gone = SocialConnectionFactory(
        organization=org, user=emma.user, network="x", status=SocialConnection.Status.DISCONNECTED, access_token=""
    )
    share = ShareFactory(item__organization=org, author=emma.user, status=S.PUBLISHING)
    delivery = DeliveryFactory(
        share=share,
        mode=Delivery.Mode.API,
        network="x",
        connection=gone,
        status=Delivery.Status.PUBLISHING,
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        approved_text_hash=publishing.text_hash(share.commentary),
        due_at=timezone.now(),
        attempts=1,
    )
    suspend_membership(membership=emma, by="scim:Okta")

    # Its worker died mid-call: the post may exist. With no token left to look, it waits,
    # its outcome still unknown (looked for first once released), and nothing is sent.
    assert publishing.publish(delivery.pk) == "held"
    delivery.refresh_from_db()
    share.refresh_from_db()
    assert delivery.status == Delivery.Status.RETRYING and delivery.outcome_unknown
    assert delivery.attempts == 1 and "author is suspended" in delivery.last_error
    assert share.status == S.HELD


@pytest.mark.django_db
def test_release_and_cancel_clear_when_and_where_it_was_held(org):
    emma, admin = member(org), member(org, Role.ADMIN)
    released, cancelled = _share(org, emma, S.IN_REVIEW), _share(org, emma, S.APPROVED)
    suspend_membership(membership=emma, by="scim:Okta")
    reactivate_membership(membership=emma, by="scim:Okta")
    held.release_held_share(actor=admin, share_id=released.pk)
    held.cancel_held_share(actor=admin, share_id=cancelled.pk)
    for share, status in ((released, S.IN_REVIEW), (cancelled, S.CANCELLED)):
        share.refresh_from_db()
        assert (share.status, share.held_from, share.held_at) == (status, "", None)
    assert AuditEntry.objects.for_org(org).get(action="share.cancelled").after["held_from"] == S.APPROVED


@pytest.mark.django_db
def test_cancelling_a_share_held_while_publishing_keeps_the_post_that_got_out(org):
    emma, admin = member(org), member(org, Role.ADMIN)
    share = _share(org, emma, S.PUBLISHING)
    out = DeliveryFactory(share=share, mode=Delivery.Mode.API, network="x", status=Delivery.Status.PUBLISHED)
    waiting = Delivery.objects.for_org(org).filter(share=share).exclude(pk=out.pk).get()
    suspend_membership(membership=emma, by="scim:Okta")
    held.cancel_held_share(actor=admin, share_id=share.pk)
    share.refresh_from_db()
    out.refresh_from_db()
    waiting.refresh_from_db()
    assert share.status == S.PUBLISHED and out.status == Delivery.Status.PUBLISHED
    assert waiting.status == Delivery.Status.CANCELLED


@pytest.mark.django_db
def test_another_organizations_held_share_is_a_404_on_both_doors(client, org):
    other = OrganizationFactory(slug="globex")
    theirs = _share(other, member(other), S.APPROVED)
    suspend_membership(membership=Membership.objects.for_org(other).get(user=theirs.author), by="scim:Okta")
    admin = member(org, Role.ADMIN)
    client.force_login(admin.user)
    for name in ("content:held_release", "content:held_cancel"):
        assert client.post(url(name, org, share_id=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == S.HELD
