"""Slack's OAuth v2 and the Web API methods the Slack distribution needs, over the official
`slack-sdk` WebClient (pinned in requirements.txt) pointed at Slack or at the local emulator.

What it follows (Slack's API documentation):
- install page `https://slack.com/oauth/v2/authorize?client_id&scope&redirect_uri&state`
  (bot scopes comma-separated), back to the redirect URI with `code` and `state` (or
  `error=access_denied`);
- `oauth.v2.access` (client_id and client_secret as HTTP Basic, code, redirect_uri) ->
  `{ok, access_token: "xoxb-...", token_type: "bot", scope, bot_user_id, app_id,
  team: {id, name}, authed_user: {id}}`;
- `chat.postMessage` (channel, text, blocks) -> `{ok, channel, ts, message}`;
  `chat.update` (channel, ts, text, blocks); `chat.postEphemeral` (channel, user, text) ->
  `{ok, message_ts}`;
- `views.open` (trigger_id, view): the trigger_id is single-use and valid for 3 seconds;
- `conversations.list` (types, exclude_archived, limit, cursor; `response_metadata.next_cursor`);
- `users.info` (user) -> `user.profile.email` and `user.is_email_confirmed` (scope
  users:read.email); `users.lookupByEmail` (email);
- every answer is HTTP 200 with `ok: false` and an `error` string, except a rate limit:
  HTTP 429 with `Retry-After: <seconds>` (`error: ratelimited`).
Every failure is one of `integrations.slack.errors`. The SDK's own retry handlers are off:
the caller decides (a Celery task waits Retry-After; a click answers the member at once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.error import URLError
from urllib.parse import urlencode

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from integrations.slack.errors import (
    AuthorizationFailed,
    AuthRevoked,
    ChannelNotFound,
    InvalidRequest,
    MessageNotFound,
    RateLimited,
    SlackError,
    TransientFailure,
    TriggerExpired,
    UserNotFound,
)

SLACK_ORIGIN = "https://slack.com"
AUTHORIZE_PATH = "/oauth/v2/authorize"
# chat:write (post, update, ephemeral), channels:read (the channel picker), users:read and
# users:read.email (link a Slack user to a member by verified e-mail), im:write (DMs).
SCOPES = ("chat:write", "channels:read", "users:read", "users:read.email", "im:write")
DEFAULT_RETRY_AFTER = 30.0  # seconds, when a 429 names no Retry-After

_AUTH = {"invalid_auth", "token_revoked", "account_inactive", "not_authed", "missing_scope", "token_expired"}
_CODE = {
    "invalid_code",
    "code_already_used",
    "bad_redirect_uri",
    "invalid_client_id",
    "bad_client_secret",
    "oauth_authorization_url_mismatch",
}
_CHANNEL = {"channel_not_found", "not_in_channel", "is_archived"}
_MESSAGE = {"message_not_found", "cant_update_message", "edit_window_closed"}
_USER = {"user_not_found", "users_not_found", "user_not_in_channel"}
_TRIGGER = {"expired_trigger_id", "exchanged_trigger_id", "invalid_trigger_id"}
_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}


@dataclass(frozen=True)
class SlackConfig:
    """The app's credentials and where Slack is: `origin` replaces https://slack.com for the
    install page and the Web API (`{origin}/api/`), keeping the real paths; "" = Slack."""

    client_id: str
    client_secret: str
    redirect_uri: str
    origin: str = ""
    timeout: float = 10.0

    @property
    def base(self) -> str:
        return (self.origin or SLACK_ORIGIN).rstrip("/")


@dataclass(frozen=True)
class Installation:
    """What oauth.v2.access answers: the bot token and the workspace it works in."""

    bot_token: str
    team_id: str
    team_name: str
    bot_user_id: str
    app_id: str
    scopes: tuple[str, ...]
    authed_user_id: str = ""


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_member: bool = False


@dataclass(frozen=True)
class SlackUser:
    """A workspace member. `email` is only trusted when `email_confirmed` (Slack's
    is_email_confirmed); bots and deactivated users never link to a member."""

    id: str
    team_id: str
    name: str
    email: str
    email_confirmed: bool
    is_bot: bool = False
    deleted: bool = False

    @property
    def verified_email(self) -> str:
        if self.is_bot or self.deleted or not self.email_confirmed:
            return ""
        return self.email.strip().lower()


def _fail(exc: SlackApiError) -> NoReturn:
    response = exc.response
    status = getattr(response, "status_code", None)
    data = response.data if isinstance(getattr(response, "data", None), dict) else {}
    code = str(data.get("error") or "")
    if status == 429:
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        raw = headers.get("retry-after")
        raw = raw[0] if isinstance(raw, list) else raw
        try:
            wait = max(float(raw), 0.0)
        except (TypeError, ValueError):
            wait = DEFAULT_RETRY_AFTER
        raise RateLimited(f"rate limited, retry after {wait:g} s", retry_after=wait, code=code or "ratelimited")
    if (status is not None and status >= 500) or code in _TRANSIENT:
        raise TransientFailure(f"Slack answered {status} {code}".strip(), code=code, status=status)
    for codes, kind in (
        (_AUTH, AuthRevoked),
        (_CODE, AuthorizationFailed),
        (_CHANNEL, ChannelNotFound),
        (_MESSAGE, MessageNotFound),
        (_USER, UserNotFound),
        (_TRIGGER, TriggerExpired),
    ):
        if code in codes:
            raise kind(code, code=code, status=status)
    raise InvalidRequest(code or f"HTTP {status}", code=code, status=status)


class SlackClient:
    """One deployment's Slack app. Methods that act in a workspace take its bot token."""

    def __init__(self, config: SlackConfig):
        self.config = config

    def _web(self, token: str | None = None) -> WebClient:
        return WebClient(
            token=token,
            base_url=f"{self.config.base}/api/",
            timeout=max(int(self.config.timeout), 1),
            retry_handlers=[],
        )

    def _call(self, token: str | None, method: str, **kwargs) -> dict[str, Any]:
        try:
            return getattr(self._web(token), method)(**kwargs).data
        except SlackApiError as exc:
            _fail(exc)
        except (URLError, TimeoutError, ConnectionError) as exc:
            raise TransientFailure(f"could not reach Slack ({type(exc).__name__})") from None
        except (SlackRequestError, json.JSONDecodeError) as exc:
            raise TransientFailure(f"unreadable answer from Slack ({type(exc).__name__})") from None

    # --- OAuth v2 ----------------------------------------------------------------------

    def authorization_url(self, *, state: str) -> str:
        """The install page the admin is sent to (bot scopes, our redirect URI, `state`)."""
        query = urlencode(
            {
                "client_id": self.config.client_id,
                "scope": ",".join(SCOPES),
                "redirect_uri": self.config.redirect_uri,
                "state": state,
            }
        )
        return f"{self.config.base}{AUTHORIZE_PATH}?{query}"

    def exchange_code(self, *, code: str) -> Installation:
        """oauth.v2.access. Raises AuthorizationFailed (a refused, used or foreign code),
        RateLimited, TransientFailure."""
        data = self._call(
            None,
            "oauth_v2_access",
            client_id=self.config.client_id,
            client_secret=self.config.client_secret,
            code=code,
            redirect_uri=self.config.redirect_uri,
        )
        team = data.get("team") or {}
        if not data.get("access_token") or not team.get("id"):
            raise InvalidRequest("oauth.v2.access answered without a bot token or team")
        return Installation(
            bot_token=data["access_token"],
            team_id=team["id"],
            team_name=team.get("name") or "",
            bot_user_id=data.get("bot_user_id") or "",
            app_id=data.get("app_id") or "",
            scopes=tuple(s for s in (data.get("scope") or "").split(",") if s),
            authed_user_id=(data.get("authed_user") or {}).get("id") or "",
        )

    # --- Web API -----------------------------------------------------------------------

    def post_message(self, token: str, *, channel: str, text: str, blocks: list[dict] | None = None) -> str:
        """chat.postMessage; the new message's `ts` (its id in the channel). Raises
        ChannelNotFound, AuthRevoked, RateLimited, TransientFailure, InvalidRequest."""
        data = self._call(token, "chat_postMessage", channel=channel, text=text, blocks=blocks)
        return str(data["ts"])

    def update_message(self, token: str, *, channel: str, ts: str, text: str, blocks: list[dict] | None = None) -> None:
        """chat.update of one of the bot's messages. Raises MessageNotFound, ChannelNotFound, ..."""
        self._call(token, "chat_update", channel=channel, ts=ts, text=text, blocks=blocks)

    def post_ephemeral(self, token: str, *, channel: str, user: str, text: str) -> str:
        """chat.postEphemeral: a message only `user` sees in `channel`. Raises UserNotFound
        (not in the channel), ChannelNotFound, ..."""
        data = self._call(token, "chat_postEphemeral", channel=channel, user=user, text=text)
        return str(data.get("message_ts") or "")

    def open_view(self, token: str, *, trigger_id: str, view: dict) -> str:
        """views.open; the view's id. Raises TriggerExpired (older than 3 s, used, unknown)."""
        data = self._call(token, "views_open", trigger_id=trigger_id, view=view)
        return str((data.get("view") or {}).get("id") or "")

    def channels(self, token: str) -> list[Channel]:
        """Every public channel that is not archived, all pages of conversations.list."""
        found: list[Channel] = []
        cursor = None
        while True:
            data = self._call(
                token,
                "conversations_list",
                types="public_channel",
                exclude_archived=True,
                limit=200,
                cursor=cursor,
            )
            for raw in data.get("channels") or []:
                found.append(
                    Channel(
                        id=raw["id"],
                        name=raw.get("name") or raw["id"],
                        is_private=bool(raw.get("is_private")),
                        is_member=bool(raw.get("is_member")),
                    )
                )
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return found

    def user(self, token: str, *, user_id: str) -> SlackUser:
        """users.info. Raises UserNotFound, AuthRevoked (e.g. without users:read.email), ..."""
        return _user(self._call(token, "users_info", user=user_id).get("user") or {})

    def user_by_email(self, token: str, *, email: str) -> SlackUser:
        """users.lookupByEmail. Raises UserNotFound (users_not_found)."""
        return _user(self._call(token, "users_lookupByEmail", email=email).get("user") or {})


def _user(raw: dict) -> SlackUser:
    if not raw.get("id"):
        raise SlackError("a user without an id")
    profile = raw.get("profile") or {}
    return SlackUser(
        id=raw["id"],
        team_id=raw.get("team_id") or "",
        name=profile.get("real_name") or raw.get("real_name") or raw.get("name") or "",
        email=profile.get("email") or "",
        email_confirmed=bool(raw.get("is_email_confirmed")),
        is_bot=bool(raw.get("is_bot")),
        deleted=bool(raw.get("deleted")),
    )
