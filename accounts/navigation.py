"""Navigation by role, from the permission map. Each app's pages add their entry here."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from accounts.permissions import Permission, allowed_actions, can


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None


NAV_ITEMS = [
    NavItem(_("Home"), "org_home", None),
    NavItem(_("Feed"), "content:feed", Permission.FEED_USE),
    NavItem(_("My shares"), "content:my_shares", Permission.FEED_USE),
    NavItem(_("Connections"), "connections", Permission.CONNECTIONS_MANAGE_OWN),
    NavItem(_("Guidelines"), "guidelines", None),
    NavItem(_("Library"), "content:library", Permission.LIBRARY_MANAGE),
    NavItem(_("Review queue"), "compliance:queue", Permission.COMPLIANCE_REVIEW),
    NavItem(_("Policy"), "compliance:policy", Permission.COMPLIANCE_POLICY),
    NavItem(_("Policy changes"), "compliance:policy_changes", Permission.COMPLIANCE_POLICY_CONFIRM),
    NavItem(_("Compliance"), "compliance:dashboard", Permission.COMPLIANCE_REVIEW),
    NavItem(_("Audit log"), "compliance:audit_log", Permission.COMPLIANCE_AUDIT),
    NavItem(_("Archive"), "compliance:archive", Permission.COMPLIANCE_ARCHIVE),
    NavItem(_("Legal holds"), "compliance:legal_holds", Permission.COMPLIANCE_HOLD),
    NavItem(_("Content performance"), "analytics:content_performance", Permission.ANALYTICS_CONTENT),
    NavItem(_("My stats"), "analytics:my_stats", Permission.ANALYTICS_OWN),
    NavItem(_("Reports"), "analytics:reports", Permission.REPORTS_VIEW),
    NavItem(_("Members"), "members", Permission.MEMBERS_VIEW),
    NavItem(_("Teams"), "teams", Permission.TEAMS_MANAGE),
    NavItem(_("Settings"), "org_settings", Permission.ORG_SETTINGS),
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
            "label": str(item.label),
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
    from accounts.selectors import switcher_memberships

    return switcher_memberships(user)
