"""Pictures with alt text: the library editor asks for the item's picture's description,
the composer takes the employee's own picture only with one, and the share keeps both."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.models import Role
from advocacy.errors import ValidationFailed
from content.models import Share
from content.services import library as library_services
from content.services import sharing
from tests.accounts.factories import MembershipFactory, OrganizationFactory, SocialConnectionFactory
from tests.content.factories import ContentItemFactory
from tests.helpers import org_url

pytestmark = pytest.mark.django_db

ALT = "Two engineers on top of a wind turbine nacelle"


def upload(name: str = "mine.png", fmt: str = "PNG") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 50, 50)).save(out, format=fmt)
    return SimpleUploadedFile(name, out.getvalue(), content_type=f"image/{fmt.lower()}")


@pytest.fixture(autouse=True)
def files_and_apps(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.NETWORK_APPS = {"linkedin": ("li", "s"), "x": ("x", "s"), "facebook": ("", "")}


@pytest.fixture
def emma(employee):
    return employee


@pytest.fixture
def x_account(emma):
    return SocialConnectionFactory(organization=emma.organization, user=emma.user, network="x", refresh_token="r")


def submit(emma, item, account, **picture):
    return sharing.submit_share(
        actor=emma,
        item_id=item.pk,
        commentary="Up on the turbine today.",
        target_keys=[f"connection:{account.pk}"],
        confirm_repeat=True,
        **picture,
    )


@pytest.fixture
def item(org):
    return ContentItemFactory(organization=org, status="published")


# --- the composer -------------------------------------------------------------------------------


def test_a_share_keeps_the_employees_picture_and_its_alt_text(emma, item, x_account):
    share = submit(emma, item, x_account, image=upload(), image_alt_text=f"  {ALT} ")
    assert share.image.name.startswith("shares/") and share.image.name.endswith(".jpg"), "re-encoded, our name"
    assert share.image_alt_text == ALT


def test_a_share_picture_without_alt_text_is_refused_and_nothing_is_written(emma, item, x_account):
    with pytest.raises(ValidationFailed) as caught:
        submit(emma, item, x_account, image=upload(), image_alt_text="   ")
    assert "image_alt_text" in caught.value.fields and "Describe your picture" in caught.value.message
    assert not Share.objects.for_org(emma.organization).exists()


def test_a_share_picture_that_is_not_an_image_is_refused(emma, item, x_account):
    fake = SimpleUploadedFile("a.png", b"not a picture at all", content_type="image/png")
    with pytest.raises(ValidationFailed, match="not an image we can use"):
        submit(emma, item, x_account, image=fake, image_alt_text=ALT)
    assert not Share.objects.for_org(emma.organization).exists()


def test_the_composer_asks_for_alt_text_with_a_picture(client, emma, item, x_account):
    client.force_login(emma.user)
    url = org_url("content:compose", emma.organization, content_item_id=item.pk)
    page = client.get(url).content.decode()
    assert 'name="image"' in page and 'name="image_alt_text"' in page and 'enctype="multipart/form-data"' in page
    assert 'hx-params="not image"' in page, "the live checks never upload the picture"
    assert "A reviewer looks at it before it goes out" in page, "told before choosing one that it is reviewed"

    posted = {"commentary": "Up on the turbine today.", "targets": [f"connection:{x_account.pk}"], "when": "now"}
    answer = client.post(url, {**posted, "image": upload()})
    assert answer.status_code == 200
    assert "Describe your picture for people who cannot see it" in answer.content.decode()
    assert not Share.objects.for_org(emma.organization).exists()

    answer = client.post(url, {**posted, "image": upload(), "image_alt_text": ALT})
    assert answer.status_code == 302
    share = Share.objects.for_org(emma.organization).get()
    assert share.image and share.image_alt_text == ALT
    assert share.status == Share.Status.IN_REVIEW, "as the composer said: a reviewer looks at the picture"
    assert submit(emma, item, x_account).status != Share.Status.IN_REVIEW, "the same words without it are not held"


# --- the library editor --------------------------------------------------------------------------


def test_the_library_editor_asks_for_and_saves_the_pictures_alt_text(client, marketer, org):
    client.force_login(marketer.user)
    item = library_services.create_item(
        actor=marketer, url="https://acme.example/wind", title="Wind", image=upload(), fetch_preview=False
    )
    url = org_url("content:library_item", org, content_item_id=item.pk)
    page = client.get(url).content.decode()
    assert 'name="image_alt_text"' in page
    assert 'data-testid="alt-text-missing"' in page, "the editor says the picture is not posted without it"

    fields = {
        "url": item.url,
        "title": item.title,
        "image_alt_text": ALT,
        "suggestions-TOTAL_FORMS": "0",
        "suggestions-INITIAL_FORMS": "0",
    }
    assert client.post(url, fields).status_code == 302
    item.refresh_from_db()
    assert item.image_alt_text == ALT and item.image, "the picture stays, described"
    page = client.get(url).content.decode()
    assert 'data-testid="alt-text-missing"' not in page and f'alt="{ALT}"' in page


def test_an_alt_text_over_1000_characters_is_refused(marketer):
    with pytest.raises(ValidationFailed) as caught:
        library_services.create_item(
            actor=marketer, url="https://acme.example/w", title="W", image_alt_text="x" * 1001, fetch_preview=False
        )
    assert "image_alt_text" in caught.value.fields


# --- who sees a share's picture ------------------------------------------------------------------


def test_a_shares_picture_is_served_to_its_author_and_reviewers_only(client, org, emma, item, x_account):
    share = submit(emma, item, x_account, image=upload(), image_alt_text=ALT)
    url = f"/media/{share.image.name}"
    reviewer = MembershipFactory(organization=org, roles=[Role.COMPLIANCE])
    colleague = MembershipFactory(organization=org, roles=[Role.EMPLOYEE])
    outsider = MembershipFactory(organization=OrganizationFactory(slug="globex"), roles=list(Role))
    for membership, status in ((emma, 200), (reviewer, 200), (colleague, 404), (outsider, 404)):
        client.force_login(membership.user)
        answer = client.get(url)
        assert answer.status_code == status, membership
        if status == 200:
            assert answer["Content-Type"] == "image/jpeg" and answer["X-Content-Type-Options"] == "nosniff"
    client.force_login(emma.user)
    page = client.get(org_url("content:share_detail", org, share_id=share.pk)).content.decode()
    assert f'src="/media/{share.image.name}" alt="{ALT}"' in page


def test_the_reviewer_sees_the_employees_picture_and_its_description(client, org, emma, item, x_account):
    share = submit(emma, item, x_account, image=upload(), image_alt_text=ALT)
    reviewer = MembershipFactory(organization=org, roles=[Role.COMPLIANCE])
    client.force_login(reviewer.user)
    page = client.get(org_url("compliance:review", org, share_id=share.pk)).content.decode()
    assert f'src="/media/{share.image.name}" alt="{ALT}" data-testid="share-picture"' in page
    assert f"Described as: “{ALT}”" in page
