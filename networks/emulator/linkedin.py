"""LinkedIn under /linkedin: OAuth (www.linkedin.com) and the REST API (api.linkedin.com).

Errors are `{"status", "serviceErrorCode"?, "code", "message"}`; OAuth errors are
`{"error", "error_description"}`. Token `scope` is comma-separated, as LinkedIn sends it.
Commentary is "little text": a backslash escapes a reserved character; a hashtag template
`{hashtag|\\#|Word}` (sign "#" or U+FF03, escaped or not) or an unescaped `#Word` is a hashtag;
`@[Name](urn:li:person:...)` is a mention; any other unescaped reserved character cuts the
post there, which is how an unescaping client's text ends up truncated on LinkedIn. The
post in the state keeps `raw` (what was sent), `text` (what members read: "#Word" for a
hashtag, the name for a mention) and `extra.hashtags`.

Rate limits: the natural daily limit (150 posts per member per UTC day) answers 429 with
LinkedIn's daily wording, "Resource level throttle MEMBER DAY limit for calls to this
resource is reached."; the `rate_limit` fault is a short throttle, "Resource level throttle
limit for calls to this resource is reached." Neither has a reset or Retry-After header.
"""

from __future__ import annotations

import base64
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
from networks.emulator.state import Post, State, post_metrics, random_alnum, random_digits, words

NAME = "linkedin"
ROUTES: list = []
BASE_SCOPES = ["openid", "profile", "email", "w_member_social"]
PARTNER_SCOPES = ["r_member_social", "r_member_postAnalytics"]
KNOWN_SCOPES = frozenset(BASE_SCOPES + PARTNER_SCOPES + ["r_member_profileAnalytics", "w_organization_social"])
ACCESS_LIFETIME = 5_184_000  # 60 days
REFRESH_LIFETIME = 365 * 86400
POSTS_PER_MEMBER_DAY = 150
MAX_COMMENTARY = 3000
RESERVED = set("()[]{}<>@|~_*#")
VISIBILITIES = ("PUBLIC", "CONNECTIONS", "LOGGED_IN")
POST_FIELDS = words(
    "author commentary visibility distribution lifecycleState isReshareDisabledByAuthor content "
    "contentLandingPage contentCallToActionLabel container reshareContext"
)
REACTION_SHARES = {"LIKE": 62, "PRAISE": 12, "EMPATHY": 8, "INTEREST": 9, "APPRECIATION": 6, "ENTERTAINMENT": 3}
METRIC_TYPE = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"
BAD_CODE = (
    "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. "
    "Or authorization code expired. Or external member binding exists"
)


def error(status: int, message: str, code: str | None = None, service_code: int | None = None) -> Response:
    body: dict = {"status": status}
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    if code:
        body["code"] = code
    body["message"] = message
    return json_response(status, body)


def oauth_error(status: int, error_code: str, description: str) -> Response:
    return json_response(status, {"error": error_code, "error_description": description})


def denied(resource: str) -> Response:
    return error(403, f"Not enough permissions to access: {resource}", "ACCESS_DENIED", 100)


def duplicate(urn: str) -> Response:
    """422 for a commentary the member already posted in the last 24 hours, naming `urn`,
    with the input error LinkedIn adds (DUPLICATE_POST)."""
    return json_response(
        422,
        {
            "status": 422,
            "code": "DUPLICATE_POST",
            "message": f"Content is a duplicate of {urn}",
            "errorDetailType": "com.linkedin.common.error.BadRequest",
            "errorDetails": {
                "inputErrors": [{"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}]
            },
        },
    )


# --- hooks used by the server ------------------------------------------------------------------


def account_ids(store: State, req: Request) -> list[str]:
    token = store.token(NAME, req.bearer())
    return [token.account_id] if token else []


def fault_response(store: State, req: Request, fault) -> Response:
    if fault.kind == "rate_limit":  # a short throttle: no "DAY" in the message, no reset header
        return throttled("Resource level throttle limit for calls to this resource is reached.")
    if fault.kind == "forbidden":
        return error(403, f"Not enough permissions to access: {req.method} {req.path}", "ACCESS_DENIED", 100)
    return server_error()


def throttled(message: str) -> Response:
    """LinkedIn's 429 (serviceErrorCode 101); a spent daily quota says "... DAY limit ..."."""
    return error(429, message, "TOO_MANY_REQUESTS", 101)


def server_error() -> Response:
    return error(500, "Internal Server Error", "INTERNAL_SERVER_ERROR")


def not_found(req: Request, method_not_allowed: bool = False) -> Response:
    if method_not_allowed:
        return error(405, f"Method {req.method} is not supported on this resource", "METHOD_NOT_ALLOWED")
    return error(404, "No virtual resource found", "RESOURCE_NOT_FOUND")


# --- OAuth -------------------------------------------------------------------------------------


def _allowed(app) -> list[str]:
    return app.scopes if app.scopes is not None else BASE_SCOPES + (PARTNER_SCOPES if app.partner else [])


def _grant(app, requested: list[str]):
    allowed = _allowed(app)
    for scope in requested:
        if scope not in allowed:
            return {
                "error": "unauthorized_scope_error",
                "error_description": f'Scope "{scope}" is not authorized for your application',
            }
    extra = [s for s in PARTNER_SCOPES if app.partner and s in allowed and s not in requested]
    return requested + extra


SPEC = OAuthSpec(
    network=NAME,
    separator=" ",
    known_scopes=KNOWN_SCOPES,
    grant=_grant,
    code_prefix="AQT",
    deny_params={"error": "access_denied", "error_description": "The member refused to authorize the application"},
)


@route(ROUTES, "GET", r"/oauth/v2/authorization", kind="page")
@route(ROUTES, "POST", r"/oauth/v2/authorization", kind="page")
def authorization(store: State, req: Request) -> Response:
    return authorize(store, req, SPEC)


@route(ROUTES, "POST", r"/oauth/v2/accessToken", kind="oauth")
def access_token(store: State, req: Request) -> Response:
    if req.content_type != "application/x-www-form-urlencoded":
        return oauth_error(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
    form, repeated = first_values(req.form())
    if repeated:
        return oauth_error(400, "invalid_request", f'Parameter "{repeated[0]}" is duplicated')
    grant = form.get("grant_type")
    needed = ["grant_type", "client_id", "client_secret"] + (
        ["code", "redirect_uri"] if grant == "authorization_code" else ["refresh_token"]
    )
    for name in needed:
        if not form.get(name):
            return oauth_error(400, "invalid_request", f'A required parameter "{name}" is missing')
    app = store.app(NAME, form["client_id"])
    if app is None or form["client_secret"] != app.client_secret:
        return oauth_error(401, "invalid_client", "Client authentication failed")
    now = store.now()
    if grant == "authorization_code":
        code = store.codes.get(form["code"])
        if (
            code is None
            or code.network != NAME
            or code.client_id != app.client_id
            or code.redirect_uri != form["redirect_uri"]
            or code.used
            or code.expires_at <= now
        ):
            return oauth_error(400, "invalid_request", BAD_CODE)
        code.used = True
        account_id, scopes, refresh = code.account_id, code.scopes, None
        if app.partner:
            refresh = store.issue_token(
                NAME,
                "refresh",
                "AQX" + random_alnum(120),
                lifetime=REFRESH_LIFETIME,
                client_id=app.client_id,
                account_id=account_id,
                scopes=scopes,
            )
    elif grant == "refresh_token":
        refresh = store.token(NAME, form["refresh_token"], kind="refresh")
        if refresh is None or refresh.client_id != app.client_id:
            return oauth_error(400, "invalid_request", "The provided refresh token is invalid")
        if refresh.revoked:
            return oauth_error(400, "invalid_request", "The provided refresh token has been revoked")
        if refresh.expired(now):
            return oauth_error(400, "invalid_request", "The provided refresh token has expired")
        account_id, scopes = refresh.account_id, refresh.scopes
    else:
        return oauth_error(400, "unsupported_grant_type", f"Grant type {grant!r} is not supported")
    access = store.issue_token(
        NAME,
        "access",
        "AQV" + random_alnum(140),
        lifetime=ACCESS_LIFETIME,
        client_id=app.client_id,
        account_id=account_id,
        scopes=scopes,
    )
    body = {
        "access_token": access.value,
        "expires_in": ACCESS_LIFETIME,
        "scope": ",".join(scopes),
        "token_type": "Bearer",
    }
    if refresh:
        body["refresh_token"] = refresh.value
        body["refresh_token_expires_in"] = int(refresh.expires_at - now)
    if "openid" in scopes:
        body["id_token"] = _id_token(store, app.client_id, account_id, scopes)
    if grant == "refresh_token":
        store.count(NAME, "refreshes")
    return json_response(200, body)


def _id_token(store: State, client_id: str, account_id: str, scopes: list[str]) -> str:
    """An unsigned (alg "none") but well-formed OpenID Connect ID token."""
    now = int(store.now())
    claims = {
        "iss": "https://www.linkedin.com/oauth",
        "aud": client_id,
        "iat": now,
        "exp": now + 3600,
        **_profile_claims(store.account(NAME, account_id), scopes),
    }

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _profile_claims(account, scopes: list[str]) -> dict:
    claims: dict = {"sub": account.id}
    if "profile" in scopes:
        claims.update(
            name=account.name,
            given_name=account.given_name,
            family_name=account.family_name,
            picture=account.picture,
            locale={"country": "US", "language": "en"},
        )
    if "email" in scopes:
        claims.update(email=account.email, email_verified=True)
    return claims


# --- API helpers -------------------------------------------------------------------------------


def _authenticate(store: State, req: Request):
    value = req.bearer()
    if not value:
        return error(401, "Empty oauth2 access token", "EMPTY_ACCESS_TOKEN", 65604)
    token = store.token(NAME, value)
    if token is None:
        return error(401, "Invalid access token", "INVALID_ACCESS_TOKEN", 65600)
    if token.revoked:
        return error(401, "The token used in the request has been revoked by the user", "REVOKED_ACCESS_TOKEN", 65601)
    if token.expired(store.now()):
        return error(401, "The token used in the request has expired", "INVALID_ACCESS_TOKEN", 65600)
    store.count(NAME, "api_calls")
    return token, store.account(NAME, token.account_id)


def _rest_headers(store: State, req: Request, *, restli: bool) -> Response | None:
    version = req.header("LinkedIn-Version")
    if version is None:
        return error(
            400,
            "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            "VERSION_MISSING",
        )
    if not _version_active(version.strip(), store.now()):
        label = version + "01" if re.fullmatch(r"\d{6}", version) else version
        return error(426, f"Requested version {label} is not active", "NONEXISTENT_VERSION")
    if restli and req.header("X-Restli-Protocol-Version") != "2.0.0":
        return error(400, "This resource requires the header X-Restli-Protocol-Version: 2.0.0", "ILLEGAL_ARGUMENT")
    return None


def _version_active(version: str, now: float) -> bool:
    """Versions are YYYYMM; each lives 12 months after its release, none exists before it."""
    if not re.fullmatch(r"\d{6}", version) or not 1 <= int(version[4:]) <= 12:
        return False
    today = datetime.fromtimestamp(now, UTC)
    age = (today.year * 12 + today.month) - (int(version[:4]) * 12 + int(version[4:]))
    return 0 <= age <= 12


def _urn_key(raw: str) -> str | None:
    """A URN path key must arrive URL-encoded (`urn%3Ali%3Ashare%3A1`), as Rest.li 2.0 wants."""
    return unquote(raw) if ":" not in raw and "/" not in unquote(raw) else None


def _reactions(likes: int) -> dict[str, int]:
    return {kind: likes * share // 100 for kind, share in REACTION_SHARES.items()}


def _post_json(post: Post) -> dict:
    body = {
        "id": post.id,
        "author": f"urn:li:person:{post.author}",
        "commentary": post.raw,
        "visibility": post.extra["visibility"],
        "lifecycleState": "PUBLISHED",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "isReshareDisabledByAuthor": post.extra.get("isReshareDisabledByAuthor", False),
        "createdAt": int(post.created_at * 1000),
        "publishedAt": int(post.created_at * 1000),
        "lastModifiedAt": int(post.created_at * 1000),
    }
    if post.extra.get("content"):
        body["content"] = post.extra["content"]
    return body


# --- API ---------------------------------------------------------------------------------------


@route(ROUTES, "GET", r"/v2/userinfo")
def userinfo(store: State, req: Request) -> Response:
    auth = _authenticate(store, req)
    if isinstance(auth, Response):
        return auth
    token, account = auth
    if "openid" not in token.scopes:
        return denied("userinfo.GET.NO_VERSION")
    return json_response(200, _profile_claims(account, token.scopes))


@route(ROUTES, "POST", r"/rest/posts")
def create_post(store: State, req: Request) -> Response:
    call = _rest_json_call(store, req)
    if isinstance(call, Response):
        return call
    token, account, body = call
    if "w_member_social" not in token.scopes:
        return denied(f"partnerApiPostsExternal.CREATE.{req.header('LinkedIn-Version')}")
    if problem := _validate_post(body):
        return error(422, problem, "UNPROCESSABLE_ENTITY")
    if body["author"] != f"urn:li:person:{account.id}":
        return denied(f"partnerApiPostsExternal.CREATE.{req.header('LinkedIn-Version')} (author {body['author']})")
    now = store.now()
    same = [
        p
        for p in store.posts_by(NAME, account.id)
        if not p.deleted and p.raw == body["commentary"] and now - p.created_at < 86400
    ]
    if store.take_fault(NAME, req.path, req.method, [account.id], api=True, kinds=("duplicate",)):
        # Names the earlier post with this commentary where there is one; otherwise a URN no
        # post has, as LinkedIn's duplicate answers have been seen to name posts that 404.
        return duplicate(same[0].id if same else f"urn:li:share:{7_300_000_000_000_000_000 + int(random_digits(17))}")
    if same:
        return duplicate(same[0].id)
    day_start = now - now % 86400  # LinkedIn's daily limits reset at midnight UTC
    allowed, _, _ = store.hit((NAME, "posts", account.id), POSTS_PER_MEMBER_DAY, 86400, anchor=day_start)
    if not allowed:
        return throttled("Resource level throttle MEMBER DAY limit for calls to this resource is reached.")
    picture = (body.get("content") or {}).get("media")
    image = picture and media_store.usable(store, NAME, picture["id"], account.id)
    if picture and not image:
        return error(
            400,
            f"ERROR :: /content/media/id :: {picture['id']} does not exist, is not uploaded yet, or is not "
            "owned by the author",
            "INVALID_CONTENT",
        )
    urn = f"urn:li:share:{7_300_000_000_000_000_000 + int(random_digits(17))}"
    article = (body.get("content") or {}).get("article") or {}
    text, hashtags = _render(body["commentary"])
    store.add_post(
        Post(
            network=NAME,
            id=urn,
            author=account.id,
            account_id=account.id,
            text=text,
            link=article.get("source"),
            created_at=now,
            client_id=token.client_id,
            raw=body["commentary"],
            extra={
                **{k: body[k] for k in ("visibility", "content", "isReshareDisabledByAuthor") if k in body},
                "hashtags": hashtags,
                **(
                    {"media": [dict(media_store.attached(image, urn), alt_text=picture.get("altText", ""))]}
                    if image
                    else {}
                ),
            },
        )
    )
    return Response(201, b"", [("x-restli-id", urn), ("x-linkedin-id", urn)])


def _rest_json_call(store: State, req: Request):
    """A Rest.li call with a JSON object body: (token, account, body), or the error answer."""
    auth = _authenticate(store, req)
    if isinstance(auth, Response):
        return auth
    token, account = auth
    if problem := _rest_headers(store, req, restli=True):
        return problem
    if req.content_type != "application/json":
        return error(415, "Unsupported Content-Type; expected application/json", "UNSUPPORTED_MEDIA_TYPE")
    try:
        body = req.json()
    except ValueError:
        return error(400, "The request body is not valid JSON", "ILLEGAL_ARGUMENT")
    if not isinstance(body, dict):
        return error(400, "The request body must be a JSON object", "ILLEGAL_ARGUMENT")
    return token, account, body


def _validate_post(body: dict) -> str | None:
    for name in sorted(set(body) - POST_FIELDS):
        return f"ERROR :: /{name} :: unrecognized field found but not allowed"
    for name in ("author", "commentary", "visibility", "distribution", "lifecycleState"):
        if name not in body:
            return f"ERROR :: /{name} :: field is required but not found and has no default value"
    if not isinstance(body["author"], str) or not body["author"].startswith("urn:li:"):
        return f"ERROR :: /author :: {body['author']!r} is not a valid URN"
    if not isinstance(body["commentary"], str):
        return "ERROR :: /commentary :: not a string"
    if len(body["commentary"]) > MAX_COMMENTARY:
        return f"ERROR :: /commentary :: length {len(body['commentary'])} exceeds the maximum of {MAX_COMMENTARY}"
    if body["visibility"] not in VISIBILITIES:
        return f'ERROR :: /visibility :: "{body["visibility"]}" is not an enum symbol'
    if body["lifecycleState"] != "PUBLISHED":
        return f'ERROR :: /lifecycleState :: "{body["lifecycleState"]}" is not supported; use PUBLISHED'
    distribution = body["distribution"]
    if not isinstance(distribution, dict) or distribution.get("feedDistribution") != "MAIN_FEED":
        return "ERROR :: /distribution/feedDistribution :: must be MAIN_FEED for a member post"
    for name in ("targetEntities", "thirdPartyDistributionChannels"):
        if not isinstance(distribution.get(name, []), list):
            return f"ERROR :: /distribution/{name} :: not an array"
    if not isinstance(body.get("isReshareDisabledByAuthor", False), bool):
        return "ERROR :: /isReshareDisabledByAuthor :: not a boolean"
    content = body.get("content")
    if isinstance(content, dict) and "media" in content:
        return _validate_media(content)
    if content is not None:
        article = content.get("article") if isinstance(content, dict) else None
        if not isinstance(article, dict):
            return "ERROR :: /content :: only content.article and content.media are emulated"
        source = article.get("source")
        if not isinstance(source, str) or not re.match(r"https?://[^/\s]+", source):
            return "ERROR :: /content/article/source :: field is required and must be an absolute URL"
        if not isinstance(article.get("title"), str) or not article["title"]:
            return "ERROR :: /content/article/title :: field is required but not found and has no default value"
        if not isinstance(article.get("description", ""), str):
            return "ERROR :: /content/article/description :: not a string"
    return None


def _validate_media(content: dict) -> str | None:
    media = content["media"]
    if set(content) != {"media"} or not isinstance(media, dict):
        return "ERROR :: /content :: exactly one of article, media, multiImage... may be given"
    if not isinstance(media.get("id"), str) or not media["id"].startswith("urn:li:image:"):
        return "ERROR :: /content/media/id :: field is required and must be an image URN"
    if not isinstance(media.get("altText", ""), str) or len(media.get("altText", "")) > MAX_ALT_TEXT:
        return f"ERROR :: /content/media/altText :: must be a string of at most {MAX_ALT_TEXT} characters"
    return None


def _picture_extra(image, picture: dict | None, urn: str) -> dict:
    """What the stored post keeps of its picture (with the alt text the post sent)."""
    if not image:
        return {}
    return {"media": [dict(media_store.attached(image, urn), alt_text=picture.get("altText", ""))]}


HASHTAG_TEMPLATE = re.compile(r"\{hashtag\|\\?([#\uFF03])\|([^{}|\\]+)\}")
HASHTAG_ELEMENT = re.compile(r"#([^\W_]+)")
MENTION = re.compile(r"@\[([^\[\]]+)\]\((urn:li:(?:person|organization):[^()\s]+)\)")


def _render(commentary: str) -> tuple[str, list[str]]:
    """Little text as members see it, and its hashtags: escapes resolved, a hashtag (template
    or `#Word`) shown as "#Word", a mention as the name; any other unescaped reserved
    character ends the text."""
    out, hashtags, i = [], [], 0
    while i < len(commentary):
        char = commentary[i]
        if char == "\\" and i + 1 < len(commentary):
            out.append(commentary[i + 1])
            i += 2
            continue
        if char == "{" and (found := HASHTAG_TEMPLATE.match(commentary, i)):
            out.append(found.group(1) + found.group(2))
            hashtags.append(found.group(2))
        elif char == "#" and (found := HASHTAG_ELEMENT.match(commentary, i)):
            out.append(found.group(0))
            hashtags.append(found.group(1))
        elif char == "@" and (found := MENTION.match(commentary, i)):
            out.append(found.group(1))
        elif char in RESERVED:
            break
        else:
            out.append(char)
            i += 1
            continue
        i = found.end()
    return "".join(out), hashtags


def _own_post(store: State, req: Request, raw_urn: str, scope: str, resource: str):
    auth = _authenticate(store, req)
    if isinstance(auth, Response):
        return auth
    token, account = auth
    if problem := _rest_headers(store, req, restli=False):
        return problem
    urn = _urn_key(raw_urn)
    if urn is None:
        return error(400, f"Invalid key {unquote(raw_urn)!r}: URN keys must be URL-encoded", "ILLEGAL_ARGUMENT")
    if scope not in token.scopes:
        return denied(resource)
    return token, account, urn, store.post(NAME, urn)


@route(ROUTES, "GET", r"/rest/posts/(?P<raw_urn>[^/]+)")
def get_post(store: State, req: Request, raw_urn: str) -> Response:
    found = _own_post(store, req, raw_urn, "r_member_social", "partnerApiPostsExternal.GET")
    if isinstance(found, Response):
        return found
    post = found[3]
    if post is None or post.deleted:
        return error(404, f"Post {found[2]} not found", "NOT_FOUND")
    return json_response(200, _post_json(post))


@route(ROUTES, "DELETE", r"/rest/posts/(?P<raw_urn>[^/]+)")
def delete_post(store: State, req: Request, raw_urn: str) -> Response:
    found = _own_post(store, req, raw_urn, "w_member_social", "partnerApiPostsExternal.DELETE")
    if isinstance(found, Response):
        return found
    _, account, urn, post = found
    if post is None:
        return error(404, f"Post {urn} not found", "NOT_FOUND")
    if post.author != account.id:
        return denied("partnerApiPostsExternal.DELETE")
    if not post.deleted:  # deleting is idempotent
        post.deleted, post.deleted_at = True, store.now()
        store.count(NAME, "posts_deleted")
    return Response(204)


@route(ROUTES, "GET", r"/rest/posts")
def find_posts(store: State, req: Request) -> Response:
    auth = _authenticate(store, req)
    if isinstance(auth, Response):
        return auth
    token, account = auth
    if problem := _rest_headers(store, req, restli=True):
        return problem
    if req.arg("q") != "author" or not req.arg("author"):
        return error(400, "Use the finder q=author&author={encoded person urn}", "ILLEGAL_ARGUMENT")
    raw_author = re.search(r"(?:^|&)author=([^&]*)", req.raw_query)
    if raw_author is None or ":" in raw_author.group(1):
        return error(400, "The author URN must be URL-encoded", "ILLEGAL_ARGUMENT")
    if "r_member_social" not in token.scopes:
        return denied("partnerApiPostsExternal.FINDER-author")
    if req.arg("author") != f"urn:li:person:{account.id}":
        return denied("partnerApiPostsExternal.FINDER-author (another member)")
    count_arg = req.arg("count") or "10"
    count = min(int(count_arg), 100) if count_arg.isdigit() else 10
    posts = [p for p in store.posts_by(NAME, account.id) if not p.deleted][:count]
    return json_response(
        200, {"paging": {"start": 0, "count": count, "links": []}, "elements": [_post_json(p) for p in posts]}
    )


@route(ROUTES, "GET", r"/rest/socialMetadata/(?P<raw_urn>[^/]+)")
def social_metadata(store: State, req: Request, raw_urn: str) -> Response:
    found = _own_post(store, req, raw_urn, "r_member_social", "socialMetadata.GET")
    if isinstance(found, Response):
        return found
    urn, post = found[2], found[3]
    if post is None or post.deleted:
        return error(404, f"Entity {urn} not found", "NOT_FOUND")
    store.count(NAME, "metrics_reads")
    return json_response(200, _social_metadata_json(post, urn, store.now()))


def _social_metadata_json(post: Post, urn: str, now: float) -> dict:
    metrics = post_metrics(post, now)
    reactions = {k: {"reactionType": k, "count": v} for k, v in _reactions(metrics["likes"]).items() if v}
    return {
        "reactionSummaries": reactions,
        "commentsState": "OPEN",
        "entity": urn,
        "commentSummary": {"count": metrics["comments"], "topLevelCount": metrics["top_level_comments"]},
    }


# Keys one BATCH_GET may name. LinkedIn documents the batch but no number (unverified:
# public clients send up to 100); the emulator refuses more, as a Rest.li server does.
SOCIAL_METADATA_BATCH = 100


@route(ROUTES, "GET", r"/rest/socialMetadata")
def social_metadata_batch(store: State, req: Request) -> Response:
    """BATCH_GET `?ids=List(urn%3Ali%3Ashare%3A1,...)` (Rest.li 2.0: each URN URL-encoded
    inside an unencoded List()). Answers every key: `results` for the found ones,
    `errors` with status 404 for the others (deleted or unknown), `statuses` for all."""
    auth = _authenticate(store, req)
    if isinstance(auth, Response):
        return auth
    token, _ = auth
    if problem := _rest_headers(store, req, restli=True):
        return problem
    raw = re.search(r"(?:^|&)ids=List\(([^()]*)\)(?:&|$)", req.raw_query)
    if raw is None or not raw.group(1):
        return error(400, "ids must be List(key,...) with each URN key URL-encoded (Rest.li 2.0)", "ILLEGAL_ARGUMENT")
    keys = [_urn_key(k) for k in raw.group(1).split(",")]
    if any(k is None for k in keys):
        return error(400, "Invalid key in ids: URN keys must be URL-encoded inside List()", "ILLEGAL_ARGUMENT")
    if len(keys) > SOCIAL_METADATA_BATCH:
        return error(400, f"Too many keys in batch request: {len(keys)} > {SOCIAL_METADATA_BATCH}", "ILLEGAL_ARGUMENT")
    if "r_member_social" not in token.scopes:
        return denied("socialMetadata.BATCH_GET")
    store.count(NAME, "metrics_reads")
    now, results, errors, statuses = store.now(), {}, {}, {}
    for urn in dict.fromkeys(keys):
        post = store.post(NAME, urn)
        if post is None or post.deleted:
            errors[urn] = {"status": 404, "code": "NOT_FOUND", "message": f"Entity {urn} not found"}
            statuses[urn] = 404
        else:
            results[urn] = _social_metadata_json(post, urn, now)
            statuses[urn] = 200
    return json_response(200, {"results": results, "statuses": statuses, "errors": errors})


ANALYTICS = {
    "IMPRESSION": lambda m: m["impressions"],
    "MEMBERS_REACHED": lambda m: m["reach"],
    "RESHARE": lambda m: m["reposts"],
    "REACTION": lambda m: sum(_reactions(m["likes"]).values()),
    "COMMENT": lambda m: m["comments"],
}


@route(ROUTES, "GET", r"/rest/memberCreatorPostAnalytics")
def member_post_analytics(store: State, req: Request) -> Response:
    auth = _authenticate(store, req)
    if isinstance(auth, Response):
        return auth
    token, account = auth
    if problem := _rest_headers(store, req, restli=True):
        return problem
    if "r_member_postAnalytics" not in token.scopes:
        return denied("memberCreatorPostAnalytics.FINDER-entity")
    query_type, aggregation, finder = req.arg("queryType"), req.arg("aggregation"), req.arg("q")
    if query_type not in ANALYTICS:
        return error(400, f"Invalid queryType {query_type!r}; one of {', '.join(ANALYTICS)}", "ILLEGAL_ARGUMENT")
    if aggregation != "TOTAL":
        message = (
            "aggregation DAILY needs dateRange (not emulated: use TOTAL)"
            if aggregation == "DAILY"
            else (f"Invalid aggregation {aggregation!r}")
        )
        return error(400, message, "ILLEGAL_ARGUMENT")
    now = store.now()
    if finder == "me":
        posts = [p for p in store.posts_by(NAME, account.id) if not p.deleted]
        total = sum(ANALYTICS[query_type](post_metrics(p, now)) for p in posts)
        return _analytics(total, query_type, None)
    if finder != "entity":
        return error(400, "Invalid finder: use q=entity (or q=me)", "ILLEGAL_ARGUMENT")
    raw = re.search(r"(?:^|&)entity=([^&]*)", req.raw_query)
    found = re.fullmatch(r"\((share|ugc):([^():]+)\)", raw.group(1) if raw else "")
    if not found:
        return error(
            400,
            "entity must be (share:{encoded share urn}) or (ugc:{encoded ugcPost urn}), the URN "
            "URL-encoded inside unencoded parentheses (Rest.li 2.0)",
            "ILLEGAL_ARGUMENT",
        )
    urn = unquote(found.group(2))
    post = store.post(NAME, urn)
    if post is None or post.deleted:
        return error(404, f"Entity {urn} not found", "NOT_FOUND")
    if post.author != account.id:
        return denied("memberCreatorPostAnalytics.FINDER-entity (another member's post)")
    store.count(NAME, "metrics_reads")
    return _analytics(ANALYTICS[query_type](post_metrics(post, now)), query_type, {found.group(1): urn})


def _analytics(count: int, query_type: str, target: dict | None) -> Response:
    element = {"count": count, "metricType": {METRIC_TYPE: query_type}}
    if target:
        element["targetEntity"] = {"share" if "share" in target else "ugcPost": next(iter(target.values()))}
    return json_response(200, {"paging": {"start": 0, "count": 10, "links": []}, "elements": [element]})


# --- assisted share (no API credentials) -------------------------------------------------------


@route(ROUTES, "GET", r"/sharing/share-offsite/?", kind="page")
def share_offsite(store: State, req: Request) -> Response:
    url = req.arg("url")
    if not url or not re.match(r"https?://[^/\s]+", url):
        return pages.error_page(400, "LinkedIn share error", "The url parameter must be an absolute http(s) URL.")
    store.shares.append(
        {
            "network": NAME,
            "kind": "share-offsite",
            "url": url,
            "text": None,
            "at": datetime.fromtimestamp(store.now(), UTC).isoformat(),
        }
    )
    store.count(NAME, "assisted_shares")
    return pages.shared_page(NAME, url)


# --- Images API ------------------------------------------------------------------------------
# https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api
# POST /rest/images?action=initializeUpload {"initializeUploadRequest": {"owner": urn}} ->
# {"value": {"uploadUrlExpiresAt", "uploadUrl", "image"}}; PUT the bytes to uploadUrl (with the
# member's Bearer token); the post names the image in content.media {id, altText}. Documented
# limits: JPG, GIF and PNG; fewer than 36,152,320 pixels. No file-size limit is documented for
# images, so none is enforced. The upload URL is single-use here and expires after an hour
# (its lifetime is the answer's uploadUrlExpiresAt; an hour is our assumption, unverified).
# Where the real API accepts odd bytes and fails later in processing (GET /rest/images shows
# PROCESSING_FAILED), the emulator refuses them at the PUT, with the reason.

IMAGE_TYPES = ("image/jpeg", "image/gif", "image/png")
MAX_IMAGE_PIXELS = 36_152_320
UPLOAD_URL_LIFETIME = 3600
MAX_ALT_TEXT = 4086  # altText: "up to 4086 characters" (Posts API, media content)


@route(ROUTES, "POST", r"/rest/images")
def initialize_upload(store: State, req: Request) -> Response:
    call = _rest_json_call(store, req)
    if isinstance(call, Response):
        return call
    token, account, body = call
    if req.arg("action") != "initializeUpload":
        return error(400, "Unsupported action; expected action=initializeUpload", "ILLEGAL_ARGUMENT")
    request = body.get("initializeUploadRequest")
    if not isinstance(request, dict) or not isinstance(request.get("owner"), str):
        return error(
            422, "ERROR :: /initializeUploadRequest/owner :: field is required but not found", "UNPROCESSABLE_ENTITY"
        )
    if "w_member_social" not in token.scopes:
        return denied(f"images.ACTION.{req.header('LinkedIn-Version')}")
    if request["owner"] != f"urn:li:person:{account.id}":
        return denied(f"images.ACTION.{req.header('LinkedIn-Version')} (owner {request['owner']})")
    picture = media_store.add(
        store,
        media_store.Media(
            network=NAME, id=f"urn:li:image:C4{random_alnum(20)}", account_id=account.id, created_at=store.now()
        ),
    )
    upload = media_store.new_upload_url(store, picture, UPLOAD_URL_LIFETIME)
    host = req.header("Host") or "127.0.0.1"
    return json_response(
        200,
        {
            "value": {
                "uploadUrlExpiresAt": int(upload.expires_at * 1000),
                "uploadUrl": f"http://{host}/{NAME}/dms-uploads/{upload.token}/uploadedImage/0",
                "image": picture.id,
            }
        },
    )


@route(ROUTES, "PUT", r"/dms-uploads/(?P<token>[A-Za-z0-9]+)/uploadedImage/0")
def upload_image(store: State, req: Request, token: str) -> Response:
    auth = _authenticate(store, req)
    if isinstance(auth, Response):
        return auth
    _, account = auth
    upload = store.upload_urls.get(token)
    if upload is None or upload.used or upload.expires_at <= store.now():
        return error(400, "The upload URL is unknown, already used or expired", "UPLOAD_URL_INVALID")
    picture = media_store.get(store, NAME, upload.media_id)
    if picture.account_id != account.id:
        return denied("dms-uploads (the upload belongs to another member)")
    upload.used = True
    kind, width, height = media_store.sniff(req.body)
    if kind not in IMAGE_TYPES:
        return error(400, f"Unsupported image type {kind or 'unknown'}: upload JPG, GIF or PNG", "INVALID_MEDIA")
    if width * height >= MAX_IMAGE_PIXELS:
        return error(
            400, f"The image has {width * height} pixels; it must have fewer than {MAX_IMAGE_PIXELS}", "INVALID_MEDIA"
        )
    picture.mime_type, picture.size, picture.width, picture.height = kind, len(req.body), width, height
    picture.uploaded = True
    return Response(201, b"")
