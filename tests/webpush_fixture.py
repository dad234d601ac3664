"""Pytest plugin: the `push_service` fixture, one local push service per test session (the
Web Push emulator, integrations/webpush/emulator.py), served on loopback by a thread of the
test process: real HTTP, real VAPID checks, real aes128gcm decryption; no mock.

The fixture resets it and lets the product post to it (WEB_PUSH_EXTRA_ORIGINS). A test makes
a browser's subscription with `push_service.subscription()`, optionally with the P-256 key
pair and auth secret it generated itself.
"""

from __future__ import annotations

import threading

import pytest

from integrations.webpush import emulator
from integrations.webpush.keys import b64url
from tests.emulator_fixture import control_call


class PushService:
    def __init__(self, url: str):
        self.url = url

    def control(self, method: str, name: str, body: dict | None = None) -> dict:
        return control_call(self.url, method, name, body)

    def subscription(self, application_server_key: str, *, private_scalar: bytes = b"", auth: bytes = b"") -> dict:
        """A browser's `PushSubscription.toJSON()` for the given VAPID public key."""
        body = {"application_server_key": application_server_key}
        if private_scalar:
            body |= {"private_key": b64url(private_scalar), "auth": b64url(auth)}
        return self.control("POST", "subscriptions", body)

    @staticmethod
    def token(subscription: dict) -> str:
        return subscription["endpoint"].rsplit("/", 1)[1]

    def received(self, subscription: dict) -> dict:
        """{"messages": [...], "attempts": n} of one subscription."""
        return self.control("GET", f"subscriptions/{self.token(subscription)}/messages")

    def unsubscribe(self, subscription: dict) -> None:
        self.control("DELETE", f"subscriptions/{self.token(subscription)}")

    def fault(self, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        self.control("POST", "faults", {"status": status, "times": times, "retry_after": retry_after})


@pytest.fixture(scope="session")
def push_service_server():
    server = emulator.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield PushService(server.store.origin)
    server.shutdown()
    server.server_close()


@pytest.fixture
def push_service(push_service_server, settings):
    """The session's push service, reset, and an origin the product may post to."""
    push_service_server.control("POST", "reset")
    settings.WEB_PUSH_EXTRA_ORIGINS = [push_service_server.url]
    return push_service_server


@pytest.fixture
def eager_tasks():
    """Tasks run in this process when sent with .delay (the fan-out's deliveries), so a test
    follows one push from the notification to the push service without a broker."""
    from advocacy.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
