"""Pytest plugin: the `slack` fixture, one Slack emulator per test session, served on loopback
by a thread of the test process (real HTTP, real sockets; no mock).

Tests get it reset, with the test app registered; they drive it through its control API
(add people and channels, play a click or a modal's submit, set a fault), as the demo does.
"""

from __future__ import annotations

import threading

import pytest

from integrations.slack import emulator
from integrations.slack.client import SlackClient, SlackConfig
from tests.emulator_fixture import control_call

CLIENT_ID, CLIENT_SECRET, SIGNING_SECRET = "test-slack-app", "test-slack-secret", "test-slack-signing-secret"
REDIRECT_URI = "http://testserver/slack/oauth/callback/"


class SlackEmulator:
    def __init__(self, url: str):
        self.url = url

    def control(self, method: str, name: str, body: dict | None = None) -> dict:
        return control_call(self.url, method, name, body)

    def reset(self, *, request_url: str = "") -> None:
        self.control("POST", "reset")
        self.register(request_url)

    def register(self, request_url: str = "") -> None:
        self.control(
            "POST",
            "apps",
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "signing_secret": SIGNING_SECRET,
                "redirect_uris": [REDIRECT_URI],
                "request_url": request_url,
            },
        )

    def user(self, name: str, email: str, **extra) -> dict:
        return self.control("POST", "users", {"name": name, "email": email, **extra})

    def channel(self, name: str, **extra) -> dict:
        return self.control("POST", "channels", {"name": name, **extra})

    def fault(self, kind: str, **fields) -> dict:
        return self.control("POST", "faults", {"kind": kind, **fields})

    def auto_approve(self, approve: bool | None = True) -> None:
        self.control("POST", "auto_approve", {"approve": approve})

    def advance_clock(self, seconds: float) -> None:
        self.control("POST", "clock", {"advance": seconds})

    def click(self, **fields) -> dict:
        return self.control("POST", "click", fields)

    def submit(self, **fields) -> dict:
        return self.control("POST", "submit", fields)

    def state(self) -> dict:
        return self.control("GET", "state")

    def client(self, redirect_uri: str = REDIRECT_URI) -> SlackClient:
        return SlackClient(SlackConfig(CLIENT_ID, CLIENT_SECRET, redirect_uri, origin=self.url, timeout=5))


@pytest.fixture(scope="session")
def slack_server():
    server = emulator.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield SlackEmulator(f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


@pytest.fixture
def slack(slack_server, settings):
    """The session's Slack emulator, reset, with the test app registered, and the settings
    pointing the app at it."""
    slack_server.reset()
    settings.SLACK_ORIGIN = slack_server.url
    settings.SLACK_CLIENT_ID, settings.SLACK_CLIENT_SECRET = CLIENT_ID, CLIENT_SECRET
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    return slack_server
