"""The HTTP session through which allauth reaches identity providers (discovery, keys, tokens).

An issuer is typed by an organization's admin, so it must not become a way into the
deployment's own network: a connection whose peer is not a public address (private,
loopback, link-local, ...) is closed before anything is sent. The check is made on the socket
actually connected, so a name that resolves differently the second time gains nothing. The
local hosts SSO_HTTP_ISSUER_HOSTS names (`make run`'s provider, the tests') are the exception.
Through an HTTP(S)_PROXY of the environment, the proxy connects, and is what must restrict.

Every answer is read up to MAX_DOCUMENT_BYTES (a provider's documents are a few kilobytes; a
bigger one is refused, not read into memory), and an OpenID Connect discovery document must
name the issuer it was read from and https endpoints (but on SSO_HTTP_ISSUER_HOSTS hosts):
`ProviderRefused`, whose message says why.
"""

from __future__ import annotations

import ipaddress

import requests
import urllib3
from django.conf import settings
from django.utils.translation import gettext as _


class _PublicPeerOnly:
    def _new_conn(self):
        sock = super()._new_conn()
        if self.host not in settings.SSO_HTTP_ISSUER_HOSTS:
            peer = sock.getpeername()[0]
            if not ipaddress.ip_address(peer).is_global:
                sock.close()
                raise urllib3.exceptions.NewConnectionError(
                    self, f"{self.host} is at a private address ({peer}); identity providers must be public"
                )
        return sock


class _HTTPConnection(_PublicPeerOnly, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_PublicPeerOnly, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class PublicOnlyAdapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


MAX_DOCUMENT_BYTES = 1024 * 1024
DISCOVERY_PATH = "/.well-known/openid-configuration"
DISCOVERED_URLS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


class ProviderRefused(requests.RequestException):
    """A provider's answer that is not used; the message says why, in words."""


def _capped(response: requests.Response, *args, **kwargs) -> requests.Response:
    """Read the body, at most MAX_DOCUMENT_BYTES (a response hook: runs before requests reads it)."""
    too_big = ProviderRefused(
        _("The provider's answer at %(url)s is larger than %(size)s KB: it is not read.")
        % {"url": response.url, "size": MAX_DOCUMENT_BYTES // 1024}
    )
    if int(response.headers.get("Content-Length") or 0) > MAX_DOCUMENT_BYTES:
        response.close()
        raise too_big
    body = bytearray()
    for chunk in response.iter_content(64 * 1024):
        body += chunk
        if len(body) > MAX_DOCUMENT_BYTES:
            response.close()
            raise too_big
    response._content = bytes(body)
    return response


def _checked_discovery(response: requests.Response, *args, **kwargs) -> requests.Response:
    """An OpenID Connect discovery document must name the issuer it was read from, and https
    endpoints: otherwise whoever controls it could send people's codes and tokens elsewhere."""
    from accounts.sso import insecure_url

    url = response.url.split("?", 1)[0]
    if not response.ok or not url.endswith(DISCOVERY_PATH):
        return response
    expected = url.removesuffix(DISCOVERY_PATH).rstrip("/")
    try:
        document = response.json()
    except ValueError:
        raise ProviderRefused(_("The provider's discovery document is not JSON.")) from None
    issuer = str(document.get("issuer") or "").rstrip("/") if isinstance(document, dict) else ""
    if issuer != expected:
        raise ProviderRefused(
            _("The provider's discovery document names the issuer %(issuer)s, not %(expected)s as configured.")
            % {"issuer": issuer or _("(none)"), "expected": expected}
        )
    for name in DISCOVERED_URLS:
        value = str(document.get(name) or "")
        if not value or insecure_url(value):
            raise ProviderRefused(
                _("The provider's %(name)s must be an https:// URL (it is %(value)s).")
                % {"name": name, "value": value or _("missing")}
            )
    return response


def guard(session: requests.Session) -> requests.Session:
    """`session`, talking to public addresses only (and the allowed local hosts), reading
    answers up to MAX_DOCUMENT_BYTES and checking OpenID Connect discovery documents."""
    for prefix in ("http://", "https://"):
        session.mount(prefix, PublicOnlyAdapter())
    session.hooks["response"] = [*session.hooks.get("response", []), _capped, _checked_discovery]
    return session
