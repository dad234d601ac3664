"""The audit trail: hash chain, append-only table, verification (command and page), the
officers' log page and read-only API, and the entries every product area leaves."""

from __future__ import annotations

import ast
import contextlib
import datetime
import decimal
import json
import re
import threading
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, SocialConnection
from advocacy import audit
from compliance.models import AuditEntry, PendingAuditEntry
from compliance.services.audit import GENESIS_HASH, compute_hash, verify_chain
from content.models import ContentFeed, Delivery, Share
from tests.accounts.factories import (
    ApiTokenFactory,
    GuidelineFactory,
    InvitationFactory,
    MembershipFactory,
    OrganizationFactory,
    SocialConnectionFactory,
    TeamFactory,
    acting,
)
from tests.content.factories import ContentFeedFactory, ContentItemFactory, DeliveryFactory, ShareFactory
from tests.helpers import held_by_another_connection, member, org_url, run_at_once

IP = "203.0.113.7"


def entries(org, **filters):
    return list(AuditEntry.objects.for_org(org).filter(**filters).order_by("sequence"))


def record(org, action="test.thing", **kwargs):
    with audit.acting_as(label="tester", ip="198.51.100.1"):
        return audit.record(action, organization_id=org.pk, target_type="test", target_id="1", **kwargs)


def tamper(sql, params):
    """What an attacker with the database owner's rights could do (the trigger bypassed)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


# --- the chain -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_organization_has_its_own_sequence_and_hash_chain():
    acme, globex = OrganizationFactory(), OrganizationFactory()
    for n in range(3):
        record(acme, after={"n": n})
    for n in range(2):
        record(globex, after={"n": n})
    chain = entries(acme)
    assert [e.sequence for e in chain] == [1, 2, 3]
    assert [e.sequence for e in entries(globex)] == [1, 2]
    assert chain[0].previous_hash == GENESIS_HASH
    assert [e.previous_hash for e in chain[1:]] == [e.hash for e in chain[:-1]]
    assert all(e.hash == compute_hash(e) for e in chain)
    assert (chain[0].actor_label, chain[0].ip) == ("tester", "198.51.100.1")
    assert verify_chain(acme) is None and verify_chain(globex) is None


@pytest.mark.django_db
def test_values_are_stored_canonically_so_the_hash_recomputes_after_reading_back():
    org = OrganizationFactory()
    when = datetime.datetime(2026, 3, 29, 1, 30, tzinfo=datetime.UTC)
    entry = record(
        org,
        before={"price": decimal.Decimal("10.50"), "when": when, "day": datetime.date(2026, 3, 29), "z": 1, "a": [1]},
        after={"nested": {"b": 2, "a": {"set": {3, 1}}}, "text": "Grüße ✓"},
    )
    stored = AuditEntry.objects.for_org(org).get(pk=entry.pk)
    assert stored.before == {
        "price": "10.50",
        "when": "2026-03-29T01:30:00.000000Z",
        "day": "2026-03-29",
        "z": 1,
        "a": [1],
    }
    assert stored.after["nested"]["a"]["set"] == [1, 3]
    assert compute_hash(stored) == entry.hash
    assert verify_chain(org) is None


@pytest.mark.django_db
def test_the_web_process_cannot_update_or_delete_audit_rows():
    org = OrganizationFactory()
    entry = record(org)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.for_org(org).filter(pk=entry.pk).update(action="nothing.happened")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        entry.action = "nothing.happened"
        entry.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.for_org(org).filter(pk=entry.pk).delete()
    assert AuditEntry.objects.for_org(org).get(pk=entry.pk).action == "test.thing"


@pytest.mark.django_db
def test_an_edited_row_is_named_by_verify_chain_and_the_command():
    org = OrganizationFactory(slug="acme")
    first, second, third = record(org), record(org, after={"status": "approved"}), record(org)
    tamper("UPDATE compliance_auditentry SET after = %s WHERE id = %s", ['{"status": "rejected"}', second.pk])

    broken = verify_chain(org)
    assert (broken.sequence, broken.entry_id) == (2, second.pk)
    assert "edited" in broken.problem
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_chain", "--org", "acme")
    assert failure.value.returncode == 1
    assert first.pk and third.pk


@pytest.mark.django_db
def test_a_rehashed_edit_breaks_the_next_link_and_a_removed_row_leaves_a_gap(capsys):
    org = OrganizationFactory(slug="acme")
    rows = [record(org, after={"n": n}) for n in range(4)]
    # Edit entry 2 and recompute its own hash: entry 3 no longer links to it.
    edited = AuditEntry.objects.for_org(org).get(pk=rows[1].pk)
    edited.after = {"n": 99}
    new_hash = compute_hash(edited)
    tamper("UPDATE compliance_auditentry SET after = %s, hash = %s WHERE id = %s", ['{"n": 99}', new_hash, rows[1].pk])
    broken = verify_chain(org)
    assert (broken.sequence, broken.entry_id) == (3, rows[2].pk)
    assert "previous_hash" in broken.problem

    other = OrganizationFactory(slug="globex")
    kept = [record(other) for _ in range(3)]
    tamper("DELETE FROM compliance_auditentry WHERE id = %s", [kept[1].pk])
    broken = verify_chain(other)
    assert broken.sequence == 2 and "missing" in broken.problem


@pytest.mark.django_db
def test_the_command_reports_every_intact_chain_and_refuses_an_unknown_org(capsys):
    acme, globex = OrganizationFactory(slug="acme"), OrganizationFactory(slug="globex")
    record(acme), record(globex)
    call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert "acme: chain intact" in out and "globex: chain intact" in out
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit_chain", "--org", "initech")
    assert failure.value.returncode == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_to_one_organization_are_serialised():
    org = OrganizationFactory()
    errors = []
    barrier = threading.Barrier(4)

    def append(worker):
        try:
            barrier.wait()
            for n in range(15):
                with transaction.atomic():
                    record(org, after={"worker": worker, "n": n})
        except Exception as exc:  # reported below; a thread cannot fail the test itself
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=append, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [e.sequence for e in entries(org)] == list(range(1, 61))
    assert verify_chain(org) is None


@pytest.mark.django_db
def test_record_joins_the_callers_transaction_so_a_rolled_back_change_leaves_no_entry():
    org = OrganizationFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        record(org)
        raise RuntimeError("the change failed")
    assert entries(org) == []
    record(org)
    assert [e.sequence for e in entries(org)] == [1]


# --- pages and API ---------------------------------------------------------------------------


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", timezone="Europe/Paris")


@pytest.fixture
def officer(org):
    return member(org, Role.COMPLIANCE)


@pytest.mark.django_db
def test_verify_page_shows_an_intact_chain_then_the_first_broken_link(client, org, officer):
    client.force_login(officer.user)
    url = org_url("compliance:audit_verify", org)
    rows = [record(org) for _ in range(3)]
    page = client.post(url).content.decode()
    assert 'data-testid="chain-intact"' in page
    tamper("UPDATE compliance_auditentry SET actor_label = %s WHERE id = %s", ["someone-else", rows[1].pk])
    page = client.post(url).content.decode()
    assert 'data-testid="chain-broken"' in page and "#2" in page and f"id {rows[1].pk}" in page


@pytest.mark.django_db
def test_audit_log_searches_filters_and_shows_before_and_after(client, org, officer):
    client.force_login(officer.user)
    with audit.acting_as(label="emma@acme.test", ip=IP):
        audit.record(
            "share.edited",
            organization_id=org.pk,
            target_type="content.share",
            target_id="41",
            before={"commentary": "old words"},
            after={"commentary": "new words"},
        )
        audit.record(
            "team.created", organization_id=org.pk, target_type="accounts.team", target_id="7", after={"name": "Sales"}
        )
    url = org_url("compliance:audit_log", org)
    page = client.get(url, {"q": "emma@acme"}).content.decode()
    assert "share.edited" in page and "old words" in page and "new words" in page and IP in page
    assert client.get(url, {"action": "team."}).content.decode().count('data-action="team.created"') == 1
    assert 'data-action="share.edited"' not in client.get(url, {"action": "team."}).content.decode()
    assert 'data-action="share.edited"' in client.get(url, {"q": "41"}).content.decode()
    tomorrow = (timezone.now() + datetime.timedelta(days=2)).date().isoformat()
    assert "No entries match" in client.get(url, {"date_from": tomorrow}).content.decode()
    today = timezone.now().date().isoformat()
    assert 'data-action="team.created"' in client.get(url, {"date_from": today, "date_to": tomorrow}).content.decode()


@pytest.mark.django_db
def test_audit_log_query_count_does_not_grow_with_entries(client, org, officer, django_assert_num_queries):
    client.force_login(officer.user)
    url = org_url("compliance:audit_log", org)
    for _ in range(3):
        record(org, after={"x": 1})
    client.get(url)  # warm the session
    with django_assert_num_queries(7) as few:
        client.get(url, {"q": "test", "action": "test."})
    for _ in range(60):
        record(org, after={"x": 1})
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url, {"q": "test", "action": "test.", "page": "2"})
    assert response.status_code == 200 and "Page 2 of 2" in response.content.decode()


@pytest.mark.django_db
def test_only_compliance_officers_see_the_audit_log(client, org):
    client.force_login(member(org, Role.ADMIN, Role.EMPLOYEE).user)
    assert client.get(org_url("compliance:audit_log", org)).status_code == 403
    assert client.get(f"/api/v1/o/{org.slug}/audit-entries/").status_code == 403


@pytest.mark.django_db
def test_api_lists_and_retrieves_entries_and_refuses_every_write(client, org, officer, django_assert_num_queries):
    client.force_login(officer.user)
    rows = [record(org, after={"n": n}) for n in range(3)]
    base = f"/api/v1/o/{org.slug}/audit-entries/"
    listing = client.get(base).json()
    assert [r["sequence"] for r in listing["results"]] == [3, 2, 1]
    detail = client.get(f"{base}{rows[0].pk}/").json()
    assert (detail["hash"], detail["after"], detail["ip"]) == (rows[0].hash, {"n": 0}, "198.51.100.1")
    assert client.get(base, {"action": "nothing."}).json()["results"] == []
    assert client.post(base, {"action": "forged"}, content_type="application/json").status_code == 405
    assert client.put(f"{base}{rows[0].pk}/", {"action": "x"}, content_type="application/json").status_code == 405
    assert client.patch(f"{base}{rows[0].pk}/", {"action": "x"}, content_type="application/json").status_code == 405
    assert client.delete(f"{base}{rows[0].pk}/").status_code == 405
    assert len(entries(org)) == 3 and verify_chain(org) is None
    other = OrganizationFactory()
    foreign = record(other)
    assert client.get(f"{base}{foreign.pk}/").status_code == 404
    with django_assert_num_queries(5) as counted:
        client.get(base)
    for _ in range(20):
        record(org)
    with django_assert_num_queries(len(counted.captured_queries)):
        client.get(base)


# --- every area leaves entries: actor, IP from the request, before/after --------------------


def _item(org):
    return ContentItemFactory(organization=org, status="draft", title="Launch", url="https://acme.example/launch")


def _published_item(org):
    return ContentItemFactory(organization=org, status="published", published_at=timezone.now())


AREAS = [
    # (name, roles of the actor, setup(org, actor) -> (url name, kwargs, data), action, before ⊆, after ⊆)
    (
        "team created",
        [Role.ADMIN],
        lambda org, me: ("teams", {}, {"name": "Sales", "kind": "department"}),
        "team.created",
        None,
        {"name": "Sales"},
    ),
    (
        "team renamed",
        [Role.ADMIN],
        lambda org, me: (
            "team_edit",
            {"team_id": TeamFactory(organization=org, name="Ops").pk},
            {"name": "Operations", "kind": "department"},
        ),
        "team.updated",
        {"name": "Ops"},
        {"name": "Operations"},
    ),
    (
        "roles changed",
        [Role.ADMIN],
        lambda org, me: ("member_edit", {"membership_id": member(org).pk}, {"roles": ["employee", "marketer"]}),
        "membership.roles_changed",
        {"roles": ["employee"]},
        {"roles": ["employee", "marketer"]},
    ),
    (
        "member removed",
        [Role.ADMIN],
        lambda org, me: ("member_remove", {"membership_id": member(org).pk}, {}),
        "membership.removed",
        {"is_active": True},
        {"is_active": False},
    ),
    (
        "invitation sent",
        [Role.ADMIN],
        lambda org, me: ("invitations", {}, {"email": "new@acme.test", "roles": ["employee"]}),
        "invitation.sent",
        None,
        {"email": "new@acme.test", "roles": ["employee"]},
    ),
    (
        "invitation revoked",
        [Role.ADMIN],
        lambda org, me: ("invitation_revoke", {"invitation_id": InvitationFactory(organization=org).pk}, {}),
        "invitation.revoked",
        {"status": "pending"},
        {"status": "revoked"},
    ),
    (
        "settings changed",
        [Role.ADMIN],
        lambda org, me: (
            "org_settings",
            {},
            {"name": "Acme Corp", "timezone": "Europe/Paris", "self_signup_domains": ""},
        ),
        "organization.settings_changed",
        {"name": "Acme"},
        {"name": "Acme Corp"},
    ),
    (
        "api token created",
        [Role.EMPLOYEE],
        lambda org, me: ("api_tokens", {}, {"name": "HR sync"}),
        "api_token.created",
        None,
        {"name": "HR sync"},
    ),
    (
        "api token revoked",
        [Role.EMPLOYEE],
        lambda org, me: (
            "api_token_revoke",
            {"api_token_id": ApiTokenFactory(organization=org, user=me.user).pk},
            {},
        ),
        "api_token.revoked",
        {"revoked_at": None},
        {"name": "script"},
    ),
    (
        "connection disconnected",
        [Role.EMPLOYEE],
        lambda org, me: (
            "connection_disconnect",
            {"social_connection_id": SocialConnectionFactory(organization=org, user=me.user).pk},
            {},
        ),
        "connection.disconnected",
        {"status": "active"},
        {"status": SocialConnection.Status.DISCONNECTED},
    ),
    (
        "network app",
        [Role.ADMIN],
        lambda org, me: (
            "network_settings",
            {},
            {"network": "x", "x-is_enabled": "on", "x-client_id": "acme-x", "x-client_secret": "s3cret"},
        ),
        "network_app.updated",
        {"client_id": "", "has_secret": False},
        {"client_id": "acme-x", "has_secret": True},
    ),
    (
        "guidelines published",
        [Role.ADMIN],
        lambda org, me: ("guidelines_manage", {}, {"title": "Our rules", "body": "Be kind. Disclose."}),
        "guidelines.published",
        None,
        {"version": 1, "title": "Our rules"},
    ),
    (
        "guidelines accepted",
        [Role.EMPLOYEE],
        lambda org, me: ("guidelines_accept", {}, {"guideline_id": GuidelineFactory(organization=org, version=1).pk}),
        "guidelines.accepted",
        None,
        {"version": 1},
    ),
    (
        "item created",
        [Role.MARKETER],
        lambda org, me: (
            "content:library_item_new",
            {},
            {
                "url": "https://acme.example/new",
                "title": "New thing",
                "description": "About it",
                "suggestions-TOTAL_FORMS": "0",
                "suggestions-INITIAL_FORMS": "0",
            },
        ),
        "content_item.created",
        None,
        {"title": "New thing", "status": "draft"},
    ),
    (
        "item published",
        [Role.MARKETER],
        lambda org, me: ("content:library_item_publish", {"content_item_id": _item(org).pk}, {}),
        "content_item.published",
        {"status": "draft"},
        {"status": "published"},
    ),
    (
        "item archived",
        [Role.MARKETER],
        lambda org, me: ("content:library_item_archive", {"content_item_id": _item(org).pk}, {}),
        "content_item.archived",
        {"status": "draft"},
        {"status": "archived"},
    ),
    (
        "bulk publish",
        [Role.MARKETER],
        lambda org, me: ("content:library_bulk", {}, {"action": "publish", "items": [_item(org).pk]}),
        "content_item.published",
        {"status": "draft"},
        {"status": "published", "bulk": True},
    ),
    (
        "feed paused",
        [Role.MARKETER],
        lambda org, me: (
            "content:library_feed_toggle",
            {"content_feed_id": ContentFeedFactory(organization=org).pk},
            {},
        ),
        "feed.paused",
        {"is_active": True},
        {"is_active": False},
    ),
    (
        "proposal",
        [Role.EMPLOYEE],
        lambda org, me: ("content:propose_content", {}, {"url": "https://acme.example/worth", "reason": "Good"}),
        "proposal.created",
        None,
        {"url": "https://acme.example/worth"},
    ),
    (
        "share submitted",
        [Role.EMPLOYEE],
        lambda org, me: (
            "content:compose",
            {"content_item_id": _published_item(org).pk},
            {"commentary": "Proud of this launch.", "targets": ["assisted:x"], "when": "now"},
        ),
        "share.submitted",
        None,
        {"version": 1, "commentary": "Proud of this launch."},
    ),
    (
        "share cancelled",
        [Role.EMPLOYEE],
        lambda org, me: (
            "content:share_cancel",
            {"share_id": ShareFactory(item=_published_item(org), author=me.user, status="in_review").pk},
            {},
        ),
        "share.cancelled",
        {"status": "in_review"},
        {"status": "cancelled"},
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("name, roles, setup, action, before, after", AREAS, ids=[row[0] for row in AREAS])
def test_every_area_records_actor_ip_and_change(
    client, name, roles, setup, action, before, after, django_capture_on_commit_callbacks
):
    org = OrganizationFactory(slug="acme", name="Acme", timezone="Europe/Paris")
    me = member(org, *roles)
    client.force_login(me.user)
    url_name, kwargs, data = setup(org, me)
    already = {e.pk for e in entries(org)}
    # A hot path (a share's submission) links its entries just after its commit: run the
    # request's on-commit callbacks as a real commit would.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse(url_name, kwargs={"org_slug": org.slug, **kwargs}), data, REMOTE_ADDR=IP)
    assert response.status_code in (200, 302), response.content.decode()[:2000]
    new = [e for e in entries(org, action=action) if e.pk not in already]
    assert new, f"no {action} entry; got {[e.action for e in entries(org)]}"
    entry = new[-1]
    assert (entry.actor_id, entry.actor_label, entry.ip) == (me.user_id, me.user.email, IP)
    if before is None:
        assert entry.before is None
    else:
        assert before.items() <= entry.before.items(), entry.before
    assert after.items() <= entry.after.items(), entry.after
    assert verify_chain(org) is None


@pytest.mark.django_db
def test_edit_records_a_new_version_with_old_and_new_text_then_the_routing(client, org):
    emma = member(org)
    item = _published_item(org)
    client.force_login(emma.user)
    share = ShareFactory(organization=org, item=item, author=emma.user, status="in_review", commentary="First words")
    response = client.post(
        reverse("content:share_detail", kwargs={"org_slug": org.slug, "share_id": share.pk}),
        {"commentary": "Better words", "when": "now"},
        REMOTE_ADDR=IP,
    )
    assert response.status_code in (200, 302)
    edited, routed = entries(org, action="share.edited")[-1], entries(org, action="share.routed")[-1]
    assert edited.before["commentary"] == "First words" and edited.after["commentary"] == "Better words"
    assert edited.after["version"] == edited.before["version"] + 1 and edited.ip == IP
    assert (
        routed.sequence == edited.sequence + 1
        and routed.after["status"] == Share.objects.for_org(org).get(pk=share.pk).status
    )


@pytest.mark.django_db
def test_system_changes_are_recorded_as_the_system():
    org = OrganizationFactory()
    feed = ContentFeedFactory(organization=org, is_active=True)
    from content.services import library

    library.set_feed_active(
        actor=MembershipFactory(organization=org, roles=[Role.MARKETER]), feed=feed, active=False
    )  # outside a request: the system acts
    entry = entries(org, action="feed.paused")[-1]
    assert (entry.actor_id, entry.actor_label, entry.ip) == (None, "system", None)
    assert ContentFeed.objects.for_org(org).get(pk=feed.pk).is_active is False


@pytest.mark.django_db
def test_housekeeping_and_connection_health_are_recorded():
    from accounts.services import connections, expire_invitations

    org = OrganizationFactory()
    invitation = InvitationFactory(organization=org, expires_at=timezone.now() - datetime.timedelta(days=1))
    assert expire_invitations() == 1
    expired = entries(org, action="invitation.expired")[-1]
    assert (expired.target_id, expired.actor_label, expired.after["status"]) == (
        str(invitation.pk),
        "system",
        "expired",
    )

    connection_row = SocialConnectionFactory(organization=org)
    connections.mark_needs_reconnect(connection_row, "LinkedIn revoked the token")
    flagged = entries(org, action="connection.needs_reconnect")[-1]
    assert flagged.before == {"status": "active"}
    assert flagged.after == {"status": "needs_reconnect", "reason": "LinkedIn revoked the token"}
    assert verify_chain(org) is None


@pytest.mark.django_db
def test_accepting_an_invitation_is_recorded_as_the_person_who_accepted():
    from accounts.crypto import secret_hash as _hash
    from accounts.models import Invitation
    from accounts.services import accept_invitation, invite_member

    org = OrganizationFactory()
    invitation = invite_member(actor=acting(org), email="new@acme.test", roles=["marketer"])
    token = "known-secret"  # the real one only exists in the e-mail
    Invitation.objects.for_org(org).filter(pk=invitation.pk).update(token_hash=_hash(token))
    membership = accept_invitation(token=token, name="New Person", password="a-long-enough-passphrase-9")
    accepted = entries(org, action="invitation.accepted")[-1]
    assert (accepted.actor_id, accepted.actor_label) == (membership.user_id, "new@acme.test")
    assert accepted.after["roles"] == ["marketer"] and accepted.after["status"] == "accepted"


# --- the keyed chain and its anchors (issue 15, finding 2) ------------------------------------


@pytest.mark.django_db
def test_a_chain_rewritten_without_the_key_does_not_verify():
    """The database owner edits an entry and recomputes every hash after it, the way the
    unkeyed chain allowed (plain sha256): the keyed chain names the edited entry."""
    import hashlib

    from compliance.services.audit import canonical_json, entry_payload

    org = OrganizationFactory(slug="acme")
    rows = [record(org, after={"n": n}) for n in range(3)]
    assert {r.key_id for r in AuditEntry.objects.for_org(org)} == {"s1"}
    previous = rows[0].hash
    for row in AuditEntry.objects.for_org(org).order_by("sequence")[1:]:
        if row.sequence == 2:
            row.after = {"n": 99}
        row.previous_hash = previous
        message = previous.encode() + canonical_json(entry_payload(row)).encode()
        row.hash = hashlib.sha256(message).hexdigest()
        tamper(
            "UPDATE compliance_auditentry SET after = %s, previous_hash = %s, hash = %s WHERE id = %s",
            [json.dumps(row.after), row.previous_hash, row.hash, row.pk],
        )
        previous = row.hash
    broken = verify_chain(org)
    assert broken.sequence == 2 and "does not match its contents" in broken.problem


@pytest.mark.django_db
def test_keys_rotate_and_an_entry_of_a_key_no_longer_listed_is_named(settings):
    org = OrganizationFactory(slug="acme")
    settings.AUDIT_HMAC_KEYS = ["k1:first-secret"]
    record(org)
    settings.AUDIT_HMAC_KEYS = ["k2:second-secret", "k1:first-secret"]
    record(org)
    assert list(AuditEntry.objects.for_org(org).order_by("sequence").values_list("key_id", flat=True)) == ["k1", "k2"]
    assert verify_chain(org) is None
    settings.AUDIT_HMAC_KEYS = ["k2:second-secret"]
    broken = verify_chain(org)
    assert broken.sequence == 1 and "'k1'" in broken.problem


@pytest.mark.django_db
def test_dropping_the_newest_entries_is_caught_by_the_anchor(settings, tmp_path):
    from compliance.services.audit import anchor_heads, latest_anchor

    settings.STORAGES = {
        **settings.STORAGES,
        "private": {**settings.STORAGES["private"], "OPTIONS": {"location": str(tmp_path)}},
    }
    org = OrganizationFactory(slug="acme")
    rows = [record(org, after={"n": n}) for n in range(3)]
    assert anchor_heads() >= 1
    assert latest_anchor(org.pk)["sequence"] == 3 and verify_chain(org) is None
    assert anchor_heads() == 0, "a head that did not move is not written again"
    # Truncation: the newest entry removed. The chain that is left links perfectly.
    tamper("DELETE FROM compliance_auditentry WHERE id = %s", [rows[2].pk])
    broken = verify_chain(org)
    assert broken.sequence == 3 and "the newest entries were removed" in broken.problem


# --- the trail in words (issue 19, item 4) -----------------------------------------------------

APP_PACKAGES = ("accounts", "content", "compliance", "analytics", "advocacy", "integrations", "networks")
ACTION_CODE = re.compile(r"^[a-z][a-z_]*\.[a-z][a-z_]*$")
# Dotted strings of an audit family's prefix that are not action codes (a serializer source,
# an HMAC salt, a URL module).
NOT_ACTIONS = {
    "analytics.email",
    "analytics.urls",
    "organization.name",
    "organization.slug",
    "share.commentary",
    "share.item_id",
    "share.version",
}
# Functions whose first argument (or `action=`) is an action code.
RECORDERS = {"record", "_audit_item"}


def _source_trees():
    root = Path(__file__).resolve().parents[2]
    for package in APP_PACKAGES:
        for path in (root / package).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path, ast.parse(path.read_text(encoding="utf-8"))


def _leading_text(node) -> str | None:
    """The constant text an action argument starts with ("share." for f"share.{outcome}")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return node.values[0].value
    return None


def test_every_action_code_the_apps_write_has_a_sentence():
    from accounts.permissions import Permission
    from compliance.selectors.audit_trail import SENTENCES

    families = {code.split(".")[0] for code in SENTENCES}
    permissions = {p.value for p in Permission}
    missing, unknown_families = set(), set()
    for path, tree in _source_trees():
        for node in ast.walk(tree):
            # every dotted constant of an audit family: a code written directly or kept in a table
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ACTION_CODE.match(node.value):
                code = node.value
                if code.split(".")[0] in families and code not in set(SENTENCES) | NOT_ACTIONS | permissions:
                    missing.add(f"{code} ({path.name})")
            # what recorders are given: a new family (or a code built at run time) must be known too
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                given = [k.value for k in node.keywords if k.arg == "action"]
                if name in RECORDERS and node.args:
                    given.append(node.args[0])
                for argument in given:
                    text = _leading_text(argument)
                    if text and "." in text and text.split(".")[0] not in families:
                        unknown_families.add(f"{text} ({path.name})")
    # codes built from a state: content.lifecycle writes "<model>.<new status>", review "share.sent_back"
    built = {f"share.{s}" for s in Share.Status.values} | {f"delivery.{s}" for s in Delivery.Status.values}
    built |= {"share.sent_back"}
    missing |= built - set(SENTENCES)
    assert not missing, f"action codes without a sentence in SENTENCES: {sorted(missing)}"
    assert not unknown_families, f"action codes of a family SENTENCES does not know: {sorted(unknown_families)}"


@pytest.mark.parametrize("language", ["fr", "de", "es"])
def test_every_sentence_reads_in_every_language_with_its_placeholders_filled(language):
    from django.utils import translation

    from compliance.selectors.audit_trail import SENTENCES, sentence_for

    with translation.override(language):
        for action in SENTENCES:
            words = sentence_for(action, actor="Dana", target="X", before={}, after={})
            assert "{" not in words and "}" not in words and words[:1].isupper(), (language, action)


@pytest.mark.django_db
def test_sentences_name_people_and_the_share_and_never_leave_a_placeholder(client, org, officer):
    from compliance.selectors.audit_trail import SENTENCES, sentence_for

    for action in SENTENCES:
        words = sentence_for(action, actor="Dana Officer", target="the thing", before={}, after={})
        assert "{" not in words and "}" not in words and words[:1].isupper(), action
    emma = MembershipFactory(organization=org, roles=[Role.EMPLOYEE], user__name="Emma Employee")
    officer.user.name = "Dana Officer"
    officer.user.save()
    item = ContentItemFactory(organization=org, title="Acme opens a new plant in Lyon next spring, with 400 jobs")
    share = ShareFactory(organization=org, item=item, author=emma.user)
    DeliveryFactory(share=share, network="linkedin")
    with audit.acting_as(user=officer.user, ip=IP):
        audit.record(
            "share.approved",
            organization_id=org.pk,
            target=share,
            before={"status": "in_review"},
            after={"status": "approved"},
        )
        audit.record(
            "policy.term_added",
            organization_id=org.pk,
            target_type="compliance.lexiconterm",
            target_id="5",
            after={"term": "guaranteed", "action": "review", "note": ""},
        )
    client.force_login(officer.user)
    page = client.get(org_url("compliance:audit_log", org)).content.decode()
    assert (
        "Dana Officer approved Emma Employee&#x27;s share ‘Acme opens a new plant in Lyon next spr…’ for LinkedIn"
        in page
    )
    assert "Dana Officer added the term “guaranteed” to the lexicon (review)" in page


@pytest.mark.django_db
def test_the_change_is_a_before_after_table_with_labels_and_long_values_whole(client, org, officer):
    from compliance.selectors.audit_trail import change_rows

    long_text = "word " * 120
    rows = change_rows({"status": "in_review", "commentary": "old"}, {"status": "approved", "commentary": long_text})
    assert [(r.label, r.before, r.after, r.changed) for r in rows] == [
        ("Status", "in review", "approved", True),
        ("Words", "old", long_text, True),
    ]
    record(org, before={"review_sla_hours": 24}, after={"review_sla_hours": 48, "when": "2026-01-15T08:00:00.000000Z"})
    client.force_login(officer.user)
    page = client.get(org_url("compliance:audit_log", org)).content.decode()
    table = page[page.index('data-testid="audit-change"') :]
    assert '<th scope="row">Review within (hours)</th><td class="wrap">24</td><td class="wrap">48</td>' in table
    assert "15 Jan 2026 09:00:00 CET" in table  # an instant in the change, in the viewer's zone
    entry = record(org, after={"commentary": long_text})
    page = client.get(org_url("compliance:audit_log", org)).content.decode()
    assert long_text.strip() in page and entry.hash  # whole, not cut (the cell wraps)


@pytest.mark.django_db
def test_targets_link_to_their_page_only_for_a_viewer_who_may_open_it(client, org, officer):
    share = ShareFactory(organization=org)
    team = TeamFactory(organization=org, name="Sales")
    with audit.acting_as(label="system"):
        audit.record("share.published", organization_id=org.pk, target=share, after={"status": "published"})
        audit.record("team.updated", organization_id=org.pk, target=team, before={"name": "S"}, after={"name": "Sales"})
        audit.record(
            "policy.term_removed",
            organization_id=org.pk,
            target_type="compliance.lexiconterm",
            target_id="3",
            before={"term": "risk free"},
        )
    client.force_login(officer.user)
    page = client.get(org_url("compliance:audit_log", org)).content.decode()
    assert f'href="/o/acme/review/shares/{share.pk}/"' in page
    assert 'href="/o/acme/policy/terms/"' in page
    # a compliance officer without the teams permission reads the team's name without a link
    assert f'href="/o/acme/teams/{team.pk}/"' not in page and "the team “Sales”" in page
    admin = MembershipFactory(organization=org, roles=[Role.COMPLIANCE, Role.ADMIN])
    client.force_login(admin.user)
    page = client.get(org_url("compliance:audit_log", org)).content.decode()
    assert f'href="/o/acme/teams/{team.pk}/"' in page


@pytest.mark.django_db
def test_times_are_in_the_viewers_zone_with_its_label(client, org, officer):
    with time_machine.travel(datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.UTC), tick=False):
        record(org)
    client.force_login(officer.user)
    page = client.get(org_url("compliance:audit_log", org)).content.decode()
    assert "1 Jul 2026 14:00:00\u00a0CEST" in page and "Times are in Europe/Paris." in page
    officer.user.timezone = "America/New_York"
    officer.user.save()
    page = client.get(org_url("compliance:audit_log", org)).content.decode()
    assert "1 Jul 2026 08:00:00\u00a0EDT" in page and "Times are in America/New_York." in page


@pytest.mark.django_db
def test_audit_search_finds_words_of_the_change_stemmed(client, org, officer):
    with audit.acting_as(label="dana@acme.test"):
        audit.record(
            "policy.term_added",
            organization_id=org.pk,
            target_type="compliance.lexiconterm",
            target_id="9",
            after={"term": "guaranteed", "action": "review", "note": ""},
        )
        audit.record(
            "team.created", organization_id=org.pk, target_type="accounts.team", target_id="7", after={"name": "Sales"}
        )
    client.force_login(officer.user)
    url = org_url("compliance:audit_log", org)
    page = client.get(url, {"q": "guarantee"}).content.decode()
    assert 'data-action="policy.term_added"' in page and 'data-action="team.created"' not in page
    page = client.get(url, {"q": "term added"}).content.decode()
    assert 'data-action="policy.term_added"' in page and 'data-action="team.created"' not in page
    assert 'data-action="team.created"' in client.get(url, {"q": "dana"}).content.decode()


@pytest.mark.django_db
def test_the_page_in_words_takes_a_fixed_number_of_queries(client, org, officer, django_assert_max_num_queries):
    client.force_login(officer.user)
    url = org_url("compliance:audit_log", org)

    def a_bit_of_everything():
        share = ShareFactory(organization=org)
        delivery = DeliveryFactory(share=share)
        team = TeamFactory(organization=org)
        with audit.acting_as(user=officer.user):
            audit.record("share.approved", organization_id=org.pk, target=share, after={"status": "approved"})
            audit.record("delivery.published", organization_id=org.pk, target=delivery, after={"status": "published"})
            audit.record("team.created", organization_id=org.pk, target=team, after={"name": team.name})
            audit.record("membership.updated", organization_id=org.pk, target=officer, after={"roles": ["x"]})
            audit.record(
                "review_task.opened",
                organization_id=org.pk,
                target_type="compliance.reviewtask",
                target_id="1",
                after={"share": share.pk},
            )

    a_bit_of_everything()
    client.get(url)  # warm the session
    with django_assert_max_num_queries(14) as few:
        client.get(url)
    for _ in range(9):
        a_bit_of_everything()
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url).content.decode()
    assert page.count('data-testid="audit-sentence"') == 50


# --- entries linked after commit (the publish engine's hot path) -------------------------------


@pytest.mark.django_db(transaction=True)
def test_entries_linked_after_commit_from_four_connections_make_one_valid_chain_with_the_locked_ones():
    org = OrganizationFactory()

    def appender(worker):
        def append():
            for n in range(15):
                # Two of the four write the usual way: both paths share the one chain.
                with audit.linked_after_commit() if worker % 2 else contextlib.nullcontext(), transaction.atomic():
                    record(org, after={"worker": worker, "n": n})
                    record(org, after={"worker": worker, "n": n, "second": True})

        return append

    run_at_once(*(appender(w) for w in range(4)))
    assert PendingAuditEntry.objects.for_org(org).count() == 0, "each commit linked its entries"
    chain = entries(org)
    assert [e.sequence for e in chain] == list(range(1, 121))
    for worker in range(4):
        mine = [(e.after["n"], "second" in e.after) for e in chain if e.after["worker"] == worker]
        assert mine == [(n, second) for n in range(15) for second in (False, True)], "each writer's order is kept"
    assert verify_chain(org) is None


@pytest.mark.django_db(transaction=True)
def test_a_linker_that_finds_another_at_work_leaves_its_entries_to_it_and_waits_for_nothing():
    from compliance.services.audit import _LINKER_NAMESPACE, chain_pending

    org = OrganizationFactory()
    record(org, action="test.before")

    def another_linker():  # holds the linkers' lock as a linker at work does
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_LINKER_NAMESPACE, org.pk])
        return "held"

    with held_by_another_connection(another_linker) as linker:
        with audit.linked_after_commit(), transaction.atomic():
            record(org, action="test.pending")
        # Its after-commit link found the other linker at work and returned at once.
        assert [e.action for e in entries(org)] == ["test.before"]
        assert PendingAuditEntry.objects.for_org(org).count() == 1
        assert chain_pending(org.pk, wait=False) == 0
    assert linker["held"] == "held"
    assert chain_pending(org.pk, wait=False) == 1
    assert [e.action for e in entries(org)] == ["test.before", "test.pending"]
    assert verify_chain(org) is None


@pytest.mark.django_db(transaction=True)
def test_an_entry_linked_after_commit_is_not_written_when_its_change_rolls_back():
    org = OrganizationFactory()
    with pytest.raises(RuntimeError), audit.linked_after_commit(), transaction.atomic():
        record(org)
        raise RuntimeError("the change failed")
    assert entries(org) == [] and PendingAuditEntry.objects.for_org(org).count() == 0


@pytest.mark.django_db(transaction=True)
def test_entries_a_dead_process_left_pending_are_linked_by_the_task_and_by_verify():
    org, other = OrganizationFactory(), OrganizationFactory()
    record(org, action="test.before")
    for owner in (org, other):  # committed, but the process died before its on_commit link
        PendingAuditEntry.objects.create(organization=owner, at=timezone.now(), action="test.left", after={"n": 1})
    assert [e.action for e in entries(org)] == ["test.before"]

    from django.conf import settings

    from compliance import tasks

    assert settings.CELERY_BEAT_SCHEDULE["chain-pending-audit"]["task"] == tasks.chain_pending_audit.name
    assert tasks.chain_pending_audit() == 2
    assert [e.action for e in entries(org)] == ["test.before", "test.left"]
    assert [(e.sequence, e.after) for e in entries(other)] == [(1, {"n": 1})]
    assert PendingAuditEntry.objects.all_organizations().filter(organization__in=[org, other]).count() == 0

    PendingAuditEntry.objects.create(organization=org, at=timezone.now(), action="test.later")
    assert verify_chain(org) is None
    assert [e.action for e in entries(org)][-1] == "test.later"


@pytest.mark.django_db(transaction=True)
def test_a_linked_entry_edited_afterwards_breaks_the_chain():
    org = OrganizationFactory()
    with audit.linked_after_commit(), transaction.atomic():
        record(org, after={"status": "published"})
    record(org, action="test.next")
    first = entries(org)[0]
    with transaction.atomic():
        edited = json.dumps({"status": "failed"})
        tamper("UPDATE compliance_auditentry SET after = %s WHERE id = %s", [edited, first.pk])
    broken = verify_chain(org)
    assert broken.sequence == 1 and "does not match its contents" in broken.problem


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("after_commit", [False, True], ids=["locked", "linked after commit"])
def test_record_many_appends_its_entries_in_order_in_one_statement(after_commit):
    org = OrganizationFactory()
    record(org, action="test.before")
    targets = [TeamFactory(organization=org) for _ in range(3)]
    context = audit.linked_after_commit() if after_commit else contextlib.nullcontext()
    with audit.acting_as(label="tester", ip=IP), context, transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            audit.record_many(
                org.pk,
                [
                    {"action": "team.moved", "target": team, "before": {"n": n}, "after": {"n": n + 1}}
                    for n, team in enumerate(targets)
                ],
            )
        inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("INSERT")]
        assert len(inserts) == 1, inserts
    chain = entries(org)
    assert [(e.action, e.target_id, e.before, e.after) for e in chain[1:]] == [
        ("team.moved", str(team.pk), {"n": n}, {"n": n + 1}) for n, team in enumerate(targets)
    ]
    assert {(e.actor_label, e.ip, e.target_type) for e in chain[1:]} == {("tester", IP, "accounts.team")}
    assert PendingAuditEntry.objects.for_org(org).count() == 0
    assert verify_chain(org) is None


@pytest.mark.django_db
def test_record_many_refuses_a_bad_action_and_writes_nothing():
    org = OrganizationFactory()
    team = TeamFactory(organization=org)
    with pytest.raises(ValueError):
        audit.record_many(org.pk, [{"action": "team.ok", "target": team}, {"action": "", "target": team}])
    assert entries(org) == [] and PendingAuditEntry.objects.for_org(org).count() == 0


@pytest.mark.django_db(transaction=True)
def test_entries_linked_later_wait_pending_for_the_organizations_next_link_and_keep_their_order():
    org = OrganizationFactory()
    team = TeamFactory(organization=org)
    with audit.linked_later(), transaction.atomic():  # the publishing batch's claim
        record(org, action="test.claimed")
        audit.record_many(org.pk, [{"action": "test.claimed_too", "target": team}])
    assert entries(org) == [], "nothing linked after this commit"
    assert PendingAuditEntry.objects.for_org(org).count() == 2

    with audit.linked_after_commit(), transaction.atomic():  # its record, a second later
        record(org, action="test.recorded")

    assert [e.action for e in entries(org)] == ["test.claimed", "test.claimed_too", "test.recorded"]
    assert PendingAuditEntry.objects.for_org(org).count() == 0
    assert verify_chain(org) is None
