"""Facebook Graph API: Facebook Login for Pages, posting to the Pages a member manages.

See PROVIDERS.md "Facebook". No app can post to a personal timeline (the product offers
the Share Dialog instead, outside this client). There is no refresh token: a short-lived
user token is exchanged at once for a long-lived one (about 60 days), and "refresh"
exchanges the current long-lived token again while it is still valid. Page tokens
obtained from a long-lived user token do not expire.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NoReturn
from urllib.parse import parse_qs, urlencode

import requests

from networks.base import (
    AuthorizationRequest,
    ImageUpload,
    ManagedPage,
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
    PostUnverifiable,
    RateLimited,
    TokenExpired,
    TokenRevoked,
    TransientFailure,
)
from networks.http import HttpClient, body_text, expires_at, json_body, retry_after, utcnow

WWW_HOST = "https://www.facebook.com"
GRAPH_HOST = "https://graph.facebook.com"
WEB_HOST = "https://www.facebook.com"
SCOPES = "pages_show_list,pages_manage_posts,pages_read_engagement"
METRIC_FIELDS = "shares,reactions.summary(total_count),comments.summary(true)"
LONG_LIVED_DEFAULT = timedelta(days=60)
THROTTLE_DEFAULT = timedelta(hours=1)
THROTTLING_CODES = frozenset({4, 17, 32, 613})
EXPIRED_SUBCODE = 463
MAX_PAGES_OF_PAGES = 50
METRICS_BATCH = 50  # ids per multi-id read (Graph allows 50)
BATCH_LIMIT = 50  # requests per batch request (Graph allows 50)
GONE_IDS = re.compile(r"aliases you requested do not exist: ([0-9_, ]+)")


@dataclass
class PagesMetrics:
    """What `fetch_pages_metrics` learnt: answers by post id, typed errors by Page token."""

    results: dict[str, PostMetrics] = field(default_factory=dict)
    failures: dict[str, NetworkError] = field(default_factory=dict)


def _error_of(body: Any) -> dict[str, Any]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return body["error"]
    return {}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _regain_access_at(response: requests.Response) -> datetime | None:
    """The latest `estimated_time_to_regain_access` (minutes) in the usage headers."""
    minutes: list[int] = []
    for header in ("X-Business-Use-Case-Usage", "X-Page-Usage", "X-Ad-Account-Usage", "X-App-Usage"):
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        entries: list[Any] = []
        if isinstance(usage, dict):
            entries.append(usage)
            for value in usage.values():
                entries.extend(value if isinstance(value, list) else [value])
        for entry in entries:
            if isinstance(entry, dict) and _int(entry.get("estimated_time_to_regain_access")) is not None:
                minutes.append(_int(entry["estimated_time_to_regain_access"]) or 0)
    if not minutes:
        return None
    return utcnow() + timedelta(minutes=max(1, max(minutes)))


class FacebookClient(NetworkClient):
    """Facebook Pages: a member's long-lived user token lists their Pages; each Page's
    own token publishes to it."""

    network = "facebook"

    def __init__(self, config: NetworkConfig):
        super().__init__(config)
        self.http = HttpClient(self.network, config)

    def _graph(self, path: str) -> str:
        version = self.config.facebook_graph_version.strip("/")
        return self.http.url(GRAPH_HOST, f"/{version}/{path.lstrip('/')}")

    # --- OAuth -----------------------------------------------------------------------

    def authorization_url(self, *, state: str) -> AuthorizationRequest:
        """The Facebook Login dialog for `state`, asking for pages_show_list,
        pages_manage_posts and pages_read_engagement (comma-separated; no PKCE, so
        `code_verifier` is None). No network call; raises nothing."""
        version = self.config.facebook_graph_version.strip("/")
        session = self.http.oauth_session(
            client_id=self.config.client_id, redirect_uri=self.config.redirect_uri, scope=SCOPES
        )
        url = self.http.authorization_url(session, self.http.url(WWW_HOST, f"/{version}/dialog/oauth"), state=state)
        return AuthorizationRequest(url=url, state=state, code_verifier=None)

    def exchange_code(self, *, code: str, code_verifier: str | None = None) -> TokenSet:
        """Trade the code for a short-lived user token and at once for a long-lived one
        (about 60 days), which is what is returned (no refresh token exists).
        `code_verifier` is ignored. Raises AuthorizationFailed (expired, replayed or
        foreign code), ConfigurationError (app id or secret refused), RateLimited,
        TransientFailure."""
        if not code:
            raise ValueError("code is required")
        token_url = self._graph("/oauth/access_token")
        session = self.http.oauth_session(client_id=self.config.client_id, redirect_uri=self.config.redirect_uri)
        body = self.http.token_call(
            session,
            token_url,
            lambda s: s.fetch_token(
                token_url,
                code=code,
                method="GET",
                include_client_id=True,
                client_secret=self.config.client_secret,
                timeout=self.config.timeout,
            ),
            on_error=lambda r, b: self._token_error(r, b, exchanging_code=True),
            method="GET",
        )
        return self._long_lived(body["access_token"], exchanging_code=True)

    def refresh(self, *, token: TokenSet) -> TokenSet:
        """A new long-lived user token for the current one (fb_exchange_token), possible
        only while the current token is still valid. Raises TokenExpired (the token has
        expired: the member must reconnect), TokenRevoked (password changed, app removed),
        ConfigurationError, RateLimited, TransientFailure."""
        return self._long_lived(token.access_token, exchanging_code=False)

    def _long_lived(self, access_token: str, *, exchanging_code: bool) -> TokenSet:
        url = self._graph("/oauth/access_token")
        params = {
            "grant_type": "fb_exchange_token",
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "fb_exchange_token": access_token,
        }
        response = self.http.request("GET", url, params=params)
        body = json_body(response)
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("access_token"):
            self._token_error(response, body, exchanging_code=exchanging_code)
        return TokenSet(
            access_token=body["access_token"],
            expires_at=expires_at(body.get("expires_in")) or utcnow() + LONG_LIVED_DEFAULT,
        )

    def _token_error(self, response: requests.Response, body: Any, *, exchanging_code: bool) -> NoReturn:
        error = _error_of(body)
        code = _int(error.get("code"))
        message = str(error.get("message") or body_text(response))
        if code in (1, 101) and ("secret" in message.lower() or "application" in message.lower() or code == 101):
            raise ConfigurationError(
                self.network,
                f"Facebook refused the app's credentials ({message}); check the Facebook app id and secret",
                status=response.status_code,
            )
        if exchanging_code and code not in THROTTLING_CODES and response.status_code != 429:
            raise AuthorizationFailed(
                self.network, f"Facebook refused the code: {message}", status=response.status_code
            )
        self._raise_for(response, action="token exchange")

    # --- API -------------------------------------------------------------------------

    def _raise_for(self, response: requests.Response, *, action: str) -> NoReturn:
        """Map a Graph API error to a typed error. Always raises."""
        body = json_body(response)
        error = _error_of(body)
        status = response.status_code
        code = _int(error.get("code"))
        subcode = _int(error.get("error_subcode"))
        message = str(error.get("message") or body_text(response) or response.reason)
        if code in (190, 102):
            if subcode == EXPIRED_SUBCODE:
                raise TokenExpired(self.network, f"{action}: the access token has expired ({message})", status=status)
            raise TokenRevoked(
                self.network, f"{action}: the access token is no longer valid ({message})", status=status
            )
        if code in THROTTLING_CODES or (code is not None and 80001 <= code <= 80014) or status == 429:
            retry_at = _regain_access_at(response) or retry_after(response) or utcnow() + THROTTLE_DEFAULT
            raise RateLimited(
                self.network, f"{action}: throttled by Facebook ({message})", retry_at=retry_at, status=status
            )
        if code == 506:
            raise PermanentRejection(self.network, message, reason="duplicate", status=status)
        if code == 368:
            raise PermanentRejection(self.network, message, reason="blocked", status=status)
        if code == 10 or (code is not None and 200 <= code <= 299) or status == 403:
            raise PermanentRejection(self.network, message, reason="forbidden", status=status)
        if code in (1, 2) or error.get("is_transient") is True:
            raise TransientFailure(self.network, f"{action}: {message}", status=status)
        if 400 <= status < 500:
            raise PermanentRejection(self.network, message, reason="invalid", status=status)
        raise NetworkError(self.network, f"{action}: unexpected answer {status}: {message}", status=status)

    @staticmethod
    def _gone(response: requests.Response) -> bool:
        """Graph's "object does not exist" (code 100 subcode 33, or 803), or a plain 404."""
        error = _error_of(json_body(response))
        code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
        return response.status_code == 404 or (code == 100 and subcode == 33) or code == 803

    def profile(self, *, access_token: str) -> Profile:
        """The member (GET /me?fields=id,name): `remote_id` is their app-scoped id.
        Raises TokenExpired, TokenRevoked, RateLimited, TransientFailure."""
        response = self.http.request(
            "GET", self._graph("/me"), params={"fields": "id,name", "access_token": access_token}
        )
        body = json_body(response)
        if response.status_code != 200:
            self._raise_for(response, action="me")
        if not isinstance(body, dict) or not body.get("id"):
            raise TransientFailure(self.network, "me: answer without id", status=response.status_code)
        return Profile(remote_id=str(body["id"]), name=str(body.get("name") or ""))

    def managed_pages(self, *, access_token: str) -> list[ManagedPage]:
        """Every Page the member manages (all result pages of /me/accounts), each with its
        own Page token; `can_post` means the CREATE_CONTENT task. Raises TokenExpired,
        TokenRevoked, PermanentRejection("forbidden") without pages_show_list,
        RateLimited, TransientFailure."""
        pages: list[ManagedPage] = []
        params: dict[str, str] = {"access_token": access_token}
        for _ in range(MAX_PAGES_OF_PAGES):
            response = self.http.request("GET", self._graph("/me/accounts"), params=params)
            if response.status_code != 200:
                self._raise_for(response, action="me/accounts")
            body = json_body(response)
            body = body if isinstance(body, dict) else {}
            for page in body.get("data") or []:
                if not isinstance(page, dict) or not page.get("id"):
                    continue
                tasks = page.get("tasks") or []
                pages.append(
                    ManagedPage(
                        remote_id=str(page["id"]),
                        name=str(page.get("name") or ""),
                        access_token=str(page.get("access_token") or ""),
                        can_post="CREATE_CONTENT" in tasks,
                        category=str(page.get("category") or ""),
                    )
                )
            paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
            after = (paging.get("cursors") or {}).get("after") if isinstance(paging.get("cursors"), dict) else None
            if not paging.get("next") or not after:
                break
            params = {"access_token": access_token, "after": str(after)}
        return pages

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
        """Post `text` (and `link`, or else `image`: an unpublished photo from upload_image,
        attached with attached_media) to the Page `author_id`; `access_token` must be that
        Page's token (from managed_pages). Returns "{page}_{post}" and its facebook.com URL.
        `title` and `description` are ignored: Facebook builds the link preview from the
        page's own Open Graph tags.
        Raises PermanentRejection ("duplicate", "blocked", "forbidden", "invalid"),
        TokenExpired, TokenRevoked, RateLimited, TransientFailure, and AmbiguousOutcome
        when the answer was lost or a 2xx came without the post id (the post may exist)."""
        if not author_id:
            raise ValueError("author_id (the Page id) is required")
        data = {"message": text, "access_token": access_token}
        if image is not None:
            if link:
                raise ValueError("a Facebook photo post takes no link parameter; put it in the text")
            data["attached_media"] = json.dumps([{"media_fbid": image.media_id}])
        elif link:
            data["link"] = link
        response = self.http.request("POST", self._graph(f"/{author_id}/feed"), idempotent=False, data=data)
        if not 200 <= response.status_code < 300:
            if image is not None and "invalid media_fbid" in (body_text(response) or ""):
                raise MediaExpired(self.network, f"Facebook no longer has the photo {image.media_id}")
            self._raise_for(response, action="publish")
        body = json_body(response)
        post_id = body.get("id") if isinstance(body, dict) else None
        if not post_id:
            raise AmbiguousOutcome(
                self.network,
                f"publish: Facebook answered {response.status_code} without the post id; the post may exist",
                status=response.status_code,
            )
        return PublishedPost(remote_id=str(post_id), url=f"{WEB_HOST}/{post_id}")

    def upload_image(self, *, access_token: str, author_id: str, image: PostImage) -> ImageUpload:
        """An unpublished photo on the Page (POST /{page-id}/photos with the file as
        multipart `source`, published=false, and the alt text as `alt_text_custom`), which
        publish() then attaches to the post. Graph documents no expiry for it (`expires_at`
        None). Raises ImageRejected (type or size: JPEG, PNG, GIF, BMP, TIFF, 4 MB at most),
        TokenExpired, TokenRevoked, RateLimited, TransientFailure, PermanentRejection."""
        if not author_id:
            raise ValueError("author_id (the Page id) is required")
        extension = image.mime_type.rpartition("/")[2] or "jpg"
        response = self.http.request(
            "POST",
            self._graph(f"/{author_id}/photos"),
            idempotent=True,  # an unpublished photo is never shown: repeating it is harmless
            params={"access_token": access_token},
            data={"published": "false", "alt_text_custom": image.alt_text},
            files={"source": (f"picture.{extension}", image.data, image.mime_type)},
        )
        if not 200 <= response.status_code < 300:
            error = _error_of(json_body(response))
            if response.status_code == 400 and _int(error.get("code")) in (100, 324):
                raise ImageRejected(self.network, f"Facebook refused the photo: {error.get('message')}", status=400)
            self._raise_for(response, action="upload photo")
        photo_id = (json_body(response) or {}).get("id")
        if not photo_id:
            raise TransientFailure(self.network, "upload photo: answer without id")
        return ImageUpload(media_id=str(photo_id), expires_at=None, alt_text=image.alt_text)

    def fetch_metrics(
        self, *, access_token: str, remote_ids: list[str], turns: Mapping[str, int] | None = None
    ) -> dict[str, PostMetrics]:
        """Per post (with the Page token): likes = all reactions, comments, reposts =
        shares (0 when Facebook leaves `shares` out, as it does for none). Impressions
        are None (insights are not read). Up to METRICS_BATCH posts per call (Graph's
        multi-id read `GET /?ids=a,b&fields=...`); a batch naming a post that no longer
        exists (error 803) is read again post by post, so that post gets `exists=False`
        and the others their numbers; a post the token may not read has every metric
        None. Raises TokenExpired, TokenRevoked, RateLimited, TransientFailure."""
        ids = list(dict.fromkeys(remote_ids))
        results: dict[str, PostMetrics] = {}
        for start in range(0, len(ids), METRICS_BATCH):
            batch = ids[start : start + METRICS_BATCH]
            if len(batch) == 1:
                results.update(self._metrics_one(access_token, batch[0]))
                continue
            response = self.http.request(
                "GET",
                self._graph("/"),
                params={"ids": ",".join(batch), "fields": METRIC_FIELDS, "access_token": access_token},
            )
            if response.status_code == 200:
                body = json_body(response)
                body = body if isinstance(body, dict) else {}
                for post_id in batch:
                    node = body.get(post_id)
                    results[post_id] = (
                        _post_metrics(post_id, node) if isinstance(node, dict) else PostMetrics(remote_id=post_id)
                    )
                continue
            code = _int(_error_of(json_body(response)).get("code"))
            if self._gone(response) or code == 10 or (code is not None and 200 <= code <= 299):
                for post_id in batch:  # one post is gone or unreadable: find which, one by one
                    results.update(self._metrics_one(access_token, post_id))
                continue
            self._raise_for(response, action="post metrics")
        return results

    def fetch_pages_metrics(self, *, posts_by_token: Mapping[str, list[str]]) -> PagesMetrics:
        """The metrics of posts of many Pages in as few HTTP calls as Graph allows: each
        Page token's posts become multi-id reads of up to METRICS_BATCH ids, each with
        its own token in its relative_url, sent 50 at a time as one batch request whose
        fallback token is the app access token (`{app-id}|{secret}`, no call). Facebook
        counts every read inside a batch against its rate limits, so this saves round
        trips, not quota.

        Every post named gets an answer or none: its numbers; `exists=False` when Graph
        names it among the ids that "do not exist" (the read is sent again without it);
        all None when its token may not read it (an unreadable read of several posts is
        split and sent again post by post, so the others keep their numbers); no answer
        when Graph answered that read with null (not run: try later). A read refused for
        its token (expired, revoked, throttled for that Page) leaves its posts out and puts
        the typed error in `failures` under that token; the other Pages' reads are kept.
        Raises, for the batch as a whole, ConfigurationError (the app's credentials
        refused), RateLimited, TransientFailure."""
        pending = [
            (token, ids[start : start + METRICS_BATCH])
            for token, ids in ((t, list(dict.fromkeys(i))) for t, i in posts_by_token.items())
            for start in range(0, len(ids), METRICS_BATCH)
        ]
        out = PagesMetrics()
        while pending:
            calls, pending = pending[:BATCH_LIMIT], pending[BATCH_LIMIT:]
            for (token, ids), answer in zip(calls, self._batch(calls), strict=True):
                pending.extend(self._read_answer(token, ids, answer, out))
        return out

    def _batch(self, calls: list[tuple[str, list[str]]]) -> list[Any]:
        operations = [
            {
                "method": "GET",
                "relative_url": "?" + urlencode({"ids": ",".join(ids), "fields": METRIC_FIELDS, "access_token": token}),
            }
            for token, ids in calls
        ]
        response = self.http.request(
            "POST",
            self._graph("/"),
            data={
                "access_token": f"{self.config.client_id}|{self.config.client_secret}",
                "include_headers": "false",
                "batch": json.dumps(operations),
            },
            idempotent=True,  # only reads inside: safe to send again
        )
        body = json_body(response)
        if response.status_code != 200:
            if _int(_error_of(body).get("code")) in (190, 102):
                raise ConfigurationError(
                    self.network, f"Facebook refused the app access token ({body_text(response)})", status=401
                )
            self._raise_for(response, action="batch metrics")
        if not isinstance(body, list) or len(body) != len(calls):
            raise TransientFailure(self.network, "batch metrics: the answer does not match the requests", status=200)
        return body

    def _read_answer(self, token: str, ids: list[str], answer: Any, out: PagesMetrics) -> list[tuple[str, list[str]]]:
        """Record one read's answer in `out`; returns the reads to send again."""
        if not isinstance(answer, dict):
            return []  # null: Graph did not run it; these posts get no answer this time
        sub = requests.Response()
        sub.status_code = _int(answer.get("code")) or 500
        sub._content = str(answer.get("body") or "").encode()
        body = json_body(sub)
        if sub.status_code == 200 and isinstance(body, dict):
            for post_id in ids:
                node = body.get(post_id)
                out.results[post_id] = (
                    _post_metrics(post_id, node) if isinstance(node, dict) else PostMetrics(remote_id=post_id)
                )
            return []
        error = _error_of(body)
        code = _int(error.get("code"))
        gone = GONE_IDS.search(str(error.get("message") or ""))
        if gone and code in (100, 803):
            missing = set(gone.group(1).replace(" ", "").split(",")) & set(ids)
            for post_id in missing:
                out.results[post_id] = PostMetrics(remote_id=post_id, exists=False)
            rest = [post_id for post_id in ids if post_id not in missing]
            return [(token, rest)] if rest and missing else []
        if self._gone(sub) and len(ids) == 1:
            out.results[ids[0]] = PostMetrics(remote_id=ids[0], exists=False)
            return []
        if self._gone(sub) or code == 10 or (code is not None and 200 <= code <= 299):
            if len(ids) > 1:
                return [(token, [post_id]) for post_id in ids]  # find which one, in the next batch
            out.results[ids[0]] = PostMetrics(remote_id=ids[0])
            return []
        try:
            self._raise_for(sub, action="post metrics")
        except NetworkError as exc:
            out.failures[token] = exc
        return []

    def _metrics_one(self, access_token: str, post_id: str) -> dict[str, PostMetrics]:
        response = self.http.request(
            "GET", self._graph(f"/{post_id}"), params={"fields": METRIC_FIELDS, "access_token": access_token}
        )
        if response.status_code != 200:
            if self._gone(response):
                return {post_id: PostMetrics(remote_id=post_id, exists=False)}
            code = _int(_error_of(json_body(response)).get("code"))
            if code == 10 or (code is not None and 200 <= code <= 299):
                return {post_id: PostMetrics(remote_id=post_id)}
            self._raise_for(response, action="post metrics")
        body = json_body(response)
        return {post_id: _post_metrics(post_id, body if isinstance(body, dict) else {})}

    def find_recent_post(self, *, access_token: str, author_id: str, text: str) -> PublishedPost | None:
        """Best effort after an AmbiguousOutcome: among the Page's 25 latest posts (GET
        /{page-id}/posts with the Page token), the one whose message is exactly `text`.
        None when not found or not readable; raises TokenExpired, TokenRevoked,
        RateLimited, TransientFailure."""
        response = self.http.request(
            "GET",
            self._graph(f"/{author_id}/posts"),
            params={"fields": "id,message", "limit": "25", "access_token": access_token},
        )
        if response.status_code != 200:
            if self._gone(response) or response.status_code == 403:
                return None
            self._raise_for(response, action="page posts")
        body = json_body(response)
        for post in (body.get("data") if isinstance(body, dict) else None) or []:
            if isinstance(post, dict) and post.get("id") and post.get("message") == text:
                return PublishedPost(remote_id=str(post["id"]), url=f"{WEB_HOST}/{post['id']}")
        return None

    def post_id_from_url(self, url: str) -> str:
        """See the module function `post_id_from_url`."""
        return post_id_from_url(url)

    def verify_post(self, *, access_token: str, author_id: str, remote_id: str) -> PublishedPost:
        """Check that `remote_id` ("{page-id}_{post-id}") is a post of the Page `author_id`,
        with that Page's token: GET /{post-id}?fields=id,from,created_time, then `from.id`
        must be the Page. Returns it with its id and facebook.com URL (as publish() does).
        A post id that starts with another Page's id is refused without a call. Raises
        ValueError for a malformed id, PostNotFound (Graph's "does not exist", or deleted),
        PostNotYours (another Page's, or a visitor's post on this Page), PostUnverifiable
        (the token may not read this Page's posts), TokenExpired, TokenRevoked, RateLimited,
        TransientFailure."""
        if not re.fullmatch(r"\d+_\d+", remote_id or ""):
            raise ValueError(f"not a Facebook Page post id: {remote_id!r}")
        if remote_id.split("_", 1)[0] != author_id:  # a Page's posts have ids "{page-id}_..."
            raise PostNotYours(self.network, POST_NOT_YOURS)
        response = self.http.request(
            "GET",
            self._graph(f"/{remote_id}"),
            params={"fields": "id,from,created_time", "access_token": access_token},
        )
        if response.status_code != 200:
            if self._gone(response):
                raise PostNotFound(self.network, POST_NOT_FOUND, status=response.status_code)
            code = _int(_error_of(json_body(response)).get("code"))
            if code == 10 or (code is not None and 200 <= code <= 299):
                raise PostUnverifiable(
                    self.network,
                    "Facebook does not let this app read your Page's posts, so we could not check "
                    "that this post is on your Page.",
                    remote_id=remote_id,
                    url=f"{WEB_HOST}/{remote_id}",
                    status=response.status_code,
                )
            self._raise_for(response, action="get post")
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        author = body.get("from") if isinstance(body.get("from"), dict) else {}
        if not body.get("id") or not author.get("id"):
            raise TransientFailure(self.network, "get post: answer without the post's id and author", status=200)
        if str(author["id"]) != author_id:
            raise PostNotYours(self.network, POST_NOT_YOURS, status=200)
        return PublishedPost(remote_id=str(body["id"]), url=f"{WEB_HOST}/{body['id']}")

    def revoke(self, *, token: TokenSet) -> bool:
        """DELETE /me/permissions with the member's user token: Facebook de-authorizes the
        app for the member, which also ends the Page tokens obtained through it. A token
        Facebook already invalidated (190) means the access is gone already. Raises
        TokenExpired (an expired token cannot withdraw anything), RateLimited,
        TransientFailure, PermanentRejection, NetworkError."""
        response = self.http.request(
            "DELETE", self._graph("/me/permissions"), params={"access_token": token.access_token}
        )
        if response.status_code != 200:
            with contextlib.suppress(TokenRevoked):  # already withdrawn
                self._raise_for(response, action="revoke")
        return True

    def delete(self, *, access_token: str, remote_id: str) -> None:
        """Delete the Page post (with the Page token); one already gone is fine. Raises
        PermanentRejection("forbidden"), TokenExpired, TokenRevoked, RateLimited,
        TransientFailure."""
        response = self.http.request("DELETE", self._graph(f"/{remote_id}"), params={"access_token": access_token})
        if response.status_code == 200 or self._gone(response):
            return
        self._raise_for(response, action="delete")


def _post_metrics(post_id: str, body: dict[str, Any]) -> PostMetrics:
    shares = body.get("shares")
    return PostMetrics(
        remote_id=post_id,
        likes=_summary_total(body.get("reactions")),
        comments=_summary_total(body.get("comments")),
        reposts=_int(shares.get("count")) if isinstance(shares, dict) else 0,
    )


def _summary_total(edge: Any) -> int | None:
    if isinstance(edge, dict) and isinstance(edge.get("summary"), dict):
        return _int(edge["summary"].get("total_count"))
    return None


# --- pasted post links ---------------------------------------------------------------------

_COMPOUND_PATH = re.compile(r"/(\d+)_(\d+)/?")
_POSTS_PATH = re.compile(r"/(\d+)/posts/(\d+)/?")
_STORY_PATH = re.compile(r"/(?:permalink|story)\.php")
NOT_A_POST_LINK = "That is not a link to a Facebook post. Open the post on Facebook and copy its address."
NO_NUMBERS = (
    "This Facebook link does not show the Page's number and the post's number, so we cannot tell which "
    "post it is. Paste a link that contains both, such as https://www.facebook.com/123456789/posts/987654321."
)
POST_NOT_FOUND = "We could not find that post on Facebook. Check the link, and that the post was not deleted."
POST_NOT_YOURS = "That post is not on your Facebook Page."


def post_id_from_url(url: str) -> str:
    """The Page post id "{page-id}_{post-id}" (what publish() returns) that a pasted
    facebook.com link names (www., m., web., mbasic. too, any query string):
    /{page-id}_{post-id}, /{page-id}/posts/{post-id} and /permalink.php or /story.php
    ?story_fbid={post-id}&id={page-id}, all with numeric ids. No network call. Raises
    PostLinkInvalid, with words for the employee, for anything else; links that name the
    Page by its username (/acme/posts/...), the post by Facebook's obfuscated "pfbid..." id,
    or are share links (/share/p/...) are refused: none can be turned into the numeric id
    without asking Facebook."""
    parts = split_link(url or "")
    host = (parts.hostname or "") if parts else ""
    if host not in ("facebook.com", "fb.com") and not host.endswith((".facebook.com", ".fb.com")):
        raise PostLinkInvalid("facebook", NOT_A_POST_LINK)
    path = parts.path
    found = _COMPOUND_PATH.fullmatch(path) or _POSTS_PATH.fullmatch(path)
    if found:
        return f"{found.group(1)}_{found.group(2)}"
    if _STORY_PATH.fullmatch(path):
        query = parse_qs(parts.query)
        story, page = (query.get("story_fbid") or [""])[0], (query.get("id") or [""])[0]
        if story.isdigit() and page.isdigit():
            return f"{page}_{story}"
        if story or page:
            raise PostLinkInvalid("facebook", NO_NUMBERS)
    if re.fullmatch(r"/[^/]+/posts/[^/]+/?", path) or path.startswith("/share/") or "pfbid" in path:
        raise PostLinkInvalid("facebook", NO_NUMBERS)  # a username, a share link, an obfuscated id
    raise PostLinkInvalid("facebook", NOT_A_POST_LINK)
