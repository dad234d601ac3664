"""Assisted-share URLs, and that the emulator's share windows accept them."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from networks.share import share_url

LINK = "https://acme.example/r/abc123?x=1&y=2"


def query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_linkedin_share_offsite_takes_only_the_url():
    url = share_url("linkedin", link=LINK, text="ignored by LinkedIn")
    assert url.startswith("https://www.linkedin.com/sharing/share-offsite/?")
    assert query(url) == {"url": LINK}


def test_x_intent_takes_text_and_url():
    url = share_url("x", link=LINK, text="Proud of the team #acme")
    assert url.startswith("https://twitter.com/intent/tweet?")
    assert query(url) == {"text": "Proud of the team #acme", "url": LINK}


def test_facebook_uses_the_share_dialog_with_an_app_id_else_sharer():
    dialog = share_url("facebook", link=LINK, facebook_app_id="123", redirect_uri="https://app.example/done")
    assert dialog.startswith("https://www.facebook.com/dialog/share?")
    assert query(dialog) == {
        "app_id": "123",
        "display": "page",
        "href": LINK,
        "redirect_uri": "https://app.example/done",
    }
    sharer = share_url("facebook", link=LINK, text="not honoured")
    assert sharer.startswith("https://www.facebook.com/sharer/sharer.php?") and query(sharer) == {"u": LINK}


def test_only_absolute_web_links_and_known_networks():
    with pytest.raises(ValueError):
        share_url("x", link="javascript:alert(1)")
    with pytest.raises(ValueError):
        share_url("myspace", link=LINK)


@pytest.mark.parametrize("network", ["linkedin", "x", "facebook"])
def test_the_emulator_share_windows_take_our_urls(network_emulator, network):
    network_emulator.reset()
    url = share_url(network, link=LINK, text="Hello", origin=network_emulator.origin(network))
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert any(LINK in str(share) for share in network_emulator.state()["shares"])


def test_a_pasted_post_link_names_the_post_as_publish_records_it_without_a_call():
    from networks.errors import PostLinkInvalid
    from networks.share import post_from_link

    x = post_from_link("x", "twitter.com/emma/status/1790000000000000001?s=20")
    assert (x.remote_id, x.url) == ("1790000000000000001", "https://x.com/i/web/status/1790000000000000001")
    li = post_from_link("linkedin", "https://www.linkedin.com/feed/update/urn%3Ali%3Ashare%3A7/")
    assert (li.remote_id, li.url) == ("urn:li:share:7", "https://www.linkedin.com/feed/update/urn:li:share:7")
    fb = post_from_link("facebook", "https://m.facebook.com/story.php?story_fbid=200&id=100")
    assert (fb.remote_id, fb.url) == ("100_200", "https://www.facebook.com/100_200")
    with pytest.raises(PostLinkInvalid, match="not a link to an X post"):
        post_from_link("x", "https://www.facebook.com/100/posts/200")
