"""A pasted post link: parsed into the id the product stores, then checked against the
account over the real API (the emulator); and what the emulator answers around it: GETs of
one post, duplicates with and without a fault, the `lost` fault, Facebook's /posts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
import requests

from networks.base import NetworkClient, NetworkConfig, PublishedPost, client_for, split_link
from networks.errors import (
    AmbiguousOutcome,
    PermanentRejection,
    PostLinkInvalid,
    PostNotFound,
    PostNotYours,
    PostUnverifiable,
    TokenExpired,
    TokenRevoked,
    TransientFailure,
)
from tests.networks.test_clients import Connected, Emulator, connect, consent

OFFLINE = {
    n: client_for(n, NetworkConfig("id", "secret", "http://testserver/cb")) for n in ("linkedin", "x", "facebook")
}


@pytest.fixture
def emu(network_emulator: Any) -> Emulator:
    emulator = Emulator(url=network_emulator.url.rstrip("/"))
    emulator.control("reset")
    return emulator


def another_member(first: Connected, name: str = "Grace Hopper") -> Connected:
    """A second account of the same network, connected through the same app."""
    created = first.emu.control("accounts", network=first.network, name=name)
    first.emu.control("auto_approve", network=first.network, account_id=created["id"])
    request = first.client.authorization_url(state="second")
    tokens = first.client.exchange_code(code=consent(request), code_verifier=request.code_verifier)
    return Connected(first.emu, first.network, first.client, tokens, created)


def publish(connected: Connected, text: str, author_id: str | None = None, token: str | None = None) -> PublishedPost:
    return connected.client.publish(
        access_token=token or connected.access_token, author_id=author_id or connected.account["id"], text=text
    )


# --- parsing links (no network) -----------------------------------------------------------------

LI = "https://www.linkedin.com"
SHARE, UGC, ACTIVITY_ID = (
    "urn:li:share:7085600486321512448",
    "urn:li:ugcPost:7300000000000000456",
    "7085600487823032320",
)
EMBED = f'<iframe src="{LI}/embed/feed/update/{UGC}" height="600" width="504" title="Embedded post"></iframe>'
TWEET = "1850000000000000001"
FB = "https://www.facebook.com"

GOOD = [
    ("linkedin", f"{LI}/feed/update/{SHARE}/", SHARE),
    ("linkedin", f"{LI}/feed/update/{UGC}", UGC),
    ("linkedin", f"{LI}/feed/update/urn%3Ali%3Ashare%3A123/?utm_source=share", "urn:li:share:123"),
    ("linkedin", f"{LI}/feed/update/urn%253Ali%253Ashare%253A123", "urn:li:share:123"),
    ("linkedin", "linkedin.com/feed/update/urn:li:share:123", "urn:li:share:123"),
    ("linkedin", "  <https://de.linkedin.com/feed/update/urn:li:share:123>  ", "urn:li:share:123"),
    ("linkedin", f"{LI}/embed/feed/update/{SHARE}?collapsed=1", SHARE),
    ("linkedin", EMBED, UGC),
    ("x", f"https://x.com/ada/status/{TWEET}", TWEET),
    ("x", f"https://twitter.com/ada/status/{TWEET}?s=20&t=abc", TWEET),
    ("x", f"https://mobile.twitter.com/ada/status/{TWEET}", TWEET),
    ("x", f"https://www.x.com/i/web/status/{TWEET}", TWEET),
    ("x", "https://x.com/ada_lovelace/status/123/photo/1", "123"),
    ("x", "x.com/ada/status/123#reply", "123"),
    ("facebook", f"{FB}/1001_2002", "1001_2002"),
    ("facebook", f"{FB}/1001/posts/2002/", "1001_2002"),
    ("facebook", "https://m.facebook.com/1001/posts/2002?ref=share", "1001_2002"),
    ("facebook", f"{FB}/permalink.php?story_fbid=2002&id=1001", "1001_2002"),
    ("facebook", f"{FB}/story.php?id=1001&story_fbid=2002&mibextid=abc", "1001_2002"),
]

ACTIVITY = "points to the post's activity"
NOT_LINKEDIN = "That is not a link to a LinkedIn post."
NOT_X = "That is not a link to an X post. Open the post on X and copy its address."
NOT_FACEBOOK = "That is not a link to a Facebook post."
NO_NUMBERS = "does not show the Page's number and the post's number"

BAD = [
    ("linkedin", f"{LI}/feed/update/urn:li:activity:{ACTIVITY_ID}/", ACTIVITY),
    ("linkedin", f"{LI}/posts/ada-lovelace_launch-activity-{ACTIVITY_ID}-1eSK?utm_source=share", ACTIVITY),
    ("linkedin", f"{LI}/in/ada-lovelace/", NOT_LINKEDIN),
    ("linkedin", f"{LI}/feed/update/urn:li:share:12ab", NOT_LINKEDIN),
    ("linkedin", "https://lnkd.in/abcdef", NOT_LINKEDIN),
    ("linkedin", "https://evil.example/www.linkedin.com/feed/update/urn:li:share:1", NOT_LINKEDIN),
    ("linkedin", "https://notlinkedin.com/feed/update/urn:li:share:1", NOT_LINKEDIN),
    ("linkedin", "https://x.com/ada/status/1", NOT_LINKEDIN),
    ("linkedin", "", NOT_LINKEDIN),
    ("linkedin", "urn:li:share:123 and more", NOT_LINKEDIN),
    ("x", "https://x.com/ada", NOT_X),
    ("x", "https://x.com/ada/status/", NOT_X),
    ("x", "https://x.com/ada/status/12345678901234567890", NOT_X),
    ("x", "https://x.com/ada/status/0", NOT_X),
    ("x", "https://t.co/abcdef", NOT_X),
    ("x", "https://example.com/ada/status/123", NOT_X),
    ("x", "ftp://x.com/ada/status/123", NOT_X),
    ("x", f"{LI}/feed/update/urn:li:share:1", NOT_X),
    ("facebook", f"{FB}/acme/posts/2002", NO_NUMBERS),
    ("facebook", f"{FB}/acme/posts/pfbid02abcDEF", NO_NUMBERS),
    ("facebook", f"{FB}/share/p/1AbCdEf/", NO_NUMBERS),
    ("facebook", f"{FB}/permalink.php?story_fbid=pfbid02abc&id=1001", NO_NUMBERS),
    ("facebook", f"{FB}/1001", NOT_FACEBOOK),
    ("facebook", f"{FB}/sharer/sharer.php?u=https://acme.test", NOT_FACEBOOK),
    ("facebook", "https://facebook.com.evil.example/1001_2002", NOT_FACEBOOK),
    ("facebook", "https://x.com/ada/status/1", NOT_FACEBOOK),
]


@pytest.mark.parametrize(("network", "url", "remote_id"), GOOD)
def test_a_post_link_gives_the_id_publish_would_have_returned(network: str, url: str, remote_id: str) -> None:
    assert OFFLINE[network].post_id_from_url(url) == remote_id


@pytest.mark.parametrize(("network", "url", "words"), BAD)
def test_anything_else_is_refused_with_words_for_the_employee(network: str, url: str, words: str) -> None:
    with pytest.raises(PostLinkInvalid) as info:
        OFFLINE[network].post_id_from_url(url)
    error = info.value
    assert isinstance(error, PermanentRejection) and error.reason == "invalid" and error.network == network
    assert words in error.message


def test_split_link_trims_what_was_pasted_around_the_address() -> None:
    assert split_link(' "https://x.com/a/status/1" ').path == "/a/status/1"
    assert split_link("x.com/a/status/1").scheme == "https"
    assert split_link("<iframe src='https://x.com/a?b=1&amp;c=2'></iframe>").query == "b=1&c=2"
    assert split_link("two https://x.com links") is None
    assert split_link("mailto:ada@example.com") is None


# --- verify_post against the emulator ------------------------------------------------------------


def test_linkedin_verify_own_post_other_members_and_missing(emu: Emulator) -> None:
    ada = connect(emu, "linkedin", partner=True)
    grace = another_member(ada)
    mine = publish(ada, "Launch day (mine)")
    theirs = publish(grace, "Launch day (theirs)")
    pasted = ada.client.post_id_from_url(mine.url + "/?utm_source=share")
    verified = ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=pasted)
    assert verified == mine

    with pytest.raises(PostNotYours) as info:
        ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=theirs.remote_id)
    assert info.value.message == "That post is not on your LinkedIn account." and info.value.reason == "not_yours"

    for missing in ("urn:li:share:7300000000000000001", "urn:li:ugcPost:1"):
        with pytest.raises(PostNotFound) as info:
            ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=missing)
        assert info.value.message.startswith("We could not find that post on LinkedIn.")

    ada.client.delete(access_token=ada.access_token, remote_id=mine.remote_id)
    with pytest.raises(PostNotFound):
        ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=mine.remote_id)
    with pytest.raises(ValueError):
        ada.client.verify_post(
            access_token=ada.access_token, author_id=ada.account["id"], remote_id="urn:li:activity:1"
        )


def test_linkedin_ordinary_apps_cannot_read_posts_so_cannot_verify(emu: Emulator) -> None:
    ada = connect(emu, "linkedin")
    mine = publish(ada, "Unreadable to us")
    with pytest.raises(PostUnverifiable) as info:
        ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=mine.remote_id)
    assert (info.value.remote_id, info.value.url) == (mine.remote_id, mine.url)
    assert info.value.reason == "unverifiable" and "LinkedIn does not let this app read posts" in info.value.message


def test_linkedin_verify_token_and_server_errors(emu: Emulator) -> None:
    ada = connect(emu, "linkedin", partner=True)
    urn = publish(ada, "Errors").remote_id
    verify = ada.client.verify_post
    emu.fault("linkedin", "server_error", path="/rest/posts/")
    with pytest.raises(TransientFailure):
        verify(access_token=ada.access_token, author_id=ada.account["id"], remote_id=urn)
    emu.fault("linkedin", "expire_token", account_id=ada.account["id"])
    with pytest.raises(TokenExpired):
        verify(access_token=ada.access_token, author_id=ada.account["id"], remote_id=urn)
    fresh = ada.client.refresh(token=ada.tokens)
    emu.fault("linkedin", "revoked", account_id=ada.account["id"])
    with pytest.raises(TokenRevoked):
        verify(access_token=fresh.access_token, author_id=ada.account["id"], remote_id=urn)


def test_x_verify_own_post_other_users_and_missing(emu: Emulator) -> None:
    ada = connect(emu, "x", username="ada")
    grace = another_member(ada)
    mine = publish(ada, "Launch day on X")
    theirs = publish(grace, "Their launch day on X")
    pasted = ada.client.post_id_from_url(f"https://twitter.com/ada/status/{mine.remote_id}?s=20")
    verified = ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=pasted)
    assert verified == mine == PublishedPost(mine.remote_id, f"https://x.com/i/web/status/{mine.remote_id}")

    with pytest.raises(PostNotYours) as info:
        ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=theirs.remote_id)
    assert info.value.message == "That post is not on your X account."

    ada.client.delete(access_token=ada.access_token, remote_id=mine.remote_id)
    for missing in (mine.remote_id, "1234567890123456789"):
        with pytest.raises(PostNotFound) as info:
            ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=missing)
        assert info.value.message.startswith("We could not find that post on X.")

    emu.fault("x", "server_error", path="/2/tweets/")
    with pytest.raises(TransientFailure):
        ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=theirs.remote_id)
    emu.fault("x", "expire_token", account_id=ada.account["id"])
    with pytest.raises(TokenExpired):
        ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=theirs.remote_id)


TWO_PAGES = [
    {"name": "Acme Corp", "tasks": ["CREATE_CONTENT", "MODERATE"]},
    {"name": "Acme Labs", "tasks": ["CREATE_CONTENT", "MODERATE"]},
]


def pages_of(emu: Emulator) -> tuple[Connected, dict[str, tuple[str, str]]]:
    member = connect(emu, "facebook", pages=TWO_PAGES)
    pages = member.client.managed_pages(access_token=member.access_token)
    return member, {p.name: (p.remote_id, p.access_token) for p in pages}


def test_facebook_verify_own_post_other_pages_and_missing(emu: Emulator) -> None:
    member, pages = pages_of(emu)
    (corp, corp_token), (labs, labs_token) = pages["Acme Corp"], pages["Acme Labs"]
    client: NetworkClient = member.client
    mine = publish(member, "Launch day on Facebook", author_id=corp, token=corp_token)
    theirs = publish(member, "Labs news", author_id=labs, token=labs_token)
    page_id, post_number = mine.remote_id.split("_")
    for link in (mine.url, f"https://www.facebook.com/{page_id}/posts/{post_number}"):
        pasted = client.post_id_from_url(link)
        assert client.verify_post(access_token=corp_token, author_id=corp, remote_id=pasted) == mine

    with pytest.raises(PostNotYours) as info:
        client.verify_post(access_token=corp_token, author_id=corp, remote_id=theirs.remote_id)
    assert info.value.message == "That post is not on your Facebook Page."
    with pytest.raises(PostUnverifiable):  # a token that may not read that Page's posts
        client.verify_post(access_token=corp_token, author_id=labs, remote_id=theirs.remote_id)

    client.delete(access_token=corp_token, remote_id=mine.remote_id)
    for missing in (mine.remote_id, f"{corp}_123"):
        with pytest.raises(PostNotFound) as info:
            client.verify_post(access_token=corp_token, author_id=corp, remote_id=missing)
        assert info.value.message.startswith("We could not find that post on Facebook.")

    emu.fault("facebook", "revoked", account_id=member.account["id"])
    with pytest.raises(TokenRevoked):
        client.verify_post(access_token=labs_token, author_id=labs, remote_id=theirs.remote_id)


# --- what the emulator answers --------------------------------------------------------------------


def test_one_post_reads_carry_the_author_and_404_in_each_format(emu: Emulator) -> None:
    ada = connect(emu, "linkedin", partner=True)
    urn = publish(ada, "Read me").remote_id
    headers = {
        "Authorization": f"Bearer {ada.access_token}",
        "LinkedIn-Version": ada.client.config.linkedin_version,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    base = f"{emu.url}/linkedin/rest/posts/"
    found = requests.get(base + quote(urn, safe=""), headers=headers, timeout=5).json()
    assert (found["id"], found["author"]) == (urn, f"urn:li:person:{ada.account['id']}")
    assert found["lifecycleState"] == "PUBLISHED" and found["createdAt"] > 0
    gone = requests.get(base + "urn%3Ali%3Ashare%3A1", headers=headers, timeout=5)
    assert gone.status_code == 404 and gone.json()["status"] == 404

    grace = connect(emu, "x", username="grace")
    tweet_id = publish(grace, "Read me too").remote_id
    auth = {"Authorization": f"Bearer {grace.access_token}"}
    fields = {"tweet.fields": "author_id,created_at"}
    one = requests.get(f"{emu.url}/x/2/tweets/{tweet_id}", params=fields, headers=auth, timeout=5).json()
    assert one["data"]["author_id"] == grace.account["id"] and one["data"]["created_at"].endswith("Z")
    missing = requests.get(f"{emu.url}/x/2/tweets/1234567890", params=fields, headers=auth, timeout=5)
    assert missing.status_code == 200 and "data" not in missing.json()
    [error] = missing.json()["errors"]
    assert error["title"] == "Not Found Error" and error["parameter"] == "id"
    assert error["detail"] == "Could not find tweet with id: [1234567890]."


def test_publishing_the_same_text_twice_in_a_row_is_refused_as_a_duplicate_without_a_fault(emu: Emulator) -> None:
    ada = connect(emu, "linkedin", partner=True)
    first = publish(ada, "Same words")
    with pytest.raises(PermanentRejection) as info:
        publish(ada, "Same words")
    assert info.value.reason == "duplicate" and info.value.status == 422
    assert info.value.message == f"Content is a duplicate of {first.remote_id}"

    grace = connect(emu, "x", username="grace")
    publish(grace, "Same words")
    with pytest.raises(PermanentRejection) as info:
        publish(grace, "Same words")
    assert info.value.reason == "duplicate" and info.value.status == 403
    assert info.value.message == "You are not allowed to create a Tweet with duplicate content."

    member, pages = pages_of(emu)
    corp, token = pages["Acme Corp"]
    publish(member, "Same words", author_id=corp, token=token)
    with pytest.raises(PermanentRejection) as info:
        publish(member, "Same words", author_id=corp, token=token)
    assert info.value.reason == "duplicate"
    labs, labs_token = pages["Acme Labs"]
    publish(member, "Same words", author_id=labs, token=labs_token)  # another account may say the same
    assert len([p for p in emu.state()["posts"] if p["text"] == "Same words"]) == 4
    assert emu.state()["faults"] == []


def test_linkedin_duplicate_answer_has_linkedins_shape(emu: Emulator) -> None:
    ada = connect(emu, "linkedin")
    first = publish(ada, "Twice")
    body = {
        "author": f"urn:li:person:{ada.account['id']}",
        "commentary": "Twice",
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED",
    }
    headers = {
        "Authorization": f"Bearer {ada.access_token}",
        "LinkedIn-Version": ada.client.config.linkedin_version,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    answer = requests.post(f"{emu.url}/linkedin/rest/posts", json=body, headers=headers, timeout=5)
    assert answer.status_code == 422
    error = answer.json()
    assert error["status"] == 422 and error["code"] == "DUPLICATE_POST"
    assert error["message"] == f"Content is a duplicate of {first.remote_id}"
    assert error["errorDetails"]["inputErrors"][0]["code"] == "DUPLICATE_POST"


def test_linkedin_duplicate_fault_names_the_earlier_post_or_one_that_does_not_exist(emu: Emulator) -> None:
    ada = connect(emu, "linkedin", partner=True)
    emu.fault("linkedin", "duplicate")
    with pytest.raises(PermanentRejection) as info:
        publish(ada, "Never posted")
    ghost = info.value.message.removeprefix("Content is a duplicate of ")
    assert ada.client.post_id_from_url(f"https://www.linkedin.com/feed/update/{ghost}") == ghost
    with pytest.raises(PostNotFound):  # why a named URN must be verified before it is attached
        ada.client.verify_post(access_token=ada.access_token, author_id=ada.account["id"], remote_id=ghost)

    other = publish(ada, "Another post")
    earlier = publish(ada, "Posted before")
    assert other.remote_id != earlier.remote_id
    emu.fault("linkedin", "duplicate")
    with pytest.raises(PermanentRejection) as info:
        publish(ada, "Posted before")
    assert info.value.message == f"Content is a duplicate of {earlier.remote_id}"
    assert emu.state()["faults"] == []


def test_duplicate_fault_in_each_networks_format(emu: Emulator) -> None:
    grace = connect(emu, "x", username="grace")
    member, pages = pages_of(emu)
    corp, token = pages["Acme Corp"]
    emu.fault("x", "duplicate")
    emu.fault("facebook", "duplicate")
    with pytest.raises(PermanentRejection) as info:
        publish(grace, "Fresh words")
    assert (info.value.reason, info.value.status) == ("duplicate", 403)
    assert info.value.message == "You are not allowed to create a Tweet with duplicate content."
    with pytest.raises(PermanentRejection) as info:
        publish(member, "Fresh words", author_id=corp, token=token)
    assert (info.value.reason, info.value.status) == ("duplicate", 400)
    assert emu.posts("x") == [] and emu.posts("facebook") == []


@pytest.mark.parametrize("network", ["linkedin", "x", "facebook"])
def test_lost_is_another_name_for_lost_response(emu: Emulator, network: str) -> None:
    if network == "facebook":
        member, pages = pages_of(emu)
        author, token = pages["Acme Corp"]
    else:
        member = connect(emu, network, partner=True) if network == "linkedin" else connect(emu, network)
        author, token = member.account["id"], member.access_token
    emu.fault(network, "lost", method="POST")
    assert [f["kind"] for f in emu.state()["faults"]] == ["lost_response"]
    with pytest.raises(AmbiguousOutcome):
        publish(member, "Did it go out?", author_id=author, token=token)
    [stored] = emu.posts(network)
    found = member.client.find_recent_post(access_token=token, author_id=author, text="Did it go out?")
    assert found is not None and found.remote_id == stored["id"]
    with pytest.raises(PermanentRejection) as info:
        publish(member, "Did it go out?", author_id=author, token=token)
    assert info.value.reason == "duplicate"


def test_unknown_fault_kinds_are_refused_naming_the_alias(emu: Emulator) -> None:
    answer = requests.post(f"{emu.url}/_emulator/faults", json={"network": "x", "kind": "gone"}, timeout=5)
    assert answer.status_code == 400 and "lost_response" in answer.text and "lost" in answer.json()["error"]


def test_facebook_page_posts_listing(emu: Emulator) -> None:
    member, pages = pages_of(emu)
    (corp, corp_token), (labs, labs_token) = pages["Acme Corp"], pages["Acme Labs"]
    older = publish(member, "Older", author_id=corp, token=corp_token)
    newer = publish(member, "Newer", author_id=corp, token=corp_token)
    publish(member, "Labs only", author_id=labs, token=labs_token)
    url = f"{emu.url}/facebook/v24.0/{corp}/posts"
    params = {"fields": "id,message,from,created_time", "limit": "10", "access_token": corp_token}
    listing = requests.get(url, params=params, timeout=5).json()
    assert [(p["id"], p["message"]) for p in listing["data"]] == [
        (newer.remote_id, "Newer"),
        (older.remote_id, "Older"),
    ]
    assert {p["from"]["id"] for p in listing["data"]} == {corp} and listing["paging"]["cursors"]["after"]
    assert len(requests.get(url, params={**params, "limit": "1"}, timeout=5).json()["data"]) == 1
    refused = requests.get(url, params={**params, "access_token": labs_token}, timeout=5)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == 10
    assert member.client.find_recent_post(access_token=corp_token, author_id=corp, text="Older") == older
