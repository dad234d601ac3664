"""Every page fits a phone: the navigation folds under a menu button."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import DESKTOP, PHONE, login, path_of, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WIDTHS_JS = "() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})"


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
    # The links start on the brand's line, as before the menu button existed.
    brand = page.locator("header .brand").bounding_box()
    assert page.locator("nav[aria-label=Main]").bounding_box()["y"] < brand["y"] + brand["height"]


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
