# ruff: noqa: F811 (the fixtures of test_clients, imported by name, are parameters here)
"""Native picture posts: the three clients' upload + post against the emulator, and the
limits the emulator enforces as the networks document them (type, size, dimensions,
single-use upload URLs, media ids that expire, unknown media ids refused)."""

from __future__ import annotations

import io
import os
from typing import Any

import pytest
import requests
from PIL import Image

from networks.base import ImageUpload, PostImage
from networks.errors import ImageRejected, MediaExpired
from tests.networks.test_clients import Connected, FacebookPage, emu, facebook, linkedin, page, x  # noqa: F401

ALT = "Forty wind turbines off the coast at dawn"


def picture(fmt: str = "PNG", size: tuple[int, int] = (64, 48), *, noise: int = 0, mode: str = "RGB") -> bytes:
    """An image made by Pillow; `noise` bytes of random pixels make it incompressible."""
    if noise:
        side = int((noise / len(mode)) ** 0.5) + 1
        image = Image.frombytes(mode, (side, side), os.urandom(side * side * len(mode)))
    else:
        image = Image.new(mode, size, (20, 120, 200) if mode == "RGB" else (20, 120, 200, 255))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def png(**kwargs: Any) -> PostImage:
    return PostImage(data=picture(**kwargs), mime_type="image/png", alt_text=ALT)


def media_of(emu, network: str) -> list[dict[str, Any]]:
    return [m for m in emu.state()["media"] if m["network"] == network]


# --- the posts carry the picture and its alt text ----------------------------------------------


def test_linkedin_picture_post_carries_the_image_urn_and_alt_text(linkedin: Connected) -> None:
    client, token, sub = linkedin.client, linkedin.access_token, linkedin.account["id"]
    upload = client.upload_image(access_token=token, author_id=sub, image=png())
    assert upload.media_id.startswith("urn:li:image:") and upload.expires_at is None
    post = client.publish(access_token=token, author_id=sub, text="Our new turbines", image=upload)
    (stored,) = linkedin.emu.posts("linkedin")
    assert stored["id"] == post.remote_id
    assert stored["extra"]["content"] == {"media": {"id": upload.media_id, "altText": ALT}}
    assert stored["extra"]["media"][0]["mime_type"] == "image/png"
    assert stored["extra"]["media"][0]["alt_text"] == ALT
    assert (stored["extra"]["media"][0]["width"], stored["extra"]["media"][0]["height"]) == (64, 48)


def test_x_picture_post_carries_the_media_id_and_alt_text(x: Connected) -> None:
    client, token, uid = x.client, x.access_token, x.account["id"]
    upload = client.upload_image(access_token=token, author_id=uid, image=png())
    assert upload.expires_at is not None, "X says how long the id lives (expires_after_secs)"
    post = client.publish(access_token=token, author_id=uid, text="Our new turbines", image=upload)
    (stored,) = x.emu.posts("x")
    assert stored["id"] == post.remote_id
    assert [m["id"] for m in stored["extra"]["media"]] == [upload.media_id]
    assert stored["extra"]["media"][0]["alt_text"] == ALT


def test_facebook_photo_post_carries_the_photo_and_alt_text(page: FacebookPage) -> None:
    client, emu = page.connected.client, page.connected.emu
    upload = client.upload_image(access_token=page.token, author_id=page.page_id, image=png())
    assert emu.posts("facebook") == [], "an unpublished photo is no post"
    post = client.publish(access_token=page.token, author_id=page.page_id, text="Our new turbines", image=upload)
    (stored,) = emu.posts("facebook")
    assert stored["id"] == post.remote_id
    assert stored["extra"]["media"][0]["id"] == upload.media_id
    assert stored["extra"]["media"][0]["alt_text"] == ALT
    page = requests.get(f"{emu.url}/facebook/", timeout=10).text
    assert f"picture image/png 64x48, alt: “{ALT}”" in page, "the emulator's own page shows what was posted"


# --- limits ---------------------------------------------------------------------------------------


def test_x_refuses_an_image_over_5_mb(x: Connected) -> None:
    big = PostImage(data=picture(noise=5 * 1024 * 1024 + 100_000), mime_type="image/png", alt_text=ALT)
    assert len(big.data) > 5 * 1024 * 1024
    with pytest.raises(ImageRejected) as caught:
        x.client.upload_image(access_token=x.access_token, author_id=x.account["id"], image=big)
    assert "5242880 bytes" in caught.value.message
    assert media_of(x.emu, "x") == []


def test_x_large_picture_goes_up_in_segments(x: Connected) -> None:
    big = PostImage(data=picture(noise=2_500_000), mime_type="image/png", alt_text=ALT)
    upload = x.client.upload_image(access_token=x.access_token, author_id=x.account["id"], image=big)
    (stored,) = media_of(x.emu, "x")
    assert stored["category"] == "tweet_image" and stored["segments"] == 3 and stored["size"] == len(big.data)
    assert stored["alt_text"] == ALT and upload.expires_at is not None
    x.client.publish(access_token=x.access_token, author_id=x.account["id"], text="Big picture", image=upload)
    assert [m["id"] for m in x.emu.posts("x")[0]["extra"]["media"]] == [upload.media_id]


def test_x_takes_a_gif_through_the_chunked_flow(x: Connected) -> None:
    gif = PostImage(data=picture("GIF"), mime_type="image/gif", alt_text=ALT)
    upload = x.client.upload_image(access_token=x.access_token, author_id=x.account["id"], image=gif)
    (stored,) = media_of(x.emu, "x")
    assert (stored["category"], stored["mime_type"], stored["segments"]) == ("tweet_gif", "image/gif", 1)
    assert upload.media_id == stored["id"]


def test_x_refuses_a_gif_on_the_simple_upload(x: Connected) -> None:
    gif = PostImage(data=picture("GIF"), mime_type="image/png", alt_text=ALT)  # the bytes decide, not the label
    with pytest.raises(ImageRejected) as caught:
        x.client.upload_image(access_token=x.access_token, author_id=x.account["id"], image=gif)
    assert "image/gif" in caught.value.message


def test_x_refuses_an_image_smaller_than_4_pixels(x: Connected) -> None:
    with pytest.raises(ImageRejected, match="dimensions 3x3"):
        x.client.upload_image(access_token=x.access_token, author_id=x.account["id"], image=png(size=(3, 3)))


def test_linkedin_refuses_a_webp_image(linkedin: Connected) -> None:
    webp = PostImage(data=picture("WEBP"), mime_type="image/webp", alt_text=ALT)
    with pytest.raises(ImageRejected, match="image/webp"):
        linkedin.client.upload_image(access_token=linkedin.access_token, author_id=linkedin.account["id"], image=webp)


def test_facebook_refuses_a_photo_over_4_mb(page: FacebookPage) -> None:
    big = PostImage(data=picture(noise=4 * 1024 * 1024 + 100_000), mime_type="image/png", alt_text=ALT)
    with pytest.raises(ImageRejected, match="4 MB"):
        page.connected.client.upload_image(access_token=page.token, author_id=page.page_id, image=big)
    assert media_of(page.connected.emu, "facebook") == []


def initialize_upload(linkedin: Connected) -> dict[str, Any]:
    """LinkedIn's initializeUpload answer, by hand: its upload URL is what these tests try."""
    headers = {
        "Authorization": f"Bearer {linkedin.access_token}",
        "LinkedIn-Version": "202611",
        "X-Restli-Protocol-Version": "2.0.0",
    }
    return requests.post(
        f"{linkedin.emu.url}/linkedin/rest/images?action=initializeUpload",
        json={"initializeUploadRequest": {"owner": f"urn:li:person:{linkedin.account['id']}"}},
        headers=headers,
        timeout=10,
    ).json()["value"]


def test_linkedin_upload_url_is_single_use(linkedin: Connected) -> None:
    token = linkedin.access_token
    answer = initialize_upload(linkedin)
    put = {"Authorization": f"Bearer {token}"}
    assert requests.put(answer["uploadUrl"], data=picture(), headers=put, timeout=10).status_code == 201
    again = requests.put(answer["uploadUrl"], data=picture(), headers=put, timeout=10)
    assert again.status_code == 400 and "already used or expired" in again.json()["message"]


def test_linkedin_upload_url_expires(linkedin: Connected) -> None:
    token = linkedin.access_token
    answer = initialize_upload(linkedin)
    linkedin.emu.advance(3601)
    late = requests.put(answer["uploadUrl"], data=picture(), headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert late.status_code == 400


def test_x_media_id_expires_after_24_hours(x: Connected) -> None:
    upload = x.client.upload_image(access_token=x.access_token, author_id=x.account["id"], image=png())
    x.emu.advance(86400 + 1)
    fresh = x.client.refresh(token=x.tokens)  # access tokens live 2 hours
    with pytest.raises(MediaExpired):
        x.client.publish(access_token=fresh.access_token, author_id=x.account["id"], text="Late", image=upload)
    assert x.emu.posts("x") == []


@pytest.mark.parametrize("network", ["linkedin", "x", "facebook"])
def test_a_post_naming_an_unknown_media_id_is_refused(network: str, request: pytest.FixtureRequest) -> None:
    if network == "facebook":
        fb: FacebookPage = request.getfixturevalue("page")
        client, token, author, emu = fb.connected.client, fb.token, fb.page_id, fb.connected.emu
        unknown = "1234567890123456"
    else:
        connected: Connected = request.getfixturevalue(network)
        client, token, author, emu = connected.client, connected.access_token, connected.account["id"], connected.emu
        unknown = "urn:li:image:C4nosuchimage" if network == "linkedin" else "1999999999999999999"
    with pytest.raises(MediaExpired):
        client.publish(access_token=token, author_id=author, text="Nothing", image=ImageUpload(unknown, None, ALT))
    assert emu.posts(network) == []


def test_another_accounts_upload_cannot_be_posted(x: Connected, emu) -> None:
    from tests.networks.test_clients import connect

    upload = x.client.upload_image(access_token=x.access_token, author_id=x.account["id"], image=png())
    other = connect(emu, "x", username="bob", name="Bob")
    with pytest.raises(MediaExpired):
        other.client.publish(access_token=other.access_token, author_id=other.account["id"], text="Hi", image=upload)
