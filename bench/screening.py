"""The screening engine at policy size, against a plain substring scan, in the same run.

    .venv/bin/python bench/screening.py

Compiles a policy of 5,000 lexicon terms as officers write them (`policy_terms`: half match
their inflections, a fifth exactly, a tenth wildcards, a tenth proximity rules, a tenth with
an allowed phrase; a fifth of them two-word phrases), three pattern rules, an allowed-domain
list and a required disclosure, then screens 3,000-character posts with
`compliance.engine.screen_text`:

* "findings": the post holds an inflected term ("guarantee"), its exception ("not
  guaranteed"), a repeated letter ("guaranteeed", so the repeated-letter reading runs), a
  hyphenated phrase ("risk-free"), a proximity rule ("promise" near "returns"), a wildcard
  ("*vest*"), an evaded block term ("i.n.s.i.d.e.r"), a percentage of returns, a link to a
  domain that is not allowed, and the tracked link;
* "clean": the same length and vocabulary with none of them;
* "non-ASCII": the findings post with accents, a zero-width space and Cyrillic look-alikes.

The baseline is the naive way to look for the same terms: `text.lower().find(term)` for
each of the 5,000 terms on the same text (no whole words, no normalisation, no spans).
Runs are interleaved and the medians compared. Pure Python, no query (Django is set up as the
other benches set it up: a finding's message is translated text). The bench exits 1 when a
case's median reaches the limit of 1 ms (LIMIT_US), so `make bench` fails on a slower engine.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TERMS = 5_000
TermSpec = None  # compliance.engine.TermRule, imported in main() after the path is set
POST_CHARS = 3_000
ROUNDS = 40
BATCH = 25
LIMIT_US = 1_000  # issue 19: under 1 ms per 3,000-character post with 5,000 terms; over it the bench fails
SITE = "https://go.acme.example"
_PROSE = (
    "our team is proud to announce the launch of a new product that helps customers save time and money "
    "we worked with partners across europe to build it and the results so far are great read the story "
    "thank you to everyone who made this happen the plant runs on solar power and employs local people"
)
VOCABULARY = _PROSE.split(" ")


KINDS = ("inflections", "exact", "wildcard", "near", "exceptions")


def policy_terms(rng: random.Random) -> list[TermSpec]:
    """5,000 terms as officers write them: half match their inflections, a fifth exactly, a
    tenth are wildcards (`abcde*`, some `*abcde*`), a tenth proximity rules, a tenth with an
    allowed phrase; a fifth of all are two-word phrases. The named ones are in the findings post."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    seen: set[str] = set()
    terms = [
        TermSpec("guarantee", "review", "Promises of returns need compliance review", "inflections", "en", "", 5,
                 ("not guaranteed",)),
        TermSpec("insider", "block", "", "exact"),
        TermSpec("risk free", "block", "", "inflections"),
        TermSpec("promise", "review", "", "inflections", "en", "return", 5),
        TermSpec("*vest*", "warn", "", "wildcard"),
    ]  # fmt: skip
    while len(terms) < TERMS:
        word = "".join(rng.choice(letters) for _ in range(rng.randint(5, 11)))
        if rng.random() < 0.2:
            word += " " + "".join(rng.choice(letters) for _ in range(rng.randint(4, 9)))
        if word in seen or word in VOCABULARY:
            continue
        seen.add(word)
        action = rng.choice(["block", "review", "warn"])
        kind = rng.choices(KINDS, weights=(5, 2, 1, 1, 1))[0]
        if kind == "wildcard":
            first, _, rest = word.partition(" ")
            star = f"*{first[:6]}*" if rng.random() < 0.2 else f"{first[:6]}*"
            terms.append(TermSpec(" ".join([star, rest]).strip(), action, "", "wildcard"))
        elif kind == "near":
            terms.append(TermSpec(word, action, "", "inflections", "en", rng.choice(VOCABULARY), 5))
        elif kind == "exceptions":
            terms.append(TermSpec(word, action, "", "inflections", "en", "", 5, (f"not {word}",)))
        else:
            terms.append(TermSpec(word, action, "", kind))
    return terms


def post(rng: random.Random, extra: str) -> str:
    words = []
    length = 0
    while length < POST_CHARS - len(extra) - 40:
        word = rng.choice(VOCABULARY)
        if rng.random() < 0.08:
            word += rng.choice([",", ".", "!"])
        words.append(word)
        length += len(word) + 1
    text = " ".join(words) + extra
    return (text + "\n\n" + SITE + "/r/AbCdEf12")[:POST_CHARS]


def timed(function, text) -> list[float]:
    out = []
    for _ in range(BATCH):
        start = time.perf_counter()
        function(text)
        out.append(time.perf_counter() - start)
    return out


def main() -> int:
    global TermSpec
    sys.path.insert(0, str(ROOT / "bench"))
    from _setup import setup_django

    setup_django()
    from compliance.engine import PatternRule, TermRule, compile_policy, screen_text

    TermSpec = TermRule
    rng = random.Random(11)
    terms = policy_terms(rng)
    started = time.perf_counter()
    compiled = compile_policy(
        terms=terms,
        patterns=[
            PatternRule("Promised returns", r"\b\d{1,3}(?:[.,]\d+)?\s?%\s+(?:returns?|yield|gains?)\b", "review"),
            PatternRule("Buy now", r"\bbuy (?:it )?now\b", "warn"),
            PatternRule("Ticker", r"\$[a-z]{1,5}\b", "review"),
        ],
        allowed_domains=["acme.example", "example.com"],
        restrict_link_domains=True,
        disclosure="#AcmeEmployee",
        disclosure_mode="require",
        tracked_link_prefix=SITE + "/r/",
    )
    compile_ms = (time.perf_counter() - started) * 1e3
    findings_post = post(
        rng,
        " we guarantee results, not guaranteed but guaranteeed, i.n.s.i.d.e.r tips, a risk-free promise of big "
        "returns, invest with 12% returns see https://evil.example/x #AcmeEmployee",
    )
    clean_post = post(rng, " #AcmeEmployee")
    unicode_post = findings_post.replace("results", "résults").replace("guarantee ", "gu\u200bаrаntee ")
    lowered_terms = [t.term.lower() for t in terms]

    def baseline(text: str) -> None:
        low = text.lower()
        for term in lowered_terms:
            low.find(term)

    cases = {
        "findings": lambda: screen_text(findings_post, compiled, "linkedin"),
        "clean": lambda: screen_text(clean_post, compiled, "linkedin"),
        "non-ASCII": lambda: screen_text(unicode_post, compiled, "linkedin"),
    }
    found = {name: len(case()) for name, case in cases.items()}
    times: dict[str, list[float]] = {name: [] for name in [*cases, "baseline"]}
    for _ in range(5):  # warm-up
        for case in cases.values():
            case()
    for round_number in range(ROUNDS):
        order = [*cases, "baseline"]
        for name in order if round_number % 2 == 0 else reversed(order):
            if name == "baseline":
                times[name].extend(timed(baseline, findings_post))
            else:
                times[name].extend(timed(lambda _text, c=cases[name]: c(), None))
    base = statistics.median(times["baseline"]) * 1e6
    print(
        f"policy: {TERMS} terms, 3 patterns, allowed domains, required disclosure; compiled in {compile_ms:.0f} ms; "
        f"posts of {len(findings_post)} characters"
    )
    over = []
    for name in cases:
        median = statistics.median(times[name]) * 1e6
        if median >= LIMIT_US:
            over.append(name)
        p95 = statistics.quantiles(times[name], n=20)[-1] * 1e6
        print(
            f"screen {name:<10} median {median:7.1f} us  p95 {p95:7.1f} us  ({found[name]} findings)  "
            f"ratio to baseline {median / base:5.3f}"
        )
    print(f"baseline   median {base:7.1f} us  (str.find of each of the {TERMS} terms in the lower-cased post)")
    if over:
        print(f"OVER THE LIMIT of {LIMIT_US} us: {', '.join(over)}")
        return 1
    print(f"every case under the limit of {LIMIT_US} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
