"""Post messages to a Microsoft Teams channel through its workflow webhook.

The admin creates the workflow in the channel (Workflows > "Post to a channel when a webhook
request is received") and pastes its URL; a POST of the message envelope
(integrations.teams.cards) to that URL posts the card. The URL carries its own signature
(`sig`), so it is a secret: keep it encrypted and never log it.

What the service does (Microsoft's documentation of the webhook and the Power Automate /
Logic Apps request trigger): 202 (or 200) when the message was accepted; 400 for a body it
refuses; 401/403 when the signature is wrong; 404 when the workflow is gone; 413 past the
size limit (about 28 KB for a Teams card); 429 with Retry-After when the channel's rate
(4 a second, 60 in 30 seconds, ...) is exceeded; 5xx when it fails.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
from django.utils.translation import gettext as _

from integrations.teams.errors import BadWebhook, CardTooLarge, InvalidWebhookUrl, ServerError, Throttled

MAX_MESSAGE_BYTES = 28 * 1024
# Hosts that serve Teams workflow webhooks: Logic Apps (prod-NN.<region>.logic.azure.com),
# Power Platform / Power Automate (…environment.api.powerplatform.com, api.powerautomate.com,
# flow.microsoft.com), and the legacy connector webhooks (<tenant>.webhook.office.com).
WEBHOOK_HOST_SUFFIXES = (
    ".logic.azure.com",
    ".api.powerplatform.com",
    "api.powerplatform.com",
    ".powerautomate.com",
    "powerautomate.com",
    ".flow.microsoft.com",
    "flow.microsoft.com",
    ".webhook.office.com",
)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_RETRY_AFTER = 10.0


def check_webhook_url(url: str, *, allow_loopback: bool = False) -> str:
    """The URL, stripped, when it is an https Teams workflow webhook URL; raises
    InvalidWebhookUrl in words otherwise. `allow_loopback` admits http on 127.0.0.1 (the
    local emulator; only in development and tests)."""
    url = (url or "").strip()
    words = _(
        "Paste the workflow's webhook URL from Teams (Workflows > Post to a channel when a webhook "
        "request is received): it starts with https:// and ends in a Power Automate, Power Platform "
        "or Logic Apps address."
    )
    if not url:
        raise InvalidWebhookUrl(_("The webhook URL is empty.") + " " + words)
    if len(url) > 2000:
        raise InvalidWebhookUrl(_("That URL is too long to be a webhook URL.") + " " + words)
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise InvalidWebhookUrl(_("That is not a web address.") + " " + words) from None
    if allow_loopback and host in LOOPBACK_HOSTS and parts.scheme in ("http", "https"):
        return url
    if parts.scheme != "https":
        raise InvalidWebhookUrl(_("The webhook URL must start with https://.") + " " + words)
    if parts.username or parts.password:
        raise InvalidWebhookUrl(_("The webhook URL must not carry a user name or password.") + " " + words)
    if not host or not any(host == s.lstrip(".") or host.endswith(s) for s in WEBHOOK_HOST_SUFFIXES):
        wrong = (
            _("%(host)s is not a Teams workflow address.") % {"host": host}
            if host
            else _("That address is not a Teams workflow address.")
        )
        raise InvalidWebhookUrl(wrong + " " + words)
    if parts.path in ("", "/"):
        raise InvalidWebhookUrl(_("The webhook URL has no workflow in it.") + " " + words)
    return url


def _retry_after(response: requests.Response) -> float:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return DEFAULT_RETRY_AFTER


def _refusal(status: int) -> str:
    if status in (401, 403):
        return _("Teams refused the webhook URL's signature: copy the URL from the workflow again.")
    if status == 404:
        return _("There is no workflow at this webhook URL any more: it was deleted or turned off in Teams.")
    if status == 413:
        return _("Teams refused the card as too large.")
    return _("Teams refused the card (HTTP %(status)s).") % {"status": status}


class TeamsWebhookClient:
    """Posts message envelopes to workflow webhooks. One instance may serve many URLs.

    `max_retries` throttled answers are waited out (`sleep(Retry-After)`, never longer than
    `max_wait` seconds) before `Throttled` is raised to the caller.
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_retries: int = 2,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ):
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.sleep = sleep
        self.session = session or requests.Session()

    def post_message(self, webhook_url: str, message: dict[str, Any]) -> int:
        """POST the envelope; returns the HTTP status of the accepted post (202 or 200).

        Raises CardTooLarge before sending a body over 28 KB; BadWebhook for a 4xx;
        Throttled after `max_retries` waits (or at once when Retry-After is over
        `max_wait`); ServerError for a 5xx, a time-out or no connection.
        """
        body = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
        if len(body) > MAX_MESSAGE_BYTES:
            raise CardTooLarge(
                _("The card is %(size)s KB; Teams takes at most %(limit)s KB.")
                % {"size": len(body) // 1024, "limit": MAX_MESSAGE_BYTES // 1024}
            )
        attempt = 0
        while True:
            try:
                response = self.session.post(
                    webhook_url,
                    data=body,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except requests.Timeout:
                raise ServerError(_("Teams did not answer in time.")) from None
            except requests.RequestException:
                raise ServerError(_("Could not reach Teams.")) from None
            status = response.status_code
            if status in (200, 202):
                return status
            if status == 429:
                wait = _retry_after(response)
                if attempt >= self.max_retries or wait > self.max_wait:
                    raise Throttled(
                        _("Teams asks to wait %(seconds)s seconds before posting again.") % {"seconds": f"{wait:g}"},
                        retry_after=wait,
                    )
                attempt += 1
                self.sleep(wait)
                continue
            if 400 <= status < 500 or 300 <= status < 400:
                raise BadWebhook(_refusal(status), status=status)
            raise ServerError(
                _("Teams failed to take the card (HTTP %(status)s); it will be tried again.") % {"status": status},
                status=status,
            )
