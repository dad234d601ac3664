"""Slack distribution end to end against the Slack emulator (real HTTP, no mock): the install
round trip, a featured item posted to its channels, the Share button -> modal -> submit
through the composer's own share service and review, the message updated afterwards, the
signature / timestamp / replay refusals, Slack's 429 with Retry-After, and who may see the
settings page."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests
import time_machine
from django.db import connection as db
from django.urls import reverse

from accounts.models import Role
from compliance.models import Policy, ReviewTask
from content.models import Share, SlackChannelRoute, SlackInstallation, SlackMemberLink, SlackPost
from content.services import sharing
from content.services import slack as slack_service
from content.services.library import items as library_items
from integrations.slack import signing
from tests.accounts.factories import MembershipFactory, OrganizationFactory, SocialConnectionFactory, UserFactory
from tests.content.factories import ContentItemFactory, SuggestionFactory
from tests.slack_fixture import SIGNING_SECRET

pytestmark = pytest.mark.django_db

SUGGESTED = "Our new plant runs on the sun."


@pytest.fixture
def org(settings):
    settings.NETWORK_APPS = {"linkedin": ("li", "s"), "x": ("x", "s"), "facebook": ("", "")}
    organization = OrganizationFactory(slug="acme", name="Acme")
    Policy.objects.update_or_create(organization=organization, defaults={"review_mode": Policy.ReviewMode.ALL})
    return organization


@pytest.fixture
def marketer(org):
    return MembershipFactory(organization=org, roles=[Role.MARKETER])


@pytest.fixture
def emma(org):
    user = UserFactory(email="emma@acme.test")
    return MembershipFactory(organization=org, user=user, roles=[Role.EMPLOYEE])


@pytest.fixture
def x_account(emma):
    return SocialConnectionFactory(organization=emma.organization, user=emma.user, network="x", refresh_token="r")


def install_via_slack(slack, org, marketer) -> SlackInstallation:
    """The real OAuth exchange against the emulator, stored as the install service stores it."""
    client = slack.client()
    slack.auto_approve(True)
    answer = requests.get(client.authorization_url(state="s"), allow_redirects=False, timeout=5)
    code = dict(p.split("=", 1) for p in urlsplit(answer.headers["Location"]).query.split("&"))["code"]
    granted = client.exchange_code(code=code)
    return SlackInstallation.objects.create(
        organization=org,
        team_id=granted.team_id,
        team_name=granted.team_name,
        bot_user_id=granted.bot_user_id,
        bot_token=granted.bot_token,
        scopes=",".join(granted.scopes),
        installed_by=marketer.user,
    )


@pytest.fixture
def installed(slack, org, marketer):
    return install_via_slack(slack, org, marketer)


@pytest.fixture
def news(slack, org, installed):
    channel = slack.channel("news")
    SlackChannelRoute.objects.create(organization=org, channel_id=channel["id"], channel_name="news")
    return channel


def posted_item(org, marketer, **fields):
    """A featured item published by the marketer, then its Slack messages posted (the task's work)."""
    item = ContentItemFactory(organization=org, status="draft", featured=True, published_at=None, **fields)
    SuggestionFactory(item=item, text=SUGGESTED)
    library_items.publish_item(actor=marketer, item=item)
    slack_service.post_pending(organization_id=org.pk, item_id=item.pk)
    return item


def message_of(slack, channel_id):
    [message] = [m for m in slack.state()["messages"] if m["channel"] == channel_id]
    return message


# --- install -----------------------------------------------------------------------------------


def test_install_round_trip_stores_the_bot_token_encrypted_and_uses_the_state_once(client, slack, org, marketer):
    client.force_login(marketer.user)
    started = client.post(reverse("content:slack_install", kwargs={"org_slug": org.slug}))
    assert started.status_code == 302 and started["Location"].startswith(slack.url + "/oauth/v2/authorize?")
    slack.auto_approve(True)
    back = requests.get(started["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(back.headers["Location"])
    assert callback.path == reverse("slack_oauth_callback")
    done = client.get(f"{callback.path}?{callback.query}")
    assert done.status_code == 302 and done["Location"] == reverse(
        "content:slack_settings", kwargs={"org_slug": org.slug}
    )
    installation = SlackInstallation.objects.for_org(org).get()
    assert installation.bot_token.startswith("xoxb-") and installation.team_id == slack.state()["team"]["id"]
    with db.cursor() as cursor:
        cursor.execute("SELECT bot_token FROM content_slackinstallation WHERE id = %s", [installation.pk])
        stored = cursor.fetchone()[0]
    assert "xoxb" not in stored, "the database row never holds the token"
    # The same redirect again (a replayed state): refused, the installation unchanged.
    again = client.get(f"{callback.path}?{callback.query}", follow=True)
    assert "not valid any more" in again.content.decode()
    assert SlackInstallation.objects.for_org(org).get().bot_token == installation.bot_token


def test_a_state_from_another_browser_installs_nothing(client, slack, org, marketer):
    client.force_login(marketer.user)
    url = client.post(reverse("content:slack_install", kwargs={"org_slug": org.slug}))["Location"]
    slack.auto_approve(True)
    callback = urlsplit(requests.get(url, allow_redirects=False, timeout=5).headers["Location"])
    client.logout()
    other = MembershipFactory(organization=org, roles=[Role.MARKETER])
    client.force_login(other.user)
    page = client.get(f"{callback.path}?{callback.query}", follow=True)
    assert "not valid any more" in page.content.decode()
    assert not SlackInstallation.objects.for_org(org).exists()


def test_an_employee_cannot_install_and_another_organizations_page_is_404(client, slack, org, emma, installed):
    client.force_login(emma.user)
    assert client.post(reverse("content:slack_install", kwargs={"org_slug": org.slug})).status_code == 403
    outsider = MembershipFactory(roles=[Role.MARKETER, Role.ADMIN])
    client.force_login(outsider.user)
    assert client.get(reverse("content:slack_settings", kwargs={"org_slug": org.slug})).status_code == 404


def test_the_settings_page_lists_slacks_channels_and_adds_one_in_fixed_queries(
    client, slack, org, marketer, installed, django_assert_max_num_queries
):
    channel = slack.channel("launches")
    SlackChannelRoute.objects.create(organization=org, channel_id="C1", channel_name="old")
    client.force_login(marketer.user)
    url = reverse("content:slack_settings", kwargs={"org_slug": org.slug})
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200 and "#launches" in page.content.decode()
    client.post(reverse("content:slack_route_add", kwargs={"org_slug": org.slug}), {"channel": channel["id"]})
    assert SlackChannelRoute.objects.for_org(org).filter(channel_id=channel["id"], channel_name="launches").exists()
    refused = client.post(reverse("content:slack_route_add", kwargs={"org_slug": org.slug}), {"channel": "C_FAKE"})
    assert refused.status_code == 302
    assert not SlackChannelRoute.objects.for_org(org).filter(channel_id="C_FAKE").exists()


# --- posting -----------------------------------------------------------------------------------


def test_a_featured_item_is_posted_once_to_the_channels_that_want_it(slack, org, marketer, news):
    green = slack.channel("green-news")
    from tests.content.factories import TopicFactory

    topic = TopicFactory(organization=org, name="Green")
    SlackChannelRoute.objects.create(organization=org, channel_id=green["id"], channel_name="green-news", topic=topic)
    item = posted_item(org, marketer)
    message = message_of(slack, news["id"])
    assert item.title in json.dumps(message["blocks"])
    [button] = [e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["action_id"] == "share_item" and button["value"] == str(item.pk)
    assert not [m for m in slack.state()["messages"] if m["channel"] == green["id"]], "not the Green topic"
    post = SlackPost.objects.for_org(org).get()
    assert post.status == SlackPost.Status.POSTED and post.ts == message["ts"]
    # Featured again, published again: never a second message.
    library_items.update_item(actor=marketer, item=item, featured=False)
    library_items.update_item(actor=marketer, item=item, featured=True)
    slack_service.post_pending(organization_id=org.pk, item_id=item.pk)
    assert len(slack.state()["messages"]) == 1


def test_slacks_429_is_waited_out_for_its_retry_after(slack, org, marketer, news):
    start = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    slack.fault("rate_limit", method="chat.postMessage", retry_after=30)
    with time_machine.travel(start, tick=False):
        item = ContentItemFactory(organization=org, featured=True)
        slack_service.queue_item(item=item)
        first = slack_service.post_pending(organization_id=org.pk, item_id=item.pk)
        assert first.posted == 0 and first.retry_after == 30
        post = SlackPost.objects.for_org(org).get()
        assert post.status == SlackPost.Status.PENDING and post.not_before == start + timedelta(seconds=30)
        calls = slack.state()["counters"]["chat.postMessage"]
        early = slack_service.post_pending(organization_id=org.pk, item_id=item.pk)
        assert early.posted == 0 and slack.state()["counters"]["chat.postMessage"] == calls, "Slack not asked again"
    with time_machine.travel(start + timedelta(seconds=31), tick=False):
        assert slack_service.post_pending(organization_id=org.pk, item_id=item.pk).posted == 1
    assert message_of(slack, news["id"])


# --- the Share button, the modal, the submit -----------------------------------------------------


def deliver(client, sent: dict, **header_changes):
    headers = {**sent["headers"], **header_changes}
    return client.post(
        "/slack/interactivity/",
        data=sent["body"],
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SLACK_SIGNATURE=headers["X-Slack-Signature"],
        HTTP_X_SLACK_REQUEST_TIMESTAMP=headers["X-Slack-Request-Timestamp"],
    )


def click_share(slack, client, person, news, item):
    ts = message_of(slack, news["id"])["ts"]
    sent = slack.click(
        user=person["id"], channel=news["id"], ts=ts, action_id="share_item", value=str(item.pk), deliver=False
    )
    return deliver(client, sent["sent"])


@pytest.mark.django_db(transaction=True)
def test_share_button_modal_and_submit_go_through_review_like_a_web_share(
    slack, live_server, org, marketer, emma, x_account, news
):
    slack.register(request_url=live_server.url + "/slack/interactivity/")
    person = slack.user("Emma Employee", "emma@acme.test")
    item = posted_item(org, marketer)
    ts = message_of(slack, news["id"])["ts"]

    # The emulator's Slack page, as in `make run`: the Share button's form, then the modal's.
    form = {"user": person["id"], "channel": news["id"], "ts": ts, "action_id": "share_item", "value": str(item.pk)}
    modal = requests.post(f"{slack.url}/_client/click", data=form, timeout=20)
    assert modal.status_code == 200 and "Your words" in modal.text and SUGGESTED in modal.text
    [view] = slack.state()["views"]
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["commentary"]["element"]["initial_value"] == SUGGESTED
    assert [o["value"] for o in blocks["targets"]["element"]["initial_options"]] == [f"connection:{x_account.pk}"]
    assert "X " in blocks["commentary"]["hint"]["text"] and "/280" in blocks["commentary"]["hint"]["text"]

    words = "Proud of our new solar plant, in my own words."
    fields = {"commentary|text": words, "targets|targets": f"connection:{x_account.pk}"}
    submitted = requests.post(f"{slack.url}/_client/views/{view['id']}", data=fields, allow_redirects=False, timeout=20)
    assert submitted.status_code == 302, submitted.text  # the modal closed: back to the channel
    share = Share.objects.for_org(org).get(author=emma.user)
    web = sharing.submit_share(  # what the web composer calls, for a colleague with the same words
        actor=(colleague := MembershipFactory(organization=org, roles=[Role.EMPLOYEE])),
        item_id=item.pk,
        commentary=words,
        target_keys=[f"connection:{SocialConnectionFactory(organization=org, user=colleague.user, network='x').pk}"],
    )
    assert share.status == web.status == Share.Status.IN_REVIEW
    assert ReviewTask.objects.for_org(org).filter(share=share).exists()
    assert [(d.network, d.mode, d.connection_id) for d in share.deliveries.all()] == [("x", "api", x_account.pk)]
    assert share.commentary == words and share.submit_key == f"slack:{view['id']}"

    slack_service.confirm_share(
        organization_id=org.pk, share_id=share.pk, slack_user=person["id"], channel=news["id"], ts=ts
    )
    message = message_of(slack, news["id"])
    assert message["edited"] and f"Shared by <@{person['id']}>" in json.dumps(message["blocks"])
    [note] = slack.state()["ephemerals"]
    assert note["user"] == person["id"] and note["text"].startswith("✅ You shared")


def test_a_refused_share_goes_back_to_the_modal_as_errors_and_nothing_is_saved(
    client, slack, org, marketer, emma, x_account, news
):
    person = slack.user("Emma Employee", "emma@acme.test")
    item = posted_item(org, marketer)
    assert click_share(slack, client, person, news, item).status_code == 200
    [view] = slack.state()["views"]
    sent = slack.submit(
        view_id=view["id"], values={"commentary": {"text": ""}, "targets": {"targets": []}}, deliver=False
    )
    answer = deliver(client, sent["sent"])
    assert answer.status_code == 200
    assert answer.json()["response_action"] == "errors" and answer.json()["errors"]["targets"]
    too_long = slack.submit(
        view_id=view["id"],
        values={"commentary": {"text": "x" * 400}, "targets": {"targets": [f"connection:{x_account.pk}"]}},
        deliver=False,
    )
    answer = deliver(client, too_long["sent"])
    assert "Too long for X" in answer.json()["errors"]["commentary"]
    assert not Share.objects.for_org(org).exists()


def test_an_unverified_or_unknown_slack_user_gets_an_ephemeral_message_and_no_modal(
    client, slack, org, marketer, emma, news
):
    item = posted_item(org, marketer)
    unverified = slack.user("Emma Employee", "emma@acme.test", email_confirmed=False)
    stranger = slack.user("Sam Stranger", "sam@elsewhere.test")
    assert click_share(slack, client, unverified, news, item).status_code == 200
    assert click_share(slack, client, stranger, news, item).status_code == 200
    state = slack.state()
    assert state["views"] == []
    notes = {e["user"]: e["text"] for e in state["ephemerals"]}
    assert "not verified" in notes[unverified["id"]]
    assert "No employee account of Acme uses sam@elsewhere.test" in notes[stranger["id"]]


# --- requests Slack did not sign now -------------------------------------------------------------


def test_a_bad_signature_a_stale_timestamp_and_a_replay_are_refused_and_change_nothing(
    client, slack, org, marketer, emma, x_account, news
):
    person = slack.user("Emma Employee", "emma@acme.test")
    item = posted_item(org, marketer)
    ts = message_of(slack, news["id"])["ts"]
    sent = slack.click(
        user=person["id"], channel=news["id"], ts=ts, action_id="share_item", value=str(item.pk), deliver=False
    )["sent"]

    forged = deliver(client, sent, **{"X-Slack-Signature": "v0=" + "0" * 64})
    assert forged.status_code == 401
    stale_stamp = int(sent["headers"]["X-Slack-Request-Timestamp"]) - 301
    stale = deliver(client, sent, **signing.sign(SIGNING_SECRET, sent["body"], stale_stamp))
    assert stale.status_code == 401
    assert slack.state()["views"] == [], "nothing opened"

    assert deliver(client, sent).status_code == 200
    [view] = slack.state()["views"]
    submit = slack.submit(
        view_id=view["id"],
        values={"commentary": {"text": "My words"}, "targets": {"targets": [f"connection:{x_account.pk}"]}},
        deliver=False,
    )["sent"]
    assert deliver(client, submit).status_code == 200
    shares = list(Share.objects.for_org(org).values_list("pk", "status"))
    assert deliver(client, submit).status_code == 401, "the same signed request again"
    assert deliver(client, sent).status_code == 401
    assert list(Share.objects.for_org(org).values_list("pk", "status")) == shares and len(shares) == 1
    assert len(slack.state()["views"]) == 1


# --- daily round-ups: channels on a daily cadence, members who opted in to a DM ------------------


def test_a_daily_channel_gets_one_round_up_of_the_days_featured_items_once(slack, org, marketer, installed):
    daily = slack.channel("daily-news")
    SlackChannelRoute.objects.create(
        organization=org, channel_id=daily["id"], channel_name="daily-news", cadence="daily"
    )
    first, second = posted_item(org, marketer), posted_item(org, marketer)
    ContentItemFactory(organization=org, featured=False)  # not featured: not in the round-up
    assert slack.state()["messages"] == [], "a daily channel waits for its round-up"
    assert slack_service.send_round_ups(organization_id=org.pk) == 1
    [message] = slack.state()["messages"]
    buttons = [e["value"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert message["channel"] == daily["id"] and buttons == [str(first.pk), str(second.pk)]
    assert slack_service.send_round_ups(organization_id=org.pk) == 0, "nothing new: no second message"
    assert len(slack.state()["messages"]) == 1


def test_a_member_opts_in_to_the_daily_dm_by_their_verified_slack_email(
    client, slack, org, marketer, emma, installed, django_assert_max_num_queries
):
    person = slack.user("Emma Employee", "emma@acme.test")
    client.force_login(emma.user)
    url = reverse("content:slack_me", kwargs={"org_slug": org.slug})
    with django_assert_max_num_queries(10):
        assert "Send me a daily message" in client.get(url).content.decode()
    assert client.post(url, {"dm_digest": "1"}).status_code == 302
    link = SlackMemberLink.objects.for_org(org).get(membership=emma)
    assert link.dm_digest and link.slack_user_id == person["id"]
    item = posted_item(org, marketer)
    assert slack_service.send_round_ups(organization_id=org.pk) == 1
    [dm] = [m for m in slack.state()["messages"] if m["channel"].startswith("D")]
    assert str(item.pk) in json.dumps(dm["blocks"]) and dm["channel"] == "D" + person["id"][1:]
    client.post(url, {"dm_digest": "0"})
    assert not SlackMemberLink.objects.for_org(org).get(membership=emma).dm_digest


def test_opting_in_without_a_verified_slack_email_is_refused_and_changes_nothing(client, slack, org, emma, installed):
    slack.user("Emma Employee", "emma@acme.test", email_confirmed=False)
    client.force_login(emma.user)
    url = reverse("content:slack_me", kwargs={"org_slug": org.slug})
    page = client.post(url, {"dm_digest": "1"}, follow=True)
    assert "not verified" in page.content.decode()
    assert not SlackMemberLink.objects.for_org(org).exists()


def test_a_title_with_slacks_control_characters_is_escaped_in_the_message():
    from content.models import ContentItem

    item = ContentItem(pk=7, title="R&D <beta> launch", url="https://acme.example/a|b", description="1 > 0")
    _, blocks = slack_service.message_blocks(item, [])
    assert blocks[0]["text"]["text"] == "*<https://acme.example/a%7Cb|R&amp;D &lt;beta&gt; launch>*\n1 &gt; 0"


# --- tenancy: a workspace serves one organization --------------------------------------------------


def test_a_workspace_installed_for_one_organization_cannot_be_installed_for_another(client, slack, org, installed):
    other = OrganizationFactory(slug="globex")
    their_marketer = MembershipFactory(organization=other, roles=[Role.MARKETER])
    client.force_login(their_marketer.user)
    url = client.post(reverse("content:slack_install", kwargs={"org_slug": other.slug}))["Location"]
    slack.auto_approve(True)
    callback = urlsplit(requests.get(url, allow_redirects=False, timeout=5).headers["Location"])
    page = client.get(f"{callback.path}?{callback.query}", follow=True)
    assert "already connected to another organization" in page.content.decode()
    assert not SlackInstallation.objects.for_org(other).exists()
    assert SlackInstallation.objects.for_org(org).get().pk == installed.pk


def test_a_share_button_naming_another_organizations_item_opens_nothing(client, slack, org, marketer, emma, news):
    person = slack.user("Emma Employee", "emma@acme.test")
    item = posted_item(org, marketer)
    theirs = ContentItemFactory(featured=True)  # another organization's live item
    ts = message_of(slack, news["id"])["ts"]
    sent = slack.click(
        user=person["id"], channel=news["id"], ts=ts, action_id="share_item", value=str(theirs.pk), deliver=False
    )
    assert deliver(client, sent["sent"]).status_code == 200
    state = slack.state()
    assert state["views"] == [] and "no longer offered" in state["ephemerals"][0]["text"]
    assert item.pk != theirs.pk
