"""The Slack client against the local emulator of Slack's real paths: the install (OAuth v2),
chat.postMessage / chat.update / chat.postEphemeral, views.open with its single-use,
three-second trigger_id, conversations.list, users.info / users.lookupByEmail, every failure
as its typed error, and the v0 request signing both ways."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.slack import signing
from integrations.slack.client import SCOPES
from integrations.slack.errors import (
    AuthorizationFailed,
    AuthRevoked,
    ChannelNotFound,
    MessageNotFound,
    RateLimited,
    TransientFailure,
    TriggerExpired,
    UserNotFound,
)


def install(slack):
    """An admin allows the app on the emulator's install page; the code comes back, once."""
    client = slack.client()
    url = client.authorization_url(state="st-1")
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/oauth/v2/authorize"
    assert query["scope"] == [",".join(SCOPES)] and query["state"] == ["st-1"]
    slack.auto_approve(True)
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert back["state"] == ["st-1"]
    return client, back["code"][0]


@pytest.fixture
def bot(slack):
    client, code = install(slack)
    return client, client.exchange_code(code=code).bot_token


def test_the_code_gives_a_bot_token_for_the_workspace_once(slack):
    client, code = install(slack)
    granted = client.exchange_code(code=code)
    assert granted.bot_token.startswith("xoxb-") and granted.team_id == slack.state()["team"]["id"]
    assert granted.bot_user_id and "users:read.email" in granted.scopes
    with pytest.raises(AuthorizationFailed, match="code_already_used"):
        client.exchange_code(code=code)


def test_the_install_page_refuses_a_redirect_uri_the_app_did_not_register(slack):
    url = slack.client(redirect_uri="http://evil.example/cb").authorization_url(state="s")
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_a_message_is_posted_updated_and_refused_where_the_bot_cannot_post(slack, bot):
    client, token = bot
    news = slack.channel("news")
    ts = client.post_message(
        token, channel=news["id"], text="Hello", blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}]
    )
    client.update_message(token, channel=news["id"], ts=ts, text="Hello again")
    [message] = slack.state()["messages"]
    assert message["ts"] == ts and message["text"] == "Hello again" and message["edited"]
    with pytest.raises(MessageNotFound):
        client.update_message(token, channel=news["id"], ts="1.000001", text="x")
    with pytest.raises(ChannelNotFound, match="channel_not_found"):
        client.post_message(token, channel="C_NOPE", text="x")
    closed = slack.channel("closed", bot_member=False)
    with pytest.raises(ChannelNotFound, match="not_in_channel"):
        client.post_message(token, channel=closed["id"], text="x")


def test_429_is_rate_limited_with_slacks_retry_after(slack, bot):
    client, token = bot
    news = slack.channel("news")
    slack.fault("rate_limit", method="chat.postMessage", retry_after=42)
    with pytest.raises(RateLimited) as limited:
        client.post_message(token, channel=news["id"], text="x")
    assert limited.value.retry_after == 42
    slack.fault("server_error", method="chat.postMessage")
    with pytest.raises(TransientFailure):
        client.post_message(token, channel=news["id"], text="x")
    assert client.post_message(token, channel=news["id"], text="x")


def test_a_revoked_token_is_auth_revoked(slack, bot):
    client, token = bot
    slack.fault("revoke")
    with pytest.raises(AuthRevoked, match="token_revoked"):
        client.channels(token)


def test_views_open_takes_a_trigger_once_and_within_three_seconds(slack, bot):
    client, token = bot
    emma = slack.user("Emma Employee", "emma@acme.test")
    news = slack.channel("news")
    ts = client.post_message(token, channel=news["id"], text="x")
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Share"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}],
    }
    click = lambda: slack.click(user=emma["id"], channel=news["id"], ts=ts, action_id="a", value="1", deliver=False)  # noqa: E731
    trigger = click()["trigger_id"]
    assert client.open_view(token, trigger_id=trigger, view=view).startswith("V")
    with pytest.raises(TriggerExpired, match="exchanged_trigger_id"):
        client.open_view(token, trigger_id=trigger, view=view)
    late = click()["trigger_id"]
    slack.advance_clock(3.5)
    with pytest.raises(TriggerExpired, match="expired_trigger_id"):
        client.open_view(token, trigger_id=late, view=view)
    with pytest.raises(TriggerExpired, match="invalid_trigger_id"):
        client.open_view(token, trigger_id="made-up", view=view)


def test_users_are_read_with_their_verified_email(slack, bot):
    client, token = bot
    emma = slack.user("Emma Employee", "Emma@Acme.test")
    unverified = slack.user("Uma Unverified", "uma@acme.test", email_confirmed=False)
    assert client.user(token, user_id=emma["id"]).verified_email == "emma@acme.test"
    assert client.user(token, user_id=unverified["id"]).verified_email == ""
    assert client.user_by_email(token, email="emma@acme.test").id == emma["id"]
    with pytest.raises(UserNotFound):
        client.user(token, user_id="U_NOBODY")
    with pytest.raises(UserNotFound):
        client.user_by_email(token, email="nobody@acme.test")


def test_conversations_list_reads_every_page(slack, bot):
    client, token = bot
    for n in range(205):
        slack.channel(f"c{n}")
    assert len(client.channels(token)) == 205


def test_signing_matches_slacks_recipe_and_refuses_stale_or_altered_requests():
    body = "payload=%7B%7D"
    headers = signing.sign("secret", body, 1_700_000_000)
    expected = "v0=" + hmac.new(b"secret", f"v0:1700000000:{body}".encode(), hashlib.sha256).hexdigest()
    assert headers["X-Slack-Signature"] == expected
    ts, sig = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    assert signing.verify("secret", body, ts, sig, now=1_700_000_000 + 299)
    assert not signing.verify("secret", body, ts, sig, now=1_700_000_000 + 301)
    assert not signing.verify("secret", body + "x", ts, sig, now=1_700_000_000)
    assert not signing.verify("other", body, ts, sig, now=1_700_000_000)
    assert not signing.verify("secret", body, None, sig, now=1_700_000_000)
