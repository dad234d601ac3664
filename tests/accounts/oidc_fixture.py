"""Pytest plugin: the `oidc_provider` fixture, one real OpenID Connect provider process
(`tests.accounts.oidc_provider`: oidc-provider-mock with a fault switch) per test session.
Each test gets it with its faults off."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.emulator_fixture import start_server_process, stop_server_process


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class OidcProvider:
    """The running provider: its `issuer` URL, users' claims, faults, and a person's consent."""

    def __init__(self, issuer: str, process: subprocess.Popen, log_path: Path):
        self.issuer = issuer
        self.process = process
        self.log_path = log_path

    def _call(self, method: str, path: str, body: dict) -> None:
        request = urllib.request.Request(
            f"{self.issuer}{path}", data=json.dumps(body).encode(), method=method,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=10):
            pass

    def set_user(self, sub: str, **claims) -> None:
        """The claims the provider sends for `sub` (email, name, and any custom claim). The
        address is sent as verified (`email_verified: true`) unless `email_verified` is given;
        `email_verified=None` leaves the claim out."""
        claims.setdefault("email_verified", True)
        claims = {name: value for name, value in claims.items() if value is not None}
        self._call("PUT", f"/users/{urllib.parse.quote(sub)}", claims)

    def fault(self, fault: str) -> None:
        """ "wrong_nonce", "wrong_audience", "expired": ID tokens spoilt from now on; "" = none."""
        self._call("POST", "/_test/fault", {"fault": fault})

    def consent(self, authorize_url: str, sub: str) -> str:
        """What a person does on the provider's page: sign in as `sub`. Returns the redirect
        back to the application (its callback URL with code and state)."""
        assert authorize_url.startswith(self.issuer), authorize_url
        data = urllib.parse.urlencode({"sub": sub}).encode()
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            opener.open(urllib.request.Request(authorize_url, data=data, method="POST"), timeout=10)
        except urllib.error.HTTPError as answer:
            if answer.code in (302, 303):
                return answer.headers["Location"]
            raise AssertionError(f"The provider answered {answer.code}: {answer.read()[:500]!r}") from None
        raise AssertionError("The provider did not redirect back")

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


@pytest.fixture(scope="session")
def _oidc_provider_process(tmp_path_factory):
    log_path = tmp_path_factory.mktemp("oidc-provider") / "provider.log"
    process, issuer = start_server_process(
        ["-m", "tests.accounts.oidc_provider", "--port", "0"], "OIDC PROVIDER LISTENING", log_path, "The OIDC provider"
    )
    yield OidcProvider(issuer, process, log_path)
    stop_server_process(process)


@pytest.fixture
def oidc_provider(_oidc_provider_process):
    """The session's provider process, faults off."""
    _oidc_provider_process.fault("")
    yield _oidc_provider_process
    _oidc_provider_process.fault("")
