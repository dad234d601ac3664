"""The Web Push client: one encrypted message to one browser subscription.

`pywebpush` does the protocol: the aes128gcm payload encryption with the subscription's
keys (RFC 8291), the VAPID `Authorization: vapid t=<JWT>, k=<public key>` header with
`aud` the push service's origin, `exp` 12 hours ahead and `sub` our contact (RFC 8292),
and the POST to the endpoint (RFC 8030). This module turns what can go wrong into the
typed errors of `errors`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import requests
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from integrations.webpush.errors import PushRejected, PushUnavailable, SubscriptionGone
from integrations.webpush.keys import valid_subscription_keys

MAX_PAYLOAD = 3000  # bytes of JSON: the encrypted record must stay under the services' 4,096
URGENCIES = ("very-low", "low", "normal", "high")


@dataclass(frozen=True)
class Subscription:
    """What the browser's `PushSubscription.toJSON()` gives: the endpoint and its keys."""

    endpoint: str
    p256dh: str
    auth: str


class WebPushClient:
    def __init__(self, *, vapid_private_pem: str, subject: str, timeout: float = 10.0):
        """`subject` is the `sub` claim: a mailto: or https: address the push service can reach us at."""
        if not subject.startswith(("mailto:", "https:")):
            raise ValueError("The VAPID subject must be a mailto: or https: address.")
        self._vapid = Vapid.from_pem(vapid_private_pem.encode())
        self._subject = subject
        self._timeout = timeout
        self._session = requests.Session()

    def send(self, subscription: Subscription, payload: dict[str, Any], *, ttl: int, urgency: str = "normal") -> str:
        """Encrypt `payload` (JSON) for the subscription and hand it to its push service.

        Returns the message's Location (the push service's id for it; "" when none). Raises
        SubscriptionGone (404/410: delete it), PushUnavailable (429/5xx/network: later),
        PushRejected (anything else the service refuses, invalid keys, a payload too large).
        """
        if urgency not in URGENCIES:
            raise ValueError(f"Unknown urgency {urgency!r}.")
        if not valid_subscription_keys(subscription.p256dh, subscription.auth):
            raise PushRejected("The subscription's keys are not a P-256 key and a 16-byte secret.")
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
        if len(data.encode()) > MAX_PAYLOAD:
            raise PushRejected(f"The message is larger than {MAX_PAYLOAD} bytes.")
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        try:
            response = webpush(
                info,
                data=data,
                vapid_private_key=self._vapid,
                vapid_claims={"sub": self._subject},  # aud and exp: pywebpush, per send
                content_encoding="aes128gcm",
                ttl=ttl,
                headers={"Urgency": urgency},
                timeout=self._timeout,
                requests_session=self._session,
            )
        except WebPushException as exc:
            raise _typed(exc) from None
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise PushUnavailable(f"The push service could not be reached ({type(exc).__name__}).") from None
        return response.headers.get("Location", "")


def _typed(exc: WebPushException):
    response = exc.response
    if response is None:  # refused before sending: pywebpush's own checks of the subscription
        return PushRejected(exc.message)
    status = response.status_code
    reason = f"{status} {response.reason or ''}".strip()
    if status in (404, 410):
        return SubscriptionGone(f"The subscription is gone ({reason}).", status=status)
    if status == 429 or status >= 500:
        return PushUnavailable(
            f"The push service is busy or failing ({reason}).", status=status, retry_after=_seconds(response)
        )
    return PushRejected(f"The push service refused the message ({reason}): {response.text[:200]}", status=status)


def _seconds(response: requests.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None
