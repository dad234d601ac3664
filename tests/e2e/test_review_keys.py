"""Issue 16, item 9 in the browser: review keys that a reviewer can turn off (WCAG 2.1.4),
and a bulk approval by key that asks first."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import Membership, User
from compliance.models import Policy
from content.models import ContentItem, Share
from content.services import sharing
from tests.e2e.conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _waiting_shares(demo, count: int) -> list[Share]:
    """`count` shares without findings waiting for review (Acme reviews everything)."""
    Policy.objects.for_org(demo).update(review_mode=Policy.ReviewMode.ALL)
    employee = Membership.objects.for_org(demo).get(user__email="employee@acme.test")
    items = list(ContentItem.objects.for_org(demo).filter(status="published").order_by("pk"))
    shares = []
    for index in range(count):
        shares.append(
            sharing.submit_share(
                actor=employee,
                item_id=items[index % len(items)].pk,
                commentary=f"Plain words, number {index + 1}.",
                target_keys=["assisted:linkedin"],
                confirm_repeat=True,
            )
        )
    assert all(s.status == Share.Status.IN_REVIEW for s in shares)
    return shares


def _statuses(shares) -> list[str]:
    return [Share.objects.for_org(shares[0].organization_id).get(pk=s.pk).status for s in shares]


def test_with_single_key_shortcuts_off_a_approves_nothing(page, live_server, demo, settings):
    settings.SITE_URL = live_server.url
    shares = _waiting_shares(demo, 2)
    login(page, live_server, "compliance@acme.test")
    page.goto(f"{live_server.url}/o/acme/profile/")
    shortcuts = page.get_by_label("Single-key shortcuts in the review queue")
    assert shortcuts.is_checked(), "on by default"
    shortcuts.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Your settings are saved")
    assert User.objects.get(email="compliance@acme.test").review_shortcuts is False

    # The queue: ticking both and pressing "a" approves nothing (and asks nothing).
    page.goto(f"{live_server.url}/o/acme/review/")
    expect(page.locator("[data-review-shortcuts]")).to_contain_text("Single-key shortcuts are off")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for share in shares:
        page.locator(f'tr[data-share="{share.pk}"] input[name=share_ids]').check()
    page.locator("h1").click()
    page.keyboard.press("a")
    page.keyboard.press("j")
    # One share's page: "a" does nothing either; the button still approves.
    page.goto(f"{live_server.url}/o/acme/review/shares/{shares[0].pk}/")
    page.locator("h1").click()
    page.keyboard.press("a")
    expect(page.locator("[data-review-shortcuts]")).to_be_visible()
    assert page.url.endswith(f"/review/shares/{shares[0].pk}/")
    assert _statuses(shares) == ["in_review", "in_review"] and dialogs == []
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("Approved")
    assert _statuses(shares) == ["approved", "in_review"]


def test_with_shortcuts_on_a_bulk_approval_by_key_asks_first(page, live_server, demo, settings):
    settings.SITE_URL = live_server.url
    shares = _waiting_shares(demo, 3)
    login(page, live_server, "compliance@acme.test")
    page.goto(f"{live_server.url}/o/acme/review/")
    page.set_viewport_size({"width": 1366, "height": 900})
    screenshot(page, "review-queue-1366")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "review-queue-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    rows = {s.pk: page.locator(f'tr[data-share="{s.pk}"]') for s in shares}
    order = [int(pk) for pk in page.locator("tr[data-queue-row]").evaluate_all("rs => rs.map(r => r.dataset.share)")]

    # Tick the first two rows with j / x.
    page.locator("h1").click()
    page.keyboard.press("j")
    page.keyboard.press("x")
    page.keyboard.press("j")
    page.keyboard.press("x")
    first_two = order[:2]
    assert all(rows[pk].locator("input[name=share_ids]").is_checked() for pk in first_two)

    # "a" would approve two: it asks. Cancel approves nothing.
    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.keyboard.press("a")
    expect(page.locator("#key-hint")).to_have_text("Nothing was approved.")
    assert asked == ["Approve 2 shares at once? Each goes out as its author scheduled it."]
    assert _statuses(shares) == ["in_review"] * 3

    # Accepting approves exactly the two ticked.
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    with page.expect_navigation():
        page.keyboard.press("a")
    expect(page.locator(".messages")).to_contain_text("Approved 2")
    by_pk = dict(zip([s.pk for s in shares], _statuses(shares), strict=True))
    assert [by_pk[pk] for pk in order] == ["approved", "approved", "in_review"]
    assert len(asked) == 2

    # One ticked share: "a" approves it without asking.
    page.locator(f'tr[data-share="{order[2]}"] input[name=share_ids]').check()
    page.locator("h1").click()
    with page.expect_navigation():
        page.keyboard.press("a")
    assert _statuses(shares) == ["approved"] * 3 and len(asked) == 2
