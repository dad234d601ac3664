"""Facebook under /facebook: the Login dialog (www.facebook.com), the Graph API
(graph.facebook.com, any /vNN.0/ version) and the two share dialogs.

Errors are `{"error": {"message", "type": "OAuthException", "code", "error_subcode"?,
"fbtrace_id"}}`, usually with HTTP 400 (403 for permission codes 10 and 200). Every Graph
answer carries `X-App-Usage`. Pages are posted to with that Page's token only; a Page token
from a long-lived user token never expires, one from a short-lived token dies with it.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime

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
from networks.emulator.state import Post, State, Token, post_metrics, random_alnum, random_digits, words

NAME = "facebook"
ROUTES: list = []
V = r"/v[0-9]+\.0"
KNOWN_SCOPES = words(
    "public_profile email pages_show_list pages_manage_posts pages_read_engagement "
    "pages_read_user_content pages_manage_engagement pages_manage_metadata read_insights "
    "business_management publish_video"
)
SHORT_LIFETIME = 3600
LONG_LIFETIME = 5_183_944
APP_CALLS_PER_HOUR = 4800
MAX_IDS = 50  # ids of one multi-id read (GET /?ids=a,b,...)
MAX_BATCH = 50  # requests of one batch (POST / with batch=[...])
THROTTLE = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
}
POST_FIELDS = words(
    "id message created_time updated_time permalink_url shares reactions comments likes is_published "
    "scheduled_publish_time from status_type"
)
INSIGHTS = {
    "post_impressions": ("impressions", "Lifetime Post Total Impressions"),
    "post_impressions_unique": ("reach", "Lifetime Post Total Reach"),
    "post_clicks": ("clicks", "Lifetime Post Clicks"),
}
POSTING = (
    "If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with "
    "sufficient administrative permission, and that Page's access token"
)
READING = (
    "This endpoint requires the 'pages_read_engagement' permission or the 'Page Public Content Access' "
    "feature, and that Page's access token"
)


def error(status: int, message: str, code: int, subcode: int | None = None, headers=(), **extra) -> Response:
    body = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        body["error_subcode"] = subcode
    body.update(extra, fbtrace_id="A" + random_alnum(22))
    return json_response(status, {"error": body}, content_type=CONTENT_TYPE, headers=headers)


CONTENT_TYPE = "application/json; charset=UTF-8"


def ok(data) -> Response:
    return json_response(200, data, content_type=CONTENT_TYPE)


def missing(object_id: str, verb: str = "get") -> Response:
    return error(
        400,
        f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
        "to missing permissions, or does not support this operation. Please read the Graph API "
        "documentation at https://developers.facebook.com/docs/graph-api",
        100,
        33,
    )


def _params(req: Request) -> dict[str, str]:
    """Graph reads parameters from the query string and the body (form or JSON) alike."""
    params, _ = first_values(req.query)
    params.update(first_values(req.form())[0])
    if req.content_type == "application/json" and req.body:
        try:
            body = req.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
    return params


def _token_value(req: Request) -> str | None:
    return _params(req).get("access_token") or req.bearer(("bearer", "oauth"))


# --- hooks used by the server ------------------------------------------------------------------


def account_ids(store: State, req: Request) -> list[str]:
    token = store.token(NAME, _token_value(req))
    return [token.account_id] + ([token.page_id] if token.page_id else []) if token else []


def fault_response(store: State, req: Request, fault) -> Response:
    if fault.kind == "server_error":
        return server_error()
    if fault.kind == "forbidden":
        return error(403, "(#200) Permissions error", 200)
    token = store.token(NAME, _token_value(req))
    owner = (token.page_id or token.client_id) if token else "0"
    minutes = math.ceil(fault.reset_in / 60)
    usage = {"call_count": 100, "total_cputime": 34, "total_time": 41}
    business = {owner: [{"type": "pages", **usage, "estimated_time_to_regain_access": minutes}]}
    headers = [("X-App-Usage", json.dumps(usage)), ("X-Business-Use-Case-Usage", json.dumps(business))]
    return error(400, THROTTLE[fault.code], fault.code, headers=headers, is_transient=True)


def server_error() -> Response:
    return error(500, "An unexpected error has occurred. Please retry your request later.", 2, is_transient=True)


def not_found(req: Request, method_not_allowed: bool = False) -> Response:
    if method_not_allowed:
        return error(405, f"Unsupported {req.method.lower()} request.", 100)
    return error(404, f"Unknown path components: {req.path}", 2500)


def finish(store: State, req: Request, response: Response) -> None:
    if any(name == "X-App-Usage" for name, _ in response.headers):
        return
    token = store.token(NAME, _token_value(req))
    window = store.windows.get((NAME, "app", token.client_id)) if token else None
    percent = min(100, (window[1] if window else 0) * 100 // APP_CALLS_PER_HOUR)
    response.header(
        "X-App-Usage", json.dumps({"call_count": percent, "total_cputime": percent // 3, "total_time": percent // 2})
    )


# --- OAuth -------------------------------------------------------------------------------------


def _grant(app, requested: list[str]):
    allowed = app.scopes if app.scopes is not None else KNOWN_SCOPES
    return list(dict.fromkeys(["public_profile", *(s for s in requested if s in allowed)]))


SPEC = OAuthSpec(
    network=NAME,
    separator=",",
    known_scopes=KNOWN_SCOPES,
    grant=_grant,
    code_prefix="AQ",
    deny_params={
        "error": "access_denied",
        "error_code": "200",
        "error_description": "Permissions error",
        "error_reason": "user_denied",
    },
    response_type_optional=True,
    scope_required=False,
    fragment="#_=_",
)


@route(ROUTES, "GET", rf"(?:{V})?/dialog/oauth", kind="page")
@route(ROUTES, "POST", rf"(?:{V})?/dialog/oauth", kind="page")
def dialog_oauth(store: State, req: Request) -> Response:
    return authorize(store, req, SPEC)


@route(ROUTES, "GET", rf"{V}/oauth/access_token", kind="oauth")
@route(ROUTES, "POST", rf"{V}/oauth/access_token", kind="oauth")
def access_token(store: State, req: Request) -> Response:
    p = _params(req)
    if not p.get("client_id"):
        return error(400, "Missing client_id parameter.", 101)
    app = store.app(NAME, p["client_id"])
    if app is None:
        return error(400, "Error validating application. Invalid application ID.", 101)
    if p.get("client_secret") != app.client_secret:
        return error(400, "Error validating client secret.", 1)
    now = store.now()
    if p.get("grant_type") == "fb_exchange_token":
        user = store.token(NAME, p.get("fb_exchange_token"))
        # Graph exchanges User tokens only; a Page token is refused, never answered with a
        # user token (a long-lived Page token comes from /me/accounts with a long-lived user token).
        if user is None or user.page_id or user.client_id != app.client_id:
            return error(400, "Invalid OAuth access token - Cannot parse access token", 190)
        if problem := _token_problem(user, now):
            return problem
        token = store.issue_token(
            NAME,
            "access",
            "EAA" + random_alnum(180),
            lifetime=LONG_LIFETIME,
            client_id=app.client_id,
            account_id=user.account_id,
            scopes=user.scopes,
            long_lived=True,
        )
        store.count(NAME, "refreshes")
        return ok({"access_token": token.value, "token_type": "bearer", "expires_in": LONG_LIFETIME})
    if p.get("grant_type") not in (None, "authorization_code"):
        return error(400, f"Unsupported grant_type {p['grant_type']}", 100)
    if not p.get("redirect_uri"):
        return error(400, "Missing redirect_uri parameter.", 191)
    code = store.codes.get(p.get("code") or "")
    if code is None or code.network != NAME or code.client_id != app.client_id:
        return error(400, "Invalid verification code format.", 100, 36007)
    if code.used:
        return error(400, "This authorization code has been used.", 100, 36009)
    if code.expires_at <= now:
        return error(400, "This authorization code has expired.", 100, 36007)
    if code.redirect_uri != p["redirect_uri"]:
        return error(
            400,
            "Error validating verification code. Please make sure your redirect_uri is identical to "
            "the one you used in the OAuth dialog request",
            100,
            36008,
        )
    code.used = True
    token = store.issue_token(
        NAME,
        "access",
        "EAA" + random_alnum(180),
        lifetime=SHORT_LIFETIME,
        client_id=app.client_id,
        account_id=code.account_id,
        scopes=code.scopes,
    )
    return ok({"access_token": token.value, "token_type": "bearer", "expires_in": SHORT_LIFETIME})


# --- Graph helpers -----------------------------------------------------------------------------


def _fb_time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")


def _token_problem(token, now: float) -> Response | None:
    if token.revoked:
        message = (
            "Error validating access token: The session has been invalidated because the user changed their "
            "password or Facebook has changed the session for security reasons."
        )
        return _invalid(message, 460)
    if token.expired(now):
        return _invalid(
            f"Error validating access token: Session has expired on {_fb_time(token.expires_at)}. "
            f"The current time is {_fb_time(now)}.",
            463,
        )
    return None


def _invalid(message: str, subcode: int | None = None) -> Response:
    header = ("WWW-Authenticate", f'OAuth "Facebook Platform" "invalid_token" "{message}"')
    return error(400, message, 190, subcode, headers=[header])


def _authenticate(store: State, req: Request, *, app_ok: bool = False):
    """The request's token, or the error answer. An app access token (`{app-id}|{secret}`)
    is taken only where `app_ok` (it reads no Page's posts: those need the Page's token)."""
    value = _token_value(req)
    if not value:
        return error(400, "An active access token must be used to query information about the current user.", 2500)
    token = store.token(NAME, value) or _app_token(store, value)
    if token is None:
        return _invalid("Invalid OAuth access token - Cannot parse access token")
    if token.app_only and not app_ok:
        return error(400, "(#10) This endpoint needs a user or Page access token, not an app access token", 10)
    if problem := _token_problem(token, store.now()):
        return problem
    allowed, _, _ = store.hit((NAME, "app", token.client_id), APP_CALLS_PER_HOUR, 3600)
    if not allowed:
        return error(400, THROTTLE[4], 4, is_transient=True)
    store.count(NAME, "api_calls")
    return token


def _app_token(store: State, value: str) -> Token | None:
    """`{app-id}|{app-secret}`, the app access token Graph takes without a call."""
    app_id, _, secret = value.partition("|")
    app = store.app(NAME, app_id)
    if app is None or not secret or secret != app.client_secret:
        return None
    return Token(value, NAME, "access", app.client_id, "", [], store.now(), None, app_only=True)


def _fields(raw: str | None, default: str) -> list[tuple[str, dict[str, str]]]:
    """`a,b.summary(true).limit(0)` -> [("a", {}), ("b", {"summary": "true", "limit": "0"})]."""
    parts, depth, current = [], 0, ""
    for char in raw or default:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [(p.split(".", 1)[0].strip(), dict(re.findall(r"\.(\w+)\(([^)]*)\)", p))) for p in parts if p.strip()]


def _post_json(post: Post, fields, now: float) -> dict | Response:
    live = post.publish_at is None or post.publish_at <= now
    m = post_metrics(post, now) if live else dict.fromkeys(("likes", "comments", "reposts"), 0)
    page_id, post_number = post.id.split("_", 1)
    data: dict = {}
    for name, mods in fields:
        if name not in POST_FIELDS:
            return error(400, f"(#100) Tried accessing nonexisting field ({name}) on node type (PagePost)", 100)
        if name in ("reactions", "likes", "comments"):
            total = m["comments"] if name == "comments" else m["likes"]
            data[name] = {"data": []}
            if "summary" in mods and mods["summary"] != "false":
                summary = {"total_count": total}
                summary.update({"order": "ranked", "can_comment": True} if name == "comments" else {})
                summary.update({"viewer_reaction": "NONE"} if name == "reactions" else {})
                data[name]["summary"] = summary
        elif name == "shares":
            if m["reposts"]:
                data["shares"] = {"count": m["reposts"]}
        else:
            created = datetime.fromtimestamp(post.created_at, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
            value = {
                "id": post.id,
                "message": post.raw,
                "created_time": created,
                "updated_time": created,
                "from": {"id": post.author, "name": post.extra["page_name"]},
                "permalink_url": f"https://www.facebook.com/{page_id}/posts/{post_number}",
                "is_published": post.publish_at is None or post.publish_at <= now,
                "status_type": "shared_story" if post.link else "mobile_status_update",
                "scheduled_publish_time": int(post.publish_at) if post.publish_at else None,
            }[name]
            if value is not None:
                data[name] = value
    data.setdefault("id", post.id)
    return data


def _readable_post(store: State, token, post_id: str, verb: str = "get"):
    post = store.post(NAME, post_id)
    if post is None or post.deleted:
        return missing(post_id, verb)
    if token.page_id != post.author:
        return error(403, f"(#10) {READING}", 10)
    return post


# --- Graph -------------------------------------------------------------------------------------


@route(ROUTES, "GET", rf"{V}/me")
def me(store: State, req: Request) -> Response:
    token = _authenticate(store, req)
    if isinstance(token, Response):
        return token
    account = store.account(NAME, token.account_id)
    if token.page_id:
        _, page = store.page(token.page_id)
        node, values = "Page", {"id": page.id, "name": page.name, "category": page.category}
    else:
        node = "User"
        values = {
            "id": account.id,
            "name": account.name,
            "first_name": account.given_name,
            "last_name": account.family_name,
            "short_name": account.given_name,
            "picture": {"data": {"url": account.picture, "is_silhouette": False}},
        }
        if "email" in token.scopes:
            values["email"] = account.email
    data = {}
    for name, _ in _fields(req.arg("fields"), "id,name"):
        if name not in values and not (name == "email" and node == "User"):
            return error(400, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node})", 100)
        if name in values:
            data[name] = values[name]
    return ok(data)


@route(ROUTES, "GET", rf"{V}/me/permissions")
def permissions(store: State, req: Request) -> Response:
    token = _authenticate(store, req)
    if isinstance(token, Response):
        return token
    return ok({"data": [{"permission": s, "status": "granted"} for s in token.scopes]})


@route(ROUTES, "DELETE", rf"{V}/me/permissions")
def deauthorize(store: State, req: Request) -> Response:
    """The member takes the app's access away (Graph: DELETE /{user-id}/permissions): every
    token of this app for the member ends, the Page tokens obtained through it included."""
    token = _authenticate(store, req)
    if isinstance(token, Response):
        return token
    if token.page_id:
        return error(400, "(#100) Tried accessing nonexisting field (permissions) on node type (Page)", 100)
    for other in store.tokens.values():
        if other.network == NAME and other.client_id == token.client_id and other.account_id == token.account_id:
            other.revoked = True
    store.count(NAME, "deauthorizations")
    return ok({"success": True})


@route(ROUTES, "GET", rf"{V}/me/accounts")
def accounts(store: State, req: Request) -> Response:
    token = _authenticate(store, req)
    if isinstance(token, Response):
        return token
    if token.page_id:
        return error(400, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)", 100)
    account = store.account(NAME, token.account_id)
    data = []
    for page in account.pages if "pages_show_list" in token.scopes else []:
        page_token = next(
            (
                t
                for t in store.tokens.values()
                if t.page_id == page.id
                and t.client_id == token.client_id
                and t.expires_at is None
                and not t.revoked
                and token.long_lived
            ),
            None,
        )
        if page_token is None:
            lifetime = None if token.long_lived else token.expires_at - store.now()
            page_token = store.issue_token(
                NAME,
                "access",
                "EAA" + random_alnum(180),
                lifetime=lifetime,
                client_id=token.client_id,
                account_id=account.id,
                scopes=token.scopes,
                page_id=page.id,
            )
        data.append(
            {
                "access_token": page_token.value,
                "category": page.category,
                "category_list": [{"id": "2200", "name": page.category}],
                "name": page.name,
                "id": page.id,
                "tasks": page.tasks,
            }
        )
    cursors = {"before": random_alnum(24), "after": random_alnum(24)}
    return ok({"data": data, "paging": {"cursors": cursors}})


@route(ROUTES, "POST", rf"{V}/(?P<page_id>[0-9]+)/feed")
def publish(store: State, req: Request, page_id: str) -> Response:
    posting = _posting_to(store, req, page_id)
    if isinstance(posting, Response):
        return posting
    token, owner, page = posting
    p = _params(req)
    message, link = p.get("message") or "", p.get("link") or None
    pictures = _attached_media(store, p, page_id)
    if isinstance(pictures, Response):
        return pictures
    if pictures and link:
        return error(400, "(#100) attached_media cannot be used together with link", 100)
    if not message and not link and not pictures:
        return error(400, "(#100) Missing message or attachment", 100)
    if link and not re.fullmatch(r"https?://[^/\s]+\S*", link):
        return error(400, "(#100) The link you provided is not a valid URL", 100)
    now, publish_at = store.now(), None
    published = p.get("published", "true").lower() not in ("false", "0")
    if "scheduled_publish_time" in p:
        when = p["scheduled_publish_time"]
        if published:
            return error(400, "(#100) You cannot specify a scheduled publish time on a published post", 100)
        if not when.isdigit() or not now + 600 <= int(when) <= now + 30 * 86400:
            return error(400, "(#100) The specified scheduled publish time is invalid.", 100)
        publish_at = float(when)
    duplicate = error(
        400,
        "Duplicate status message",
        506,
        1455006,
        is_transient=False,
        error_user_title="Duplicate Status Update",
        error_user_msg="This status update is identical to the last one you posted. Try posting "
        "something different, or delete your previous update.",
    )
    if store.take_fault(NAME, req.path, req.method, [owner.id, page_id], api=True, kinds=("duplicate",)):
        return duplicate
    for post in store.posts_by(NAME, page_id):
        if not post.deleted and (post.raw, post.link) == (message, link) and now - post.created_at < 86400:
            return duplicate
    post = _page_post(store, token, owner, page, page_id, message, link, now, publish_at, pictures)
    return ok({"id": post.id})


@route(ROUTES, "GET", rf"{V}/(?P<page_id>[0-9]+)/(?:feed|posts)")
def page_feed(store: State, req: Request, page_id: str) -> Response:
    token = _authenticate(store, req)
    if isinstance(token, Response):
        return token
    if store.page(page_id)[1] is None:
        return missing(page_id)
    if token.page_id != page_id:
        return error(403, f"(#10) {READING}", 10)
    limit = min(100, int(req.arg("limit"))) if (req.arg("limit") or "").isdigit() else 25
    now = store.now()
    posts = [p for p in store.posts_by(NAME, page_id) if not p.deleted and (p.publish_at or 0) <= now][:limit]
    fields = _fields(req.arg("fields"), "message,created_time,id")
    data = [_post_json(p, fields, now) for p in posts]
    for item in data:
        if isinstance(item, Response):
            return item
    return ok({"data": data, "paging": {"cursors": {"before": random_alnum(24), "after": random_alnum(24)}}})


@route(ROUTES, "GET", rf"{V}/(?P<post_id>[0-9]+_[0-9]+)")
def get_post(store: State, req: Request, post_id: str) -> Response:
    token = _authenticate(store, req)
    if isinstance(token, Response):
        return token
    post = _readable_post(store, token, post_id)
    if isinstance(post, Response):
        return post
    store.count(NAME, "metrics_reads")
    result = _post_json(post, _fields(req.arg("fields"), "message,created_time,id"), store.now())
    return result if isinstance(result, Response) else ok(result)


@route(ROUTES, "GET", rf"{V}/?")
def get_many(store: State, req: Request) -> Response:
    token = _authenticate(store, req, app_ok=True)
    if isinstance(token, Response):
        return token
    ids = [i for i in (_params(req).get("ids") or "").split(",") if i]
    if not ids:
        return error(400, "(#100) Missing the ids parameter", 100)
    if len(ids) > MAX_IDS:
        return error(400, f"(#100) Too many IDs. Maximum: {MAX_IDS}. Provided: {len(ids)}.", 100)
    gone = [i for i in ids if not (p := store.post(NAME, i)) or p.deleted]
    if gone:
        return error(404, f"(#803) Some of the aliases you requested do not exist: {','.join(gone)}", 803)
    fields, result = _fields(req.arg("fields"), "message,created_time,id"), {}
    store.count(NAME, "metrics_reads")
    for post_id in ids:
        post = _readable_post(store, token, post_id)
        data = post if isinstance(post, Response) else _post_json(post, fields, store.now())
        if isinstance(data, Response):
            return data
        result[post_id] = data
    return ok(result)


@route(ROUTES, "POST", rf"(?P<version>{V})/?")
def batch(store: State, req: Request, version: str) -> Response:
    """Batch requests: `batch` is a JSON array of up to 50 `{method, relative_url}`; each
    runs as its own call (and counts as one against the app's limits) with the token in
    its relative_url, else the top-level `access_token` (the fallback, required; an app
    access token may be it). Answers an array, in order, of `{code, headers, body}` with
    the body as a JSON string. Only GET requests are emulated."""
    params = _params(req)
    top = _authenticate(store, req, app_ok=True)
    if isinstance(top, Response):
        return top
    try:
        operations = json.loads(params.get("batch") or "")
    except ValueError:
        operations = None
    if not isinstance(operations, list) or not operations:
        return error(400, "(#100) The parameter batch is required and must be a JSON array", 100)
    if len(operations) > MAX_BATCH:
        return error(400, f"(#100) Too many requests in batch message. Maximum batch size is {MAX_BATCH}", 100)
    with_headers = params.get("include_headers", "true") != "false"
    store.count(NAME, "batches")
    answers = []
    for operation in operations:
        response = _batch_operation(store, version, operation, top.value)
        answer = {"code": response.status, "body": response.body.decode()}
        if with_headers:
            answer["headers"] = [{"name": n, "value": v} for n, v in response.headers]
        answers.append(answer)
    return ok(answers)


def _batch_operation(store: State, version: str, operation, fallback_token: str) -> Response:
    if not isinstance(operation, dict) or not isinstance(operation.get("relative_url"), str):
        return error(400, "(#100) Each batch request needs a relative_url", 100)
    if str(operation.get("method", "GET")).upper() != "GET":
        return error(400, "(#100) The emulator runs only GET requests in a batch", 100)
    relative = operation["relative_url"].lstrip("/")
    path, _, query = relative.partition("?")
    if not re.match(r"v[0-9]+\.0(/|$)", path):
        path = f"{version.strip('/')}/{path}"
    sub = Request("GET", f"/{path}?{query}", {}, b"")
    if not sub.arg("access_token"):
        sub.query["access_token"] = [fallback_token]
    for candidate in ROUTES:
        found = candidate.pattern.fullmatch(sub.raw_path)
        if found and candidate.method == "GET" and candidate.kind == "api":
            return candidate.handler(store, sub, **found.groupdict())
    return error(400, f"(#100) Unknown path components: /{path}", 100)


@route(ROUTES, "DELETE", rf"{V}/(?P<post_id>[0-9]+_[0-9]+)")
def delete(store: State, req: Request, post_id: str) -> Response:
    token = _authenticate(store, req)
    if isinstance(token, Response):
        return token
    post = _readable_post(store, token, post_id, "delete")
    if isinstance(post, Response):
        return post
    if "pages_manage_posts" not in token.scopes:
        return error(403, f"(#200) {POSTING}", 200)
    post.deleted, post.deleted_at = True, store.now()
    store.count(NAME, "posts_deleted")
    return ok({"success": True})


@route(ROUTES, "GET", rf"{V}/(?P<post_id>[0-9]+_[0-9]+)/insights")
def insights(store: State, req: Request, post_id: str) -> Response:
    token = _authenticate(store, req)
    if isinstance(token, Response):
        return token
    post = _readable_post(store, token, post_id)
    if isinstance(post, Response):
        return post
    if "read_insights" not in token.scopes:
        return error(403, "(#10) This endpoint requires the 'read_insights' permission", 10)
    names = [n for n in (req.arg("metric") or "").split(",") if n]
    if not names or any(n not in INSIGHTS for n in names):
        return error(400, "(#100) The value must be a valid insights metric", 100)
    m = post_metrics(post, store.now())
    data = [
        {
            "name": n,
            "period": "lifetime",
            "values": [{"value": m[INSIGHTS[n][0]]}],
            "title": INSIGHTS[n][1],
            "id": f"{post_id}/insights/{n}/lifetime",
        }
        for n in names
    ]
    return ok({"data": data})


@route(ROUTES, "GET", rf"{V}/(?P<node_id>[0-9]+)")
def node(store: State, req: Request, node_id: str) -> Response:
    token = _authenticate(store, req)
    if isinstance(token, Response):
        return token
    _, page = store.page(node_id)
    account = store.account(NAME, node_id)
    if page:
        return ok({"id": page.id, "name": page.name})
    if account:
        return ok({"id": account.id, "name": account.name})
    return missing(node_id)


# --- share dialogs (personal profiles: the member shares by hand) ------------------------------


def _shared(store: State, kind: str, url: str, back: str | None) -> Response:
    store.shares.append(
        {
            "network": NAME,
            "kind": kind,
            "url": url,
            "text": None,
            "at": datetime.fromtimestamp(store.now(), UTC).isoformat(),
        }
    )
    store.count(NAME, "assisted_shares")
    return pages.shared_page(NAME, url, back=back)


@route(ROUTES, "GET", r"/dialog/share", kind="page")
def share_dialog(store: State, req: Request) -> Response:
    app, href, back = store.app(NAME, req.arg("app_id")), req.arg("href") or "", req.arg("redirect_uri")
    if app is None:
        return pages.error_page(400, "Facebook share error", "Invalid app_id.")
    if not re.fullmatch(r"https?://[^/\s]+\S*", href):
        return pages.error_page(400, "Facebook share error", "The href parameter must be an absolute http(s) URL.")
    origins = {re.match(r"https?://[^/]+", u).group(0) for u in app.redirect_uris if re.match(r"https?://", u)}
    if back and not any(back.startswith(o + "/") or back == o for o in origins):
        return pages.error_page(400, "Facebook share error", "redirect_uri is not on a domain of this app.")
    return _shared(store, "share_dialog", href, back + "#_=_" if back else None)


@route(ROUTES, "GET", r"/sharer/sharer\.php", kind="page")
def sharer(store: State, req: Request) -> Response:
    url = req.arg("u") or ""
    if not re.fullmatch(r"https?://[^/\s]+\S*", url):
        return pages.error_page(400, "Facebook share error", "The u parameter must be an absolute http(s) URL.")
    return _shared(store, "sharer", url, None)


# --- Page photos -------------------------------------------------------------------------------
# https://developers.facebook.com/docs/graph-api/reference/page/photos/ (Creating): POST
# /{page-id}/photos with the file as multipart `source` (or `url`), `caption`, `published`
# and `alt_text_custom`, with the Page token (CREATE_CONTENT, pages_manage_posts). Published:
# {"id": photo id, "post_id": "{page}_{post}"}; with published=false an unpublished photo
# {"id"} that a feed post attaches with attached_media=[{"media_fbid": id}] (the multi-photo
# flow of /page/feed). Limits from that page: JPEG, BMP, PNG, GIF, TIFF; 4 MB at most. A
# `url` is not fetched here (the emulator reaches no outside host): refused as unreachable.

PHOTO_TYPES = ("image/jpeg", "image/bmp", "image/png", "image/gif", "image/tiff")
MAX_PHOTO_BYTES = 4 * 1024 * 1024


def _attached_media(store: State, params: dict[str, str], page_id: str):
    raw = params.get("attached_media")
    if raw is None:
        return []
    try:
        items = json.loads(raw)
    except ValueError:
        return error(400, "(#100) param attached_media must be an array of {media_fbid}", 100)
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return error(400, "(#100) param attached_media must be an array of {media_fbid}", 100)
    found = []
    for index, item in enumerate(items):
        picture = media_store.usable(store, NAME, str(item.get("media_fbid") or ""), page_id)
        if picture is None or picture.posts:
            return error(400, f"(#100) param attached_media[{index}] has an invalid media_fbid", 100)
        found.append(picture)
    return found


@route(ROUTES, "POST", rf"{V}/(?P<page_id>[0-9]+)/photos")
def photos(store: State, req: Request, page_id: str) -> Response:
    parts = media_store.multipart(req)
    fields = {k: v.decode("utf-8", "replace") for k, v in parts.items() if k != "source"}
    posting = _posting_to(store, _with_token(req, fields.get("access_token")), page_id)
    if isinstance(posting, Response):
        return posting
    token, owner, page = posting
    params = {**_params(req), **fields}
    data = parts.get("source")
    if data is None:
        if params.get("url"):
            return error(400, "(#100) url should represent a valid URL (the emulator cannot fetch it)", 100)
        return error(400, "(#324) Requires upload file", 324)
    kind, width, height = media_store.sniff(data)
    if kind not in PHOTO_TYPES:
        return error(400, f"(#324) Unsupported image type {kind or 'unknown'}: use JPEG, PNG, GIF, BMP or TIFF", 324)
    if len(data) > MAX_PHOTO_BYTES:
        return error(400, f"(#100) The photo is {len(data)} bytes; photos must be at most 4 MB", 100)
    now = store.now()
    picture = media_store.add(
        store,
        media_store.Media(
            network=NAME,
            id=random_digits(16),
            account_id=page_id,
            mime_type=kind,
            size=len(data),
            width=width,
            height=height,
            alt_text=params.get("alt_text_custom", ""),
            created_at=now,
            uploaded=True,
        ),
    )
    if params.get("published", "true").lower() in ("false", "0"):
        return ok({"id": picture.id})
    caption = params.get("caption") or params.get("message") or ""
    post = _page_post(store, token, owner, page, page_id, caption, None, now, None, [picture])
    return ok({"id": picture.id, "post_id": post.id})


def _posting_to(store: State, req: Request, page_id: str):
    """(token, owner, page) when the request's token may post on the Page, or the error answer."""
    token = _authenticate(store, req)
    if isinstance(token, Response):
        return token
    owner, page = store.page(page_id)
    if page is None:
        return missing(page_id, "post")
    needed = {"pages_manage_posts", "pages_read_engagement"}
    if token.page_id != page_id or not needed <= set(token.scopes) or "CREATE_CONTENT" not in page.tasks:
        return error(403, f"(#200) {POSTING}", 200)
    return token, owner, page


def _page_post(store: State, token, owner, page, page_id, message, link, now, publish_at, pictures) -> Post:
    post = store.add_post(
        Post(
            network=NAME,
            id=f"{page_id}_{random_digits(16)}",
            author=page_id,
            raw=message,
            account_id=owner.id,
            text=message,
            link=link,
            created_at=now,
            publish_at=publish_at,
            client_id=token.client_id,
            extra={"page_name": page.name},
        )
    )
    if pictures:
        post.extra["media"] = [media_store.attached(m, post.id) for m in pictures]
    return post


def _with_token(req: Request, value: str | None) -> Request:
    """The request with a multipart `access_token` moved to the query (Graph reads both)."""
    if value and "access_token" not in req.query:
        req.query["access_token"] = [value]
    return req
