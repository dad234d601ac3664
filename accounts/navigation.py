"""Navigation by role, from the permission map. Each app's pages add their entry here."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from accounts.permissions import allowed_actions, can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None


NAV_ITEMS = [
    NavItem("Home", "org_home", None),
    NavItem("Feed", "content:feed", "feed.use"),
    NavItem("My shares", "content:my_shares", "feed.use"),
    NavItem("Connections", "connections", "connections.manage_own"),
    NavItem("Guidelines", "guidelines", None),
    NavItem("Library", "content:library", "library.manage"),
    NavItem("Review queue", "compliance:queue", "compliance.review"),
    NavItem("Policy", "compliance:policy", "compliance.policy"),
    NavItem("Policy changes", "compliance:policy_changes", "compliance.policy_confirm"),
    NavItem("Compliance", "compliance:dashboard", "compliance.review"),
    NavItem("Audit log", "compliance:audit_log", "compliance.audit"),
    NavItem("Archive", "compliance:archive", "compliance.archive"),
    NavItem("Content performance", "analytics:content_performance", "analytics.content"),
    NavItem("My stats", "analytics:my_stats", "analytics.own"),
    NavItem("Reports", "analytics:reports", "reports.view"),
    NavItem("Members", "members", "members.view"),
    NavItem("Teams", "teams", "teams.manage"),
    NavItem("Settings", "org_settings", "org.settings"),
]


def navigation_for(request) -> dict:
    membership = getattr(request, "membership", None)
    user = getattr(request, "user", None)
    if membership is None:
        switcher = (
            SimpleLazyObject(lambda: list(_memberships(user))) if user is not None and user.is_authenticated else []
        )
        return {"nav_items": [], "org_memberships": switcher, "perms_org": {}}
    slug = membership.organization.slug
    current = request.resolver_match.view_name if request.resolver_match else ""
    items = [
        {
            "label": item.label,
            "url": reverse(item.url_name, kwargs={"org_slug": slug}),
            "current": item.url_name == current,
        }
        for item in NAV_ITEMS
        if item.permission is None or can(membership, item.permission)
    ]
    return {
        "nav_items": items,
        "org_memberships": SimpleLazyObject(lambda: list(_memberships(user))),
        "perms_org": allowed_actions(membership),
    }


def _memberships(user):
    from accounts.selectors import memberships_of

    return memberships_of(user)
