"""The Teams workflow-webhook library (issue 22, point 2): the Adaptive Card against
Microsoft's schema, the client's typed errors and 429 handling, and an emulator as strict as
the documented envelope. All over real HTTP to the emulator on loopback."""

import json

import pytest
import requests

from integrations.teams import cards
from integrations.teams.client import MAX_MESSAGE_BYTES, TeamsWebhookClient, check_webhook_url
from integrations.teams.errors import BadWebhook, CardTooLarge, InvalidWebhookUrl, ServerError, Throttled
from tests.teams_fixture import Sleeps


def card(**overrides):
    fields = {
        "title": "Our spring launch",
        "summary": "Three new products, one platform.",
        "image_url": "https://www.example.com/launch.png",
        "open_url": "https://advocacy.example.com/o/acme/feed/7/share/",
        "action_title": "Share it",
        "context": "New from Acme: ready for you to share",
        **overrides,
    }
    return cards.article_card(**fields)


def schema_errors(validator, instance) -> list[str]:
    return [error.message for error in validator.iter_errors(instance)]


def test_the_card_validates_against_the_adaptive_card_schema(adaptive_card_schema):
    for variant in (card(), card(image_url="", summary="", context=""), card(summary="x" * 5000)):
        assert schema_errors(adaptive_card_schema, variant) == []
        assert variant["version"] == "1.5"
        (action,) = variant["actions"]
        assert action["type"] == "Action.OpenUrl" and action["url"].startswith("https://")
    images = [element for element in card()["body"] if element["type"] == "Image"]
    assert images == [
        {
            "type": "Image",
            "url": "https://www.example.com/launch.png",
            "size": "Stretch",
            "altText": "Our spring launch",
        }
    ]


def test_the_schema_check_can_fail(adaptive_card_schema):
    """The validator is not vacuous: a button without its URL, or a made-up size, is refused."""
    broken = card()
    broken["actions"] = [{"type": "Action.OpenUrl", "title": "Share it"}]
    assert schema_errors(adaptive_card_schema, broken)
    broken = card()
    broken["body"][0]["size"] = "Enormous"
    assert schema_errors(adaptive_card_schema, broken)


def test_a_post_reaches_the_emulator(teams):
    workflow = teams.workflow("Sales")
    message = cards.message(card())
    assert TeamsWebhookClient().post_message(workflow["url"], message) == 202
    (received,) = teams.received()
    assert received["channel"] == "Sales" and received["message"] == json.loads(json.dumps(message))


def test_the_power_automate_style_url_works_too(teams):
    workflow = teams.workflow("Marketing", style="powerautomate")
    assert "/powerautomate/automations/direct/workflows/" in workflow["url"]
    assert TeamsWebhookClient().post_message(workflow["url"], cards.message(card())) == 202
    assert len(teams.received()) == 1


def test_a_429_is_retried_after_retry_after(teams):
    workflow = teams.workflow()
    teams.fault("rate_limit", retry_after=3, times=1)
    sleeps = Sleeps()
    assert TeamsWebhookClient(sleep=sleeps).post_message(workflow["url"], cards.message(card())) == 202
    assert sleeps == [3.0]
    assert teams.counters()["throttled"] == 1 and len(teams.received()) == 1


def test_throttled_past_the_retries_is_raised_with_the_wait(teams):
    workflow = teams.workflow()
    teams.fault("rate_limit", retry_after=7, times=3)
    sleeps = Sleeps()
    with pytest.raises(Throttled) as raised:
        TeamsWebhookClient(sleep=sleeps, max_retries=2).post_message(workflow["url"], cards.message(card()))
    assert raised.value.retry_after == 7.0 and sleeps == [7.0, 7.0]
    assert teams.received() == []


def test_a_wait_longer_than_the_cap_is_not_slept(teams):
    workflow = teams.workflow()
    teams.fault("rate_limit", retry_after=3600)
    sleeps = Sleeps()
    with pytest.raises(Throttled):
        TeamsWebhookClient(sleep=sleeps, max_wait=60).post_message(workflow["url"], cards.message(card()))
    assert sleeps == []


def test_refusals_are_typed(teams):
    client = TeamsWebhookClient()
    workflow = teams.workflow()
    with pytest.raises(BadWebhook) as wrong_sig:
        client.post_message(workflow["url"].replace(workflow["sig"], "forged"), cards.message(card()))
    assert wrong_sig.value.status == 401 and "signature" in wrong_sig.value.message
    teams.control("POST", f"workflows/{workflow['id']}/disable")
    with pytest.raises(BadWebhook) as gone:
        client.post_message(workflow["url"], cards.message(card()))
    assert gone.value.status == 404 and "deleted or turned off" in gone.value.message
    other = teams.workflow()
    teams.fault("server_error")
    with pytest.raises(ServerError):
        client.post_message(other["url"], cards.message(card()))
    with pytest.raises(ServerError):
        client.post_message("http://127.0.0.1:9/workflows/x", cards.message(card()))  # nobody listens
    assert teams.received() == []


def test_a_card_over_28_kb_is_not_sent(teams):
    workflow = teams.workflow()
    big = card()
    big["body"].append({"type": "TextBlock", "text": "x" * MAX_MESSAGE_BYTES, "wrap": True})
    before = teams.counters().get("requests", 0)
    with pytest.raises(CardTooLarge):
        TeamsWebhookClient().post_message(workflow["url"], cards.message(big))
    assert teams.counters()["requests"] == before + 1  # only the counters call itself reached it


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"@type": "MessageCard", "text": "Hello"}, '"type" field must be "message"'),
        ({"type": "message"}, "non-empty array"),
        ({"type": "message", "attachments": [{"contentType": "text/plain", "content": {}}]}, "contentType"),
        (cards.message({"type": "AdaptiveCard", "version": "2.0", "body": []}), "1.0 to 1.5"),
        (
            cards.message({**card(), "actions": [{"type": "Action.Submit", "title": "Go"}]}),
            "Action.Submit is not supported",
        ),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_the_emulator_refuses_bodies_that_are_not_the_envelope(teams, body, words):
    workflow = teams.workflow()
    response = requests.post(workflow["url"], json=body, timeout=10)
    assert response.status_code == 400 and words in response.json()["error"]["message"]
    assert teams.received() == []


def test_the_emulator_refuses_what_the_service_refuses(teams):
    workflow = teams.workflow()
    assert requests.get(workflow["url"], timeout=10).status_code == 405
    huge = json.dumps(cards.message(card(summary="y" * 100))).replace("y" * 100, "y" * (MAX_MESSAGE_BYTES + 1))
    too_big = requests.post(workflow["url"], data=huge, headers={"Content-Type": "application/json"}, timeout=10)
    assert too_big.status_code == 413
    no_version = workflow["url"].replace("api-version=2016-06-01&", "")
    assert requests.post(no_version, json=cards.message(card()), timeout=10).status_code == 400
    not_json = requests.post(workflow["url"], data=b"hello", headers={"Content-Type": "text/plain"}, timeout=10)
    assert not_json.status_code == 400
    assert teams.received() == []


ACCEPTED = [
    "https://prod-27.westeurope.logic.azure.com:443/workflows/0123/triggers/manual/paths/invoke?api-version=2016-06-01&sig=a",
    "https://default0a1b.0c.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/0123/"
    "triggers/manual/paths/invoke?api-version=1&sig=a",
    "https://acme.webhook.office.com/webhookb2/0123/IncomingWebhook/0456/0789",
]


@pytest.mark.parametrize("url", ACCEPTED)
def test_teams_webhook_urls_are_accepted(url):
    assert check_webhook_url(f"  {url} ") == url


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "empty"),
        ("http://prod-27.westeurope.logic.azure.com/workflows/0123", "must start with https://"),
        ("https://evil.example.com/workflows/0123", "evil.example.com is not a Teams workflow address"),
        ("https://logic.azure.com.evil.example/workflows/0123", "is not a Teams workflow address"),
        ("https://prod-27.westeurope.logic.azure.com/", "no workflow"),
        ("https://user:pw@prod-27.westeurope.logic.azure.com/workflows/0123", "user name or password"),
        ("http://127.0.0.1:8774/workflows/0123", "must start with https://"),
        ("not a url at all", "must start with https://"),
    ],
)
def test_other_urls_are_refused_in_words(url, words):
    with pytest.raises(InvalidWebhookUrl) as refused:
        check_webhook_url(url)
    assert words in refused.value.message and "Workflows" in refused.value.message


def test_loopback_is_allowed_only_when_asked():
    assert check_webhook_url("http://127.0.0.1:8774/workflows/0123", allow_loopback=True)
