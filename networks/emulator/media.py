"""Uploaded pictures, as the three networks hold them before a post names them.

Standard library only: the type and the pixel size are read from the file's own header
(PNG IHDR, GIF logical screen, JPEG SOFn, WebP VP8/VP8L/VP8X, BMP, TIFF by magic only),
never from what the client claims, as the networks do. Each network module states its
limits next to the documentation it follows; this module keeps the uploads in `State`
(`store.media`, `store.upload_urls`) and answers "may this id be posted now?".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from networks.emulator.state import State, random_alnum


@dataclass
class Media:
    network: str
    id: str
    account_id: str  # who may post it (LinkedIn owner sub, X user id, Facebook Page id)
    mime_type: str = ""
    size: int = 0
    width: int = 0
    height: int = 0
    alt_text: str = ""
    created_at: float = 0.0
    expires_at: float | None = None  # X media ids: expires_after_secs
    uploaded: bool = False  # LinkedIn: the bytes arrived at the upload URL
    posts: list[str] = field(default_factory=list)  # the posts that carry it
    # X's chunked upload: what initialize declared, and the appended segments by index.
    total_bytes: int = 0
    category: str = ""
    segments: dict[int, bytes] = field(default_factory=dict)


@dataclass
class UploadUrl:
    token: str
    media_id: str
    expires_at: float
    used: bool = False


def sniff(data: bytes) -> tuple[str, int, int]:
    """(MIME type, width, height) read from the file's header; ("", 0, 0) when unknown."""
    try:
        if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
            width, height = struct.unpack(">II", data[16:24])
            return "image/png", width, height
        if data[:6] in (b"GIF87a", b"GIF89a"):
            width, height = struct.unpack("<HH", data[6:10])
            return "image/gif", width, height
        if data.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
            return _webp(data)
        if data[:2] == b"BM":
            width, height = struct.unpack("<ii", data[18:26])
            return "image/bmp", width, abs(height)
        if data[:4] in (b"II*\x00", b"MM\x00*"):
            return "image/tiff", 0, 0
    except struct.error:
        pass
    return "", 0, 0


def _jpeg(data: bytes) -> tuple[str, int, int]:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 1 if marker == 0xFF else 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return "image/jpeg", width, height
        i += 2 + length
    return "image/jpeg", 0, 0


def _webp(data: bytes) -> tuple[str, int, int]:
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return "image/webp", width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":
        bits = int.from_bytes(data[21:25], "little")
        return "image/webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return "image/webp", int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return "image/webp", 0, 0


def add(store: State, media: Media) -> Media:
    store.media[(media.network, media.id)] = media
    store.counters[media.network]["media_uploaded"] += 1
    return media


def get(store: State, network: str, media_id: str) -> Media | None:
    return store.media.get((network, media_id))


def usable(store: State, network: str, media_id: str, account_id: str) -> Media | None:
    """The media if `account_id` may post it now: known, its bytes arrived, not expired."""
    media = get(store, network, media_id)
    if media is None or media.account_id != account_id or not media.uploaded:
        return None
    if media.expires_at is not None and media.expires_at <= store.now():
        return None
    return media


def new_upload_url(store: State, media: Media, lifetime: float) -> UploadUrl:
    url = UploadUrl(token=random_alnum(40), media_id=media.id, expires_at=store.now() + lifetime)
    store.upload_urls[url.token] = url
    return url


def attached(media: Media, post_id: str) -> dict:
    """What a post records of its picture (the state's `posts[].extra.media`)."""
    media.posts.append(post_id)
    return {
        "id": media.id,
        "alt_text": media.alt_text,
        "mime_type": media.mime_type,
        "size": media.size,
        "width": media.width,
        "height": media.height,
    }


def multipart(req) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by name (bytes), parsed by the stdlib."""
    from email import message_from_bytes
    from email.policy import HTTP

    header = req.header("Content-Type") or ""
    if not header.lower().startswith("multipart/form-data"):
        return {}
    message = message_from_bytes(b"Content-Type: " + header.encode() + b"\r\n\r\n" + req.body, policy=HTTP)
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            parts[name] = part.get_payload(decode=True) or b""
    return parts
