"""A local emulator of the HubSpot paths the deal sync uses, as strict as HubSpot.

Pure standard library (its request plumbing is the network emulator's). One portal per
process, state in memory. Run it with `python -m integrations.hubspot.emulator --port 0`
or `python manage.py run_hubspot_emulator [--demo]`; either prints one line,
`HUBSPOT EMULATOR LISTENING http://127.0.0.1:<port>`, once it listens. Tests start it in a
thread (`make_server(port=0)`).

HubSpot's paths (a client's `origin` is the emulator's URL):
- GET /oauth/authorize?client_id&redirect_uri&scope&state: the consent page (or an
  immediate redirect with `code` under auto-approve); unknown client, a redirect URI not
  registered, a missing or unknown scope: a 400 page, never a redirect.
- POST /oauth/v1/token (form): grant_type authorization_code (code single-use, 5 minutes,
  same redirect_uri) or refresh_token; client_id and client_secret in the body. Access
  tokens live 1,800 s on the emulator clock; refresh tokens do not rotate. Refusals are
  400 {"status": "BAD_AUTH_CODE" | "BAD_REFRESH_TOKEN" | "BAD_CLIENT_ID" |
  "BAD_REDIRECT_URI" | "BAD_GRANT_TYPE", "message"}.
- GET /oauth/v1/access-tokens/{token}: hub_id, hub_domain, user, scopes, expires_in.
- POST /crm/v3/objects/deals/search: Bearer required (401 INVALID_AUTHENTICATION, or
  EXPIRED_AUTHENTICATION past 30 minutes); `limit` 1..200 (default 10), at most 5
  filterGroups of at most 6 filters (18 in all), operators EQ NEQ LT LTE GT GTE
  HAS_PROPERTY NOT_HAS_PROPERTY, at most one sort; `after` an offset; paging stops at
  10,000 results (400 beyond); `paging.next.after` only when more remain.
- POST /crm/v3/associations/deals/contacts/batch/read: at most 1,000 inputs; deals without
  contacts come back in `errors` with status 207.
- POST /crm/v3/objects/contacts/batch/read: at most 100 inputs; unknown ids in `errors`
  with status 207.
Every answer of a CRM path counts against nothing (no natural limit); a 429 comes only
from a fault: HubSpot's body `{"status": "error", "errorType": "RATE_LIMIT",
"policyName": "SECONDLY", ...}` with `Retry-After: <seconds>`.

Control API (JSON, under /_emulator/):
- POST reset; POST apps {"client_id", "client_secret", "redirect_uris"}
- POST contacts {"id"?, "email", "properties"?} -> 201 the contact
- POST deals {"id"?, "properties", "contacts": [ids]} -> 201 the deal;
  PATCH deals/{id} {"properties"} -> the deal, hs_lastmodifieddate now (a dealstage
  recomputes HubSpot's calculated hs_is_closed_won, "true" for "closedwon", and
  hs_is_closed, "true" for "closedwon" and "closedlost", the default pipeline's closed
  stages; any other stage is open: "false")
- POST faults {"kind": "rate_limit" | "server_error" | "expire_tokens" | "revoke",
  "times"?: 1, "path"?: substring, "retry_after"?: 10}; GET faults. Without `path` a fault
  fires on /crm/ calls only.
- POST auto_approve {"approve": true | false | null} (null: the consent page again)
- POST clock {"advance": seconds}; GET state (apps, tokens, deals, contacts, counters)
"""

from __future__ import annotations

import html
import json
import re
import secrets
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from networks.emulator import server
from networks.emulator.server import Request, Response, html_response, json_response, redirect, with_params

TOKEN_LIFETIME = 1800  # seconds: HubSpot's access tokens last 30 minutes
CODE_LIFETIME = 300
SEARCH_MAX_LIMIT = 200
SEARCH_DEFAULT_LIMIT = 10
SEARCH_MAX_RESULTS = 10_000
CONTACTS_BATCH_MAX = 100
ASSOCIATIONS_BATCH_MAX = 1000
KNOWN_SCOPES = frozenset(
    {
        "oauth",
        "crm.objects.deals.read",
        "crm.objects.contacts.read",
        "crm.objects.companies.read",
        "crm.schemas.deals.read",
    }
)
OPERATORS = frozenset({"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "HAS_PROPERTY", "NOT_HAS_PROPERTY"})
CLOSED_STAGES = frozenset({"closedwon", "closedlost"})  # the default pipeline's closed stages
DATE_PROPERTIES = frozenset({"hs_lastmodifieddate", "closedate", "createdate", "lastmodifieddate"})
DEAL_DEFAULTS = (
    "amount",
    "closedate",
    "createdate",
    "dealname",
    "dealstage",
    "hs_lastmodifieddate",
    "hs_object_id",
    "pipeline",
)
CONTACT_DEFAULTS = ("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Fault:
    kind: str
    times: int = 1
    path: str = ""
    retry_after: int = 10


@dataclass
class State:
    lock: threading.RLock = field(default_factory=threading.RLock)
    offset: float = 0.0
    hub_id: int = 4242001
    hub_domain: str = "demo-advocacy.hubspot.com"
    apps: dict[str, dict] = field(default_factory=dict)
    codes: dict[str, dict] = field(default_factory=dict)
    access: dict[str, dict] = field(default_factory=dict)
    refresh: dict[str, dict] = field(default_factory=dict)
    contacts: dict[str, dict] = field(default_factory=dict)
    deals: dict[str, dict] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    auto_approve: bool | None = None
    counters: Counter = field(default_factory=Counter)
    next_id: int = 1000

    def now(self) -> float:
        return time.time() + self.offset

    def now_ms(self) -> int:
        return int(self.now() * 1000)

    def new_id(self) -> str:
        self.next_id += 1
        return str(self.next_id)

    def reset(self) -> None:
        fresh = State()
        for name in ("offset", "apps", "codes", "access", "refresh", "contacts", "deals", "faults", "auto_approve"):
            setattr(self, name, getattr(fresh, name))
        self.counters = Counter()
        self.next_id = 1000

    def take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            hits = (fault.path in path) if fault.path else path.startswith("/crm/")
            if hits:
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                self.counters[f"faults.{fault.kind}"] += 1
                return fault
        return None


# --- errors in HubSpot's shape -------------------------------------------------------------


def hubspot_error(status: int, category: str, message: str, **extra) -> Response:
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}
    return json_response(status, body)


def token_error(status_word: str, message: str) -> Response:
    return json_response(400, {"status": status_word, "message": message, "correlationId": str(uuid.uuid4())})


def rate_limited(retry_after: int) -> Response:
    body = {
        "status": "error",
        "message": "You have reached your secondly limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": "SECONDLY",
        "groupName": "publicapi:crm-search",
    }
    return json_response(429, body, headers=[("Retry-After", str(retry_after))])


def validation_error(message: str) -> Response:
    return hubspot_error(400, "VALIDATION_ERROR", message)


# --- OAuth ---------------------------------------------------------------------------------


CONSENT = server.AppConsent(
    product="HubSpot",
    path="/oauth/authorize",
    separator=" ",
    known_scopes=KNOWN_SCOPES,
    allow=("approve", "Connect app"),
    title="HubSpot (emulator): connect app",
    asks="It asks to read",
    deny_params={"error": "access_denied", "error_description": "The user cancelled."},
)


def authorize(store: State, req: Request) -> Response:
    consent = server.app_consent(store, req, CONSENT, f"Connect the app to {store.hub_domain}?")
    if isinstance(consent, Response):
        return consent
    app, redirect_uri, scopes = consent.app, consent.redirect_uri, consent.scopes
    extra = {"state": consent.state} if consent.state else {}
    code = "hsc-" + secrets.token_urlsafe(18)
    store.codes[code] = {
        "client_id": app["client_id"],
        "redirect_uri": redirect_uri,
        "scopes": scopes,
        "expires": store.now() + CODE_LIFETIME,
    }
    store.counters["authorizations"] += 1
    return redirect(with_params(redirect_uri, {"code": code, **extra}))


def token(store: State, req: Request) -> Response:
    if req.content_type != "application/x-www-form-urlencoded":
        return token_error("BAD_REQUEST", "The body must be application/x-www-form-urlencoded.")
    params = {name: values[0] for name, values in req.form().items()}
    app = store.apps.get(params.get("client_id") or "")
    if app is None:
        return token_error("BAD_CLIENT_ID", "missing or invalid client id")
    if params.get("client_secret") != app["client_secret"]:
        return token_error("BAD_CLIENT_SECRET", "missing or invalid client secret")
    grant = params.get("grant_type")
    if grant == "authorization_code":
        code = store.codes.pop(params.get("code") or "", None)
        if code is None or code["expires"] < store.now() or code["client_id"] != app["client_id"]:
            return token_error("BAD_AUTH_CODE", "missing or unknown auth code")
        if params.get("redirect_uri") != code["redirect_uri"]:
            return token_error("BAD_REDIRECT_URI", "redirect_uri does not match the one used to authorize")
        refresh_token = "hsr-" + secrets.token_urlsafe(24)
        store.refresh[refresh_token] = {"client_id": app["client_id"], "scopes": code["scopes"], "revoked": False}
    elif grant == "refresh_token":
        refresh_token = params.get("refresh_token") or ""
        known = store.refresh.get(refresh_token)
        if known is None or known["revoked"] or known["client_id"] != app["client_id"]:
            return token_error("BAD_REFRESH_TOKEN", "missing or invalid refresh token")
        store.counters["refreshes"] += 1
    else:
        return token_error("BAD_GRANT_TYPE", "grant_type must be authorization_code or refresh_token")
    access_token = "hsa-" + secrets.token_urlsafe(32)
    store.access[access_token] = {
        "client_id": app["client_id"],
        "refresh_token": refresh_token,
        "scopes": store.refresh[refresh_token]["scopes"],
        "expires": store.now() + TOKEN_LIFETIME,
        "revoked": False,
    }
    return json_response(
        200,
        {
            "token_type": "bearer",
            "refresh_token": refresh_token,
            "access_token": access_token,
            "expires_in": TOKEN_LIFETIME,
        },
    )


def token_info(store: State, req: Request, value: str) -> Response:
    known = store.access.get(value)
    if known is None or known["revoked"]:
        return hubspot_error(404, "OBJECT_NOT_FOUND", "The access token was not found.")
    if known["expires"] < store.now():
        return hubspot_error(401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired.")
    return json_response(
        200,
        {
            "token": value,
            "user": "admin@demo-advocacy.test",
            "hub_domain": store.hub_domain,
            "scopes": known["scopes"],
            "hub_id": store.hub_id,
            "app_id": 1,
            "expires_in": int(known["expires"] - store.now()),
            "user_id": 1,
            "token_type": "access",
        },
    )


def bearer_problem(store: State, req: Request) -> Response | None:
    value = req.bearer()
    if not value:
        return hubspot_error(
            401,
            "INVALID_AUTHENTICATION",
            "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
        )
    known = store.access.get(value)
    if known is None or known["revoked"]:
        return hubspot_error(401, "INVALID_AUTHENTICATION", "Authentication credentials are not valid.")
    if known["expires"] < store.now():
        return hubspot_error(
            401,
            "EXPIRED_AUTHENTICATION",
            "The OAuth token used to make this call expired 0 second(s) ago.",
        )
    return None


# --- CRM -----------------------------------------------------------------------------------


def _ms(value: Any) -> int | None:
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000)


def _comparable(name: str, value: Any):
    if value is None:
        return None
    if name in DATE_PROPERTIES:
        return _ms(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value).lower()


def _matches(properties: dict, flt: dict) -> bool:
    name, operator = flt["propertyName"], flt["operator"]
    have = properties.get(name)
    if operator == "HAS_PROPERTY":
        return have not in (None, "")
    if operator == "NOT_HAS_PROPERTY":
        return have in (None, "")
    left, right = _comparable(name, have), _comparable(name, flt.get("value"))
    if left is None or right is None:
        return operator == "NEQ"
    try:
        return {
            "EQ": left == right,
            "NEQ": left != right,
            "LT": left < right,
            "LTE": left <= right,
            "GT": left > right,
            "GTE": left >= right,
        }[operator]
    except TypeError:
        return False


def _record(record: dict, wanted: list[str] | None, defaults: tuple[str, ...]) -> dict:
    names = list(dict.fromkeys([*defaults, *(wanted or [])]))
    properties = {name: record["properties"].get(name) for name in names}
    return {
        "id": record["id"],
        "properties": properties,
        "createdAt": record["properties"]["createdate"],
        "updatedAt": record["properties"].get("hs_lastmodifieddate") or record["properties"].get("lastmodifieddate"),
        "archived": False,
    }


def search_deals(store: State, req: Request) -> Response:
    try:
        body = req.json() if req.body else {}
    except ValueError:
        return validation_error("Invalid input JSON on line 1.")
    if not isinstance(body, dict):
        return validation_error("The body must be a JSON object.")
    limit = body.get("limit", SEARCH_DEFAULT_LIMIT)
    if not isinstance(limit, int) or not 1 <= limit <= SEARCH_MAX_LIMIT:
        return validation_error(f"limit must be between 1 and {SEARCH_MAX_LIMIT}, got {limit!r}.")
    groups = body.get("filterGroups") or []
    if len(groups) > 5 or any(len(g.get("filters") or []) > 6 for g in groups):
        return validation_error("At most 5 filterGroups of at most 6 filters each.")
    if sum(len(g.get("filters") or []) for g in groups) > 18:
        return validation_error("At most 18 filters in all.")
    for group in groups:
        for flt in group.get("filters") or []:
            if flt.get("operator") not in OPERATORS or not flt.get("propertyName"):
                return validation_error(f"Unsupported filter: {json.dumps(flt)}.")
    sorts = body.get("sorts") or []
    if len(sorts) > 1 or any(
        not isinstance(s, dict) or s.get("direction") not in ("ASCENDING", "DESCENDING") for s in sorts
    ):
        return validation_error('At most one sort: {"propertyName", "direction": ASCENDING | DESCENDING}.')
    after = str(body.get("after") or "0")
    if not after.isdigit():
        return validation_error(f"after must be the paging cursor of the previous page, got {after!r}.")
    offset = int(after)
    if offset >= SEARCH_MAX_RESULTS:
        return validation_error(f"Paging beyond {SEARCH_MAX_RESULTS} results is not supported; narrow the filters.")
    found = [
        deal
        for deal in store.deals.values()
        if not groups or any(all(_matches(deal["properties"], f) for f in g.get("filters") or []) for g in groups)
    ]
    if sorts:
        name, descending = sorts[0]["propertyName"], sorts[0]["direction"] == "DESCENDING"
        found.sort(key=lambda d: (_comparable(name, d["properties"].get(name)) or 0, int(d["id"])), reverse=descending)
    else:
        found.sort(key=lambda d: int(d["id"]))
    reachable = found[:SEARCH_MAX_RESULTS]
    page = reachable[offset : offset + limit]
    answer: dict[str, Any] = {
        "total": len(found),
        "results": [_record(d, body.get("properties"), DEAL_DEFAULTS) for d in page],
    }
    if offset + limit < len(reachable):
        following = str(offset + limit)
        answer["paging"] = {"next": {"after": following, "link": f"?after={following}"}}
    store.counters["deal_searches"] += 1
    return json_response(200, answer)


def _inputs(req: Request, maximum: int) -> tuple[list[str], dict, Response | None]:
    try:
        body = req.json()
    except ValueError:
        return [], {}, validation_error("Invalid input JSON on line 1.")
    inputs = body.get("inputs") if isinstance(body, dict) else None
    if not isinstance(inputs, list) or not all(isinstance(i, dict) and i.get("id") for i in inputs):
        return [], {}, validation_error('inputs must be a list of {"id": "..."}.')
    if len(inputs) > maximum:
        return [], {}, validation_error(f"Batch input is limited to {maximum} inputs, got {len(inputs)}.")
    return [str(i["id"]) for i in inputs], body, None


def _batch(results: list[dict], errors: list[dict]) -> Response:
    now = iso(datetime.now(UTC))
    body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}
    if errors:
        body.update(numErrors=len(errors), errors=errors)
    return json_response(207 if errors else 200, body)


def deal_contacts(store: State, req: Request) -> Response:
    ids, _body, problem = _inputs(req, ASSOCIATIONS_BATCH_MAX)
    if problem:
        return problem
    results, missing = [], []
    for deal_id in ids:
        contacts = (store.deals.get(deal_id) or {}).get("contacts") or []
        if contacts:
            results.append({"from": {"id": deal_id}, "to": [{"id": c, "type": "deal_to_contact"} for c in contacts]})
        else:
            missing.append(deal_id)
    errors = [
        {
            "status": "error",
            "category": "OBJECT_NOT_FOUND",
            "message": f"No contact is associated with deal {deal_id}.",
            "context": {"fromObjectId": [deal_id]},
        }
        for deal_id in missing
    ]
    return _batch(results, errors)


def read_contacts(store: State, req: Request) -> Response:
    ids, body, problem = _inputs(req, CONTACTS_BATCH_MAX)
    if problem:
        return problem
    found = [store.contacts[i] for i in dict.fromkeys(ids) if i in store.contacts]
    missing = [i for i in ids if i not in store.contacts]
    errors = []
    if missing:
        errors.append(
            {
                "status": "error",
                "category": "OBJECT_NOT_FOUND",
                "message": "Could not get some CONTACT objects, they may be deleted or not exist.",
                "context": {"ids": missing},
            }
        )
    return _batch([_record(c, body.get("properties"), CONTACT_DEFAULTS) for c in found], errors)


# --- control -------------------------------------------------------------------------------


def _deal_view(deal: dict) -> dict:
    return {"id": deal["id"], "properties": dict(deal["properties"]), "contacts": list(deal["contacts"])}


def _stamp(store: State, properties: dict, changed: dict) -> None:
    """A change now: hs_lastmodifieddate moves, and a new stage recomputes hs_is_closed_won
    and hs_is_closed (as HubSpot's calculated properties do)."""
    properties["hs_lastmodifieddate"] = iso(datetime.fromtimestamp(store.now_ms() / 1000, UTC))
    if "dealstage" in changed and "hs_is_closed_won" not in changed:
        properties["hs_is_closed_won"] = "true" if properties["dealstage"] == "closedwon" else "false"
    if "dealstage" in changed and "hs_is_closed" not in changed:
        properties["hs_is_closed"] = "true" if properties["dealstage"] in CLOSED_STAGES else "false"


def add_app(store: State, client_id: str, client_secret: str, redirect_uris) -> dict:
    """Register (or replace) an app that may ask for consent and tokens."""
    app = {"client_id": client_id, "client_secret": client_secret, "redirect_uris": [str(u) for u in redirect_uris]}
    store.apps[client_id] = app
    return app


def add_contact(store: State, email: str, properties: dict, contact_id: str | None = None) -> dict:
    contact_id = str(contact_id or store.new_id())
    created = iso(datetime.fromtimestamp(store.now(), UTC))
    values = {"createdate": created, "lastmodifieddate": created, "hs_object_id": contact_id}
    values.update({k: (None if v is None else str(v)) for k, v in properties.items()})
    if email:
        values["email"] = str(email)
    store.contacts[contact_id] = {"id": contact_id, "properties": values}
    return store.contacts[contact_id]


def add_deal(store: State, properties: dict, contacts, deal_id: str = "") -> dict:
    """A deal modified now (its hs_lastmodifieddate on the emulator clock)."""
    deal_id = deal_id or store.new_id()
    values = {
        "createdate": iso(datetime.fromtimestamp(store.now(), UTC)),
        "hs_object_id": deal_id,
        "pipeline": "default",
    }
    values.update({k: (None if v is None else str(v)) for k, v in properties.items()})
    _stamp(store, values, properties)
    store.deals[deal_id] = {"id": deal_id, "properties": values, "contacts": [str(c) for c in contacts]}
    return _deal_view(store.deals[deal_id])


def control(store: State, req: Request, name: str) -> Response:
    try:
        body = req.json() if req.body else {}
    except ValueError:
        return json_response(400, {"error": "JSON body expected"})
    if name == "reset" and req.method == "POST":
        store.reset()
        return json_response(200, {})
    if name == "apps" and req.method == "POST":
        app = add_app(
            store, str(body["client_id"]), str(body.get("client_secret") or ""), body.get("redirect_uris") or []
        )
        return json_response(201, app)
    if name == "contacts" and req.method == "POST":
        return json_response(
            201, add_contact(store, body.get("email") or "", body.get("properties") or {}, body.get("id"))
        )
    if name == "deals" and req.method == "POST":
        deal_id = str(body.get("id") or "")
        if deal_id in store.deals:
            return json_response(409, {"error": f"deal {deal_id} exists"})
        unknown = [c for c in body.get("contacts") or [] if str(c) not in store.contacts]
        if unknown:
            return json_response(400, {"error": f"unknown contacts {unknown}"})
        return json_response(201, add_deal(store, body.get("properties") or {}, body.get("contacts") or [], deal_id))
    match = re.fullmatch(r"deals/(\d+)", name)
    if match and req.method == "PATCH":
        deal = store.deals.get(match.group(1))
        if deal is None:
            return json_response(404, {"error": "no such deal"})
        changed = body.get("properties") or {}
        deal["properties"].update({k: (None if v is None else str(v)) for k, v in changed.items()})
        _stamp(store, deal["properties"], changed)
        return json_response(200, _deal_view(deal))
    shared = server.shared_controls(
        store,
        req,
        name,
        body,
        fault_kinds=("rate_limit", "server_error", "expire_tokens", "revoke"),
        fault_from=lambda kind, body: Fault(
            kind, int(body.get("times") or 1), str(body.get("path") or ""), int(body.get("retry_after") or 10)
        ),
        clock=lambda store: iso(datetime.fromtimestamp(store.now(), UTC)),
    )
    if shared is not None:
        return shared
    if name == "state" and req.method == "GET":
        now = store.now()
        return json_response(
            200,
            {
                "now": iso(datetime.fromtimestamp(now, UTC)),
                "hub_id": store.hub_id,
                "apps": list(store.apps.values()),
                "tokens": [
                    {"expired": t["expires"] < now, "revoked": t["revoked"], "client_id": t["client_id"]}
                    for t in store.access.values()
                ],
                "deals": [_deal_view(d) for d in store.deals.values()],
                "contacts": list(store.contacts.values()),
                "faults": [vars(f) for f in store.faults],
                "counters": dict(store.counters),
            },
        )
    return json_response(404, {"error": f"no control {req.method} /_emulator/{name}"})


def home(store: State) -> Response:
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(d['properties'].get(n) or ''))}</td>"
            for n in (
                "dealname",
                "amount",
                "deal_currency_code",
                "dealstage",
                "closedate",
                "utm_content",
                "hs_lastmodifieddate",
            )
        )
        + "</tr>"
        for d in store.deals.values()
    )
    return html_response(
        200,
        f"<!doctype html><title>HubSpot emulator</title><h1>HubSpot emulator: portal {store.hub_id}</h1>"
        "<table><tr><th>Deal</th><th>Amount</th><th>Currency</th><th>Stage</th><th>Close date</th>"
        f"<th>utm_content</th><th>Last modified</th></tr>{rows}</table>",
    )


# --- dispatch ------------------------------------------------------------------------------


def dispatch(store: State, req: Request) -> Response:
    path = req.path
    with store.lock:
        store.counters["requests"] += 1
        if path.startswith("/_emulator/"):
            return control(store, req, path[len("/_emulator/") :])
        if path == "/" and req.method == "GET":
            return home(store)
        if path == "/oauth/authorize" and req.method in ("GET", "POST"):
            return authorize(store, req)
        fault = store.take_fault(path)
        if fault is not None:
            if fault.kind == "rate_limit":
                return rate_limited(fault.retry_after)
            if fault.kind == "server_error":
                return hubspot_error(502, "INTERNAL_ERROR", "Bad gateway (emulated).")
            for access in store.access.values():
                if fault.kind == "expire_tokens":
                    access["expires"] = min(access["expires"], store.now() - 1)
                else:
                    access["revoked"] = True
            if fault.kind == "revoke":
                for refresh in store.refresh.values():
                    refresh["revoked"] = True
        if path == "/oauth/v1/token" and req.method == "POST":
            return token(store, req)
        match = re.fullmatch(r"/oauth/v1/access-tokens/([^/]+)", path)
        if match and req.method == "GET":
            return token_info(store, req, match.group(1))
        routes = {
            "/crm/v3/objects/deals/search": search_deals,
            "/crm/v3/associations/deals/contacts/batch/read": deal_contacts,
            "/crm/v3/objects/contacts/batch/read": read_contacts,
        }
        handler = routes.get(path)
        if handler is None:
            return hubspot_error(404, "OBJECT_NOT_FOUND", f"No route for {req.method} {path}.")
        if req.method != "POST":
            return hubspot_error(405, "VALIDATION_ERROR", f"{req.method} is not allowed here.")
        problem = bearer_problem(store, req)
        if problem is not None:
            return problem
        store.counters[path] += 1
        return handler(store, req)


def _dispatch(store: State, req: Request) -> Response:
    try:
        return dispatch(store, req)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return hubspot_error(500, "INTERNAL_ERROR", "Emulator failure.")


# make_server(host, port, *, verbose, store) for the tests, serve(...) for the management
# command, main() for `python -m`: the network emulator's HTTP plumbing with this dispatcher.
make_server, serve, main = server.entry_points(
    dispatcher=_dispatch,
    state=State,
    port=8766,
    prog="python -m integrations.hubspot.emulator",
    banner="HUBSPOT EMULATOR",
)


if __name__ == "__main__":
    main()
