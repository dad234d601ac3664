"""Every way a network call can fail, as a few typed exceptions.

Callers decide by type, never by parsing messages: refresh on `TokenExpired`, ask the
employee to reconnect on `TokenRevoked`, wait until `retry_at` on `RateLimited`, retry
with backoff on `TransientFailure`, reconcile before any retry on `AmbiguousOutcome`,
fail with the network's own words on `PermanentRejection`, and tell an operator which
setting to change on `ConfigurationError`. A pasted post link is refused with one of the
`PermanentRejection` subclasses at the end (`PostLinkInvalid`, `PostNotFound`,
`PostNotYours`, `PostUnverifiable`), whose message is written for the employee.
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
    """Too many calls. Try again at `retry_at` (UTC), not before.

    `daily` is True when the network said a daily quota is spent (LinkedIn's "DAY limit"
    answer): `retry_at` is then its reset. False for a short throttle, whose `retry_at` is
    the network's reset time when it gives one (X, Facebook) or an early guess when it does
    not (LinkedIn); a caller may wait longer (content.services.publishing.limits)."""

    def __init__(
        self, network: str, message: str, *, retry_at: datetime, status: int | None = 429, daily: bool = False
    ):
        super().__init__(network, message, status=status)
        self.retry_at = retry_at
        self.daily = daily


class PermanentRejection(NetworkError):
    """The network refused this content for good; `reason` is a short code
    ("duplicate", "too_long", "forbidden", "invalid") and `message` the network's own words."""

    def __init__(self, network: str, message: str, *, reason: str, status: int | None = None):
        super().__init__(network, message, status=status)
        self.reason = reason


class ImageRejected(PermanentRejection):
    """The network refused the picture itself (its type, size or dimensions); `message` says
    which limit in words for the employee."""

    def __init__(self, network: str, message: str, *, status: int | None = None):
        super().__init__(network, message, reason="image", status=status)


class MediaExpired(PermanentRejection):
    """A post named an uploaded picture the network no longer knows (expired, or never
    finished): upload it again and post once more."""

    def __init__(self, network: str, message: str, *, status: int | None = None):
        super().__init__(network, message, reason="media_expired", status=status)


class TransientFailure(NetworkError):
    """5xx, a timeout before sending, a refused connection: the same call may work later."""


class AmbiguousOutcome(TransientFailure):
    """The request was sent but no answer came back: the post may exist. Reconcile first."""


class ConfigurationError(NetworkError):
    """Our side is misconfigured (retired API version, wrong client credentials)."""


class AuthorizationFailed(NetworkError):
    """The OAuth code exchange was refused (expired or replayed code, wrong PKCE verifier)."""


# --- a post link the employee pasted (NetworkClient.post_id_from_url / verify_post) -----------
# `message` is plain words for the employee, not the network's: show it as it is.


class PostLinkInvalid(PermanentRejection):
    """The pasted text is not a link to one post of this network, or names the post in a
    form that cannot be mapped to the id the product stores (the message says what to
    paste instead). Raised without any network call."""

    def __init__(self, network: str, message: str):
        super().__init__(network, message, reason="invalid")


class PostNotFound(PermanentRejection):
    """The network has no such post (never existed, deleted, or hidden from this account)."""

    def __init__(self, network: str, message: str, *, status: int | None = None):
        super().__init__(network, message, reason="not_found", status=status)


class PostNotYours(PermanentRejection):
    """The post exists but was not published by the connected account."""

    def __init__(self, network: str, message: str, *, status: int | None = None):
        super().__init__(network, message, reason="not_yours", status=status)


class PostUnverifiable(PermanentRejection):
    """The network does not let this app read the post (LinkedIn without the partner
    scope r_member_social), so whose it is cannot be checked. `remote_id` and `url` are
    what the link names; attaching it unchecked is the caller's decision."""

    def __init__(self, network: str, message: str, *, remote_id: str, url: str, status: int | None = None):
        super().__init__(network, message, reason="unverifiable", status=status)
        self.remote_id = remote_id
        self.url = url
