"""Each demo role sees exactly its navigation, and is refused what it may not see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Membership
from accounts.navigation import NAV_ITEMS
from accounts.permissions import can
from tests.e2e.conftest import login, path_of, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# email -> (labels that must be there, labels that must not, a page it may not open)
ROLES = {
    "employee@acme.test": ({"Home", "Feed"}, {"Members", "Library", "Review queue", "Settings"}, "members"),
    "marketer@acme.test": ({"Home", "Feed", "Library"}, {"Members", "Review queue", "Teams"}, "members"),
    "compliance@acme.test": ({"Home", "Review queue", "Members"}, {"Library", "Feed", "Teams"}, "content:library"),
    "executive@acme.test": ({"Home", "Reports", "Members"}, {"Teams", "Settings", "Library"}, "teams"),
    "admin@acme.test": (
        {"Home", "Members", "Teams", "Settings", "Reports"},
        {"Review queue", "Library"},
        "compliance:queue",
    ),
}


def expected_labels(membership: Membership) -> list[str]:
    """The navigation the permission map promises this member, in NAV_ITEMS order."""
    return [item.label for item in NAV_ITEMS if item.permission is None or can(membership, item.permission)]


@pytest.mark.parametrize("email", list(ROLES), ids=[e.split("@")[0] for e in ROLES])
def test_each_role_sees_exactly_its_navigation(page, live_server, demo, email):
    must_see, must_not_see, forbidden_url_name = ROLES[email]
    membership = Membership.objects.for_org(demo).select_related("user").get(user__email=email)

    login(page, live_server, email)

    assert path_of(page) == "/o/acme/"
    nav = page.locator("nav[aria-label=Main]")
    shown = [text.strip() for text in nav.get_by_role("link").all_inner_texts()]
    assert shown == expected_labels(membership)
    assert must_see <= set(shown), f"{email} should see {must_see - set(shown)}"
    assert not (must_not_see & set(shown)), f"{email} should not see {must_not_see & set(shown)}"
    assert nav.get_by_role("link", name="Home").get_attribute("aria-current") == "page"
    screenshot(page, f"home-{email.split('@')[0]}")

    # Every link the role is shown opens (no link to a page that then refuses).
    for link in nav.get_by_role("link").all():
        href = link.get_attribute("href")
        response = page.request.get(live_server.url + href)
        assert response.status == 200, f"{email}: {link.inner_text()} ({href}) answered {response.status}"

    # And a page it is not shown answers "Not allowed", with the layout around it.
    response = page.goto(live_server.url + reverse(forbidden_url_name, kwargs={"org_slug": "acme"}))
    assert response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Not allowed"
    assert page.title().startswith("Not allowed")
    assert nav.get_by_role("link").all_inner_texts() == shown  # still their own navigation
    if email == "employee@acme.test":
        screenshot(page, "not-allowed-employee")


def test_the_employee_is_refused_the_members_page(page, live_server, demo):
    login(page, live_server, "employee@acme.test")
    response = page.goto(f"{live_server.url}/o/acme/members/")
    assert response.status == 403
    assert page.locator("h1").inner_text() == "Not allowed"
    assert "Ask an admin" in page.locator("main").inner_text()


def test_an_outsider_organization_is_not_found_not_forbidden(page, live_server, demo):
    """The employee is not in Globex: the page must not even confirm it exists."""
    login(page, live_server, "employee@acme.test")
    response = page.goto(f"{live_server.url}/o/globex/")
    assert response.status == 404
    assert page.get_by_test_id("org-switcher").get_by_role("link", name="Globex").count() == 0
