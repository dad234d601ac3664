"""The seam every layer calls to leave a line in the audit trail (DESIGN.md: compliance
keeps the trail; lower layers call a hook the higher layer registers at startup).

    from advocacy import audit
    audit.record("share.submitted", organization_id=org.pk, target=share,
                 before=None, after={"status": "submitted"})

Call it inside the transaction that makes the change, so the entry exists exactly when
the change does. Who did it and from where come from the request being served
(`AuditContextMiddleware` keeps it in a context variable) or, in a task or command, from
`audit.acting_as(user=None, label="system")`. `compliance` registers the recorder in its
AppConfig.ready(); until then (and in processes that never load compliance) a call is
accepted and nothing is written, so the seam never breaks a lower layer's own tests.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str  # e-mail, or "system" / a task name
    ip: str | None = None


SYSTEM = Actor(user_id=None, label="system")  # untranslated: stored in the audit trail

_current_request: contextvars.ContextVar = contextvars.ContextVar("audit_request", default=None)
_linked_after_commit: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_after_commit", default=False)
_linked_later: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_linked_later", default=False)
_current_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("audit_actor", default=None)


def client_ip(request) -> str | None:
    """The address the request came from (REMOTE_ADDR; a proxy in front sets it right)."""
    return request.META.get("REMOTE_ADDR") or None


def current_actor() -> Actor:
    """Who is acting now: an explicit `acting_as`, else the request's user, else the system."""
    actor = _current_actor.get()
    if actor is not None:
        return actor
    request = _current_request.get()
    if request is None:
        return SYSTEM
    user = getattr(request, "user", None)  # DRF sets the Django request's user when it authenticates
    if user is not None and getattr(user, "is_authenticated", False):
        return Actor(user_id=user.pk, label=user.email, ip=client_ip(request))
    return Actor(user_id=None, label="anonymous", ip=client_ip(request))  # untranslated: stored in the audit trail


@contextlib.contextmanager
def acting_as(user=None, label: str | None = None, ip: str | None = None) -> Iterator[None]:
    """Name the actor for what runs inside (tasks, commands, tests)."""
    actor = Actor(user_id=user.pk if user else None, label=label or (user.email if user else "system"), ip=ip)
    token = _current_actor.set(actor)
    try:
        yield
    finally:
        _current_actor.reset(token)


class AuditContextMiddleware:
    """Remembers the request being served so `record()` knows the actor and the source IP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)


Recorder = Callable[..., Any]


def _not_recording(**kwargs) -> None:
    return None


_recorder: Recorder = _not_recording
_many_recorder: Recorder = _not_recording


def register_recorder(function: Recorder, many: Recorder = _not_recording) -> None:
    """Called once by compliance at startup: the recorder of one entry and of several."""
    global _recorder, _many_recorder
    _recorder, _many_recorder = function, many


def record(
    action: str,
    *,
    organization_id: int,
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    before: dict | None = None,
    after: dict | None = None,
    actor: Actor | None = None,
):
    """Append one entry to the organization's trail. `target` is a model instance (its
    type and pk are taken) or give `target_type`/`target_id`. `before`/`after` are small
    JSON-able dicts of the fields that changed."""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
    return _recorder(
        action=action,
        organization_id=organization_id,
        target_type=target_type,
        target_id=str(target_id) if target_id != "" else "",
        before=before,
        after=after,
        actor=actor or current_actor(),
        after_commit=_linked_after_commit.get(),
        link=not _linked_later.get(),
    )


def record_many(organization_id: int, entries: list[dict], *, actor: Actor | None = None) -> None:
    """Append several entries to the organization's trail, in this order, in one statement
    (a publishing batch's status changes). Each entry: `action`, `target` (a model
    instance), `before`, `after`, as `record` takes them."""
    if not entries:
        return
    _many_recorder(
        organization_id=organization_id,
        entries=[
            {
                "action": entry["action"],
                "target_type": entry["target"]._meta.label_lower,
                "target_id": str(entry["target"].pk),
                "before": entry.get("before"),
                "after": entry.get("after"),
            }
            for entry in entries
        ],
        actor=actor or current_actor(),
        after_commit=_linked_after_commit.get(),
        link=not _linked_later.get(),
    )


@contextlib.contextmanager
def linked_after_commit() -> Iterator[None]:
    """Entries recorded inside are written with the change, as always, but linked into the
    organization's hash chain just after the transaction commits instead of under the
    chain's lock inside it: for hot paths of one organization that must not wait for each
    other's commits (the publish engine). See compliance.services.audit."""
    token = _linked_after_commit.set(True)
    try:
        yield
    finally:
        _linked_after_commit.reset(token)


@contextlib.contextmanager
def linked_later() -> Iterator[None]:
    """As `linked_after_commit`, but nothing is linked after this transaction's commit:
    its entries wait, pending, for the organization's next link (any `linked_after_commit`
    commit of the organization links every pending entry, in order; the minute's task
    links what is left). For a step whose next step, a second later, links anyway (the
    publishing batch's claim, linked with its record): one transaction fewer."""
    tokens = _linked_after_commit.set(True), _linked_later.set(True)
    try:
        yield
    finally:
        _linked_after_commit.reset(tokens[0])
        _linked_later.reset(tokens[1])
