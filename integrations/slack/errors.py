"""Every way a Slack Web API call can fail, as a few typed exceptions (like `networks.errors`).

Callers decide by type: ask an admin to reinstall on `AuthRevoked`; wait `retry_after`
seconds on `RateLimited`; drop or re-pick the channel on `ChannelNotFound`; open a new modal
from a new click on `TriggerExpired`; try again later on `TransientFailure`; fix the request
on `InvalidRequest`. `code` is Slack's own error string ("channel_not_found"). Messages never
carry a token or a secret.
"""

from __future__ import annotations


class SlackError(Exception):
    """Base class. `code` is Slack's `error` field; `status` the HTTP status when there was one."""

    def __init__(self, message: str, *, code: str = "", status: int | None = None):
        super().__init__(f"slack: {message}")
        self.message = message
        self.code = code
        self.status = status


class AuthRevoked(SlackError):
    """The bot token is not valid any more (invalid_auth, token_revoked, account_inactive,
    not_authed, missing_scope): only an admin reinstalling the app helps."""


class AuthorizationFailed(SlackError):
    """oauth.v2.access refused the code (invalid_code, code_already_used, bad_redirect_uri,
    invalid_client_id, bad_client_secret)."""


class RateLimited(SlackError):
    """429: Slack asks us to wait `retry_after` seconds (its Retry-After header)."""

    def __init__(self, message: str, *, retry_after: float, code: str = "ratelimited", status: int | None = 429):
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class ChannelNotFound(SlackError):
    """The channel does not exist, is archived, or the bot is not in it (channel_not_found,
    not_in_channel, is_archived)."""


class MessageNotFound(SlackError):
    """chat.update named a message that is not there (message_not_found, cant_update_message)."""


class UserNotFound(SlackError):
    """users.info / users.lookupByEmail found nobody (user_not_found, users_not_found)."""


class TriggerExpired(SlackError):
    """views.open's trigger_id is older than 3 seconds, already used, or unknown
    (expired_trigger_id, exchanged_trigger_id, invalid_trigger_id)."""


class TransientFailure(SlackError):
    """5xx, a time-out, a refused connection, Slack's internal_error / fatal_error /
    service_unavailable: the same call may work later."""


class InvalidRequest(SlackError):
    """Slack refused the request itself (invalid_arguments, invalid_blocks, no_text,
    msg_too_long, ...): retrying the same call will not help."""
