"""The installable app in a real Chromium: the manifest is found and parsed with what an
install needs, Chromium reports no installability error, the service worker registers and
controls the page, and the offline page shows when the server cannot be reached. The
preferences page offers "Enable notifications on this device" without breaking the CSP or
accessibility."""

from __future__ import annotations

import pytest

from tests.e2e import test_accessibility
from tests.e2e.conftest import login
from tests.e2e.test_security_headers import RECORD_VIOLATIONS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

axe_page = test_accessibility.axe_page  # the accessibility tests' fixture (desktop and phone), here too
violations = test_accessibility.violations

CONTROLLED = "() => navigator.serviceWorker.ready.then(() => navigator.serviceWorker.controller !== null)"


def controlled_page(page, live_server, path: str) -> None:
    """Open `path` once the service worker is active and controls it (after its first visit
    a page is controlled from the next load on; the worker also claims open pages)."""
    page.goto(live_server.url + path)
    page.evaluate("() => navigator.serviceWorker.ready")
    page.reload()
    assert page.evaluate(CONTROLLED) is True


def test_the_manifest_is_found_parsed_and_chromium_sees_no_installability_error(page, live_server, demo):
    login(page, live_server, "employee@acme.test")
    page.goto(live_server.url + "/o/acme/feed/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    manifest = page.evaluate("(href) => fetch(href).then((r) => r.json())", href)
    for member in ("name", "short_name", "start_url", "scope", "display", "theme_color", "background_color", "icons"):
        assert manifest.get(member), member
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    assert any(icon["purpose"] == "maskable" for icon in manifest["icons"])
    # Chromium's own reading of the manifest (DevTools' Application panel uses the same).
    cdp = page.context.new_cdp_session(page)
    parsed = cdp.send("Page.getAppManifest")
    assert parsed["url"] == live_server.url + "/manifest.webmanifest" and parsed["errors"] == []
    page.evaluate("() => navigator.serviceWorker.ready")
    errors = {error["errorId"] for error in cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]}
    # A Playwright context is an off-the-record profile, where Chromium never installs apps:
    # that is the one error allowed; a missing icon, manifest member or worker would add its own.
    assert errors <= {"in-incognito"}, errors


def test_the_service_worker_registers_and_controls_the_page(page, live_server, demo):
    login(page, live_server, "employee@acme.test")
    controlled_page(page, live_server, "/o/acme/feed/")
    scope = page.evaluate("() => navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == live_server.url + "/"


def test_the_offline_page_shows_when_the_server_cannot_be_reached(page, live_server, demo):
    login(page, live_server, "employee@acme.test")
    controlled_page(page, live_server, "/o/acme/feed/")
    page.context.set_offline(True)
    offline = page.get_by_role("heading", name="You are offline")
    try:
        # Once, on a loaded CI machine, the first navigation after going offline did not show
        # it (not reproduced in six runs alone; Chromium applies the offline emulation to the
        # service worker's own target separately from the page's). It must show within a few
        # tries, and what showed instead is kept in the message.
        for _ in range(5):
            page.goto(live_server.url + "/o/acme/shares/")
            if offline.is_visible():
                break
            page.wait_for_timeout(300)
        assert offline.is_visible(), page.content()[:500]
        assert page.evaluate("() => document.styleSheets.length") == 1  # the shell's CSS came from the cache
    finally:
        page.context.set_offline(False)
    page.goto(live_server.url + "/o/acme/shares/")
    assert page.get_by_role("heading", name="You are offline").count() == 0


def test_signed_in_pages_are_never_cached(page, live_server, demo):
    login(page, live_server, "employee@acme.test")
    controlled_page(page, live_server, "/o/acme/feed/")
    page.goto(live_server.url + "/o/acme/notifications/preferences/")
    cached = page.evaluate(
        """() => caches.keys().then((names) => Promise.all(names.map((n) => caches.open(n).then((c) => c.keys()))))
              .then((lists) => lists.flat().map((request) => new URL(request.url).pathname))"""
    )
    assert "/offline/" in cached and "/static/css/app.css" in cached
    assert not [path for path in cached if path.startswith("/o/") or path.startswith("/accounts/")]


def test_the_preferences_page_offers_this_device_without_breaking_the_csp(page, live_server, demo):
    page.add_init_script(RECORD_VIOLATIONS)
    login(page, live_server, "employee@acme.test")
    page.goto(live_server.url + "/o/acme/notifications/preferences/")
    button = page.get_by_role("button", name="Enable notifications on this device")
    button.wait_for(state="visible")
    assert page.locator("[data-push-status]").inner_text() == "This device does not receive notifications."
    for path in ("/o/acme/notifications/preferences/", "/offline/"):
        page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__csp") == [], path


def test_the_device_section_and_the_offline_page_have_no_serious_accessibility_violation(axe_page, live_server, demo):
    login(axe_page, live_server, "employee@acme.test")
    found = {}
    for path in ("/o/acme/notifications/preferences/", "/offline/"):
        axe_page.goto(live_server.url + path)
        found[path] = violations(axe_page)
    assert found == {path: [] for path in found}, found
