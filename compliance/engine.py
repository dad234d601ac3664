"""The screening engine: a pure function from (final delivery text, compiled policy) to findings.

No database, no settings: `compliance.services.screening` loads the organization's rules,
compiles them once (`compile_policy`, cached per policy version) and calls `screen_text`
for every delivery. The composer, submit and the review queue all use this one engine, so
the employee and the reviewer see the same findings at the same character spans.

Lexicon matching
    Case-insensitive, whole words, after normalising both the text and the terms:
    NFKD (full-width and other compatibility forms become plain letters), combining marks
    dropped (accents), case folded, format characters (Unicode category Cf: zero-width
    space, joiner, soft hyphen, BOM...) removed, and Cyrillic/Greek letters that look
    Latin mapped to the Latin letter (`_CONFUSABLES`: a hand-kept table of the letters
    that are visually identical, upper and lower case; Unicode's full confusables list
    also maps "rn" to "m" and similar, which would flag innocent words).
    Case rules per language (issue 23): the folding is Unicode's full case folding
    (`str.casefold`) over the compatibility decomposition, which covers what NFKC +
    casefold gives for the shipped languages (English, French, German, Spanish), so one
    reading serves a post in any of them: German ß and ẞ read "ss" (STRASSE, Straße and
    strasse are one word), accented capitals read as their letters (ÉTÉ is "ete", AÑO is
    "ano"), and the ligatures that casefold keeps whole are written out (œ "oe", æ "ae":
    French writes "oeuvre" for "œuvre"). Turkish and Azeri dotted and dotless i (a capital I
    with a dot, a small i without one) need locale-specific folding and are out of scope: no
    Turkish catalogue ships.
    Which terms apply depends on the post's language (`TermRule.applies_to`: "" for every
    language, else one): `screen_text(..., language=...)`.
    The normalised text is read twice: as it is (a word is a maximal run of letters and
    digits, so "unguaranteed" does not contain "guaranteed" and "insider-trading" does
    contain "insider"), and with every other character but whitespace deleted, so
    "g.u.a.r.a.n.t.e.e", "g-u-a-r-a-n-t-e-e" and "guar_antee" read "guarantee" and
    "Guaranteed... returns!" reads "guaranteed returns". The words of a phrase match
    across any whitespace (and, in the second reading, punctuation between them). A
    term is normalised the same way ("AT&T" is "att"). Every finding points at the
    ORIGINAL text: the readings keep a map back to it.

    What an officer writes (`TermRule`; no regular expressions):
    * inflections (`match="inflections"`, what the policy page offers by default): each word
      matches every word with the same Snowball stem in the term's language (PyStemmer, C;
      English, French, German, Spanish: the shipped languages): "guarantee" matches
      guarantees, guaranteed, guaranteeing, guarantee's; "exact" matches the words as written.
    * wildcards: a * at the start or end of a word stands for any letters (`guarant*`,
      `*vest*`, `*coin`), at least three letters besides it; never inside a word.
    * phrases: between its words any run of whitespace, hyphens and dashes (U+2010 to U+2015, minus),
      slashes and underscores, so "risk free" matches "risk-free", "risk—free", "risk / free";
      a phrase whose words all have three letters or more also matches them written as one
      word ("riskfree"); a full stop or comma between them only in the squeezed reading.
    * proximity (`near`, `distance`): the term counts only when the other word or phrase
      (matched the same way) starts within `distance` words before or after it.
    * exceptions: phrases that allow the term where one covers the term's words ("not
      guaranteed" for "guarantee"); matched as written (words whole, separators as in
      phrases), so an exception never allows more than the officer wrote.
    * letter repetition: only when the text has a letter three or more times in a row, it is
      read once more with each such run written once and once with it written twice
      ("guaaarantee", "guaranteeed"). Words of the shipped languages never repeat a letter
      three times, so this reading adds nothing for an innocent text.

    Speed: all terms are compiled once into one Aho-Corasick automaton (`pyahocorasick`,
    C) that finds every occurrence, overlapping ones included, in one pass whatever the
    number of terms. Its keys are anchors: the letters every match of a term's first word
    starts with (the word; for inflections the part of it its stem keeps, "guarante"; for a
    wildcard the letters around the *). Only an anchor hit is read further: the candidate
    word is stemmed and compared (the stemmer never runs over the whole text), then the
    rest of a phrase, the proximity partner and the exceptions. Before it, one RE2 program
    (a DFA over the alternation of all terms) answers "is any term in there at all" for
    the whole text in microseconds, and says where the first candidate starts. ASCII
    text skips the per-character normalisation entirely; the second reading's positions
    are only computed for its hits.

Pattern rules
    Run with RE2 (`google-re2`), a linear-time engine: no pattern can run away, however
    it nests its quantifiers. What RE2 cannot run in linear time (back-references,
    look-around) is refused when the rule is saved, with words saying why; so is a
    pattern whose compiled program is too large (`_PATTERN_MAX_MEM`) and one that matches
    empty text (it would flag every post). Patterns see the normalised text (lower case,
    look-alikes mapped, zero-width characters removed), case-insensitively.

Link domains
    URLs are found as the networks count them (`networks.text.find_urls`: with a scheme
    or `www.`). A link whose host is neither an allowed domain nor one of its subdomains
    is a finding; the product's own tracked links are always allowed.

Disclosure
    `apply_disclosure` appends it to the words (after one space, before a closing link)
    when the policy says "append" and the text lacks it, if the result still fits the
    network; otherwise it changes nothing and says so in a blocking finding (the text is
    never cut, the tracked link stays whole). With "require", `screen_text` reports a missing disclosure as blocking.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

import ahocorasick
import re2
import Stemmer
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from content.hooks import Finding
from networks.text import find_urls, measure

ACTIONS = ("block", "review", "warn")
SEVERITY = {"block": 0, "review": 1, "warn": 2}  # lower is more severe
NETWORK_LABELS = {"x": "X", "linkedin": "LinkedIn", "facebook": "Facebook"}

# Cyrillic and Greek letters drawn like Latin ones (upper case before folding: the Greek
# capital eta looks like H although its lower case looks like n).
_CONFUSABLES: dict[str, str] = {
    # Cyrillic lower case
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "п": "n",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "ь": "b", "г": "r", "ɡ": "g",
    # Cyrillic upper case
    "А": "a", "В": "b", "Е": "e", "Ё": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p",
    "С": "c", "Т": "t", "У": "y", "Х": "x", "Ѕ": "s", "І": "i", "Ї": "i", "Ј": "j", "Ԁ": "d",
    "Ԛ": "q", "Ԝ": "w", "Һ": "h", "Ӏ": "l", "Ь": "b",
    # Greek lower case
    "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "μ": "u", "ϲ": "c", "ϳ": "j",
    # Greek upper case
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n",
    "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x", "Ϲ": "c",
}  # fmt: skip

# Ligatures that case folding keeps as one letter but French (and Danish, Latin loans) also
# writes as two; folded to the two so "oeuvre" and "œuvre" are one word.
_LIGATURES = {"œ": "oe", "æ": "ae"}

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_SPACE_RUN = re.compile(r"  +")
_WHITESPACE = re.compile(r"\s")
_ASCII_SPACES = str.maketrans({c: " " for c in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85"})

_PATTERN_MAX_MEM = 1 << 21  # bytes of compiled program per pattern rule (RE2's own bound)
PATTERN_MAX_LENGTH = 500

# How a lexicon term matches (LexiconTerm.match): its inflections (the default for officers),
# the word exactly as written, or wildcards (`guarant*`, `*vest*`).
MATCH_KINDS = ("inflections", "exact", "wildcard")
# The shipped languages (settings.LANGUAGES) and their Snowball stemmers.
STEMMER_LANGUAGES = {"en": "english", "fr": "french", "de": "german", "es": "spanish"}


def language_name(code: str) -> str:
    """A language's name in the reader's language ("French", « anglais », „Deutsch“): Django's
    own translated names, not a table of English ones."""
    try:
        return translation.get_language_info(code)["name_translated"]
    except KeyError:
        return code


WILDCARD_MIN_LETTERS = 3
MAX_DISTANCE = 30
# What separates the words of a phrase: whitespace, hyphens and dashes, slashes, underscores.
_SEPARATOR_CHARS = r"\s_/\\\-\u2010-\u2015\u2212"
_SEPARATORS = re.compile(f"[{_SEPARATOR_CHARS}]+")
_WORD = re.compile(r"[^\W_]+")
# A Latin letter three or more times in a row (after normalisation, so accented and look-alike
# letters count), as one RE2 DFA: Python's re with a back-reference takes a tenth of a
# millisecond over a long post.
_REPEATED_LATIN = re2.compile("|".join(f"{c}{{3,}}" for c in "abcdefghijklmnopqrstuvwxyz"))
_REPEAT_MARGIN = 300  # characters read around a repeated letter (a phrase, an exception)
_stemmers = threading.local()


class PolicyError(ValueError):
    """A rule that cannot be compiled; the message is written for a compliance officer."""


@lru_cache(maxsize=8192)
def _normalise_char(char: str) -> str:
    """One non-ASCII character as the matcher sees it ('' for a format character)."""
    mapped = _CONFUSABLES.get(char)
    if mapped is not None:
        return mapped
    if char.isspace():
        return " "
    if unicodedata.category(char) == "Cf":
        return ""
    out = []
    for part in unicodedata.normalize("NFKD", char):
        if unicodedata.category(part) in ("Mn", "Me", "Cf"):
            continue
        for folded in part.casefold():
            folded = _LIGATURES.get(folded, folded)
            out.append(" " if folded.isspace() else _CONFUSABLES.get(folded, folded))
    return "".join(out)


class _NoPunctuation(dict):
    """A `str.translate` table filled on demand that deletes everything but letters, digits
    and whitespace."""

    def __missing__(self, code: int) -> int | None:
        char = chr(code)
        value = code if char.isalnum() or char.isspace() else None
        self[code] = value
        return value


_NO_PUNCTUATION = _NoPunctuation()


class _View:
    """A normalised reading of a text plus the map back to the original's positions.

    Segments (sorted by normalised start): `one_to_one` segments map position k of the
    normalised run to position k of the original run; other segments are one original
    character that became several (ß -> ss): every position maps to the whole character.
    A derived view (`parent` set) maps to its parent's positions, which map onward.
    """

    __slots__ = ("_one_to_one", "_origin_ends", "_origins", "_parent", "_starts", "text")

    def __init__(self, text: str, parent: _View | None = None):
        self.text = text
        self._starts: list[int] = []
        self._origins: list[int] = []
        self._origin_ends: list[int] = []
        self._one_to_one: list[bool] = []
        self._parent = parent

    def _add(self, norm_start: int, origin: int, origin_end: int, one_to_one: bool) -> None:
        if (
            one_to_one
            and self._one_to_one
            and self._one_to_one[-1]
            and self._origin_ends[-1] == origin
            and self._starts[-1] + (self._origin_ends[-1] - self._origins[-1]) == norm_start
        ):
            self._origin_ends[-1] = origin_end
            return
        self._starts.append(norm_start)
        self._origins.append(origin)
        self._origin_ends.append(origin_end)
        self._one_to_one.append(one_to_one)

    def _point(self, position: int, *, end: bool) -> int:
        if not self._starts:  # identity
            return position + 1 if end else position
        i = bisect_right(self._starts, position) - 1
        if self._one_to_one[i]:
            offset = self._origins[i] + position - self._starts[i]
            return offset + 1 if end else offset
        return self._origin_ends[i] if end else self._origins[i]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of normalised [start, end) (end > start)."""
        first, last = self._point(start, end=False), self._point(end - 1, end=True)
        if self._parent is not None:
            return self._parent.span(first, last)
        return first, last


def _derive(view: _View, gaps: list[tuple[int, int]], replacement: str) -> _View:
    """`view` with every gap replaced by `replacement` ("" or one character), mapped back."""
    text = view.text
    derived = _View("", parent=view)
    parts = []
    length = 0
    position = 0
    for start, end in gaps:
        parts.append(text[position:start])
        derived._add(length, position, start, True)
        length += start - position
        if replacement:
            parts.append(replacement)
            derived._add(length, start, start + 1, True)
            length += 1
        position = end
    parts.append(text[position:])
    derived._add(length, position, len(text), True)
    derived.text = "".join(parts)
    return derived


def normalised_view(text: str) -> _View:
    """Reading 1: NFKD, no marks, case-folded, no format characters, look-alikes mapped,
    every run of whitespace one space."""
    if text.isascii():
        view = _View(text.lower().translate(_ASCII_SPACES))
    else:
        parts: list[str] = []
        view = _View("")
        length = 0
        position = 0
        for run in _NON_ASCII_RUN.finditer(text):
            if run.start() > position:
                chunk = text[position : run.start()].lower().translate(_ASCII_SPACES)
                parts.append(chunk)
                view._add(length, position, run.start(), True)
                length += len(chunk)
            for offset, char in enumerate(run.group(), start=run.start()):
                normal = _normalise_char(char)
                if not normal:
                    continue
                parts.append(normal)
                view._add(length, offset, offset + 1, len(normal) == 1)
                length += len(normal)
            position = run.end()
        if position < len(text):
            parts.append(text[position:].lower().translate(_ASCII_SPACES))
            view._add(length, position, len(text), True)
        view.text = "".join(parts)
    if "  " in view.text:
        view = _derive(view, [m.span() for m in _SPACE_RUN.finditer(view.text)], " ")
    return view


def squeezed(text: str) -> str:
    """Reading 2: reading 1 with every character that is not a letter, digit or whitespace
    deleted ("g.u.a.r" -> "guar", "insider-trading" -> "insidertrading")."""
    return text.translate(_NO_PUNCTUATION)


_BLOCK = 256


def _kept_counts(text: str) -> list[int]:
    """How many characters `squeezed` keeps before each block of `_BLOCK` characters."""
    counts = [0]
    for start in range(0, len(text), _BLOCK):
        counts.append(counts[-1] + len(text[start : start + _BLOCK].translate(_NO_PUNCTUATION)))
    return counts


def _kept_index(text: str, kept: int, counts: list[int]) -> int:
    """The index in `text` of its `kept`-th character that `squeezed` keeps (0-based): the
    block from `counts`, then a binary search inside it. Only called for hits."""
    block = bisect_right(counts, kept) - 1
    base = block * _BLOCK
    need = kept - counts[block]
    low, high = base + need, min(base + _BLOCK, len(text)) - 1
    while low < high:
        middle = (low + high) // 2
        if len(text[base : middle + 1].translate(_NO_PUNCTUATION)) > need:
            high = middle
        else:
            low = middle + 1
    return low


def term_words(term: str) -> tuple[str, ...]:
    """The words a lexicon term matches, normalised as texts are (its identity for duplicates):
    whitespace, dashes, slashes and underscores separate words ("risk-free" is "risk free"),
    other punctuation inside a word is dropped ("AT&T" -> "att"); a * (wildcard) is kept."""
    words = []
    for part in _SEPARATORS.split(normalised_view(term).text):
        word = "".join(char for char in part if char.isalnum() or char == "*")
        if word.strip("*"):
            words.append(word)
    return tuple(words)


def normalise_domain(value: str) -> str:
    """A host name from what an officer typed ("https://www.Acme.com/x" -> "www.acme.com");
    raises PolicyError when it is not a domain name."""
    host = value.strip().lower()
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host)
    host = re.split(r"[/?#]", host, maxsplit=1)[0]
    host = host.rsplit("@", 1)[-1]
    host = re.sub(r":\d+$", "", host).rstrip(".")
    if host.startswith("*."):
        host = host[2:]
    labels = host.split(".")
    valid = (
        len(host) <= 253
        and len(labels) >= 2
        and all(re.fullmatch(r"[^\W_](?:[\w-]{0,61}[^\W_])?", label) for label in labels)
    )
    if not valid:
        raise PolicyError(_("“%(value)s” is not a domain name; write it like example.com.") % {"value": value.strip()})
    return host


def compile_pattern(pattern: str):
    """The RE2 program for a pattern rule, or PolicyError saying in plain words what is wrong."""
    if not pattern or not pattern.strip():
        raise PolicyError(_("Write a pattern."))
    if len(pattern) > PATTERN_MAX_LENGTH:
        raise PolicyError(_("A pattern can have at most %(count)s characters.") % {"count": PATTERN_MAX_LENGTH})
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = False
    options.max_mem = _PATTERN_MAX_MEM
    try:
        program = re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PolicyError(_pattern_words(pattern, reason)) from None
    if program.search("") is not None:
        raise PolicyError(_("This pattern matches empty text, so it would flag every post; make it match something."))
    return program


def _pattern_words(pattern: str, reason: str) -> str:
    if re.search(r"\\[1-9]|\\g<|\\k<|\(\?P=", pattern):
        return _(
            "Back-references (like \\1) are not allowed: they can make matching take exponential time. "
            "Repeat the part you mean instead."
        )
    if re.search(r"\(\?<?[=!]", pattern):
        return _(
            "Look-ahead and look-behind ((?=...), (?!...), (?<=...), (?<!...)) are not allowed: they can make "
            "matching take exponential time. Use \\b for word edges."
        )
    if "repetition" in reason or "pattern too large" in reason or "DFA out of memory" in reason:
        return _("This pattern is too large to run safely (its repetitions multiply); use smaller counts.")
    if "missing )" in reason or "unexpected )" in reason or "missing ]" in reason:
        return _("The brackets in this pattern do not balance (%(reason)s).") % {"reason": reason}
    return _("This is not a valid pattern: %(reason)s.") % {"reason": reason}


@dataclass(frozen=True)
class TermRule:
    """A lexicon term as the officer wrote it. `match`: "inflections" (every form of each
    word, by the `language`'s stemmer), "exact" (the words as written) or "wildcard" (a * at
    the start or end of a word stands for any letters). `near` (a word or phrase, matched the
    same way) makes it a proximity rule: the term counts only within `distance` words of it,
    either side. `exceptions` are phrases that, where they cover the term, allow it."""

    term: str
    action: str
    note: str = ""
    match: str = "exact"
    language: str = "en"
    near: str = ""
    distance: int = 5
    exceptions: tuple[str, ...] = ()
    applies_to: str = ""  # the posts' language it screens; "" = every language


def stem(word: str, language: str) -> str:
    """`word` (normalised) reduced to its stem by the language's Snowball stemmer
    (PyStemmer, C). One stemmer per thread: PyStemmer's objects are not thread-safe."""
    stemmers = getattr(_stemmers, "by_language", None)
    if stemmers is None:
        stemmers = _stemmers.by_language = {}
    stemmer = stemmers.get(language)
    if stemmer is None:
        stemmer = stemmers[language] = Stemmer.Stemmer(STEMMER_LANGUAGES.get(language, "english"))
    return stemmer.stemWord(word)


@dataclass(frozen=True)
class _Word:
    """How one word of a term matches a word of the text."""

    kind: str  # exact | stem | prefix | suffix | contains
    text: str  # the literal to compare (the stem for "stem", the letters around * for wildcards)
    written: str  # the word as normalised from the officer's term


@dataclass(frozen=True)
class _Term:
    """One compiled way a lexicon rule can match: its words, or (`joined`) the words of a
    phrase written as one ("riskfree")."""

    rule: TermRule
    words: tuple[_Word, ...]
    near: tuple[_Word, ...] = ()
    exceptions: tuple[tuple[str, object, int], ...] = ()  # (as written, Python re, reach in characters)
    joined: bool = False

    @property
    def left_open(self) -> bool:
        return self.words[0].kind in ("suffix", "contains")


def _word_specs(words: tuple[str, ...], match: str, language: str) -> tuple[_Word, ...]:
    specs = []
    for word in words:
        if "*" in word:
            core = word.strip("*")
            if "*" in core or not core:
                raise PolicyError(_("A * goes at the start or at the end of a word (guarant*, *vest*), not inside it."))
            if len(core) < WILDCARD_MIN_LETTERS:
                raise PolicyError(
                    _("“%(word)s” would match too many words: write at least %(count)s letters besides the *.")
                    % {"word": word, "count": WILDCARD_MIN_LETTERS}
                )
            kind = {(False, True): "prefix", (True, False): "suffix", (True, True): "contains"}[
                (word.startswith("*"), word.endswith("*"))
            ]
            specs.append(_Word(kind, core, word))
        elif match == "inflections":
            specs.append(_Word("stem", stem(word, language), word))
        else:
            specs.append(_Word("exact", word, word))
    return tuple(specs)


def _anchor(spec: _Word) -> str:
    """What the automaton looks for: the letters every matching word starts with (contains,
    for a word open on the left)."""
    if spec.kind == "stem":
        size = 0
        for written, stemmed in zip(spec.written, spec.text, strict=False):
            if written != stemmed:
                break
            size += 1
        return spec.written[:size] or spec.written
    return spec.text


def _exception_pattern(phrase: str) -> tuple[str, object, int]:
    """An allowed phrase as a small Python regex: its words whole, any separator between
    them, any punctuation between its letters (so it reads the same in both readings)."""
    words = [word.replace("*", "") for word in term_words(phrase)]
    if not words:
        raise PolicyError(_("The exception “%(phrase)s” has no letter or digit.") % {"phrase": phrase})
    between = r"[^\w\s]*"
    body = f"[{_SEPARATOR_CHARS}]+".join(between.join(re.escape(char) for char in word) for word in words)
    return phrase, re.compile(rf"(?<![^\W_]){body}(?![^\W_])"), 3 * len(phrase) + 8


def compile_term(rule: TermRule) -> tuple[_Term, ...]:
    """The compiled forms of one lexicon rule; PolicyError in plain words when it cannot work
    (a * inside a word, a wildcard with too few letters, an unknown language or kind, a
    distance out of range, an empty exception)."""
    if rule.match not in MATCH_KINDS:
        raise PolicyError(_("Choose how the term matches: its inflections, exactly, or with wildcards."))
    if rule.language not in STEMMER_LANGUAGES:
        raise PolicyError(
            _("Choose a language among %(languages)s.")
            % {"languages": ", ".join(map(language_name, STEMMER_LANGUAGES))}
        )
    words = term_words(rule.term)
    if not words:
        raise PolicyError(_("“%(term)s” has no letter or digit, so it cannot be matched.") % {"term": rule.term})
    match = rule.match
    specs = _word_specs(words, match, rule.language)
    near: tuple[_Word, ...] = ()
    if rule.near:
        near_words = term_words(rule.near)
        if not near_words:
            raise PolicyError(_("“%(term)s” has no letter or digit, so it cannot be matched.") % {"term": rule.near})
        if not 1 <= rule.distance <= MAX_DISTANCE:
            raise PolicyError(_("The distance is a number of words between 1 and %(max)s.") % {"max": MAX_DISTANCE})
        near = _word_specs(near_words, match, rule.language)
    exceptions = tuple(_exception_pattern(phrase) for phrase in rule.exceptions if phrase.strip())
    forms = [_Term(rule, specs, near, exceptions)]
    if len(words) > 1 and all(len(word) >= 3 and "*" not in word for word in words):
        joined = "".join(words)  # "risk free" also as "riskfree"
        spec = _Word("stem", stem(joined, rule.language), joined) if match == "inflections" else None
        forms.append(_Term(rule, (spec or _Word("exact", joined, joined),), near, exceptions, joined=True))
    return tuple(forms)


@dataclass(frozen=True)
class PatternRule:
    name: str
    pattern: str
    action: str
    note: str = ""


@dataclass(frozen=True)
class _CompiledPattern:
    rule: PatternRule
    program: object


@dataclass(frozen=True)
class CompiledPolicy:
    """Everything `screen_text` needs, prepared once per policy version."""

    automaton: object = None  # ahocorasick.Automaton: anchor -> (its length, the _Terms it starts), None without terms
    prefilter: object = None  # RE2 alternation of the same anchors: "is any term in there at all?"
    patterns: tuple[_CompiledPattern, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    restrict_link_domains: bool = False
    link_domain_action: str = "review"
    disclosure: str = ""
    disclosure_mode: str = "off"
    tracked_link_prefix: str = ""
    term_count: int = 0


def _prefilter(keys) -> object | None:
    """One RE2 program matching any key as a plain substring: its DFA answers "no term
    here" for a whole post in microseconds, so the exact (overlapping, whole-word) scan by
    the automaton only runs on texts that hold a candidate. None if RE2 will not build it."""
    options = re2.Options()
    options.log_errors = False
    options.max_mem = 64 << 20
    try:
        return re2.compile("|".join(re2.escape(key) for key in sorted(keys, key=len, reverse=True)), options)
    except re2.error:
        return None


def _as_rule(value, cls):
    if isinstance(value, cls):
        return value
    if isinstance(value, dict):
        return cls(**value)
    return cls(*value)


def compile_policy(
    *,
    terms: Iterable = (),
    patterns: Iterable = (),
    allowed_domains: Iterable[str] = (),
    restrict_link_domains: bool = False,
    link_domain_action: str = "review",
    disclosure: str = "",
    disclosure_mode: str = "off",
    tracked_link_prefix: str = "",
) -> CompiledPolicy:
    """Prepare a policy for screening. `terms` are TermRule (or (term, action, note) tuples or
    dicts), `patterns` PatternRule likewise. Raises PolicyError for a pattern RE2 refuses
    (services validate before saving, so a stored policy compiles)."""
    by_anchor: dict[str, list[_Term]] = {}
    term_count = 0
    for raw in terms:
        rule = _as_rule(raw, TermRule)
        if not term_words(rule.term):
            continue
        if isinstance(rule.exceptions, list):
            rule = replace(rule, exceptions=tuple(rule.exceptions))
        term_count += 1
        for form in compile_term(rule):
            by_anchor.setdefault(_anchor(form.words[0]), []).append(form)
    automaton = prefilter = None
    if by_anchor:
        automaton = ahocorasick.Automaton()
        for anchor, forms in by_anchor.items():
            forms.sort(key=lambda f: SEVERITY.get(f.rule.action, 9))
            automaton.add_word(anchor, (len(anchor), tuple(forms)))
        automaton.make_automaton()
        prefilter = _prefilter(by_anchor)
    compiled_patterns = tuple(
        _CompiledPattern(rule, compile_pattern(rule.pattern)) for rule in (_as_rule(p, PatternRule) for p in patterns)
    )
    return CompiledPolicy(
        automaton=automaton,
        prefilter=prefilter,
        patterns=compiled_patterns,
        allowed_domains=tuple(sorted({d.lower().rstrip(".") for d in allowed_domains})),
        restrict_link_domains=restrict_link_domains,
        link_domain_action=link_domain_action,
        disclosure=disclosure.strip(),
        disclosure_mode=disclosure_mode,
        tracked_link_prefix=tracked_link_prefix,
        term_count=term_count,
    )


# --- screening ----------------------------------------------------------------------------


# A term's message by its action, translated when used (only the one that applies).
_TERM_MESSAGES = {
    "block": gettext_noop("“%(term)s” is not allowed in posts."),
    "review": gettext_noop("“%(term)s” needs a compliance review."),
    "warn": gettext_noop("Think twice about “%(term)s”."),
}
_TERM_FOUND = gettext_noop("“%(term)s” was found.")


def _term_message(rule: TermRule) -> str:
    if rule.note:
        return _("“%(term)s”: %(note)s") % {"term": rule.term, "note": rule.note}
    return _(_TERM_MESSAGES.get(rule.action, _TERM_FOUND)) % {"term": rule.term}


def _word_fits(spec: _Word, word: str, language: str) -> bool:
    kind = spec.kind
    if kind == "exact":
        return word == spec.text
    if kind == "stem":
        return word == spec.written or stem(word, language) == spec.text
    if kind == "prefix":
        return word.startswith(spec.text)
    if kind == "suffix":
        return word.endswith(spec.text)
    return spec.text in word


def _phrase_at(text: str, start: int, words: tuple[_Word, ...], language: str) -> list[tuple[int, int]] | None:
    """The spans of a term's words read from `start` (the first letter of a word), or None:
    each word whole, separators (whitespace, dashes, slashes, underscores) between them."""
    spans = []
    position = start
    for index, spec in enumerate(words):
        if index:
            gap = _SEPARATORS.match(text, position)
            if gap is None:
                return None
            position = gap.end()
        word = _WORD.match(text, position)
        if word is None or not _word_fits(spec, word.group(), language):
            return None
        spans.append(word.span())
        position = word.end()
    return spans


def _partner(text: str, start: int, end: int, form: _Term) -> list[tuple[int, int]] | None:
    """The proximity partner's spans among the `distance` words before or after [start, end)."""
    reach = form.rule.distance
    window = reach * 40
    first, language = form.near[0], form.rule.language
    before = list(_WORD.finditer(text, max(0, start - window), start))[-reach:]
    after = list(_WORD.finditer(text, end, end + window))[:reach]
    for word in (*reversed(before), *after):
        if _word_fits(first, word.group(), language):  # the cheap test before reading the phrase
            spans = _phrase_at(text, word.start(), form.near, language)
            if spans is not None:
                return spans
    return None


def _allowed_by(text: str, start: int, end: int, form: _Term) -> str:
    """The first exception of the rule that covers [start, end) in `text`, '' if none."""
    for written, pattern, reach in form.exceptions:
        for match in pattern.finditer(text, max(0, start - reach), min(len(text), end + reach)):
            if match.start() <= start and end <= match.end():
                return written
    return ""


@dataclass(slots=True)
class _Hit:
    """A lexicon match in one reading: its whole span (with a proximity partner), the spans of
    the term's own words and of the partner's, and the exception that allows it ('' if none)."""

    start: int
    end: int
    form: _Term
    words: tuple[tuple[int, int], ...]
    partner: tuple[tuple[int, int], ...] = ()
    allowed_by: str = ""


def _term_hits(text: str, compiled: CompiledPolicy, windows: list[tuple[int, int]] | None = None) -> list[_Hit]:
    """Every lexicon match in one normalised reading. The automaton finds the anchors (the
    letters each term's first word starts with) in one pass; only a hit is read further:
    the word stemmed and compared, the rest of a phrase, the proximity partner, the exceptions.
    `windows`: read only these [start, end) parts (the partner and exceptions still see all)."""
    hits: list[_Hit] = []
    if windows is None:
        begin = 0
        if compiled.prefilter is not None:
            candidate = compiled.prefilter.search(text)
            if candidate is None:
                return hits
            begin = candidate.start()  # no anchor starts before the leftmost candidate
        windows = [(begin, len(text))]
    found = (item for begin, end in windows for item in compiled.automaton.iter(text, begin, end))
    for last, (length, forms) in found:
        at = last - length + 1
        inside = at > 0 and text[at - 1].isalnum()
        for form in forms:
            start = at
            if inside:
                if not form.left_open:
                    continue
                while start and text[start - 1].isalnum():
                    start -= 1
            spans = _phrase_at(text, start, form.words, form.rule.language)
            if spans is None:
                continue
            first, end = spans[0][0], spans[-1][1]
            partner: list[tuple[int, int]] = []
            if form.near:
                partner = _partner(text, first, end, form)
                if partner is None:
                    continue
            allowed = _allowed_by(text, first, end, form) if form.exceptions else ""
            every = spans + partner
            hits.append(
                _Hit(min(s for s, _ in every), max(e for _, e in every), form, tuple(spans), tuple(partner), allowed)
            )
    return hits


@dataclass(slots=True)  # not frozen: a frozen dataclass costs microseconds per match to build
class LexiconMatch:
    """A lexicon rule's match in the ORIGINAL text, with why: `reading` says how the text was
    read ("" as written, "squeezed" without the punctuation between letters, "repeated" with
    letters written three or more times read once or twice), `words` and `partner` are the
    original spans of the term's words and of its proximity partner, `allowed_by` the
    exception that allows it ('' when it is a finding)."""

    rule: TermRule
    start: int
    end: int
    words: tuple[tuple[int, int], ...]
    partner: tuple[tuple[int, int], ...]
    allowed_by: str
    reading: str
    joined: bool = False
    read_as: tuple[str, ...] = field(default=(), compare=False)


def _windows(runs: list[tuple[int, int]], keep: int, size: int) -> list[tuple[int, int]]:
    """The parts of a repeated-letter reading around its shortened runs (the rest reads as
    the plain reading did), merged, in that reading's positions."""
    windows: list[tuple[int, int]] = []
    removed = 0
    for start, end in runs:
        at = start - removed
        low, high = max(0, at - _REPEAT_MARGIN), min(size, at + keep + _REPEAT_MARGIN)
        if windows and low <= windows[-1][1]:
            windows[-1] = (windows[-1][0], high)
        else:
            windows.append((low, high))
        removed += end - start - keep
    return windows


def lexicon_matches(
    text: str, compiled: CompiledPolicy, view: _View | None = None, *, detail: bool = True
) -> list[LexiconMatch]:
    """Every lexicon match in `text`, exceptions included (marked), in the three readings:
    as normalised; squeezed (punctuation between letters removed); and, only when the text
    has a letter written three or more times in a row, with each such run read as one
    letter and as two ("guaaarantee", "guaranteeed"). A word normally never has three
    identical letters in a row, so this reading flags nothing the plain one would not.
    Without `detail` (screening), `words`, `partner` and `read_as` stay empty: mapping each
    word back to the original is only needed to explain a match."""
    if compiled.automaton is None:
        return []
    view = view or normalised_view(text)
    out: list[LexiconMatch] = []

    def collect(reading_text: str, to_original, reading: str, windows=None) -> None:
        for hit in _term_hits(reading_text, compiled, windows):
            start, end = to_original(hit.start, hit.end)
            out.append(
                LexiconMatch(
                    rule=hit.form.rule,
                    start=start,
                    end=end,
                    words=tuple(to_original(s, e) for s, e in hit.words) if detail else (),
                    partner=tuple(to_original(s, e) for s, e in hit.partner) if detail else (),
                    allowed_by=hit.allowed_by,
                    reading=reading,
                    joined=hit.form.joined,
                    read_as=tuple(reading_text[s:e] for s, e in (*hit.words, *hit.partner)) if detail else (),
                )
            )

    collect(view.text, view.span, "")
    dense = squeezed(view.text)
    if dense != view.text:
        counts: list[int] = []

        def dense_span(start: int, end: int) -> tuple[int, int]:
            if not counts:
                counts.extend(_kept_counts(view.text))
            first = _kept_index(view.text, start, counts)
            return view.span(first, _kept_index(view.text, end - 1, counts) + 1)

        collect(dense, dense_span, "squeezed")
    runs = [m.span() for m in _REPEATED_LATIN.finditer(view.text)]
    if runs:
        for keep in (1, 2):
            derived = _derive(view, [(start + keep, end) for start, end in runs], "")
            collect(derived.text, derived.span, "repeated", _windows(runs, keep, len(derived.text)))
    return out


def explain_match(match: LexiconMatch, text: str) -> list[str]:
    """Why a lexicon rule matched, in sentences for the officer's "test a text" box: each
    word as written, as an inflection of the term's word or as fitting its wildcard; how the
    text was read; the proximity partner; the exception that allows it."""
    rule = match.rule
    forms = compile_term(replace(rule, exceptions=()))
    form = forms[-1] if match.joined else forms[0]
    reasons = []
    for spec, read, (start, end) in zip(form.words, match.read_as, match.words, strict=False):
        written = text[start:end]
        if match.joined:
            reasons.append(
                _("“%(written)s” is “%(term)s” written as one word") % {"written": written, "term": rule.term}
            )
        elif spec.kind == "stem" and read != spec.written:
            language = language_name(rule.language)
            reasons.append(
                _("“%(written)s” matched as an inflection of “%(word)s” (%(language)s)")
                % {"written": written, "word": spec.written, "language": language}
            )
        elif spec.kind in ("prefix", "suffix", "contains"):
            reasons.append(_("“%(written)s” fits the wildcard “%(word)s”") % {"written": written, "word": spec.written})
        else:
            reasons.append(_("“%(written)s” matched as written") % {"written": written})
    if match.reading == "squeezed":
        reasons.append(_("read without the punctuation between its letters"))
    elif match.reading == "repeated":
        reasons.append(_("read with letters written three or more times in a row written once or twice"))
    if match.partner:
        partner = text[match.partner[0][0] : match.partner[-1][1]]
        reasons.append(
            _("within %(distance)s words of “%(near)s” (“%(partner)s”)")
            % {"distance": rule.distance, "near": rule.near, "partner": partner}
        )
    if match.allowed_by:
        reasons.append(_("allowed by the exception “%(phrase)s”") % {"phrase": match.allowed_by})
    return reasons


def distinct_matches(matches: Iterable[LexiconMatch]) -> list[LexiconMatch]:
    """One match per rule and span (the first reading that found it), in text order."""
    seen: dict[tuple[str, int, int], LexiconMatch] = {}
    for match in matches:
        seen.setdefault((match.rule.term, match.start, match.end), match)
    return sorted(seen.values(), key=lambda m: (m.start, m.end, m.rule.term))


def applies(rule: TermRule, language: str) -> bool:
    """Whether a term screens a post in `language` ("" = not known: every term does)."""
    return not language or not rule.applies_to or rule.applies_to == language


def _lexicon(text: str, view: _View, compiled: CompiledPolicy, found: dict, tracked, language: str = "") -> None:
    """The findings of the lexicon: one per rule and span; a span inside a longer one of the
    same rule (the plain reading's "guarantee" in the squeezed reading's "guarantee's") is
    dropped. Only the terms that apply to a post in `language`."""
    spans: dict[TermRule, set[tuple[int, int]]] = {}
    for match in lexicon_matches(text, compiled, view, detail=False):
        if match.allowed_by or not applies(match.rule, language):
            continue
        if tracked and any(s <= match.start and match.end <= e for s, e in tracked):
            continue  # the product's own link is not the employee's words
        spans.setdefault(match.rule, set()).add((match.start, match.end))
    for rule, found_spans in spans.items():
        for span in found_spans:
            if any(s <= span[0] and span[1] <= e and (s, e) != span for s, e in found_spans):
                continue
            key = (f"lexicon:{rule.term}", span)
            if key not in found:
                found[key] = (rule.action, _term_message(rule))


def _find_urls(text: str) -> list[tuple[int, int]]:
    """`networks.text.find_urls`, run only on the words around "://" and "www." (it is a
    slow scan over a whole long text)."""
    windows = set()
    for needle, before in (("://", 8), ("www.", 1)):
        haystack = text if needle == "://" else text.lower()
        at = haystack.find(needle)
        while at != -1:
            space = _WHITESPACE.search(text, at)
            end = space.start() if space else len(text)
            windows.add((max(0, at - before), end))
            at = haystack.find(needle, end)
    spans = set()
    for start, end in windows:
        spans.update((start + s, start + e) for s, e in find_urls(text[start:end]))
    return sorted(spans)


def _host(url: str) -> str:
    rest = re.sub(r"^https?://", "", url, flags=re.IGNORECASE)
    host = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    return re.sub(r":\d+$", "", host).lower().rstrip(".")


def _tracked_spans(text: str, urls: list[tuple[int, int]], prefix: str) -> list[tuple[int, int]]:
    if not prefix:
        return []
    return [(s, e) for s, e in urls if text[s:e].startswith(prefix)]


def _allowed(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def screen_text(text: str, compiled: CompiledPolicy, network: str = "", *, language: str = "") -> list[Finding]:
    """Every finding in `text` under `compiled`, most severe first, then by position.

    Spans are character offsets into `text` itself. `network` only words the messages.
    `language` is the post's: lexicon terms for another language do not apply ("": all do).
    A required disclosure ("require" mode) that is missing is a blocking finding; in
    "append" mode call `apply_disclosure` first (it reports a disclosure that does not fit).
    """
    found: dict[tuple[str, tuple[int, int]], tuple[str, str]] = {}
    urls = _find_urls(text)
    tracked = _tracked_spans(text, urls, compiled.tracked_link_prefix)
    view = normalised_view(text)
    _lexicon(text, view, compiled, found, tracked, language)
    for pattern in compiled.patterns:
        for match in pattern.program.finditer(view.text):
            if match.end() > match.start():
                rule = pattern.rule
                found.setdefault(
                    (f"pattern:{rule.name}", view.span(match.start(), match.end())),
                    (
                        rule.action,
                        _("%(name)s: %(note)s") % {"name": rule.name, "note": rule.note}
                        if rule.note
                        else _("Matches the rule “%(name)s”.") % {"name": rule.name},
                    ),
                )
    if compiled.restrict_link_domains:
        for start, end in urls:
            if (start, end) in tracked:
                continue
            host = _host(text[start:end])
            if not _allowed(host, compiled.allowed_domains):
                found.setdefault(
                    ("link_domain", (start, end)),
                    (
                        compiled.link_domain_action,
                        _("Links to %(domain)s are not on the list of allowed sites.") % {"domain": host},
                    ),
                )
    if (
        compiled.disclosure_mode == "require"
        and compiled.disclosure
        and not has_disclosure(text, compiled.disclosure, view)
    ):
        found[("disclosure", (len(text), len(text)))] = (
            "block",
            _("Posts must include the disclosure “%(disclosure)s”; add it to your words.")
            % {"disclosure": compiled.disclosure},
        )
    findings = [
        Finding(rule=rule, action=action, message=message, start=span[0], end=span[1])
        for (rule, span), (action, message) in found.items()
    ]
    findings.sort(key=lambda f: (SEVERITY.get(f.action, 9), f.start, f.end, f.rule))
    return findings


def has_disclosure(text: str, disclosure: str, view: _View | None = None) -> bool:
    """True when `text` contains `disclosure` (normalised, not as part of a longer word).
    `view` is `text`'s normalised view when the caller has it already."""
    needle = normalised_view(disclosure).text.strip()
    if not needle:
        return True
    haystack = (view or normalised_view(text)).text
    at = haystack.find(needle)
    while at != -1:
        before = haystack[at - 1] if at else " "
        after = haystack[at + len(needle)] if at + len(needle) < len(haystack) else " "
        if not (needle[0].isalnum() and before.isalnum()) and not (needle[-1].isalnum() and after.isalnum()):
            return True
        at = haystack.find(needle, at + 1)
    return False


DISCLOSURE_SEPARATOR = " "


def apply_disclosure(text: str, network: str, disclosure: str, mode: str) -> tuple[str, Finding | None]:
    """(text to publish, finding or None). In "append" mode a missing disclosure is added
    after the employee's words (one space; before a link that ends the text, so the
    tracked link stays last) when the result fits `network`'s limit (`networks.text.measure`);
    when it does not fit the text is returned with the disclosure all the same (too long,
    as it would be posted) and a blocking finding that says how many characters to cut.
    Other modes return the text unchanged."""
    disclosure = disclosure.strip()
    if mode != "append" or not disclosure or has_disclosure(text, disclosure):
        return text, None
    stripped = text.rstrip()
    urls = find_urls(stripped)
    if urls and urls[-1][1] == len(stripped):  # keep a closing link last: words, disclosure, link
        words = stripped[: urls[-1][0]].rstrip()
        at = len(words)
        candidate = (
            (words + DISCLOSURE_SEPARATOR if words else "") + disclosure + (stripped[at:] if words else " " + stripped)
        )
    else:
        at = len(stripped)
        candidate = stripped + DISCLOSURE_SEPARATOR + disclosure
    measured = measure(network, candidate)
    if measured.fits:
        return candidate, None
    label = NETWORK_LABELS.get(network, network)
    over = -measured.remaining
    # The text as it would go out, disclosure included: what the composer counts and the
    # submit refuses as too long (the same number everywhere). It is never cut.
    return candidate, Finding(
        rule="disclosure",
        action="block",
        message=ngettext(
            "The disclosure “%(disclosure)s” does not fit: %(network)s allows %(limit)s characters and the "
            "post with it would have %(length)s. Shorten your words by %(count)s character.",
            "The disclosure “%(disclosure)s” does not fit: %(network)s allows %(limit)s characters and the "
            "post with it would have %(length)s. Shorten your words by %(count)s characters.",
            over,
        )
        % {
            "disclosure": disclosure,
            "network": label,
            "limit": measured.limit,
            "length": measured.length,
            "count": over,
        },
        start=at,
        end=at,
    )


def worst_action(findings: Iterable[Finding]) -> str:
    """The most severe action among `findings`, '' when there are none."""
    actions = {f.action for f in findings}
    for action in ACTIONS:
        if action in actions:
            return action
    return ""
