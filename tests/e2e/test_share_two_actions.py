"""Issue 16, items 1 and 2, in Chromium: a curated post shared in two actions (the feed's
Share, then "Share now") with the accounts and the words pre-filled, and the composer's
counts equal to the networks' own count of what was posted, on all three networks.

The networks are the emulator over HTTP and the posts go out through the publishing
worker (tests/content/publishing_setup.py), as in production.
"""

from __future__ import annotations

import re
import unicodedata

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from content.models import Share
from networks.emulator.x import weighted_length
from tests.compliance.factories import PolicyFactory
from tests.content.factories import SuggestionFactory
from tests.e2e.conftest import login, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "two-actions-2026"
FOR_EVERY_NETWORK = "Forty turbines off the Breton coast (my colleagues built them) #wind #AcmeEnergy"
FOR_X = "Forty turbines, built by people I work with."


@pytest.fixture
def emma(pub):
    """An employee who can sign in, with LinkedIn, X and a Facebook Page connected."""
    membership = pub.employee("emma@acme.test")
    membership.user.set_password(PASSWORD)
    membership.user.save()
    EmailAddress.objects.update_or_create(
        user=membership.user, email=membership.user.email, defaults={"verified": True, "primary": True}
    )
    membership.accounts = [pub.connect(membership, network) for network in ("linkedin", "x", "facebook")]
    return membership


def emulator_count(post: dict) -> int:
    """The network's own measure of what it received: X's weighted length of the tweet;
    LinkedIn's length of the commentary as sent (the little text it checks against 3,000);
    Facebook's length of the message."""
    if post["network"] == "x":
        return weighted_length(post["text"])
    return len(unicodedata.normalize("NFC", post["raw"] or post["text"]))


def test_a_curated_post_is_shared_in_two_actions_and_counted_as_the_networks_count_it(
    page, live_server, pub, emma, settings
):
    PolicyFactory(
        organization=pub.org,
        disclosure="#AcmeEmployee",
        disclosure_mode="append",
        review_mode="none",
        auto_approve_suggestions=True,
    )
    SuggestionFactory(item=pub.item, text=FOR_EVERY_NETWORK)
    SuggestionFactory(item=pub.item, network="x", text=FOR_X)
    login(page, live_server, "emma@acme.test", PASSWORD)
    page.goto(f"{live_server.url}/o/acme/feed/")
    card = page.locator("article.item", has_text=pub.item.title)
    expect(card.locator("blockquote")).to_contain_text("Forty turbines off the Breton coast")

    actions = 0
    card.get_by_role("link", name=re.compile("^Share")).click()
    actions += 1
    page.wait_for_url(re.compile(r"/feed/\d+/share/"))
    # Everything is ready: the three accounts ticked, the card's words for every network,
    # the marketer's own words for X in its tab, the assisted windows folded away.
    for account in emma.accounts:
        expect(page.locator(f"input[value='connection:{account.pk}']")).to_be_checked()
    expect(page.get_by_label("Your words")).to_have_value(FOR_EVERY_NETWORK)
    page.get_by_role("tab", name=re.compile("^X")).click()
    expect(page.get_by_label("Words for X")).to_have_value(FOR_X)
    expect(page.get_by_test_id("assisted-targets")).not_to_have_attribute("open", "")
    counts = {}
    for network in ("linkedin", "x", "facebook"):
        counted = page.get_by_test_id(f"count-{network}")
        expect(counted).to_have_text(re.compile(r"^\d+ / \d+$"))
        counts[network] = int(counted.inner_text().split(" / ")[0])
    screenshot(page, "composer-two-actions")
    page.get_by_role("button", name="Share now").click()
    actions += 1
    assert actions == 2

    page.wait_for_url(re.compile(r"/o/acme/shares/"))
    share = pub.wait_until(Share.objects.for_org(pub.org).get(item=pub.item), "published")
    posts = {post["network"]: post for post in pub.posts()}
    assert sorted(posts) == ["facebook", "linkedin", "x"], "one post on each network"
    assert posts["x"]["text"].startswith(FOR_X + " #AcmeEmployee"), "X got its own words, with the disclosure"
    assert posts["linkedin"]["text"].startswith(FOR_EVERY_NETWORK + " #AcmeEmployee")
    assert posts["linkedin"]["raw"].count("{hashtag|\\#|") == 3, "LinkedIn's hashtags sent as its markup"
    assert {network: emulator_count(post) for network, post in posts.items()} == counts
    assert counts["linkedin"] > len(posts["linkedin"]["text"]), "LinkedIn is counted as sent, markup included"
    assert share.is_personalised is False and share.status == "published"
    screenshot(page, "my-shares-after-two-actions")


def test_the_composer_remembers_the_accounts_of_the_last_share(page, live_server, pub, emma):
    """Only X last time: only X is ticked next time; an account that needs reconnecting is
    shown apart with its reconnect link, never ticked."""
    PolicyFactory(organization=pub.org, review_mode="none")
    linkedin, x, facebook = emma.accounts
    pub.share(emma, [x])
    linkedin.status = "needs_reconnect"
    linkedin.status_reason = "LinkedIn asks you to sign in again."
    linkedin.save()
    login(page, live_server, "emma@acme.test", PASSWORD)
    page.goto(f"{live_server.url}/o/acme/feed/{pub.item.pk}/share/")
    expect(page.locator(f"input[value='connection:{x.pk}']")).to_be_checked()
    expect(page.locator(f"input[value='connection:{facebook.pk}']")).not_to_be_checked()
    expect(page.locator(f"input[value='connection:{linkedin.pk}']")).to_have_count(0)
    broken = page.get_by_test_id("needs-reconnect")
    expect(broken).to_contain_text("LinkedIn asks you to sign in again.")
    expect(broken.get_by_role("link", name=re.compile("^Reconnect"))).to_be_visible()
    # Only the chosen networks have a tab; choosing a time turns the button into "Schedule".
    expect(page.get_by_role("tab", name=re.compile("^X"))).to_be_visible()
    expect(page.get_by_role("tab", name=re.compile("^Facebook"))).to_be_hidden()
    page.get_by_label("At a time I choose").check()
    expect(page.get_by_test_id("share-button")).to_have_text("Schedule")
