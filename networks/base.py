"""The one interface every network client implements, and the values it speaks in.

Pure Python: no Django. A client is built with `client_for(network, config)`; every HTTP
call has a timeout and every failure is one of `networks.errors`.
"""

from __future__ import annotations

import html
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import SplitResult, urlsplit

NETWORKS = ("linkedin", "x", "facebook")


@dataclass(frozen=True)
class NetworkConfig:
    """Everything a client needs to know, passed in (settings are read by the caller).

    `origin` replaces scheme and host of every URL of the network, keeping the real
    paths ("" = the real hosts); e.g. "http://127.0.0.1:8765/linkedin" for the emulator.
    """

    client_id: str
    client_secret: str
    redirect_uri: str
    origin: str = ""
    timeout: float = 10.0
    linkedin_version: str = "202611"
    facebook_graph_version: str = "v24.0"
    # X's API Key and Secret (the app's consumer credentials, not the OAuth 2.0 client):
    # they buy the app-only bearer token that reads public metrics of any account's posts.
    app_key: str = ""
    app_secret: str = ""


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the member, and what to keep server-side until the callback."""

    url: str
    state: str
    code_verifier: str | None  # PKCE (X); never leaves the server


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    expires_at: datetime | None  # UTC; None = does not expire (Facebook Page tokens)
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """The connected member. `remote_id` is stable (LinkedIn `sub`, X user id, Facebook id)."""

    remote_id: str
    name: str
    username: str = ""
    email: str = ""
    picture: str = ""


@dataclass(frozen=True)
class ManagedPage:
    """A Facebook Page the member manages; `can_post` means the CREATE_CONTENT task."""

    remote_id: str
    name: str
    access_token: str
    can_post: bool
    category: str = ""


@dataclass(frozen=True)
class PublishedPost:
    remote_id: str  # urn:li:share:..., tweet id, {page}_{post}
    url: str


@dataclass(frozen=True)
class PostImage:
    """A picture to post natively: its bytes, MIME type (image/jpeg, image/png...) and the
    alt text read to people who cannot see it (sent wherever the network takes one)."""

    data: bytes
    mime_type: str
    alt_text: str = ""


@dataclass(frozen=True)
class ImageUpload:
    """A picture the network holds for one account, not yet in a post: LinkedIn's image URN,
    X's media id, Facebook's unpublished photo id. `expires_at` (UTC) is when the network
    forgets it (None: it does not say); a post naming it later is refused."""

    media_id: str
    expires_at: datetime | None
    alt_text: str = ""


@dataclass(frozen=True)
class PostMetrics:
    """Counts for one post. None means the network does not give it to this app (never 0)."""

    remote_id: str
    exists: bool = True
    likes: int | None = None
    comments: int | None = None
    reposts: int | None = None
    impressions: int | None = None
    extra: dict[str, int] = field(default_factory=dict)


class NetworkClient(ABC):
    """One network. Methods raise only `networks.errors` types (and ValueError for bad input)."""

    network: str

    def __init__(self, config: NetworkConfig):
        self.config = config

    @abstractmethod
    def authorization_url(self, *, state: str) -> AuthorizationRequest:
        """The consent page URL for `state` (and a PKCE verifier where the network uses one)."""

    @abstractmethod
    def exchange_code(self, *, code: str, code_verifier: str | None = None) -> TokenSet:
        """Trade the callback's code for tokens. Raises AuthorizationFailed when refused."""

    @abstractmethod
    def refresh(self, *, token: TokenSet) -> TokenSet:
        """New tokens from the old. X rotates its refresh token (store the new one at once);
        Facebook exchanges for a long-lived token; LinkedIn refreshes only for partner apps
        and otherwise raises TokenExpired (the member must reconnect)."""

    @abstractmethod
    def profile(self, *, access_token: str) -> Profile:
        """Who the token belongs to."""

    @abstractmethod
    def publish(
        self,
        *,
        access_token: str,
        author_id: str,
        text: str,
        link: str | None = None,
        title: str = "",
        description: str = "",
        image: ImageUpload | None = None,
    ) -> PublishedPost:
        """Post `text` (and `link`) as `author_id` (member id, or Page id on Facebook).
        `title` and `description` describe the link (the content item's): LinkedIn puts them
        on the post's article card; X and Facebook ignore them (they read the page's own
        tags). `image`, uploaded first with `upload_image`, makes it a native picture post
        (the link then rides in the text where the network has no room for both); a media
        id the network no longer knows raises MediaExpired (upload again). Success without
        the new post's id is an error, never a silent success."""

    @abstractmethod
    def upload_image(self, *, access_token: str, author_id: str, image: PostImage) -> ImageUpload:
        """Hand the network `image` for a later post by `author_id`, with its alt text.
        Nothing is visible until a post names it. Raises ImageRejected (type, size or
        dimensions the network refuses: words for the employee), TokenExpired, TokenRevoked,
        RateLimited, TransientFailure (an upload is safe to repeat: an orphan is never posted)."""

    @abstractmethod
    def fetch_metrics(
        self, *, access_token: str, remote_ids: list[str], turns: Mapping[str, int] | None = None
    ) -> dict[str, PostMetrics]:
        """Metrics for many posts, batched where the network allows. A post that no longer
        exists is returned with `exists=False`; a metric the app may not read is None.
        `turns` (earlier pulls per post) lets a network that cannot read every metric in
        one call per post read them in turn (LinkedIn); the others ignore it."""

    @abstractmethod
    def delete(self, *, access_token: str, remote_id: str) -> None:
        """Remove a post. A post already gone is not an error."""

    def revoke(self, *, token: TokenSet) -> bool:
        """Withdraw this app's access for the member at the network, so their tokens stop
        working there too (a suspended member's accounts). Returns False where the network
        offers an app no way to do it (the caller then only forgets the tokens). A token
        already revoked or expired is not an error. Raises ConfigurationError (our client
        credentials refused), RateLimited, TransientFailure, NetworkError."""
        return False

    def managed_pages(self, *, access_token: str) -> list[ManagedPage]:
        """Facebook only: the Pages the member manages."""
        raise NotImplementedError(f"{self.network} has no pages")

    def find_recent_post(self, *, access_token: str, author_id: str, text: str) -> PublishedPost | None:
        """Reconciliation after an AmbiguousOutcome: the author's recent post with this text,
        if the network lets us look. None when not found (or not searchable)."""
        return None

    @abstractmethod
    def post_id_from_url(self, url: str) -> str:
        """The remote id, as publish() stores it, of the post a pasted link names. Pure: no
        network call. Raises PostLinkInvalid, with words for the employee, for anything that
        is not a link to one post of this network in a form that maps to that id."""

    @abstractmethod
    def verify_post(self, *, access_token: str, author_id: str, remote_id: str) -> PublishedPost:
        """Fetch the post `remote_id` over the API and check that `author_id` published it.
        Returns it with its canonical remote id and public URL. Raises ValueError for a
        malformed id, PostNotFound, PostNotYours, PostUnverifiable (the network does not let
        this app read it), TokenExpired, TokenRevoked, RateLimited, TransientFailure."""


def split_link(text: str) -> SplitResult | None:
    """A pasted address as URL parts: blanks, quotes and <> around it trimmed, the `src` of
    a pasted embed code (<iframe src="...">) taken, https:// assumed when no scheme is
    given. None when it is not one http(s) address with a host (and no user name)."""
    text = text.strip()
    embed = re.match(r"""<iframe\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']""", text, re.IGNORECASE)
    if embed:
        text = html.unescape(embed.group(1))
    text = text.strip("<>\"' \t\r\n")
    if not text or any(c.isspace() for c in text):
        return None
    if "://" not in text:
        text = "https://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None  # no post link carries a user name ("https://www.linkedin.com@evil.example/")
    return parts


_clients = threading.local()
CLIENTS_PER_THREAD = 16  # networks x configurations a thread keeps (a worker uses three)


def client_for(network: str, config: NetworkConfig) -> NetworkClient:
    """The client for "linkedin", "x" or "facebook", one per thread, network and configuration:
    its session keeps its connections open from one call to the next, where a new client for
    every call opened a new connection (against the real networks a TLS handshake, a round trip
    or two and a millisecond of CPU per post). A client holds nothing of a caller: every call
    carries its own token, and the session keeps no cookies (`HttpClient`). A requests session
    is not shared across threads, hence one per thread."""
    from networks.clients import facebook, linkedin, x

    classes = {"linkedin": linkedin.LinkedInClient, "x": x.XClient, "facebook": facebook.FacebookClient}
    if network not in classes:
        raise ValueError(f"unknown network {network!r}; expected one of {', '.join(NETWORKS)}")
    kept = getattr(_clients, "by_key", None)
    if kept is None:
        kept = _clients.by_key = {}
    client = kept.get((network, config))
    if client is None:
        if len(kept) >= CLIENTS_PER_THREAD:
            for old in kept.values():
                old.http.session.close()
            kept.clear()
        client = kept[(network, config)] = classes[network](config)
    return client
