"""What the base layout needs on every page: role navigation, the org switcher, unread count."""

from django.utils.functional import SimpleLazyObject

from advocacy.navigation import navigation_for


def navigation(request):
    return navigation_for(request)


def unread_notifications(request) -> dict:
    """{"unread_notifications": n} inside an organization, counted only if the page shows it."""
    membership = getattr(request, "membership", None)
    if membership is None:
        return {}
    from accounts.selectors import unread_count

    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(membership))}
