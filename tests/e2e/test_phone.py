"""Every page fits a phone: the navigation folds under a menu button, and nothing (a long
word in a description included) makes a page wider than the screen, for any demo role."""

from __future__ import annotations

import pytest
from django.utils import timezone

from content.models import ContentItem
from tests.e2e.conftest import DESKTOP, PHONE, login, path_of, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EMAILS = ["employee@acme.test", "marketer@acme.test", "compliance@acme.test", "executive@acme.test", "admin@acme.test"]
LONG_WORD = "Supercalifragilistic" * 500  # one word of 10,000 letters

WIDTHS_JS = "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"


@pytest.fixture
def long_word_item(demo):
    """A live item for everyone whose description is one 10,000-letter word, its title a long one."""
    return ContentItem.objects.create(
        organization=demo,
        title="Unbreakable" + "x" * 200,
        slug="one-long-word",
        url="https://example.com/acme/" + "long" * 100,
        description=LONG_WORD,
        status=ContentItem.Status.PUBLISHED,
        published_at=timezone.now(),
    )


def pages_to_visit(page, demo, email: str, item: ContentItem) -> list[str]:
    """The links of the role's navigation and of its home page's checklist, read from the page
    itself, and a few pages behind them that show the long word."""
    links = page.locator("nav[aria-label=Main] a, [data-testid=checklist] a")
    paths = [link.get_attribute("href") for link in links.all()]
    if "/o/acme/feed/" in paths:
        paths.append(f"/o/acme/feed/{item.pk}/share/")
    if email == "marketer@acme.test":
        paths += [f"/o/acme/library/items/{item.pk}/", "/o/acme/library/proposals/"]
    if email == "admin@acme.test":
        paths += ["/o/acme/invitations/", "/o/acme/settings/networks/", "/o/acme/guidelines/manage/"]
    return [path for path in dict.fromkeys(paths) if path.startswith("/o/acme/")]


@pytest.mark.parametrize("email", EMAILS, ids=[e.split("@")[0] for e in EMAILS])
def test_no_page_of_any_role_is_wider_than_a_phone(phone, live_server, demo, long_word_item, email):
    login(phone, live_server, email)
    paths = pages_to_visit(phone, demo, email, long_word_item)
    assert len(paths) >= 5, paths
    too_wide = {}
    for path in paths:
        response = phone.goto(live_server.url + path)
        assert response.status == 200, f"{email}: {path} answered {response.status}"
        widths = phone.evaluate(WIDTHS_JS)
        if widths["scroll"] > widths["inner"] or widths["inner"] != PHONE["width"]:
            too_wide[path] = widths
    assert too_wide == {}, f"{email}: pages wider than {PHONE['width']} px: {too_wide}"


def test_the_long_word_wraps_inside_its_card_on_the_feed(phone, live_server, demo, long_word_item):
    login(phone, live_server, "employee@acme.test")
    phone.goto(f"{live_server.url}/o/acme/feed/")
    card = phone.locator(f"[data-item='{long_word_item.pk}']")
    assert LONG_WORD[:40] in card.inner_text()
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert box["height"] > 2000  # the word is all there, in many lines, not cut off
    assert phone.evaluate(WIDTHS_JS)["scroll"] == PHONE["width"]
    card.scroll_into_view_if_needed()
    screenshot(phone, "phone-feed-long-word")


def test_the_composer_shows_the_preview_before_the_submit_button_on_a_phone(phone, live_server, demo):
    item = ContentItem.objects.for_org(demo).filter(status="published").order_by("pk").first()
    login(phone, live_server, "employee@acme.test")
    phone.goto(f"{live_server.url}/o/acme/feed/{item.pk}/share/")
    with phone.expect_response(lambda response: "/check" in response.url):
        phone.get_by_label("Your words").fill("Proud of the new plant in Lyon.")
    preview = phone.locator(".preview").filter(has_text="Proud of the new plant in Lyon.").last
    submit = phone.get_by_role("button", name="Share now")
    preview_box = preview.bounding_box()
    assert preview_box["y"] + preview_box["height"] <= submit.bounding_box()["y"]
    assert submit.evaluate("button => button.form.id") == "composer"  # still the composer's button
    screenshot(phone, "phone-composer")

    # On a wide screen the checks and previews stand beside the fields, the button under them.
    phone.set_viewport_size(DESKTOP)
    fields, preview_box, submit_box = (x.bounding_box() for x in (phone.locator("#composer"), preview, submit))
    assert preview_box["x"] > fields["x"] + fields["width"]
    assert submit_box["x"] < preview_box["x"]
    assert submit_box["y"] >= fields["y"] + fields["height"]


def test_the_menu_button_opens_and_closes_the_navigation(phone, live_server, demo):
    login(phone, live_server, "admin@acme.test")
    button = phone.get_by_role("button", name="Menu")
    nav = phone.locator("nav[aria-label=Main]")
    assert button.get_attribute("aria-controls") == "site-menu"
    assert phone.locator("#site-menu nav[aria-label=Main]").count() == 1  # the button controls the nav
    assert button.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible()
    # Folded, the header takes a strip of the first screen, no longer ~40% of it.
    assert phone.locator("header.topbar").bounding_box()["height"] < 0.1 * PHONE["height"]
    screenshot(phone, "phone-home-menu-closed")

    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert nav.is_visible() and nav.get_by_role("link", name="Members").is_visible()
    assert phone.get_by_role("button", name="Sign out").is_visible()
    screenshot(phone, "phone-home-menu-open")

    button.click()
    assert button.get_attribute("aria-expanded") == "false" and not nav.is_visible()

    # Escape closes it from inside and gives the focus back to the button.
    button.click()
    nav.get_by_role("link", name="Teams").focus()
    phone.keyboard.press("Escape")
    assert button.get_attribute("aria-expanded") == "false" and not nav.is_visible()
    assert phone.evaluate("() => document.activeElement.hasAttribute('data-menu-toggle')")

    # A link in the open menu goes where it says; the next page starts folded again.
    button.click()
    nav.get_by_role("link", name="Members").click()
    phone.wait_for_url(f"{live_server.url}/o/acme/members/")
    assert path_of(phone) == "/o/acme/members/"
    assert button.get_attribute("aria-expanded") == "false"


def test_on_a_wide_screen_the_navigation_shows_without_a_menu_button(page, live_server, demo):
    page.set_viewport_size(DESKTOP)
    login(page, live_server, "admin@acme.test")
    assert page.locator("nav[aria-label=Main]").get_by_role("link", name="Members").is_visible()
    assert page.locator("[data-menu-toggle]").is_hidden()
    # The links show at once, in the top bar (at most two rows of links under the brand's line:
    # an admin's navigation is longer than the screen is wide), not folded as on a phone.
    header = page.locator("header").bounding_box()
    assert header["height"] < 160, header


def test_without_javascript_the_phone_navigation_stays_open_in_one_row(browser, live_server, demo):
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, live_server, "admin@acme.test")
        nav = page.locator("nav[aria-label=Main]")
        assert page.locator("[data-menu-toggle]").is_hidden()
        assert nav.get_by_role("link", name="Home").is_visible()
        assert nav.bounding_box()["height"] < 60  # one row that scrolls sideways
        assert nav.locator("ul").evaluate("ul => ul.scrollWidth > ul.clientWidth")
        assert page.evaluate(WIDTHS_JS)["scroll"] == PHONE["width"]
        screenshot(page, "phone-home-without-javascript")
    finally:
        context.close()
