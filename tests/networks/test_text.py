"""The per-network text rules: X weighted counting, LinkedIn escaping, limits. Pure, no I/O."""

from __future__ import annotations

import pytest

from networks.text import LIMITS, TextMeasure, escape_linkedin, find_urls, measure, x_weighted_length

# --- X weighted length ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        ("Hello, world! 123 ~ {}", 22),
        ("a\nb\tc", 5),
        # U+0000-U+10FF weigh 1: Latin-1, Latin Extended, Greek, Cyrillic, Hebrew, Arabic, Georgian...
        ("café", 4),
        ("Ελληνικά", 8),
        ("Привет", 6),
        ("שלום", 4),
        ("ა", 1),  # U+10D0, Georgian, inside U+0000-U+10FF
        ("ᄀ", 2),  # U+1100, Hangul Jamo, just outside: weighs 2
    ],
)
def test_plain_text(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


def test_exactly_280_fits_and_281_does_not() -> None:
    assert measure("x", "a" * 280) == TextMeasure(length=280, limit=280, fits=True, remaining=0)
    assert measure("x", "a" * 281) == TextMeasure(length=281, limit=280, fits=False, remaining=-1)
    # 140 CJK characters are 280 weighted; one more does not fit.
    assert measure("x", "字" * 140).fits
    assert not measure("x", "字" * 140 + "a").fits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://example.com", 23),
        ("https://example.com", 23),
        ("https://example.com/" + "a" * 200 + "?utm_source=advocacy&utm_medium=social", 23),
        ("http://x.co", 23),  # shorter than 23 still counts 23
        ("see https://example.com/a", 4 + 23),
        ("https://a.example.org/x https://b.example.org/y", 23 + 1 + 23),
        ("www.example.com/path", 23),
        ("http://localhost:8000/track/abc", 23),
        ("https://en.wikipedia.org/wiki/Foo_(bar)", 23),
    ],
)
def test_urls_count_23(text: str, expected: int) -> None:
    assert x_weighted_length(text) == expected


def test_url_trailing_punctuation_is_not_part_of_the_url() -> None:
    assert x_weighted_length("Read https://example.com/a.") == 5 + 23 + 1
    assert x_weighted_length("(see https://example.com/a)") == 5 + 23 + 1
    assert x_weighted_length('"https://example.com/a",') == 1 + 23 + 2


def test_what_is_not_a_url() -> None:
    # Only a scheme or "www." makes a URL (documented choice): bare domains count per character.
    assert x_weighted_length("example.com") == 11
    assert x_weighted_length("https://") == 8
    assert x_weighted_length("https://nodot") == 13
    assert find_urls("email me at someone@example.com") == []


def test_emoji_weigh_2_per_code_point() -> None:
    assert x_weighted_length("😀") == 2
    assert x_weighted_length("🚀🚀🚀") == 6
    # A ZWJ family: man, ZWJ (U+200D weighs 1), woman, ZWJ, girl -- each code point counted.
    assert x_weighted_length("\U0001f468\u200d\U0001f469\u200d\U0001f467") == 2 + 1 + 2 + 1 + 2
    # A flag is two regional indicators.
    assert x_weighted_length("🇫🇷") == 4
    # A skin-tone modifier is a code point of its own.
    assert x_weighted_length("👍🏽") == 4


def test_cjk_weighs_2() -> None:
    assert x_weighted_length("日本語") == 6
    assert x_weighted_length("한국어") == 6
    assert x_weighted_length("中文 text") == 4 + 1 + 4
    assert measure("x", "字" * 141) == TextMeasure(length=282, limit=280, fits=False, remaining=-2)


def test_nfc_normalisation() -> None:
    composed = "\u00e9"  # é
    decomposed = "e\u0301"  # e + combining acute accent
    assert x_weighted_length(composed) == 1
    assert x_weighted_length(decomposed) == 1
    assert x_weighted_length("Cafe\u0301 ") == 5
    # A combining mark with no precomposed form stays a code point of its own (U+0331 weighs 1).
    assert x_weighted_length("q\u0331") == 2
    # Hangul jamo compose into one syllable, which weighs 2.
    assert x_weighted_length("\u1100\u1161") == 2


@pytest.mark.parametrize(
    ("char", "weight"),
    [
        ("\u2010", 1),  # hyphen
        ("\u2013", 1),  # en dash
        ("\u2014", 1),  # em dash
        ("\u2018", 1),  # left single quotation mark
        ("\u201c", 1),  # left double quotation mark
        ("\u201f", 1),  # end of the range
        ("\u2000", 1),  # en quad
        ("\u200d", 1),  # ZWJ
        ("\u200e", 2),  # between the ranges
        ("\u2020", 2),  # dagger, after 2010-201F
        ("\u2026", 2),  # horizontal ellipsis
        ("\u2032", 1),  # prime
        ("\u2037", 1),
        ("\u2038", 2),
        ("\u20ac", 2),  # euro sign
    ],
)
def test_general_punctuation_ranges(char: str, weight: int) -> None:
    assert x_weighted_length(char) == weight


def test_url_next_to_wide_characters() -> None:
    assert x_weighted_length("見て https://example.com/記事") == 4 + 1 + 23


# --- LinkedIn escaping -----------------------------------------------------------------


def test_escape_every_reserved_character() -> None:
    for char in "()[]{}<>@|~_*#\\":
        assert escape_linkedin(char) == "\\" + char


def test_escape_in_context() -> None:
    assert escape_linkedin("Hello (world) @team #launch") == "Hello \\(world\\) \\@team \\#launch"
    assert escape_linkedin("snake_case *bold* a|b ~x <tag> [1] {k}") == (
        "snake\\_case \\*bold\\* a\\|b \\~x \\<tag\\> \\[1\\] \\{k\\}"
    )
    assert escape_linkedin("C:\\path") == "C:\\\\path"


def test_escape_leaves_the_rest_alone() -> None:
    text = "Plain text, accents é, emoji 🚀, quotes \"' and https://example.com/a?b=c&d=e!"
    assert escape_linkedin(text) == text
    assert escape_linkedin("") == ""


# --- Limits -----------------------------------------------------------------------------


def test_limits() -> None:
    assert LIMITS == {"x": 280, "linkedin": 3000, "facebook": 63206}


def test_linkedin_and_facebook_count_code_points() -> None:
    assert measure("linkedin", "a" * 3000) == TextMeasure(length=3000, limit=3000, fits=True, remaining=0)
    assert not measure("linkedin", "a" * 3001).fits
    # Counted as sent: the brackets escaped (2 more); CJK and URLs are not weighted.
    assert measure("linkedin", "(字) https://example.com").length == 25
    assert measure("facebook", "x" * 63206).fits
    assert measure("facebook", "x" * 63207).remaining == -1
    assert measure("facebook", "e\u0301").length == 1


def test_linkedin_counts_the_commentary_as_it_is_sent() -> None:
    """LinkedIn measures the little text it receives (the emulator refuses a commentary over
    3,000 characters as sent): a text that reads as 2,990 characters but carries hashtags
    is too long, and the count says so."""
    from networks.text import little_text

    text = "Proud to work here #AcmeEmployee"
    assert little_text(text).endswith("{hashtag|\\#|AcmeEmployee}")
    assert measure("linkedin", text).length == len(little_text(text)) == 32 + 12  # "{hashtag|\\#|" and "}"
    long = "a" * 2950 + " #one #two #three"
    assert len(long) < 3000 and measure("linkedin", long).length == len(little_text(long)) > 3000
    assert not measure("linkedin", long).fits


def test_unknown_network() -> None:
    with pytest.raises(ValueError, match="unknown network"):
        measure("myspace", "hi")
