"""Who may do what: one map from action to the roles that grant it.

Views declare `permission = Permission.MEMBERS_MANAGE`; services `require(actor, Permission...)` before
they write; the organization middleware, the API's permission class and templates
(`{% if perms_org.members_manage %}`) all ask `can()`.
"""

from __future__ import annotations

from enum import StrEnum

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.models import Membership, Role


class Permission(StrEnum):
    """Every action a role may be granted. Views and services name one of these, never a string: a typo
    is an AttributeError at import, and tests/accounts/test_permission_names.py fails on a string literal that
    spells an action anywhere in the app code."""

    ORG_VIEW = "org.view"
    TOKENS_MANAGE_OWN = "tokens.manage_own"
    CONNECTIONS_MANAGE_OWN = "connections.manage_own"
    FEED_USE = "feed.use"
    LIBRARY_MANAGE = "library.manage"
    COMPLIANCE_REVIEW = "compliance.review"
    COMPLIANCE_POLICY = "compliance.policy"
    COMPLIANCE_POLICY_CONFIRM = "compliance.policy_confirm"
    COMPLIANCE_AUDIT = "compliance.audit"
    COMPLIANCE_ARCHIVE = "compliance.archive"
    COMPLIANCE_HOLD = "compliance.hold"
    COMPLIANCE_ARCHIVE_FEEDS = "compliance.archive_feeds"
    REPORTS_VIEW = "reports.view"
    ANALYTICS_SETTINGS = "analytics.settings"
    ANALYTICS_CONTENT = "analytics.content"
    ANALYTICS_OWN = "analytics.own"
    MEMBERS_VIEW = "members.view"
    MEMBERS_MANAGE = "members.manage"
    TEAMS_MANAGE = "teams.manage"
    ORG_SETTINGS = "org.settings"
    GUIDELINES_MANAGE = "guidelines.manage"
    SLACK_MANAGE = "slack.manage"  # install the Slack app, pick channels (issue 22)


E, M, C, X, A = Role.EMPLOYEE, Role.MARKETER, Role.COMPLIANCE, Role.EXECUTIVE, Role.ADMIN

PERMISSIONS: dict[Permission, frozenset[Role]] = {
    Permission.ORG_VIEW: frozenset({E, M, C, X, A}),
    Permission.TOKENS_MANAGE_OWN: frozenset({E, M, C, X, A}),
    Permission.CONNECTIONS_MANAGE_OWN: frozenset({E, M, C, X, A}),
    Permission.FEED_USE: frozenset({E}),
    Permission.LIBRARY_MANAGE: frozenset({M}),
    Permission.COMPLIANCE_REVIEW: frozenset({C}),
    Permission.COMPLIANCE_POLICY: frozenset({C}),
    Permission.COMPLIANCE_POLICY_CONFIRM: frozenset({C, A}),
    Permission.COMPLIANCE_AUDIT: frozenset({C}),
    Permission.COMPLIANCE_ARCHIVE: frozenset({C}),
    Permission.COMPLIANCE_HOLD: frozenset({C}),
    # Where the archive feed goes (an archiving vendor's drop, its credentials) and running it now.
    Permission.COMPLIANCE_ARCHIVE_FEEDS: frozenset({C, A}),
    Permission.REPORTS_VIEW: frozenset({X, A}),
    Permission.ANALYTICS_SETTINGS: frozenset({A}),
    Permission.ANALYTICS_CONTENT: frozenset({M, X}),
    Permission.ANALYTICS_OWN: frozenset({E}),
    Permission.MEMBERS_VIEW: frozenset({A, X, C}),
    Permission.MEMBERS_MANAGE: frozenset({A}),
    Permission.TEAMS_MANAGE: frozenset({A}),
    Permission.ORG_SETTINGS: frozenset({A}),
    Permission.GUIDELINES_MANAGE: frozenset({A, C}),
    Permission.SLACK_MANAGE: frozenset({M, A}),
}


def can(membership: Membership | None, action: Permission) -> bool:
    """True when one of the membership's roles grants `action`. A name that is no Permission is a bug
    (ValueError); app code names Permission members, which tests/accounts/test_permission_names.py checks."""
    action = Permission(action)
    if membership is None or not membership.is_active:
        return False
    return bool(PERMISSIONS[action] & membership.roles)


def everyone_may(action: Permission | None) -> bool:
    """True when every role grants `action` (`None`: any member), so no member is refused it."""
    return action is None or PERMISSIONS[action] == frozenset(Role)


def require(membership: Membership | None, action: Permission | None) -> None:
    """Raise PermissionDenied unless `can()`. `None` means any member of the organization."""
    if action is not None and not can(membership, action):
        raise PermissionDenied(_("Your role in this organization does not allow this."))


def allowed_actions(membership: Membership | None) -> dict[str, bool]:
    """Every action as a template-friendly key (`members_manage`) -> bool."""
    return {action.value.replace(".", "_"): can(membership, action) for action in Permission}
