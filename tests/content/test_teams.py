"""Microsoft Teams distribution (issue 22, point 2): an admin adds a channel by its workflow
webhook URL; new featured content reaches it once, as an Adaptive Card whose button opens
the composer; bad URLs are refused in words; another organization's channels are a 404."""

import html
from datetime import timedelta

import pytest
from django.db import connection as db
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from compliance.models import AuditEntry
from content.models import TeamsChannel, TeamsPost
from content.services import teams as teams_service
from integrations.teams.client import TeamsWebhookClient
from tests.accounts.factories import MembershipFactory, OrganizationFactory, TeamFactory
from tests.content.factories import ContentItemFactory, TeamsChannelFactory
from tests.teams_fixture import Sleeps

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return OrganizationFactory(slug="acme", name="Acme")


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, roles=[Role.ADMIN])


def channel_for(org, workflow, **fields):
    return TeamsChannelFactory(
        organization=org, webhook_url=workflow["url"], created_at=timezone.now() - timedelta(hours=1), **fields
    )


def featured(org, title="Our spring launch", **fields):
    fields.setdefault("published_at", timezone.now() - timedelta(minutes=5))
    return ContentItemFactory(organization=org, title=title, featured=True, **fields)


def posted_titles(teams):
    return [
        block["text"]
        for entry in teams.received()
        for block in entry["message"]["attachments"][0]["content"]["body"]
        if block.get("weight") == "Bolder"
    ]


def test_new_featured_content_is_posted_once_as_a_card_that_opens_the_composer(
    org, teams, adaptive_card_schema, settings
):
    settings.SITE_URL = "https://advocacy.example.com"
    channel = channel_for(org, teams.workflow("Sales"))
    item = featured(org, description="Three new products.", image_url="https://www.example.com/launch.png")
    ContentItemFactory(organization=org, title="Not featured", published_at=timezone.now())
    featured(org, "Featured before the channel", published_at=timezone.now() - timedelta(days=3))
    featured(org, "A draft", status="draft")
    featured(OrganizationFactory(), "Another organization's")

    assert teams_service.post_featured_to_teams() == 1
    assert teams_service.post_featured_to_teams() == 0  # once per channel

    (received,) = teams.received()
    assert received["channel"] == "Sales"
    (attachment,) = received["message"]["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    content = attachment["content"]
    assert [e.message for e in adaptive_card_schema.iter_errors(content)] == []
    texts = [block.get("text") for block in content["body"]]
    assert "Our spring launch" in texts and "Three new products." in texts
    assert {"type": "Image", "url": "https://www.example.com/launch.png"}.items() <= content["body"][2].items()
    (action,) = content["actions"]
    assert action == {
        "type": "Action.OpenUrl",
        "title": "Share it",
        "url": f"https://advocacy.example.com/o/acme/feed/{item.pk}/share/",
    }
    assert TeamsPost.objects.for_org(org).get().item_id == item.pk
    channel.refresh_from_db()
    assert channel.last_posted_at is not None and channel.last_error == ""


def test_a_team_channel_gets_its_teams_content_and_content_for_everyone(org, teams):
    sales, legal = TeamFactory(organization=org, name="Sales"), TeamFactory(organization=org, name="Legal")
    channel_for(org, teams.workflow("Sales"), team=sales)
    featured(org, "For everyone")
    featured(org, "For sales").target_teams.add(sales)
    featured(org, "For legal").target_teams.add(legal)
    assert teams_service.post_featured_to_teams() == 2
    assert sorted(posted_titles(teams)) == ["For everyone", "For sales"]


def test_a_429_is_waited_out_and_the_card_still_goes(org, teams):
    channel_for(org, teams.workflow())
    featured(org)
    teams.fault("rate_limit", retry_after=2)
    sleeps = Sleeps()
    assert teams_service.post_featured_to_teams(client=TeamsWebhookClient(sleep=sleeps)) == 1
    assert sleeps == [2.0] and len(teams.received()) == 1


def test_a_still_throttled_channel_tries_again_on_the_next_run(org, teams):
    channel = channel_for(org, teams.workflow())
    featured(org)
    teams.fault("rate_limit", retry_after=5, times=3)
    client = TeamsWebhookClient(sleep=Sleeps(), max_retries=2)
    assert teams_service.post_featured_to_teams(client=client) == 0
    channel.refresh_from_db()
    assert channel.is_active and "wait 5 seconds" in channel.last_error
    assert not TeamsPost.objects.for_org(org).exists()
    assert teams_service.post_featured_to_teams(client=client) == 1


def test_a_refused_webhook_stops_the_channel_with_words(org, teams):
    workflow = teams.workflow()
    channel = channel_for(org, workflow)
    featured(org)
    teams.control("POST", f"workflows/{workflow['id']}/disable")
    assert teams_service.post_featured_to_teams() == 0
    channel.refresh_from_db()
    assert not channel.is_active and "deleted or turned off in Teams" in channel.last_error
    assert not TeamsPost.objects.for_org(org).exists()


# --- the admin's page -------------------------------------------------------------------------


def test_an_admin_adds_a_channel_and_its_url_is_kept_secret(client, org, admin, teams):
    workflow = teams.workflow("Marketing")
    client.force_login(admin.user)
    url = reverse("content:teams_settings", kwargs={"org_slug": "acme"})
    response = client.post(url, {"name": "Marketing", "webhook_url": workflow["url"]})
    assert response.status_code == 302
    channel = TeamsChannel.objects.for_org(org).get()
    assert channel.webhook_url == workflow["url"] and channel.team is None and channel.created_by_id == admin.user_id
    with db.cursor() as cursor:
        cursor.execute("SELECT webhook_url FROM content_teamschannel WHERE id = %s", [channel.pk])
        assert workflow["sig"] not in cursor.fetchone()[0]  # encrypted at rest
    page = client.get(url).content.decode()
    assert "Marketing" in page and workflow["sig"] not in page
    entry = AuditEntry.objects.for_org(org).get(action="teams.channel_added")
    assert entry.actor_id == admin.user_id and entry.after["name"] == "Marketing"
    assert workflow["sig"] not in str(entry.after), "the audit trail keeps no webhook signature"


def test_a_bad_url_is_refused_in_words_and_nothing_is_saved(client, org, admin, settings):
    settings.TEAMS_WEBHOOK_ALLOW_LOOPBACK = False
    client.force_login(admin.user)
    url = reverse("content:teams_settings", kwargs={"org_slug": "acme"})
    for bad, words in (
        ("https://hooks.example.com/workflows/1", "hooks.example.com is not a Teams workflow address"),
        ("http://prod-1.westeurope.logic.azure.com/workflows/1", "must start with https://"),
        ("http://127.0.0.1:8774/workflows/1", "must start with https://"),
    ):
        response = client.post(url, {"name": "Sales", "webhook_url": bad})
        assert response.status_code == 200
        assert words in html.unescape(response.content.decode())
    assert not TeamsChannel.objects.for_org(org).exists()


def test_the_page_has_a_fixed_number_of_queries(client, org, admin, django_assert_max_num_queries):
    client.force_login(admin.user)
    url = reverse("content:teams_settings", kwargs={"org_slug": "acme"})
    TeamsChannelFactory(organization=org, team=TeamFactory(organization=org))
    client.get(url)
    with django_assert_max_num_queries(12) as few:
        client.get(url)
    for _ in range(5):
        TeamsChannelFactory(organization=org, team=TeamFactory(organization=org))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_an_employee_cannot_change_the_channels(client, org, teams):
    employee = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    channel = TeamsChannelFactory(organization=org)
    client.force_login(employee.user)
    url = reverse("content:teams_settings", kwargs={"org_slug": "acme"})
    assert client.post(url, {"name": "Mine", "webhook_url": teams.workflow()["url"]}).status_code in (403, 404)
    delete = reverse("content:teams_channel_delete", kwargs={"org_slug": "acme", "teams_channel_id": channel.pk})
    assert client.post(delete).status_code in (403, 404)
    assert TeamsChannel.objects.for_org(org).count() == 1


def test_another_organizations_settings_are_404(client, org):
    victim_channel = TeamsChannelFactory(organization=org)
    attacker = MembershipFactory(organization=OrganizationFactory(slug="globex"), roles=[Role.ADMIN])
    client.force_login(attacker.user)
    assert client.get(reverse("content:teams_settings", kwargs={"org_slug": "acme"})).status_code == 404
    theirs = reverse(
        "content:teams_channel_delete", kwargs={"org_slug": "globex", "teams_channel_id": victim_channel.pk}
    )
    assert client.post(theirs).status_code == 404
    assert TeamsChannel.objects.for_org(org).filter(pk=victim_channel.pk).exists()


def test_the_admin_removes_a_channel(client, org, admin):
    channel = TeamsChannelFactory(organization=org)
    client.force_login(admin.user)
    url = reverse("content:teams_channel_delete", kwargs={"org_slug": "acme", "teams_channel_id": channel.pk})
    assert client.get(url).status_code == 405  # never on a GET
    assert TeamsChannel.objects.for_org(org).exists()
    assert client.post(url).status_code == 302
    assert not TeamsChannel.objects.for_org(org).exists()
    removed = AuditEntry.objects.for_org(org).get(action="teams.channel_removed")
    assert removed.actor_id == admin.user_id and removed.before == {"name": channel.name}
