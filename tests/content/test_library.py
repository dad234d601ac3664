"""The marketers' content library: item rules, images, suggestions, topics, targeting,
publishing, bulk actions, preview-as-team, link previews (in-process and through the real
worker), proposals, the pages' permissions and fixed query counts."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from advocacy.errors import Conflict, ValidationFailed
from content import tasks
from content.models import ContentItem, ContentProposal, Suggestion, Topic
from content.selectors import library as selectors
from content.selectors.sharing import live_items, targeted_at
from content.services import library as services
from content.unfurl import PRIVATE_MESSAGE
from tests.accounts.factories import MembershipFactory, OrganizationFactory, TeamFactory
from tests.conftest import wait_for
from tests.content.factories import (
    ContentFeedFactory,
    ContentItemFactory,
    ContentProposalFactory,
    ContentVariantFactory,
    ShareFactory,
    SuggestionFactory,
    TopicFactory,
)
from tests.content.loopback import LoopbackSite

pytestmark = pytest.mark.django_db

PAGE = """<html><head><title>Fallback</title>
<meta property="og:title" content="Acme opens a plant in Lyon">
<meta property="og:description" content="Four hundred jobs by 2027.">
<meta property="og:image" content="/lyon.jpg">
<link rel="canonical" href="/news/lyon"></head><body></body></html>"""


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


def url(name, org, **kwargs):
    return reverse(f"content:{name}", kwargs={"org_slug": org.slug, **kwargs})


def image_file(kind="PNG", name="photo.png", size=(16, 12)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def create(org, marketer, **kwargs):
    """A marketer's new item in `org` (another organization's: a marketer there, the same person)."""
    if marketer.organization_id != org.pk:
        marketer = MembershipFactory(organization=org, user=marketer.user, roles=[Role.MARKETER])
    kwargs.setdefault("url", "https://acme.example/news/lyon")
    kwargs.setdefault("title", "Acme opens a plant in Lyon")
    kwargs.setdefault("description", "Four hundred jobs.")
    kwargs.setdefault("image_url", "https://cdn.acme.example/lyon.jpg")
    return services.create_item(actor=marketer, **kwargs)


# --- creating and editing -------------------------------------------------------------------


def test_a_new_item_is_a_draft_with_a_slug_from_its_title_unique_in_the_organization(org, marketer):
    first = create(org, marketer)
    second = create(org, marketer)
    elsewhere = create(OrganizationFactory(), marketer)
    assert first.status == ContentItem.Status.DRAFT and first.created_by == marketer.user
    assert (first.slug, second.slug, elsewhere.slug) == (
        "acme-opens-a-plant-in-lyon",
        "acme-opens-a-plant-in-lyon-2",
        "acme-opens-a-plant-in-lyon",
    )


def test_without_a_title_the_slug_comes_from_the_link_and_follows_the_title_until_published(org, marketer):
    item = create(org, marketer, title="", url="https://acme.example/press/2026/q3-results")
    assert item.slug == "acme-example-press-2026-q3-results"
    item = services.update_item(actor=marketer, item=item, title="Third quarter results")
    assert item.slug == "third-quarter-results"
    services.publish_item(actor=marketer, item=item)
    item = services.update_item(actor=marketer, item=item, title="Q3 results are in")
    assert item.slug == "third-quarter-results"  # it names the campaign in tracked links now


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"url": ""}, "url"),
        ({"url": "acme.example/news"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://acme.example/file"}, "url"),
        ({"title": "x" * 301}, "title"),
        ({"suggestions": [("Hello", "myspace")]}, "suggestions"),
        ({"topics": ["!!!"]}, "topics"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_saved(org, marketer, kwargs, field):
    with pytest.raises(ValidationFailed) as refused:
        create(org, marketer, **kwargs)
    assert field in refused.value.fields
    assert not ContentItem.objects.for_org(org).exists()
    assert not Topic.objects.for_org(org).exists()


def test_the_expiry_must_come_after_the_start(org, marketer):
    now = timezone.now()
    with pytest.raises(ValidationFailed, match="expiry must come after the start") as refused:
        create(org, marketer, starts_at=now, expires_at=now - timedelta(hours=1))
    assert "expires_at" in refused.value.fields
    item = create(org, marketer, starts_at=now, expires_at=now + timedelta(days=7))
    with pytest.raises(ValidationFailed):
        services.update_item(actor=marketer, item=item, starts_at=now + timedelta(days=8))  # against the saved expiry
    item.refresh_from_db()
    assert item.starts_at == now


def test_target_teams_must_be_the_organizations(org, marketer):
    sales = TeamFactory(organization=org, name="Sales")
    foreign = TeamFactory(organization=OrganizationFactory(), name="Sales")
    with pytest.raises(ValidationFailed, match="team does not exist"):
        create(org, marketer, target_teams=[sales, foreign])
    assert not ContentItem.objects.for_org(org).exists()
    item = create(org, marketer, target_teams=[sales.pk])
    assert list(item.target_teams.all()) == [sales]
    with pytest.raises(ValidationFailed):
        services.update_item(actor=marketer, item=item, target_teams=[foreign.pk])
    assert list(item.target_teams.all()) == [sales]


def test_topics_are_created_by_name_once_and_reused(org, marketer):
    TopicFactory(organization=org, name="Careers", slug="careers")
    item = create(org, marketer, topics=["Sustainability", " careers ", "sustainability", ""])
    assert [t.name for t in item.topics.all()] == ["Careers", "Sustainability"]
    assert Topic.objects.for_org(org).count() == 2
    other = create(org, marketer, topics=["Sustainability"])
    assert other.topics.get().pk == Topic.objects.for_org(org).get(slug="sustainability").pk
    services.update_item(actor=marketer, item=item, topics=[])
    assert not item.topics.exists()


def test_suggestions_keep_their_order_and_network_and_unchanged_ones_keep_their_row(org, marketer):
    item = create(
        org,
        marketer,
        suggestions=[
            services.SuggestionInput("Proud of the Lyon team!"),
            ("Lyon, here we come #jobs", "x"),
            {"text": "  ", "network": ""},  # an empty row of the form is skipped
            {"text": "A long post for LinkedIn readers.", "network": "linkedin"},
        ],
    )
    rows = list(Suggestion.objects.for_org(org).filter(item=item))
    assert [(s.text, s.network, s.position) for s in rows] == [
        ("Proud of the Lyon team!", "", 0),
        ("Lyon, here we come #jobs", "x", 1),
        ("A long post for LinkedIn readers.", "linkedin", 2),
    ]
    kept = rows[2]
    share = ShareFactory(item=item, suggestion=kept)
    services.update_item(
        actor=marketer,
        item=item,
        suggestions=[("A long post for LinkedIn readers.", "linkedin"), ("New words for everyone", "")],
    )
    rows = list(Suggestion.objects.for_org(org).filter(item=item))
    assert [(s.text, s.position) for s in rows] == [
        ("A long post for LinkedIn readers.", 0),
        ("New words for everyone", 1),
    ]
    assert rows[0].pk == kept.pk
    share.refresh_from_db()
    assert share.suggestion_id == kept.pk  # the share still knows which suggestion it started from


def test_a_published_item_keeps_its_title(org, marketer):
    item = services.publish_item(actor=marketer, item=create(org, marketer))
    with pytest.raises(ValidationFailed, match="published item needs a title"):
        services.update_item(actor=marketer, item=item, title="")


# --- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "GIF", "WEBP"])
def test_an_uploaded_image_is_checked_and_stored_under_a_name_we_choose(org, marketer, media, kind):
    item = create(org, marketer, image=image_file(kind, name="../../etc/evil name.png"))
    # Drawn again from its pixels in one fixed format: JPEG for an opaque picture.
    assert item.image.name.startswith("content/") and item.image.name.endswith(".jpg")
    assert "evil" not in item.image.name
    stored = media / item.image.name
    assert stored.exists()
    with Image.open(stored) as picture:
        assert picture.format == "JPEG" and picture.size == (16, 12)


def test_an_uploaded_image_loses_its_metadata_and_keeps_its_transparency(org, marketer, media):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {2: (48.0, 51.0, 24.0)}  # GPSInfo: latitude
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (1, 2, 3)).save(buffer, "JPEG", exif=exif, comment=b"secret note")
    item = create(org, marketer, image=SimpleUploadedFile("gps.jpg", buffer.getvalue(), content_type="image/jpeg"))
    stored = (media / item.image.name).read_bytes()
    assert b"SpyCam" not in stored and b"secret note" not in stored
    with Image.open(media / item.image.name) as picture:
        assert not picture.getexif() and picture.size == (20, 10)
    clear = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(clear, "PNG")
    item = services.update_item(actor=marketer, item=item, image=SimpleUploadedFile("logo.png", clear.getvalue()))
    assert item.image.name.endswith(".png")


def test_a_png_that_is_also_html_is_stored_as_a_picture_only(org, marketer, media):
    polyglot = image_file("PNG").read() + b"<html><script>alert(document.cookie)</script></html>"
    item = create(org, marketer, image=SimpleUploadedFile("poly.png", polyglot, content_type="image/png"))
    assert b"<script" not in (media / item.image.name).read_bytes()


def test_uploaded_images_are_served_to_the_organization_only_as_images(client, org, marketer, media):
    item = create(org, marketer, image=image_file("PNG"))
    path = item.image.url
    assert path.startswith("/media/content/")
    assert client.get(path).status_code == 404, "anonymous"
    client.force_login(MembershipFactory(organization=OrganizationFactory()).user)
    assert client.get(path).status_code == 404, "another organization's member"
    client.force_login(marketer.user)
    response = client.get(path)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff" and "sandbox" in response["Content-Security-Policy"]
    with Image.open(io.BytesIO(b"".join(response.streaming_content))) as picture:
        assert picture.format == "JPEG"
    assert client.get("/media/content/../../settings.py").status_code == 404


@pytest.mark.parametrize(
    "upload, words",
    [
        (SimpleUploadedFile("fake.png", b"<?php echo 'not an image'; ?>"), "not an image we can use"),
        (SimpleUploadedFile("cut.png", image_file().read()[:60]), "not an image we can use"),
        (image_file("BMP", name="old.bmp"), "BMP images are not supported"),
        (image_file("TIFF", name="scan.tiff"), "TIFF images are not supported"),
    ],
)
def test_files_that_are_not_usable_images_are_refused(org, marketer, media, upload, words):
    with pytest.raises(ValidationFailed, match=words) as refused:
        create(org, marketer, image=upload)
    assert "image" in refused.value.fields
    assert not ContentItem.objects.for_org(org).exists()
    assert not list(media.rglob("*.*"))


def test_an_image_over_5_mb_is_refused(org, marketer, media):
    big = SimpleUploadedFile("big.png", image_file().read() + b"\0" * (5 * 1024 * 1024))
    with pytest.raises(ValidationFailed, match="the limit is 5 MB"):
        create(org, marketer, image=big)


def test_replacing_and_removing_the_image_deletes_the_old_file_after_commit(
    org, marketer, media, django_capture_on_commit_callbacks
):
    item = create(org, marketer, image=image_file())
    first = media / item.image.name
    with django_capture_on_commit_callbacks(execute=True):
        item = services.update_item(actor=marketer, item=item, image=image_file("JPEG", name="b.jpg"))
    assert not first.exists() and (media / item.image.name).exists()
    second = media / item.image.name
    with django_capture_on_commit_callbacks(execute=True):
        item = services.update_item(actor=marketer, item=item, image=None)
    assert not item.image and not second.exists()


# --- publishing -----------------------------------------------------------------------------


def test_publishing_needs_a_title_and_sets_published_at(org, marketer):
    item = create(org, marketer, title="")
    with pytest.raises(ValidationFailed, match="give the item a title"):
        services.publish_item(actor=marketer, item=item)
    item.refresh_from_db()
    assert item.status == ContentItem.Status.DRAFT and item.published_at is None
    services.update_item(actor=marketer, item=item, title="Now with a title")
    item = services.publish_item(actor=marketer, item=item)
    assert item.status == ContentItem.Status.PUBLISHED and item.published_at is not None
    again = services.publish_item(actor=marketer, item=item)
    assert again.published_at == item.published_at


def test_an_expired_item_cannot_be_published(org, marketer):
    now = timezone.now()
    item = create(org, marketer, starts_at=now - timedelta(days=3), expires_at=now - timedelta(days=1))
    with pytest.raises(ValidationFailed, match="expiry in the future"):
        services.publish_item(actor=marketer, item=item)


def test_unpublish_archive_and_restore(org, marketer):
    item = services.publish_item(actor=marketer, item=create(org, marketer))
    assert services.unpublish_item(actor=marketer, item=item).status == ContentItem.Status.DRAFT
    assert services.archive_item(actor=marketer, item=item).status == ContentItem.Status.ARCHIVED
    assert services.unpublish_item(actor=marketer, item=item).status == ContentItem.Status.DRAFT


def test_bulk_publish_is_all_or_nothing_and_only_for_the_organizations_items(org, marketer):
    ready = [create(org, marketer) for _ in range(3)]
    untitled = create(org, marketer, title="")
    foreign = ContentItemFactory(organization=OrganizationFactory(), status="draft")
    with pytest.raises(ValidationFailed, match="no longer exist"):
        services.bulk_publish(actor=marketer, item_ids=[ready[0].pk, foreign.pk])
    with pytest.raises(ValidationFailed, match="Nothing was published"):
        services.bulk_publish(actor=marketer, item_ids=[*(i.pk for i in ready), untitled.pk])
    assert not ContentItem.objects.for_org(org).filter(status="published").exists()
    foreign.refresh_from_db()
    assert foreign.status == "draft"
    assert services.bulk_publish(actor=marketer, item_ids=[str(i.pk) for i in ready]) == 3
    assert ContentItem.objects.for_org(org).filter(status="published", published_at__isnull=False).count() == 3
    assert services.bulk_archive(actor=marketer, item_ids=[ready[0].pk, untitled.pk]) == 2
    with pytest.raises(ValidationFailed, match="Choose at least one"):
        services.bulk_archive(actor=marketer, item_ids=[])


def test_bulk_actions_from_the_library_page(client, org, marketer):
    items = [create(org, marketer) for _ in range(2)]
    foreign = ContentItemFactory(organization=OrganizationFactory(), status="draft")
    client.force_login(marketer.user)
    response = client.post(
        url("library_bulk", org), {"action": "publish", "items": [items[0].pk, foreign.pk], "status": "draft"}
    )
    assert response.status_code == 302 and response["Location"] == url("library", org) + "?status=draft"
    assert not ContentItem.objects.for_org(org).filter(status="published").exists()
    response = client.post(url("library_bulk", org), {"action": "publish", "items": [i.pk for i in items]}, follow=True)
    assert b"Published 2 items." in response.content
    client.post(url("library_bulk", org), {"action": "archive", "items": [items[1].pk]})
    assert ContentItem.objects.for_org(org).get(pk=items[1].pk).status == "archived"


# --- link previews ------------------------------------------------------------------------------


def test_an_item_without_details_asks_for_a_preview_after_commit(org, marketer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        bare = services.create_item(actor=marketer, url="https://acme.example/x")
    assert bare.unfurl_status == ContentItem.Unfurl.PENDING and len(callbacks) == 1
    with django_capture_on_commit_callbacks() as callbacks:
        full = create(org, marketer)
    # Nothing to preview; its picture link is fetched and stored, never hotlinked.
    assert full.unfurl_status == ContentItem.Unfurl.NONE
    assert [c.args[0] for c in callbacks] == [services.FETCH_IMAGE_TASK]
    with django_capture_on_commit_callbacks() as callbacks:
        services.update_item(actor=marketer, item=full, url="https://acme.example/other")
    full.refresh_from_db()
    assert full.unfurl_status == ContentItem.Unfurl.PENDING and len(callbacks) == 1


def test_the_preview_fills_empty_fields_only(org, marketer, site):
    site.page("/lyon", PAGE)
    item = services.create_item(actor=marketer, url=site.url("/lyon"), title="Our words", fetch_preview=False)
    assert tasks.unfurl_item(item.pk, org.pk) == ContentItem.Unfurl.DONE  # the task, in this process
    item.refresh_from_db()
    assert item.title == "Our words"  # typed by the marketer: kept
    assert item.description == "Four hundred jobs by 2027."
    assert item.image_url == site.url("/lyon.jpg")
    assert item.canonical_url == site.url("/news/lyon")
    # The page's picture is not served here: it could not be fetched, and that is said.
    assert not item.image and item.unfurl_error.startswith("The picture could not be fetched")


def test_the_pages_picture_is_fetched_checked_and_stored_never_hotlinked(client, org, marketer, site, media):
    photo = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 120, 200)).save(photo, "PNG")
    site.page("/lyon", PAGE)
    site.page("/lyon.jpg", photo.getvalue(), content_type="image/png")
    item = services.create_item(actor=marketer, url=site.url("/lyon"), fetch_preview=False)
    services.apply_unfurl(item_id=item.pk, organization_id=org.pk)
    item.refresh_from_db()
    assert item.image.name.endswith(".jpg") and item.unfurl_error == ""
    with Image.open(media / item.image.name) as picture:
        assert (picture.format, picture.size) == ("JPEG", (30, 20))
    client.force_login(marketer.user)
    page = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    sources = re.findall(r'<img[^>]*\ssrc="([^"]+)"', page)
    assert item.image.url in sources and all(src.startswith("/") for src in sources), sources


def test_a_picture_at_a_private_address_is_refused_like_a_page(org, marketer):
    item = services.create_item(
        actor=marketer,
        url="https://acme.example/news",
        title="T",
        description="D",
        image_url="http://169.254.169.254/latest/meta-data/x.png",
        fetch_preview=False,
    )
    stored = services.store_remote_image(item_id=item.pk, organization_id=org.pk)
    assert not stored.image and "could not be fetched" in stored.unfurl_error


def test_a_fetched_title_names_a_draft(org, marketer, site):
    site.page("/lyon", PAGE)
    item = services.create_item(actor=marketer, url=site.url("/lyon"), fetch_preview=False)
    services.apply_unfurl(item_id=item.pk, organization_id=org.pk)
    item.refresh_from_db()
    assert (item.title, item.slug) == ("Acme opens a plant in Lyon", "acme-opens-a-plant-in-lyon")


def test_an_uploaded_image_is_not_joined_by_the_pages_image(org, marketer, site, media):
    site.page("/lyon", PAGE)
    item = services.create_item(actor=marketer, url=site.url("/lyon"), image=image_file(), fetch_preview=False)
    services.apply_unfurl(item_id=item.pk, organization_id=org.pk)
    item.refresh_from_db()
    assert item.image and item.image_url == ""


def test_a_refused_fetch_says_why_and_changes_nothing_else(org, marketer):
    item = services.create_item(actor=marketer, url="http://169.254.169.254/latest/meta-data/", fetch_preview=False)
    services.apply_unfurl(item_id=item.pk, organization_id=org.pk)
    item.refresh_from_db()
    assert item.unfurl_status == ContentItem.Unfurl.FAILED
    assert item.unfurl_error == PRIVATE_MESSAGE
    assert item.title == "" and item.description == ""


def test_a_missing_item_is_no_error_for_the_task(org):
    assert tasks.unfurl_item(987654, org.pk) is None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_refuses_a_loopback_link_and_the_item_page_says_why(worker_process, client):
    """End to end: the page saves, the fetch runs in the real Celery worker (which has no
    allowed hosts), the item is marked failed with the reason, the form stays editable."""
    org = OrganizationFactory()
    marketer = MembershipFactory(organization=org, roles=[Role.MARKETER])
    client.force_login(marketer.user)
    with LoopbackSite() as loopback:
        loopback.page("/internal", PAGE)
        response = client.post(
            url("library_item_new", org),
            {"url": loopback.url("/internal"), "suggestions-TOTAL_FORMS": "0", "suggestions-INITIAL_FORMS": "0"},
        )
        item = ContentItem.objects.for_org(org).get()
        assert response.status_code == 302 and response["Location"] == url("library_item", org, content_item_id=item.pk)
        assert item.unfurl_status == ContentItem.Unfurl.PENDING
        failed = wait_for(
            lambda: ContentItem.objects.for_org(org).filter(pk=item.pk, unfurl_status="failed").first(),
            message="the worker to refuse the fetch",
        )
        assert loopback.requests == []  # refused before any connection
    assert failed.unfurl_error == PRIVATE_MESSAGE
    page = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    assert PRIVATE_MESSAGE.replace("'", "&#x27;") in page
    assert 'name="title"' in page and 'hx-trigger="every 1s"' not in page  # no more polling


# --- preview as a team ----------------------------------------------------------------------


def test_preview_as_a_team_matches_what_its_members_see(client, org, marketer):
    sales, paris = TeamFactory(organization=org, name="Sales"), TeamFactory(organization=org, name="Paris")
    now = timezone.now()
    everyone = ContentItemFactory(organization=org, title="For everyone")
    for_sales = ContentItemFactory(organization=org, title="For Sales")
    for_sales.target_teams.add(sales)
    for_paris = ContentItemFactory(organization=org, title="For Paris")
    for_paris.target_teams.add(paris)
    ContentItemFactory(organization=org, title="A draft", status="draft")
    ContentItemFactory(organization=org, title="Ended", expires_at=now - timedelta(hours=1))
    ContentItemFactory(organization=org, title="Not yet", starts_at=now + timedelta(hours=1))

    def titles(items):
        return sorted(i.title for i in items)

    assert titles(selectors.preview_for_teams(org, [sales.pk])) == ["For Sales", "For everyone"]
    assert titles(selectors.preview_for_teams(org, [])) == ["For everyone"]
    seller = MembershipFactory(organization=org)
    seller.teams.add(sales)
    assert titles(selectors.preview_for_teams(org, [sales.pk])) == titles(targeted_at(live_items(org), seller))

    client.force_login(marketer.user)
    page = client.get(url("library_preview", org), {"team": sales.pk}).content.decode()
    assert "For Sales" in page and "For everyone" in page
    assert "For Paris" not in page and "A draft" not in page and "Ended" not in page and "Not yet" not in page
    foreign_team = TeamFactory(organization=OrganizationFactory())
    page = client.get(url("library_preview", org), {"team": foreign_team.pk}).content.decode()
    assert "someone in no team" in page and "For Sales" not in page
    assert everyone.title in page


# --- the pages ------------------------------------------------------------------------------

MARKETER_PAGES = [
    ("library", {}),
    ("library_item_new", {}),
    ("library_preview", {}),
    ("library_feeds", {}),
    ("library_proposals", {}),
    ("library_item", {"content_item_id": None}),
    ("library_item_unfurl", {"content_item_id": None}),
]


@pytest.mark.parametrize("name, kwargs", MARKETER_PAGES, ids=[p[0] for p in MARKETER_PAGES])
@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.COMPLIANCE, Role.EXECUTIVE, Role.ADMIN], ids=str)
def test_only_marketers_open_the_library_pages(client, org, name, kwargs, role):
    item = ContentItemFactory(organization=org)
    kwargs = {k: item.pk for k in kwargs}
    client.force_login(MembershipFactory(organization=org, roles=[role]).user)
    assert client.get(url(name, org, **kwargs)).status_code == 403
    marketer = MembershipFactory(organization=org, roles=[Role.MARKETER])
    client.force_login(marketer.user)
    assert client.get(url(name, org, **kwargs)).status_code == 200


@pytest.mark.parametrize(
    "name, needs",
    [
        ("library_item_publish", "item"),
        ("library_item_archive", "item"),
        ("library_item_unpublish", "item"),
        ("library_bulk", None),
        ("library_feed_poll", "feed"),
        ("library_feed_toggle", "feed"),
        ("library_proposal_accept", "proposal"),
        ("library_proposal_decline", "proposal"),
    ],
)
def test_employees_cannot_act_on_the_library(client, org, employee, name, needs):
    item = ContentItemFactory(organization=org, status="draft")
    feed = ContentFeedFactory(organization=org)
    proposal = ContentProposalFactory(organization=org)
    kwargs = {
        "item": {"content_item_id": item.pk},
        "feed": {"content_feed_id": feed.pk},
        "proposal": {"content_proposal_id": proposal.pk},
        None: {},
    }[needs]
    client.force_login(employee.user)
    response = client.post(url(name, org, **kwargs), {"action": "publish", "items": [item.pk]})
    assert response.status_code == 403
    item.refresh_from_db()
    proposal.refresh_from_db()
    feed.refresh_from_db()
    assert (item.status, proposal.status, feed.is_active) == ("draft", "new", True)


def queries(client, path, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params)
    assert response.status_code == 200, path
    return len(ctx)


def grow_library(org):
    team = TeamFactory(organization=org)
    topic = TopicFactory(organization=org)
    item = ContentItemFactory(organization=org)
    item.target_teams.add(team)
    item.topics.add(topic)
    SuggestionFactory(item=item)
    SuggestionFactory(item=item, network="x")
    ContentVariantFactory(item=item, language="de")
    ShareFactory(item=item)
    ContentItemFactory(organization=org, status="draft", featured=True)
    ContentFeedFactory(organization=org)
    ContentProposalFactory(organization=org, url=f"https://acme.example/p/{item.pk}")
    return item, team


@pytest.mark.parametrize(
    "page, params",
    [
        ("library", {}),
        ("library", {"status": "published", "q": "acme"}),
        ("library_preview", {}),
        ("library_feeds", {}),
        ("library_proposals", {}),
    ],
)
def test_library_pages_cost_the_same_queries_whatever_the_size(client, org, marketer, page, params):
    client.force_login(marketer.user)
    for _ in range(2):
        grow_library(org)
    small = queries(client, url(page, org), **params)
    for _ in range(12):
        grow_library(org)
    assert queries(client, url(page, org), **params) == small
    # The list says which languages each item lacks: 2 queries more (members' languages, variants).
    assert small <= (14 if page == "library" else 12)


def test_the_item_page_costs_the_same_queries_whatever_the_item(client, org, marketer):
    client.force_login(marketer.user)
    plain = ContentItemFactory(organization=org)
    rich, _ = grow_library(org)
    for _ in range(5):
        SuggestionFactory(item=rich)
        rich.target_teams.add(TeamFactory(organization=org))
        rich.topics.add(TopicFactory(organization=org))
    for _ in range(5):
        TeamFactory(organization=org)
    assert queries(client, url("library_item", org, content_item_id=plain.pk)) == queries(
        client, url("library_item", org, content_item_id=rich.pk)
    )


def test_the_list_shows_counts_topics_teams_and_filters(client, org, marketer):
    item, team = grow_library(org)
    archived = ContentItemFactory(organization=org, status="archived", title="Old news")
    client.force_login(marketer.user)
    page = client.get(url("library", org)).content.decode()
    assert item.title in page and team.name in page and "Old news" not in page
    row = page.split(f'data-item="{item.pk}"')[1].split("</tr>")[0]
    assert "<td>2</td>" in row and "<td>1</td>" in row  # 2 suggestions, 1 share
    page = client.get(url("library", org), {"status": "archived"}).content.decode()
    assert archived.title in page and item.title not in page
    topic = item.topics.get()
    page = client.get(url("library", org), {"topic": topic.slug}, HTTP_HX_REQUEST="true").content.decode()
    assert page.startswith('<div id="library-items">') and item.title in page


def test_adding_an_item_on_the_page_with_suggestions_topics_and_teams(client, org, marketer, media):
    sales = TeamFactory(organization=org, name="Sales")
    client.force_login(marketer.user)
    response = client.post(
        url("library_item_new", org),
        {
            "url": "https://acme.example/news/lyon",
            "title": "Lyon plant",
            "description": "Jobs.",
            "image": image_file(),
            "topics": "Careers, Lyon",
            "target_teams": [sales.pk],
            "starts_at": "2030-01-02T09:00",
            "expires_at": "2030-02-01T18:30",
            "featured": "on",
            "suggestions-TOTAL_FORMS": "3",
            "suggestions-INITIAL_FORMS": "0",
            "suggestions-0-text": "For everyone",
            "suggestions-0-network": "",
            "suggestions-1-text": "",
            "suggestions-2-text": "Short for X",
            "suggestions-2-network": "x",
        },
    )
    item = ContentItem.objects.for_org(org).get()
    assert response.status_code == 302 and response["Location"] == url("library_item", org, content_item_id=item.pk)
    assert item.title == "Lyon plant" and item.featured and item.image
    assert [t.name for t in item.topics.all()] == ["Careers", "Lyon"]
    assert list(item.target_teams.all()) == [sales]
    assert [(s.text, s.network) for s in item.suggestions.all()] == [("For everyone", ""), ("Short for X", "x")]
    local = timezone.localtime(item.starts_at, timezone=__import__("zoneinfo").ZoneInfo("Europe/Paris"))
    assert (local.hour, local.minute) == (9, 0)  # the organization's time zone
    page = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    assert 'value="2030-01-02T09:00"' in page and "Short for X" in page


def test_a_refused_save_keeps_everything_typed(client, org, marketer, media):
    item = create(org, marketer)
    client.force_login(marketer.user)
    response = client.post(
        url("library_item", org, content_item_id=item.pk),
        {
            "url": "https://acme.example/news/lyon-2",
            "title": "A better title",
            "description": "Typed words",
            "topics": "Lyon",
            "starts_at": "2030-03-01T10:00",
            "expires_at": "2030-02-01T10:00",
            "suggestions-TOTAL_FORMS": "1",
            "suggestions-INITIAL_FORMS": "0",
            "suggestions-0-text": "My suggested words",
            "image": image_file(),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200 and "The expiry must come after the start." in page
    assert "Choose the image again" in page and not list(media.rglob("*.png"))
    for typed in ("A better title", "Typed words", "My suggested words", "2030-03-01T10:00", "lyon-2"):
        assert typed in page
    item.refresh_from_db()
    assert item.title == "Acme opens a plant in Lyon" and not item.topics.exists()


def test_publish_from_the_item_page_says_what_is_missing(client, org, marketer):
    item = create(org, marketer, title="")
    client.force_login(marketer.user)
    page = client.post(url("library_item_publish", org, content_item_id=item.pk), follow=True).content.decode()
    assert "Before publishing, give the item a title." in page
    services.update_item(actor=marketer, item=item, title="Ready")
    client.post(url("library_item_publish", org, content_item_id=item.pk))
    item.refresh_from_db()
    assert item.status == "published"


def test_the_preview_status_polls_while_fetching_and_stops_after(client, org, marketer):
    item = ContentItemFactory(organization=org, unfurl_status="pending")
    client.force_login(marketer.user)
    status_url = url("library_item_unfurl", org, content_item_id=item.pk)
    pending = client.get(status_url, HTTP_HX_REQUEST="true")
    assert 'hx-trigger="every 1s"' in pending.content.decode() and "HX-Trigger" not in pending
    page = client.get(url("library_item", org, content_item_id=item.pk)).content.decode()
    assert f'hx-get="{status_url}"' in page
    ContentItem.objects.for_org(org).filter(pk=item.pk).update(
        unfurl_status="failed", unfurl_error="The site answered 404 Not Found."
    )
    failed = client.get(status_url, HTTP_HX_REQUEST="true")
    assert failed["HX-Trigger"] == "unfurlFinished"
    assert "The site answered 404 Not Found." in failed.content.decode() and "every 1s" not in failed.content.decode()


def test_fetch_again_from_the_page(client, org, marketer, django_capture_on_commit_callbacks):
    item = ContentItemFactory(organization=org, unfurl_status="failed", unfurl_error="boom")
    client.force_login(marketer.user)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(url("library_item_unfurl", org, content_item_id=item.pk))
    assert response.status_code == 302 and len(callbacks) == 1
    item.refresh_from_db()
    assert (item.unfurl_status, item.unfurl_error) == ("pending", "")


# --- proposals --------------------------------------------------------------------------------


def test_any_member_proposes_and_a_marketer_accepts_into_a_draft(client, org, employee, marketer):
    client.force_login(employee.user)
    response = client.post(
        url("propose_content", org), {"url": "https://news.example.com/acme-award", "reason": "We won!"}, follow=True
    )
    assert b"Thank you!" in response.content and b"waiting for the marketing team" in response.content
    again = client.post(url("propose_content", org), {"url": "https://news.example.com/acme-award"})
    assert b"already proposed" in again.content
    proposal = ContentProposal.objects.for_org(org).get()
    assert proposal.proposed_by == employee.user and proposal.reason == "We won!"

    client.force_login(marketer.user)
    inbox = client.get(url("library_proposals", org)).content.decode()
    assert "acme-award" in inbox and "We won!" in inbox
    assert selectors.new_proposal_count(org) == 1
    response = client.post(url("library_proposal_accept", org, content_proposal_id=proposal.pk))
    item = ContentItem.objects.for_org(org).get()
    assert response["Location"] == url("library_item", org, content_item_id=item.pk)
    assert (item.status, item.source, item.url) == ("draft", "proposal", "https://news.example.com/acme-award")
    assert item.unfurl_status == "pending"
    proposal.refresh_from_db()
    assert (proposal.status, proposal.item_id) == ("accepted", item.pk)
    with pytest.raises(Conflict, match="already accepted"):
        services.accept_proposal(actor=marketer, proposal=proposal)
    with pytest.raises(Conflict):
        services.decline_proposal(actor=marketer, proposal=proposal)


def test_a_declined_proposal_adds_nothing(client, org, marketer):
    proposal = ContentProposalFactory(organization=org)
    client.force_login(marketer.user)
    client.post(url("library_proposal_decline", org, content_proposal_id=proposal.pk))
    proposal.refresh_from_db()
    assert proposal.status == "declined" and not ContentItem.objects.for_org(org).exists()


def test_a_proposal_needs_a_web_link(employee):
    with pytest.raises(ValidationFailed, match="not a web address"):
        services.propose_content(actor=employee, url="file:///etc/passwd")
