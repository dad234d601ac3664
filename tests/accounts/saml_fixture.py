"""Pytest plugin: the `saml_idp` fixture, one SAML identity provider process per test session
(tests/accounts/saml_idp.py, pysaml2's Server on loopback)."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from html import unescape
from pathlib import Path

import pytest

from tests.emulator_fixture import start_server_process, stop_server_process


class SamlIdp:
    """The running IdP: its base `url`, entity id, SSO URL, certificate and the control API."""

    def __init__(self, url: str, process: subprocess.Popen, log_path: Path):
        self.url = url
        self.process = process
        self.log_path = log_path
        self.entity_id = f"{url}/metadata"
        self.metadata_url = f"{url}/metadata"
        self.sso_url = f"{url}/sso/redirect"
        self.cert = self.get("/cert")

    def get(self, path: str) -> str:
        return self.open(f"{self.url}{path}")

    def post(self, path: str, body: dict) -> str:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        return self.open(urllib.request.Request(f"{self.url}{path}", data=data, method="POST", headers=headers))

    @staticmethod
    def open(request) -> str:
        """The IdP's answer to a URL or Request; an error fails with what the IdP said."""
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.read().decode()
        except urllib.error.HTTPError as exc:
            raise AssertionError(f"The SAML IdP answered {exc.code}: {exc.read().decode()}") from None

    def next_sign_in(self, fault: str = "", **user) -> None:
        """Who signs in at the IdP next (defaults: saml_idp.DEFAULT_USER), and the fault."""
        self.post("/_idp/next", {"user": user, "fault": fault})

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def posted_form(page: str) -> tuple[str, dict]:
    """The action and fields of the auto-submitting form of an IdP's answer page."""
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', page).group(1))
    fields = {
        unescape(name): unescape(value)
        for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)
    }
    return action, fields


@pytest.fixture(scope="session")
def saml_idp(tmp_path_factory):
    """Start `python -m tests.accounts.saml_idp --port 0` for the session and stop it after."""
    log_path = tmp_path_factory.mktemp("saml-idp") / "idp.log"
    process, url = start_server_process(
        ["-m", "tests.accounts.saml_idp", "--port", "0"],
        "SAML IDP LISTENING",
        log_path,
        "The SAML IdP (it signs with the xmlsec1 binary: make xmlsec1)",
    )
    yield SamlIdp(url, process, log_path)
    stop_server_process(process)
