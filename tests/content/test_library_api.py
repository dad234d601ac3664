"""The library's REST API: marketers manage items and topics, other members read what is
live for them; one error shape; fixed query counts on the lists."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from accounts.services import create_api_token
from content.models import ContentItem
from tests.accounts.factories import OrganizationFactory, TeamFactory
from tests.content.factories import ContentItemFactory, ShareFactory, SuggestionFactory, TopicFactory

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/o/acme/content-items/"
TOPICS = "/api/v1/o/acme/topics/"


def token_for(membership) -> dict:
    token, plain = create_api_token(actor=membership, name="tests")
    token.last_used_at = timezone.now()  # no "last used" write inside the counted requests
    token.save(update_fields=["last_used_at"])
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


@pytest.fixture
def as_marketer(marketer):
    return token_for(marketer)


@pytest.fixture
def as_employee(employee):
    return token_for(employee)


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


def grow(org):
    team = TeamFactory(organization=org)
    item = ContentItemFactory(organization=org)
    item.topics.add(TopicFactory(organization=org))
    item.target_teams.add(team)
    SuggestionFactory(item=item)
    ShareFactory(item=item)
    ContentItemFactory(organization=org, status="draft")
    return item


def count_queries(client, path, headers) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, **headers)
    assert response.status_code == 200, response.content
    return len(ctx), response.json()


def test_marketers_list_every_current_item_with_counts_in_fixed_queries(client, org, as_marketer):
    for _ in range(2):
        grow(org)
    small, body = count_queries(client, ITEMS, as_marketer)
    assert body["count"] == 4
    for _ in range(10):
        grow(org)
    large, body = count_queries(client, ITEMS, as_marketer)
    assert large == small
    published = next(i for i in body["results"] if i["status"] == "published")
    assert published["suggestion_count"] == 1 and published["share_count"] == 1
    assert len(published["suggestions"]) == 1 and len(published["topics"]) == 1 and len(published["target_teams"]) == 1
    drafts = client.get(ITEMS, {"status": "draft"}, **as_marketer).json()
    assert drafts["count"] == 12 and {i["status"] for i in drafts["results"]} == {"draft"}


def test_other_members_read_only_what_is_live_for_them(client, org, employee, as_employee):
    sales, paris = TeamFactory(organization=org), TeamFactory(organization=org)
    employee.teams.add(sales)
    mine = ContentItemFactory(organization=org, title="For Sales")
    mine.target_teams.add(sales)
    everyone = ContentItemFactory(organization=org, title="For everyone")
    theirs = ContentItemFactory(organization=org, title="For Paris")
    theirs.target_teams.add(paris)
    draft = ContentItemFactory(organization=org, status="draft")
    ContentItemFactory(organization=org, expires_at=timezone.now() - timedelta(minutes=1))
    small, body = count_queries(client, ITEMS, as_employee)
    assert sorted(i["title"] for i in body["results"]) == ["For Sales", "For everyone"]
    for _ in range(5):
        grow(org).target_teams.clear()
    assert count_queries(client, ITEMS, as_employee)[0] == small
    assert client.get(f"{ITEMS}{everyone.pk}/", **as_employee).status_code == 200
    assert_error(client.get(f"{ITEMS}{draft.pk}/", **as_employee), 404, "not_found")
    assert_error(client.get(f"{ITEMS}{theirs.pk}/", **as_employee), 404, "not_found")


def test_a_marketer_creates_an_item_with_suggestions_topics_and_teams(client, org, as_marketer):
    sales = TeamFactory(organization=org, name="Sales")
    response = client.post(
        ITEMS,
        {
            "url": "https://acme.example/news/lyon",
            "title": "Lyon plant",
            "topics": ["Careers", "Lyon"],
            "target_team_ids": [sales.pk],
            "suggestions": [{"text": "For all"}, {"text": "For X", "network": "x"}],
            "featured": True,
        },
        content_type="application/json",
        **as_marketer,
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["slug"] == "lyon-plant" and body["featured"] is True
    assert [t["name"] for t in body["topics"]] == ["Careers", "Lyon"]
    assert [t["id"] for t in body["target_teams"]] == [sales.pk]
    assert [(s["text"], s["network"]) for s in body["suggestions"]] == [("For all", ""), ("For X", "x")]
    assert body["unfurl_status"] == "pending"  # no description or image: the page is fetched


def test_an_image_can_be_uploaded(client, org, as_marketer, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, "PNG")
    upload = SimpleUploadedFile("a.png", buffer.getvalue(), content_type="image/png")
    response = client.post(ITEMS, {"url": "https://acme.example/a", "title": "A", "image": upload}, **as_marketer)
    assert response.status_code == 201, response.content
    assert response.json()["image"].startswith("http://testserver/media/content/")
    fake = SimpleUploadedFile("b.png", b"GIF89a not really", content_type="image/png")
    error = assert_error(
        client.post(ITEMS, {"url": "https://acme.example/b", "image": fake}, **as_marketer), 400, "invalid"
    )
    assert "image" in error["fields"]


def test_bad_input_answers_in_the_one_error_shape(client, org, as_marketer):
    error = assert_error(
        client.post(ITEMS, {"title": "No link"}, content_type="application/json", **as_marketer), 400, "invalid"
    )
    assert "url" in error["fields"]
    now = timezone.now()
    error = assert_error(
        client.post(
            ITEMS,
            {
                "url": "https://acme.example/x",
                "starts_at": now.isoformat(),
                "expires_at": (now - timedelta(days=1)).isoformat(),
            },
            content_type="application/json",
            **as_marketer,
        ),
        400,
        "invalid",
    )
    assert "expires_at" in error["fields"]
    foreign_team = TeamFactory(organization=OrganizationFactory())
    assert_error(
        client.post(
            ITEMS,
            {"url": "https://acme.example/x", "target_team_ids": [foreign_team.pk]},
            content_type="application/json",
            **as_marketer,
        ),
        400,
        "invalid",
    )
    assert not ContentItem.objects.for_org(org).exists()


def test_employees_cannot_write(client, org, as_employee):
    item = ContentItemFactory(organization=org)
    assert_error(
        client.post(ITEMS, {"url": "https://a.example/"}, content_type="application/json", **as_employee),
        403,
        "permission_denied",
    )
    assert_error(
        client.patch(f"{ITEMS}{item.pk}/", {"title": "x"}, content_type="application/json", **as_employee),
        403,
        "permission_denied",
    )
    assert_error(client.delete(f"{ITEMS}{item.pk}/", **as_employee), 403, "permission_denied")
    assert_error(client.post(f"{ITEMS}{item.pk}/unpublish/", **as_employee), 403, "permission_denied")
    assert_error(
        client.post(TOPICS, {"name": "Mine"}, content_type="application/json", **as_employee), 403, "permission_denied"
    )
    item.refresh_from_db()
    assert item.status == "published" and item.title.startswith("Acme news")


def test_patch_changes_only_what_is_sent_and_put_needs_the_link(client, org, as_marketer):
    item = ContentItemFactory(organization=org, status="draft", description="Kept")
    SuggestionFactory(item=item, text="Kept too")
    response = client.patch(
        f"{ITEMS}{item.pk}/", {"title": "New title"}, content_type="application/json", **as_marketer
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["description"], body["url"]) == ("New title", "Kept", item.url)
    assert [s["text"] for s in body["suggestions"]] == ["Kept too"]
    error = assert_error(
        client.put(f"{ITEMS}{item.pk}/", {"title": "x"}, content_type="application/json", **as_marketer), 400, "invalid"
    )
    assert "url" in error["fields"]


def test_publish_unpublish_archive_and_fetch_again(client, org, as_marketer):
    item = ContentItemFactory(organization=org, status="draft", title="")
    error = assert_error(client.post(f"{ITEMS}{item.pk}/publish/", **as_marketer), 400, "invalid")
    assert "title" in error["message"]
    client.patch(f"{ITEMS}{item.pk}/", {"title": "Ready"}, content_type="application/json", **as_marketer)
    published = client.post(f"{ITEMS}{item.pk}/publish/", **as_marketer).json()
    assert published["status"] == "published" and published["published_at"]
    assert client.post(f"{ITEMS}{item.pk}/unpublish/", **as_marketer).json()["status"] == "draft"
    fetching = client.post(f"{ITEMS}{item.pk}/unfurl/", **as_marketer)
    assert fetching.status_code == 202 and fetching.json()["unfurl_status"] == "pending"
    assert client.delete(f"{ITEMS}{item.pk}/", **as_marketer).status_code == 204
    assert ContentItem.objects.for_org(org).get(pk=item.pk).status == "archived"  # archived, not deleted


def test_another_organizations_item_is_just_missing(client, org, as_marketer):
    foreign = ContentItemFactory(organization=OrganizationFactory())
    theirs = client.get(f"{ITEMS}{foreign.pk}/", **as_marketer)
    missing = client.get(f"{ITEMS}987654321/", **as_marketer)
    assert theirs.status_code == missing.status_code == 404 and theirs.json() == missing.json()
    assert client.post(f"{ITEMS}{foreign.pk}/publish/", **as_marketer).status_code == 404


def test_topics_are_listed_for_everyone_and_created_by_marketers(client, org, as_marketer, as_employee):
    item = ContentItemFactory(organization=org)
    item.topics.add(TopicFactory(organization=org, name="Careers", slug="careers"))
    listed = client.get(TOPICS, **as_employee).json()
    assert [(t["name"], t["item_count"]) for t in listed["results"]] == [("Careers", 1)]
    created = client.post(TOPICS, {"name": "  Green   energy "}, content_type="application/json", **as_marketer)
    assert (
        created.status_code == 201
        and created.json()["slug"] == "green-energy"
        and created.json()["name"] == "Green energy"
    )
    assert_error(
        client.post(TOPICS, {"name": "green energy"}, content_type="application/json", **as_marketer), 409, "conflict"
    )
    assert client.get(f"{TOPICS}{created.json()['id']}/", **as_employee).status_code == 200
