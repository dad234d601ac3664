"""A local emulator of the Slack paths the Slack distribution uses, as strict as Slack, and
of the Slack client that clicks, opens modals and submits them.

Pure standard library plus slack-sdk's signer (`integrations.slack.signing`); its request
plumbing is the network emulator's. One workspace per process, state in memory. Run it with
`python -m integrations.slack.emulator --port 0` or `python manage.py run_slack_emulator
[--demo]`; either prints `SLACK EMULATOR LISTENING http://127.0.0.1:<port>` once it listens.
Tests start it in a thread (`make_server(port=0)`).

Slack's paths (a client's origin is the emulator's URL; the Web API is under /api/):
- GET /oauth/v2/authorize?client_id&scope&redirect_uri&state: the install page (or an
  immediate redirect under auto-approve); an unknown client, a redirect URI the app did not
  register, no or an unknown scope: a 400 page, never a redirect. Allow -> redirect with
  `code` (single use, 10 minutes) and `state`; Cancel -> `error=access_denied`.
- POST /api/oauth.v2.access: client_id and client_secret as HTTP Basic (or in the form),
  code, redirect_uri (the same as at authorize) -> ok, access_token xoxb-..., token_type
  bot, scope, bot_user_id, app_id, team {id, name}, authed_user {id}. Refusals are ok:false
  with invalid_code, code_already_used, bad_redirect_uri, invalid_client_id, bad_client_secret.
- Every other method wants `Authorization: Bearer xoxb-...` (or a `token` parameter):
  not_authed without one, invalid_auth for an unknown one, token_revoked once revoked.
  Arguments come as a query string, a form or a JSON body, as Slack accepts them.
- chat.postMessage (channel, text and/or blocks; a user id as the channel posts in the app's
  DM with that user, as Slack does): channel_not_found, not_in_channel (the
  bot was not invited), is_archived, no_text, invalid_blocks (not a list, more than 50,
  a block without a type), msg_too_long (text over 40,000) -> {channel, ts, message}.
- chat.update (channel, ts, text/blocks): message_not_found, cant_update_message (not the
  bot's own message).
- chat.postEphemeral (channel, user, text): user_not_in_channel -> {message_ts}.
- views.open (trigger_id, view): invalid_trigger_id (unknown), exchanged_trigger_id (used
  once already), expired_trigger_id (older than 3 s on the emulator clock); the view must be
  a modal with a plain_text title of at most 24 characters, at most 100 blocks, input
  blocks with a label and an element, private_metadata of at most 3,000 characters
  (invalid_arguments otherwise) -> {view: {id, ...}}.
- conversations.list (types, exclude_archived, limit 1..1000, cursor) with
  response_metadata.next_cursor; users.info (user: user_not_found) with profile.email only
  under the users:read.email scope; users.lookupByEmail (email: users_not_found).
A 429 comes only from a fault: `{"ok": false, "error": "ratelimited"}` with `Retry-After`.

The Slack client (what a member does in Slack):
- GET / : the workspace, its channels and their messages (buttons as forms);
- POST /_client/click (form: channel, ts, action_id, value, user): a block_actions payload,
  form-encoded `payload=...` and signed with the app's signing secret as Slack signs, sent
  to the app's interactivity request URL with a fresh trigger_id; a modal the app opened
  for it is shown as a form, an ephemeral message as a note;
- POST /_client/views/<id> (the modal's fields): a view_submission payload, signed and
  sent the same way; `response_action: errors` shows the errors on the modal.

Control API (JSON, under /_emulator/):
- POST reset; POST apps {client_id, client_secret, signing_secret, redirect_uris, request_url?}
- POST users {id?, name, email, email_confirmed?: true, is_bot?} -> the user
- POST channels {id?, name, bot_member?: true, archived?: false} -> the channel
- POST click {user, channel, ts, action_id, value, deliver?: true} and
  POST submit {user, view_id, values: {block_id: {action_id: value | [values]}}}: play the
  client; the answer is {status, body, headers, sent: {headers, body}} of the app's reply
  (with deliver false: only the signed request, not sent), plus `view` when one was opened.
- POST faults {"kind": "rate_limit" | "server_error" | "revoke", "times"?: 1,
  "method"?: "chat.postMessage", "retry_after"?: 30}; GET faults
- POST auto_approve {"approve": true | false | null}; POST clock {"advance": seconds}
- GET state (apps, channels, messages, ephemerals, views, counters)
"""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
import sys
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode

from integrations.slack.signing import sign
from networks.emulator import server
from networks.emulator.server import Request, Response, html_response, json_response, redirect, with_params

CODE_LIFETIME = 600
TRIGGER_LIFETIME = 3.0  # seconds: Slack's trigger_id expires three seconds after the click
KNOWN_SCOPES = frozenset(
    {
        "chat:write",
        "chat:write.public",
        "channels:read",
        "groups:read",
        "im:write",
        "users:read",
        "users:read.email",
        "commands",
    }
)
MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_TEXT = 40_000
MAX_TITLE = 24
MAX_METADATA = 3000


@dataclass
class Fault:
    kind: str
    times: int = 1
    method: str = ""
    retry_after: int = 30


@dataclass
class State:
    lock: threading.RLock = field(default_factory=threading.RLock)
    offset: float = 0.0
    team_id: str = "T0DEMO001"
    team_name: str = "Acme (emulated Slack)"
    team_domain: str = "acme-demo"
    app_id: str = "A0ADVOCACY"
    bot_user_id: str = "U0BOT0001"
    apps: dict[str, dict] = field(default_factory=dict)
    codes: dict[str, dict] = field(default_factory=dict)
    tokens: dict[str, dict] = field(default_factory=dict)
    users: dict[str, dict] = field(default_factory=dict)
    channels: dict[str, dict] = field(default_factory=dict)
    messages: list[dict] = field(default_factory=list)
    ephemerals: list[dict] = field(default_factory=list)
    triggers: dict[str, dict] = field(default_factory=dict)
    views: dict[str, dict] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    auto_approve: bool | None = None
    counters: Counter = field(default_factory=Counter)
    seq: int = 0

    def now(self) -> float:
        return time.time() + self.offset

    def next_id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}{self.seq:08d}"

    def reset(self) -> None:
        fresh = State()
        for name in (
            "offset",
            "apps",
            "codes",
            "tokens",
            "users",
            "channels",
            "messages",
            "ephemerals",
            "triggers",
            "views",
            "faults",
            "auto_approve",
        ):
            setattr(self, name, getattr(fresh, name))
        self.counters = Counter()
        self.seq = 0

    def take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if not fault.method or fault.method == method:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                self.counters[f"faults.{fault.kind}"] += 1
                return fault
        return None

    def app(self) -> dict | None:
        """The one app installed in this workspace (the first registered)."""
        return next(iter(self.apps.values()), None)


def add_app(store: State, client_id: str, client_secret: str, signing_secret: str, redirect_uris, request_url=""):
    store.apps[client_id] = {
        "client_id": client_id,
        "client_secret": client_secret,
        "signing_secret": signing_secret,
        "redirect_uris": list(redirect_uris),
        "request_url": request_url,
    }
    return store.apps[client_id]


def add_user(store: State, name: str, email: str, *, user_id: str = "", email_confirmed=True, is_bot=False) -> dict:
    user = {
        "id": user_id or store.next_id("U"),
        "team_id": store.team_id,
        "name": name.split(" ")[0].lower(),
        "real_name": name,
        "deleted": False,
        "is_bot": bool(is_bot),
        "is_email_confirmed": bool(email_confirmed),
        "profile": {"real_name": name, "display_name": name.split(" ")[0], "email": email},
    }
    store.users[user["id"]] = user
    return user


def add_channel(store: State, name: str, *, channel_id: str = "", bot_member=True, archived=False) -> dict:
    channel = {
        "id": channel_id or store.next_id("C"),
        "name": name.lstrip("#"),
        "is_channel": True,
        "is_im": False,
        "is_private": False,
        "is_archived": bool(archived),
        "bot_member": bool(bot_member),
        "created": int(store.now()),
    }
    store.channels[channel["id"]] = channel
    return channel


def seed_workspace(store: State) -> None:
    """A small workspace for the demo: two channels and the demo people (e-mails verified)."""
    add_channel(store, "general", channel_id="C0GENERAL")
    add_channel(store, "marketing-news", channel_id="C0MARKETING")
    add_channel(store, "random", channel_id="C0RANDOM", bot_member=False)


# --- answers in Slack's shape ------------------------------------------------------------------


def ok(**data) -> Response:
    return json_response(200, {"ok": True, **data})


def fail(error: str, **extra) -> Response:
    return json_response(200, {"ok": False, "error": error, **extra})


def _params(req: Request) -> dict:
    """A method's arguments: the query string, then a form or a JSON body (Slack takes all three)."""
    params = {k: v[0] for k, v in req.query.items()}
    if req.method == "POST" and req.body:
        if req.content_type == "application/json":
            try:
                body = req.json()
            except ValueError:
                body = None
            if not isinstance(body, dict):
                raise _BadArguments("invalid_json")
            params.update(body)
        elif req.content_type == "application/x-www-form-urlencoded":
            params.update({k: v[0] for k, v in req.form().items()})
    return params


class _BadArguments(Exception):
    pass


def _json_arg(params: dict, name: str):
    """A structured argument (blocks, view): JSON text in a form, or an object in a JSON body."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise _BadArguments(f"invalid_{name}") from None
    return value


# --- OAuth v2 ----------------------------------------------------------------------------------


CONSENT = server.AppConsent(
    product="Slack",
    path="/oauth/v2/authorize",
    separator=",",
    known_scopes=KNOWN_SCOPES,
    allow=("allow", "Allow"),
    title="Slack (emulator): install app",
    asks="It asks to",
    deny_params={"error": "access_denied"},
    redirect_uri_optional=True,
)


def authorize(store: State, req: Request) -> Response:
    heading = f"The app is requesting permission to access the {store.team_name} workspace"
    consent = server.app_consent(store, req, CONSENT, heading)
    if isinstance(consent, Response):
        return consent
    app, redirect_uri, scopes, params = consent.app, consent.redirect_uri, consent.scopes, consent.params
    extra = {"state": consent.state} if consent.state else {}
    code = f"{store.team_id}.{secrets.token_hex(12)}"
    store.codes[code] = {
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "explicit_redirect": "redirect_uri" in params,
        "scopes": scopes,
        "expires": store.now() + CODE_LIFETIME,
        "used": False,
    }
    store.counters["authorizations"] += 1
    return redirect(with_params(redirect_uri, {"code": code, **extra}))


def _basic(req: Request) -> tuple[str, str] | None:
    scheme, _, value = (req.header("Authorization") or "").strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return user, password


def oauth_access(store: State, req: Request, params: dict) -> Response:
    client_id, client_secret = _basic(req) or (params.get("client_id", ""), params.get("client_secret", ""))
    app = store.apps.get(client_id or "")
    if app is None:
        return fail("invalid_client_id")
    if client_secret != app["client_secret"]:
        return fail("bad_client_secret")
    code = store.codes.get(params.get("code") or "")
    if code is None or code["client_id"] != client_id or code["expires"] < store.now():
        return fail("invalid_code")
    if code["used"]:
        return fail("code_already_used")
    # Slack: the redirect_uri must be the one given to authorize, when one was given there.
    if code["explicit_redirect"] and params.get("redirect_uri") != code["redirect_uri"]:
        return fail("bad_redirect_uri")
    code["used"] = True
    token = "xoxb-" + "-".join([store.team_id, secrets.token_hex(6), secrets.token_urlsafe(18)])
    store.tokens[token] = {"client_id": client_id, "scopes": code["scopes"], "revoked": False}
    store.counters["installs"] += 1
    return ok(
        access_token=token,
        token_type="bot",
        scope=",".join(code["scopes"]),
        bot_user_id=store.bot_user_id,
        app_id=store.app_id,
        team={"id": store.team_id, "name": store.team_name},
        enterprise=None,
        is_enterprise_install=False,
        authed_user={"id": next(iter(store.users), "U0INSTALLER")},
    )


# --- the Web API methods -----------------------------------------------------------------------


def _check_blocks(blocks, limit: int) -> str | None:
    if blocks is None:
        return None
    if not isinstance(blocks, list) or len(blocks) > limit:
        return "invalid_blocks"
    if any(not isinstance(b, dict) or not b.get("type") for b in blocks):
        return "invalid_blocks"
    return None


def _direct_channel(store: State, user_id: str) -> dict:
    """The app's DM with a user (Slack opens it when the app posts to the user's id)."""
    dm_id = "D" + user_id[1:]
    if dm_id not in store.channels:
        store.channels[dm_id] = {
            "id": dm_id,
            "name": f"dm-{store.users[user_id]['name']}",
            "is_channel": False,
            "is_im": True,
            "user": user_id,
            "is_private": True,
            "is_archived": False,
            "bot_member": True,
            "created": int(store.now()),
        }
    return store.channels[dm_id]


def _channel_for_post(store: State, channel_id: str) -> tuple[dict | None, str]:
    if channel_id in store.users:  # a user id: the app's DM with them
        return _direct_channel(store, channel_id), ""
    channel = store.channels.get(channel_id or "")
    if channel is None:
        return None, "channel_not_found"
    if channel["is_archived"]:
        return None, "is_archived"
    if not channel["bot_member"]:
        return None, "not_in_channel"
    return channel, ""


def post_message(store: State, params: dict, token: dict) -> Response:
    channel, problem = _channel_for_post(store, params.get("channel"))
    if problem:
        return fail(problem)
    blocks = _json_arg(params, "blocks")
    text = params.get("text") or ""
    if not text and not blocks:
        return fail("no_text")
    problem = _check_blocks(blocks, MAX_BLOCKS_MESSAGE)
    if problem:
        return fail(problem)
    if len(text) > MAX_TEXT:
        return fail("msg_too_long")
    store.seq += 1
    message = {
        "channel": channel["id"],
        "ts": f"{int(store.now())}.{store.seq:06d}",
        "type": "message",
        "user": store.bot_user_id,
        "bot_id": "B0ADVOCACY",
        "app_id": store.app_id,
        "text": text,
        "blocks": blocks or [],
        "edited": None,
    }
    store.messages.append(message)
    return ok(channel=channel["id"], ts=message["ts"], message={k: v for k, v in message.items() if k != "channel"})


def update_message(store: State, params: dict, token: dict) -> Response:
    if params.get("channel") not in store.channels:
        return fail("channel_not_found")
    message = next(
        (m for m in store.messages if m["channel"] == params.get("channel") and m["ts"] == params.get("ts")), None
    )
    if message is None:
        return fail("message_not_found")
    if message["user"] != store.bot_user_id:
        return fail("cant_update_message")
    blocks = _json_arg(params, "blocks")
    problem = _check_blocks(blocks, MAX_BLOCKS_MESSAGE)
    if problem:
        return fail(problem)
    if not params.get("text") and not blocks:
        return fail("no_text")
    message["text"] = params.get("text") or message["text"]
    if blocks is not None:
        message["blocks"] = blocks
    message["edited"] = {"user": store.bot_user_id, "ts": f"{store.now():.6f}"}
    store.counters["updates"] += 1
    return ok(channel=message["channel"], ts=message["ts"], text=message["text"])


def post_ephemeral(store: State, params: dict, token: dict) -> Response:
    channel, problem = _channel_for_post(store, params.get("channel"))
    if problem:
        return fail(problem)
    if params.get("user") not in store.users:
        return fail("user_not_in_channel")
    if not params.get("text") and not _json_arg(params, "blocks"):
        return fail("no_text")
    stamp = f"{store.now():.6f}"
    store.ephemerals.append(
        {"channel": channel["id"], "user": params["user"], "text": params.get("text") or "", "ts": stamp}
    )
    return ok(message_ts=stamp)


def _check_view(view) -> str | None:
    if not isinstance(view, dict) or view.get("type") != "modal":
        return "the view must be a modal"
    title = view.get("title") or {}
    if title.get("type") != "plain_text" or not title.get("text") or len(title["text"]) > MAX_TITLE:
        return f"title must be plain_text of 1..{MAX_TITLE} characters"
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks or len(blocks) > MAX_BLOCKS_VIEW:
        return f"blocks must be a list of 1..{MAX_BLOCKS_VIEW}"
    for block in blocks:
        if not isinstance(block, dict) or not block.get("type"):
            return "every block needs a type"
        if block["type"] == "input" and (not block.get("label") or not block.get("element")):
            return "an input block needs a label and an element"
    if len(view.get("private_metadata") or "") > MAX_METADATA:
        return f"private_metadata is longer than {MAX_METADATA}"
    if any(b["type"] == "input" for b in blocks) and not view.get("submit"):
        return "a modal with inputs needs a submit button"
    return None


def open_view(store: State, params: dict, token: dict) -> Response:
    trigger = store.triggers.get(params.get("trigger_id") or "")
    if trigger is None:
        return fail("invalid_trigger_id")
    if trigger["used"]:
        return fail("exchanged_trigger_id")
    if trigger["expires"] < store.now():
        return fail("expired_trigger_id")
    view = _json_arg(params, "view")
    problem = _check_view(view)
    if problem:
        return fail("invalid_arguments", response_metadata={"messages": [f"[ERROR] {problem}"]})
    trigger["used"] = True
    view_id = "V" + secrets.token_hex(5).upper()  # unique across runs, as Slack's are
    stored = {
        **view,
        "id": view_id,
        "team_id": store.team_id,
        "app_id": store.app_id,
        "bot_id": "B0ADVOCACY",
        "hash": secrets.token_hex(8),
        "state": {"values": {}},
        "user": trigger["user"],
        "closed": False,
    }
    store.views[view_id] = stored
    trigger["view_id"] = view_id
    store.counters["views.opened"] += 1
    return ok(view={k: v for k, v in stored.items() if k not in ("user", "closed")})


def conversations_list(store: State, params: dict, token: dict) -> Response:
    try:
        limit = int(params.get("limit") or 100)
    except ValueError:
        return fail("invalid_limit")
    if not 1 <= limit <= 1000:
        return fail("invalid_limit")
    exclude = str(params.get("exclude_archived", "")).lower() in ("1", "true")
    types = set(str(params.get("types") or "public_channel").split(","))
    channels = [
        c
        for c in store.channels.values()
        if not (exclude and c["is_archived"]) and ("im" in types if c.get("is_im") else "public_channel" in types)
    ]
    try:
        start = int(base64.b64decode(params["cursor"]).decode()) if params.get("cursor") else 0
    except ValueError:
        return fail("invalid_cursor")
    page = channels[start : start + limit]
    more = start + limit < len(channels)
    return ok(
        channels=[{k: v for k, v in c.items() if k != "bot_member"} | {"is_member": c["bot_member"]} for c in page],
        response_metadata={"next_cursor": base64.b64encode(str(start + limit).encode()).decode() if more else ""},
    )


def _user_view(user: dict, token: dict) -> dict:
    view = json.loads(json.dumps(user))
    if "users:read.email" not in token["scopes"]:
        view["profile"].pop("email", None)
    return view


def users_info(store: State, params: dict, token: dict) -> Response:
    user = store.users.get(params.get("user") or "")
    if user is None:
        return fail("user_not_found")
    return ok(user=_user_view(user, token))


def users_lookup(store: State, params: dict, token: dict) -> Response:
    if "users:read.email" not in token["scopes"]:
        return fail("missing_scope", needed="users:read.email")
    email = (params.get("email") or "").strip().lower()
    user = next((u for u in store.users.values() if u["profile"].get("email", "").lower() == email), None)
    if user is None:
        return fail("users_not_found")
    return ok(user=_user_view(user, token))


METHODS = {
    "chat.postMessage": (post_message, "chat:write"),
    "chat.update": (update_message, "chat:write"),
    "chat.postEphemeral": (post_ephemeral, "chat:write"),
    "views.open": (open_view, ""),
    "conversations.list": (conversations_list, "channels:read"),
    "users.info": (users_info, "users:read"),
    "users.lookupByEmail": (users_lookup, "users:read"),
}


def api(store: State, req: Request, method: str) -> Response:
    try:
        params = _params(req)
    except _BadArguments as bad:
        return fail(str(bad))
    store.counters[method] += 1
    fault = store.take_fault(method)
    if fault is not None:
        if fault.kind == "rate_limit":
            return json_response(
                429, {"ok": False, "error": "ratelimited"}, headers=[("Retry-After", str(fault.retry_after))]
            )
        if fault.kind == "server_error":
            return json_response(500, {"ok": False, "error": "internal_error"})
        for token in store.tokens.values():
            token["revoked"] = True
    if method == "oauth.v2.access":
        return oauth_access(store, req, params)
    entry = METHODS.get(method)
    if entry is None:
        return fail("unknown_method")
    value = req.bearer() or params.get("token")
    if not value:
        return fail("not_authed")
    token = store.tokens.get(value)
    if token is None:
        return fail("invalid_auth")
    if token["revoked"]:
        return fail("token_revoked")
    handler, scope = entry
    if scope and scope not in token["scopes"]:
        return fail("missing_scope", needed=scope, provided=",".join(token["scopes"]))
    try:
        return handler(store, params, token)
    except _BadArguments as bad:
        return fail(str(bad))


# --- the Slack client: clicks and modals, signed as Slack signs them ----------------------------


def _team(store: State) -> dict:
    return {"id": store.team_id, "domain": store.team_domain}


def _user_ref(store: State, user_id: str) -> dict:
    user = store.users.get(user_id) or {"id": user_id, "name": "", "team_id": store.team_id}
    return {"id": user["id"], "username": user.get("name", ""), "name": user.get("name", ""), "team_id": store.team_id}


def block_actions_payload(store: State, *, user: str, channel: str, ts: str, action_id: str, value: str) -> dict:
    """What Slack sends when `user` clicks the button `action_id` of the message `ts`, with a
    fresh trigger_id (valid TRIGGER_LIFETIME seconds, once)."""
    trigger_id = f"{int(store.now())}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
    store.triggers[trigger_id] = {"user": user, "expires": store.now() + TRIGGER_LIFETIME, "used": False}
    message = next((m for m in store.messages if m["channel"] == channel and m["ts"] == ts), None)
    block_id = ""
    for block in (message or {}).get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == action_id:
                block_id = block.get("block_id", "")
    return {
        "type": "block_actions",
        "user": _user_ref(store, user),
        "api_app_id": store.app_id,
        "token": "deprecated-verification-token",
        "container": {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False},
        "trigger_id": trigger_id,
        "team": _team(store),
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": (store.channels.get(channel) or {}).get("name", "")},
        "message": {k: v for k, v in (message or {}).items() if k != "channel"},
        "response_url": "",
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "type": "button",
                "action_ts": f"{store.now():.6f}",
            }
        ],
    }


def _element_state(element: dict, given) -> dict:
    kind = element.get("type")
    if kind == "checkboxes":
        chosen = set(given if isinstance(given, list) else [given] if given else [])
        return {
            "type": "checkboxes",
            "selected_options": [o for o in element.get("options", []) if o.get("value") in chosen],
        }
    if kind == "static_select":
        option = next((o for o in element.get("options", []) if o.get("value") == given), None)
        return {"type": "static_select", "selected_option": option}
    return {"type": kind, "value": given if given not in ("", None) else None}


def view_submission_payload(store: State, *, user: str, view_id: str, values: dict) -> dict:
    """What Slack sends when `user` submits the modal `view_id` with `values`
    ({block_id: {action_id: value or [values]}}): the view with its state filled in."""
    view = store.views[view_id]
    state: dict[str, dict] = {}
    for block in view.get("blocks", []):
        element = block.get("element") or {}
        if block.get("type") != "input" or not element.get("action_id"):
            continue
        given = (values.get(block.get("block_id", "")) or {}).get(element["action_id"])
        state[block["block_id"]] = {element["action_id"]: _element_state(element, given)}
    view["state"] = {"values": state}
    return {
        "type": "view_submission",
        "team": _team(store),
        "user": _user_ref(store, user),
        "api_app_id": store.app_id,
        "token": "deprecated-verification-token",
        "trigger_id": f"{int(store.now())}.{secrets.token_hex(16)}",
        "view": {k: v for k, v in view.items() if k not in ("user", "closed")},
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def signed_request(store: State, payload: dict) -> dict:
    """The form body `payload=<json>` and the headers Slack sends with it, signed with the
    app's signing secret at the emulator's clock."""
    app = store.app()
    body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    headers.update(sign(app["signing_secret"] if app else "", body, int(store.now())))
    return {"url": app["request_url"] if app else "", "headers": headers, "body": body}


def deliver(request: dict, timeout: float = 10.0) -> dict:
    """POST the signed request to the app; its answer (status, headers, body text)."""
    if not request["url"]:
        return {"status": 0, "headers": {}, "body": "The app has no interactivity request URL."}
    if not request["url"].startswith(("http://", "https://")):
        return {"status": 0, "headers": {}, "body": "The request URL must be http(s)."}
    outgoing = urllib.request.Request(  # noqa: S310 (http(s) only, checked above)
        request["url"], data=request["body"].encode(), method="POST", headers=request["headers"]
    )
    try:
        with urllib.request.urlopen(outgoing, timeout=timeout) as answer:  # noqa: S310
            return {"status": answer.status, "headers": dict(answer.headers.items()), "body": answer.read().decode()}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "headers": dict(exc.headers.items()), "body": exc.read().decode()}
    except OSError as exc:
        return {"status": 0, "headers": {}, "body": f"The app did not answer: {exc}"}


def play_click(store: State, data: dict, *, send: bool = True) -> dict:
    with store.lock:
        payload = block_actions_payload(
            store,
            user=data.get("user") or "",
            channel=data.get("channel") or "",
            ts=data.get("ts") or "",
            action_id=data.get("action_id") or "",
            value=data.get("value") or "",
        )
        request = signed_request(store, payload)
    if not send:
        return {"sent": request, "trigger_id": payload["trigger_id"]}
    answer = deliver(request)  # the lock is free: the app calls views.open back meanwhile
    with store.lock:
        view_id = store.triggers[payload["trigger_id"]].get("view_id")
        return {**answer, "sent": request, "trigger_id": payload["trigger_id"], "view": store.views.get(view_id)}


def play_submit(store: State, data: dict, *, send: bool = True) -> dict:
    with store.lock:
        view = store.views.get(data.get("view_id") or "")
        if view is None:
            return {"status": 0, "body": "no such view"}
        payload = view_submission_payload(
            store, user=data.get("user") or view["user"], view_id=view["id"], values=data.get("values") or {}
        )
        request = signed_request(store, payload)
    if not send:
        return {"sent": request}
    answer = deliver(request)
    with store.lock:
        try:
            reply = json.loads(answer["body"]) if answer["body"].strip() else {}
        except ValueError:
            reply = {}
        if answer["status"] == 200 and reply.get("response_action") != "errors":
            view["closed"] = True
        return {**answer, "sent": request, "reply": reply}


# --- the client's pages --------------------------------------------------------------------------


def _esc(value) -> str:
    return html.escape(str(value or ""))


_MRKDWN_TOKEN = re.compile(r"<@([A-Z0-9]+)>|<(https?://[^|>]+)\|([^>]+)>")


def _mrkdwn(store: State, text) -> str:
    """Slack's mrkdwn as the client shows it: <@U..> as @name, <url|label> as a link; the
    rest escaped."""
    text, out, at = str(text or ""), [], 0

    def plain(part: str) -> str:  # Slack's own escapes (&amp; &lt; &gt;) read back, then HTML's
        return _esc(part.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))

    for match in _MRKDWN_TOKEN.finditer(text):
        out.append(plain(text[at : match.start()]))
        if match.group(1):
            out.append("@" + _esc((store.users.get(match.group(1)) or {}).get("real_name") or match.group(1)))
        else:
            out.append(f'<a href="{_esc(match.group(2))}">{plain(match.group(3))}</a>')
        at = match.end()
    out.append(plain(text[at:]))
    return "".join(out)


def _message_html(store: State, message: dict, viewer: str) -> str:
    parts = []
    for block in message.get("blocks") or []:
        if block.get("type") in ("section", "context", "header"):
            texts = [block.get("text") or {}, *list(block.get("elements") or [])]
            parts.append("<p>" + " ".join(_mrkdwn(store, t.get("text")) for t in texts if isinstance(t, dict)) + "</p>")
        elif block.get("type") == "actions":
            for element in block.get("elements") or []:
                if element.get("type") != "button":
                    continue
                parts.append(
                    '<form method="post" action="/_client/click" style="display:inline">'
                    f'<input type="hidden" name="channel" value="{_esc(message["channel"])}">'
                    f'<input type="hidden" name="ts" value="{_esc(message["ts"])}">'
                    f'<input type="hidden" name="action_id" value="{_esc(element.get("action_id"))}">'
                    f'<input type="hidden" name="value" value="{_esc(element.get("value"))}">'
                    f'<input type="hidden" name="user" value="{_esc(viewer)}">'
                    f"<button>{_esc((element.get('text') or {}).get('text'))}</button></form>"
                )
    if not parts:
        parts.append(f"<p>{_esc(message.get('text'))}</p>")
    edited = " <small>(edited)</small>" if message.get("edited") else ""
    return f'<div class="message"><b>advocacy app</b>{edited}{"".join(parts)}</div>'


def _users_select(store: State, viewer: str) -> str:
    options = "".join(
        f'<option value="{_esc(u["id"])}"{" selected" if u["id"] == viewer else ""}>'
        f"{_esc(u['real_name'])} ({_esc(u['profile'].get('email'))})</option>"
        for u in store.users.values()
    )
    return (
        '<form method="get" action="/">You are: <select name="as" onchange="this.form.submit()">'
        f"{options}</select> <noscript><button>Switch</button></noscript></form>"
    )


def client_home(store: State, req: Request, note: str = "") -> Response:
    viewer = req.arg("as") or next(iter(store.users), "")
    sections = []
    for channel in store.channels.values():
        if channel.get("is_im") and channel.get("user") != viewer:
            continue  # another person's DM with the app
        messages = [m for m in store.messages if m["channel"] == channel["id"]]
        notes = [e for e in store.ephemerals if e["channel"] == channel["id"] and e["user"] == viewer]
        body = "".join(_message_html(store, m, viewer) for m in messages) or "<p><i>No messages.</i></p>"
        body += "".join(f'<div class="ephemeral"><i>Only visible to you:</i> {_esc(e["text"])}</div>' for e in notes)
        member = "" if channel["bot_member"] else " <small>(app not invited)</small>"
        heading = "Direct messages from the app" if channel.get("is_im") else f"#{_esc(channel['name'])}"
        sections.append(f"<section><h2>{heading}{member}</h2>{body}</section>")
    apps = ", ".join(_esc(a["client_id"]) for a in store.apps.values()) or "none"
    return html_response(
        200,
        "<!doctype html><title>Slack emulator</title>"
        "<style>.message,.ephemeral{border:1px solid #ccc;padding:.5em;margin:.5em 0}"
        ".ephemeral{background:#f4f4f4}.error{color:#b00}</style>"
        f"<h1>Slack emulator: {_esc(store.team_name)}</h1><p>App: {apps}. Installs: {store.counters['installs']}.</p>"
        f"{_users_select(store, viewer)}{note}{''.join(sections)}",
    )


def _view_form(store: State, view: dict, errors: dict | None = None, values: dict | None = None) -> str:
    errors, values = errors or {}, values or {}
    rows = []
    for block in view.get("blocks") or []:
        block_id = block.get("block_id", "")
        if block.get("type") == "input":
            element = block.get("element") or {}
            name = f"{block_id}|{element.get('action_id', '')}"
            label = _esc((block.get("label") or {}).get("text"))
            if element.get("type") == "checkboxes":
                chosen = set(values.get(name) or [o.get("value") for o in element.get("initial_options") or []])
                field_html = "".join(
                    f'<label><input type="checkbox" name="{_esc(name)}" value="{_esc(o.get("value"))}"'
                    f"{' checked' if o.get('value') in chosen else ''}> "
                    f"{_esc((o.get('text') or {}).get('text'))}</label><br>"
                    for o in element.get("options") or []
                )
            else:
                current = values.get(name, [element.get("initial_value") or ""])
                field_html = (
                    f'<textarea name="{_esc(name)}" rows="6" cols="70">{_esc(current[0] if current else "")}</textarea>'
                )
            hint = f"<br><small>{_esc((block.get('hint') or {}).get('text'))}</small>" if block.get("hint") else ""
            error = f'<div class="error">{_esc(errors[block_id])}</div>' if block_id in errors else ""
            rows.append(f"<fieldset><legend>{label}</legend>{field_html}{hint}{error}</fieldset>")
        elif block.get("type") in ("section", "context"):
            texts = [block.get("text") or {}, *list(block.get("elements") or [])]
            rows.append("<p>" + " ".join(_mrkdwn(store, t.get("text")) for t in texts if isinstance(t, dict)) + "</p>")
    submit = _esc((view.get("submit") or {}).get("text") or "Submit")
    return (
        "<!doctype html><title>Slack emulator: modal</title><style>.error{color:#b00}</style>"
        f"<h1>{_esc((view.get('title') or {}).get('text'))}</h1>"
        f'<form method="post" action="/_client/views/{_esc(view["id"])}">{"".join(rows)}'
        f"<button>{submit}</button></form>"
        f'<p><a href="/?as={_esc(view["user"])}">Close</a></p>'
    )


def client_click(store: State, req: Request) -> Response:
    form = {k: v[0] for k, v in req.form().items()}
    result = play_click(store, form)
    if result.get("view"):
        return html_response(200, _view_form(store, result["view"]))
    note = ""
    if result["status"] != 200:
        note = f'<p class="error">The app answered {result["status"]}: {_esc(result["body"][:300])}</p>'
    return redirect_home(store, form.get("user", ""), note)


def redirect_home(store: State, user: str, note: str) -> Response:
    fake = Request("GET", f"/?{urlencode({'as': user})}", {}, b"")
    return client_home(store, fake, note)


def client_submit(store: State, req: Request, view_id: str) -> Response:
    raw = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
    values: dict[str, dict] = {}
    with store.lock:
        view = store.views.get(view_id)
        if view is None:
            return html_response(404, "<h1>No such modal</h1>")
        kinds = {
            f"{b.get('block_id')}|{(b.get('element') or {}).get('action_id')}": (b.get("element") or {}).get("type")
            for b in view.get("blocks") or []
            if b.get("type") == "input"
        }
    for name, kind in kinds.items():
        block_id, _, action_id = name.partition("|")
        given = raw.get(name, [])
        values.setdefault(block_id, {})[action_id] = given if kind == "checkboxes" else (given[0] if given else "")
    result = play_submit(store, {"view_id": view_id, "values": values})
    reply = result.get("reply") or {}
    if result.get("status") == 200 and reply.get("response_action") == "errors":
        return html_response(400, _view_form(store, view, reply.get("errors") or {}, raw))
    if result.get("status") != 200:
        note = f'<p class="error">The app answered {result.get("status")}: {_esc(result.get("body", "")[:300])}</p>'
        return html_response(502, _view_form(store, view, {}, raw) + note)
    return redirect(f"/?{urlencode({'as': view['user']})}")


# --- control ---------------------------------------------------------------------------------------


def control(store: State, req: Request, name: str) -> Response:
    try:
        body = req.json() if req.body else {}
    except ValueError:
        return json_response(400, {"error": "the body must be JSON"})
    if name == "click" and req.method == "POST":
        return json_response(200, play_click(store, body, send=body.get("deliver", True)))
    if name == "submit" and req.method == "POST":
        return json_response(200, play_submit(store, body, send=body.get("deliver", True)))
    with store.lock:
        if name == "reset" and req.method == "POST":
            store.reset()
            return json_response(200, {"reset": True})
        if name == "apps" and req.method == "POST":
            app = add_app(
                store,
                body["client_id"],
                body["client_secret"],
                body["signing_secret"],
                body.get("redirect_uris") or [],
                body.get("request_url") or "",
            )
            return json_response(201, app)
        if name == "users" and req.method == "POST":
            user = add_user(
                store,
                body.get("name") or "Someone",
                body.get("email") or "",
                user_id=body.get("id") or "",
                email_confirmed=body.get("email_confirmed", True),
                is_bot=body.get("is_bot", False),
            )
            return json_response(201, user)
        if name == "channels" and req.method == "POST":
            channel = add_channel(
                store,
                body.get("name") or "general",
                channel_id=body.get("id") or "",
                bot_member=body.get("bot_member", True),
                archived=body.get("archived", False),
            )
            return json_response(201, channel)
        shared = server.shared_controls(
            store,
            req,
            name,
            body,
            fault_kinds=("rate_limit", "server_error", "revoke"),
            fault_from=lambda kind, body: Fault(
                kind, int(body.get("times") or 1), str(body.get("method") or ""), int(body.get("retry_after") or 30)
            ),
            clock=State.now,
        )
        if shared is not None:
            return shared
        if name == "state" and req.method == "GET":
            return json_response(
                200,
                {
                    "team": {"id": store.team_id, "name": store.team_name},
                    "apps": list(store.apps.values()),
                    "channels": list(store.channels.values()),
                    "users": list(store.users.values()),
                    "messages": store.messages,
                    "ephemerals": store.ephemerals,
                    "views": [{k: v for k, v in view.items()} for view in store.views.values()],
                    "tokens": [{"revoked": t["revoked"], "scopes": t["scopes"]} for t in store.tokens.values()],
                    "faults": [vars(f) for f in store.faults],
                    "counters": dict(store.counters),
                },
            )
    return json_response(404, {"error": f"no control {req.method} /_emulator/{name}"})


# --- dispatch ----------------------------------------------------------------------------------------


def dispatch(store: State, req: Request) -> Response:
    path = req.path
    if path.startswith("/_emulator/"):
        return control(store, req, path[len("/_emulator/") :])
    if path == "/_client/click" and req.method == "POST":
        return client_click(store, req)
    if path.startswith("/_client/views/") and req.method == "POST":
        return client_submit(store, req, path[len("/_client/views/") :])
    with store.lock:
        store.counters["requests"] += 1
        if path == "/" and req.method == "GET":
            return client_home(store, req)
        if path == "/oauth/v2/authorize" and req.method in ("GET", "POST"):
            return authorize(store, req)
        if path.startswith("/api/") and req.method in ("GET", "POST"):
            return api(store, req, path[len("/api/") :])
        return json_response(404, {"ok": False, "error": "unknown_method"})


def _dispatch(store: State, req: Request) -> Response:
    try:
        return dispatch(store, req)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return json_response(500, {"ok": False, "error": "internal_error"})


# make_server(host, port, *, verbose, store) for the tests, serve(...) for the management
# command, main() for `python -m`: the network emulator's HTTP plumbing with this dispatcher.
make_server, serve, main = server.entry_points(
    dispatcher=_dispatch, state=State, port=8779, prog="python -m integrations.slack.emulator", banner="SLACK EMULATOR"
)


if __name__ == "__main__":
    main()
