"""Conversions from the organization's own site (issue 17, point 2, the browser side): only
listed origins get an answer, only allowed event names, never a value, a rate per address;
the settings are checked whole; the snippet is served to any site."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache

from accounts.models import Role
from analytics.models import Conversion
from analytics.services import roi_settings
from tests.accounts.factories import OrganizationFactory, acting
from tests.helpers import member

pytestmark = pytest.mark.django_db

SITE = "https://www.acme.example"


@pytest.fixture
def org():
    org = OrganizationFactory(slug="acme")
    roi_settings.save_conversion_settings(
        actor=acting(org),
        origins=f"{SITE}/\nhttp://localhost:8080",
        events="signup, demo_request",
        window_days=30,
    )
    cache.clear()
    return org


def send(client, body, origin=SITE, slug="acme", method="post"):
    payload = json.dumps(body) if isinstance(body, dict) else body
    return client.generic(method.upper(), f"/c/{slug}/events", payload, content_type="text/plain", HTTP_ORIGIN=origin)


def test_a_listed_site_reports_an_allowed_event_and_it_is_kept(client, org):
    response = send(client, {"event_id": "b-1", "event_name": "signup", "tracking_code": "unknownhere"})
    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SITE
    assert response.json() == {"status": "unattributed", "reason": "unknown_code"}
    conversion = Conversion.objects.for_org(org).get()
    assert (conversion.source, conversion.event_name) == ("browser", "signup")
    again = send(client, {"event_id": "b-1", "event_name": "signup", "tracking_code": "unknownhere"})
    assert again.status_code == 200 and Conversion.objects.for_org(org).get().replays == 1


def test_another_origin_or_organization_gets_the_404_of_nothing_there(client, org):
    event = {"event_id": "b-2", "event_name": "signup"}
    for origin in ("https://evil.example", "", "https://www.acme.example.evil.example"):
        response = send(client, event, origin=origin)
        assert response.status_code == 404 and "Access-Control-Allow-Origin" not in response
    assert send(client, event, slug="nobody").status_code == 404
    assert send(client, event, method="get").status_code == 405  # the listed origin: told to POST
    assert send(client, event, origin="https://evil.example", method="delete").status_code == 404
    assert not Conversion.objects.for_org(org).exists()


def test_only_allowed_event_names_and_never_a_value(client, org):
    bad_name = send(client, {"event_id": "b-3", "event_name": "purchase"})
    assert bad_name.status_code == 400 and "not one this organization accepts" in bad_name.json()["error"]["message"]
    with_value = send(client, {"event_id": "b-4", "event_name": "signup", "value": "9999", "currency": "EUR"})
    assert with_value.status_code == 400 and "from your server" in with_value.json()["error"]["message"]
    assert send(client, "not json").status_code == 400
    assert not Conversion.objects.for_org(org).exists()


def test_a_preflight_is_answered_for_the_listed_origin_only(client, org):
    ok = client.options("/c/acme/events", HTTP_ORIGIN="http://localhost:8080")
    assert ok.status_code == 204 and ok["Access-Control-Allow-Methods"] == "POST"
    assert client.options("/c/acme/events", HTTP_ORIGIN="https://evil.example").status_code == 404


def test_one_address_is_limited_per_minute(client, org, settings):
    settings.BROWSER_EVENTS_PER_MINUTE = 3
    codes = [send(client, {"event_id": f"r-{n}", "event_name": "signup"}).status_code for n in range(5)]
    assert codes == [201, 201, 201, 429, 429]
    assert Conversion.objects.for_org(org).count() == 3


def test_the_snippet_is_served_to_any_site(client):
    response = client.get("/c/snippet.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert b"utm_content" in response.content and b"advocacy" in response.content


def test_the_settings_are_checked_whole_and_bad_input_changes_nothing(client, org):
    admin = member(org, Role.ADMIN)
    client.force_login(admin.user)
    url = f"/o/{org.slug}/analytics/conversion-keys/"
    page = client.post(
        url,
        {
            "form": "settings",
            "settings-origins": "not a site",
            "settings-events": "Sign Up",
            "settings-window_days": "0",
        },
    ).content.decode()
    assert "Not an origin like https://www.example.com" in page and "Between 1 and 365 days" in page
    assert roi_settings.settings_for(org).allowed_origins() == {SITE, "http://localhost:8080"}
    response = client.post(
        url,
        {
            "form": "settings",
            "settings-origins": "https://shop.example",
            "settings-events": "signup",
            "settings-window_days": "7",
        },
    )
    assert response.status_code == 302
    saved = roi_settings.settings_for(org)
    assert (saved.allowed_origins(), saved.attribution_window_days) == ({"https://shop.example"}, 7)
    assert 'data-org="acme" data-days="7"' in client.get(url).content.decode()
