"""A local push service, as strict as the browsers' (RFC 8030, 8291, 8292), that also plays
the browser's part: it holds each subscription's private key and decrypts what it receives.

Pure standard library plus `cryptography`, `http_ece` and PyJWT (its request plumbing is the
network emulator's). State in memory. Run it with `python -m integrations.webpush.emulator
--port 0`; it prints `WEBPUSH EMULATOR LISTENING http://127.0.0.1:<port>` once it listens.
Tests start it in a thread (`make_server(port=0)`).

The push service's path (RFC 8030 section 5):
- POST /push/{token}: 201 Created with `Location: /message/{id}` when
  * `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292): the JWT is ES256, signed by `k`,
    `aud` the emulator's origin, `exp` in the future and at most 24 hours ahead, `sub` a
    mailto: or https: address; and `k` is the applicationServerKey the subscription was
    made with (else 403, as the real services answer a key mismatch); absent or bad: 401;
  * `TTL` is given (an integer >= 0; else 400); `Urgency`, when given, is one of RFC 8030's;
  * a body is `Content-Encoding: aes128gcm` (else 415) of at most 4,096 bytes (else 413)
    that decrypts with the subscription's key and auth secret (else 400);
  an unknown token: 404; an unsubscribed one: 410 Gone.

Control API (JSON, under /_emulator/), the browser's side:
- POST subscriptions {"application_server_key", "private_key"?, "auth"?} -> 201 {"endpoint",
  "keys": {"p256dh", "auth"}}: a new subscription with a P-256 key pair and 16-byte auth
  secret (made here, or the private scalar and secret given, base64url), as
  `PushSubscription.toJSON()` gives it.
- GET subscriptions/{token}/messages -> {"messages": [{"payload": <decrypted JSON>, "ttl",
  "urgency", "claims", "authorization", "body": <the encrypted body, base64url>}],
  "attempts": <POSTs received, refused ones included>}
- DELETE subscriptions/{token}: unsubscribed; pushes answer 410 from then on.
- POST faults {"status": 429 | 500 | 503, "times"?: 1, "retry_after"?: seconds}
- POST reset
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import secrets
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import http_ece
import jwt
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric import ec

from integrations.webpush.keys import b64url, b64url_decode, public_point
from networks.emulator import server
from networks.emulator.server import Request, Response, json_response

MAX_BODY = 4096
# The demo phone of `make run`: a subscription with fixed keys, so that the demo data can
# save it before the emulator starts (accounts.demo); not a secret of anything real.
DEMO_TOKEN = "demo-phone"
DEMO_SCALAR = hashlib.sha256(b"advocacy demo phone").digest()
DEMO_AUTH = hashlib.sha256(b"advocacy demo phone auth").digest()[:16]
MAX_EXP_AHEAD = 24 * 3600
URGENCIES = ("very-low", "low", "normal", "high")


@dataclass
class Subscription:
    token: str
    application_server_key: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    active: bool = True
    attempts: int = 0  # every POST to the endpoint, refused ones included
    messages: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class State:
    origin: str = ""
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    announce: bool = False  # print each push received (make run's log)
    lock: threading.Lock = field(default_factory=threading.Lock)


def demo_keys() -> dict[str, str]:
    """The demo phone's `keys` ({"p256dh", "auth"}), as its PushSubscription gives them."""
    private = ec.derive_private_key(int.from_bytes(DEMO_SCALAR, "big"), ec.SECP256R1())
    return {"p256dh": b64url(public_point(private)), "auth": b64url(DEMO_AUTH)}


def add_demo_phone(store: State, application_server_key: str) -> None:
    """Subscribe the demo phone (token DEMO_TOKEN) with our VAPID public key."""
    private = ec.derive_private_key(int.from_bytes(DEMO_SCALAR, "big"), ec.SECP256R1())
    store.subscriptions[DEMO_TOKEN] = Subscription(DEMO_TOKEN, application_server_key, private, DEMO_AUTH)


def _error(status: int, message: str) -> Response:
    return json_response(status, {"code": status, "message": message})


def _verify_vapid(store: State, req: Request, subscription: Subscription) -> dict[str, Any] | Response:
    scheme, _, params = (req.header("Authorization") or "").strip().partition(" ")
    if scheme.lower() != "vapid":
        return _error(401, "Authorization: vapid t=..., k=... is required.")
    fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
    token, key = fields.get("t", ""), fields.get("k", "")
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        if jwt.get_unverified_header(token).get("alg") != "ES256":
            return _error(401, "The VAPID JWT must be signed with ES256.")
        claims = jwt.decode(
            token, key=public, algorithms=["ES256"], audience=store.origin, options={"require": ["aud", "exp", "sub"]}
        )
    except (ValueError, TypeError, jwt.InvalidTokenError) as exc:
        return _error(401, f"The VAPID JWT does not verify: {exc}")
    if claims["exp"] > time.time() + MAX_EXP_AHEAD:
        return _error(401, "The VAPID JWT expires more than 24 hours ahead.")
    if not str(claims["sub"]).startswith(("mailto:", "https:")):
        return _error(401, "The VAPID sub claim must be a mailto: or https: address.")
    if b64url(public_point(public)) != subscription.application_server_key:
        return _error(403, "This VAPID key is not the one the subscription was made with.")
    return claims


def push(store: State, req: Request, token: str) -> Response:
    subscription = store.subscriptions.get(token)
    if subscription is None:
        return _error(404, "No such subscription.")
    subscription.attempts += 1
    if not subscription.active:
        return _error(410, "The subscription has expired or was unsubscribed.")
    claims = _verify_vapid(store, req, subscription)
    if isinstance(claims, Response):
        return claims
    ttl = req.header("TTL")
    if ttl is None or not ttl.isdigit():
        return _error(400, "A TTL header (seconds, an integer >= 0) is required.")
    urgency = req.header("Urgency") or "normal"
    if urgency not in URGENCIES:
        return _error(400, "Urgency must be very-low, low, normal or high.")
    if store.faults:
        fault = store.faults[0]
        fault["times"] -= 1
        if fault["times"] <= 0:
            store.faults.pop(0)
        response = _error(fault["status"], "Injected fault.")
        if fault.get("retry_after") is not None:
            response.header("Retry-After", fault["retry_after"])
        return response
    payload = None
    if req.body:
        if (req.header("Content-Encoding") or "").lower() != "aes128gcm":
            return _error(415, "The payload must be Content-Encoding: aes128gcm.")
        if len(req.body) > MAX_BODY:
            return _error(413, "The payload is larger than 4,096 bytes.")
        try:
            plain = http_ece.decrypt(
                req.body, private_key=subscription.private_key, auth_secret=subscription.auth, version="aes128gcm"
            )
            payload = json.loads(plain.decode())
        except (http_ece.ECEException, InvalidTag, ValueError) as exc:  # UnicodeDecodeError, JSON: ValueErrors
            return _error(400, f"The payload does not decrypt with the subscription's keys: {exc!r}")
    message_id = secrets.token_urlsafe(12)
    if store.announce:
        print(f"PUSH to {token}: {json.dumps(payload, ensure_ascii=False)}", flush=True)
    subscription.messages.append(
        {
            "id": message_id,
            "payload": payload,
            "ttl": int(ttl),
            "urgency": urgency,
            "claims": claims,
            # As received, for a test that checks them itself with the keys it made.
            "authorization": req.header("Authorization"),
            "body": b64url(req.body),
        }
    )
    return Response(201, b"", [("Location", f"{store.origin}/message/{message_id}")])


def control(store: State, req: Request, rest: str) -> Response:
    data = req.json() if req.body else {}
    if req.method == "POST" and rest == "reset":
        store.subscriptions.clear()
        store.faults.clear()
        return json_response(200, {"ok": True})
    if req.method == "POST" and rest == "subscriptions":
        key = str(data.get("application_server_key", ""))
        if not key:
            return _error(400, "application_server_key is required.")
        # The browser's key pair and auth secret: made here, or given (a test that made its own).
        if data.get("private_key"):
            private = ec.derive_private_key(int.from_bytes(b64url_decode(data["private_key"])), ec.SECP256R1())
        else:
            private = ec.generate_private_key(ec.SECP256R1())
        auth = b64url_decode(data["auth"]) if data.get("auth") else secrets.token_bytes(16)
        subscription = Subscription(secrets.token_urlsafe(24), key, private, auth)
        store.subscriptions[subscription.token] = subscription
        return json_response(
            201,
            {
                "endpoint": f"{store.origin}/push/{subscription.token}",
                "keys": {"p256dh": b64url(public_point(private)), "auth": b64url(subscription.auth)},
            },
        )
    if req.method == "POST" and rest == "faults":
        store.faults.append(
            {"status": int(data["status"]), "times": int(data.get("times", 1)), "retry_after": data.get("retry_after")}
        )
        return json_response(201, {"faults": len(store.faults)})
    match = re.fullmatch(r"subscriptions/([-\w]+)(/messages)?", rest)
    subscription = store.subscriptions.get(match.group(1)) if match else None
    if subscription is None:
        return _error(404, "No such subscription.")
    if req.method == "GET" and match.group(2):
        return json_response(200, {"messages": subscription.messages, "attempts": subscription.attempts})
    if req.method == "DELETE" and not match.group(2):
        subscription.active = False
        return Response(204)
    return _error(405, "Not allowed.")


def dispatch(store: State, req: Request) -> Response:
    try:
        with store.lock:
            if req.method == "POST" and (m := re.fullmatch(r"/push/([-\w]+)", req.path)):
                return push(store, req, m.group(1))
            if req.path.startswith("/_emulator/"):
                return control(store, req, req.path.removeprefix("/_emulator/"))
            return _error(404, "Not found.")
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return _error(500, "Emulator failure.")


def make_server(
    host: str = "127.0.0.1", port: int = 8771, *, verbose: bool = False, store: State | None = None
) -> ThreadingHTTPServer:
    """A bound server with fresh state, or `store` (port 0 picks a free port); call serve_forever()."""
    httpd = server.make_server(host, port, verbose=verbose, store=store or State(), dispatcher=dispatch)
    httpd.store.origin = f"http://{host}:{httpd.server_address[1]}"
    return httpd


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m integrations.webpush.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8771, help="0 picks a free port")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    httpd = make_server(args.host, args.port, verbose=args.verbose)
    print(f"WEBPUSH EMULATOR LISTENING {httpd.store.origin}", flush=True)
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


if __name__ == "__main__":
    main()
