"""The emulator's HTTP server: request/response plumbing, the shared OAuth consent flow,
the control API under /_emulator/, and the router to the three networks.

Standard library only. Every request runs under the state lock (one at a time), except
the sleep of a `slow` fault, so handlers never race and X refresh-token rotation is
strictly serialised, as on the real network.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import json
import re
import socket
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit, urlunsplit

from networks.emulator import pages
from networks.emulator.state import NETWORKS, Account, State, iso

# --- requests and responses ----------------------------------------------------------------


class Request:
    def __init__(self, method: str, target: str, headers, body: bytes):
        parts = urlsplit(target)
        self.method = method.upper()
        self.raw_path = parts.path
        self.path = unquote(parts.path)
        self.raw_query = parts.query
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers  # case-insensitive .get()
        self.body = body
        self.target = target

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def form(self) -> dict[str, list[str]]:
        if self.content_type != "application/x-www-form-urlencoded":
            return {}
        return parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def bearer(self, schemes: tuple[str, ...] = ("bearer",)) -> str | None:
        scheme, _, value = (self.header("Authorization") or "").strip().partition(" ")
        if scheme.lower() not in schemes:
            return None
        return value.strip() or None


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False  # close the socket without answering (lost_response fault)

    def header(self, name: str, value) -> Response:
        self.headers.append((name, str(value)))
        return self


def json_response(status: int, data, *, content_type: str = "application/json", headers=()) -> Response:
    body = json.dumps(data, separators=(",", ":")).encode()
    return Response(status, body, [("Content-Type", content_type), *headers])


def html_response(status: int, text: str) -> Response:
    return Response(status, text.encode(), [("Content-Type", "text/html; charset=utf-8")])


@dataclass(frozen=True)
class AppConsent:
    """How an integration's emulator (HubSpot, Slack) asks an admin to allow its app: its
    authorize path, scope separator and known scopes, the two buttons, the denial's params.
    The store has `apps` ({client_id: {"redirect_uris": [...]}}) and `auto_approve`."""

    product: str
    path: str
    separator: str
    known_scopes: frozenset[str]
    allow: tuple[str, str]  # (decision value, button label)
    title: str
    asks: str  # "It asks to read" / "It asks to"
    deny_params: dict[str, str]
    redirect_uri_optional: bool = False  # Slack: the app's first redirect URI when none is given


@dataclass(frozen=True)
class Consented:
    app: dict
    redirect_uri: str
    scopes: list[str]
    state: str
    params: dict[str, str]


def app_consent(store, req: Request, spec: AppConsent, heading: str) -> Response | Consented:
    """The authorize page's checks and answer: a 400 page (never a redirect) for an unknown
    client, a redirect URI the app did not register, no or an unknown scope; the consent page
    (or auto-approve's decision); a denial's redirect. What was allowed comes back as Consented."""
    source = req.form() if req.method == "POST" else req.query
    params = {name: values[0] for name, values in source.items()}
    app = store.apps.get(params.get("client_id") or "")
    if app is None:
        return html_response(400, f"<h1>{spec.product}: invalid_client_id</h1><p>No app has this client_id.</p>")
    given = params.get("redirect_uri") or ""
    redirect_uri = given or (app["redirect_uris"][0] if spec.redirect_uri_optional and app["redirect_uris"] else "")
    if redirect_uri not in app["redirect_uris"]:
        return html_response(400, f"<h1>{spec.product}: bad_redirect_uri</h1><p>Not one of the app's.</p>")
    scopes = [s for s in (params.get("scope") or "").split(spec.separator) if s]
    unknown = [s for s in scopes if s not in spec.known_scopes]
    if not scopes or unknown:
        shown = html.escape(spec.separator.join(unknown) or "(none)")
        return html_response(400, f"<h1>{spec.product}: invalid_scope</h1><p>{shown}</p>")
    state = params.get("state", "")
    decision = params.get("decision") if req.method == "POST" else None
    if decision is None and store.auto_approve is not None:
        decision = spec.allow[0] if store.auto_approve else "deny"
    if decision is None:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
        )
        return html_response(
            200,
            f"<!doctype html><title>{html.escape(spec.title)}</title><h1>{html.escape(heading)}</h1>"
            f"<p>{html.escape(spec.asks)}: {html.escape(', '.join(scopes))}.</p>"
            f'<form method="post" action="{html.escape(spec.path)}">{hidden}'
            f'<button name="decision" value="{spec.allow[0]}">{html.escape(spec.allow[1])}</button> '
            '<button name="decision" value="deny">Cancel</button></form>',
        )
    if decision != spec.allow[0]:
        return redirect(with_params(redirect_uri, {**spec.deny_params, **({"state": state} if state else {})}))
    return Consented(app, redirect_uri, scopes, state, params)


def redirect(location: str) -> Response:
    return Response(302, b"", [("Location", location)])


def with_params(uri: str, params: dict, fragment: str = "") -> str:
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")) + fragment


def first_values(params: dict[str, list[str]]) -> tuple[dict[str, str], list[str]]:
    """Flatten parse_qs output; also return the names given more than once."""
    return {k: v[0] for k, v in params.items()}, [k for k, v in params.items() if len(v) > 1]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern
    handler: Callable[..., Response]
    kind: str  # "api" (faults fire), "oauth" (token endpoints: only faults with a path), "page" (never)


def route(table: list[Route], method: str, pattern: str, kind: str = "api"):
    def register(handler):
        table.append(Route(method, re.compile(pattern), handler, kind))
        return handler

    return register


# --- the OAuth consent flow, shared by the three networks ------------------------------------


@dataclass(frozen=True)
class OAuthSpec:
    network: str
    separator: str  # between scopes: " " (LinkedIn, X) or "," (Facebook)
    known_scopes: frozenset[str]
    grant: Callable  # (app, requested scopes) -> granted list | dict of redirect error params
    code_prefix: str
    deny_params: dict[str, str]
    response_type_optional: bool = False  # Facebook defaults to "code"
    scope_required: bool = True
    pkce: bool = False  # X: code_challenge with S256 is mandatory
    fragment: str = ""  # Facebook appends "#_=_" to its redirects


_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


class _BadAuthorizeRequest(Exception):
    """An authorization request the network answers with its 400 page (the message says why)."""


def _authorize_client(store: State, params: dict[str, str], spec: OAuthSpec):
    """The app and the redirect URI, both as registered (the only checks before either is known)."""
    app = store.app(spec.network, params.get("client_id"))
    if app is None:
        raise _BadAuthorizeRequest(f"Unknown client_id {params.get('client_id')!r}.")
    redirect_uri = params.get("redirect_uri")
    if not redirect_uri or redirect_uri not in app.redirect_uris:
        raise _BadAuthorizeRequest(f"redirect_uri {redirect_uri!r} does not exactly match one registered for this app.")
    return app, redirect_uri


def _authorize_scopes(params: dict[str, str], spec: OAuthSpec) -> list[str]:
    """The requested scopes, split by the network's separator; unknown ones refused (but LinkedIn's)."""
    scope = params.get("scope")
    if scope is None or not scope.strip():
        if spec.scope_required:
            raise _BadAuthorizeRequest("The scope parameter is required.")
        scope = ""
    other = "," if spec.separator == " " else " "
    if other in scope.strip() or (spec.separator == "," and scope != scope.strip()):
        sep_name = "spaces" if spec.separator == " " else "commas (no spaces)"
        raise _BadAuthorizeRequest(f"Scopes must be separated by {sep_name}: {scope!r}.")
    requested = [s for s in scope.split(spec.separator) if s]
    unknown = [s for s in requested if s not in spec.known_scopes]
    if unknown and spec.network != "linkedin":  # LinkedIn answers unknown scopes by redirect (grant)
        raise _BadAuthorizeRequest(f"Invalid scope(s): {', '.join(unknown)}.")
    return requested


def _authorize_checks(params: dict[str, str], spec: OAuthSpec) -> tuple[str, list[str]]:
    """After the client: response type, state, scopes and (X) PKCE; the state and the scopes."""
    response_type = params.get("response_type")
    if response_type != "code" and not (spec.response_type_optional and response_type is None):
        raise _BadAuthorizeRequest(f"response_type must be 'code', got {response_type!r}.")
    state = params.get("state")
    if not state:
        raise _BadAuthorizeRequest("The state parameter is required.")
    requested = _authorize_scopes(params, spec)
    if spec.pkce:
        if params.get("code_challenge_method") != "S256":
            raise _BadAuthorizeRequest("code_challenge_method must be S256 (PKCE is mandatory).")
        if not _CHALLENGE.fullmatch(params.get("code_challenge") or ""):
            raise _BadAuthorizeRequest("code_challenge must be the 43-character base64url S256 hash.")
    return state, requested


def authorize(store: State, req: Request, spec: OAuthSpec) -> Response:
    """GET shows the consent page (or redirects at once under auto-approve); POST is the
    member's answer from that page. Invalid requests get a 400 page, never a redirect."""
    source = req.form() if req.method == "POST" else req.query
    params, repeated = first_values(source)
    title = f"{spec.network} authorization error"
    if repeated:
        return pages.error_page(400, title, f"Parameter(s) given more than once: {', '.join(repeated)}.")
    try:
        app, redirect_uri = _authorize_client(store, params, spec)
        state, requested = _authorize_checks(params, spec)
    except _BadAuthorizeRequest as bad:
        return pages.error_page(400, title, str(bad))
    granted = spec.grant(app, requested)
    if isinstance(granted, dict):
        return redirect(with_params(redirect_uri, {**granted, "state": state}, spec.fragment))

    def deny() -> Response:
        store.count(spec.network, "authorizations.denied")
        return redirect(with_params(redirect_uri, {**spec.deny_params, "state": state}, spec.fragment))

    def approve(account: Account) -> Response:
        code = store.issue_code(
            spec.network,
            spec.code_prefix,
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            account_id=account.id,
            scopes=granted,
            code_challenge=params.get("code_challenge") if spec.pkce else None,
        )
        store.count(spec.network, "authorizations.approved")
        return redirect(with_params(redirect_uri, {"code": code.value, "state": state}, spec.fragment))

    carried = {k: v for k, v in params.items() if k not in ("decision", "account_id")}
    back = f"{req.raw_path}?{urlencode(carried)}"
    if req.method == "POST":
        if params.get("decision") == "deny":
            return deny()
        account = store.account(spec.network, params.get("account_id"))
        if params.get("decision") == "allow" and account:
            return approve(account)
        return pages.consent_page(
            400,
            spec.network,
            app,
            granted,
            store.network_accounts(spec.network),
            carried,
            req.raw_path,
            back,
            problem="Choose an account, then Allow or Deny.",
        )
    auto = store.auto_approve.get(spec.network)
    if auto:
        if auto["deny"]:
            return deny()
        account = store.account(spec.network, auto["account_id"])
        if account:
            return approve(account)
    accounts = store.network_accounts(spec.network)
    return pages.consent_page(200, spec.network, app, granted, accounts, carried, req.raw_path, back)


# --- the control API ---------------------------------------------------------------------------


def shared_controls(store, req: Request, name: str, body: dict, *, fault_kinds, fault_from, clock=None):
    """The controls the integration emulators (Slack, HubSpot, Teams) answer alike, or None
    for any other: POST faults (a kind of `fault_kinds`, made by `fault_from(kind, body)`),
    GET faults, POST auto_approve where the state has it, and POST clock {"advance": seconds}
    where `clock(store)` says what "now" reads as."""
    if name == "faults" and req.method == "POST":
        kind = body.get("kind")
        if kind not in fault_kinds:
            return json_response(400, {"error": f"unknown fault kind {kind!r}"})
        fault = fault_from(kind, body)
        store.faults.append(fault)
        return json_response(201, vars(fault))
    if name == "faults" and req.method == "GET":
        return json_response(200, {"faults": [vars(f) for f in store.faults]})
    if name == "auto_approve" and req.method == "POST" and hasattr(store, "auto_approve"):
        store.auto_approve = body.get("approve")
        return json_response(200, {"approve": store.auto_approve})
    if name == "clock" and req.method == "POST" and clock is not None:
        store.offset += max(float(body.get("advance") or 0), 0.0)
        return json_response(200, {"now": clock(store)})
    return None


class ControlError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def account_json(account: Account) -> dict:
    data = asdict(account)
    data.update(created_at=iso(account.created_at), given_name=account.given_name, family_name=account.family_name)
    return data


def control(store: State, req: Request) -> Response:
    name = req.path[len("/_emulator") :].rstrip("/")
    try:
        if name == "/ui/accounts" and req.method == "POST":  # the consent page's "create an account" form
            form, _ = first_values(req.form())
            store.add_account({"network": form.get("network"), "name": form.get("name")})
            nxt = form.get("next") or "/"
            return redirect(nxt if nxt.startswith("/") and not nxt.startswith("//") else "/")
        handler = CONTROL.get((req.method, name))
        if handler is None:
            known = any(path == name for _, path in CONTROL)
            raise ControlError(405 if known else 404, f"no control endpoint {req.method} /_emulator{name}")
        try:
            data = req.json() if req.body.strip() else {}
        except ValueError:
            raise ControlError(400, "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise ControlError(400, "the body must be a JSON object")
        status, result = handler(store, data)
        return json_response(status, result)
    except ControlError as exc:
        return json_response(exc.status, {"error": str(exc)})
    except KeyError as exc:
        return json_response(409, {"error": exc.args[0]})
    except ValueError as exc:
        return json_response(400, {"error": str(exc)})


def _reset(store, data):
    store.reset()
    return 200, {}


def _apps(store, data):
    return 201, asdict(store.add_app(data))


def _accounts(store, data):
    return 201, account_json(store.add_account(data))


def _auto_approve(store, data):
    network, account_id, deny = data.get("network"), data.get("account_id"), bool(data.get("deny", False))
    if network not in NETWORKS:
        raise ValueError(f"network must be one of {', '.join(NETWORKS)}")
    if account_id is not None and not store.account(network, account_id):
        raise ValueError(f"no {network} account {account_id!r}")
    if account_id is None and not deny:
        store.auto_approve.pop(network, None)
        return 200, {"network": network, "account_id": None, "deny": False, "enabled": False}
    store.auto_approve[network] = {"account_id": account_id, "deny": deny}
    return 200, {"network": network, "account_id": account_id, "deny": deny, "enabled": True}


def _add_fault(store, data):
    return 201, asdict(store.add_fault(data))


def _list_faults(store, data):
    return 200, {"faults": [asdict(f) for f in store.faults]}


def _clear_faults(store, data):
    store.faults.clear()
    return 200, {}


def _advance(store, data):
    seconds = data.get("advance")
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
        raise ValueError("advance must be a non-negative number of seconds (the clock never goes back)")
    store.advance(seconds)
    return 200, {"now": iso(store.now())}


def _clock(store, data):
    return 200, {"now": iso(store.now()), "offset": store.offset}


def _settings(store, data):
    if "rate_limits" in data:
        store.settings["rate_limits"] = bool(data["rate_limits"])
    return 200, store.settings


def _state(store, data):
    return 200, store.snapshot()


def _in_flight(store, data):
    return 200, {"now": store.in_flight, "most": store.most_in_flight, "seconds": store.call_seconds}


def _forget_in_flight(store, data):
    store.forget_in_flight()
    return _in_flight(store, data)


CONTROL = {
    ("POST", "/reset"): _reset,
    ("POST", "/apps"): _apps,
    ("POST", "/accounts"): _accounts,
    ("POST", "/auto_approve"): _auto_approve,
    ("POST", "/faults"): _add_fault,
    ("GET", "/faults"): _list_faults,
    ("DELETE", "/faults"): _clear_faults,
    ("POST", "/clock"): _advance,
    ("GET", "/clock"): _clock,
    ("POST", "/settings"): _settings,
    ("GET", "/settings"): lambda store, data: (200, store.settings),
    ("GET", "/state"): _state,
    ("GET", "/in_flight"): _in_flight,
    ("DELETE", "/in_flight"): _forget_in_flight,
}

# --- routing -----------------------------------------------------------------------------------

TRANSPORT_FAULTS = ("rate_limit", "server_error", "forbidden", "slow", "lost_response", "revoked", "expire_token")


def _modules() -> dict:
    from networks.emulator import facebook, linkedin, x

    return {"linkedin": linkedin, "x": x, "facebook": facebook}


def dispatch(store: State, req: Request) -> Response:
    if req.path == "/" and req.method == "GET":
        with store.lock:
            return pages.index(store)
    if req.path.startswith("/_emulator/"):
        with store.lock:
            return control(store, req)
    prefix, _, _ = req.raw_path.lstrip("/").partition("/")
    module = _modules().get(prefix)
    if module is None:
        return json_response(404, {"error": f"unknown path {req.path}; networks live under /linkedin, /x, /facebook"})
    sub = req.raw_path[len(prefix) + 1 :]
    if sub in ("", "/") and req.method == "GET":
        with store.lock:
            return pages.network_page(store, prefix)
    match, wrong_method = None, False
    for candidate in module.ROUTES:
        found = candidate.pattern.fullmatch(sub)
        if found and candidate.method == req.method:
            match = (candidate, found.groupdict())
            break
        wrong_method = wrong_method or bool(found)
    try:
        if match is None:
            with store.lock:
                store.count(prefix, "requests")
                return module.not_found(req, method_not_allowed=wrong_method)
        target, params = match
        return _run(store, module, req, target, params)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return module.server_error()


def _run(store: State, module, req: Request, target: Route, params: dict) -> Response:
    if target.kind == "page":
        with store.lock:
            store.count(module.NAME, "requests")
            return target.handler(store, req, **params)
    with store.call():
        return _answer(store, module, req, target, params)


def _answer(store: State, module, req: Request, target: Route, params: dict) -> Response:
    network = module.NAME
    with store.lock:
        store.count(network, "requests")
        ids = module.account_ids(store, req)
        fault = store.take_fault(network, req.path, req.method, ids, api=target.kind == "api", kinds=TRANSPORT_FAULTS)
    if fault and fault.kind == "slow":
        time.sleep(fault.delay)  # outside the lock: other calls go on meanwhile
    with store.lock:
        if fault and fault.kind in ("rate_limit", "server_error", "forbidden"):
            response = module.fault_response(store, req, fault)
        else:
            if fault and fault.kind in ("revoked", "expire_token"):
                who = ids[0] if ids and (not fault.account_id or fault.account_id in ids) else fault.account_id
                if fault.kind == "expire_token" and fault.account_id:
                    who = fault.account_id  # may be a Facebook Page: its tokens alone expire
                change = store.revoke_account if fault.kind == "revoked" else store.expire_account
                change(network, who)
            response = target.handler(store, req, **params)
            response.drop = bool(fault and fault.kind == "lost_response")
        finish = getattr(module, "finish", None)
        if finish:
            finish(store, req, response)
        return response


# --- the HTTP server ---------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    # The listen backlog of a real API's front (nginx: 511), not socketserver's 5: with 5, a
    # burst of new connections (three publish workers of 16 threads starting at once)
    # overflowed the accept queue, and Linux reset connections whose request had been sent.
    request_queue_size = 512


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "NetworkEmulator/1.0"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(self.command, self.path, self.headers, body)
        response = self.server.dispatch(self.server.store, request)
        if response.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers_and_body(b"" if self.command == "HEAD" else response.body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. a slow fault)
            self.close_connection = True

    def setup(self) -> None:
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def end_headers_and_body(self, body: bytes) -> None:
        """Headers and body in one write (no Nagle / delayed-ACK stall between them)."""
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = do_HEAD = _handle

    def log_message(self, format, *args):
        if getattr(self.server, "verbose", False):
            sys.stderr.write(f"{self.address_string()} {format % args}\n")


def make_server(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    verbose: bool = False,
    store=None,
    dispatcher: Callable[..., Response] | None = None,
) -> ThreadingHTTPServer:
    """A bound server with fresh state (port 0 picks a free port); call serve_forever().
    Another emulator (integrations.hubspot) passes its own `store` and `dispatcher`."""
    server = _Server((host, port), Handler)
    server.daemon_threads = True
    server.store = State() if store is None else store
    server.dispatch = dispatch if dispatcher is None else dispatcher
    server.verbose = verbose
    return server


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    verbose: bool = False,
    ready: Callable[[str], None] | None = None,
    store=None,
    dispatcher: Callable[..., Response] | None = None,
) -> None:
    """Run until interrupted; `ready(url)` is called once the socket listens."""
    server = make_server(host, port, verbose=verbose, store=store, dispatcher=dispatcher)
    url = f"http://{host}:{server.server_address[1]}"
    if ready:
        ready(url)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def command_line(argv: list[str] | None, *, prog: str, port: int, banner: str, serve: Callable[..., None]) -> None:
    """An emulator's `python -m` entry point: --host, --port (0 picks a free port), --verbose;
    prints "<banner> LISTENING <url>" once it listens (the tests and `make run` wait for it)."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=port, help="0 picks a free port")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)
    serve(args.host, args.port, verbose=args.verbose, ready=lambda url: print(f"{banner} LISTENING {url}", flush=True))


def entry_points(
    *, dispatcher: Callable[..., Response], state: Callable[[], object], port: int, prog: str, banner: str
):
    """Another emulator's (make_server, serve, main) over this plumbing, with its own
    `dispatcher`, a fresh `state()` unless a seeded `store` is given, and its default port."""

    def make(host: str = "127.0.0.1", port: int = port, *, verbose: bool = False, store=None) -> ThreadingHTTPServer:
        return make_server(
            host, port, verbose=verbose, store=state() if store is None else store, dispatcher=dispatcher
        )

    def run(host: str = "127.0.0.1", port: int = port, *, verbose: bool = False, ready=None, store=None) -> None:
        serve(
            host, port, verbose=verbose, ready=ready, store=state() if store is None else store, dispatcher=dispatcher
        )

    def main(argv: list[str] | None = None) -> None:
        command_line(argv, prog=prog, port=port, banner=banner, serve=run)

    return make, run, main
