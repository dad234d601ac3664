"""The Web Push client against the local push service, and the push service's own
strictness (what the browsers' push services refuse, it refuses: RFC 8030, 8291, 8292)."""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from integrations.webpush import keys
from integrations.webpush.client import MAX_PAYLOAD, Subscription, WebPushClient
from integrations.webpush.errors import PushRejected, PushUnavailable, SubscriptionGone

PEM = keys.generate_private_pem()
# A browser's keys (a valid P-256 point and a 16-byte secret) for a push service that is down.
PUSH_KEYS = {
    "p256dh": "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
    "auth": "AAAAAAAAAAAAAAAAAAAAAA",
}


@pytest.fixture
def service(push_service_server):
    push_service_server.control("POST", "reset")
    return push_service_server


@pytest.fixture
def subscription(service) -> dict:
    return service.subscription(keys.application_server_key(PEM))


def client() -> WebPushClient:
    return WebPushClient(vapid_private_pem=PEM, subject="mailto:ops@acme.test", timeout=5)


def of(data: dict) -> Subscription:
    return Subscription(data["endpoint"], data["keys"]["p256dh"], data["keys"]["auth"])


def vapid(aud: str, *, exp: float | None = None, sub: str = "mailto:ops@acme.test", pem: str = PEM) -> str:
    key = keys.load_private_key(pem)
    claims = {"aud": aud, "exp": int(exp or time.time() + 3600), "sub": sub}
    token = jwt.encode(claims, key, algorithm="ES256")
    return f"vapid t={token}, k={keys.application_server_key(pem)}"


def test_the_client_delivers_and_the_service_decrypts(service, subscription):
    location = client().send(of(subscription), {"title": "Bonjour", "n": 1}, ttl=60, urgency="high")
    assert location.startswith(service.url + "/message/")
    [message] = service.received(subscription)["messages"]
    assert message["payload"] == {"title": "Bonjour", "n": 1}
    assert (message["ttl"], message["urgency"]) == (60, "high")


def test_gone_busy_and_refused_are_typed(service, subscription):
    service.fault(503, retry_after=12)
    with pytest.raises(PushUnavailable) as busy:
        client().send(of(subscription), {"a": 1}, ttl=60)
    assert (busy.value.status, busy.value.retry_after) == (503, 12)
    service.unsubscribe(subscription)
    with pytest.raises(SubscriptionGone) as gone:
        client().send(of(subscription), {"a": 1}, ttl=60)
    assert gone.value.status == 410
    with pytest.raises(PushRejected):
        client().send(of(subscription), {"text": "x" * MAX_PAYLOAD}, ttl=60)  # refused before sending


def test_an_unreachable_push_service_is_unavailable():
    dead = Subscription("http://127.0.0.1:9/push/x", PUSH_KEYS["p256dh"], PUSH_KEYS["auth"])
    with pytest.raises(PushUnavailable):
        client().send(dead, {"a": 1}, ttl=60)


@pytest.mark.parametrize(
    "headers, status",
    [
        ({"TTL": "60"}, 401),  # no VAPID at all
        ({"TTL": "60", "Authorization": "WebPush abc"}, 401),  # the old scheme
        ({"TTL": "60", "Authorization": "AUD"}, 401),  # another audience (filled in below)
        ({"TTL": "60", "Authorization": "EXP"}, 401),  # expires more than 24 hours ahead
        ({"TTL": "60", "Authorization": "SUB"}, 401),  # a sub that is neither mailto: nor https:
        ({"TTL": "60", "Authorization": "KEY"}, 403),  # not the key the subscription was made with
        ({"Authorization": "OK"}, 400),  # no TTL
        ({"TTL": "60", "Authorization": "OK", "Urgency": "urgent"}, 400),
        ({"TTL": "60", "Authorization": "OK", "Content-Encoding": "aesgcm"}, 415),
        ({"TTL": "60", "Authorization": "OK", "Content-Encoding": "aes128gcm", "BIG": "1"}, 413),
        ({"TTL": "60", "Authorization": "OK", "Content-Encoding": "aes128gcm"}, 400),  # not decryptable
    ],
)
def test_the_push_service_refuses_what_the_real_ones_refuse(service, subscription, headers, status):
    headers = dict(headers)
    auth = {
        "AUD": lambda: vapid("https://fcm.googleapis.com"),
        "EXP": lambda: vapid(service.url, exp=time.time() + 25 * 3600),
        "SUB": lambda: vapid(service.url, sub="ops@acme.test"),
        "KEY": lambda: vapid(service.url, pem=keys.generate_private_pem()),
        "OK": lambda: vapid(service.url),
    }
    if headers.get("Authorization") in auth:
        headers["Authorization"] = auth[headers["Authorization"]]()
    body = b"x" * 5000 if headers.pop("BIG", None) else b"not encrypted at all"
    response = requests.post(subscription["endpoint"], data=body, headers=headers, timeout=5)
    assert response.status_code == status, response.text
    assert service.received(subscription)["messages"] == []
