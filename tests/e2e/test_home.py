"""The home page's checklist in a real browser, on a wide screen and on a phone: what each
role has left to do, one click away, and no wider than the screen."""

from __future__ import annotations

import pytest

from accounts.models import Membership
from content.models import ContentItem
from content.services import library, sharing
from tests.e2e.conftest import DESKTOP, PHONE, login, path_of, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def work_to_do(demo):
    """A share waiting for review (the policy flags "guaranteed") and a link proposed for the library."""
    marketer = Membership.objects.for_org(demo).get(user__email="marketer@acme.test")
    item = ContentItem.objects.for_org(demo).filter(status="published").order_by("pk").first()
    share = sharing.submit_share(
        actor=marketer,
        item_id=item.pk,
        commentary="Guaranteed to make you smile.",
        target_keys=["assisted:linkedin"],
        confirm_repeat=True,
    )
    assert share.status == "in_review"
    library.propose_content(actor=marketer, url="https://example.com/acme/press", reason="Good press.")
    return share


# email -> (the checklist items shown, the item clicked, the page it opens)
ROLES = {
    "employee@acme.test": ({"connect", "first_share"}, "connect", "/o/acme/connections/"),
    "compliance@acme.test": ({"queue"}, "queue", "/o/acme/review/"),
    "marketer@acme.test": ({"connect", "proposals"}, "proposals", "/o/acme/library/proposals/"),
    # One demo advocate's team does not exist in Acme: the admin is asked to place them.
    "admin@acme.test": ({"connect", "first_share", "no_team"}, "no_team", "/o/acme/members/"),
}


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("email", list(ROLES), ids=[e.split("@")[0] for e in ROLES])
def test_the_checklist_shows_what_is_left_and_each_item_is_one_click_away(page, live_server, work_to_do, email, size):
    page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
    shown, clicked, lands_on = ROLES[email]
    login(page, live_server, email)
    assert path_of(page) == "/o/acme/"
    checklist = page.get_by_test_id("checklist")
    assert checklist.is_visible()
    items = checklist.locator("[data-todo]")
    assert {items.nth(i).get_attribute("data-todo") for i in range(items.count())} == shown
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1]
    if size == "phone":  # the checklist is on the first screen, under the folded menu
        assert checklist.bounding_box()["y"] < PHONE["height"] / 2
    screenshot(page, f"home-checklist-{email.split('@')[0]}-{size}")

    checklist.locator(f"[data-todo={clicked}] a").click()
    page.wait_for_load_state()
    assert path_of(page) == lands_on
