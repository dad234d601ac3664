"""Reads for the Slack pages, scoped to the tenant, in a fixed number of queries."""

from __future__ import annotations

from accounts.models import Membership, Team
from content.models import SlackChannelRoute, SlackInstallation, SlackMemberLink, SlackPost, Topic


def settings_page(organization) -> dict:
    """The marketer's Slack page: the install, the channel routes, what they can pick, the
    latest messages (5 queries)."""
    return {
        "installation": SlackInstallation.objects.for_org(organization).select_related("installed_by").first(),
        "routes": list(
            SlackChannelRoute.objects.for_org(organization).select_related("topic", "team").order_by("channel_name")
        ),
        "topics": list(Topic.objects.for_org(organization).order_by("name")),
        "teams": list(Team.objects.for_org(organization).order_by("name")),
        "cadences": SlackChannelRoute.Cadence.choices,
        "posts": list(SlackPost.objects.for_org(organization).select_related("item").order_by("-created_at")[:10]),
    }


def member_page(membership: Membership) -> dict:
    """The employee's Slack page: the install and their opt-in (2 queries)."""
    return {
        "installation": SlackInstallation.objects.for_org(membership.organization_id).first(),
        "link": SlackMemberLink.objects.for_org(membership.organization_id).filter(membership=membership).first(),
    }
