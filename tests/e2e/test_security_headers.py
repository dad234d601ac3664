"""The Content-Security-Policy holds on every page each demo role can open: no inline script,
nothing from another origin. A page that breaks it fails here (the browser reports every
violation through `securitypolicyviolation`)."""

from __future__ import annotations

import pytest

from content.models import ContentItem, Share
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  var where = e.sourceFile + ":" + e.lineNumber;
  window.__csp.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") + " at " + where);
});
"""

EMAILS = ["employee@acme.test", "marketer@acme.test", "compliance@acme.test", "executive@acme.test", "admin@acme.test"]


def extra_pages(demo, email: str) -> list[str]:
    """Pages behind the navigation that carry scripts of their own."""
    item = ContentItem.objects.for_org(demo).filter(status="published").order_by("pk").first()
    pages = []
    if email in ("employee@acme.test", "marketer@acme.test"):
        pages.append(f"/o/acme/feed/{item.pk}/share/")
        share = Share.objects.for_org(demo).filter(author__email=email).order_by("pk").first()
        if share is not None:
            pages.append(f"/o/acme/shares/{share.pk}/")
    if email == "marketer@acme.test":
        pages += [f"/o/acme/library/items/{item.pk}/", "/o/acme/library/new/"]
    if email == "compliance@acme.test":
        share = Share.objects.for_org(demo).order_by("pk").first()
        pages += ["/o/acme/review/", f"/o/acme/review/shares/{share.pk}/", "/o/acme/policy/"]
    return pages


@pytest.mark.parametrize("email", EMAILS, ids=[e.split("@")[0] for e in EMAILS])
def test_no_page_of_any_role_breaks_the_content_security_policy(page, live_server, demo, email):
    page.add_init_script(RECORD_VIOLATIONS)
    login(page, live_server, email)
    nav = page.locator("nav[aria-label=Main]").get_by_role("link")
    paths = [link.get_attribute("href") for link in nav.all()] + extra_pages(demo, email)
    broken = {}
    for path in dict.fromkeys(paths):
        response = page.goto(live_server.url + path)
        assert response.status == 200, f"{email}: {path} answered {response.status}"
        header = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in header and "unsafe-inline" not in header.split("script-src")[1].split(";")[0]
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__csp")
        if violations:
            broken[path] = violations
    assert broken == {}, broken
