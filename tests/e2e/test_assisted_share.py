"""Issue 16, point 5 in Chromium: the assisted share copies the text. One click on My shares
or the share page puts the approved words, disclosure included, on the clipboard and opens
the network's share window (the emulator's) with the tracked link; X's intent carries the
words. Without a clipboard the window still opens and the text is shown, selected, with
words saying it was not copied. "I posted it" takes the post's link."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from accounts.models import Membership
from content.models import ContentItem, Delivery
from content.services import sharing
from tests.e2e.conftest import DESKTOP, PHONE, login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WORDS = "Forty turbines off the Breton coast: proud of the team (and the view)."
APPROVED = f"{WORDS} #AcmeEmployee"  # Acme's policy appends its disclosure


@pytest.fixture
def waiting(demo, settings, live_server, network_emulator):
    """An approved share of the demo employee's, to LinkedIn and X through their windows."""
    settings.SITE_URL = live_server.url
    for network in ("linkedin", "x", "facebook"):
        setattr(settings, f"{network.upper()}_ORIGIN", network_emulator.origin(network))
    network_emulator.reset()
    employee = Membership.objects.for_org(demo).get(user__email="employee@acme.test")
    item = ContentItem.objects.for_org(demo).filter(status="published").order_by("pk").first()
    share = sharing.submit_share(
        actor=employee,
        item_id=item.pk,
        commentary=WORDS,
        target_keys=["assisted:linkedin", "assisted:x"],
        confirm_repeat=True,
    )
    assert share.status == "approved", share.review_comment
    share.by_network = {d.network: d for d in Delivery.objects.for_org(demo).filter(share=share)}
    return share


def params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def clipboard(page) -> str:
    """What the clipboard holds, read from the page once it has the focus back (the share
    window took it; Chromium reads the clipboard only for a focused document)."""
    page.bring_to_front()
    return page.evaluate("() => navigator.clipboard.readText()")


def open_window(context, box, name):
    with context.expect_page() as opened:
        box.get_by_role("link", name=name).click()
    window = opened.value
    window.wait_for_load_state()
    return window


def test_the_assisted_share_copies_the_text(browser, live_server, waiting, network_emulator):
    context = browser.new_context(viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login(page, live_server, "employee@acme.test")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="My shares").click()
        row = page.locator(f"tr[data-share='{waiting.pk}']")

        # X from My shares: the clipboard has the words, the intent carries them and the link.
        x = waiting.by_network["x"]
        box = row.get_by_test_id("assisted-x")
        window = open_window(context, box, "Copy the text and open X")
        assert window.url.startswith(network_emulator.origin("x") + "/intent/tweet?"), window.url
        assert params(window.url) == {"text": APPROVED, "url": f"{live_server.url}/r/{x.tracking_code}"}
        expect(box.get_by_role("status")).to_contain_text("Copied")
        assert clipboard(page) == APPROVED
        shared = [s for s in network_emulator.state()["shares"] if s["network"] == "x"]
        assert [(s["text"], s["url"]) for s in shared] == [(APPROVED, f"{live_server.url}/r/{x.tracking_code}")]
        screenshot(page, "assisted-share-my-shares-copied")
        window.close()

        # LinkedIn from the share page: its window takes only the link; the words are pasted.
        page.evaluate("() => navigator.clipboard.writeText('something else')")
        row.get_by_role("link", name="Open", exact=True).click()
        page.wait_for_url(re.compile(rf"/o/acme/shares/{waiting.pk}/$"))
        linkedin = waiting.by_network["linkedin"]
        box = page.get_by_test_id("assisted-linkedin")
        window = open_window(context, box, "Copy the text and open LinkedIn")
        assert window.url.startswith(network_emulator.origin("linkedin") + "/sharing/share-offsite/?"), window.url
        assert params(window.url) == {"url": f"{live_server.url}/r/{linkedin.tracking_code}"}
        expect(box.get_by_role("status")).to_contain_text("Paste it in the LinkedIn window")
        assert clipboard(page) == APPROVED
        window.close()

        # "I posted it" with the post's link, back on My shares.
        page.goto(f"{live_server.url}/o/acme/shares/")
        box = page.locator(f"tr[data-share='{waiting.pk}']").get_by_test_id("assisted-linkedin")
        box.get_by_label(re.compile("Link to your LinkedIn post")).fill("linkedin.com/feed/update/urn:li:share:99")
        box.get_by_role("button", name="I posted it").click()
        page.wait_for_url(re.compile(r"/o/acme/shares/$"))
        expect(page.locator(".messages")).to_contain_text("the post is linked to this share")
        linkedin.refresh_from_db()
        assert (linkedin.status, linkedin.remote_id) == ("published", "urn:li:share:99")
        row = page.locator(f"tr[data-share='{waiting.pk}']")
        expect(row.get_by_test_id("assisted-linkedin")).to_have_count(0)
        expect(row.get_by_test_id("assisted-x")).to_have_count(1)

        # On a phone the button and the form fit the screen (the table scrolls inside its frame).
        page.set_viewport_size(PHONE)
        page.reload()
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        screenshot(page, "assisted-share-my-shares-phone")
    finally:
        context.close()


# Plain http on another host has no navigator.clipboard; a browser that refuses rejects the write.
NO_CLIPBOARD = {
    "unavailable": "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});",
    "denied": (
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => ({writeText: () => "
        "Promise.reject(new DOMException('Write permission denied.', 'NotAllowedError'))})});"
    ),
}


@pytest.mark.parametrize("clipboard", list(NO_CLIPBOARD))
def test_without_a_clipboard_the_window_still_opens_and_the_text_is_shown_to_copy(
    browser, live_server, waiting, network_emulator, clipboard
):
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(NO_CLIPBOARD[clipboard])
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login(page, live_server, "employee@acme.test")
        page.goto(f"{live_server.url}/o/acme/shares/{waiting.pk}/")
        box = page.get_by_test_id("assisted-linkedin")
        text = box.get_by_test_id("assisted-text")
        expect(text).to_be_hidden()
        window = open_window(context, box, "Copy the text and open LinkedIn")
        assert window.url.startswith(network_emulator.origin("linkedin") + "/sharing/share-offsite/?")
        expect(box.get_by_role("status")).to_contain_text("Could not copy the text to the clipboard")
        expect(text).to_be_visible()
        assert text.input_value() == APPROVED
        assert text.evaluate("t => [t.selectionStart, t.selectionEnd]") == [0, len(APPROVED)], "selected"
        screenshot(page, f"assisted-share-no-clipboard-{clipboard}")
    finally:
        context.close()
