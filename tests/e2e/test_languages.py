"""Issue 23, item 4 in the browser: Camille, a French employee of the demo's Acme, opens the
feed, sees the French variant of the Lyon item and shares it with its French words."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from analytics.management.commands.seed_demo import DEMO_VARIANTS
from content.models import ContentItem, Delivery, Share
from tests.e2e.conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FRENCH_TITLE, _SUMMARY, FRENCH_SUGGESTIONS = DEMO_VARIANTS["acme-opens-lyon-plant"]["fr"]


def test_a_french_employee_shares_the_french_variant_from_the_feed(page, live_server, demo, settings):
    settings.SITE_URL = live_server.url
    item = ContentItem.objects.for_org(demo).get(slug="acme-opens-lyon-plant")
    login(page, live_server, "camille@acme.test")
    page.goto(f"{live_server.url}/o/acme/feed/")
    assert page.locator("html").get_attribute("lang") == "fr"
    card = page.locator(f"article.item[data-item='{item.pk}']")
    expect(card.locator("h2")).to_have_text(FRENCH_TITLE)
    expect(card.get_by_test_id("language-note")).to_have_count(0)
    assert item.title not in page.locator("main").inner_text()
    screenshot(page, "feed-in-french")

    card.locator("a.button").click()
    page.wait_for_url(re.compile(r"/feed/\d+/share/"))
    words = page.locator("textarea[name=commentary]")
    assert words.input_value() in FRENCH_SUGGESTIONS  # the composer starts from a French suggestion
    chosen = words.input_value()
    page.locator("input[name=targets][data-network=linkedin]").check()
    page.get_by_test_id("share-button").click()
    page.wait_for_url(re.compile(r"/o/acme/shares/"))
    screenshot(page, "my-shares-in-french")

    share = Share.objects.for_org(demo).get(item=item, author__email="camille@acme.test")
    assert share.language == "fr"
    assert share.commentary == chosen
    delivery = Delivery.objects.for_org(demo).get(share=share)
    assert delivery.network == "linkedin" and delivery.text.startswith(chosen)
