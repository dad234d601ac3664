"""axe-core over the pages issue 16 rebuilt (the composer with its tabs and target groups, the
feed, My shares with the assisted share, the marketer's item editor), on a desktop and on a
phone: no serious or critical violation.

axe-core comes from the npm registry (package.json, devDependencies) and is injected into the
page under test; the context bypasses the page's Content-Security-Policy for that injection
only (the product's own pages never load it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from content.models import ContentItem
from tests.e2e.conftest import DESKTOP, PHONE, login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def axe_page(browser, request):
    if not AXE.exists():
        pytest.fail("axe-core is missing: run `npm ci` (make test does).", pytrace=False)
    context = browser.new_context(viewport=request.param, bypass_csp=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def violations(page) -> list[str]:
    page.add_script_tag(content=AXE.read_text())
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .filter(v => v.impact === "serious" || v.impact === "critical")
            .map(v => v.id + ": " + v.help + " at " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    return found


def test_the_share_journey_pages_have_no_serious_accessibility_violation(axe_page, live_server, demo):
    page = axe_page
    item = ContentItem.objects.for_org(demo).filter(status="published").order_by("pk").first()
    login(page, live_server, "employee@acme.test")
    found = {}
    for path in ("/o/acme/feed/", f"/o/acme/feed/{item.pk}/share/", "/o/acme/shares/"):
        page.goto(live_server.url + path)
        found[path] = violations(page)
    # The composer with two networks chosen: the tabs and the per-network checks are live.
    page.goto(f"{live_server.url}/o/acme/feed/{item.pk}/share/")
    page.get_by_label(re.compile(r"^\s*X \(opens")).check()
    page.get_by_label(re.compile(r"^\s*LinkedIn \(opens")).check()
    page.get_by_role("tab", name=re.compile("^X")).click()
    page.get_by_test_id("counters").locator("tr[data-network=X]").wait_for()
    found["composer, X's tab"] = violations(page)
    page.context.clear_cookies()
    login(page, live_server, "marketer@acme.test")
    page.goto(f"{live_server.url}/o/acme/library/items/{item.pk}/")
    found["item editor"] = violations(page)
    assert {where: v for where, v in found.items() if v} == {}
