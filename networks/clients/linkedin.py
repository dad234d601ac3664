"""LinkedIn: OpenID Connect sign-in, posting as a member through the versioned REST API.

See PROVIDERS.md "LinkedIn". Ordinary apps get no refresh token (60-day access tokens)
and no read access to engagement (403): those metrics are None, never 0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any, NoReturn
from urllib.parse import quote, unquote, urlsplit

import requests

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
    PostUnverifiable,
    RateLimited,
    TokenExpired,
    TokenRevoked,
    TransientFailure,
)
from networks.http import HttpClient, body_text, expires_at, json_body, retry_after, utcnow
from networks.text import little_text

OAUTH_HOST = "https://www.linkedin.com"
API_HOST = "https://api.linkedin.com"
WEB_HOST = "https://www.linkedin.com"
AUTHORIZE_PATH = "/oauth/v2/authorization"
TOKEN_PATH = "/oauth/v2/accessToken"
SCOPES = ("openid", "profile", "email", "w_member_social")
SOCIAL_METADATA_BATCH = 100  # URNs per socialMetadata BATCH_GET (the emulator's limit too)
ANALYTICS_TURNS = {1: ("IMPRESSION", "impressions"), 2: ("RESHARE", "reposts")}  # see fetch_metrics

INVALID_TOKEN = 65600
REVOKED_TOKEN = 65601

# LinkedIn's limits are daily (per app and per member, reset at midnight UTC), and a 429
# comes with no reset header. A spent daily quota names itself in the message ("Resource
# level throttle APPLICATION DAY limit for calls to this resource is reached.", also MEMBER
# and APPLICATION_AND_MEMBER); any other 429 ("Resource level throttle limit ...", or
# LinkedIn's infrastructure protection) is a short throttle that passes by itself.
DAILY_LIMIT = re.compile(r"\bDAY limit\b", re.IGNORECASE)
SHORT_THROTTLE = timedelta(minutes=1)  # the earliest retry after a short throttle


def _next_midnight_utc() -> datetime:
    tomorrow = utcnow().date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0, 0), tzinfo=UTC)


def _scopes(value: Any) -> tuple[str, ...]:
    """LinkedIn answers scopes comma-separated ("email,openid,profile"); accept spaces too
    (and the list oauthlib makes of a space-separated string)."""
    if isinstance(value, list | tuple):
        value = " ".join(str(v) for v in value)
    if not isinstance(value, str):
        return ()
    return tuple(s for s in value.replace(",", " ").split() if s)


def _article_title(link: str) -> str:
    """A title for the link card when the caller has none: LinkedIn does not fetch one."""
    host = urlsplit(link).hostname or link
    return host.removeprefix("www.")


# LinkedIn's HashtagTemplate ({hashtag|\#|Word}, the sign "#" or U+FF03, escaped or not)
# and a backslash escape: what members read of each.
_LITTLE_MARKUP = re.compile(r"\{hashtag\|\\?([#\uFF03])\|([^{}|\\]+)\}|\\(.)", re.DOTALL)


def _visible(commentary: str) -> str:
    """What members read of little text we wrote: hashtag templates as "#Word", escapes resolved."""

    def read(match: re.Match) -> str:
        return match.group(3) if match.group(3) is not None else match.group(1) + match.group(2)

    return _LITTLE_MARKUP.sub(read, commentary)


class LinkedInClient(NetworkClient):
    """LinkedIn member posting (`w_member_social`) and OpenID Connect identity."""

    network = "linkedin"

    def __init__(self, config: NetworkConfig):
        super().__init__(config)
        self.http = HttpClient(self.network, config)

    # --- OAuth -----------------------------------------------------------------------

    def authorization_url(self, *, state: str) -> AuthorizationRequest:
        """The LinkedIn consent page for `state` (scopes openid, profile, email,
        w_member_social; no PKCE, so `code_verifier` is None). No network call; raises nothing."""
        session = self.http.oauth_session(
            client_id=self.config.client_id, redirect_uri=self.config.redirect_uri, scope=list(SCOPES)
        )
        url = self.http.authorization_url(session, self.http.url(OAUTH_HOST, AUTHORIZE_PATH), state=state)
        return AuthorizationRequest(url=url, state=state, code_verifier=None)

    def exchange_code(self, *, code: str, code_verifier: str | None = None) -> TokenSet:
        """Trade the callback's code for a 60-day access token (and, for partner apps, a
        refresh token). `code_verifier` is ignored (LinkedIn web apps use no PKCE).
        Raises AuthorizationFailed (expired, replayed or foreign code), ConfigurationError
        (wrong client credentials), RateLimited, TransientFailure."""
        if not code:
            raise ValueError("code is required")
        body = self.http.exchange_code(
            self.http.url(OAUTH_HOST, TOKEN_PATH),
            code=code,
            on_error=lambda r, b: self._token_error(r, b, refreshing=False),
        )
        return self._token_set(body)

    def refresh(self, *, token: TokenSet) -> TokenSet:
        """New tokens for a partner app (the refresh token keeps its original 365-day end).
        Without a refresh token (every ordinary app) raises TokenExpired: the member must
        reconnect. Raises TokenRevoked when LinkedIn refuses the refresh token,
        ConfigurationError, RateLimited, TransientFailure."""
        if not token.refresh_token:
            raise TokenExpired(
                self.network,
                "LinkedIn gives refresh tokens only to approved partner apps: "
                "the member must reconnect LinkedIn to get a new access token",
            )
        body = self.http.refresh_with_secret(
            self.http.url(OAUTH_HOST, TOKEN_PATH),
            refresh_token=token.refresh_token,
            on_error=lambda r, b: self._token_error(r, b, refreshing=True),
        )
        new = self._token_set(body)
        if not body.get("refresh_token_expires_in"):
            new = TokenSet(
                access_token=new.access_token,
                expires_at=new.expires_at,
                refresh_token=new.refresh_token or token.refresh_token,
                refresh_expires_at=token.refresh_expires_at,
                scopes=new.scopes or token.scopes,
            )
        return new

    def _token_set(self, body: dict[str, Any]) -> TokenSet:
        return TokenSet(
            access_token=body["access_token"],
            expires_at=expires_at(body.get("expires_in")),
            refresh_token=body.get("refresh_token") or None,
            refresh_expires_at=expires_at(body.get("refresh_token_expires_in")) if body.get("refresh_token") else None,
            scopes=_scopes(body.get("scope")),
        )

    def _token_error(self, response: requests.Response, body: Any, *, refreshing: bool) -> NoReturn:
        body = body if isinstance(body, dict) else {}
        error = str(body.get("error") or "")
        description = str(body.get("error_description") or body.get("message") or body_text(response))
        status = response.status_code
        if status == 429:
            self._raise_rate_limited(response, description)
        if error in ("invalid_client", "unauthorized_client"):
            raise ConfigurationError(
                self.network,
                f"LinkedIn refused the app's credentials ({error}: {description}); "
                "check the LinkedIn client id and secret",
                status=status,
            )
        if refreshing:
            raise TokenRevoked(
                self.network, f"LinkedIn refused the refresh token ({error or status}): {description}", status=status
            )
        raise AuthorizationFailed(
            self.network, f"LinkedIn refused the code ({error or status}): {description}", status=status
        )

    # --- API -------------------------------------------------------------------------

    def _rest_headers(self, access_token: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {access_token}",
            "LinkedIn-Version": self.config.linkedin_version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def _raise_rate_limited(self, response: requests.Response, message: str) -> NoReturn:
        """A 429: the daily limit when LinkedIn's message says so (until midnight UTC),
        else a short throttle (`daily=False`, retry_at a minute from now)."""
        if DAILY_LIMIT.search(message):
            raise RateLimited(
                self.network,
                f"LinkedIn's daily limit is reached ({message}); its limits reset at midnight UTC",
                retry_at=retry_after(response) or _next_midnight_utc(),
                status=response.status_code,
                daily=True,
            )
        raise RateLimited(
            self.network,
            f"LinkedIn is throttling calls for a moment ({message}); trying again in a few minutes",
            retry_at=retry_after(response) or utcnow() + SHORT_THROTTLE,
            status=response.status_code,
        )

    def _raise_for(self, response: requests.Response, *, action: str) -> NoReturn:
        """Map a LinkedIn error answer to a typed error. Always raises."""
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        message = str(body.get("message") or body_text(response) or response.reason)
        status = response.status_code
        service_code = body.get("serviceErrorCode")
        code = str(body.get("code") or "")
        if status == 401:
            if service_code == REVOKED_TOKEN or code == "REVOKED_ACCESS_TOKEN":
                raise TokenRevoked(self.network, f"{action}: the member revoked access ({message})", status=status)
            raise TokenExpired(
                self.network, f"{action}: the access token is no longer valid ({message})", status=status
            )
        if status == 426:
            raise ConfigurationError(
                self.network,
                f"{action}: LinkedIn no longer accepts API version {self.config.linkedin_version!r} "
                f"(LinkedIn-Version header); set LINKEDIN_API_VERSION to a current YYYYMM version ({message})",
                status=status,
            )
        if status == 429:
            self._raise_rate_limited(response, message)
        if status == 403:
            raise PermanentRejection(self.network, message, reason="forbidden", status=status)
        lowered = message.lower()
        if "duplicate" in lowered:
            raise PermanentRejection(self.network, message, reason="duplicate", status=status)
        if "too long" in lowered or "length" in lowered:
            raise PermanentRejection(self.network, message, reason="too_long", status=status)
        if 400 <= status < 500:
            raise PermanentRejection(self.network, message, reason="invalid", status=status)
        raise NetworkError(self.network, f"{action}: unexpected answer {status}: {message}", status=status)

    def profile(self, *, access_token: str) -> Profile:
        """The member from OpenID Connect userinfo: `remote_id` is `sub` (used as
        urn:li:person:{sub}), with name, email and picture when granted.
        Raises TokenExpired, TokenRevoked, RateLimited, TransientFailure."""
        url = self.http.url(API_HOST, "/v2/userinfo")
        response = self.http.request("GET", url, headers={"Authorization": f"Bearer {access_token}"})
        body = json_body(response)
        if response.status_code != 200:
            self._raise_for(response, action="userinfo")
        if not isinstance(body, dict) or not body.get("sub"):
            raise TransientFailure(self.network, "userinfo: answer without `sub`", status=response.status_code)
        name = body.get("name") or " ".join(p for p in (body.get("given_name"), body.get("family_name")) if p)
        return Profile(
            remote_id=str(body["sub"]),
            name=str(name or ""),
            email=str(body.get("email") or ""),
            picture=str(body.get("picture") or ""),
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
        """Post `text` publicly as urn:li:person:{author_id} (as little text: hashtags as
        LinkedIn's hashtag template, everything else escaped), with `link` as an article
        card titled `title` (the link's host when empty: LinkedIn does not fetch one) and
        described by `description` when given. Returns the new post's URN and its public
        page. Raises PermanentRejection ("duplicate", "forbidden", "too_long", "invalid"),
        ConfigurationError (retired LINKEDIN_API_VERSION), TokenExpired, TokenRevoked,
        RateLimited (`daily` until midnight UTC, else a short throttle), TransientFailure,
        and AmbiguousOutcome when the answer was lost or a 2xx came without the post's id
        (the post may exist)."""
        if not author_id:
            raise ValueError("author_id is required")
        payload: dict[str, Any] = {
            "author": f"urn:li:person:{author_id}",
            "commentary": little_text(text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if image is not None:
            # A post carries one kind of content: a picture post has no article card (the
            # caller puts the link in the text).
            if link:
                raise ValueError("a LinkedIn picture post takes no article link; put it in the text")
            payload["content"] = {"media": {"id": image.media_id, "altText": image.alt_text}}
        elif link:
            article = {"source": link, "title": title or _article_title(link)}
            if description:
                article["description"] = description
            payload["content"] = {"article": article}
        url = self.http.url(API_HOST, "/rest/posts")
        response = self.http.request(
            "POST", url, idempotent=False, json=payload, headers=self._rest_headers(access_token)
        )
        if not 200 <= response.status_code < 300:
            if image is not None and "/content/media/id" in (body_text(response) or ""):
                raise MediaExpired(self.network, f"LinkedIn no longer has the picture {image.media_id}")
            self._raise_for(response, action="publish")
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise AmbiguousOutcome(
                self.network,
                f"publish: LinkedIn answered {response.status_code} without the post's id (x-restli-id); "
                "the post may exist",
                status=response.status_code,
            )
        return PublishedPost(remote_id=urn, url=f"{WEB_HOST}/feed/update/{urn}")

    def upload_image(self, *, access_token: str, author_id: str, image: PostImage) -> ImageUpload:
        """LinkedIn's Images API: POST /rest/images?action=initializeUpload with the member as
        owner gives an upload URL and the image URN; the bytes go there with a PUT (the same
        Bearer token). The URN has no documented expiry (`expires_at` None); its alt text
        travels with the post (content.media.altText). Raises ImageRejected, TokenExpired,
        TokenRevoked, RateLimited, TransientFailure, PermanentRejection."""
        response = self.http.request(
            "POST",
            self.http.url(API_HOST, "/rest/images"),
            idempotent=True,  # an unused image is never shown: repeating it is harmless
            params={"action": "initializeUpload"},
            json={"initializeUploadRequest": {"owner": f"urn:li:person:{author_id}"}},
            headers=self._rest_headers(access_token),
        )
        if response.status_code != 200:
            self._raise_for(response, action="initialize image upload")
        value = (json_body(response) or {}).get("value") or {}
        upload_url, urn = value.get("uploadUrl"), value.get("image")
        if not upload_url or not urn:
            raise TransientFailure(self.network, "initialize image upload: answer without uploadUrl or image")
        put = self.http.request(
            "PUT",
            upload_url,
            data=image.data,
            headers={"Authorization": f"Bearer {access_token}", "Content-Type": "application/octet-stream"},
        )
        if not 200 <= put.status_code < 300:
            if put.status_code == 400:
                message = str((json_body(put) or {}).get("message") or body_text(put))
                raise ImageRejected(self.network, f"LinkedIn refused the picture: {message}", status=400)
            self._raise_for(put, action="upload image")
        return ImageUpload(media_id=str(urn), expires_at=None, alt_text=image.alt_text)

    def fetch_metrics(
        self, *, access_token: str, remote_ids: list[str], turns: Mapping[str, int] | None = None
    ) -> dict[str, PostMetrics]:
        """One read per post, in turn by `turns` (how many times the post was pulled
        before; 0 when not given), so a round costs at most one call per post:

        | turn % 3 | read                                     | gives                     |
        |----------|------------------------------------------|---------------------------|
        | 0        | socialMetadata BATCH_GET, 100 posts/call | likes, comments, deletion |
        | 1        | memberCreatorPostAnalytics IMPRESSION    | impressions               |
        | 2        | memberCreatorPostAnalytics RESHARE       | reposts                   |

        LinkedIn's analytics finder takes one post and one metric per call (no batch), so
        reading everything on every pull would cost two calls per post plus the batch.
        The counters a turn does not read are None (not read this time), never 0; each
        read needs a scope LinkedIn grants only to approved apps, and a 403 also gives
        None. A post LinkedIn answers 404 for in the batch's `errors` has `exists=False`.
        Raises TokenExpired, TokenRevoked, RateLimited, TransientFailure."""
        urns = list(dict.fromkeys(remote_ids))
        turns = turns or {}
        social = [urn for urn in urns if turns.get(urn, 0) % 3 == 0]
        results: dict[str, PostMetrics] = {}
        for start in range(0, len(social), SOCIAL_METADATA_BATCH):
            results.update(self._social_metadata(access_token, social[start : start + SOCIAL_METADATA_BATCH]))
        for urn in urns:
            if urn in results:
                continue
            query_type, counter = ANALYTICS_TURNS[turns.get(urn, 0) % 3]
            results[urn] = PostMetrics(remote_id=urn, **{counter: self._analytics(access_token, urn, query_type)})
        return results

    def _social_metadata(self, access_token: str, urns: list[str]) -> dict[str, PostMetrics]:
        """One BATCH_GET of socialMetadata: every URN answered, from `results` (counts) or
        `errors` (404: gone; any other status: nothing known this time)."""
        keys = ",".join(quote(urn, safe="") for urn in urns)
        url = self.http.url(API_HOST, f"/rest/socialMetadata?ids=List({keys})")
        response = self.http.request("GET", url, headers=self._rest_headers(access_token))
        if response.status_code == 403:
            return {urn: PostMetrics(remote_id=urn) for urn in urns}
        if response.status_code != 200:
            self._raise_for(response, action="socialMetadata")
        body = json_body(response)
        body = body if isinstance(body, dict) else {}
        found = body.get("results") if isinstance(body.get("results"), dict) else {}
        errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
        results: dict[str, PostMetrics] = {}
        for urn in urns:
            node, failure = found.get(urn), errors.get(urn)
            if isinstance(node, dict):
                summary = node.get("commentSummary")
                comments = summary.get("count") if isinstance(summary, dict) else None
                results[urn] = PostMetrics(
                    remote_id=urn,
                    likes=_reaction_total(node.get("reactionSummaries")),
                    comments=comments if isinstance(comments, int) else None,
                )
            elif isinstance(failure, dict) and failure.get("status") == 404:
                results[urn] = PostMetrics(remote_id=urn, exists=False)
            else:
                results[urn] = PostMetrics(remote_id=urn)
        return results

    def _analytics(self, access_token: str, urn: str, query_type: str) -> int | None:
        """One metric of one post: its count, or None when not available (403, no element).
        A 404 is None too: deletion is read from socialMetadata's batch, whose 404 per key
        LinkedIn documents; this finder's is not."""
        kind = "ugc" if urn.startswith("urn:li:ugcPost:") else "share"
        path = (
            f"/rest/memberCreatorPostAnalytics?q=entity&entity=({kind}:{quote(urn, safe='')})"
            f"&queryType={query_type}&aggregation=TOTAL"
        )
        response = self.http.request("GET", self.http.url(API_HOST, path), headers=self._rest_headers(access_token))
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            self._raise_for(response, action="memberCreatorPostAnalytics")
        body = json_body(response)
        elements = body.get("elements") if isinstance(body, dict) else None
        if not isinstance(elements, list):
            return None
        counts = [e["count"] for e in elements if isinstance(e, dict) and isinstance(e.get("count"), int)]
        return sum(counts) if counts else None

    def find_recent_post(self, *, access_token: str, author_id: str, text: str) -> PublishedPost | None:
        """Best effort after an AmbiguousOutcome: the member's latest posts (the
        q=author finder of /rest/posts) searched for this exact commentary. The finder
        needs r_member_social, which LinkedIn grants only to approved apps: without it
        (403) this answers None. Raises TokenExpired, TokenRevoked, RateLimited,
        TransientFailure."""
        urn = f"urn:li:person:{author_id}"
        path = f"/rest/posts?q=author&author={quote(urn, safe='')}&count=20"
        response = self.http.request("GET", self.http.url(API_HOST, path), headers=self._rest_headers(access_token))
        if response.status_code in (403, 404):
            return None
        if response.status_code != 200:
            self._raise_for(response, action="posts by author")
        body = json_body(response)
        for post in (body.get("elements") if isinstance(body, dict) else None) or []:
            commentary = post.get("commentary") if isinstance(post, dict) else None
            # As sent, or as read (hashtag templates and escapes resolved): either is ours.
            if isinstance(commentary, str) and post.get("id") and text in (commentary, _visible(commentary)):
                return PublishedPost(remote_id=str(post["id"]), url=f"{WEB_HOST}/feed/update/{post['id']}")
        return None

    def post_id_from_url(self, url: str) -> str:
        """See the module function `post_id_from_url`."""
        return post_id_from_url(url)

    def verify_post(self, *, access_token: str, author_id: str, remote_id: str) -> PublishedPost:
        """Check that `remote_id` (a share or ugcPost URN) is a published post of
        urn:li:person:{author_id}: GET /rest/posts/{encoded urn}. Returns it with its
        canonical URN and public page. Reading posts needs r_member_social, which LinkedIn
        grants only to approved partner apps: without it (403) raises PostUnverifiable, which
        carries the URN and page (attaching it unchecked is the caller's decision). Raises
        ValueError for a malformed URN, PostNotFound (no such post, or deleted), PostNotYours
        (another member's), TokenExpired, TokenRevoked, RateLimited, TransientFailure."""
        if not POST_URN.fullmatch(remote_id or ""):
            raise ValueError(f"not a LinkedIn post URN: {remote_id!r}")
        page = f"{WEB_HOST}/feed/update/{remote_id}"
        url = self.http.url(API_HOST, f"/rest/posts/{quote(remote_id, safe='')}")
        response = self.http.request("GET", url, headers=self._rest_headers(access_token))
        if response.status_code == 403:
            raise PostUnverifiable(
                self.network,
                "LinkedIn does not let this app read posts, so we could not check that this post is "
                "on your LinkedIn account.",
                remote_id=remote_id,
                url=page,
                status=403,
            )
        if response.status_code in (404, 410):
            raise PostNotFound(self.network, POST_NOT_FOUND, status=response.status_code)
        if response.status_code != 200:
            self._raise_for(response, action="get post")
        body = json_body(response)
        if not isinstance(body, dict) or not body.get("author"):
            raise TransientFailure(self.network, "get post: answer without the post's author", status=200)
        if body.get("lifecycleState", "PUBLISHED") != "PUBLISHED":
            raise PostNotFound(self.network, POST_NOT_FOUND, status=200)
        if body["author"] != f"urn:li:person:{author_id}":
            raise PostNotYours(self.network, "That post is not on your LinkedIn account.", status=200)
        urn = str(body.get("id") or remote_id)
        urn = urn if POST_URN.fullmatch(urn) else remote_id
        return PublishedPost(remote_id=urn, url=f"{WEB_HOST}/feed/update/{urn}")

    def delete(self, *, access_token: str, remote_id: str) -> None:
        """Delete the post `remote_id` (a share or ugcPost URN); one already gone is fine.
        Raises PermanentRejection("forbidden"), TokenExpired, TokenRevoked, RateLimited,
        TransientFailure."""
        url = self.http.url(API_HOST, f"/rest/posts/{quote(remote_id, safe='')}")
        headers = {**self._rest_headers(access_token), "X-RestLi-Method": "DELETE"}
        response = self.http.request("DELETE", url, headers=headers)
        if response.status_code in (200, 202, 204, 404, 410):
            return
        self._raise_for(response, action="delete")


def _reaction_total(summaries: Any) -> int | None:
    """Sum of `count` over reactionSummaries (a map by reaction type, or a list)."""
    if isinstance(summaries, dict):
        items = list(summaries.values())
    elif isinstance(summaries, list):
        items = summaries
    else:
        return 0 if summaries is None else None
    return sum(int(item.get("count") or 0) for item in items if isinstance(item, dict))


# --- pasted post links ---------------------------------------------------------------------

POST_URN = re.compile(r"urn:li:(?:share|ugcPost):\d{1,20}")
_POST_PATH = re.compile(r"/(?:embed/)?feed/update/(urn:li:(?:share|ugcPost):\d{1,20})/?")
_ACTIVITY = re.compile(r"urn:li:activity:\d|-activity-\d")
EMBED_HINT = "On LinkedIn, open the post's ⋯ menu, choose “Embed this post” and paste the link shown there."
NOT_A_POST_LINK = "That is not a link to a LinkedIn post. " + EMBED_HINT
ACTIVITY_LINK = (
    "This LinkedIn link points to the post's activity, which we cannot match to the post itself. " + EMBED_HINT
)
POST_NOT_FOUND = "We could not find that post on LinkedIn. Check the link, and that the post was not deleted."


def post_id_from_url(url: str) -> str:
    """The post URN (urn:li:share:... or urn:li:ugcPost:..., what publish() returns) that a
    pasted LinkedIn link names: https://www.linkedin.com/feed/update/{urn}/ (URN plain or
    URL-encoded, any query), the embed link /embed/feed/update/{urn} or the whole embed code.
    No network call. Raises PostLinkInvalid, with words for the employee, for anything else.
    The links LinkedIn's "Copy link to post" gives (/posts/{slug}-activity-{id}-{code},
    /feed/update/urn:li:activity:{id}) are refused: an activity id is not the post's id
    (the numbers differ) and mapping one to the other needs an API this app may not call;
    the embed link names the post itself."""
    parts = split_link(url or "")
    host = (parts.hostname or "") if parts else ""
    if host != "linkedin.com" and not host.endswith(".linkedin.com"):
        raise PostLinkInvalid("linkedin", NOT_A_POST_LINK)
    path = parts.path
    for _ in range(3):  # encoded once by LinkedIn, sometimes twice by what it was copied from
        if "%" not in path:
            break
        path = unquote(path)
    found = _POST_PATH.fullmatch(path)
    if found:
        return found.group(1)
    if _ACTIVITY.search(path):
        raise PostLinkInvalid("linkedin", ACTIVITY_LINK)
    raise PostLinkInvalid("linkedin", NOT_A_POST_LINK)
