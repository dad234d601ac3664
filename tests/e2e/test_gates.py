"""Issue 16, item 3 in the browser: the guidelines gate before writing (the draft kept), the
cap and posting hours on the feed, and "Schedule for <next allowed time>" as one action."""

from __future__ import annotations

import re
from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import GuidelineAcceptance, Role, User
from accounts.services.guidelines import publish_guideline
from content.models import ContentItem, Share
from content.services import sharing
from tests.accounts.factories import acting
from tests.content.factories import ShareFactory
from tests.e2e.conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_guidelines_gate_before_writing_keeps_the_draft(page, live_server, demo, settings):
    settings.SITE_URL = live_server.url
    guideline = publish_guideline(
        actor=acting(demo, Role.COMPLIANCE),
        title="How we share",
        body="Say you work at Acme. Never share customer data.",
    )
    login(page, live_server, "employee@acme.test")
    # The banner is on every page, before any share is written.
    for link in ("My shares", "Connections", "Feed"):
        page.get_by_role("navigation", name="Main").get_by_role("link", name=link).click()
        expect(page.get_by_test_id("guidelines-banner")).to_contain_text("version 1")
    screenshot(page, "gates-banner-feed")

    # The composer opens on the guidelines; the words written below them survive accepting.
    page.locator("article.item").first.get_by_role("link", name=re.compile("^Share")).click()
    page.wait_for_url(re.compile(r"/feed/\d+/share/"))
    gate = page.get_by_test_id("guidelines-gate")
    expect(gate).to_contain_text("Never share customer data.")
    expect(page.get_by_test_id("guidelines-banner")).to_have_count(0)
    page.get_by_label(re.compile(r"^\s*X \(opens")).check()
    words = "Words I wrote before reading the rules, and want to keep."
    page.get_by_label("Your words").fill(words)
    screenshot(page, "gates-composer-guidelines")
    gate.get_by_role("button", name="I have read and accept version 1").click()
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text("Your draft is kept.")
    expect(page.get_by_label("Your words")).to_have_value(words)
    expect(page.get_by_label(re.compile(r"^\s*X \(opens"))).to_be_checked()
    expect(page.get_by_test_id("guidelines-gate")).to_have_count(0)
    user = User.objects.get(email="employee@acme.test")
    assert GuidelineAcceptance.objects.for_org(demo).filter(user=user, guideline=guideline).exists()
    assert not Share.objects.for_org(demo).filter(author=user).exists()

    page.get_by_role("button", name="Share now").click()
    page.wait_for_url(re.compile(r"/o/acme/shares/"))
    assert Share.objects.for_org(demo).get(author=user).commentary == words
    expect(page.get_by_test_id("guidelines-banner")).to_have_count(0)


def _hours_excluding_now(organization) -> tuple[time, time]:
    """A one-hour window starting two hours from now (org's clock): now is outside it."""
    local = timezone.now().astimezone(ZoneInfo(organization.timezone))
    start = (local + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    return start.time(), (start + timedelta(hours=1)).time()


def test_cap_and_hours_on_the_feed_and_schedule_for_the_next_allowed_time(page, live_server, demo, settings):
    settings.SITE_URL = live_server.url
    demo.daily_share_cap = 3
    demo.posting_hours_start, demo.posting_hours_end = _hours_excluding_now(demo)
    demo.save()
    user = User.objects.get(email="employee@acme.test")
    membership = user.memberships.get(organization=demo)
    item = ContentItem.objects.for_org(demo).filter(status="published").order_by("pk").first()
    # One share already went out today (approved, no time: it counts on the day it was
    # submitted), so 2 of 3 are left.
    ShareFactory(organization=demo, item=item, author=user, status="approved", submitted_at=timezone.now())
    gates = sharing.sharing_gates(membership, zone="Europe/Paris")
    assert gates.later_because == "hours" and gates.next_time is not None

    login(page, live_server, "employee@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Feed").click()
    expect(page.get_by_test_id("shares-left")).to_have_text("2 of 3 shares left today")
    start, end = f"{demo.posting_hours_start:%H:%M}", f"{demo.posting_hours_end:%H:%M}"
    hours = re.compile(rf"Posts go out between {start} and {end} CES?T\.")
    expect(page.get_by_test_id("posting-hours")).to_have_text(hours)
    expect(page.get_by_test_id("next-time")).to_contain_text(gates.next_words)
    screenshot(page, "gates-feed-cap-and-hours")

    # Outside the hours the composer's primary action is the next allowed time, in one click.
    page.locator("article.item").first.get_by_role("link", name=re.compile("^Share")).click()
    page.wait_for_url(re.compile(r"/feed/\d+/share/"))
    page.get_by_label(re.compile(r"^\s*X \(opens")).check()
    page.get_by_label("Your words").fill("Worth reading, whenever it goes out.")
    action = page.get_by_test_id("schedule-next")
    expect(action).to_have_text(f"Schedule for {gates.next_words}")
    assert re.fullmatch(r"(today|[A-Z][a-z]+day) \d\d:00 CES?T", gates.next_words), gates.next_words
    screenshot(page, "gates-composer-schedule-next")
    action.click()
    page.wait_for_url(re.compile(r"/o/acme/shares/"))
    share = Share.objects.for_org(demo).filter(author=user).order_by("pk").last()
    assert share.commentary == "Worth reading, whenever it goes out."
    assert share.scheduled_for == gates.next_time and share.status == "scheduled"
