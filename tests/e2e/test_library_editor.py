"""Issue 16, item 10, in Chromium: the marketer adds a third and a fourth suggestion in place (no
page load), sees a row's count follow the typing, removes a row, saves, and finds them on the item."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Membership
from content.models import ContentItem
from content.services import library
from content.services.sharing import final_text, sample_link
from networks.text import measure
from tests.e2e.conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

THIRD = "Lyon gets four hundred new jobs."
FOURTH = "Four hundred jobs in Lyon by 2027: proud to be part of it. #Lyon"


def test_marketer_adds_suggestions_in_place_sees_counts_and_saves_them(page, live_server, demo, settings):
    settings.SITE_URL = live_server.url  # tracked links point at this server (localhost: X counts 23)
    marketer = Membership.objects.for_org(demo).get(user__email="marketer@acme.test")
    item = library.create_item(
        actor=marketer,
        url="https://acme.example/news/lyon",
        title="Acme opens a plant in Lyon",
        description="Four hundred jobs by 2027.",
        suggestions=[("Proud of our Lyon team.", ""), ("Lyon, here we come.", "x")],
        fetch_preview=False,
    )
    login(page, live_server, "marketer@acme.test")
    page.goto(f"{live_server.url}/o/acme/library/items/{item.pk}/")
    page.evaluate("window.__samePage = true")  # gone if the page is loaded again

    # The two saved rows and one empty one; the third is typed into the empty row.
    expect(page.get_by_label("Suggested commentary 3")).to_have_value("")
    page.get_by_label("Suggested commentary 3").fill(THIRD)

    # The fourth is added in place, numbered after the others, and takes the cursor.
    page.get_by_role("button", name="Add a suggestion").click()
    fourth = page.get_by_label("Suggested commentary 4")
    expect(fourth).to_be_focused()
    page.get_by_label("For 4").select_option(label="X")
    fourth.press_sequentially(FOURTH, delay=5)
    # The post as it goes out: the words, the tracked link (X weighs it 23) and the
    # disclosure Acme's policy appends (" #AcmeEmployee", 14), as the composer counts it.
    x_count = page.locator("#suggestions-3-checks").get_by_test_id("count-x")
    expect(x_count).to_have_text(str(len(FOURTH) + 2 + 23 + 14))
    assert measure("x", final_text("x", FOURTH, sample_link())).length == len(FOURTH) + 2 + 23
    assert page.locator("#suggestions-3-checks").get_by_test_id("count-linkedin").count() == 0  # X only
    # Typing on changes the count: the server counts again.
    fourth.press_sequentially(" Come and see!", delay=5)
    expect(x_count).to_have_text(str(len(FOURTH + " Come and see!") + 2 + 23 + 14))

    # A fifth added by mistake is removed in place.
    page.get_by_role("button", name="Add a suggestion").click()
    page.get_by_label("Suggested commentary 5").fill("Oops")
    page.get_by_role("button", name="Remove suggestion 5").click()
    expect(page.get_by_label("Suggested commentary 5")).to_be_hidden()
    assert page.evaluate("window.__samePage") is True, "the rows were added without loading the page again"
    screenshot(page, "library-item-suggestions-in-place")

    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(rf"/o/acme/library/items/{item.pk}/$"))
    expect(page.locator(".messages")).to_contain_text("Saved.")
    saved = [(s.text, s.network) for s in ContentItem.objects.for_org(demo).get(pk=item.pk).suggestions.all()]
    assert saved == [
        ("Proud of our Lyon team.", ""),
        ("Lyon, here we come.", "x"),
        (THIRD, ""),
        (FOURTH + " Come and see!", "x"),
    ]
    expect(page.get_by_label("Suggested commentary 3")).to_have_value(THIRD)
    expect(page.get_by_label("Suggested commentary 4")).to_have_value(FOURTH + " Come and see!")
    expect(page.get_by_label("Suggested commentary 5")).to_have_value("")  # a new empty row
    screenshot(page, "library-item-saved")
