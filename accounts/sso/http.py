"""The HTTP session through which allauth reaches identity providers (discovery, keys, tokens).

An issuer is typed by an organization's admin, so it must not become a way into the
deployment's own network: a connection whose peer is not a public address (private,
loopback, link-local, ...) is closed before anything is sent. The check is made on the socket
actually connected, so a name that resolves differently the second time gains nothing. The
local hosts SSO_HTTP_ISSUER_HOSTS names (`make run`'s provider, the tests') are the exception.
Through an HTTP(S)_PROXY of the environment, the proxy connects, and is what must restrict.
"""

from __future__ import annotations

import ipaddress

import requests
import urllib3
from django.conf import settings


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


def guard(session: requests.Session) -> requests.Session:
    """`session`, talking to public addresses only (and the allowed local hosts)."""
    for prefix in ("http://", "https://"):
        session.mount(prefix, PublicOnlyAdapter())
    return session
