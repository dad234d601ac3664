"""Fetch a page someone gave us by URL, without letting that URL reach inside our network.

Every fetch of a user-supplied address (link previews, RSS/Atom feeds) goes through
`fetch()`; the guarantees (DESIGN.md, "Tenancy and security"):

* only `http` and `https`, no credentials in the address;
* the host is resolved once with `socket.getaddrinfo` and refused if ANY of its addresses
  is not a public one (private, loopback, link-local, multicast, reserved, unspecified,
  shared 100.64/10, site-local, and IPv6 forms that embed such an IPv4 address:
  IPv4-mapped, 6to4, Teredo, NAT64);
* the connection goes to the vetted address itself (pinned), with the original host name
  in the Host header, TLS SNI and certificate check, so a DNS answer that changes between
  the check and the connection (DNS rebinding) cannot point it elsewhere;
* redirects are followed by hand, at most five, each hop checked again;
* one deadline for the whole fetch (connect, headers, body, every hop), enforced by a
  watchdog that closes the socket, so a server trickling bytes cannot hold a worker;
* at most 3 MB of (decompressed) body, read in chunks and stopped when over.

`settings.UNFURL_ALLOWED_HOSTS` lists `host` or `host:port` entries fetched even when
they resolve to private addresses (a loopback test server, an intranet on purpose).

Refusals and failures raise `FetchFailed` (a `ValidationFailed`) with words for the
marketer; nothing else escapes. A page's preview is read here too
(`unfurl`, with the stdlib HTMLParser); a fetched RSS/Atom feed is read by `content.feed_reader`.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit, urlunsplit

import urllib3
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from advocacy.errors import ValidationFailed

TIMEOUT = 5.0
MAX_BYTES = 3 * 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "AdvocacyLinkPreview/1.0 (link previews for an employee advocacy library)"
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
FEED_ACCEPT = (
    "application/rss+xml,application/atom+xml,application/rdf+xml;q=0.9,application/xml;q=0.8,text/xml;q=0.8,*/*;q=0.1"
)
REDIRECT_STATUSES = {301, 302, 303, 307, 308}

PRIVATE_MESSAGE = gettext_lazy("That address points inside a private network, so it can't be fetched.")
SCHEME_MESSAGE = gettext_lazy("Only web addresses that start with http:// or https:// can be fetched.")

_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchFailed(ValidationFailed):
    """A fetch was refused (unsafe address) or did not work; `message` says which and why."""

    code = "fetch_failed"


# --- which addresses may be fetched ---------------------------------------------------------


def is_public_address(ip: _IPAddress) -> bool:
    """True only for an address on the public internet (and every IPv4 address it embeds)."""
    if ip.version == 6:
        embedded: list[ipaddress.IPv4Address] = []
        if ip.ipv4_mapped is not None:
            embedded.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            embedded.append(ip.sixtofour)
        if ip.teredo is not None:
            embedded.extend(ip.teredo)
        if ip in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if any(not is_public_address(inner) for inner in embedded):
            return False
        if ip.is_site_local:
            return False
    elif ip in _SHARED_ADDRESS_SPACE:
        return False
    return ip.is_global and not (
        ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified
    )


def _split_host_port(entry: str) -> tuple[str, int | None]:
    entry = entry.strip().lower()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:
        host, port = entry.split(":")
    else:  # a name, an IPv4 address, or a bare IPv6 address
        host, port = entry, ""
    return host, int(port) if port.isdigit() else None


def _is_allowed_anyway(host: str, port: int) -> bool:
    for entry in getattr(settings, "UNFURL_ALLOWED_HOSTS", []) or []:
        allowed_host, allowed_port = _split_host_port(str(entry))
        if allowed_host == host and allowed_port in (None, port):
            return True
    return False


@dataclass(frozen=True)
class _Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the vetted IP the connection is pinned to


def _vet(url: str) -> _Target:
    """Check a URL and its host's every address; answer the address to connect to."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise FetchFailed(_("That is not a valid web address.")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchFailed(str(SCHEME_MESSAGE))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchFailed(_("That web address has no site name in it."))
    try:
        host = host.encode("idna").decode("ascii")  # bücher.example -> xn--bcher-kva.example
    except UnicodeError:
        raise FetchFailed(_("The site %(host)s could not be found.") % {"host": host}) from None
    if parts.username is not None or parts.password is not None:
        raise FetchFailed(_("Web addresses with a user name or password in them can't be fetched."))
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchFailed(_("The site %(host)s could not be found.") % {"host": host}) from None
    addresses: list[_IPAddress] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            try:
                addresses.append(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]))
            except ValueError:
                raise FetchFailed(str(PRIVATE_MESSAGE)) from None
    if not addresses:
        raise FetchFailed(_("The site %(host)s could not be found.") % {"host": host})
    if not _is_allowed_anyway(host, port) and not all(is_public_address(ip) for ip in addresses):
        raise FetchFailed(str(PRIVATE_MESSAGE))
    path = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return _Target(scheme=scheme, host=host, port=port, path=path, address=str(addresses[0]))


def vet_url(url: str) -> None:
    """Raise FetchFailed now when `url` could never be fetched (scheme, private address)."""
    _vet(url)


# --- the pinned connection and the deadline -------------------------------------------------


class _Deadline:
    """One clock for a whole fetch; when it runs out, every socket of the fetch is shut."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def remaining(self) -> float:
        left = self.at - time.monotonic()
        if left <= 0 or self.expired:
            raise FetchFailed(self.too_slow_message)
        return left

    @property
    def too_slow_message(self) -> str:
        return ngettext(
            "The site took longer than %(seconds)s second to answer, so the fetch was stopped.",
            "The site took longer than %(seconds)s seconds to answer, so the fetch was stopped.",
            1 if self.seconds == 1 else max(2, int(self.seconds)),
        ) % {"seconds": f"{self.seconds:g}"}

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                self._shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # The plain socket's shutdown, also under TLS: a blocked read returns at once.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


class _PinnedConnectionMixin:
    """Connect to the vetted address, never to a fresh DNS answer for the host name."""

    def __init__(self, *args, pinned_address: str, deadline: _Deadline, **kwargs):
        self._pinned_address = pinned_address
        self._deadline = deadline
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        ip = ipaddress.ip_address(self._pinned_address)
        sock = socket.socket(socket.AF_INET6 if ip.version == 6 else socket.AF_INET, socket.SOCK_STREAM)
        self._deadline.watch(sock)
        try:
            sock.settimeout(self._deadline.remaining())
            sock.connect((str(ip), self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except TimeoutError as exc:
            sock.close()
            raise urllib3.exceptions.ConnectTimeoutError(self, f"Connecting to {self.host} timed out.") from exc
        except OSError as exc:
            sock.close()
            raise urllib3.exceptions.NewConnectionError(self, f"Could not connect to {self.host}: {exc}") from exc
        except BaseException:
            sock.close()
            raise
        return sock


class _PinnedHTTPConnection(_PinnedConnectionMixin, urllib3.connection.HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, urllib3.connection.HTTPSConnection):
    pass


class _PinnedHTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


def _ca_bundle() -> str | None:
    try:
        import certifi
    except ImportError:  # the system's store then
        return None
    return certifi.where()


def _open_pool(target: _Target, deadline: _Deadline) -> urllib3.HTTPConnectionPool:
    common = {"maxsize": 1, "block": False, "retries": False, "pinned_address": target.address, "deadline": deadline}
    if target.scheme == "https":
        return _PinnedHTTPSPool(target.host, target.port, cert_reqs="CERT_REQUIRED", ca_certs=_ca_bundle(), **common)
    return _PinnedHTTPPool(target.host, target.port, **common)


# --- fetching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    url: str  # the final address, after redirects
    status: int
    content_type: str  # the media type, lower case, without parameters
    charset: str
    body: bytes


def fetch(url: str, *, accept: str = HTML_ACCEPT, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET a user-supplied URL under the SSRF rules above. Raises FetchFailed, nothing else."""
    deadline = _Deadline(timeout)
    try:
        return _fetch(url, accept=accept, deadline=deadline, max_bytes=max_bytes)
    except FetchFailed:
        if deadline.expired:
            raise FetchFailed(deadline.too_slow_message) from None
        raise
    except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError, ValueError) as exc:
        timed_out = isinstance(exc, (urllib3.exceptions.TimeoutError, TimeoutError)) and not isinstance(
            exc, urllib3.exceptions.NewConnectionError
        )
        if deadline.expired or timed_out:
            raise FetchFailed(deadline.too_slow_message) from None
        raise FetchFailed(_words_for(exc, url)) from None
    finally:
        deadline.cancel()


def _words_for(exc: Exception, url: str) -> str:
    host = urlsplit(url).hostname or url
    text = repr(exc)
    if isinstance(exc, urllib3.exceptions.SSLError) or "SSL" in text or "CERTIFICATE" in text:
        return _("The secure connection to %(host)s could not be verified, so it was not fetched.") % {"host": host}
    if isinstance(exc, urllib3.exceptions.DecodeError):
        return _("%(host)s sent a page that could not be decompressed.") % {"host": host}
    return _("%(host)s could not be reached.") % {"host": host}


def _fetch(url: str, *, accept: str, deadline: _Deadline, max_bytes: int) -> Fetched:
    current = url.strip()
    for _hop in range(MAX_REDIRECTS + 1):
        target = _vet(current)
        pool = _open_pool(target, deadline)
        try:
            remaining = deadline.remaining()
            response = pool.urlopen(
                "GET",
                target.path,
                headers={"User-Agent": USER_AGENT, "Accept": accept, "Accept-Encoding": "gzip, deflate"},
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
                decode_content=True,
                timeout=urllib3.Timeout(connect=remaining, read=remaining),
            )
            try:
                if response.status in REDIRECT_STATUSES:
                    location = (response.headers.get("Location") or "").strip()
                    if not location:
                        raise FetchFailed(_("The site answered with a redirect that leads nowhere."))
                    current = urljoin(current, location)
                    continue
                if response.status >= 400:
                    reason = response.reason or http.client.responses.get(response.status, "")
                    raise FetchFailed(
                        _("The site answered %(status)s.") % {"status": f"{response.status} {reason}".rstrip()}
                    )
                body = _read_capped(response, deadline, max_bytes)
                media_type, charset = _content_type(response.headers.get("Content-Type", ""))
                return Fetched(url=current, status=response.status, content_type=media_type, charset=charset, body=body)
            finally:
                response.close()
        finally:
            pool.close()
    raise FetchFailed(
        _("The address redirected more than %(count)s times, so it was not followed.") % {"count": MAX_REDIRECTS}
    )


def _too_big(max_bytes: int) -> FetchFailed:
    return FetchFailed(
        _("The page is larger than %(size)s MB, so it was not fetched.") % {"size": f"{max_bytes / 1024 / 1024:g}"}
    )


def _read_capped(response, deadline: _Deadline, max_bytes: int) -> bytes:
    declared = (response.headers.get("Content-Length") or "").strip()
    if declared.isdigit() and int(declared) > max_bytes and not response.headers.get("Content-Encoding"):
        raise _too_big(max_bytes)
    chunks, total = [], 0
    while True:
        deadline.remaining()
        chunk = response.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        total += len(chunk)
        if total > max_bytes:
            raise _too_big(max_bytes)
        chunks.append(chunk)


def _content_type(header: str) -> tuple[str, str]:
    media_type, _, params = header.partition(";")
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'").lower()
    return media_type.strip().lower(), charset


# --- reading a page's preview -------------------------------------------------------------


@dataclass(frozen=True)
class PagePreview:
    """What a page says about itself (Open Graph, Twitter card, <title>, meta description)."""

    url: str
    title: str = ""
    description: str = ""
    image_url: str = ""
    canonical_url: str = ""
    site_name: str = ""


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE)


def decode_text(body: bytes, charset: str) -> str:
    """Bytes of a page to text: the declared charset, a BOM, a <meta charset>, else UTF-8."""
    candidates = [charset]
    if body.startswith(b"\xef\xbb\xbf"):
        candidates.insert(0, "utf-8-sig")
    sniffed = _META_CHARSET.search(body[:4096])
    if sniffed:
        candidates.append(sniffed.group(1).decode("ascii", "ignore"))
    for name in [c for c in candidates if c] + ["utf-8"]:
        try:
            return body.decode(name, errors="replace")
        except LookupError:
            continue
    return body.decode("utf-8", errors="replace")


class _PreviewParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.canonical = ""
        self._title: list[str] = []
        self._in_title = False
        self._title_done = False
        self._svg_depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = {name.lower(): (value or "") for name, value in attrs}
        if tag == "meta":
            key = (attributes.get("property") or attributes.get("name") or "").strip().lower()
            if key and "content" in attributes:
                self.meta.setdefault(key, attributes["content"].strip())
        elif tag == "link":
            if "canonical" in attributes.get("rel", "").lower().split() and not self.canonical:
                self.canonical = attributes.get("href", "").strip()
        elif tag == "svg":
            self._svg_depth += 1
        elif tag == "title" and not self._title_done and not self._svg_depth:
            self._in_title = True

    def handle_endtag(self, tag):
        if tag == "title" and self._in_title:
            self._in_title, self._title_done = False, True
        elif tag == "svg" and self._svg_depth:
            self._svg_depth -= 1

    def handle_data(self, data):
        if self._in_title:
            self._title.append(data)

    @property
    def title(self) -> str:
        return "".join(self._title)


def clean_text(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def web_url(base: str, value: str) -> str:
    if not value:
        return ""
    absolute = urljoin(base, value.strip())
    if urlsplit(absolute).scheme.lower() not in ("http", "https") or len(absolute) > 2000:
        return ""
    return absolute


def parse_preview(html: str, url: str) -> PagePreview:
    """Read the preview fields of an HTML page fetched from `url` (relative links resolved)."""
    parser = _PreviewParser()
    parser.feed(html)
    parser.close()
    meta = parser.meta

    def first(*keys: str) -> str:
        return next((meta[k] for k in keys if meta.get(k)), "")

    return PagePreview(
        url=url,
        title=clean_text(first("og:title", "twitter:title") or parser.title, 300),
        description=clean_text(first("og:description", "twitter:description", "description"), 2000),
        image_url=web_url(
            url, first("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src")
        ),
        canonical_url=web_url(url, parser.canonical or first("og:url")),
        site_name=clean_text(first("og:site_name", "application-name"), 200),
    )


def unfurl(url: str, *, timeout: float = TIMEOUT, max_bytes: int = MAX_BYTES) -> PagePreview:
    """Fetch a page safely and read its preview. Raises FetchFailed with the reason."""
    fetched = fetch(url, timeout=timeout, max_bytes=max_bytes)
    if fetched.content_type and fetched.content_type not in ("text/html", "application/xhtml+xml"):
        raise FetchFailed(
            _("That address is not a web page (it is %(content_type)s), so it has no preview.")
            % {"content_type": fetched.content_type}
        )
    return parse_preview(decode_text(fetched.body, fetched.charset), fetched.url)
