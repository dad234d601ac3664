"""Web Push: a member's devices receive, from the worker's task, a VAPID-signed and
aes128gcm-encrypted push for the kinds they opted into; an expired device is forgotten; a
busy push service is retried a bounded number of times. The push service is the local
emulator (tests/webpush_fixture.py): real HTTP, the checks the real services make."""

from __future__ import annotations

import json
import os
import threading
import time
from functools import partial

import http_ece
import jwt
import pytest
from celery.exceptions import Retry
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from accounts import tasks
from accounts.models import Notification, PushSubscription, Role
from accounts.services import notifications, push
from advocacy.errors import NotFound, ValidationFailed
from integrations.webpush import keys
from integrations.webpush.errors import PushUnavailable
from tests.accounts.factories import MembershipFactory, OrganizationFactory, PushSubscriptionFactory
from tests.helpers import org_url as url

pytestmark = pytest.mark.django_db

Kind = Notification.Kind


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def employee(org):
    return MembershipFactory(organization=org, roles=[Role.EMPLOYEE])


def add_device(push_service, membership, **browser_keys) -> tuple[dict, PushSubscription]:
    """A browser subscribes with our VAPID key at the push service, and the member saves it."""
    subscription = push_service.subscription(push.application_server_key(), **browser_keys)
    row = push.subscribe_device(
        actor=membership,
        endpoint=subscription["endpoint"],
        p256dh=subscription["keys"]["p256dh"],
        auth=subscription["keys"]["auth"],
    )
    return subscription, row


def want_push(membership, *kinds):
    notifications.set_preferences(actor=membership, preferences={kind: {"push": True} for kind in kinds})


def push_callbacks(callbacks) -> list[partial]:
    return [c for c in callbacks if isinstance(c, partial) and c.func is push._send_push_task]


def notify(membership, kind, message="Your post is live on LinkedIn.", url_="/o/acme/shares/7/"):
    return notifications.notify(
        organization_id=membership.organization_id, user_id=membership.user_id, kind=kind, message=message, url=url_
    )


# --- delivery -------------------------------------------------------------------------------


def test_your_post_is_live_reaches_the_device_signed_with_vapid_and_encrypted(
    push_service, employee, settings, django_capture_on_commit_callbacks, eager_tasks
):
    # The browser's side, made here: its P-256 key pair and its 16-byte auth secret.
    browser_key = ec.generate_private_key(ec.SECP256R1())
    auth_secret = os.urandom(16)
    scalar = browser_key.private_numbers().private_value.to_bytes(32, "big")
    subscription, row = add_device(push_service, employee, private_scalar=scalar, auth=auth_secret)
    assert subscription["keys"]["p256dh"] == keys.b64url(keys.public_point(browser_key))
    want_push(employee, Kind.SHARE_PUBLISHED)

    with django_capture_on_commit_callbacks() as callbacks:
        notify(employee, Kind.SHARE_PUBLISHED)
    assert push_service.received(subscription)["attempts"] == 0  # nothing is sent in the request
    [callback] = push_callbacks(callbacks)
    assert tasks.push_notification.apply(args=callback.args).get() == 1

    [message] = push_service.received(subscription)["messages"]
    # The VAPID header, checked here with our public key: t=<JWT ES256>, k=<public key>.
    scheme, _, params = message["authorization"].partition(" ")
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert scheme == "vapid" and fields["k"] == push.application_server_key()
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), keys.b64url_decode(fields["k"]))
    claims = jwt.decode(fields["t"], key=public, algorithms=["ES256"], audience=push_service.url)
    assert claims["sub"] == settings.VAPID_SUBJECT
    assert time.time() < claims["exp"] <= time.time() + 24 * 3600
    # The body, decrypted here with the browser's private key and auth secret (RFC 8291).
    plain = http_ece.decrypt(
        keys.b64url_decode(message["body"]), private_key=browser_key, auth_secret=auth_secret, version="aes128gcm"
    )
    assert json.loads(plain) == {
        "kind": "share_published",
        "title": "Your post is live · Acme",
        "body": "Your post is live on LinkedIn.",
        "url": "/o/acme/shares/7/",
    }
    assert message["payload"] == json.loads(plain)  # the push service decrypted the same
    assert message["ttl"] == settings.WEB_PUSH_TTL
    row.refresh_from_db()
    assert row.last_sent_at is not None


def test_every_device_of_the_member_gets_the_push(
    push_service, employee, django_capture_on_commit_callbacks, eager_tasks
):
    phone, _ = add_device(push_service, employee)
    laptop, _ = add_device(push_service, employee)
    want_push(employee, Kind.SHARE_CHANGES_REQUESTED)
    with django_capture_on_commit_callbacks() as callbacks:
        notify(employee, Kind.SHARE_CHANGES_REQUESTED, message="Compliance sent your share back.")
    [callback] = push_callbacks(callbacks)
    assert tasks.push_notification.apply(args=callback.args).get() == 2
    for device in (phone, laptop):
        [message] = push_service.received(device)["messages"]
        assert message["payload"]["title"] == "Your share was sent back · Acme"
        assert message["payload"]["body"] == "Compliance sent your share back."


def test_a_410_from_the_push_service_deletes_the_subscription(push_service, employee):
    subscription, row = add_device(push_service, employee)
    push_service.unsubscribe(subscription)  # the browser unsubscribed: the push service answers 410
    payload = push.push_payload(
        organization_id=employee.organization_id, kind=Kind.SHARE_PUBLISHED, message="x", url="/"
    )
    assert push.deliver_push(subscription_id=row.pk, organization_id=row.organization_id, payload=payload) == "gone"
    assert not PushSubscription.objects.for_org(employee.organization).filter(pk=row.pk).exists()
    assert push_service.received(subscription)["attempts"] == 1


def test_a_404_from_the_push_service_deletes_the_subscription(push_service, employee):
    real, _ = add_device(push_service, employee)
    row = push.subscribe_device(
        actor=employee,
        endpoint=f"{push_service.url}/push/expired-long-ago",
        p256dh=real["keys"]["p256dh"],
        auth=real["keys"]["auth"],
    )
    assert push.deliver_push(subscription_id=row.pk, organization_id=row.organization_id, payload={"a": 1}) == "gone"
    assert not PushSubscription.objects.for_org(employee.organization).filter(pk=row.pk).exists()


def test_a_busy_push_service_is_retried_a_bounded_number_of_times_and_the_device_kept(
    push_service, employee, eager_tasks
):
    subscription, row = add_device(push_service, employee)
    push_service.fault(503, times=100, retry_after=30)
    args = [row.pk, row.organization_id, {"a": 1}]
    # Celery runs each retry as the same task with request.retries one higher.
    for retries in range(tasks.deliver_push.max_retries):
        with pytest.raises(Retry) as retry:
            tasks.deliver_push.apply(args=args, retries=retries).get()
        assert retry.value.when == 30  # the push service's Retry-After
    with pytest.raises(PushUnavailable) as raised:  # the last try: given up, raised for the log
        tasks.deliver_push.apply(args=args, retries=tasks.deliver_push.max_retries).get()
    assert raised.value.status == 503
    assert push_service.received(subscription) == {"messages": [], "attempts": 1 + tasks.deliver_push.max_retries}
    assert PushSubscription.objects.for_org(employee.organization).filter(pk=row.pk).exists()


def test_without_retry_after_the_retries_back_off(push_service, employee, eager_tasks):
    _, row = add_device(push_service, employee)
    push_service.fault(500, times=3)
    waits = []
    for retries in range(3):
        with pytest.raises(Retry) as retry:
            tasks.deliver_push.apply(args=[row.pk, row.organization_id, {"n": 1}], retries=retries).get()
        waits.append(retry.value.when)
    assert waits == [30, 60, 120]


def test_a_push_retried_after_a_busy_moment_arrives_once(push_service, employee, eager_tasks):
    subscription, row = add_device(push_service, employee)
    push_service.fault(429, times=2)
    args = [row.pk, row.organization_id, {"n": 1}]
    for retries in range(2):
        with pytest.raises(Retry):
            tasks.deliver_push.apply(args=args, retries=retries).get()
    assert tasks.deliver_push.apply(args=args, retries=2).get() == "sent"
    received = push_service.received(subscription)
    assert received["attempts"] == 3 and [m["payload"] for m in received["messages"]] == [{"n": 1}]


def test_a_push_refused_for_good_is_logged_and_dropped(push_service, employee, caplog):
    # The browser subscribed with another server's VAPID key: the push service answers 403.
    other_key = keys.application_server_key(keys.generate_private_pem())
    subscription = push_service.subscription(other_key)
    row = push.subscribe_device(
        actor=employee,
        endpoint=subscription["endpoint"],
        p256dh=subscription["keys"]["p256dh"],
        auth=subscription["keys"]["auth"],
    )
    assert (
        push.deliver_push(subscription_id=row.pk, organization_id=row.organization_id, payload={"a": 1}) == "rejected"
    )
    assert "refused a push" in caplog.text
    assert push_service.received(subscription)["messages"] == []
    assert PushSubscription.objects.for_org(employee.organization).filter(pk=row.pk).exists()


# --- opt-in per kind --------------------------------------------------------------------------


def test_push_is_off_until_the_member_opts_in(push_service, employee, django_capture_on_commit_callbacks):
    add_device(push_service, employee)
    with django_capture_on_commit_callbacks() as callbacks:
        notify(employee, Kind.SHARE_PUBLISHED)
    assert push_callbacks(callbacks) == []


def test_opting_out_of_a_kind_sends_nothing_for_it(
    push_service, employee, django_capture_on_commit_callbacks, eager_tasks
):
    subscription, _ = add_device(push_service, employee)
    want_push(employee, Kind.SHARE_PUBLISHED, Kind.SHARE_CHANGES_REQUESTED)
    notifications.set_preferences(actor=employee, preferences={Kind.SHARE_CHANGES_REQUESTED: {"push": False}})
    with django_capture_on_commit_callbacks() as callbacks:
        notify(employee, Kind.SHARE_CHANGES_REQUESTED, message="Sent back.")
        notify(employee, Kind.SHARE_APPROVED, message="Approved.")  # never a push kind
        notify(employee, Kind.SHARE_PUBLISHED, message="Live.")
    sent = push_callbacks(callbacks)
    assert [c.args[2] for c in sent] == [Kind.SHARE_PUBLISHED]
    # Turned off after it was queued: the worker reads the preference again and sends nothing.
    notifications.set_preferences(actor=employee, preferences={Kind.SHARE_PUBLISHED: {"push": False}})
    assert tasks.push_notification.apply(args=sent[0].args).get() == 0
    assert push_service.received(subscription) == {"messages": [], "attempts": 0}


def test_push_can_only_be_turned_on_for_the_three_push_kinds(employee):
    notifications.set_preferences(
        actor=employee, preferences={Kind.SHARE_APPROVED: {"push": True}, Kind.SHARE_PUBLISHED: {"push": True}}
    )
    prefs = notifications.preferences_of(employee)
    assert prefs[Kind.SHARE_APPROVED].push is False and prefs[Kind.SHARE_PUBLISHED].push is True
    assert set(push.PUSH_KINDS) == {Kind.CONTENT_DIGEST, Kind.SHARE_CHANGES_REQUESTED, Kind.SHARE_PUBLISHED}


# --- devices --------------------------------------------------------------------------------

FCM = "https://fcm.googleapis.com/fcm/send/abc123"
VALID = {"p256dh": PushSubscriptionFactory.p256dh, "auth": PushSubscriptionFactory.auth}


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://169.254.169.254/latest/meta-data/",  # an internal address
        "https://evil.example/push/1",  # not a push service
        "http://fcm.googleapis.com/fcm/send/1",  # a push service, but not over https
        "https://fcm.googleapis.com.evil.example/x",
        "https://user@fcm.googleapis.com/x",
        "",
    ],
)
def test_an_endpoint_that_is_not_a_push_service_is_refused_and_nothing_saved(employee, endpoint):
    with pytest.raises(ValidationFailed, match="push service is not one we can send to"):
        push.subscribe_device(actor=employee, endpoint=endpoint, **VALID)
    assert not PushSubscription.objects.for_org(employee.organization).exists()


@pytest.mark.parametrize("p256dh, auth", [("not-a-key", VALID["auth"]), (VALID["p256dh"], "c2hvcnQ"), ("", "")])
def test_keys_that_cannot_encrypt_are_refused_and_nothing_saved(employee, p256dh, auth):
    with pytest.raises(ValidationFailed, match="push keys we cannot use"):
        push.subscribe_device(actor=employee, endpoint=FCM, p256dh=p256dh, auth=auth)
    assert not PushSubscription.objects.for_org(employee.organization).exists()


def test_several_devices_per_member_and_a_browser_is_saved_once(org, employee):
    push.subscribe_device(actor=employee, endpoint=FCM, **VALID)
    push.subscribe_device(actor=employee, endpoint="https://updates.push.services.mozilla.com/wpush/v2/x", **VALID)
    push.subscribe_device(actor=employee, endpoint=FCM, **VALID)  # the same browser again
    assert PushSubscription.objects.for_org(org).filter(user=employee.user).count() == 2
    colleague = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    push.subscribe_device(actor=colleague, endpoint=FCM, **VALID)  # signed in on that browser after
    assert PushSubscription.objects.for_org(org).get(endpoint=FCM).user == colleague.user


def test_a_member_forgets_only_their_own_device(org, employee):
    colleague = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    push.subscribe_device(actor=colleague, endpoint=FCM, **VALID)
    with pytest.raises(NotFound):
        push.unsubscribe_device(actor=employee, endpoint=FCM)
    assert PushSubscription.objects.for_org(org).filter(endpoint=FCM).exists()
    push.unsubscribe_device(actor=colleague, endpoint=FCM)
    assert not PushSubscription.objects.for_org(org).exists()


def test_the_vapid_key_is_generated_once_into_private_root_and_kept(settings, tmp_path):
    settings.VAPID_PRIVATE_KEY = ""
    settings.PRIVATE_ROOT = tmp_path
    first = push.application_server_key()
    assert (tmp_path / "webpush" / "vapid_private.pem").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert oct((tmp_path / "webpush" / "vapid_private.pem").stat().st_mode)[-3:] == "600"
    assert push.application_server_key() == first
    settings.VAPID_PRIVATE_KEY = keys.generate_private_pem()  # the environment's wins
    assert push.application_server_key() != first


# --- the endpoints and the preferences page -------------------------------------------------


def test_the_browser_saves_its_subscription_as_json(client, org, employee):
    client.force_login(employee.user)
    body = json.dumps({"endpoint": FCM, "expirationTime": None, "keys": VALID})
    response = client.post(url("push_subscribe", org), body, content_type="application/json")
    assert response.status_code == 201 and response.json() == {"subscribed": True}
    assert PushSubscription.objects.for_org(org).get().user == employee.user
    response = client.post(url("push_unsubscribe", org), json.dumps({"endpoint": FCM}), content_type="application/json")
    assert response.status_code == 200 and not PushSubscription.objects.for_org(org).exists()
    response = client.post(url("push_unsubscribe", org), json.dumps({"endpoint": FCM}), content_type="application/json")
    assert response.status_code == 404


def test_a_bad_subscription_gets_words_and_changes_nothing(client, org, employee):
    client.force_login(employee.user)
    for body in ("not json", json.dumps({"endpoint": "https://evil.example/x", "keys": VALID}), json.dumps([1])):
        response = client.post(url("push_subscribe", org), body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["error"]["message"] == "This browser's push service is not one we can send to."
    assert not PushSubscription.objects.for_org(org).exists()


def test_the_device_endpoints_need_the_csrf_token_and_never_act_on_get(org, employee):
    client = Client(enforce_csrf_checks=True)
    client.force_login(employee.user)
    body = json.dumps({"endpoint": FCM, "keys": VALID})
    assert client.post(url("push_subscribe", org), body, content_type="application/json").status_code == 403
    assert client.get(url("push_subscribe", org)).status_code == 405
    assert not PushSubscription.objects.for_org(org).exists()


def test_preferences_page_offers_push_for_three_kinds_and_the_device_button(client, org, employee):
    client.force_login(employee.user)
    page = client.get(url("notification_preferences", org)).content.decode()
    assert {kind for kind in Kind.values if f'name="{kind}__push"' in page} == set(push.PUSH_KINDS)
    assert "Enable notifications on this device" in page
    assert f'data-key="{push.application_server_key()}"' in page
    data = {
        f"{kind}__{what}": "on" for kind in Kind.values if kind != Kind.CONTENT_DIGEST for what in ("in_app", "email")
    }
    data |= {"content_digest__digest": "weekly", "content_digest__push": "on", "share_published__push": "on"}
    assert client.post(url("notification_preferences", org), data).status_code == 302
    prefs = notifications.preferences_of(employee)
    assert [kind for kind in push.PUSH_KINDS if prefs[kind].push] == [Kind.CONTENT_DIGEST, Kind.SHARE_PUBLISHED]


def test_the_demo_phone_of_make_run_receives_emmas_pushes(employee, settings, eager_tasks):
    """`make run`: seed_demo saves the demo phone (accounts.demo) before the push emulator
    starts, and `run_webpush_emulator --demo` subscribes it with the same fixed keys."""
    from accounts.demo import seed_demo_phone
    from integrations.webpush import emulator

    store = emulator.State()
    emulator.add_demo_phone(store, push.application_server_key())
    server = emulator.make_server("127.0.0.1", 0, store=store)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        settings.WEBPUSH_EMULATOR_PORT = server.server_address[1]
        settings.WEB_PUSH_EXTRA_ORIGINS = [store.origin]
        seed_demo_phone(employee)
        seed_demo_phone(employee)  # seeding again changes nothing
        prefs = notifications.preferences_of(employee)
        assert all(prefs[kind].push for kind in push.PUSH_KINDS)
        assert (
            tasks.push_notification.apply(
                args=[employee.organization_id, employee.user_id, Kind.SHARE_PUBLISHED, "Live.", "/"]
            ).get()
            == 1
        )
        [message] = store.subscriptions[emulator.DEMO_TOKEN].messages
        assert message["payload"]["body"] == "Live."
    finally:
        server.shutdown()
        server.server_close()


def test_signing_out_stops_the_pushes_to_the_devices_of_that_session(client, org, employee):
    """A shared phone: after the member signs out, their notifications no longer reach it;
    their devices subscribed elsewhere keep receiving."""
    elsewhere = PushSubscriptionFactory(organization=org, user=employee.user)
    client.force_login(employee.user)
    body = json.dumps({"endpoint": FCM, "keys": VALID})
    assert client.post(url("push_subscribe", org), body, content_type="application/json").status_code == 201
    page = client.get(url("notification_preferences", org)).content.decode()
    assert "2 devices so far" in page and FCM in page  # push.js compares this browser's endpoint
    client.post("/accounts/logout/")
    assert list(PushSubscription.objects.for_org(org).values_list("pk", flat=True)) == [elsewhere.pk]


def test_a_device_whose_push_service_is_no_longer_allowed_gets_nothing(push_service, employee, settings):
    subscription, row = add_device(push_service, employee)
    settings.WEB_PUSH_EXTRA_ORIGINS = []
    assert (
        push.deliver_push(subscription_id=row.pk, organization_id=row.organization_id, payload={"a": 1})
        == "not_allowed"
    )
    assert push_service.received(subscription)["attempts"] == 0
