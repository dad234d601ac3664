"""A real OpenID Connect provider for the tests: `oidc-provider-mock`'s own app (nonce
required), with a fault switch that makes its token endpoint hand out a bad ID token.

    python -m tests.accounts.oidc_provider --port 0

prints `OIDC PROVIDER LISTENING http://localhost:<port>` once it serves. Control endpoint:
`POST /_test/fault` with {"fault": "wrong_nonce" | "wrong_audience" | "expired" | ""} changes
every ID token issued from then on (re-signed with the provider's own key, so only the claim
is wrong); "foreign_issuer" / "plain_http_token_endpoint" change the discovery document; ""
switches faults off. Users and their claims: the mock's own `PUT /users/<sub>`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import flask
import werkzeug.serving
from authlib.jose import jwt
from oidc_provider_mock import app as provider_app

FAULTS = {"", "wrong_nonce", "wrong_audience", "expired", "foreign_issuer", "plain_http_token_endpoint"}
# Faults of the discovery document (/.well-known/openid-configuration) rather than of ID tokens.
DISCOVERY_FAULTS = {
    "foreign_issuer": {"issuer": "https://attacker.example"},
    "plain_http_token_endpoint": {"token_endpoint": "http://attacker.example/token"},
}


def _spoil(claims: dict, fault: str) -> dict:
    if fault == "wrong_nonce":
        claims["nonce"] = "a-nonce-this-session-never-sent"
    elif fault == "wrong_audience":
        claims["aud"] = "another-application"
    elif fault == "expired":
        now = int(time.time())
        claims["iat"], claims["exp"] = now - 7200, now - 3600
    return claims


def build_app() -> flask.Flask:
    app = provider_app(require_nonce=True)
    state = {"fault": ""}

    @app.post("/_test/fault")
    def set_fault():
        fault = (flask.request.get_json(silent=True) or {}).get("fault", "")
        if fault not in FAULTS:
            return {"error": f"unknown fault {fault!r}"}, 400
        state["fault"] = fault
        return {"fault": fault}

    @app.after_request
    def spoil_discovery(response: flask.Response):
        if flask.request.path != "/.well-known/openid-configuration" or state["fault"] not in DISCOVERY_FAULTS:
            return response
        response.set_data(json.dumps({**response.get_json(), **DISCOVERY_FAULTS[state["fault"]]}))
        return response

    @app.after_request
    def spoil_id_token(response: flask.Response):
        if flask.request.path != "/oauth2/token" or response.status_code != 200 or not state["fault"]:
            return response
        body = response.get_json()
        if not body or "id_token" not in body:
            return response
        key = flask.g.oidc_provider_mock_storage.jwk
        claims = _spoil(dict(jwt.decode(body["id_token"], key)), state["fault"])
        header = {"alg": "RS256", "kid": key.as_dict()["kid"]}
        body["id_token"] = jwt.encode(header, claims, key).decode()
        response.set_data(json.dumps(body))
        return response

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
    server = werkzeug.serving.make_server("localhost", args.port, build_app(), threaded=True)
    print(f"OIDC PROVIDER LISTENING http://localhost:{server.server_port}", flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
