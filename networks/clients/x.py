"""X (Twitter) API v2: OAuth 2.0 with PKCE as a confidential client, rotating refresh tokens.

See PROVIDERS.md "X". Access tokens last 2 hours; every refresh returns a NEW refresh
token and spends the old one, so the caller must store it at once (and serialise
refreshes per connection).
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import quote

import requests
from requests.auth import HTTPBasicAuth

from networks.base import (
    AuthorizationRequest,
    ImageUpload,
    NetworkClient,
    NetworkConfig,
    PostImage,
    PostMetrics,
    Profile,
    PublishedPost,
    TokenSet,
    split_link,
)
from networks.errors import (
    AmbiguousOutcome,
    AuthorizationFailed,
    ConfigurationError,
    ImageRejected,
    MediaExpired,
    NetworkError,
    PermanentRejection,
    PostLinkInvalid,
    PostNotFound,
    PostNotYours,
    RateLimited,
    TokenExpired,
    TokenRevoked,
    TransientFailure,
)
from networks.http import HttpClient, body_text, expires_at, from_epoch, json_body, retry_after, utcnow
from networks.text import find_urls

AUTHORIZE_HOST = "https://twitter.com"
API_HOST = "https://api.twitter.com"
WEB_HOST = "https://x.com"
AUTHORIZE_PATH = "/i/oauth2/authorize"
TOKEN_PATH = "/2/oauth2/token"
REVOKE_PATH = "/2/oauth2/revoke"
APP_TOKEN_PATH = "/oauth2/token"  # OAuth 2.0 App-Only (client credentials)
# Pictures larger than this go through the chunked upload, in segments of this size.
CHUNK_BYTES = 1024 * 1024
SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
BATCH = 100
DEFAULT_WINDOW = timedelta(minutes=15)
USAGE_CAP_WAIT = timedelta(hours=24)


def _text_key(text: str) -> str:
    """Text without its URLs (X rewrites them to t.co) and with whitespace collapsed."""
    text = html.unescape(text)
    for start, end in reversed(find_urls(text)):
        text = text[:start] + text[end:]
    return " ".join(text.split())


class XClient(NetworkClient):
    """X API v2 with user-context OAuth 2.0 tokens."""

    network = "x"

    def __init__(self, config: NetworkConfig):
        super().__init__(config)
        self.http = HttpClient(self.network, config)

    # --- OAuth -----------------------------------------------------------------------

    def authorization_url(self, *, state: str) -> AuthorizationRequest:
        """The X consent page for `state` with a fresh PKCE S256 challenge; the verifier
        is returned in `code_verifier` (keep it server-side for exchange_code). No network
        call; raises nothing."""
        session = self.http.oauth_session(
            client_id=self.config.client_id, redirect_uri=self.config.redirect_uri, scope=list(SCOPES), pkce="S256"
        )
        url = self.http.authorization_url(session, self.http.url(AUTHORIZE_HOST, AUTHORIZE_PATH), state=state)
        return AuthorizationRequest(url=url, state=state, code_verifier=session._code_verifier)

    def _basic_auth(self) -> HTTPBasicAuth:
        return HTTPBasicAuth(self.config.client_id, self.config.client_secret)

    def exchange_code(self, *, code: str, code_verifier: str | None = None) -> TokenSet:
        """Trade the code (with the PKCE verifier from authorization_url, required) for a
        2-hour access token and a refresh token. Raises ValueError without a verifier,
        AuthorizationFailed (expired or replayed code, wrong verifier), ConfigurationError
        (client credentials refused), RateLimited, TransientFailure."""
        if not code:
            raise ValueError("code is required")
        if not code_verifier:
            raise ValueError("X requires the PKCE code_verifier returned by authorization_url")
        token_url = self.http.url(API_HOST, TOKEN_PATH)
        session = self.http.oauth_session(client_id=self.config.client_id, redirect_uri=self.config.redirect_uri)
        body = self.http.token_call(
            session,
            token_url,
            lambda s: s.fetch_token(
                token_url,
                code=code,
                code_verifier=code_verifier,
                auth=self._basic_auth(),
                include_client_id=True,
                timeout=self.config.timeout,
            ),
            on_error=lambda r, b: self._token_error(r, b, refreshing=False),
        )
        return self._token_set(body)

    def refresh(self, *, token: TokenSet) -> TokenSet:
        """New tokens; the answer's refresh token REPLACES the old one, which is spent
        (store it at once). Raises TokenExpired when there is no refresh token
        (offline.access not granted: reconnect), TokenRevoked when X refuses the refresh
        token (spent, or access revoked: reconnect), ConfigurationError, RateLimited,
        TransientFailure."""
        if not token.refresh_token:
            raise TokenExpired(self.network, "no refresh token was granted: the member must reconnect X")
        token_url = self.http.url(API_HOST, TOKEN_PATH)
        session = self.http.oauth_session(client_id=self.config.client_id)
        body = self.http.token_call(
            session,
            token_url,
            lambda s: s.refresh_token(
                token_url,
                refresh_token=token.refresh_token,
                client_id=self.config.client_id,
                auth=self._basic_auth(),
                timeout=self.config.timeout,
            ),
            on_error=lambda r, b: self._token_error(r, b, refreshing=True),
        )
        return self._token_set(body)

    def revoke(self, *, token: TokenSet) -> bool:
        """Revoke the refresh token, then the access token (RFC 7009 at POST /2/oauth2/revoke,
        the client authenticated like at the token endpoint). An unknown or spent token is
        answered 200 too. Raises ConfigurationError (client credentials refused),
        RateLimited, TransientFailure, NetworkError."""
        url = self.http.url(API_HOST, REVOKE_PATH)
        for value, hint in ((token.refresh_token, "refresh_token"), (token.access_token, "access_token")):
            if not value:
                continue
            form = {"token": value, "token_type_hint": hint, "client_id": self.config.client_id}
            response = self.http.request("POST", url, idempotent=True, data=form, auth=self._basic_auth())
            if response.status_code == 200:
                continue
            if response.status_code == 401:
                raise ConfigurationError(
                    self.network, f"revoke: X refused the client credentials ({body_text(response)})"
                )
            self._raise_for(response, action="revoke")
        return True

    def app_token(self) -> str:
        """The app's OAuth 2.0 App-Only bearer token (POST /oauth2/token,
        grant_type=client_credentials, HTTP Basic with the API Key and Secret,
        URL-encoded as X asks). It reads public data of every account, public_metrics
        included, with the app's own rate limits; X returns the same token until it is
        invalidated, so callers keep it. Raises ConfigurationError (no API Key set, or X
        refused it), RateLimited, TransientFailure."""
        if not (self.config.app_key and self.config.app_secret):
            raise ConfigurationError(self.network, "no X API Key and Secret are set for app-only reads")
        auth = HTTPBasicAuth(quote(self.config.app_key, safe=""), quote(self.config.app_secret, safe=""))
        response = self.http.request(
            "POST",
            self.http.url(API_HOST, APP_TOKEN_PATH),
            data={"grant_type": "client_credentials"},
            auth=auth,
            idempotent=True,  # X answers the same token again: safe to send twice
        )
        body = json_body(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if response.status_code == 200 and isinstance(token, str) and token:
            return token
        if response.status_code in (401, 403):
            raise ConfigurationError(
                self.network,
                f"X refused the app's API Key and Secret ({body_text(response)}); check X_API_KEY / X_API_SECRET",
                status=response.status_code,
            )
        self._raise_for(response, action="app-only token")

    def _token_set(self, body: dict[str, Any]) -> TokenSet:
        scope = body.get("scope")  # oauthlib has already split it into a list
        scopes = scope.split() if isinstance(scope, str) else scope if isinstance(scope, list) else []
        return TokenSet(
            access_token=body["access_token"],
            expires_at=expires_at(body.get("expires_in")),
            refresh_token=body.get("refresh_token") or None,
            scopes=tuple(str(s) for s in scopes),
        )

    def _token_error(self, response: requests.Response, body: Any, *, refreshing: bool) -> NoReturn:
        body = body if isinstance(body, dict) else {}
        error = str(body.get("error") or "")
        description = str(body.get("error_description") or body.get("detail") or body_text(response))
        status = response.status_code
        if status == 429:
            raise self._rate_limited(response, body)
        if error in ("invalid_client", "unauthorized_client") or status == 401:
            raise ConfigurationError(
                self.network,
                f"X refused the app's credentials ({error or status}: {description}); "
                "check the X client id and secret (a confidential client)",
                status=status,
            )
        if refreshing:
            raise TokenRevoked(
                self.network,
                f"X refused the refresh token ({error or status}: {description}); it was spent by an earlier "
                "refresh or access was revoked: the member must reconnect X",
                status=status,
            )
        raise AuthorizationFailed(self.network, f"X refused the code ({error or status}): {description}", status=status)

    # --- API -------------------------------------------------------------------------

    @staticmethod
    def _bearer(access_token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {access_token}"}

    def _rate_limited(self, response: requests.Response, body: dict[str, Any]) -> RateLimited:
        headers = response.headers
        problem = str(body.get("type") or "")
        detail = str(body.get("detail") or body.get("title") or "Too Many Requests")
        window = from_epoch(headers.get("x-rate-limit-reset"))
        daily = None
        if headers.get("x-user-limit-24hour-remaining") == "0":
            daily = from_epoch(headers.get("x-user-limit-24hour-reset"))
        if headers.get("x-app-limit-24hour-remaining") == "0":
            daily = max(filter(None, [daily, from_epoch(headers.get("x-app-limit-24hour-reset"))]), default=None)
        if problem.endswith("/usage-capped"):
            candidates: list[datetime] = [
                m
                for m in (
                    retry_after(response),
                    window,
                    from_epoch(headers.get("x-user-limit-24hour-reset")),
                    from_epoch(headers.get("x-app-limit-24hour-reset")),
                )
                if m
            ]
            retry_at = max(candidates, default=utcnow() + USAGE_CAP_WAIT)
            return RateLimited(
                self.network,
                f"the app's monthly X API quota is spent ({detail}); posting resumes when X resets it",
                retry_at=retry_at,
                status=response.status_code,
            )
        retry_at = max(filter(None, [retry_after(response), window, daily]), default=utcnow() + DEFAULT_WINDOW)
        return RateLimited(
            self.network, f"rate limited by X ({detail})", retry_at=retry_at, status=response.status_code
        )

    def _raise_for(self, response: requests.Response, *, action: str) -> NoReturn:
        """Map an X problem-details answer to a typed error. Always raises."""
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        status = response.status_code
        detail = str(body.get("detail") or body.get("title") or body_text(response) or response.reason)
        problem = str(body.get("type") or "")
        if status == 429 or problem.endswith("/usage-capped"):
            raise self._rate_limited(response, body)
        if status == 401:
            raise TokenExpired(self.network, f"{action}: the access token is not valid ({detail})", status=status)
        lowered = detail.lower()
        if "duplicate" in lowered:
            raise PermanentRejection(self.network, detail, reason="duplicate", status=status)
        if "too long" in lowered or "length" in lowered:
            raise PermanentRejection(self.network, detail, reason="too_long", status=status)
        if status == 403:
            raise PermanentRejection(self.network, detail, reason="forbidden", status=status)
        if 400 <= status < 500:
            raise PermanentRejection(self.network, detail, reason="invalid", status=status)
        raise NetworkError(self.network, f"{action}: unexpected answer {status}: {detail}", status=status)

    def profile(self, *, access_token: str) -> Profile:
        """The token's user from /2/users/me: `remote_id` is the user id, with name,
        @username and profile image. Raises TokenExpired, RateLimited, TransientFailure."""
        response = self.http.request(
            "GET",
            self.http.url(API_HOST, "/2/users/me"),
            params={"user.fields": "profile_image_url"},
            headers=self._bearer(access_token),
        )
        if response.status_code != 200:
            self._raise_for(response, action="users/me")
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            raise TransientFailure(self.network, "users/me: answer without data.id", status=response.status_code)
        return Profile(
            remote_id=str(data["id"]),
            name=str(data.get("name") or ""),
            username=str(data.get("username") or ""),
            picture=str(data.get("profile_image_url") or ""),
        )

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
        """Post `text` (followed by a space and `link`) as the token's user, with `image`'s
        media id (MediaExpired when X no longer knows it). Returns the
        tweet id and https://x.com/i/web/status/{id} (which works without the username).
        `title` and `description` are ignored: X builds a link's card from the page itself.
        Raises PermanentRejection ("duplicate", "too_long", "forbidden", "invalid"),
        TokenExpired, RateLimited (15-minute window, 24-hour or monthly cap),
        TransientFailure, and AmbiguousOutcome when the answer was lost or a 2xx came
        without the tweet id (the tweet may exist)."""
        full = f"{text} {link}" if link else text
        payload: dict[str, Any] = {"text": full}
        if image is not None:
            payload["media"] = {"media_ids": [image.media_id]}
        response = self.http.request(
            "POST",
            self.http.url(API_HOST, "/2/tweets"),
            idempotent=False,
            json=payload,
            headers=self._bearer(access_token),
        )
        if not 200 <= response.status_code < 300:
            if image is not None and "media ids are invalid" in (body_text(response) or "").lower():
                raise MediaExpired(self.network, f"X no longer has the picture {image.media_id}")
            self._raise_for(response, action="publish")
        body = json_body(response)
        data = body.get("data") if isinstance(body, dict) else None
        tweet_id = data.get("id") if isinstance(data, dict) else None
        if not tweet_id:
            raise AmbiguousOutcome(
                self.network,
                f"publish: X answered {response.status_code} without the tweet id; the tweet may exist",
                status=response.status_code,
            )
        return PublishedPost(remote_id=str(tweet_id), url=f"{WEB_HOST}/i/web/status/{tweet_id}")

    def upload_image(self, *, access_token: str, author_id: str, image: PostImage) -> ImageUpload:
        """X API v2 media upload, then the alt text with POST /2/media/metadata. Up to
        CHUNK_BYTES, one call (https://docs.x.com/x-api/media/upload-media: the file
        base64-encoded in JSON, media_category tweet_image, 5 MB at most); larger files and
        GIFs through the chunked flow (initialize, append segments of CHUNK_BYTES as
        multipart, finalize; a GIF as tweet_gif, 15 MB). The id lives `expires_after_secs`
        (24 hours). Raises ImageRejected, TokenExpired, RateLimited, TransientFailure,
        PermanentRejection."""
        started = utcnow()
        if len(image.data) > CHUNK_BYTES or image.mime_type == "image/gif":
            response = self._chunked_upload(access_token, image)
        else:
            response = self.http.request(
                "POST",
                self.http.url(API_HOST, "/2/media/upload"),
                idempotent=True,  # an unused media id is never shown and expires
                json={
                    "media": base64.b64encode(image.data).decode("ascii"),
                    "media_category": "tweet_image",
                    "media_type": image.mime_type,
                },
                headers=self._bearer(access_token),
            )
        if response.status_code == 403:
            raise PermanentRejection(
                self.network,
                "X did not let this app upload pictures for the account: reconnect X so it grants the "
                "media.write permission",
                reason="forbidden",
                status=403,
            )
        if response.status_code == 400:
            body = json_body(response) or {}
            words = "; ".join(str(e.get("message")) for e in body.get("errors") or [] if isinstance(e, dict))
            raise ImageRejected(self.network, f"X refused the picture: {words or body.get('detail')}", status=400)
        if response.status_code != 200:
            self._raise_for(response, action="upload media")
        data = (json_body(response) or {}).get("data") or {}
        media_id = str(data.get("id") or "")
        if not media_id:
            raise TransientFailure(self.network, "upload media: answer without data.id")
        lifetime = data.get("expires_after_secs")
        expires = started + timedelta(seconds=int(lifetime)) if isinstance(lifetime, int) else None
        if image.alt_text:
            meta = self.http.request(
                "POST",
                self.http.url(API_HOST, "/2/media/metadata"),
                idempotent=True,
                json={"id": media_id, "metadata": {"alt_text": {"text": image.alt_text}}},
                headers=self._bearer(access_token),
            )
            if meta.status_code != 200:
                self._raise_for(meta, action="media alt text")
        return ImageUpload(media_id=media_id, expires_at=expires, alt_text=image.alt_text)

    def _chunked_upload(self, access_token: str, image: PostImage) -> requests.Response:
        """initialize, append each segment, finalize; the answer that decides (an error of any
        step, or finalize's), for upload_image to read."""
        category = "tweet_gif" if image.mime_type == "image/gif" else "tweet_image"
        response = self.http.request(
            "POST",
            self.http.url(API_HOST, "/2/media/upload/initialize"),
            idempotent=True,
            json={"media_type": image.mime_type, "total_bytes": len(image.data), "media_category": category},
            headers=self._bearer(access_token),
        )
        media_id = str(((json_body(response) or {}).get("data") or {}).get("id") or "")
        if response.status_code != 200 or not media_id:
            return response
        for index, start in enumerate(range(0, len(image.data), CHUNK_BYTES)):
            response = self.http.request(
                "POST",
                self.http.url(API_HOST, f"/2/media/upload/{media_id}/append"),
                idempotent=True,  # the same segment index again replaces it
                data={"segment_index": str(index)},
                files={"media": ("segment", image.data[start : start + CHUNK_BYTES], "application/octet-stream")},
                headers=self._bearer(access_token),
            )
            if response.status_code != 200:
                return response
        return self.http.request(
            "POST",
            self.http.url(API_HOST, f"/2/media/upload/{media_id}/finalize"),
            idempotent=True,
            headers=self._bearer(access_token),
        )

    def fetch_metrics(
        self, *, access_token: str, remote_ids: list[str], turns: Mapping[str, int] | None = None
    ) -> dict[str, PostMetrics]:
        """public_metrics for up to 100 tweets per call: likes = like_count, comments =
        reply_count, reposts = retweet_count + quote_count, impressions = impression_count
        (None when X leaves it out); bookmarks in `extra`. Ids X reports as not found
        have `exists=False`. Raises ValueError for a non-numeric id, TokenExpired,
        RateLimited, TransientFailure."""
        ids = list(dict.fromkeys(remote_ids))
        for tweet_id in ids:
            if not re.fullmatch(r"\d{1,19}", tweet_id):
                raise ValueError(f"not an X post id: {tweet_id!r}")
        results: dict[str, PostMetrics] = {}
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            results.update(self._metrics_batch(access_token, batch))
        return results

    def _metrics_batch(self, access_token: str, ids: list[str]) -> dict[str, PostMetrics]:
        response = self.http.request(
            "GET",
            self.http.url(API_HOST, "/2/tweets"),
            params={"ids": ",".join(ids), "tweet.fields": "public_metrics"},
            headers=self._bearer(access_token),
        )
        if response.status_code != 200:
            self._raise_for(response, action="tweets lookup")
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        results = {tweet_id: PostMetrics(remote_id=tweet_id) for tweet_id in ids}
        for tweet in body.get("data") or []:
            if not isinstance(tweet, dict) or str(tweet.get("id")) not in results:
                continue
            metrics = tweet.get("public_metrics") or {}

            def count(name: str, metrics: dict[str, Any] = metrics) -> int | None:
                value = metrics.get(name)
                return value if isinstance(value, int) else None

            retweets, quotes = count("retweet_count"), count("quote_count")
            reposts = None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0)
            bookmarks = count("bookmark_count")
            results[str(tweet["id"])] = PostMetrics(
                remote_id=str(tweet["id"]),
                likes=count("like_count"),
                comments=count("reply_count"),
                reposts=reposts,
                impressions=count("impression_count"),
                extra={"bookmarks": bookmarks} if bookmarks is not None else {},
            )
        for error in body.get("errors") or []:
            if not isinstance(error, dict):
                continue
            tweet_id = str(error.get("resource_id") or error.get("value") or "")
            title = str(error.get("title") or "")
            if tweet_id in results and (title == "Not Found Error" or "not-found" in str(error.get("type") or "")):
                results[tweet_id] = PostMetrics(remote_id=tweet_id, exists=False)
        return results

    def post_id_from_url(self, url: str) -> str:
        """See the module function `post_id_from_url`."""
        return post_id_from_url(url)

    def verify_post(self, *, access_token: str, author_id: str, remote_id: str) -> PublishedPost:
        """Check that the tweet `remote_id` exists and that the user `author_id` posted it:
        GET /2/tweets/{id}?tweet.fields=author_id,created_at. Returns it with its id and
        https://x.com/i/web/status/{id} (as publish() does). Raises ValueError for a
        non-numeric id, PostNotFound (X lists it under `errors` as not found, or it is
        deleted), PostNotYours (another user's, or a protected tweet this user cannot see),
        TokenExpired, RateLimited, TransientFailure."""
        if not re.fullmatch(r"\d{1,19}", remote_id or ""):
            raise ValueError(f"not an X post id: {remote_id!r}")
        response = self.http.request(
            "GET",
            self.http.url(API_HOST, f"/2/tweets/{remote_id}"),
            params={"tweet.fields": "author_id,created_at"},
            headers=self._bearer(access_token),
        )
        if response.status_code == 404:
            raise PostNotFound(self.network, POST_NOT_FOUND, status=404)
        if response.status_code != 200:
            self._raise_for(response, action="tweet lookup")
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        data = body.get("data")
        if not isinstance(data, dict) or not data.get("id"):
            titles = {str(e.get("title")) for e in body.get("errors") or [] if isinstance(e, dict)}
            if "Authorization Error" in titles:  # a protected account's tweet: never the user's own
                raise PostNotYours(self.network, POST_NOT_YOURS, status=200)
            raise PostNotFound(self.network, POST_NOT_FOUND, status=200)
        if str(data.get("author_id") or "") != str(author_id):
            raise PostNotYours(self.network, POST_NOT_YOURS, status=200)
        return PublishedPost(remote_id=str(data["id"]), url=f"{WEB_HOST}/i/web/status/{data['id']}")

    def delete(self, *, access_token: str, remote_id: str) -> None:
        """Delete the tweet; one already gone (404) is fine. Raises
        PermanentRejection("forbidden") for someone else's tweet, TokenExpired,
        RateLimited, TransientFailure."""
        response = self.http.request(
            "DELETE", self.http.url(API_HOST, f"/2/tweets/{remote_id}"), headers=self._bearer(access_token)
        )
        if response.status_code in (200, 204, 404):
            return
        self._raise_for(response, action="delete")

    def find_recent_post(self, *, access_token: str, author_id: str, text: str) -> PublishedPost | None:
        """Best effort after an AmbiguousOutcome: among the author's 20 latest tweets
        (GET /2/users/{id}/tweets), the one whose text without URLs equals `text`
        without URLs (X rewrites links to t.co). None when not found or not readable;
        raises TokenExpired, RateLimited, TransientFailure."""
        response = self.http.request(
            "GET",
            self.http.url(API_HOST, f"/2/users/{author_id}/tweets"),
            params={"max_results": "20"},
            headers=self._bearer(access_token),
        )
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            self._raise_for(response, action="user tweets")
        body = json_body(response)
        wanted = _text_key(text)
        for tweet in (body.get("data") if isinstance(body, dict) else None) or []:
            if isinstance(tweet, dict) and tweet.get("id") and _text_key(str(tweet.get("text") or "")) == wanted:
                return PublishedPost(remote_id=str(tweet["id"]), url=f"{WEB_HOST}/i/web/status/{tweet['id']}")
        return None


# --- pasted post links ---------------------------------------------------------------------

X_HOSTS = frozenset(f"{sub}{domain}" for domain in ("x.com", "twitter.com") for sub in ("", "www.", "mobile.", "m."))
# /{username}/status/{id}, /i/web/status/{id}, /i/status/{id}, the old /statuses/, and
# anything after the id (/photo/1, /analytics); usernames are 1-15 letters, digits or "_".
_STATUS_PATH = re.compile(r"/(?:i/web|i|[A-Za-z0-9_]{1,15})/status(?:es)?/(\d{1,19})(?:/.*)?")
NOT_A_POST_LINK = "That is not a link to an X post. Open the post on X and copy its address."
POST_NOT_FOUND = "We could not find that post on X. Check the link, and that the post was not deleted."
POST_NOT_YOURS = "That post is not on your X account."


def post_id_from_url(url: str) -> str:
    """The tweet id (what publish() returns) that a pasted X link names: x.com or
    twitter.com (also www., mobile., m.), /{username}/status/{id} or /i/web/status/{id},
    with any query string, fragment or trailing /photo/1. No network call. Raises
    PostLinkInvalid, with words for the employee, for anything else (t.co short links
    included: they need a request to resolve)."""
    parts = split_link(url or "")
    if parts is None or (parts.hostname or "") not in X_HOSTS:
        raise PostLinkInvalid("x", NOT_A_POST_LINK)
    found = _STATUS_PATH.fullmatch(parts.path)
    if not found or not found.group(1).lstrip("0"):
        raise PostLinkInvalid("x", NOT_A_POST_LINK)
    return found.group(1)
