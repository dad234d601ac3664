"""Who may do what: one map from action to the roles that grant it.

Views declare `permission = "members.manage"`; the organization middleware, the API's
permission class and templates (`{% if perms_org.members_manage %}`) all ask `can()`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from accounts.models import Membership, Role

E, M, C, X, A = Role.EMPLOYEE, Role.MARKETER, Role.COMPLIANCE, Role.EXECUTIVE, Role.ADMIN

PERMISSIONS: dict[str, frozenset[Role]] = {
    "org.view": frozenset({E, M, C, X, A}),
    "tokens.manage_own": frozenset({E, M, C, X, A}),
    "connections.manage_own": frozenset({E, M, C, X, A}),
    "feed.use": frozenset({E}),
    "library.manage": frozenset({M}),
    "compliance.review": frozenset({C}),
    "compliance.policy": frozenset({C}),
    "compliance.policy_confirm": frozenset({C, A}),
    "compliance.audit": frozenset({C}),
    "compliance.archive": frozenset({C}),
    "reports.view": frozenset({X, A}),
    "analytics.settings": frozenset({A}),
    "analytics.content": frozenset({M, X}),
    "analytics.own": frozenset({E}),
    "members.view": frozenset({A, X, C}),
    "members.manage": frozenset({A}),
    "teams.manage": frozenset({A}),
    "org.settings": frozenset({A}),
    "guidelines.manage": frozenset({A, C}),
}


def can(membership: Membership | None, action: str) -> bool:
    """True when one of the membership's roles grants `action`. Unknown actions are a bug."""
    if action not in PERMISSIONS:
        raise KeyError(f"unknown permission {action!r}: add it to accounts.permissions")
    if membership is None or not membership.is_active:
        return False
    return bool(PERMISSIONS[action] & membership.roles)


def everyone_may(action: str | None) -> bool:
    """True when every role grants `action` (`None`: any member), so no member is refused it."""
    return action is None or PERMISSIONS[action] == frozenset(Role)


def require(membership: Membership | None, action: str | None) -> None:
    """Raise PermissionDenied unless `can()`. `None` means any member of the organization."""
    if action is not None and not can(membership, action):
        raise PermissionDenied("Your role in this organization does not allow this.")


def allowed_actions(membership: Membership | None) -> dict[str, bool]:
    """Every action as a template-friendly key (`members_manage`) -> bool."""
    return {action.replace(".", "_"): can(membership, action) for action in PERMISSIONS}
