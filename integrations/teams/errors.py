"""Every way a post to a Teams workflow webhook can fail, as a few typed exceptions.

Callers decide by type: ask the admin to paste a new URL on `BadWebhook` (the workflow was
deleted or turned off, the signature in the URL is wrong, or the body was refused); wait
`retry_after` seconds on `Throttled`; try again later on `ServerError`. `InvalidWebhookUrl`
is raised before anything is sent, for a URL that is not a Teams workflow webhook.
Messages are written for an admin and never carry the URL's signature.
"""

from __future__ import annotations


class TeamsError(Exception):
    """Base class. `status` is the HTTP status when there was an answer."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.status = status


class InvalidWebhookUrl(TeamsError):
    """The pasted URL is not an https Teams / Power Automate / Logic Apps webhook URL."""


class CardTooLarge(TeamsError):
    """The message is over the webhook's size limit (about 28 KB): nothing was sent."""


class BadWebhook(TeamsError):
    """A 4xx other than 429: the workflow is gone, off or unauthorized, or it refused the body."""


class Throttled(TeamsError):
    """429: the workflow asks us to wait `retry_after` seconds (its Retry-After)."""

    def __init__(self, message: str, *, retry_after: float, status: int | None = 429):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ServerError(TeamsError):
    """5xx, a time-out or a refused connection: the same post may work later."""
