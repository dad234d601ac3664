"""The seam through which a higher layer acts when a membership is suspended (DESIGN.md:
lower layers call hooks that higher layers register at startup).

* `member_suspended(membership=..., by=..., reason=...)`: called by
  `accounts.services.suspension.suspend_membership` inside its transaction, after the
  membership row is locked and marked suspended. `content` registers the hold of the
  member's shares that are on their way out (content.services.held); each hook answers a
  dict that goes into the suspension's audit entry. Until something registers, nothing
  else happens.
"""

from __future__ import annotations

from collections.abc import Callable

_member_suspended: list[Callable[..., dict]] = []


def register_member_suspended(function: Callable[..., dict]) -> None:
    """Called once per app at startup (a second registration of the same function is ignored)."""
    if function not in _member_suspended:
        _member_suspended.append(function)


def member_suspended(*, membership, by: str, reason: str) -> dict:
    """Let every registered app act on the suspension; their answers merged."""
    summary: dict = {}
    for function in _member_suspended:
        summary.update(function(membership=membership, by=by, reason=reason))
    return summary
