"""Slack's v0 request signing, both ways: `sign` (what Slack does to every request it sends
to an app; the emulator uses it) and `verify` (what the app does before trusting one).

`X-Slack-Signature` = "v0=" + hex HMAC-SHA256, keyed with the app's signing secret, of
"v0:{X-Slack-Request-Timestamp}:{raw body}". A request older (or newer) than five minutes
is refused, so a captured request cannot be replayed later; a replay inside the window is
refused by the caller, who remembers the signatures it has accepted (`content.slack`).
The comparison itself is slack-sdk's `SignatureVerifier` (constant time).
"""

from __future__ import annotations

import time

from slack_sdk.signature import Clock, SignatureVerifier

WINDOW_SECONDS = 5 * 60  # Slack's documented tolerance for X-Slack-Request-Timestamp


class _FixedClock(Clock):
    def __init__(self, now: float):
        self._now = now

    def now(self) -> float:
        return self._now


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack sends with `body`, signed at `timestamp` (now by default)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature or ""}


def verify(secret: str, body: bytes | str, timestamp: str | None, signature: str | None, *, now: float) -> bool:
    """True when `signature` is Slack's for `body` and `timestamp` is within five minutes of
    `now` (either side). A missing or non-numeric header is simply not valid."""
    if not secret or not timestamp or not signature or not timestamp.strip().lstrip("-").isdigit():
        return False
    return SignatureVerifier(secret, clock=_FixedClock(now)).is_valid(body, timestamp.strip(), signature)
