"""Every way a push can fail, as a few typed exceptions (like `networks.errors`).

Callers decide by type: forget the subscription on `SubscriptionGone`; try again later on
`PushUnavailable`; log `PushRejected` (a configuration mistake or our bug: the same request
will be refused again). Messages never carry a key.
"""

from __future__ import annotations


class WebPushError(Exception):
    """Base class. `status` is the push service's HTTP status when there was an answer."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(f"webpush: {message}")
        self.message = message
        self.status = status


class SubscriptionGone(WebPushError):
    """404 or 410 (RFC 8030 section 7.3): the browser unsubscribed or the subscription
    expired. It will never work again: delete it."""


class PushUnavailable(WebPushError):
    """429, a 5xx, a time-out, a refused connection: the push service may take it later.
    `retry_after` is its Retry-After in seconds when it sent one."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class PushRejected(WebPushError):
    """The push service refused the request itself (400 bad headers, 401/403 VAPID refused,
    413 payload too large) or the subscription's keys are not a P-256 key and a secret:
    sending the same again will not help."""
