"""An employee connects X through the network's consent page, in a real browser."""

from __future__ import annotations

import pytest

from accounts.models import SocialConnection
from tests.e2e.conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def networks(network_emulator, live_server, settings):
    """Our settings point at the emulator, whose apps know the live server's callback URLs."""
    network_emulator.reset()
    settings.SITE_URL = live_server.url
    apps = {}
    for network in ("linkedin", "x", "facebook"):
        setattr(settings, f"{network.upper()}_ORIGIN", network_emulator.origin(network))
        apps[network] = (f"e2e-{network}", f"e2e-{network}-secret")
        network_emulator.register_app(network, *apps[network], [f"{live_server.url}/connections/callback/{network}/"])
    settings.NETWORK_APPS = apps
    return network_emulator


def test_employee_connects_x_on_the_consent_page_and_sees_it_connected(page, live_server, demo, networks):
    networks.create_account("x", name="Emma on X", username="emma_x")
    login(page, live_server, "employee@acme.test")
    page.get_by_role("link", name="Connections").click()
    page.get_by_role("button", name="Connect X").click()

    # The network's own consent page (the emulator's), with the account to pick.
    page.wait_for_url(f"{networks.origin('x')}/**")
    screenshot(page, "connect-x-consent")
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{live_server.url}/o/acme/connections/")
    assert "X is connected as Emma on X" in page.locator(".messages").inner_text()
    card = page.locator("[data-network=x]")
    assert "@emma_x" in card.inner_text() and "Connected." in card.inner_text()
    screenshot(page, "connections-after-x")
    connection = SocialConnection.objects.for_org(demo).get(network="x")
    assert connection.user.email == "employee@acme.test" and connection.refresh_token

    card.get_by_role("button", name="Disconnect").click()
    page.wait_for_url(f"{live_server.url}/o/acme/connections/")
    assert SocialConnection.objects.for_org(demo).get(network="x").status == "disconnected"


def test_denying_consent_says_so_in_words(page, live_server, demo, networks):
    networks.create_account("linkedin", name="Emma")
    login(page, live_server, "employee@acme.test")
    page.goto(f"{live_server.url}/o/acme/connections/")
    page.get_by_role("button", name="Connect LinkedIn").click()
    page.wait_for_url(f"{networks.origin('linkedin')}/**")
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(f"{live_server.url}/o/acme/**")
    assert "You did not allow access on LinkedIn" in page.locator(".messages").inner_text()
    assert not SocialConnection.objects.for_org(demo).exists()
