"""Pytest plugin: the `hubspot` fixture, one HubSpot emulator per test session, served on
loopback by a thread of the test process (real HTTP, real sockets; no mock).

Tests call `hubspot.reset()` first (the emulator is shared by the session) and drive it
through its control API, exactly as the demo does.
"""

from __future__ import annotations

import threading

import pytest

from integrations.hubspot import emulator
from integrations.hubspot.client import HubSpotClient, HubSpotConfig
from tests.emulator_fixture import control_call

CLIENT_ID, CLIENT_SECRET = "test-hubspot-app", "test-hubspot-secret"
REDIRECT_URI = "http://testserver/crm/hubspot/callback/"


class HubSpotEmulator:
    def __init__(self, url: str):
        self.url = url

    def control(self, method: str, name: str, body: dict | None = None) -> dict:
        return control_call(self.url, method, name, body)

    def reset(self, *, redirect_uri: str = REDIRECT_URI) -> None:
        self.control("POST", "reset")
        self.control(
            "POST", "apps", {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": [redirect_uri]}
        )

    def contact(self, email: str = "", **properties) -> str:
        return self.control("POST", "contacts", {"email": email, "properties": properties})["id"]

    def deal(self, *, contacts: tuple[str, ...] = (), **properties) -> str:
        return self.control("POST", "deals", {"properties": properties, "contacts": list(contacts)})["id"]

    def update_deal(self, deal_id: str, **properties) -> dict:
        return self.control("PATCH", f"deals/{deal_id}", {"properties": properties})

    def fault(self, kind: str, **fields) -> dict:
        return self.control("POST", "faults", {"kind": kind, **fields})

    def auto_approve(self, approve: bool | None = True) -> None:
        self.control("POST", "auto_approve", {"approve": approve})

    def advance_clock(self, seconds: float) -> None:
        self.control("POST", "clock", {"advance": seconds})

    def state(self) -> dict:
        return self.control("GET", "state")

    def client(self, redirect_uri: str = REDIRECT_URI) -> HubSpotClient:
        return HubSpotClient(HubSpotConfig(CLIENT_ID, CLIENT_SECRET, redirect_uri, origin=self.url, timeout=5))


@pytest.fixture(scope="session")
def hubspot_server():
    server = emulator.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield HubSpotEmulator(f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


@pytest.fixture
def hubspot(hubspot_server):
    """The session's HubSpot emulator, reset, with the test app registered."""
    hubspot_server.reset()
    return hubspot_server
