"""The HubSpot client against the local emulator of HubSpot's real paths: OAuth (consent,
code exchange, refresh), the deal search with its filter, sort and paging, the deal ->
contact associations, the contacts batch read, and every failure as its typed error."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.hubspot.client import SCOPES, HubSpotClient, HubSpotConfig, first_touch_code
from integrations.hubspot.errors import (
    AuthorizationFailed,
    AuthRevoked,
    InvalidRequest,
    RateLimited,
    TokenExpired,
    TransientFailure,
)


def connect(hubspot):
    """An admin approves the app on the emulator's consent page; the code comes back."""
    client = hubspot.client()
    url = client.authorization_url(state="st-1")
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/oauth/authorize"
    assert query["scope"] == [" ".join(SCOPES)] and query["state"] == ["st-1"]
    hubspot.auto_approve(True)
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert back["state"] == ["st-1"]
    return client, back["code"][0]


def test_code_exchange_gives_tokens_for_the_portal_and_a_code_works_once(hubspot):
    client, code = connect(hubspot)
    tokens = client.exchange_code(code=code)
    assert tokens.access_token.startswith("hsa-") and tokens.refresh_token.startswith("hsr-")
    assert tokens.expires_at is not None
    assert client.portal(access_token=tokens.access_token).hub_id == str(hubspot.state()["hub_id"])
    with pytest.raises(AuthorizationFailed, match="BAD_AUTH_CODE"):
        client.exchange_code(code=code)


def test_the_consent_page_refuses_a_redirect_uri_the_app_did_not_register(hubspot):
    url = hubspot.client(redirect_uri="http://evil.example/cb").authorization_url(state="s")
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_an_expired_access_token_is_refreshed_and_a_revoked_app_must_reconnect(hubspot):
    client, code = connect(hubspot)
    tokens = client.exchange_code(code=code)
    hubspot.advance_clock(1801)  # HubSpot's access tokens last 30 minutes
    with pytest.raises(TokenExpired):
        client.search_deals(access_token=tokens.access_token, modified_since_ms=0)
    fresh = client.refresh(refresh_token=tokens.refresh_token)
    assert fresh.refresh_token == tokens.refresh_token and fresh.access_token != tokens.access_token
    assert client.search_deals(access_token=fresh.access_token, modified_since_ms=0).deals == []
    hubspot.fault("revoke")  # the portal uninstalled the app
    with pytest.raises(AuthRevoked):
        client.search_deals(access_token=fresh.access_token, modified_since_ms=0)
    with pytest.raises(AuthRevoked, match="BAD_REFRESH_TOKEN"):
        client.refresh(refresh_token=tokens.refresh_token)


def test_the_search_pages_through_deals_modified_since_oldest_first(hubspot):
    client, code = connect(hubspot)
    token = client.exchange_code(code=code).access_token
    ids = [hubspot.deal(dealname=f"Deal {n}", amount=str(n), dealstage="closedwon") for n in range(250)]
    seen, after, pages = [], None, 0
    while True:
        page = client.search_deals(access_token=token, modified_since_ms=0, after=after, limit=100)
        seen += page.deals
        pages += 1
        after = page.after
        if after is None:
            break
    assert pages == 3 and page.total == 250
    assert [d.id for d in seen] == ids
    assert [d.modified_ms for d in seen] == sorted(d.modified_ms for d in seen)
    assert seen[7].amount == Decimal("7.00") and seen[7].is_won
    later = client.search_deals(access_token=token, modified_since_ms=seen[-1].modified_ms, limit=200)
    assert seen[-1].id in [d.id for d in later.deals] and ids[0] not in [d.id for d in later.deals]
    with pytest.raises(ValueError):
        client.search_deals(access_token=token, modified_since_ms=0, limit=201)


def test_the_emulator_is_strict_about_auth_and_the_page_size(hubspot):
    client, code = connect(hubspot)
    token = client.exchange_code(code=code).access_token
    url = hubspot.url + "/crm/v3/objects/deals/search"
    no_auth = requests.post(url, json={"limit": 10}, timeout=5)
    assert no_auth.status_code == 401 and no_auth.json()["category"] == "INVALID_AUTHENTICATION"
    too_big = requests.post(url, json={"limit": 201}, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert too_big.status_code == 400 and too_big.json()["category"] == "VALIDATION_ERROR"
    too_far = requests.post(url, json={"after": "10000"}, headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert too_far.status_code == 400


def test_a_429_says_how_long_to_wait_and_a_5xx_is_transient(hubspot):
    client, code = connect(hubspot)
    token = client.exchange_code(code=code).access_token
    hubspot.fault("rate_limit", retry_after=7)
    with pytest.raises(RateLimited) as limited:
        client.search_deals(access_token=token, modified_since_ms=0)
    assert 6 <= limited.value.retry_after <= 7 and limited.value.policy == "SECONDLY"
    hubspot.fault("server_error")
    with pytest.raises(TransientFailure):
        client.search_deals(access_token=token, modified_since_ms=0)
    assert client.search_deals(access_token=token, modified_since_ms=0).deals == []


def test_deal_contacts_and_their_first_touch_codes_are_read_in_batches(hubspot):
    client, code = connect(hubspot)
    token = client.exchange_code(code=code).access_token
    ada = hubspot.contact(
        "ada@example.com", hs_analytics_first_url="https://acme.example/pricing?utm_source=linkedin&utm_content=abc123"
    )
    bob = hubspot.contact("bob@example.com", utm_content="own-code")
    with_contacts = hubspot.deal(dealname="A", contacts=(ada, bob))
    alone = hubspot.deal(dealname="B")
    links = client.deal_contacts(access_token=token, deal_ids=[with_contacts, alone])
    assert links == {with_contacts: [ada, bob], alone: []}
    contacts = client.read_contacts(access_token=token, contact_ids=[ada, bob, "999999"])
    assert set(contacts) == {ada, bob}
    assert (contacts[ada].email, contacts[ada].first_touch_code) == ("ada@example.com", "abc123")
    assert contacts[bob].first_touch_code == "own-code"
    assert first_touch_code({"hs_analytics_first_url": "https://acme.example/"}) == ""


def test_wrong_app_credentials_and_oversized_batches_are_refused(hubspot):
    client, code = connect(hubspot)
    wrong = HubSpotClient(
        HubSpotConfig(client.config.client_id, "not-the-secret", client.config.redirect_uri, hubspot.url)
    )
    with pytest.raises(InvalidRequest, match="BAD_CLIENT_SECRET"):
        wrong.exchange_code(code=code)
    token = client.exchange_code(code=code).access_token  # the refused call did not spend the code
    answer = requests.post(
        hubspot.url + "/crm/v3/objects/contacts/batch/read",
        json={"inputs": [{"id": str(n)} for n in range(101)]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert answer.status_code == 400 and "limited to 100" in answer.json()["message"]
