"""Per-network text rules: how long a text is, whether it fits, and LinkedIn's escaping.

The one place the composer, screening and the publisher measure text, so that they can
never disagree. Pure functions, no I/O.

X counting follows the twitter-text v3 rules given in PROVIDERS.md: NFC-normalise, then
every URL weighs 23 and every other code point weighs 1 (U+0000-U+10FF, U+2000-U+200D,
U+2010-U+201F, U+2032-U+2037) or 2 (everything else: CJK, emoji, ...).

Deliberate simplifications, both on the safe side or documented:

- URLs are recognised only with a scheme (``http://``, ``https://``) or a ``www.``
  prefix, followed by a host with at least one dot (or ``localhost``). twitter-text also
  links bare domains such as ``example.com/path``; here those are counted character by
  character, which can only overcount (a bare domain of 23 characters or fewer counts
  the same either way). Trailing sentence punctuation (``.,;:!?'"``) and an unbalanced
  closing bracket are not part of the URL, as in twitter-text.
- Emoji are counted code point by code point (a ZWJ family "man ZWJ woman ZWJ girl" is
  2 + 1 + 2 + 1 + 2 = 8), where twitter-text with emoji parsing counts a whole emoji
  sequence as 2. This overcounts, so a text we say fits always fits.

A LinkedIn length is the number of code points of the commentary as it is sent (after NFC):
LinkedIn's "little text", each hashtag written as `{hashtag|\\#|Word}` and every other
reserved character escaped with a backslash. LinkedIn measures what it receives, so a
text full of hashtags and brackets is longer than what members read; counting what is
sent never says a text fits that LinkedIn would refuse. A Facebook length is the number
of code points typed (after NFC).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

LIMITS: dict[str, int] = {"x": 280, "linkedin": 3000, "facebook": 63206}

X_URL_WEIGHT = 23

# (first, last, weight) per twitter-text v3; anything else weighs 2.
_X_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

_URL_CANDIDATE = re.compile(r"(?<![\w@$#.\-/])(?:https?://|www\.)[^\s<>\"]+", re.IGNORECASE)
_HOST = re.compile(r"^(?:[^\W_](?:[\w-]*[^\W_])?\.)+(?:[^\W\d_]{2,}|xn--[\w-]+)$|^localhost$|^\d{1,3}(?:\.\d{1,3}){3}$")
_TRAILING_PUNCT = ".,;:!?'\""
_BRACKETS = {")": "(", "]": "[", "}": "{"}

# LinkedIn "little text" reserved characters (PROVIDERS.md), each escaped with a backslash.
LINKEDIN_RESERVED = frozenset("()[]{}<>@|~_*#\\")
_LINKEDIN_RESERVED_RE = re.compile(r"([()\[\]{}<>@|~_*#\\])")


@dataclass(frozen=True)
class TextMeasure:
    """How a text measures on one network. `length` is weighted for X; `remaining` may be negative."""

    length: int
    limit: int
    fits: bool
    remaining: int


def _trim_url(candidate: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets, as twitter-text does."""
    url = candidate
    while url:
        last = url[-1]
        unbalanced = last in _BRACKETS and url.count(last) > url.count(_BRACKETS[last])
        if last in _TRAILING_PUNCT or unbalanced:
            url = url[:-1]
        else:
            break
    return url


def _host_of(url: str) -> str:
    rest = re.sub(r"^https?://", "", url, flags=re.IGNORECASE)
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]  # userinfo
    return re.sub(r":\d+$", "", host)  # port


def find_urls(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of the URLs in `text`, as X would count them (see module docstring)."""
    spans = []
    for match in _URL_CANDIDATE.finditer(text):
        url = _trim_url(match.group(0))
        if _HOST.match(_host_of(url)):
            spans.append((match.start(), match.start() + len(url)))
    return spans


def _x_weight(char: str) -> int:
    code = ord(char)
    for first, last in _X_LIGHT_RANGES:
        if first <= code <= last:
            return 1
    return 2


def x_weighted_length(text: str) -> int:
    """X's weighted length of `text`: NFC first, each URL 23, each other code point 1 or 2."""
    text = unicodedata.normalize("NFC", text)
    length = 0
    position = 0
    for start, end in find_urls(text):
        length += sum(_x_weight(c) for c in text[position:start]) + X_URL_WEIGHT
        position = end
    return length + sum(_x_weight(c) for c in text[position:])


def escape_linkedin(text: str) -> str:
    """Backslash-escape LinkedIn's little-text reserved characters ``( ) [ ] { } < > @ | ~ _ * # \\``
    so that the commentary is shown exactly as written (no accidental markup or mentions)."""
    return _LINKEDIN_RESERVED_RE.sub(r"\\\1", text)


# A hashtag as members type it: "#" starting a word, then letters and digits with at least
# one letter, up to the end of the word. "C#", "#1", "#snake_case" (the underscore is
# reserved in little text) and a URL's "#anchor" stay plain text.
_HASHTAG = re.compile(r"(?<![\w#\\&])#(?=[^\W_]*[^\W\d_])([^\W_]+)(?!\w)")


def little_text(text: str) -> str:
    """`text` as LinkedIn "little text" commentary: each hashtag written as LinkedIn's
    hashtag template `{hashtag|\\#|Word}` (a plain "#" would be escaped and show as text,
    not as a hashtag), every other reserved character backslash-escaped so that it shows as
    typed. LinkedIn counts (and `measure` counts) this, the commentary as sent."""
    urls = find_urls(text)
    parts, position = [], 0
    for match in _HASHTAG.finditer(text):
        if any(start <= match.start() < end for start, end in urls):
            continue
        parts += [escape_linkedin(text[position : match.start()]), "{hashtag|\\#|" + match.group(1) + "}"]
        position = match.end()
    parts.append(escape_linkedin(text[position:]))
    return "".join(parts)


def measure(network: str, text: str) -> TextMeasure:
    """How `text` measures on `network` ("x", "linkedin" or "facebook"). Raises ValueError
    for an unknown network."""
    try:
        limit = LIMITS[network]
    except KeyError:
        raise ValueError(f"unknown network {network!r}; expected one of {', '.join(LIMITS)}") from None
    if network == "x":
        length = x_weighted_length(text)
    elif network == "linkedin":
        length = len(little_text(unicodedata.normalize("NFC", text)))
    else:
        length = len(unicodedata.normalize("NFC", text))
    return TextMeasure(length=length, limit=limit, fits=length <= limit, remaining=limit - length)
