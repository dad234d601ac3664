"""Issue 16, item 4 in the browser: every time in the viewer's zone, labelled."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from accounts.models import User
from content.models import Share
from tests.e2e.conftest import compose_first_item, login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WORDS = "Nine o'clock in Paris is when our customers read their news."


def _next_winter_day() -> date:
    """The 15th of next January: in the future and in Paris's winter time (CET) whatever today is."""
    return date(date.today().year + 1, 1, 15)


def test_a_paris_employee_schedules_nine_and_everyone_reads_it_in_their_own_zone(page, live_server, demo, settings):
    settings.SITE_URL = live_server.url
    User.objects.filter(email="employee@acme.test").update(timezone="Europe/Paris")
    User.objects.filter(email="compliance@acme.test").update(timezone="")  # follows Acme: Paris
    day = _next_winter_day()

    # The employee schedules 09:00 on their clock.
    login(page, live_server, "employee@acme.test")
    compose_first_item(page, WORDS)
    page.get_by_label("At a time I choose").check()
    page.get_by_label("Date and time").fill(f"{day:%Y-%m-%d}T09:00")
    page.get_by_role("button", name="Schedule").click()
    page.wait_for_url(re.compile(r"/o/acme/shares/$"))
    share = Share.objects.for_org(demo).get(commentary=WORDS)
    assert share.scheduled_for.isoformat() == f"{day:%Y-%m-%d}T08:00:00+00:00"  # stored in UTC

    label = f"{day.day} Jan {day.year} 09:00\xa0CET"  # the zone stays on its clock's line
    row = page.locator(f'tr[data-share="{share.pk}"]')
    expect(row).to_contain_text(label)
    assert "08:00" not in row.inner_text()
    screenshot(page, "my-shares-paris-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "my-shares-paris-phone")
    page.set_viewport_size({"width": 1366, "height": 900})
    screenshot(page, "my-shares-paris-1366")
    row.get_by_role("link", name="Open", exact=True).click()
    expect(page.locator("main")).to_contain_text(f"scheduled for {label}")
    time_element = page.locator("main time").first
    assert time_element.get_attribute("datetime") == f"{day:%Y-%m-%d}T09:00:00+01:00"
    page.get_by_role("button", name="Sign out").click()

    # The compliance officer follows Acme's zone (Paris): the audit log reads 09:00 CET too.
    login(page, live_server, "compliance@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    entry = page.locator("tr[data-action='share.submitted']").first
    expect(entry).to_contain_text(f"{day.day} Jan {day.year} 09:00:00 CET")

    # She moves to London in her settings (a searchable list of zones): her pages follow.
    page.get_by_role("link", name=re.compile("your settings")).click()
    zone = page.get_by_label("Time zone")
    assert zone.get_attribute("list") == "zone-names"
    assert page.locator("#zone-names option[value='Europe/London']").count() == 1
    zone.fill("Europe/London")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Your settings are saved")
    page.goto(f"{live_server.url}/o/acme/compliance/audit/")
    entry = page.locator("tr[data-action='share.submitted']").first
    expect(entry).to_contain_text(f"{day.day} Jan {day.year} 08:00:00 GMT")
    page.goto(f"{live_server.url}/o/acme/review/shares/{share.pk}/")
    expect(page.locator("main")).to_contain_text(f"scheduled for {day.day} Jan {day.year} 08:00\xa0GMT")
