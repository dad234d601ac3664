"""The three clients against the network emulator, a real process spoken to over HTTP.

Every method of every client, every error class: the OAuth round trip (auto-approved
consent), refresh, profile, publish, metrics, delete, pages, and the emulator's faults.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from networks.base import AuthorizationRequest, NetworkClient, NetworkConfig, TokenSet, client_for
from networks.clients.linkedin import little_text
from networks.errors import (
    AmbiguousOutcome,
    AuthorizationFailed,
    ConfigurationError,
    PermanentRejection,
    RateLimited,
    TokenExpired,
    TokenRevoked,
    TransientFailure,
)

REDIRECT_URI = "http://testserver/networks/callback"
SECRET = "s3cret-app-secret"
LINK = "https://example.com/news/launch?utm_source=advocacy"


# --- the emulator ------------------------------------------------------------------------


@dataclass
class Emulator:
    url: str

    def control(self, endpoint: str, **data: Any) -> Any:
        response = requests.post(f"{self.url}/_emulator/{endpoint}", json=data, timeout=10)
        assert response.status_code < 300, f"{endpoint}: {response.status_code} {response.text}"
        return response.json()

    def state(self) -> dict[str, Any]:
        response = requests.get(f"{self.url}/_emulator/state", timeout=10)
        response.raise_for_status()
        return response.json()

    def posts(self, network: str) -> list[dict[str, Any]]:
        return [p for p in self.state()["posts"] if p["network"] == network]

    def fault(self, network: str, kind: str, **options: Any) -> None:
        self.control("faults", network=network, kind=kind, **options)

    def advance(self, seconds: float) -> None:
        self.control("clock", advance=seconds)


@pytest.fixture
def emu(network_emulator: Any) -> Emulator:
    url = network_emulator if isinstance(network_emulator, str) else network_emulator.url
    emulator = Emulator(url=url.rstrip("/"))
    emulator.control("reset")
    return emulator


@dataclass
class Connected:
    emu: Emulator
    network: str
    client: NetworkClient
    tokens: TokenSet
    account: dict[str, Any]

    @property
    def access_token(self) -> str:
        return self.tokens.access_token

    def with_config(self, **changes: Any) -> NetworkClient:
        return client_for(self.network, replace(self.client.config, **changes))


def config(emu: Emulator, network: str, **changes: Any) -> NetworkConfig:
    base = NetworkConfig(
        client_id=f"{network}-client-id",
        client_secret=SECRET,
        redirect_uri=REDIRECT_URI,
        origin=f"{emu.url}/{network}",
        timeout=5.0,
    )
    return replace(base, **changes)


def register(emu: Emulator, network: str, *, partner: bool = False, **account: Any) -> dict[str, Any]:
    emu.control(
        "apps",
        network=network,
        client_id=f"{network}-client-id",
        client_secret=SECRET,
        redirect_uris=[REDIRECT_URI],
        partner=partner,
    )
    created = emu.control("accounts", network=network, name=account.pop("name", "Ada Lovelace"), **account)
    emu.control("auto_approve", network=network, account_id=created["id"])
    return created


def consent(request: AuthorizationRequest) -> str:
    """Follow the auto-approved consent page; the code from the redirect back to us."""
    response = requests.get(request.url, allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == [request.state]
    return query["code"][0]


def connect(emu: Emulator, network: str, *, partner: bool = False, **account: Any) -> Connected:
    created = register(emu, network, partner=partner, **account)
    client = client_for(network, config(emu, network))
    request = client.authorization_url(state=f"state-{network}")
    tokens = client.exchange_code(code=consent(request), code_verifier=request.code_verifier)
    return Connected(emu, network, client, tokens, created)


@pytest.fixture
def linkedin(emu: Emulator) -> Connected:
    return connect(emu, "linkedin")


@pytest.fixture
def linkedin_partner(emu: Emulator) -> Connected:
    return connect(emu, "linkedin", partner=True)


@pytest.fixture
def x(emu: Emulator) -> Connected:
    return connect(emu, "x", username="ada")


PAGES = [
    {"name": "Acme Corp", "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MODERATE"]},
    {"name": "Acme Fans", "tasks": ["ANALYZE"]},  # may not post
]


@dataclass
class FacebookPage:
    connected: Connected
    page_id: str
    token: str


@pytest.fixture
def facebook(emu: Emulator) -> Connected:
    return connect(emu, "facebook", pages=PAGES)


@pytest.fixture
def page(facebook: Connected) -> FacebookPage:
    pages = facebook.client.managed_pages(access_token=facebook.access_token)
    acme = next(p for p in pages if p.name == "Acme Corp")
    return FacebookPage(facebook, acme.remote_id, acme.access_token)


def near(moment: datetime, expected: datetime, slack: float = 10.0) -> bool:
    return abs((moment - expected).total_seconds()) <= slack


def now() -> datetime:
    return datetime.now(UTC)


def wait_for_posts(emu: Emulator, network: str, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        posts = emu.posts(network)
        if len(posts) >= count or time.monotonic() > deadline:
            return posts
        time.sleep(0.1)


# --- transport, without the emulator ---------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("network", ["linkedin", "x", "facebook"])
def test_nothing_listening_is_a_transient_failure(network: str, closed_port: int) -> None:
    origin = f"http://127.0.0.1:{closed_port}/{network}"
    client = client_for(
        network, NetworkConfig(client_id="id", client_secret="s", redirect_uri=REDIRECT_URI, origin=origin)
    )
    with pytest.raises(TransientFailure) as info:
        client.publish(access_token="SECRET-TOKEN", author_id="1", text="hello")
    assert type(info.value) is TransientFailure  # never sent: not ambiguous
    with pytest.raises(TransientFailure) as info:
        client.profile(access_token="SECRET-TOKEN")
    assert "SECRET-TOKEN" not in str(info.value)  # Facebook sends it in the query string
    assert info.value.__cause__ is None and info.value.__suppress_context__  # nor in chained tracebacks


def test_the_environments_proxy_settings_are_honoured_read_once_per_host(
    linkedin: Connected, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from networks import http

    for name in ("http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port}")  # a proxy that is down
    http._environment_for.cache_clear()
    try:
        with pytest.raises(TransientFailure):
            linkedin.client.profile(access_token=linkedin.access_token)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with pytest.raises(TransientFailure):  # read once per host: still through the proxy
            linkedin.client.profile(access_token=linkedin.access_token)
        http._environment_for.cache_clear()  # a new process
        assert linkedin.client.profile(access_token=linkedin.access_token).remote_id == linkedin.account["id"]
    finally:
        http._environment_for.cache_clear()


def test_real_hosts_without_origin() -> None:
    cfg = NetworkConfig(client_id="cid", client_secret="s", redirect_uri="https://app.example/cb")
    assert (
        client_for("linkedin", cfg)
        .authorization_url(state="s")
        .url.startswith("https://www.linkedin.com/oauth/v2/authorization?")
    )
    assert client_for("x", cfg).authorization_url(state="s").url.startswith("https://twitter.com/i/oauth2/authorize?")
    assert (
        client_for("facebook", cfg)
        .authorization_url(state="s")
        .url.startswith("https://www.facebook.com/v24.0/dialog/oauth?")
    )


# --- LinkedIn -----------------------------------------------------------------------------------


def test_linkedin_oauth_round_trip(emu: Emulator) -> None:
    account = register(emu, "linkedin", name="Grace Hopper", email="grace@example.com")
    client = client_for("linkedin", config(emu, "linkedin"))
    request = client.authorization_url(state="abc123")
    query = parse_qs(urlsplit(request.url).query)
    assert query["scope"] == ["openid profile email w_member_social"]
    assert query["client_id"] == ["linkedin-client-id"] and query["redirect_uri"] == [REDIRECT_URI]
    assert request.code_verifier is None and "code_challenge" not in query

    code = consent(request)
    tokens = client.exchange_code(code=code)
    assert tokens.access_token
    assert tokens.refresh_token is None and tokens.refresh_expires_at is None
    assert near(tokens.expires_at, now() + timedelta(days=60))
    assert set(tokens.scopes) == {"openid", "profile", "email", "w_member_social"}

    profile = client.profile(access_token=tokens.access_token)
    assert profile.remote_id == account["id"]
    assert profile.name == "Grace Hopper" and profile.email == "grace@example.com"

    with pytest.raises(AuthorizationFailed):
        client.exchange_code(code=code)  # replayed


def test_linkedin_wrong_secret_is_a_configuration_error(emu: Emulator) -> None:
    register(emu, "linkedin")
    client = client_for("linkedin", config(emu, "linkedin", client_secret="wrong"))
    with pytest.raises(ConfigurationError, match="client id and secret"):
        client.exchange_code(code=consent(client.authorization_url(state="s")))


def test_linkedin_refresh_needs_a_partner_app(linkedin: Connected) -> None:
    with pytest.raises(TokenExpired, match="reconnect"):
        linkedin.client.refresh(token=linkedin.tokens)


def test_linkedin_partner_refresh(linkedin_partner: Connected) -> None:
    tokens = linkedin_partner.tokens
    assert tokens.refresh_token and near(tokens.refresh_expires_at, now() + timedelta(days=365))
    fresh = linkedin_partner.client.refresh(token=tokens)
    assert fresh.access_token != tokens.access_token
    assert fresh.refresh_token == tokens.refresh_token  # LinkedIn does not rotate
    assert near(fresh.refresh_expires_at, tokens.refresh_expires_at)  # nor extend
    assert linkedin_partner.client.profile(access_token=fresh.access_token).remote_id == linkedin_partner.account["id"]


def test_linkedin_publish(linkedin: Connected) -> None:
    text = "Our launch (finally) is live! #launch @team"
    post = linkedin.client.publish(
        access_token=linkedin.access_token, author_id=linkedin.account["id"], text=text, link=LINK
    )
    assert post.remote_id.startswith("urn:li:share:")
    assert post.url == f"https://www.linkedin.com/feed/update/{post.remote_id}"
    [stored] = linkedin.emu.posts("linkedin")
    assert stored["id"] == post.remote_id
    assert stored["raw"] == little_text(text) == r"Our launch \(finally\) is live! {hashtag|\#|launch} \@team"
    assert stored["text"] == text  # what members read: nothing cut by markup
    assert stored["extra"]["hashtags"] == ["launch"]
    assert stored["link"] == LINK
    assert stored["extra"]["content"]["article"] == {"source": LINK, "title": "example.com"}  # no title given


def test_linkedin_article_card_carries_the_title_and_description(linkedin: Connected) -> None:
    linkedin.client.publish(
        access_token=linkedin.access_token,
        author_id=linkedin.account["id"],
        text="Worth a read",
        link=LINK,
        title="Acme opens a wind farm",
        description="Forty turbines off the coast (and what they power).",
    )
    [stored] = linkedin.emu.posts("linkedin")
    assert stored["extra"]["content"]["article"] == {
        "source": LINK,
        "title": "Acme opens a wind farm",
        "description": "Forty turbines off the coast (and what they power).",
    }


def test_linkedin_hashtags_arrive_as_hashtag_templates(linkedin: Connected) -> None:
    text = "Proud of the team (again) #AcmeEmployee, C# and #1 stay text: https://example.com/a#top"
    linkedin.client.publish(access_token=linkedin.access_token, author_id=linkedin.account["id"], text=text)
    [stored] = linkedin.emu.posts("linkedin")
    assert "{hashtag|\\#|AcmeEmployee}" in stored["raw"]
    assert r"C\# and \#1" in stored["raw"] and r"example.com/a\#top" in stored["raw"]
    assert stored["extra"]["hashtags"] == ["AcmeEmployee"]
    assert stored["text"] == text  # what members read, as the preview measured it


def test_linkedin_publish_rejections(linkedin: Connected) -> None:
    client, token, me = linkedin.client, linkedin.access_token, linkedin.account["id"]
    client.publish(access_token=token, author_id=me, text="Same words")
    with pytest.raises(PermanentRejection) as info:
        client.publish(access_token=token, author_id=me, text="Same words")
    assert info.value.reason == "duplicate" and "duplicate" in info.value.message.lower()

    linkedin.emu.fault("linkedin", "duplicate")
    with pytest.raises(PermanentRejection) as info:
        client.publish(access_token=token, author_id=me, text="Fresh words")
    assert info.value.reason == "duplicate" and info.value.status == 422

    with pytest.raises(PermanentRejection) as info:
        client.publish(access_token=token, author_id=me, text="a" * 3001)
    assert info.value.reason == "too_long"

    with pytest.raises(PermanentRejection) as info:
        client.publish(access_token=token, author_id="SomeoneElse", text="Not mine")
    assert info.value.reason == "forbidden" and info.value.status == 403


def test_linkedin_retired_version_is_a_configuration_error(linkedin: Connected) -> None:
    client = linkedin.with_config(linkedin_version="201901")
    with pytest.raises(ConfigurationError) as info:
        client.publish(access_token=linkedin.access_token, author_id=linkedin.account["id"], text="hello")
    assert "LINKEDIN_API_VERSION" in info.value.message and "201901" in info.value.message
    assert info.value.status == 426
    assert linkedin.emu.posts("linkedin") == []


def test_linkedin_metrics_not_available_without_partner_scopes(linkedin: Connected) -> None:
    post = linkedin.client.publish(access_token=linkedin.access_token, author_id=linkedin.account["id"], text="hi")
    linkedin.emu.advance(6 * 3600)
    metrics = linkedin.client.fetch_metrics(access_token=linkedin.access_token, remote_ids=[post.remote_id])
    result = metrics[post.remote_id]
    assert result.exists
    assert (result.likes, result.comments, result.reposts, result.impressions) == (None, None, None, None)


def test_linkedin_partner_metrics_grow_and_deleted_posts(linkedin_partner: Connected) -> None:
    client, token = linkedin_partner.client, linkedin_partner.access_token
    post = client.publish(access_token=token, author_id=linkedin_partner.account["id"], text="Growing")
    urn = post.remote_id

    def read(turn: int):
        return client.fetch_metrics(access_token=token, remote_ids=[urn], turns={urn: turn})[urn]

    before = read(0)  # socialMetadata: likes and comments; the analytics are other turns'
    assert (before.likes, before.comments, before.reposts, before.impressions) == (0, 0, None, None)
    assert read(1).impressions == 0 and read(2).reposts == 0
    linkedin_partner.emu.advance(24 * 3600)
    [stored] = linkedin_partner.emu.posts("linkedin")
    social, impressions, reposts = read(3), read(4), read(5)  # the turns go round
    assert (social.reposts, social.impressions) == (None, None) and social.likes > 0
    assert social.comments == stored["metrics"]["comments"]
    assert (impressions.likes, impressions.impressions) == (None, stored["metrics"]["impressions"])
    assert (reposts.likes, reposts.reposts) == (None, stored["metrics"]["reposts"])

    client.delete(access_token=token, remote_id=urn)
    assert not read(0).exists  # the batch's errors name it with 404
    assert read(1).exists and read(1).impressions is None  # the finder's 404 is not taken as deletion


def test_linkedin_delete(linkedin: Connected) -> None:
    client, token = linkedin.client, linkedin.access_token
    post = client.publish(access_token=token, author_id=linkedin.account["id"], text="Short-lived")
    client.delete(access_token=token, remote_id=post.remote_id)
    assert linkedin.emu.posts("linkedin")[0]["deleted"] is True
    client.delete(access_token=token, remote_id=post.remote_id)  # already gone: fine
    client.delete(access_token=token, remote_id="urn:li:share:7000000000000000001")  # never existed: fine


def test_linkedin_find_recent_post(linkedin: Connected) -> None:
    me, token = linkedin.account["id"], linkedin.access_token
    linkedin.client.publish(access_token=token, author_id=me, text="Find (me)")
    # Ordinary apps may not list posts (r_member_social): nothing to find.
    assert linkedin.client.find_recent_post(access_token=token, author_id=me, text="Find (me)") is None


def test_linkedin_partner_find_recent_post(linkedin_partner: Connected) -> None:
    me, token, client = linkedin_partner.account["id"], linkedin_partner.access_token, linkedin_partner.client
    post = client.publish(access_token=token, author_id=me, text="Find (me)")
    assert client.find_recent_post(access_token=token, author_id=me, text="Find (me)") == post
    assert client.find_recent_post(access_token=token, author_id=me, text="Not posted") is None
    tagged = client.publish(access_token=token, author_id=me, text="Find me too #AcmeEmployee")
    assert client.find_recent_post(access_token=token, author_id=me, text="Find me too #AcmeEmployee") == tagged


def test_linkedin_short_throttle_is_not_the_daily_limit(linkedin: Connected) -> None:
    linkedin.emu.fault("linkedin", "rate_limit")  # "Resource level throttle limit ...": no DAY
    with pytest.raises(RateLimited) as info:
        linkedin.client.profile(access_token=linkedin.access_token)
    assert info.value.daily is False and info.value.status == 429
    assert near(info.value.retry_at, now() + timedelta(minutes=1)), "minutes, not midnight"


def test_linkedin_daily_limit_waits_until_midnight_utc(linkedin: Connected) -> None:
    client, token, me = linkedin.client, linkedin.access_token, linkedin.account["id"]
    for n in range(150):  # LinkedIn's posts per member per UTC day
        client.publish(access_token=token, author_id=me, text=f"Post number {n}")
    today = now().date()
    with pytest.raises(RateLimited) as info:
        client.publish(access_token=token, author_id=me, text="One too many")
    midnights = {datetime.combine(d + timedelta(days=1), datetime.min.time(), UTC) for d in (today, now().date())}
    assert info.value.daily is True and "MEMBER DAY limit" in info.value.message
    assert info.value.retry_at in midnights and info.value.status == 429


def test_linkedin_faults(linkedin: Connected) -> None:
    client, token, me, emu = linkedin.client, linkedin.access_token, linkedin.account["id"], linkedin.emu
    emu.fault("linkedin", "server_error")
    with pytest.raises(TransientFailure) as info:
        client.profile(access_token=token)
    assert type(info.value) is TransientFailure and info.value.status == 500

    emu.fault("linkedin", "server_error")
    with pytest.raises(TransientFailure) as info:
        client.publish(access_token=token, author_id=me, text="Server down")
    assert type(info.value) is TransientFailure
    assert emu.posts("linkedin") == []

    emu.fault("linkedin", "lost_response")
    with pytest.raises(AmbiguousOutcome):
        client.publish(access_token=token, author_id=me, text="Lost answer")
    [stored] = emu.posts("linkedin")
    assert stored["text"] == "Lost answer"  # it was published after all

    emu.fault("linkedin", "expire_token")
    with pytest.raises(TokenExpired):
        client.profile(access_token=token)


def test_linkedin_slow(linkedin: Connected) -> None:
    hasty = linkedin.with_config(timeout=0.5)
    emu, token = linkedin.emu, linkedin.access_token
    emu.fault("linkedin", "slow", delay=2)
    with pytest.raises(TransientFailure) as info:
        hasty.profile(access_token=token)
    assert type(info.value) is TransientFailure

    emu.fault("linkedin", "slow", delay=2)
    with pytest.raises(AmbiguousOutcome):
        hasty.publish(access_token=token, author_id=linkedin.account["id"], text="Slow post")
    assert len(wait_for_posts(emu, "linkedin", 1)) == 1  # the network finished it after we gave up


def test_linkedin_revoked(linkedin: Connected) -> None:
    linkedin.emu.fault("linkedin", "revoked")
    with pytest.raises(TokenRevoked):
        linkedin.client.profile(access_token=linkedin.access_token)
    with pytest.raises(TokenRevoked):
        linkedin.client.publish(access_token=linkedin.access_token, author_id=linkedin.account["id"], text="x")


# --- X ------------------------------------------------------------------------------------------


def test_x_oauth_round_trip_with_pkce(emu: Emulator) -> None:
    account = register(emu, "x", name="Ada Lovelace", username="ada")
    client = client_for("x", config(emu, "x"))
    request = client.authorization_url(state="xyz")
    query = parse_qs(urlsplit(request.url).query)
    assert query["scope"] == ["tweet.read tweet.write users.read offline.access media.write"]  # media: pictures
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert request.code_verifier and request.code_verifier not in request.url
    assert client.authorization_url(state="xyz").code_verifier != request.code_verifier  # fresh each time

    with pytest.raises(ValueError, match="code_verifier"):
        client.exchange_code(code="whatever")

    code = consent(request)
    tokens = client.exchange_code(code=code, code_verifier=request.code_verifier)
    assert tokens.access_token and tokens.refresh_token
    assert near(tokens.expires_at, now() + timedelta(hours=2))
    assert set(tokens.scopes) == {"tweet.read", "tweet.write", "users.read", "offline.access", "media.write"}

    profile = client.profile(access_token=tokens.access_token)
    assert (profile.remote_id, profile.username, profile.name) == (account["id"], "ada", "Ada Lovelace")
    assert profile.picture

    with pytest.raises(AuthorizationFailed):
        client.exchange_code(code=code, code_verifier=request.code_verifier)  # replayed


def test_x_wrong_verifier(emu: Emulator) -> None:
    register(emu, "x")
    client = client_for("x", config(emu, "x"))
    request = client.authorization_url(state="s")
    other = client.authorization_url(state="s")
    code = consent(request)
    with pytest.raises(AuthorizationFailed):
        client.exchange_code(code=code, code_verifier=other.code_verifier)
    with pytest.raises(AuthorizationFailed):  # the code was spent by the failed attempt
        client.exchange_code(code=code, code_verifier=request.code_verifier)


def test_x_wrong_secret_is_a_configuration_error(emu: Emulator) -> None:
    register(emu, "x")
    client = client_for("x", config(emu, "x", client_secret="wrong"))
    request = client.authorization_url(state="s")
    with pytest.raises(ConfigurationError):
        client.exchange_code(code=consent(request), code_verifier=request.code_verifier)


def test_x_refresh_rotates(x: Connected) -> None:
    old = x.tokens
    new = x.client.refresh(token=old)
    assert new.refresh_token and new.refresh_token != old.refresh_token
    assert new.access_token != old.access_token
    assert x.client.profile(access_token=new.access_token).remote_id == x.account["id"]
    with pytest.raises(TokenRevoked, match="reconnect"):
        x.client.refresh(token=old)  # spent
    newer = x.client.refresh(token=new)
    assert newer.refresh_token not in (old.refresh_token, new.refresh_token)

    with pytest.raises(TokenExpired):
        x.client.refresh(token=TokenSet(access_token="a", expires_at=None))  # no refresh token


def test_x_token_endpoint_faults(x: Connected) -> None:
    x.emu.fault("x", "server_error", path="/2/oauth2/token")
    with pytest.raises(TransientFailure) as info:
        x.client.refresh(token=x.tokens)
    assert type(info.value) is TransientFailure
    # A refresh whose answer is lost has still spent the refresh token (rotation): only a
    # transient failure to the caller, and the next refresh shows the member must reconnect.
    x.emu.fault("x", "lost_response", path="/2/oauth2/token")
    with pytest.raises(TransientFailure) as info:
        x.client.refresh(token=x.tokens)
    assert type(info.value) is TransientFailure
    with pytest.raises(TokenRevoked):
        x.client.refresh(token=x.tokens)


def test_x_publish(x: Connected) -> None:
    post = x.client.publish(access_token=x.access_token, author_id=x.account["id"], text="Launch day!", link=LINK)
    assert post.remote_id.isdigit()
    assert post.url == f"https://x.com/i/web/status/{post.remote_id}"
    [stored] = x.emu.posts("x")
    assert stored["id"] == post.remote_id and stored["text"] == f"Launch day! {LINK}"


def test_x_publish_rejections(x: Connected) -> None:
    client, token, me = x.client, x.access_token, x.account["id"]
    client.publish(access_token=token, author_id=me, text="Twice")
    with pytest.raises(PermanentRejection) as info:
        client.publish(access_token=token, author_id=me, text="Twice")
    assert info.value.reason == "duplicate" and info.value.status == 403
    assert "duplicate content" in info.value.message

    x.emu.fault("x", "duplicate")
    with pytest.raises(PermanentRejection) as info:
        client.publish(access_token=token, author_id=me, text="Once")
    assert info.value.reason == "duplicate"

    with pytest.raises(PermanentRejection) as info:
        client.publish(access_token=token, author_id=me, text="字" * 141)
    assert info.value.reason == "too_long" and info.value.status == 403

    # 257 characters + a space + a URL counting 23 = 281: too long only because of the link.
    with pytest.raises(PermanentRejection) as info:
        client.publish(access_token=token, author_id=me, text="b" * 257, link=LINK)
    assert info.value.reason == "too_long"
    client.publish(access_token=token, author_id=me, text="b" * 256, link=LINK)  # exactly 280


def test_x_metrics_grow_batch_and_deleted(x: Connected) -> None:
    client, token, emu = x.client, x.access_token, x.emu
    kept = client.publish(access_token=token, author_id=x.account["id"], text="Kept")
    removed = client.publish(access_token=token, author_id=x.account["id"], text="Removed")
    before = client.fetch_metrics(access_token=token, remote_ids=[kept.remote_id])[kept.remote_id]
    assert (before.likes, before.comments, before.reposts, before.impressions) == (0, 0, 0, 0)

    emu.advance(24 * 3600)
    with pytest.raises(TokenExpired):  # access tokens last 2 hours
        client.fetch_metrics(access_token=token, remote_ids=[kept.remote_id])
    token = client.refresh(token=x.tokens).access_token

    client.delete(access_token=token, remote_id=removed.remote_id)
    unknown = [str(1_000_000_000_000_000_000 + n) for n in range(148)]
    reads_before = emu.state()["counters"]["x"].get("metrics_reads", 0)
    metrics = client.fetch_metrics(access_token=token, remote_ids=[kept.remote_id, removed.remote_id, *unknown])
    assert emu.state()["counters"]["x"]["metrics_reads"] - reads_before == 2  # 150 ids: two calls of <= 100
    assert len(metrics) == 150
    after = metrics[kept.remote_id]
    assert after.exists and after.impressions > 0 and after.likes > 0
    stored = next(p for p in emu.posts("x") if p["id"] == kept.remote_id)["metrics"]
    assert after.likes == stored["likes"] and after.comments == stored["comments"]
    assert after.reposts == stored["reposts"] + stored["quotes"]
    assert after.extra == {"bookmarks": stored["bookmarks"]}
    assert not metrics[removed.remote_id].exists
    assert not any(metrics[i].exists for i in unknown)

    with pytest.raises(ValueError):
        client.fetch_metrics(access_token=token, remote_ids=["urn:li:share:1"])


def test_x_delete(x: Connected) -> None:
    post = x.client.publish(access_token=x.access_token, author_id=x.account["id"], text="Oops")
    x.client.delete(access_token=x.access_token, remote_id=post.remote_id)
    assert x.emu.posts("x")[0]["deleted"] is True
    x.client.delete(access_token=x.access_token, remote_id=post.remote_id)  # already gone: fine


def test_x_rate_limit_waits_for_the_reset_header(x: Connected) -> None:
    x.emu.fault("x", "rate_limit", reset_in=120)
    with pytest.raises(RateLimited) as info:
        x.client.publish(access_token=x.access_token, author_id=x.account["id"], text="Too fast")
    assert near(info.value.retry_at, now() + timedelta(seconds=120), slack=3)
    assert info.value.status == 429


def test_x_faults(x: Connected) -> None:
    client, token, me, emu = x.client, x.access_token, x.account["id"], x.emu
    emu.fault("x", "server_error")
    with pytest.raises(TransientFailure) as info:
        client.fetch_metrics(access_token=token, remote_ids=["1"])
    assert type(info.value) is TransientFailure

    emu.fault("x", "lost_response")
    with pytest.raises(AmbiguousOutcome):
        client.publish(access_token=token, author_id=me, text="Did it go?", link=LINK)
    [stored] = emu.posts("x")
    found = client.find_recent_post(access_token=token, author_id=me, text="Did it go?")
    assert found is not None and found.remote_id == stored["id"]  # reconciled (the link came back as t.co)
    assert client.find_recent_post(access_token=token, author_id=me, text="Never posted") is None

    emu.fault("x", "expire_token")
    with pytest.raises(TokenExpired):
        client.profile(access_token=token)


def test_x_slow(x: Connected) -> None:
    hasty = x.with_config(timeout=0.5)
    x.emu.fault("x", "slow", delay=2)
    with pytest.raises(TransientFailure) as info:
        hasty.profile(access_token=x.access_token)
    assert type(info.value) is TransientFailure

    x.emu.fault("x", "slow", delay=2)
    with pytest.raises(AmbiguousOutcome):
        hasty.publish(access_token=x.access_token, author_id=x.account["id"], text="Slow tweet")
    assert len(wait_for_posts(x.emu, "x", 1)) == 1


def test_x_revoked(x: Connected) -> None:
    x.emu.fault("x", "revoked")
    # X answers a revoked access token with the same 401 as an expired one ...
    with pytest.raises(TokenExpired):
        x.client.profile(access_token=x.access_token)
    # ... and the refresh that follows tells them apart.
    with pytest.raises(TokenRevoked):
        x.client.refresh(token=x.tokens)


# --- Facebook -----------------------------------------------------------------------------------


def test_facebook_oauth_round_trip(emu: Emulator) -> None:
    account = register(emu, "facebook", name="Tim Berners", pages=PAGES)
    client = client_for("facebook", config(emu, "facebook"))
    request = client.authorization_url(state="fb-state")
    parts = urlsplit(request.url)
    assert parts.path.endswith("/v24.0/dialog/oauth")
    query = parse_qs(parts.query)
    assert query["scope"] == ["pages_show_list,pages_manage_posts,pages_read_engagement"]
    assert request.code_verifier is None

    code = consent(request)
    tokens = client.exchange_code(code=code)
    assert near(tokens.expires_at, now() + timedelta(days=60), slack=120)  # long-lived, not 1 hour
    assert tokens.refresh_token is None
    stored = next(t for t in emu.state()["tokens"] if t["token"] == tokens.access_token)
    assert stored["long_lived"] is True

    profile = client.profile(access_token=tokens.access_token)
    assert (profile.remote_id, profile.name) == (account["id"], "Tim Berners")

    with pytest.raises(AuthorizationFailed, match="used"):
        client.exchange_code(code=code)


def test_facebook_wrong_secret_is_a_configuration_error(emu: Emulator) -> None:
    register(emu, "facebook")
    client = client_for("facebook", config(emu, "facebook", client_secret="wrong"))
    with pytest.raises(ConfigurationError):
        client.exchange_code(code=consent(client.authorization_url(state="s")))


def test_facebook_refresh(facebook: Connected) -> None:
    fresh = facebook.client.refresh(token=facebook.tokens)
    assert fresh.access_token != facebook.tokens.access_token
    assert near(fresh.expires_at, now() + timedelta(days=60), slack=120)
    assert facebook.client.profile(access_token=fresh.access_token).remote_id == facebook.account["id"]


def test_facebook_refresh_after_expiry_needs_reconnecting(facebook: Connected) -> None:
    facebook.emu.advance(61 * 86400)
    with pytest.raises(TokenExpired):
        facebook.client.profile(access_token=facebook.access_token)
    with pytest.raises(TokenExpired):
        facebook.client.refresh(token=facebook.tokens)


def test_facebook_managed_pages(facebook: Connected) -> None:
    pages = facebook.client.managed_pages(access_token=facebook.access_token)
    by_name = {p.name: p for p in pages}
    assert set(by_name) == {"Acme Corp", "Acme Fans"}
    assert by_name["Acme Corp"].can_post and not by_name["Acme Fans"].can_post
    expected_ids = {p["id"] for p in facebook.account["pages"]}
    assert {p.remote_id for p in pages} == expected_ids
    assert all(p.access_token and p.category for p in pages)


def test_facebook_publish(page: FacebookPage) -> None:
    client, emu = page.connected.client, page.connected.emu
    post = client.publish(access_token=page.token, author_id=page.page_id, text="Hello Page", link=LINK)
    assert post.remote_id.startswith(f"{page.page_id}_")
    assert post.url == f"https://www.facebook.com/{post.remote_id}"
    [stored] = emu.posts("facebook")
    assert (stored["id"], stored["raw"], stored["link"]) == (post.remote_id, "Hello Page", LINK)


def test_facebook_publish_rejections(page: FacebookPage, facebook: Connected) -> None:
    client, emu = facebook.client, facebook.emu
    client.publish(access_token=page.token, author_id=page.page_id, text="Same")
    with pytest.raises(PermanentRejection) as info:
        client.publish(access_token=page.token, author_id=page.page_id, text="Same")
    assert info.value.reason == "duplicate" and "Duplicate" in info.value.message

    emu.fault("facebook", "duplicate")
    with pytest.raises(PermanentRejection) as info:
        client.publish(access_token=page.token, author_id=page.page_id, text="Other")
    assert info.value.reason == "duplicate"

    with pytest.raises(PermanentRejection) as info:  # the user token, not the Page's
        client.publish(access_token=facebook.access_token, author_id=page.page_id, text="Wrong token")
    assert info.value.reason == "forbidden"

    fans = next(p for p in client.managed_pages(access_token=facebook.access_token) if p.name == "Acme Fans")
    with pytest.raises(PermanentRejection) as info:  # no CREATE_CONTENT task
        client.publish(access_token=fans.access_token, author_id=fans.remote_id, text="Not allowed")
    assert info.value.reason == "forbidden"


def test_facebook_metrics_grow_and_deleted(page: FacebookPage) -> None:
    client, emu = page.connected.client, page.connected.emu
    post = client.publish(access_token=page.token, author_id=page.page_id, text="Metrics")
    before = client.fetch_metrics(access_token=page.token, remote_ids=[post.remote_id])[post.remote_id]
    assert (before.likes, before.comments, before.reposts, before.impressions) == (0, 0, 0, None)
    emu.advance(24 * 3600)
    after = client.fetch_metrics(access_token=page.token, remote_ids=[post.remote_id])[post.remote_id]
    stored = emu.posts("facebook")[0]["metrics"]
    assert after.likes == stored["likes"] > 0
    assert (after.comments, after.reposts, after.impressions) == (stored["comments"], stored["reposts"], None)

    client.delete(access_token=page.token, remote_id=post.remote_id)
    gone = client.fetch_metrics(access_token=page.token, remote_ids=[post.remote_id])
    assert not gone[post.remote_id].exists


def test_facebook_delete(page: FacebookPage) -> None:
    client, emu = page.connected.client, page.connected.emu
    post = client.publish(access_token=page.token, author_id=page.page_id, text="Bye")
    client.delete(access_token=page.token, remote_id=post.remote_id)
    assert emu.posts("facebook")[0]["deleted"] is True
    client.delete(access_token=page.token, remote_id=post.remote_id)  # already gone: fine


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_facebook_throttling_is_http_400(page: FacebookPage, code: int) -> None:
    page.connected.emu.fault("facebook", "rate_limit", code=code, reset_in=600)
    with pytest.raises(RateLimited) as info:
        page.connected.client.publish(access_token=page.token, author_id=page.page_id, text="Busy")
    assert info.value.status == 400
    assert near(info.value.retry_at, now() + timedelta(minutes=10))


def test_facebook_faults(page: FacebookPage, facebook: Connected) -> None:
    client, emu = facebook.client, facebook.emu
    emu.fault("facebook", "server_error")
    with pytest.raises(TransientFailure) as info:
        client.profile(access_token=facebook.access_token)
    assert type(info.value) is TransientFailure

    emu.fault("facebook", "lost_response")
    with pytest.raises(AmbiguousOutcome):
        client.publish(access_token=page.token, author_id=page.page_id, text="Anyone there?")
    [stored] = emu.posts("facebook")
    found = client.find_recent_post(access_token=page.token, author_id=page.page_id, text="Anyone there?")
    assert found is not None and found.remote_id == stored["id"]

    emu.fault("facebook", "expire_token")
    with pytest.raises(TokenExpired):
        client.profile(access_token=facebook.access_token)


def test_facebook_slow(page: FacebookPage) -> None:
    hasty = page.connected.with_config(timeout=0.5)
    emu = page.connected.emu
    emu.fault("facebook", "slow", delay=2)
    with pytest.raises(TransientFailure) as info:
        hasty.fetch_metrics(access_token=page.token, remote_ids=[f"{page.page_id}_1"])
    assert type(info.value) is TransientFailure

    emu.fault("facebook", "slow", delay=2)
    with pytest.raises(AmbiguousOutcome):
        hasty.publish(access_token=page.token, author_id=page.page_id, text="Slow")
    assert len(wait_for_posts(emu, "facebook", 1)) == 1


def test_facebook_revoked(page: FacebookPage, facebook: Connected) -> None:
    facebook.emu.fault("facebook", "revoked")
    with pytest.raises(TokenRevoked):
        facebook.client.publish(access_token=page.token, author_id=page.page_id, text="Revoked")
    with pytest.raises(TokenRevoked):
        facebook.client.managed_pages(access_token=facebook.access_token)
    with pytest.raises(TokenRevoked):
        facebook.client.refresh(token=facebook.tokens)


# --- withdrawing the app's access (a suspended member's accounts) ------------------------------


def test_x_revoke_ends_the_access_and_the_refresh_token(x: Connected) -> None:
    assert x.client.revoke(token=x.tokens) is True
    with pytest.raises(TokenExpired):  # X answers a revoked access token 401, like an expired one
        x.client.profile(access_token=x.access_token)
    with pytest.raises(TokenRevoked):
        x.client.refresh(token=x.tokens)
    assert x.client.revoke(token=x.tokens) is True, "revoking again is not an error (RFC 7009)"


def test_x_revoke_with_a_wrong_secret_is_a_configuration_error(x: Connected) -> None:
    with pytest.raises(ConfigurationError):
        x.with_config(client_secret="wrong").revoke(token=x.tokens)
    assert x.client.profile(access_token=x.access_token).username == "ada"


def test_facebook_revoke_deauthorizes_the_app_pages_included(page: FacebookPage, facebook: Connected) -> None:
    assert facebook.client.revoke(token=facebook.tokens) is True
    with pytest.raises(TokenRevoked):
        facebook.client.profile(access_token=facebook.access_token)
    with pytest.raises(TokenRevoked):
        facebook.client.publish(access_token=page.token, author_id=page.page_id, text="Still here?")
    assert facebook.client.revoke(token=facebook.tokens) is True, "already withdrawn is not an error"


def test_facebook_revoke_with_an_expired_token_says_so(facebook: Connected) -> None:
    facebook.emu.advance(61 * 86400)  # past the long-lived token's 60 days
    with pytest.raises(TokenExpired):
        facebook.client.revoke(token=facebook.tokens)


def test_linkedin_offers_no_revocation(linkedin: Connected) -> None:
    assert linkedin.client.revoke(token=linkedin.tokens) is False
    assert linkedin.client.profile(access_token=linkedin.access_token).remote_id == linkedin.account["id"]


# --- one client per thread, network and configuration -------------------------------------


def test_a_thread_keeps_one_client_per_network_and_configuration(emu: Emulator) -> None:
    kept = client_for("x", config(emu, "x"))
    assert client_for("x", config(emu, "x")) is kept  # an equal configuration: the same client
    assert client_for("x", config(emu, "x", timeout=3.0)) is not kept
    assert client_for("linkedin", config(emu, "linkedin")) is not kept
    elsewhere: list[NetworkClient] = []
    thread = threading.Thread(target=lambda: elsewhere.append(client_for("x", config(emu, "x"))))
    thread.start()
    thread.join()
    assert elsewhere[0] is not kept  # a requests session is not shared across threads
    with pytest.raises(ValueError, match="unknown network"):
        client_for("myspace", config(emu, "x"))


def test_the_kept_client_calls_again_over_its_open_connection_and_sends_no_cookie() -> None:
    """Calls reuse the connection (no new handshake per post); and since one member's call
    follows another's on it, a cookie an API answer sets must never ride along."""
    seen: list[str | None] = []
    ports: list[int] = []

    class SetsCookies(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            seen.append(self.headers.get("Cookie"))
            ports.append(self.client_address[1])
            self.send_response(200)
            self.send_header("Set-Cookie", "session=member-one; Path=/")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), SetsCookies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        origin = f"http://127.0.0.1:{server.server_address[1]}"
        client = client_for("x", NetworkConfig("id", "secret", "https://app.test/cb", origin=origin))
        for _ in range(3):
            assert client.http.request("GET", client.http.url("https://api.x.com", "/2/users/me")).ok
        assert client_for("x", client.config) is client
        assert seen == [None, None, None] and not client.http.session.cookies
        assert len(set(ports)) == 1  # one connection for the three calls
    finally:
        server.shutdown()
        server.server_close()
