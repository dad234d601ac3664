"""The executive's journey: the ROI dashboard in a real Chromium, charts drawn by Chart.js."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

from analytics.selectors.periods import Period, last_days
from analytics.selectors.roi import executive_report
from tests.e2e.conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PAINTED = """() => [...document.querySelectorAll('canvas[data-chart]')].map(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })"""


def _figure(report, key):
    return next(f for f in report["figures"] if f["key"] == key)


def test_executive_opens_the_dashboard_changes_the_range_and_sees_charts(page, live_server, demo):
    login(page, live_server, "executive@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    page.wait_for_url(re.compile(r"/o/acme/reports/$"))
    expect(page.locator('canvas[data-chart][data-drawn="1"]')).to_have_count(3)
    assert all(pixels > 500 for pixels in page.evaluate(PAINTED)), "both charts painted something"
    default = executive_report(demo, last_days(demo))
    assert page.get_by_test_id("value-posts").inner_text() == f"{_figure(default, 'posts')['value']:,}"
    assert page.get_by_test_id("value-estimated_reach").inner_text() == "not available"
    assert page.get_by_test_id("chart-activity").locator("tbody tr").count() == 30
    screenshot(page, "executive-dashboard-30-days")

    # A week ending yesterday, typed into the date range picker.
    days = [date.fromisoformat(day) for day in default["trend"]["days"]]
    week = Period(days[-8], days[-2])
    page.get_by_label("From").fill(week.start.isoformat())
    page.get_by_label("To").fill(week.end.isoformat())
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(rf"start={week.start}&end={week.end}"))
    expect(page.locator('canvas[data-chart][data-drawn="1"]')).to_have_count(3)
    assert all(pixels > 500 for pixels in page.evaluate(PAINTED))
    report = executive_report(demo, week)
    assert page.get_by_test_id("value-clicks").inner_text() == f"{_figure(report, 'clicks')['value']:,}"
    assert page.get_by_test_id("value-posts").inner_text() == f"{_figure(report, 'posts')['value']:,}"
    table = page.get_by_test_id("chart-results")
    table.get_by_text("as a table").click()
    assert table.locator("tbody tr").count() == 7
    assert table.locator("tbody tr").first.locator("th").inner_text() == week.start.isoformat()
    assert week.end - week.start == timedelta(days=6)
    assert page.get_by_test_id("by-network").locator("tbody tr").count() >= 2
    screenshot(page, "executive-dashboard-week")
