"""What the base layout needs on every page: the org switcher and role navigation."""

from advocacy.navigation import navigation_for


def navigation(request):
    return navigation_for(request)
