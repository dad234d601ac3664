"""Issue 23 in a real Chromium, once per shipped language: an employee whose language it is
signs in from a browser that asks for it, finds the feed through the translated navigation
and shares an item; an executive reads the dashboard with figures grouped as the language
writes them. The words expected come from the shipped catalogues (gettext under that
language), and for every language but English they must differ from the English ones: a page
left in English fails here.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from django.utils.formats import number_format

from accounts.models import User
from analytics.selectors.periods import last_days
from analytics.selectors.roi import executive_report
from content.models import Share
from tests.e2e.conftest import DEMO_PASSWORD, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "fr", "de", "es"]
# How each language groups thousands (Django's locale formats): what a reader there expects.
GROUPING = {"en": ",", "fr": "\xa0", "de": ".", "es": "\xa0"}
EMPLOYEE_NAV = ["Feed", "My shares", "Connections", "Guidelines"]
EXECUTIVE_NAV = ["Reports", "My stats"]


def words(language: str, *msgids: str) -> list[str]:
    with translation.override(language):
        return [translation.gettext(m) for m in msgids]


@pytest.fixture
def browser_in(browser):
    """A page whose browser asks for `language` (Accept-Language and navigator.language)."""
    contexts = []

    def open_page(language: str):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale=language)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def sign_in(page, live_server, email: str) -> None:
    """The sign-in page in the browser's language: found by its fields, not by English words."""
    page.goto(f"{live_server.url}/accounts/login/")
    step = page.get_by_test_id("email-step")
    step.locator("input[name=login]").fill(email)
    with page.expect_navigation():
        step.locator("button[type=submit]").click()
    form = page.locator("form[action$='/accounts/login/']")
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "/accounts/login/" not in page.url, page.inner_text("main")[:500]


def nav_labels(page) -> list[str]:
    return [t.strip() for t in page.locator("nav.mainnav a").all_inner_texts()]


def sign_in_as(browser_in, live_server, email: str, language: str, nav: list[str]):
    """A page of `email`, who reads `language`, from a browser that asks for it; the
    navigation checked to be in that language. Returns the page and the navigation's words."""
    User.objects.filter(email=email).update(language=language)
    page = browser_in(language)
    sign_in(page, live_server, email)
    assert page.locator("html").get_attribute("lang") == language
    expected = assert_translated(language, nav)
    labels = nav_labels(page)
    assert all(word in labels for word in expected), (expected, labels)
    return page, expected


def assert_translated(language: str, msgids: list[str]) -> list[str]:
    shown = words(language, *msgids)
    if language != "en":
        same = [m for m, s in zip(msgids, shown, strict=True) if m == s]
        # "Feed" is "Feed" in German too: most, not all, words differ from English.
        assert len(same) <= len(msgids) // 2, f"{language}: left in English: {same}"
    return shown


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_employee_shares_in_their_language(browser_in, live_server, demo, settings, language):
    settings.SITE_URL = live_server.url
    page, expected = sign_in_as(browser_in, live_server, "employee@acme.test", language, EMPLOYEE_NAV)

    page.locator("nav.mainnav").get_by_role("link", name=expected[0], exact=True).click()
    page.wait_for_url(re.compile(r"/o/acme/feed/"))
    page.locator("article.item").first.locator("a[href*='/share/']").first.click()
    page.wait_for_url(re.compile(r"/feed/\d+/share/"))
    page.locator("input[name=targets][data-network='linkedin' i]").first.check()
    page.locator("textarea[name=commentary]").fill(f"Shared in {language}.")
    share_button = page.get_by_test_id("share-button")
    assert share_button.inner_text().strip() == words(language, "Share now")[0]
    share_button.click()
    page.wait_for_url(re.compile(r"/o/acme/shares/"))
    screenshot(page, f"my-shares-{language}")
    share = Share.objects.for_org(demo).filter(author__email="employee@acme.test").latest("pk")
    assert share.commentary == f"Shared in {language}."
    current = page.locator("nav.mainnav a[aria-current=page]").inner_text().strip()
    assert current == words(language, "My shares")[0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_executive_reads_the_dashboard_in_their_language(browser_in, live_server, demo, language):
    page, expected = sign_in_as(browser_in, live_server, "executive@acme.test", language, EXECUTIVE_NAV)

    page.locator("nav.mainnav").get_by_role("link", name=expected[0], exact=True).click()
    page.wait_for_url(re.compile(r"/o/acme/reports/$"))
    screenshot(page, f"executive-dashboard-{language}")
    report = executive_report(demo, last_days(demo))
    counts = {f["key"]: f["value"] for f in report["figures"] if isinstance(f.get("value"), int)}
    key, value = max(counts.items(), key=lambda kv: kv[1])
    assert value >= 1000, f"the demo's largest count ({key}: {value}) is too small to show grouping"
    with translation.override(language):
        grouped = number_format(value, force_grouping=True)
    assert GROUPING[language] in grouped
    assert page.get_by_test_id(f"value-{key}").inner_text().strip() == grouped
