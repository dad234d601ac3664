"""Every way a network call can fail, as a few typed exceptions.

Callers decide by type, never by parsing messages: refresh on `TokenExpired`, ask the
employee to reconnect on `TokenRevoked`, wait until `retry_at` on `RateLimited`, retry
with backoff on `TransientFailure`, reconcile before any retry on `AmbiguousOutcome`,
fail with the network's own words on `PermanentRejection`, and tell an operator which
setting to change on `ConfigurationError`.
"""

from __future__ import annotations

from datetime import datetime


class NetworkError(Exception):
    """Base class. `network` is "linkedin", "x" or "facebook"; `status` the HTTP status if any."""

    def __init__(self, network: str, message: str, *, status: int | None = None):
        super().__init__(f"{network}: {message}")
        self.network = network
        self.message = message
        self.status = status


class TokenExpired(NetworkError):
    """The access token is no longer valid but may be refreshed (or the user may reconnect)."""


class TokenRevoked(NetworkError):
    """The member took the app's access away (or changed password): only reconnecting helps."""


class RateLimited(NetworkError):
    """Too many calls. Try again at `retry_at` (UTC), not before."""

    def __init__(self, network: str, message: str, *, retry_at: datetime, status: int | None = 429):
        super().__init__(network, message, status=status)
        self.retry_at = retry_at


class PermanentRejection(NetworkError):
    """The network refused this content for good; `reason` is a short code
    ("duplicate", "too_long", "forbidden", "invalid") and `message` the network's own words."""

    def __init__(self, network: str, message: str, *, reason: str, status: int | None = None):
        super().__init__(network, message, status=status)
        self.reason = reason


class TransientFailure(NetworkError):
    """5xx, a timeout before sending, a refused connection: the same call may work later."""


class AmbiguousOutcome(TransientFailure):
    """The request was sent but no answer came back: the post may exist. Reconcile first."""


class ConfigurationError(NetworkError):
    """Our side is misconfigured (retired API version, wrong client credentials)."""


class AuthorizationFailed(NetworkError):
    """The OAuth code exchange was refused (expired or replayed code, wrong PKCE verifier)."""
