"""Request plumbing shared by the three clients.

One `requests.Session` per client (its connection pool is shared with the OAuth sessions
of that client), a timeout on every call, URLs built from `NetworkConfig.origin`, and
every transport failure turned into a `networks.errors` type:

- nothing was sent (DNS, refused connection, connect timeout, TLS handshake):
  `TransientFailure`, whatever the method;
- the request was sent but no complete answer came back (read timeout, connection
  dropped or reset while waiting or reading): `AmbiguousOutcome` for a non-idempotent
  call (a POST that publishes: the post may exist), `TransientFailure` otherwise;
- 5xx: `TransientFailure`; a 504 (a gateway gave up waiting for the network) on a
  non-idempotent call is an `AmbiguousOutcome`, which is a `TransientFailure` too.

Error messages name the method and the path only: never a query string, which may carry
an access token (Facebook).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, NoReturn
from urllib.parse import urlsplit

import requests
from oauthlib.oauth2 import OAuth2Error
from requests_oauthlib import OAuth2Session
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from networks.base import NetworkConfig
from networks.errors import AmbiguousOutcome, NetworkError, TransientFailure

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
USER_AGENT = "advocacy-networks/1.0 (+requests)"


def utcnow() -> datetime:
    return datetime.now(UTC)


def json_body(response: requests.Response) -> Any:
    """The decoded JSON body, or None when there is none or it is not JSON."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def retry_after(response: requests.Response) -> datetime | None:
    """The moment a standard `Retry-After` header (seconds or HTTP date) points to, if any."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return utcnow() + timedelta(seconds=int(value))
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def from_epoch(value: str | None) -> datetime | None:
    """A Unix-seconds header value as an aware UTC datetime (None if absent or malformed)."""
    if not value:
        return None
    try:
        return datetime.fromtimestamp(int(float(value)), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def expires_at(expires_in: Any) -> datetime | None:
    """`expires_in` seconds from now (None when the answer gave none)."""
    try:
        seconds = int(expires_in)
    except (TypeError, ValueError):
        return None
    return utcnow() + timedelta(seconds=seconds)


# oauthlib refuses plain-HTTP URLs unless OAUTHLIB_INSECURE_TRANSPORT is set. An origin
# like http://127.0.0.1:8765/x (the local emulator) is an explicit choice of the
# operator, so it is allowed for the duration of the OAuth call only, never for https
# origins (the real networks), with a count so concurrent calls do not unset it early.
_INSECURE_ENV = "OAUTHLIB_INSECURE_TRANSPORT"
_insecure_lock = threading.Lock()
_insecure_users = 0
_insecure_previous: str | None = None


@contextmanager
def allow_plain_http(url: str) -> Iterator[None]:
    global _insecure_users, _insecure_previous
    if not url.lower().startswith("http://"):
        yield
        return
    with _insecure_lock:
        if _insecure_users == 0:
            _insecure_previous = os.environ.get(_INSECURE_ENV)
            os.environ[_INSECURE_ENV] = "1"
        _insecure_users += 1
    try:
        yield
    finally:
        with _insecure_lock:
            _insecure_users -= 1
            if _insecure_users == 0:
                if _insecure_previous is None:
                    os.environ.pop(_INSECURE_ENV, None)
                else:
                    os.environ[_INSECURE_ENV] = _insecure_previous


def _sent_but_unanswered(exc: BaseException) -> bool:
    """True when the request left us and the answer was lost (vs. never sent)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ReadTimeout | requests.exceptions.ChunkedEncodingError):
        return True
    if isinstance(exc, requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        # requests wraps what urllib3 raised: ProtocolError ("Connection aborted.",
        # RemoteDisconnected / ConnectionResetError) and ReadTimeoutError happen after the
        # request was written; MaxRetryError(NewConnectionError) before.
        cause = exc.args[0] if exc.args else None
        return isinstance(cause, ProtocolError | ReadTimeoutError)
    return False


@lru_cache(maxsize=256)
def _environment_for(scheme: str, netloc: str) -> tuple[dict[str, str], str | bool, tuple[str, str] | None]:
    """What `requests` takes from the environment for a host: its proxies (HTTP(S)_PROXY,
    NO_PROXY), the CA bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE) and ~/.netrc's login. Read
    once per host and process: `requests` reads them again on every call (the proxies walk
    the whole environment), a measurable share of a published post's CPU."""
    url = f"{scheme}://{netloc}/"
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return requests.utils.get_environ_proxies(url), verify, requests.utils.get_netrc_auth(url)


class HttpClient:
    """The transport of one client: one session, one timeout, one origin."""

    def __init__(self, network: str, config: NetworkConfig):
        self.network = network
        self.config = config
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        # The session serves one member's call after another's (networks.base.client_for):
        # an API needs no cookie, and none that one answer sets may go with the next request.
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        # The environment's settings are still honoured: `request` passes them, read once.
        self.session.trust_env = False

    # --- URLs ------------------------------------------------------------------------

    def url(self, real_base: str, path: str) -> str:
        """`real_base` (e.g. "https://api.linkedin.com") + `path`, or the configured origin
        + the same path when one is set (both hosts of a network map to that origin)."""
        base = self.config.origin.rstrip("/") if self.config.origin else real_base.rstrip("/")
        return base + (path if path.startswith("/") else "/" + path)

    # --- Errors ----------------------------------------------------------------------

    @staticmethod
    def describe(method: str, url: str) -> str:
        return f"{method.upper()} {urlsplit(url).path}"

    @contextmanager
    def guard(self, method: str, url: str, *, idempotent: bool) -> Iterator[None]:
        """Turn every `requests` transport exception raised inside into a `networks.errors` type."""
        what = self.describe(method, url)
        try:
            yield
        except requests.exceptions.RequestException as exc:
            # `from None`: the requests exception's text holds the full URL, and Facebook's
            # query strings carry tokens and the app secret; it must not reach the logs.
            cause = _cause_name(exc)
            if _sent_but_unanswered(exc):
                reason = "timed out waiting for the answer" if _is_timeout(exc) else "connection lost before the answer"
                if idempotent:
                    raise TransientFailure(self.network, f"{what}: {reason} ({cause})") from None
                raise AmbiguousOutcome(
                    self.network, f"{what}: request sent but {reason} ({cause}); the call may have taken effect"
                ) from None
            if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
                reason = "connect timeout" if _is_timeout(exc) else "could not connect"
                raise TransientFailure(self.network, f"{what}: {reason} ({cause})") from None
            raise NetworkError(self.network, f"{what}: request failed ({cause})") from None

    def check_server_error(self, response: requests.Response, *, idempotent: bool) -> None:
        """Raise TransientFailure (AmbiguousOutcome for a non-idempotent 504) on any 5xx."""
        if response.status_code < 500:
            return
        what = self.describe(response.request.method or "", response.url)
        message = f"{what}: the network answered {response.status_code}"
        if response.status_code == 504 and not idempotent:
            raise AmbiguousOutcome(self.network, message + "; the call may have taken effect", status=504)
        raise TransientFailure(self.network, message, status=response.status_code)

    # --- Calls -----------------------------------------------------------------------

    def request(self, method: str, url: str, *, idempotent: bool | None = None, **kwargs: Any) -> requests.Response:
        """Send one request with the configured timeout. Raises TransientFailure or
        AmbiguousOutcome (see the module docstring); returns any answer below 500."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS
        where = urlsplit(url)
        proxies, verify, netrc_auth = _environment_for(where.scheme.lower(), where.netloc.lower())
        kwargs.setdefault("proxies", dict(proxies))
        kwargs.setdefault("verify", verify)
        if netrc_auth is not None and not kwargs.get("auth") and not self.session.auth:
            kwargs["auth"] = netrc_auth  # as `requests` does: a login of ~/.netrc for the host
        with self.guard(method, url, idempotent=idempotent):
            response = self.session.request(method, url, timeout=self.config.timeout, **kwargs)
        self.check_server_error(response, idempotent=idempotent)
        return response

    def oauth_session(self, **kwargs: Any) -> OAuth2Session:
        """An OAuth2Session sharing this client's connection pool and headers."""
        session = OAuth2Session(**kwargs)
        for prefix, adapter in self.session.adapters.items():
            session.mount(prefix, adapter)
        session.headers.update(self.session.headers)
        return session

    def authorization_url(self, session: OAuth2Session, url: str, *, state: str) -> str:
        with allow_plain_http(url):
            auth_url, _ = session.authorization_url(url, state=state)
        return auth_url

    def exchange_code(
        self, url: str, *, code: str, on_error: Callable[[requests.Response, Any], NoReturn]
    ) -> dict[str, Any]:
        """The authorization-code grant with the client id and secret in the form body (as
        LinkedIn and HubSpot want them), through `token_call`."""
        session = self.oauth_session(client_id=self.config.client_id, redirect_uri=self.config.redirect_uri)
        return self.token_call(
            session,
            url,
            lambda s: s.fetch_token(
                url,
                code=code,
                include_client_id=True,
                client_secret=self.config.client_secret,
                timeout=self.config.timeout,
            ),
            on_error=on_error,
        )

    def refresh_with_secret(
        self, url: str, *, refresh_token: str, on_error: Callable[[requests.Response, Any], NoReturn]
    ) -> dict[str, Any]:
        """The refresh-token grant with the client id and secret in the form body, through `token_call`."""
        session = self.oauth_session(client_id=self.config.client_id)
        return self.token_call(
            session,
            url,
            lambda s: s.refresh_token(
                url,
                refresh_token=refresh_token,
                client_id=self.config.client_id,
                client_secret=self.config.client_secret,
                timeout=self.config.timeout,
            ),
            on_error=on_error,
        )

    def token_call(
        self,
        session: OAuth2Session,
        url: str,
        call: Callable[[OAuth2Session], dict[str, Any]],
        *,
        on_error: Callable[[requests.Response, Any], NoReturn],
        method: str = "POST",
    ) -> dict[str, Any]:
        """Run `call(session)` (a fetch_token / refresh_token) against the token endpoint `url`.

        Any answer that is not a 2xx JSON object with an `access_token` is handed to
        `on_error(response, decoded_body)`, which raises the client's typed error; 5xx
        and transport failures are TransientFailure (a token call is retried as a whole,
        never reconciled)."""

        def hook(response: requests.Response) -> requests.Response:
            self.check_server_error(response, idempotent=True)
            body = json_body(response)
            if not (200 <= response.status_code < 300 and isinstance(body, dict) and body.get("access_token")):
                on_error(response, body)
                raise NetworkError(self.network, f"{self.describe(method, url)}: unexpected token answer")
            return response

        session.register_compliance_hook("access_token_response", hook)
        session.register_compliance_hook("refresh_token_response", hook)
        with allow_plain_http(url), self.guard(method, url, idempotent=True):
            try:
                return dict(call(session))
            except NetworkError:
                raise
            except (OAuth2Error, Warning, ValueError) as exc:
                raise NetworkError(  # from None: oauthlib errors carry the token answer
                    self.network, f"{self.describe(method, url)}: unreadable token answer ({type(exc).__name__})"
                ) from None


def _cause_name(exc: BaseException) -> str:
    """The innermost exception type names, e.g. "ConnectionError/ProtocolError/RemoteDisconnected"
    (names only: messages may contain URLs with secrets)."""
    names = [type(exc).__name__]
    inner: Any = exc.args[0] if exc.args else None
    for _ in range(3):
        if not isinstance(inner, BaseException):
            break
        names.append(type(inner).__name__)
        reason = getattr(inner, "reason", None)  # MaxRetryError.reason
        if isinstance(reason, BaseException):
            inner = reason
            continue
        inner = next((a for a in inner.args if isinstance(a, BaseException)), None)
    return "/".join(dict.fromkeys(names))


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    cause = exc.args[0] if exc.args else None
    return isinstance(cause, ReadTimeoutError)


def body_text(response: requests.Response, limit: int = 300) -> str:
    """A short, printable excerpt of an answer (for messages)."""
    body = json_body(response)
    text = json.dumps(body) if body is not None else response.text
    return text[:limit]
