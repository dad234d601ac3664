"""A local emulator of Microsoft Teams workflow webhooks, as strict as the real endpoint.

Pure standard library (its request plumbing is the network emulator's). State in memory.
Run it with `python -m integrations.teams.emulator --port 0` or
`python manage.py run_teams_emulator [--demo]`; either prints one line,
`TEAMS EMULATOR LISTENING http://127.0.0.1:<port>`, once it listens. Tests start it in a
thread (`make_server(port=0)`).

The webhook paths (the URL Teams shows in the workflow's trigger; `sig` signs it):
- POST /workflows/{id}/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=…
  (Logic Apps hosts, prod-NN.<region>.logic.azure.com)
- POST /powerautomate/automations/direct/workflows/{id}/triggers/manual/paths/invoke?api-version=1&sp=…&sv=1.0&sig=…
  (Power Platform hosts)
Answers: 202 and an empty body when the message is posted to the workflow's channel;
400 MissingApiVersionParameter without api-version; 401 DirectApiInvalidAuthorizationSignature
for a missing or wrong `sig`; 404 WorkflowNotFound for an unknown or turned-off workflow;
405 for another method; 413 past 28 KB; 400 InvalidTemplate for a body that is not JSON or
not the documented envelope: `type` "message", `attachments` a non-empty list of
{"contentType": "application/vnd.microsoft.card.adaptive", "content": {"type":
"AdaptiveCard", "version": "1.0".."1.5", "body": [...], "actions"?: [...]}}; `Action.Submit`
and `Action.Execute` are refused (Teams does not support them in webhook cards).

Control API (JSON, under /_emulator/):
- POST reset; POST workflows {"id"?, "sig"?, "channel"?, "style"?: "logic" | "powerautomate"}
  -> 201 {"id", "sig", "channel", "path"} (path with its query: append it to the emulator URL)
- POST workflows/{id}/disable
- POST faults {"kind": "rate_limit" | "server_error", "times"?: 1, "retry_after"?: 10}
- GET received -> {"messages": [{"workflow", "channel", "message"}]}; GET state
"""

from __future__ import annotations

import html
import re
import secrets
import sys
import threading
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from networks.emulator import server
from networks.emulator.server import Request, Response, html_response, json_response

MAX_BYTES = 28 * 1024
# The demo channel's workflow (`--demo`), which seed_demo points the demo organization at.
DEMO_WORKFLOW_ID = "0d3e5f1a2b4c4d6e8f9a0b1c2d3e4f50"
DEMO_SIG = "demo-signature-not-a-secret"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSIONS = {"1.0", "1.1", "1.2", "1.3", "1.4", "1.5"}
UNSUPPORTED_ACTIONS = {"Action.Submit", "Action.Execute"}
LOGIC = re.compile(r"/workflows/([0-9a-f]{32})/triggers/manual/paths/invoke")
POWER_AUTOMATE = re.compile(r"/powerautomate/automations/direct/workflows/([0-9a-f]{32})/triggers/manual/paths/invoke")


@dataclass
class Fault:
    kind: str
    times: int = 1
    retry_after: int = 10


@dataclass
class State:
    workflows: dict[str, dict[str, Any]] = field(default_factory=dict)
    received: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    counters: Counter = field(default_factory=Counter)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def reset(self) -> None:
        self.workflows.clear()
        self.received.clear()
        self.faults.clear()
        self.counters.clear()


def add_workflow(
    store: State, *, workflow_id: str = "", sig: str = "", channel: str = "General", style: str = "logic"
) -> dict[str, Any]:
    """Register a workflow (a channel's webhook); returns it with the path to post to."""
    workflow_id = workflow_id or secrets.token_hex(16)
    sig = sig or secrets.token_urlsafe(32)
    if style == "powerautomate":
        path = f"/powerautomate/automations/direct/workflows/{workflow_id}/triggers/manual/paths/invoke?api-version=1"
    else:
        path = f"/workflows/{workflow_id}/triggers/manual/paths/invoke?api-version=2016-06-01"
    path += f"&sp={quote('/triggers/manual/run', safe='')}&sv=1.0&sig={sig}"
    store.workflows[workflow_id] = {"id": workflow_id, "sig": sig, "channel": channel, "enabled": True, "path": path}
    return dict(store.workflows[workflow_id])


def demo_webhook_url(origin: str) -> str:
    """The URL of the demo workflow on an emulator at `origin` (what seed_demo stores)."""
    path = f"/workflows/{DEMO_WORKFLOW_ID}/triggers/manual/paths/invoke?api-version=2016-06-01"
    return f"{origin}{path}&sp={quote('/triggers/manual/run', safe='')}&sv=1.0&sig={DEMO_SIG}"


def _error(status: int, code: str, message: str) -> Response:
    return json_response(status, {"error": {"code": code, "message": message}})


def envelope_problem(message: Any) -> str | None:
    """What is wrong with a message body, or None when it is the documented envelope."""
    if not isinstance(message, dict):
        return "The body must be a JSON object."
    if message.get("type") != "message":
        return 'The "type" field must be "message".'
    attachments = message.get("attachments")
    if not isinstance(attachments, list) or not attachments:
        return 'The "attachments" field must be a non-empty array of cards.'
    for n, attachment in enumerate(attachments):
        if not isinstance(attachment, dict) or attachment.get("contentType") != CONTENT_TYPE:
            return f'attachments[{n}].contentType must be "{CONTENT_TYPE}".'
        card = attachment.get("content")
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
            return f'attachments[{n}].content must be an Adaptive Card ("type": "AdaptiveCard").'
        if card.get("version") not in CARD_VERSIONS:
            return f"attachments[{n}].content.version must be one of 1.0 to 1.5 (Teams renders up to 1.5)."
        if not isinstance(card.get("body", []), list) or not isinstance(card.get("actions", []), list):
            return f'attachments[{n}].content "body" and "actions" must be arrays.'
        for action in card.get("actions", []):
            if not isinstance(action, dict) or action.get("type") in UNSUPPORTED_ACTIONS:
                kind = action.get("type") if isinstance(action, dict) else repr(action)
                return f"{kind} is not supported in Teams webhook cards."
            if action.get("type") == "Action.OpenUrl" and not str(action.get("url") or "").startswith(
                ("https://", "http://")
            ):
                return "Action.OpenUrl needs an absolute url."
    return None


def invoke(store: State, req: Request, workflow_id: str, style: str) -> Response:
    if req.method != "POST":
        return _error(405, "MethodNotAllowed", f"The {req.method} method is not allowed: POST the message.")
    if not req.arg("api-version"):
        return _error(400, "MissingApiVersionParameter", "The api-version query parameter is required.")
    workflow = store.workflows.get(workflow_id)
    if (
        workflow is None
        or not workflow["enabled"]
        or (style == "powerautomate") != ("/powerautomate/" in workflow["path"])
    ):
        return _error(404, "WorkflowNotFound", f"The workflow '{workflow_id}' could not be found.")
    if req.arg("sig") != workflow["sig"] or req.arg("sv") != "1.0" or req.arg("sp") != "/triggers/manual/run":
        return _error(401, "DirectApiInvalidAuthorizationSignature", "The provided signature is not valid.")
    if len(req.body) > MAX_BYTES:
        return _error(413, "RequestEntityTooLarge", f"The message is {len(req.body)} bytes; at most {MAX_BYTES}.")
    fault = store.faults[0] if store.faults else None
    if fault is not None:
        fault.times -= 1
        if fault.times <= 0:
            store.faults.pop(0)
        if fault.kind == "rate_limit":
            store.counters["throttled"] += 1
            return _error(429, "WorkflowTriggerRequestsThrottled", "Rate limit is exceeded.").header(
                "Retry-After", fault.retry_after
            )
        return _error(502, "BadGateway", "The workflow failed (emulated).")
    if req.content_type != "application/json":
        return _error(400, "InvalidTemplate", "The body must be JSON (Content-Type: application/json).")
    try:
        message = req.json()
    except (ValueError, UnicodeDecodeError):
        return _error(400, "InvalidTemplate", "The body is not valid JSON.")
    problem = envelope_problem(message)
    if problem:
        return _error(400, "InvalidTemplate", problem)
    store.received.append({"workflow": workflow_id, "channel": workflow["channel"], "message": message})
    store.counters["posted"] += 1
    return Response(202)


def control(store: State, req: Request, name: str) -> Response:
    try:
        body = req.json() if req.body else {}
    except ValueError:
        return json_response(400, {"error": "JSON body expected"})
    if name == "reset" and req.method == "POST":
        store.reset()
        return json_response(200, {})
    if name == "workflows" and req.method == "POST":
        workflow = add_workflow(
            store,
            workflow_id=str(body.get("id") or ""),
            sig=str(body.get("sig") or ""),
            channel=str(body.get("channel") or "General"),
            style=str(body.get("style") or "logic"),
        )
        return json_response(201, workflow)
    match = re.fullmatch(r"workflows/([0-9a-f]{32})/disable", name)
    if match and req.method == "POST" and match.group(1) in store.workflows:
        store.workflows[match.group(1)]["enabled"] = False
        return json_response(200, store.workflows[match.group(1)])
    shared = server.shared_controls(
        store,
        req,
        name,
        body,
        fault_kinds=("rate_limit", "server_error"),
        fault_from=lambda kind, body: Fault(kind, int(body.get("times") or 1), int(body.get("retry_after") or 10)),
    )
    if shared is not None:
        return shared
    if name == "received" and req.method == "GET":
        return json_response(200, {"messages": store.received})
    if name == "state" and req.method == "GET":
        return json_response(
            200,
            {
                "workflows": list(store.workflows.values()),
                "faults": [vars(f) for f in store.faults],
                "counters": dict(store.counters),
            },
        )
    return json_response(404, {"error": f"no control {req.method} /_emulator/{name}"})


def home(store: State) -> Response:
    rows = []
    for entry in reversed(store.received[-50:]):
        for attachment in entry["message"]["attachments"]:
            texts = [b.get("text", "") for b in attachment["content"].get("body", []) if b.get("type") == "TextBlock"]
            links = "<br>".join(
                '<a href="{0}">{0}</a>'.format(html.escape(a.get("url", "")))
                for a in attachment["content"].get("actions", [])
            )
            cells = "<br>".join(html.escape(t) for t in texts)
            rows.append(f"<tr><td>{html.escape(entry['channel'])}</td><td>{cells}</td><td>{links}</td></tr>")
    return html_response(
        200,
        "<!doctype html><title>Teams emulator</title><h1>Teams emulator: cards posted to channels</h1>"
        f"<p>{len(store.workflows)} workflow webhook(s).</p>"
        f"<table><tr><th>Channel</th><th>Card</th><th>Buttons</th></tr>{''.join(rows)}</table>",
    )


def dispatch(store: State, req: Request) -> Response:
    path = req.path
    with store.lock:
        store.counters["requests"] += 1
        if path.startswith("/_emulator/"):
            return control(store, req, path[len("/_emulator/") :])
        if path == "/" and req.method == "GET":
            return home(store)
        for pattern, style in ((LOGIC, "logic"), (POWER_AUTOMATE, "powerautomate")):
            match = pattern.fullmatch(path)
            if match:
                return invoke(store, req, match.group(1), style)
        return _error(404, "NotFound", f"No route for {req.method} {path}.")


def _dispatch(store: State, req: Request) -> Response:
    try:
        return dispatch(store, req)
    except Exception:
        traceback.print_exc(file=sys.stderr)
        return _error(500, "InternalServerError", "Emulator failure.")


# make_server(host, port, *, verbose, store) for the tests, serve(...) for the management
# command, main() for `python -m`: the network emulator's HTTP plumbing with this dispatcher.
make_server, serve, main = server.entry_points(
    dispatcher=_dispatch, state=State, port=8774, prog="python -m integrations.teams.emulator", banner="TEAMS EMULATOR"
)


if __name__ == "__main__":
    main()
