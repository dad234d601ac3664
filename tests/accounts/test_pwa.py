"""The installable app's server side: the manifest, the service worker at the root scope, the
offline page, and the share target that leads a page shared from the phone into a proposal
form (pre-filled; only the employee's own POST proposes)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from accounts.models import Role
from content.models import ContentProposal
from tests.accounts.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def employee():
    return MembershipFactory(organization=OrganizationFactory(slug="acme", name="Acme"), roles=[Role.EMPLOYEE])


def test_the_manifest_names_the_app_its_icons_and_a_get_share_target(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200 and response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == manifest["short_name"] == "Advocacy"
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/?source=pwa", "/", "standalone")
    assert manifest["theme_color"] == "#14263f" and manifest["background_color"] == "#ffffff"
    icons = {(icon["sizes"], icon["purpose"]): icon["src"] for icon in manifest["icons"]}
    assert set(icons) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for (sizes, _), src in icons.items():
        image = client.get(src)
        assert image.status_code == 200
        png = b"".join(image.streaming_content) if image.streaming else image.content
        width, height = int.from_bytes(png[16:20]), int.from_bytes(png[20:24])  # the PNG's IHDR
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and f"{width}x{height}" == sizes
    assert manifest["share_target"] == {
        "action": "/share/",
        "method": "GET",
        "enctype": "application/x-www-form-urlencoded",
        "params": {"title": "title", "text": "text", "url": "url"},
    }


def test_every_page_links_the_manifest_and_registers_the_worker(client, employee):
    client.force_login(employee.user)
    page = client.get("/o/acme/feed/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert "/static/js/pwa.js" in page


def test_the_service_worker_is_served_from_the_root_uncached_with_the_shell(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache" and response["Service-Worker-Allowed"] == "/"
    script = response.content.decode()
    assert '"/offline/"' in script and '"/static/css/app.css"' in script
    # Pages go to the network; only the shell is cached.
    assert 'request.mode === "navigate"' in script and "cache.put(request" in script


def test_the_offline_page_is_the_same_for_everyone(client, employee):
    anonymous = client.get("/offline/").content
    client.force_login(employee.user)
    signed_in = client.get("/offline/").content
    assert anonymous == signed_in and b"You are offline" in anonymous
    assert employee.user.email.encode() not in signed_in


def test_a_shared_page_opens_a_prefilled_proposal_and_proposes_nothing_by_itself(client, employee):
    client.force_login(employee.user)
    response = client.get("/share/", {"title": "Great read", "text": "Look at this https://news.example/a?b=1 now"})
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/o/acme/propose/"
    assert parse_qs(target.query) == {
        "url": ["https://news.example/a?b=1"],
        "reason": ["Great read\nLook at this  now"],
    }
    page = client.get(response["Location"]).content.decode()
    assert 'value="https://news.example/a?b=1"' in page and "Great read" in page
    assert not ContentProposal.objects.for_org(employee.organization).exists()
    # The employee sends it (the form's POST, with its CSRF token in a browser).
    client.post(target.path, {"url": "https://news.example/a?b=1", "reason": "Great read"})
    assert ContentProposal.objects.for_org(employee.organization).get().url == "https://news.example/a?b=1"


def test_the_share_target_takes_the_url_field_first(client, employee):
    client.force_login(employee.user)
    response = client.get("/share/", {"url": "https://news.example/x", "text": "see https://other.example/"})
    assert parse_qs(urlsplit(response["Location"]).query)["url"] == ["https://news.example/x"]


def test_a_signed_out_share_goes_through_sign_in_and_keeps_the_link(client):
    response = client.get("/share/", {"url": "https://news.example/x"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert "news.example" in response["Location"]


def test_a_post_to_the_share_target_is_refused_and_proposes_nothing(client, employee):
    """What the OS would send for a POST share target: no CSRF token, so refused (403); and
    even with the check off, the share target only answers GET (405)."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(employee.user)
    assert browser.post("/share/", {"url": "https://news.example/x"}).status_code == 403
    client.force_login(employee.user)
    assert client.post("/share/", {"url": "https://news.example/x"}).status_code == 405
    assert not ContentProposal.objects.for_org(employee.organization).exists()


@pytest.mark.parametrize("path", ["/manifest.webmanifest", "/sw.js", "/offline/"])
def test_the_app_shell_reads_nothing_of_its_own_from_the_database(client, employee, path, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get(path).status_code == 200
    client.force_login(employee.user)
    with django_assert_num_queries(2):  # the session and the user, as the middleware reads them on every request
        assert client.get(path).status_code == 200
