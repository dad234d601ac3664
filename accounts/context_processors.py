"""What the base layout needs on every page: role navigation, the org switcher, unread count."""

from django.utils.functional import SimpleLazyObject

from accounts.navigation import navigation_for
from accounts.permissions import Permission


def navigation(request):
    return navigation_for(request)


def unread_notifications(request) -> dict:
    """{"unread_notifications": n} inside an organization, counted only if the page shows it."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    from accounts.selectors import unread_count

    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(membership))}


def guidelines_banner(request) -> dict:
    """{"guidelines_banner": version} on every page of a member who shares and has not accepted
    the current guidelines (issue 16: the gate shows before the first share, not at Submit).
    No query: the version comes with the page's membership row (`membership_for`). Not on the
    guidelines page itself, where the accept button is."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    from accounts.permissions import can
    from accounts.selectors import pending_guideline_version

    match = getattr(request, "resolver_match", None)
    if not can(membership, Permission.FEED_USE) or (match is not None and match.view_name == "guidelines"):
        return {}
    return {"guidelines_banner": pending_guideline_version(membership)}
