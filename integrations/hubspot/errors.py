"""Every way a HubSpot call can fail, as a few typed exceptions (like `networks.errors`).

Callers decide by type: refresh once on `TokenExpired`; ask an admin to reconnect on
`AuthRevoked`; wait `retry_after` seconds on `RateLimited`; try again later on
`TransientFailure`; fix the request (our bug, or bad input) on `InvalidRequest`.
Messages never carry a token or a secret.
"""

from __future__ import annotations


class HubSpotError(Exception):
    """Base class. `status` is the HTTP status when there was an answer."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(f"hubspot: {message}")
        self.message = message
        self.status = status


class TokenExpired(HubSpotError):
    """The access token is past its 30 minutes: refresh it and call again."""


class AuthRevoked(HubSpotError):
    """The refresh token was refused, the app was uninstalled or lacks a scope: only an
    admin reconnecting HubSpot helps."""


class AuthorizationFailed(HubSpotError):
    """The code exchange was refused (expired or replayed code, wrong redirect URI)."""


class RateLimited(HubSpotError):
    """429: HubSpot asks us to wait `retry_after` seconds (its Retry-After, or a guess)."""

    def __init__(self, message: str, *, retry_after: float, status: int | None = 429, policy: str = ""):
        super().__init__(message, status=status)
        self.retry_after = retry_after
        self.policy = policy  # HubSpot's policyName: SECONDLY, TEN_SECONDLY_ROLLING, DAILY


class TransientFailure(HubSpotError):
    """5xx, a time-out, a refused connection: the same (read-only) call may work later."""


class InvalidRequest(HubSpotError):
    """HubSpot refused the request itself (400 VALIDATION_ERROR, 404, a configuration
    mistake such as wrong client credentials): retrying the same call will not help."""
