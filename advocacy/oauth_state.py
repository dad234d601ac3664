"""The `state` of an OAuth redirect (an install or a connect started by a person), kept in
that person's session: single use, STATE_TTL_SECONDS, and unknown to any other browser, so a
redirect that was replayed, is late, or was started elsewhere acts on nothing."""

from __future__ import annotations

import secrets
import time

STATE_TTL_SECONDS = 15 * 60


def remember(session, key: str, **data) -> str:
    """A fresh state kept under `key` with `data` (the expired ones dropped); returns it."""
    now = time.time()
    pending = {k: v for k, v in session.get(key, {}).items() if v["created"] > now - STATE_TTL_SECONDS}
    state = secrets.token_urlsafe(24)
    pending[state] = {**data, "created": now}
    session[key] = pending
    return state


def take(session, key: str, state: str) -> dict | None:
    """The data remembered with `state`, once (it is forgotten whatever happens next), or None
    when it is unknown, used already or older than STATE_TTL_SECONDS."""
    pending = session.get(key, {})
    started = pending.pop(state, None) if state else None
    session[key] = pending
    if started is None or started["created"] < time.time() - STATE_TTL_SECONDS:
        return None
    return started
