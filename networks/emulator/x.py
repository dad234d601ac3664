"""X (Twitter) API v2 under /x: OAuth 2.0 with PKCE (twitter.com / api.x.com) and the API.

Errors are problem details `{"title", "detail", "type", "status"}` sent as
application/problem+json. Every API answer carries x-rate-limit-* headers (15-minute
windows per user and endpoint); posting also x-user-limit-24hour-*. Like the real API,
URLs in a returned tweet text are wrapped as https://t.co/... (the state keeps the
original text).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from datetime import UTC, datetime
from urllib.parse import unquote

from networks.emulator import media as media_store
from networks.emulator import pages
from networks.emulator.server import (
    OAuthSpec,
    Request,
    Response,
    authorize,
    first_values,
    json_response,
    route,
)
from networks.emulator.state import Post, State, iso, post_metrics, random_alnum, words
from networks.text import x_weighted_length

NAME = "x"
ROUTES: list = []
KNOWN_SCOPES = words(
    "tweet.read tweet.write tweet.moderate.write users.read users.email follows.read follows.write "
    "offline.access space.read mute.read mute.write like.read like.write list.read list.write block.read "
    "block.write bookmark.read bookmark.write media.write dm.read dm.write"
)
ACCESS_LIFETIME = 7200
MAX_WEIGHT = 280
WINDOW = 900
LIMITS = {
    "POST /2/tweets": 100,
    "DELETE /2/tweets": 50,
    "GET /2/tweets": 900,
    "GET /2/users/me": 75,
    "GET /2/users/tweets": 900,
}
APP_LIMITS = {"GET /2/tweets": 450}  # app-only tokens: per app and 15-minute window
POSTS_PER_USER_DAY = 300
# Fields X gives only to the author's user-context token, for posts under 30 days old.
PRIVATE_FIELDS = words("non_public_metrics organic_metrics promoted_metrics")
PRIVATE_FIELDS_DAYS = 30
UNSUPPORTED_AUTH_TYPE = "https://api.twitter.com/2/problems/unsupported-authentication"
FIELD_AUTH_TYPE = "https://api.twitter.com/2/problems/not-authorized-for-field"
TWEET_FIELDS = words(
    "article attachments author_id card_uri community_id context_annotations conversation_id created_at "
    "display_text_range edit_controls edit_history_tweet_ids entities geo id in_reply_to_user_id lang "
    "media_metadata non_public_metrics note_tweet organic_metrics possibly_sensitive promoted_metrics "
    "public_metrics referenced_tweets reply_settings scopes source text withheld"
)
LOOKUP_PARAMS = {"ids", "expansions", "tweet.fields", "media.fields", "poll.fields", "place.fields", "user.fields"}
TWEET_BODY_FIELDS = words(
    "text reply quote_tweet_id media poll reply_settings for_super_followers_only "
    "direct_message_deep_link geo nullcast card_uri community_id share_with_followers made_with_ai "
    "paid_partnership"
)
URL_RE = re.compile(r"https?://[^\s]+", re.IGNORECASE)
INVALID_TYPE = "https://api.twitter.com/2/problems/invalid-request"
NOT_FOUND_TYPE = "https://api.twitter.com/2/problems/resource-not-found"


def problem(status: int, title: str, detail: str, type_: str = "about:blank", headers=(), **extra) -> Response:
    body = {"title": title, "detail": detail, "type": type_, "status": status, **extra}
    return json_response(status, body, content_type="application/problem+json", headers=headers)


def invalid(message: str, **extra) -> Response:
    errors = [{"message": message, **extra}]
    return json_response(
        400,
        {
            "errors": errors,
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": INVALID_TYPE,
        },
        content_type="application/problem+json",
    )


def ok(status: int, data: dict, headers=()) -> Response:
    return json_response(status, data, content_type="application/json; charset=utf-8", headers=headers)


def oauth_error(status: int, error: str, description: str) -> Response:
    return json_response(status, {"error": error, "error_description": description})


# --- hooks used by the server ------------------------------------------------------------------


def account_ids(store: State, req: Request) -> list[str]:
    token = store.token(NAME, req.bearer())
    return [token.account_id] if token else []


def fault_response(store: State, req: Request, fault) -> Response:
    if fault.kind == "rate_limit":
        reset = int(store.now() + fault.reset_in)
        headers = [("x-rate-limit-limit", 100), ("x-rate-limit-remaining", 0), ("x-rate-limit-reset", reset)]
        return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
    if fault.kind == "forbidden":  # e.g. an access level that may not read timelines
        return problem(
            403,
            "Client Forbidden",
            "This request must be made using an approved developer account that is enrolled in the requested endpoint.",
            "https://api.twitter.com/2/problems/client-forbidden",
            reason="client-not-enrolled",
        )
    return server_error()


def server_error() -> Response:
    return problem(500, "Internal Server Error", "Internal Server Error")


def not_found(req: Request, method_not_allowed: bool = False) -> Response:
    if method_not_allowed:
        return problem(405, "Method Not Allowed", f"{req.method} is not allowed on {req.path}")
    return problem(404, "Not Found Error", f"No route for {req.method} {req.path}", NOT_FOUND_TYPE)


# --- OAuth -------------------------------------------------------------------------------------


def _grant(app, requested: list[str]):
    allowed = app.scopes if app.scopes is not None else KNOWN_SCOPES
    return [s for s in requested if s in allowed]


SPEC = OAuthSpec(
    network=NAME,
    separator=" ",
    known_scopes=KNOWN_SCOPES,
    grant=_grant,
    code_prefix="",
    deny_params={"error": "access_denied", "error_description": "The user denied the request"},
    pkce=True,
)


@route(ROUTES, "GET", r"/i/oauth2/authorize", kind="page")
@route(ROUTES, "POST", r"/i/oauth2/authorize", kind="page")
def authorization(store: State, req: Request) -> Response:
    return authorize(store, req, SPEC)


def _client(store: State, req: Request, form: dict):
    """The app, authenticated: HTTP Basic with the secret for confidential clients,
    client_id in the body for public ones. Returns the app or an error response."""
    basic_id = basic_secret = None
    scheme, _, value = (req.header("Authorization") or "").partition(" ")
    if scheme.lower() == "basic":
        try:
            basic_id, _, basic_secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except ValueError:
            return oauth_error(401, "unauthorized_client", "Malformed authorization header")
    client_id = basic_id or form.get("client_id")
    if basic_id and form.get("client_id") and form["client_id"] != basic_id:
        return oauth_error(400, "invalid_request", "client_id does not match the authorization header")
    app = store.app(NAME, client_id)
    if app is None:
        return oauth_error(401, "unauthorized_client", "Missing valid authorization header")
    if app.client_secret and (basic_id is None or basic_secret != app.client_secret):
        return oauth_error(401, "unauthorized_client", "Missing valid authorization header")
    return app


@route(ROUTES, "POST", r"/2/oauth2/token", kind="oauth")
def token(store: State, req: Request) -> Response:
    if req.content_type != "application/x-www-form-urlencoded":
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
    form, repeated = first_values(req.form())
    if repeated:
        return oauth_error(400, "invalid_request", f"Duplicate parameter [{repeated[0]}].")
    app = _client(store, req, form)
    if isinstance(app, Response):
        return app
    grant = form.get("grant_type")
    now = store.now()
    if grant == "authorization_code":
        for name in ("code", "redirect_uri", "code_verifier"):
            if not form.get(name):
                return oauth_error(400, "invalid_request", f"Missing required parameter [{name}].")
        code = store.codes.get(form["code"])
        bad = "Value passed for the authorization code was invalid."
        if code is None or code.network != NAME or code.client_id != app.client_id or code.used:
            return oauth_error(400, "invalid_request", bad)
        code.used = True  # presented once, spent, even if the rest is wrong
        verifier = form["code_verifier"]
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if (
            code.redirect_uri != form["redirect_uri"]
            or code.expires_at <= now
            or not re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier)
            or digest != code.code_challenge
        ):
            return oauth_error(400, "invalid_request", bad)
        account_id, scopes = code.account_id, code.scopes
    elif grant == "refresh_token":
        if not form.get("refresh_token"):
            return oauth_error(400, "invalid_request", "Missing required parameter [refresh_token].")
        old = store.token(NAME, form["refresh_token"], kind="refresh")
        if old is None or old.client_id != app.client_id or old.spent or old.revoked:
            return oauth_error(400, "invalid_request", "Value passed for the token was invalid.")
        old.spent = True  # refresh tokens rotate: this one is used up
        account_id, scopes = old.account_id, old.scopes
        store.count(NAME, "refreshes")
    else:
        return oauth_error(400, "unsupported_grant_type", f"Unsupported grant_type [{grant}].")
    access = store.issue_token(
        NAME,
        "access",
        _token_value(),
        lifetime=ACCESS_LIFETIME,
        client_id=app.client_id,
        account_id=account_id,
        scopes=scopes,
    )
    body = {
        "token_type": "bearer",
        "expires_in": ACCESS_LIFETIME,
        "access_token": access.value,
        "scope": " ".join(scopes),
    }
    if "offline.access" in scopes:
        body["refresh_token"] = store.issue_token(
            NAME,
            "refresh",
            _token_value(),
            lifetime=None,
            client_id=app.client_id,
            account_id=account_id,
            scopes=scopes,
        ).value
    return json_response(200, body)


@route(ROUTES, "POST", r"/oauth2/token", kind="oauth")
def app_only_token(store: State, req: Request) -> Response:
    """OAuth 2.0 App-Only: HTTP Basic with the app's API Key and Secret (the consumer
    credentials, not the OAuth 2.0 client's), `grant_type=client_credentials`. The same
    bearer token comes back each time until it is invalidated, as X documents."""
    scheme, _, value = (req.header("Authorization") or "").partition(" ")
    key = secret = None
    if scheme.lower() == "basic":
        try:
            key, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except ValueError:
            key = None
    app = store.app_by_consumer_key(NAME, unquote(key or ""))
    if app is None or not app.consumer_secret or unquote(secret or "") != app.consumer_secret:
        return _v1_error(403, 99, "authenticity_token_error", "Unable to verify your credentials")
    form, _ = first_values(req.form())
    if form.get("grant_type") != "client_credentials":
        return _v1_error(403, 170, "forbidden_missing_parameter", "Missing required parameter: grant_type")
    token = next(
        (t for t in store.tokens.values() if t.network == NAME and t.app_only and t.client_id == app.client_id),
        None,
    )
    if token is None or token.revoked:
        token = store.issue_token(
            NAME,
            "access",
            "A" * 22 + random_alnum(90),
            lifetime=None,
            client_id=app.client_id,
            account_id="",
            scopes=[],
            app_only=True,
        )
    return json_response(200, {"token_type": "bearer", "access_token": token.value})


def _v1_error(status: int, code: int, label: str, message: str) -> Response:
    return json_response(status, {"errors": [{"code": code, "label": label, "message": message}]})


def _token_value() -> str:
    return base64.urlsafe_b64encode(random_alnum(66).encode()).decode().rstrip("=") + "MToxOjE"


@route(ROUTES, "POST", r"/2/oauth2/revoke", kind="oauth")
def revoke(store: State, req: Request) -> Response:
    form, _ = first_values(req.form())
    app = _client(store, req, form)
    if isinstance(app, Response):
        return app
    if not form.get("token"):
        return oauth_error(400, "invalid_request", "Missing required parameter [token].")
    found = store.tokens.get(form["token"])
    if found and found.network == NAME and found.client_id == app.client_id:
        found.revoked = True
        store.count(NAME, "revocations")
    return json_response(200, {"revoked": True})


# --- API helpers -------------------------------------------------------------------------------


def _authenticate(store: State, req: Request, *scopes: str, app_only_ok: bool = False):
    """The token and its user (None for an app-only token, which only `app_only_ok`
    endpoints take), or the error answer."""
    token = store.token(NAME, req.bearer())
    now = store.now()
    if token is None or token.revoked or token.expired(now):
        return problem(401, "Unauthorized", "Unauthorized")
    if token.app_only:
        if not app_only_ok:
            return problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for this endpoint.  Supported "
                "authentication types are [OAuth 1.0a User Context, OAuth 2.0 User Context].",
                UNSUPPORTED_AUTH_TYPE,
            )
        store.count(NAME, "api_calls")
        return token, None
    if any(s not in token.scopes for s in scopes):
        return problem(403, "Forbidden", "Forbidden")
    store.count(NAME, "api_calls")
    return token, store.account(NAME, token.account_id)


def _limit(store: State, endpoint: str, user_id: str, *, app: str | None = None) -> tuple[bool, list]:
    """One call on the endpoint's 15-minute window: the user's, or with `app` (an app-only
    token's client id) the app's, whose limit is its own (APP_LIMITS)."""
    limit = APP_LIMITS[endpoint] if app else LIMITS[endpoint]
    allowed, remaining, reset = store.hit((NAME, endpoint, f"app:{app}" if app else user_id), limit, WINDOW)
    headers = [
        ("x-rate-limit-limit", limit),
        ("x-rate-limit-remaining", remaining),
        ("x-rate-limit-reset", int(reset)),
    ]
    return allowed, headers


def weighted_length(text: str) -> int:
    """twitter-text v3 weighting, from the one implementation the product uses everywhere
    (networks.text): the composer's count and the emulator's refusal can never disagree."""
    return x_weighted_length(text)


def _tco(post: Post) -> str:
    def wrap(match: re.Match) -> str:
        url = match.group(0).rstrip(".,;:!?'\")]")
        short = hashlib.sha256(f"{post.id}{url}".encode()).hexdigest()[:10]
        return "https://t.co/" + short + match.group(0)[len(url) :]

    return URL_RE.sub(wrap, post.text)


def _tweet_json(post: Post, fields: set[str], now: float) -> dict:
    data = {"id": post.id, "text": _tco(post), "edit_history_tweet_ids": [post.id]}
    if "public_metrics" in fields:
        m = post_metrics(post, now)
        data["public_metrics"] = {
            "retweet_count": m["reposts"],
            "reply_count": m["comments"],
            "like_count": m["likes"],
            "quote_count": m["quotes"],
            "bookmark_count": m["bookmarks"],
            "impression_count": m["impressions"],
        }
    if "non_public_metrics" in fields:
        m = post_metrics(post, now)
        data["non_public_metrics"] = {
            "impression_count": m["impressions"],
            "url_link_clicks": m["clicks"],
            "user_profile_clicks": m["clicks"] // 3,
        }
    if "organic_metrics" in fields:
        m = post_metrics(post, now)
        data["organic_metrics"] = {
            "impression_count": m["impressions"],
            "like_count": m["likes"],
            "reply_count": m["comments"],
            "retweet_count": m["reposts"],
            "url_link_clicks": m["clicks"],
            "user_profile_clicks": m["clicks"] // 3,
        }
    if "created_at" in fields:
        data["created_at"] = iso(post.created_at).replace("Z", "")[:23] + "Z"
    if "author_id" in fields:
        data["author_id"] = post.author
    if "entities" in fields and post.link:
        data["entities"] = {
            "urls": [
                {"url": u, "expanded_url": e}
                for u, e in zip(URL_RE.findall(_tco(post)), URL_RE.findall(post.text), strict=False)
            ]
        }
    return data


def _fields(req: Request) -> set[str] | Response:
    fields = {f for f in (req.arg("tweet.fields") or "").split(",") if f}
    unknown = sorted(fields - TWEET_FIELDS)
    if unknown:
        return invalid(
            f"The `tweet.fields` query parameter value [{unknown[0]}] is not one of [{','.join(sorted(TWEET_FIELDS))}]",
            parameters={"tweet.fields": [unknown[0]]},
        )
    return fields


# --- API ---------------------------------------------------------------------------------------


@route(ROUTES, "GET", r"/2/users/me")
def me(store: State, req: Request) -> Response:
    auth = _authenticate(store, req, "tweet.read", "users.read")
    if isinstance(auth, Response):
        return auth
    _, account = auth
    allowed, headers = _limit(store, "GET /2/users/me", account.id)
    if not allowed:
        return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
    data = {"id": account.id, "name": account.name, "username": account.username}
    if "profile_image_url" in (req.arg("user.fields") or ""):
        data["profile_image_url"] = account.picture
    return ok(200, {"data": data}, headers)


@route(ROUTES, "POST", r"/2/tweets")
def create_tweet(store: State, req: Request) -> Response:
    auth = _authenticate(store, req, "tweet.read", "tweet.write", "users.read")
    if isinstance(auth, Response):
        return auth
    token, account = auth
    allowed, headers = _limit(store, "POST /2/tweets", account.id)
    day_ok, day_left, day_reset = store.hit((NAME, "posts-24h", account.id), POSTS_PER_USER_DAY, 86400)
    headers += [
        ("x-user-limit-24hour-limit", POSTS_PER_USER_DAY),
        ("x-user-limit-24hour-remaining", day_left),
        ("x-user-limit-24hour-reset", int(day_reset)),
    ]
    if not (allowed and day_ok):
        return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
    if req.content_type != "application/json":
        return invalid("Content-Type must be application/json")
    try:
        body = req.json()
    except ValueError:
        return invalid("The request body is not valid JSON")
    if not isinstance(body, dict):
        return invalid("The request body must be a JSON object")
    for name in sorted(set(body) - TWEET_BODY_FIELDS):
        return invalid(f"$.{name}: is not defined in the schema and the schema does not allow additional properties")
    text = body.get("text")
    pictures = _tweet_media(store, body, account.id)
    if isinstance(pictures, Response):
        return pictures
    if not isinstance(text, str) or not text.strip():
        return invalid("Requires one of the following fields: text, media, poll, quote_tweet_id")
    if weighted_length(text) > MAX_WEIGHT:
        return problem(
            403,
            "Forbidden",
            "Your Tweet text is too long. For more information on how Twitter "
            "determines text length see https://github.com/twitter/twitter-text.",
            headers=headers,
        )
    duplicate = problem(
        403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.", headers=headers
    )
    if store.take_fault(NAME, req.path, req.method, [account.id], api=True, kinds=("duplicate",)):
        return duplicate
    if any(not p.deleted and p.text == text for p in store.posts_by(NAME, account.id)):
        return duplicate
    urls = URL_RE.findall(text)
    post = store.add_post(
        Post(
            network=NAME,
            id=store.snowflake(),
            author=account.id,
            account_id=account.id,
            text=text,
            link=urls[0].rstrip(".,;:!?'\")]") if urls else None,
            created_at=store.now(),
            client_id=token.client_id,
            raw=text,
        )
    )
    if pictures:
        post.extra["media"] = [media_store.attached(m, post.id) for m in pictures]
    return ok(201, {"data": _tweet_json(post, set(), store.now())}, headers)


@route(ROUTES, "GET", r"/2/tweets")
def lookup(store: State, req: Request) -> Response:
    auth = _authenticate(store, req, "tweet.read", "users.read", app_only_ok=True)
    if isinstance(auth, Response):
        return auth
    token, account = auth
    if account is None:
        allowed, headers = _limit(store, "GET /2/tweets", "", app=token.client_id)
    else:
        allowed, headers = _limit(store, "GET /2/tweets", account.id)
    if not allowed:
        return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
    for name in sorted(set(req.query) - LOOKUP_PARAMS):
        return invalid(f"The query parameter [{name}] is not one of [{','.join(sorted(LOOKUP_PARAMS))}]")
    ids = [i for i in (req.arg("ids") or "").split(",")]
    if ids == [""]:
        return invalid("The `ids` query parameter can not be empty", parameters={"ids": []})
    if len(ids) > 100:
        return invalid(f"size [{len(ids)}] is not between 1 and 100", parameters={"ids": [req.arg("ids")]})
    for tweet_id in ids:
        if not re.fullmatch(r"[0-9]{1,19}", tweet_id):
            return invalid(
                f"The `ids` query parameter value [{tweet_id}] does not match ^[0-9]{{1,19}}$",
                parameters={"ids": [tweet_id]},
            )
    fields = _fields(req)
    if isinstance(fields, Response):
        return fields
    store.count(NAME, "metrics_reads")
    now, data, errors = store.now(), [], []
    for tweet_id in dict.fromkeys(ids):
        post = store.post(NAME, tweet_id)
        if post and not post.deleted:
            refused = _private_fields_refused(post, fields, account, now)
            data.append(_tweet_json(post, fields - set(refused), now))
            errors.extend(_field_error(post.id, name) for name in refused)
        else:
            errors.append(
                {
                    "value": tweet_id,
                    "detail": f"Could not find tweet with ids: [{tweet_id}].",
                    "title": "Not Found Error",
                    "resource_type": "tweet",
                    "parameter": "ids",
                    "resource_id": tweet_id,
                    "type": NOT_FOUND_TYPE,
                }
            )
    body = ({"data": data} if data else {}) | ({"errors": errors} if errors else {})
    return ok(200, body, headers)


def _private_fields_refused(post: Post, fields: set[str], account, now: float) -> list[str]:
    """The private metric fields asked of `post` that this caller may not read: all of
    them for an app-only token or another user; the author's own only while the post is
    under 30 days old."""
    asked = sorted(fields & PRIVATE_FIELDS)
    own = account is not None and account.id == post.author
    if own and now - post.created_at < PRIVATE_FIELDS_DAYS * 86400:
        return []
    return asked


def _field_error(tweet_id: str, field_name: str) -> dict:
    return {
        "value": tweet_id,
        "detail": f"Sorry, you are not authorized to access '{field_name}' on a Tweet.",
        "title": "Field Authorization Error",
        "resource_type": "tweet",
        "parameter": field_name,
        "resource_id": tweet_id,
        "section": "data",
        "type": FIELD_AUTH_TYPE,
    }


@route(ROUTES, "GET", r"/2/tweets/(?P<tweet_id>[^/]+)")
def lookup_one(store: State, req: Request, tweet_id: str) -> Response:
    req.query = {**req.query, "ids": [tweet_id]}
    response = lookup(store, req)
    if response.status == 200:  # one tweet: "data" is an object, not a list; errors name `id`
        body = json.loads(response.body)
        if "data" in body:
            body["data"] = body["data"][0]
        for error in body.get("errors", []):
            error.update(parameter="id", detail=f"Could not find tweet with id: [{tweet_id}].")
        response.body = json.dumps(body, separators=(",", ":")).encode()
    return response


@route(ROUTES, "DELETE", r"/2/tweets/(?P<tweet_id>[^/]+)")
def delete(store: State, req: Request, tweet_id: str) -> Response:
    auth = _authenticate(store, req, "tweet.read", "tweet.write", "users.read")
    if isinstance(auth, Response):
        return auth
    _, account = auth
    allowed, headers = _limit(store, "DELETE /2/tweets", account.id)
    if not allowed:
        return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
    if not re.fullmatch(r"[0-9]{1,19}", tweet_id):
        return invalid(f"The `id` path parameter value [{tweet_id}] does not match ^[0-9]{{1,19}}$")
    post = store.post(NAME, tweet_id)
    if post is None or post.deleted:
        return problem(
            404,
            "Not Found Error",
            f"Could not find tweet with id: [{tweet_id}].",
            NOT_FOUND_TYPE,
            headers=headers,
            resource_id=tweet_id,
            resource_type="tweet",
        )
    if post.author != account.id:
        return problem(403, "Forbidden", "You are not allowed to delete a Tweet you did not create.", headers=headers)
    post.deleted, post.deleted_at = True, store.now()
    store.count(NAME, "posts_deleted")
    return ok(200, {"data": {"deleted": True}}, headers)


@route(ROUTES, "GET", r"/2/users/(?P<user_id>[0-9]+)/tweets")
def user_tweets(store: State, req: Request, user_id: str) -> Response:
    auth = _authenticate(store, req, "tweet.read", "users.read")
    if isinstance(auth, Response):
        return auth
    _, account = auth
    allowed, headers = _limit(store, "GET /2/users/tweets", account.id)
    if not allowed:
        return problem(429, "Too Many Requests", "Too Many Requests", headers=headers)
    max_results = req.arg("max_results") or "10"
    if not max_results.isdigit() or not 5 <= int(max_results) <= 100:
        return invalid(f"The `max_results` query parameter value [{max_results}] is not between 5 and 100")
    fields = _fields(req)
    if isinstance(fields, Response):
        return fields
    posts = [p for p in store.posts_by(NAME, user_id) if not p.deleted][: int(max_results)]
    meta = {"result_count": len(posts)}
    if posts:
        meta.update(newest_id=posts[0].id, oldest_id=posts[-1].id)
        return ok(200, {"data": [_tweet_json(p, fields, store.now()) for p in posts], "meta": meta}, headers)
    return ok(200, {"meta": meta}, headers)


# --- assisted share (no API credentials) -------------------------------------------------------


@route(ROUTES, "GET", r"/intent/(?:tweet|post)", kind="page")
def intent(store: State, req: Request) -> Response:
    text, url = req.arg("text") or "", req.arg("url") or ""
    if not text and not url:
        return pages.error_page(400, "X share error", "Give text and/or url.")
    store.shares.append(
        {
            "network": NAME,
            "kind": "intent",
            "url": url or None,
            "text": text or None,
            "at": datetime.fromtimestamp(store.now(), UTC).isoformat(),
        }
    )
    store.count(NAME, "assisted_shares")
    return pages.shared_page(NAME, url, text)


# --- media (v2) --------------------------------------------------------------------------------
# https://docs.x.com/x-api/media/upload-media (POST /2/media/upload: one request, JSON body
# {media: base64, media_category: tweet_image, media_type}), https://docs.x.com/x-api/media/
# create-media-metadata (POST /2/media/metadata {id, metadata: {alt_text: {text}}}), and the
# media best practices: images up to 5 MB; media_type for tweet_image is one of jpeg, bmp,
# png, webp, pjpeg, tiff (a GIF goes through the chunked flow as tweet_gif, not emulated);
# the id is valid for `expires_after_secs` (24 hours here), after which a post naming it is
# refused with "Your media IDs are invalid."; dimensions 4x4 to 8192x8192 (the v1.1 upload
# guide's image constraints). OAuth 2.0 needs the media.write scope. Alt text: 1000
# characters at most.

MEDIA_TYPES = ("image/jpeg", "image/bmp", "image/png", "image/webp", "image/pjpeg", "image/tiff")
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MEDIA_LIFETIME = 86400
MAX_ALT_TEXT = 1000
MAX_SIDE = 8192


def _tweet_media(store: State, body: dict, user_id: str):
    """The media a tweet names (validated: known to X, the author's, not expired), or the error."""
    if "media" not in body:
        return []
    ids = body["media"].get("media_ids") if isinstance(body["media"], dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= 4 or not all(isinstance(i, str) for i in ids):
        return invalid("$.media.media_ids: must be an array of 1 to 4 media id strings")
    found = [media_store.usable(store, NAME, i, user_id) for i in ids]
    if not all(found):
        return invalid("Your media IDs are invalid.")
    return found


@route(ROUTES, "POST", r"/2/media/upload")
def upload_media(store: State, req: Request) -> Response:
    auth = _authenticate(store, req, "media.write")
    if isinstance(auth, Response):
        return auth
    _, account = auth
    if req.content_type != "application/json":
        return invalid("Content-Type must be application/json")
    try:
        body = req.json()
        data = base64.b64decode(body.get("media") or "", validate=True) if isinstance(body, dict) else b""
    except (ValueError, binascii.Error):
        return invalid("$.media: must be the file, base64-encoded")
    if body.get("media_category") != "tweet_image":
        return invalid("$.media_category: must be one of [tweet_image, dm_image, subtitles]")
    declared = body.get("media_type")
    if declared is not None and declared not in MEDIA_TYPES:
        return invalid(f"$.media_type: {declared!r} is not one of [{', '.join(MEDIA_TYPES)}]")
    if not data:
        return invalid("$.media: is required")
    if len(data) > MAX_IMAGE_BYTES:
        return invalid(f"File size exceeds {MAX_IMAGE_BYTES} bytes.")
    kind, width, height = media_store.sniff(data)
    if kind not in MEDIA_TYPES:
        return invalid(f"Unsupported media type {kind or 'unknown'} for tweet_image.")
    if not (4 <= width <= MAX_SIDE and 4 <= height <= MAX_SIDE):
        return invalid(f"Image dimensions {width}x{height} are not within 4x4 and {MAX_SIDE}x{MAX_SIDE}.")
    now = store.now()
    picture = media_store.add(
        store,
        media_store.Media(
            network=NAME,
            id=store.snowflake(),
            account_id=account.id,
            mime_type=kind,
            size=len(data),
            width=width,
            height=height,
            created_at=now,
            expires_at=now + MEDIA_LIFETIME,
            uploaded=True,
        ),
    )
    return ok(
        200,
        {
            "data": {
                "id": picture.id,
                "media_key": f"3_{picture.id}",
                "size": picture.size,
                "expires_after_secs": MEDIA_LIFETIME,
                "image": {"image_type": kind, "w": width, "h": height},
            }
        },
    )


def _media_json_call(store: State, req: Request):
    """A media call with a JSON body by a user who granted media.write: (account, body as a
    dict), or the error answer."""
    auth = _authenticate(store, req, "media.write")
    if isinstance(auth, Response):
        return auth
    try:
        body = req.json()
    except ValueError:
        return invalid("The request body is not valid JSON")
    return auth[1], body if isinstance(body, dict) else {}


@route(ROUTES, "POST", r"/2/media/metadata")
def media_metadata(store: State, req: Request) -> Response:
    call = _media_json_call(store, req)
    if isinstance(call, Response):
        return call
    account, body = call
    media_id = body.get("id")
    alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
    if not isinstance(media_id, str) or not isinstance(alt, str):
        return invalid("$.id and $.metadata.alt_text.text are required")
    if len(alt) > MAX_ALT_TEXT:
        return invalid(f"$.metadata.alt_text.text: must be at most {MAX_ALT_TEXT} characters")
    picture = media_store.usable(store, NAME, media_id, account.id)
    if picture is None:
        return invalid("Your media IDs are invalid.")
    picture.alt_text = alt
    return ok(200, {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}})


# The chunked flow (https://docs.x.com/x-api/media/initialize-media-upload, .../append-media-upload,
# .../finalize-media-upload): initialize {media_type, total_bytes, media_category} -> data.id;
# append multipart {media (file), segment_index 0-999}, each segment 5 MB at most; finalize
# -> data {id, media_key, size, expires_after_secs}. It also takes GIFs as tweet_gif (15 MB).
# The declared size and type are checked at initialize, the bytes themselves at finalize.

CHUNKED_LIMITS = {"tweet_image": (MEDIA_TYPES, MAX_IMAGE_BYTES), "tweet_gif": (("image/gif",), 15 * 1024 * 1024)}
MAX_SEGMENT_BYTES = 5 * 1024 * 1024


@route(ROUTES, "POST", r"/2/media/upload/initialize")
def initialize_media(store: State, req: Request) -> Response:
    call = _media_json_call(store, req)
    if isinstance(call, Response):
        return call
    account, body = call
    category, media_type, total = body.get("media_category"), body.get("media_type"), body.get("total_bytes")
    if category not in CHUNKED_LIMITS:
        return invalid(f"$.media_category: images are one of [{', '.join(CHUNKED_LIMITS)}] here")
    types, limit = CHUNKED_LIMITS[category]
    if media_type not in types:
        return invalid(f"Unsupported media type {media_type!r} for {category}.")
    if not isinstance(total, int) or total <= 0:
        return invalid("$.total_bytes: must be a positive integer")
    if total > limit:
        return invalid(f"File size exceeds {limit} bytes.")
    now = store.now()
    picture = media_store.add(
        store,
        media_store.Media(
            network=NAME,
            id=store.snowflake(),
            account_id=account.id,
            mime_type=media_type,
            created_at=now,
            expires_at=now + MEDIA_LIFETIME,
            total_bytes=total,
            category=category,
        ),
    )
    return ok(200, {"data": {"id": picture.id, "media_key": f"3_{picture.id}", "expires_after_secs": MEDIA_LIFETIME}})


def _session(store: State, req: Request, media_id: str):
    """The account's chunked upload still open, or the error answer."""
    auth = _authenticate(store, req, "media.write")
    if isinstance(auth, Response):
        return auth
    picture = media_store.get(store, NAME, media_id)
    if picture is None or picture.account_id != auth[1].id or not picture.category or picture.uploaded:
        return invalid("Your media IDs are invalid.")
    if picture.expires_at <= store.now():
        return invalid("Your media IDs are invalid.")
    return picture


@route(ROUTES, "POST", r"/2/media/upload/(?P<media_id>[0-9]+)/append")
def append_media(store: State, req: Request, media_id: str) -> Response:
    picture = _session(store, req, media_id)
    if isinstance(picture, Response):
        return picture
    parts = media_store.multipart(req)
    index = (parts.get("segment_index") or b"").decode()
    if "media" not in parts or not index.isdigit() or not 0 <= int(index) <= 999:
        return invalid("$.media (a file) and $.segment_index (0 to 999) are required as multipart/form-data")
    if len(parts["media"]) > MAX_SEGMENT_BYTES:
        return invalid(f"A segment may be {MAX_SEGMENT_BYTES} bytes at most.")
    picture.segments[int(index)] = parts["media"]
    if sum(len(s) for s in picture.segments.values()) > picture.total_bytes:
        return invalid("The segments are larger than total_bytes.")
    return ok(200, {"data": {"expires_at": int(picture.expires_at)}})


@route(ROUTES, "POST", r"/2/media/upload/(?P<media_id>[0-9]+)/finalize")
def finalize_media(store: State, req: Request, media_id: str) -> Response:
    picture = _session(store, req, media_id)
    if isinstance(picture, Response):
        return picture
    indexes = sorted(picture.segments)
    data = b"".join(picture.segments[i] for i in indexes)
    if indexes != list(range(len(indexes))) or len(data) != picture.total_bytes:
        return invalid(
            f"File size {len(data)} does not match total_bytes {picture.total_bytes}, or a segment is missing."
        )
    kind, width, height = media_store.sniff(data)
    types, _ = CHUNKED_LIMITS[picture.category]
    if kind not in types:
        return invalid(f"Unsupported media type {kind or 'unknown'} for {picture.category}.")
    if not (4 <= width <= MAX_SIDE and 4 <= height <= MAX_SIDE):
        return invalid(f"Image dimensions {width}x{height} are not within 4x4 and {MAX_SIDE}x{MAX_SIDE}.")
    picture.mime_type, picture.size, picture.width, picture.height = kind, len(data), width, height
    picture.uploaded = True
    left = int(picture.expires_at - store.now())
    return ok(
        200,
        {"data": {"id": picture.id, "media_key": f"3_{picture.id}", "size": picture.size, "expires_after_secs": left}},
    )
