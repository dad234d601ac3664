"""HubSpot's OAuth and CRM v3 API, as the deal sync needs them (read only).

Built like a `networks` client: requests-oauthlib for the OAuth calls, one
`networks.http.HttpClient` (one session, a timeout on every call, transport failures typed),
every URL built from `HubSpotConfig.origin` (the local emulator) or HubSpot's real hosts,
and every failure one of `integrations.hubspot.errors`.

What it follows (HubSpot's developer documentation):
- consent page `https://app.hubspot.com/oauth/authorize?client_id&redirect_uri&scope&state`
  (scopes space-separated);
- `POST https://api.hubapi.com/oauth/v1/token`, form-encoded, `grant_type`
  authorization_code (code, redirect_uri) or refresh_token, with client_id and
  client_secret in the body; the answer `{access_token, refresh_token, expires_in: 1800,
  token_type}`; a refused code or refresh token is 400 `{"status": "BAD_AUTH_CODE" |
  "BAD_REFRESH_TOKEN" | ..., "message"}`;
- `GET /oauth/v1/access-tokens/{token}`: the portal (`hub_id`, `hub_domain`) a token is for;
- `POST /crm/v3/objects/deals/search`: `filterGroups` (OR of groups, AND within one),
  `sorts`, `properties`, `limit` (at most 200), `after` (the paging cursor of
  `paging.next.after`); a search reaches at most the first 10,000 results of a query;
- `POST /crm/v3/associations/deals/contacts/batch/read` `{"inputs": [{"id"}]}` ->
  `results: [{from: {id}, to: [{id, type: "deal_to_contact"}]}]` (207 with `errors` for the
  deals that have none);
- `POST /crm/v3/objects/contacts/batch/read` `{"properties", "inputs": [{"id"}]}` (at most
  100 inputs; 207 with `errors` for ids not found);
- errors: 401 with `category` EXPIRED_AUTHENTICATION (refresh) or INVALID_AUTHENTICATION,
  403 MISSING_SCOPES, 429 `errorType: RATE_LIMIT` with `policyName` (and `Retry-After`),
  400 VALIDATION_ERROR.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn
from urllib.parse import parse_qs, quote, urlsplit

import requests

from integrations.hubspot.errors import (
    AuthorizationFailed,
    AuthRevoked,
    HubSpotError,
    InvalidRequest,
    RateLimited,
    TokenExpired,
    TransientFailure,
)
from networks import errors as net
from networks.base import NetworkConfig
from networks.http import HttpClient, body_text, expires_at, json_body, retry_after, utcnow

APP_HOST = "https://app.hubspot.com"
API_HOST = "https://api.hubapi.com"
AUTHORIZE_PATH = "/oauth/authorize"
TOKEN_PATH = "/oauth/v1/token"
SCOPES = ("oauth", "crm.objects.deals.read", "crm.objects.contacts.read")

SEARCH_LIMIT = 200  # HubSpot's largest page of search results
SEARCH_RESULTS_CAP = 10_000  # a search query pages through at most this many results
BATCH_LIMIT = 100  # inputs per batch read
DEFAULT_RETRY_AFTER = 10.0  # seconds, when a 429 names no Retry-After (HubSpot's ten-second window)

# The deal's own tracking code: a custom deal property the company fills from the landing
# page's utm_content (forms or a workflow). Contacts: the same custom property, else the
# utm_content of HubSpot's "First page seen" (hs_analytics_first_url).
CODE_PROPERTY = "utm_content"
DEAL_PROPERTIES = (
    "dealname",
    "amount",
    "deal_currency_code",
    "closedate",
    "dealstage",
    "pipeline",
    "hs_is_closed_won",
    "hs_is_closed",
    "hs_lastmodifieddate",
    CODE_PROPERTY,
)
CONTACT_PROPERTIES = ("email", "hs_analytics_first_url", "hs_analytics_first_touch_converting_campaign", CODE_PROPERTY)


@dataclass(frozen=True)
class HubSpotConfig:
    """The app's credentials and where HubSpot is. `origin` replaces scheme and host of every
    URL (both app.hubspot.com and api.hubapi.com), keeping the real paths; "" = HubSpot."""

    client_id: str
    client_secret: str
    redirect_uri: str
    origin: str = ""
    timeout: float = 10.0


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime | None  # UTC


@dataclass(frozen=True)
class Portal:
    """The HubSpot account (portal) a token reads."""

    hub_id: str
    hub_domain: str = ""
    user: str = ""


def _millis(value: Any) -> int | None:
    """A HubSpot datetime property (ISO 8601 with Z, or epoch milliseconds) as epoch ms."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True)
class Deal:
    """One deal as the search answered it, its properties read into Python values."""

    id: str
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.properties.get("dealname") or "")

    @property
    def amount(self) -> Decimal | None:
        raw = self.properties.get("amount")
        if raw in (None, ""):
            return None
        try:
            return Decimal(str(raw)).quantize(Decimal("0.01"))
        except InvalidOperation:
            return None

    @property
    def currency(self) -> str:
        return str(self.properties.get("deal_currency_code") or "").upper()

    @property
    def close_date(self) -> date | None:
        millis = _millis(self.properties.get("closedate"))
        return None if millis is None else datetime.fromtimestamp(millis / 1000, UTC).date()

    @property
    def stage(self) -> str:
        return str(self.properties.get("dealstage") or "")

    @property
    def is_won(self) -> bool:
        """HubSpot's calculated hs_is_closed_won; the default pipeline's "closedwon" stage
        when the property is missing."""
        flag = self.properties.get("hs_is_closed_won")
        if flag not in (None, ""):
            return str(flag).lower() == "true"
        return self.stage == "closedwon"

    @property
    def is_closed(self) -> bool:
        """HubSpot's calculated hs_is_closed (the deal is in a closed stage of its pipeline,
        won or lost: any pipeline's stages, whatever their ids); the default pipeline's
        "closedwon" and "closedlost" stages when the property is missing. An open deal
        (False) is pipeline."""
        flag = self.properties.get("hs_is_closed")
        if flag not in (None, ""):
            return str(flag).lower() == "true" or self.is_won
        return self.is_won or self.stage in ("closedwon", "closedlost")

    @property
    def modified_ms(self) -> int:
        return _millis(self.properties.get("hs_lastmodifieddate")) or 0

    @property
    def tracking_code(self) -> str:
        return str(self.properties.get(CODE_PROPERTY) or "").strip()


@dataclass(frozen=True)
class DealPage:
    deals: list[Deal]
    after: str | None  # the cursor of the next page; None: this was the last
    total: int


@dataclass(frozen=True)
class Contact:
    id: str
    email: str
    first_touch_code: str  # the utm_content the contact first arrived with ("" when unknown)


def first_touch_code(properties: dict[str, Any]) -> str:
    """The contact's first-touch utm_content: the custom `utm_content` property when the
    company keeps one, else the utm_content of the first page HubSpot saw them on."""
    own = str(properties.get(CODE_PROPERTY) or "").strip()
    if own:
        return own
    first_url = str(properties.get("hs_analytics_first_url") or "")
    values = parse_qs(urlsplit(first_url).query).get("utm_content") if first_url else None
    return values[0].strip() if values else ""


class HubSpotClient:
    """One HubSpot app (client id and secret) talking to one origin."""

    def __init__(self, config: HubSpotConfig):
        self.config = config
        self.http = HttpClient(
            "hubspot",
            NetworkConfig(
                client_id=config.client_id,
                client_secret=config.client_secret,
                redirect_uri=config.redirect_uri,
                origin=config.origin,
                timeout=config.timeout,
            ),
        )

    # --- OAuth -----------------------------------------------------------------------

    def authorization_url(self, *, state: str) -> str:
        """The consent page where an admin installs the app in their portal. No call."""
        session = self.http.oauth_session(
            client_id=self.config.client_id, redirect_uri=self.config.redirect_uri, scope=list(SCOPES)
        )
        return self.http.authorization_url(session, self.http.url(APP_HOST, AUTHORIZE_PATH), state=state)

    def exchange_code(self, *, code: str) -> Tokens:
        """Trade the callback's code for tokens. Raises AuthorizationFailed (expired,
        replayed or foreign code), InvalidRequest (wrong client credentials), RateLimited,
        TransientFailure."""
        if not code:
            raise AuthorizationFailed("HubSpot sent no code back")
        body = self._token_call(
            lambda on_error: self.http.exchange_code(self.http.url(API_HOST, TOKEN_PATH), code=code, on_error=on_error),
            refreshing=False,
        )
        return self._tokens(body, previous_refresh="")

    def refresh(self, *, refresh_token: str) -> Tokens:
        """A new access token (30 minutes) from the refresh token. Raises AuthRevoked when
        HubSpot refuses the refresh token (the app was uninstalled), InvalidRequest,
        RateLimited, TransientFailure."""
        if not refresh_token:
            raise AuthRevoked("no refresh token is stored: reconnect HubSpot")
        body = self._token_call(
            lambda on_error: self.http.refresh_with_secret(
                self.http.url(API_HOST, TOKEN_PATH), refresh_token=refresh_token, on_error=on_error
            ),
            refreshing=True,
        )
        return self._tokens(body, previous_refresh=refresh_token)

    def _token_call(self, call, *, refreshing: bool) -> dict[str, Any]:
        """Run a token call, its refusals raised by `_token_error` and its transport
        failures as TransientFailure."""
        try:
            return call(lambda r, b: self._token_error(r, b, refreshing=refreshing))
        except HubSpotError:
            raise
        except net.NetworkError as exc:
            raise TransientFailure(exc.message, status=exc.status) from None

    @staticmethod
    def _tokens(body: dict[str, Any], *, previous_refresh: str) -> Tokens:
        return Tokens(
            access_token=str(body["access_token"]),
            refresh_token=str(body.get("refresh_token") or previous_refresh),
            expires_at=expires_at(body.get("expires_in")),
        )

    def _token_error(self, response: requests.Response, body: Any, *, refreshing: bool) -> NoReturn:
        body = body if isinstance(body, dict) else {}
        status_word = str(body.get("status") or body.get("error") or "")
        message = str(body.get("message") or body.get("error_description") or body_text(response))
        if response.status_code == 429:
            self._raise_rate_limited(response, body)
        if status_word in ("BAD_CLIENT_ID", "BAD_CLIENT_SECRET", "invalid_client"):
            raise InvalidRequest(
                f"HubSpot refused the app's credentials ({status_word}: {message}); "
                "check HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET",
                status=response.status_code,
            )
        if refreshing:
            raise AuthRevoked(
                f"HubSpot refused the refresh token ({status_word or response.status_code}: {message})",
                status=response.status_code,
            )
        raise AuthorizationFailed(
            f"HubSpot refused the code ({status_word or response.status_code}: {message})",
            status=response.status_code,
        )

    def portal(self, *, access_token: str) -> Portal:
        """The portal the token reads (GET /oauth/v1/access-tokens/{token}). Raises
        TokenExpired, AuthRevoked, RateLimited, TransientFailure."""
        url = self.http.url(API_HOST, "/oauth/v1/access-tokens/" + quote(access_token, safe=""))
        body = self._call("GET", url, action="token information", token="")
        return Portal(
            hub_id=str(body.get("hub_id") or ""),
            hub_domain=str(body.get("hub_domain") or ""),
            user=str(body.get("user") or ""),
        )

    # --- CRM ---------------------------------------------------------------------------

    def search_deals(
        self, *, access_token: str, modified_since_ms: int, after: str | None = None, limit: int = 100
    ) -> DealPage:
        """One page of the deals whose hs_lastmodifieddate is at or after
        `modified_since_ms` (epoch ms), oldest change first, with `DEAL_PROPERTIES`.
        `after` is the previous page's cursor. Raises ValueError for a limit above 200,
        TokenExpired, AuthRevoked, RateLimited, TransientFailure, InvalidRequest."""
        if not 1 <= limit <= SEARCH_LIMIT:
            raise ValueError(f"limit must be between 1 and {SEARCH_LIMIT}")
        payload: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(modified_since_ms)}
                    ]
                }
            ],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": list(DEAL_PROPERTIES),
            "limit": limit,
        }
        if after:
            payload["after"] = after
        body = self._call(
            "POST",
            self.http.url(API_HOST, "/crm/v3/objects/deals/search"),
            json=payload,
            action="deal search",
            token=access_token,
        )
        results = body.get("results")
        if not isinstance(results, list):
            raise TransientFailure("deal search: answer without results")
        deals = [Deal(id=str(r["id"]), properties=dict(r.get("properties") or {})) for r in results if r.get("id")]
        next_after = ((body.get("paging") or {}).get("next") or {}).get("after")
        return DealPage(deals=deals, after=str(next_after) if next_after else None, total=int(body.get("total") or 0))

    def deal_contacts(self, *, access_token: str, deal_ids: list[str]) -> dict[str, list[str]]:
        """The contacts associated with each deal, in HubSpot's order ({} entries for
        deals with none). Batches of 100. Raises like `search_deals`."""
        found: dict[str, list[str]] = {deal_id: [] for deal_id in deal_ids}
        url = self.http.url(API_HOST, "/crm/v3/associations/deals/contacts/batch/read")
        for chunk in _chunks(deal_ids, BATCH_LIMIT):
            body = self._call(
                "POST", url, json={"inputs": [{"id": i} for i in chunk]}, action="deal associations", token=access_token
            )
            for result in body.get("results") or []:
                deal_id = str((result.get("from") or {}).get("id") or "")
                if deal_id in found:
                    found[deal_id] = [str(to["id"]) for to in result.get("to") or [] if to.get("id")]
        return found

    def read_contacts(self, *, access_token: str, contact_ids: list[str]) -> dict[str, Contact]:
        """The contacts by id with their e-mail and first-touch tracking code; ids HubSpot
        does not find are left out. Batches of 100. Raises like `search_deals`."""
        contacts: dict[str, Contact] = {}
        url = self.http.url(API_HOST, "/crm/v3/objects/contacts/batch/read")
        for chunk in _chunks(list(dict.fromkeys(contact_ids)), BATCH_LIMIT):
            payload = {"properties": list(CONTACT_PROPERTIES), "inputs": [{"id": i} for i in chunk]}
            body = self._call("POST", url, json=payload, action="contact batch read", token=access_token)
            for result in body.get("results") or []:
                properties = result.get("properties") or {}
                contacts[str(result["id"])] = Contact(
                    id=str(result["id"]),
                    email=str(properties.get("email") or "").strip(),
                    first_touch_code=first_touch_code(properties),
                )
        return contacts

    # --- plumbing -----------------------------------------------------------------------

    def _call(self, method: str, url: str, *, action: str, token: str, **kwargs: Any) -> dict[str, Any]:
        """One read, with `token` as the Bearer (none when empty). 200 and 207 (a batch
        with some misses) are answers; anything else raises its typed error."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            # Search and batch reads are POSTs that change nothing: safe to repeat.
            response = self.http.request(method, url, idempotent=True, headers=headers, **kwargs)
        except net.NetworkError as exc:
            raise TransientFailure(exc.message, status=exc.status) from None
        body = json_body(response)
        if response.status_code in (200, 207) and isinstance(body, dict):
            return body
        self._raise_for(response, body if isinstance(body, dict) else {}, action=action)

    def _raise_rate_limited(self, response: requests.Response, body: dict[str, Any]) -> NoReturn:
        moment = retry_after(response)
        wait = max((moment - utcnow()).total_seconds(), 0.0) if moment else DEFAULT_RETRY_AFTER
        policy = str(body.get("policyName") or "")
        raise RateLimited(
            f"HubSpot's rate limit ({policy or 'unknown policy'}): {body.get('message') or 'too many requests'}; "
            f"try again in {wait:.0f} s",
            retry_after=wait,
            status=response.status_code,
            policy=policy,
        )

    def _raise_for(self, response: requests.Response, body: dict[str, Any], *, action: str) -> NoReturn:
        status = response.status_code
        category = str(body.get("category") or body.get("errorType") or "")
        message = str(body.get("message") or body_text(response) or response.reason)
        if status == 429:
            self._raise_rate_limited(response, body)
        if status == 401 and category == "EXPIRED_AUTHENTICATION":
            raise TokenExpired(f"{action}: the access token expired ({message})", status=status)
        if status in (401, 403):
            raise AuthRevoked(
                f"{action}: HubSpot refused the connection ({category or status}: {message})", status=status
            )
        raise InvalidRequest(f"{action}: HubSpot answered {status} ({category or 'error'}: {message})", status=status)


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
