"""Issue 5's journey: a marketer adds an item from a link, an employee shares it to two networks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from content.models import ContentItem, Delivery, Share
from tests.content.loopback import LoopbackSite
from tests.e2e.conftest import SITE_PORT, login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ARTICLE = """<!doctype html><html><head>
<title>Acme builds a wind farm</title>
<meta property="og:title" content="Acme builds a wind farm in Brittany">
<meta property="og:description" content="Forty turbines, enough for 60,000 homes.">
<meta property="og:image" content="https://cdn.example.com/wind.jpg">
<link rel="canonical" href="http://127.0.0.1:{port}/news/wind-farm">
</head><body><h1>Acme builds a wind farm</h1></body></html>"""


@pytest.fixture
def article_site():
    with LoopbackSite(port=SITE_PORT) as site:
        site.page("/news/wind-farm", ARTICLE.format(port=SITE_PORT))
        yield site


def test_marketer_adds_an_item_from_a_link_and_an_employee_shares_it_to_two_networks(
    page, live_server, demo, worker_process, article_site, settings
):
    settings.SITE_URL = live_server.url  # tracked links point at this server (localhost: X counts 23)
    # The marketer pastes the link; the worker fetches the page's title and description.
    login(page, live_server, "marketer@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    page.goto(f"{live_server.url}/o/acme/library/new/")
    page.get_by_label("Link").fill(article_site.url("/news/wind-farm"))
    page.get_by_role("button", name="Add as draft").click()
    page.wait_for_url(re.compile(r"/o/acme/library/items/\d+/"))
    item = ContentItem.objects.for_org(demo).get(url__contains="/news/wind-farm")
    # Locator waits, not wait_for_function: the page's CSP forbids the eval that one uses.
    expect(page.locator("h1")).to_contain_text("wind farm in Brittany", timeout=30_000)
    item.refresh_from_db()
    assert (item.unfurl_status, item.description) == ("done", "Forty turbines, enough for 60,000 homes.")
    assert any(path == "/news/wind-farm" for path, _ in article_site.requests), "the worker fetched the page"
    screenshot(page, "library-item-unfurled")
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("item-status").inner_text().strip() == "Published"
    page.get_by_role("button", name="Sign out").click()

    # The employee finds it in the feed and shares it to LinkedIn and X.
    login(page, live_server, "employee@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Feed").click()
    card = page.locator("article.item", has_text="Acme builds a wind farm in Brittany")
    card.get_by_role("link", name=re.compile("^Share")).click()
    page.wait_for_url(re.compile(r"/feed/\d+/share/"))
    page.get_by_label(re.compile(r"^\s*LinkedIn \(opens")).check()
    page.get_by_label(re.compile(r"^\s*X \(opens")).check()
    words = page.get_by_label("Your words")
    words.fill("Forty turbines off the Breton coast, and I got to see them built.")
    counters = page.get_by_test_id("counters")
    counters.locator("tr[data-network=X]").wait_for()
    # The live counts, of the post as it will go out: the words, the tracked link (X counts
    # every link as 23) and the disclosure Acme's policy appends (" #AcmeEmployee").
    expect_x = len("Forty turbines off the Breton coast, and I got to see them built.") + 2 + 23 + 14
    expect(counters.locator("tr[data-network=X]")).to_contain_text(f"{expect_x} / 280")
    assert "/ 3000" in counters.locator("tr[data-network=LinkedIn]").inner_text()
    assert counters.locator("tr[data-network=Facebook]").count() == 0, "only the chosen networks are counted"
    screenshot(page, "composer-two-networks")
    page.get_by_role("button", name="Share now").click()
    page.wait_for_url(re.compile(r"/o/acme/shares/"))
    assert "Approved" in page.locator(".messages").inner_text()

    share = Share.objects.for_org(demo).get(item=item)
    assert share.author.email == "employee@acme.test" and share.status == "approved"
    deliveries = Delivery.objects.for_org(demo).filter(share=share)
    assert sorted(d.network for d in deliveries) == ["linkedin", "x"]
    assert all(d.mode == "assisted" and d.text.endswith(f"/r/{d.tracking_code}") for d in deliveries)
    screenshot(page, "my-shares")


def test_back_and_submit_again_in_the_browser_posts_nothing_twice(page, live_server, demo, settings):
    """Submit, press the browser's Back button, press Submit again: still one share, and the
    employee is told why (the page came back with its token, or as a fresh page that asks)."""
    settings.SITE_URL = live_server.url
    item = ContentItem.objects.for_org(demo).filter(status="published").order_by("pk").first()
    login(page, live_server, "employee@acme.test")
    page.goto(f"{live_server.url}/o/acme/feed/{item.pk}/share/")
    page.get_by_label(re.compile(r"^\s*X \(opens")).check()
    page.get_by_label("Your words").fill("Proud to see this go out, once.")
    page.get_by_role("button", name="Share now").click()
    page.wait_for_url(re.compile(r"/o/acme/shares/"))
    before = Share.objects.for_org(demo).filter(item=item).count()

    page.go_back()
    page.wait_for_url(re.compile(r"/feed/\d+/share/"))
    if not page.get_by_label("Your words").input_value():
        page.get_by_label(re.compile(r"^\s*X \(opens")).check()
        page.get_by_label("Your words").fill("Proud to see this go out, once.")
    page.get_by_role("button", name="Share now").click()
    page.wait_for_load_state()
    screenshot(page, "composer-back-and-submit-again")
    text = page.locator("main").inner_text() + page.locator(".messages").all_inner_texts().__str__()
    assert "already submitted" in text or "Share again?" in text, text
    assert Share.objects.for_org(demo).filter(item=item).count() == before
