"""Read an RSS 2.0, RSS 1.0 (RDF) or Atom document into the entries the library imports.

The parsing is feedparser's; this module only feeds it BYTES that `content.unfurl.fetch()`
already fetched (the SSRF-safe fetch) and maps its answer to `ParsedFeed`. feedparser is
never handed a URL or a file name: the body goes in as a stream, so it cannot fetch or open
anything itself. Any DOCTYPE or ENTITY declaration is refused before feedparser sees the
document (entity-expansion attacks), with a decoding (BOM, XML declaration, UTF-8) that a
UTF-16 document cannot hide its declarations from.

What feedparser reads that the former hand parser (ElementTree) did not: a feed whose XML is
not well formed (a stray `&`, an unclosed tag) still gives its entries (feedparser's lenient
parser; it writes a bare "Q&A" as "Q&A;"), HTML entities such as `&nbsp;` or `&eacute;` (not
XML's) no longer make the whole feed unreadable, XHTML paragraphs stay apart, and a feed
declared UTF-8 but written in Windows-1252 keeps its accents. Entries carry no dates: the
library stores none. Parsing costs more (about 3x; feedparser builds richer entries).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import feedparser
from django.utils.translation import gettext as _

from content.unfurl import FetchFailed, clean_text, web_url


@dataclass(frozen=True)
class FeedEntry:
    guid: str  # the entry's id/guid, or its link when it has none
    link: str
    title: str
    summary: str  # plain text
    image_url: str = ""


@dataclass(frozen=True)
class ParsedFeed:
    title: str
    entries: list[FeedEntry]


_XML_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_DECLARATIONS = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _xml_text(body: bytes) -> str:
    """Decode ourselves (BOM, then the XML declaration, then UTF-8) so the DOCTYPE check sees
    the same characters the parser will: a UTF-16 document cannot hide its declarations."""
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if body.startswith(bom):
            return body.decode(codec, errors="replace")
    declared = _XML_DECLARED_ENCODING.match(body.lstrip()[:200])
    if declared:
        try:
            return body.decode(declared.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    return body.decode("utf-8", errors="replace")


_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure", "footer",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
    "td", "th", "tr", "ul",
}  # fmt: skip


class _TextParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in _BLOCK_TAGS:
            self.parts.append(" ")
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment (feed summaries are often HTML), whitespace collapsed."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def _link_of(entry) -> str:
    """The first alternate link with an address, else the first link with one. Read from
    `links` (the <link> elements), not `link`: feedparser fills `link` from an RSS <guid> too
    (isPermaLink), and an entry without <link> is skipped, as before."""
    links = [link for link in entry.get("links", []) if link.get("href") and link.get("rel") != "enclosure"]
    alternate = next((link["href"] for link in links if link.get("rel", "alternate") == "alternate"), "")
    return alternate or (links[0]["href"] if links else "")


def _summary_of(entry) -> str:
    if entry.get("summary"):
        return entry["summary"]
    return next((part.get("value", "") for part in entry.get("content", []) if part.get("value")), "")


def _image_of(entry) -> str:
    for enclosure in entry.get("enclosures", []):
        if enclosure.get("type", "").startswith("image/") and enclosure.get("href"):
            return enclosure["href"]
    for media in entry.get("media_content", []):
        if (media.get("medium") == "image" or media.get("type", "").startswith("image/")) and media.get("url"):
            return media["url"]
    for thumbnail in entry.get("media_thumbnail", []):
        if thumbnail.get("url"):
            return thumbnail["url"]
    return ""


def read_feed(body: bytes, *, base_url: str) -> ParsedFeed:
    """Entries of an RSS 2.0, RSS 1.0 (RDF) or Atom document fetched from `base_url`
    (relative links resolved against it). Raises FetchFailed for anything else, and for any
    DOCTYPE or ENTITY declaration."""
    if _DECLARATIONS.search(_xml_text(body)):
        raise FetchFailed(_("The feed contains a DOCTYPE or ENTITY declaration, which is refused for safety."))
    parsed = feedparser.parse(
        io.BytesIO(body),  # a stream: feedparser neither fetches a URL nor opens a file
        # No base address given to feedparser: it would resolve a relative RSS <guid> into a URL,
        # and a guid must stay what the feed says (the entries already imported are known by it).
        # Links are resolved below against the address fetched, as before. The HTML of titles and
        # summaries becomes plain text here, so feedparser need not sanitize or rewrite it.
        response_headers={"content-type": "application/xml"},
        resolve_relative_uris=False,
        sanitize_html=False,
    )
    if not parsed.get("version"):
        raise FetchFailed(_("That address does not hold an RSS or Atom feed."))
    entries, seen = [], set()
    for raw in parsed.entries:
        link = web_url(base_url, _link_of(raw))
        if not link:
            continue
        guid = (raw.get("id") or link)[:500]
        if guid in seen:
            continue
        seen.add(guid)
        entries.append(
            FeedEntry(
                guid=guid,
                link=link,
                title=clean_text(html_to_text(raw.get("title", "")), 300),
                summary=clean_text(html_to_text(_summary_of(raw)), 2000),
                image_url=web_url(base_url, _image_of(raw)),
            )
        )
    if parsed.get("bozo") and not entries and not parsed.feed.get("title"):
        # Not well formed, and nothing could be recovered from it.
        raise FetchFailed(_("That address does not hold an RSS or Atom feed. (Its XML could not be read.)"))
    return ParsedFeed(title=clean_text(html_to_text(parsed.feed.get("title", "")), 300), entries=entries)
