"""Pytest plugin: the `network_emulator` fixture, one emulator process per test session.

Register with `pytest_plugins = ["tests.emulator_fixture"]`. Tests that need a clean
slate call `network_emulator.reset()` first (the process is shared by the session).
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 15.0


class EmulatorError(AssertionError):
    """A control call was refused; the message carries the emulator's answer."""


def control_call(url: str, method: str, name: str, body: dict | None = None) -> dict:
    """One call of an emulator's control API (`/_emulator/<name>`, JSON in and out);
    a refusal raises EmulatorError with the emulator's answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}/_emulator/{name}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raise EmulatorError(f"{method} /_emulator/{name} -> {exc.code}: {exc.read().decode()}") from None


class NetworkEmulator:
    """The running emulator: its base `url`, `origin(network)`, and the control API."""

    def __init__(self, url: str, process: subprocess.Popen, log_path: Path):
        self.url = url
        self.process = process
        self.log_path = log_path

    def origin(self, network: str) -> str:
        """What a client's `origin` should be, e.g. http://127.0.0.1:PORT/linkedin."""
        return f"{self.url}/{network}"

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def control(self, method: str, name: str, body: dict | None = None) -> dict:
        return control_call(self.url, method, name, body)

    def reset(self) -> None:
        self.control("POST", "reset")

    def register_app(
        self,
        network: str,
        client_id: str,
        client_secret: str = "",
        redirect_uris: list[str] | tuple[str, ...] = ("http://testserver/callback",),
        *,
        partner: bool = False,
        scopes: list[str] | None = None,
        consumer: tuple[str, str] | None = None,
    ) -> dict:
        body = {
            "network": network,
            "client_id": client_id,
            "client_secret": client_secret,
            "redirect_uris": list(redirect_uris),
            "partner": partner,
        }
        if scopes is not None:
            body["scopes"] = list(scopes)
        if consumer is not None:  # X's API Key and Secret (app-only bearer token)
            body["consumer_key"], body["consumer_secret"] = consumer
        return self.control("POST", "apps", body)

    def create_account(self, network: str, name: str = "Ada Lovelace", **fields) -> dict:
        """fields: id, username, email, pages=[{"id"?, "name", "tasks": [...], "category"?}]."""
        return self.control("POST", "accounts", {"network": network, "name": name, **fields})

    def auto_approve(self, network: str, account_id: str | None, *, deny: bool = False) -> dict:
        return self.control("POST", "auto_approve", {"network": network, "account_id": account_id, "deny": deny})

    def fault(self, network: str, kind: str, **fields) -> dict:
        """fields: account_id, times, path, method, reset_in, delay, code (Facebook 4/17/32/613)."""
        return self.control("POST", "faults", {"network": network, "kind": kind, **fields})

    def faults(self) -> list[dict]:
        return self.control("GET", "faults")["faults"]

    def advance_clock(self, seconds: float) -> str:
        """Move the emulator clock forward; returns its new time (ISO 8601)."""
        return self.control("POST", "clock", {"advance": seconds})["now"]

    def settings(self, **values) -> dict:
        return self.control("POST", "settings", values)

    def state(self) -> dict:
        return self.control("GET", "state")


def start_server_process(args: list[str], ready: str, log_path: Path, what: str) -> tuple[subprocess.Popen, str]:
    """Start `python <args>` (a test server that prints `<ready> <url>` once it serves) and
    return the process and its URL; fail the test run, with its log, if it does not start."""
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(process.stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        line = ""
    if not line.startswith(f"{ready} "):
        process.kill()
        process.wait()
        rest = process.stdout.read() if process.stdout else ""
        pytest.fail(
            f"{what} did not start within {START_TIMEOUT:.0f} s "
            f"(exit code {process.returncode}).\nstdout: {line}{rest}\nstderr:\n{log_path.read_text()[-3000:]}"
        )
    return process, line.split()[-1]


def stop_server_process(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout:
        process.stdout.close()


@pytest.fixture(scope="session")
def network_emulator(tmp_path_factory):
    """Start `python -m networks.emulator --port 0` for the session and stop it after."""
    log_path = tmp_path_factory.mktemp("network-emulator") / "emulator.log"
    process, url = start_server_process(
        ["-m", "networks.emulator", "--port", "0"], "EMULATOR LISTENING", log_path, "The network emulator"
    )
    emulator = NetworkEmulator(url, process, log_path)
    yield emulator
    stop_server_process(process)
