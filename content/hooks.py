"""The seam between sharing and screening (DESIGN.md: lower layers call hooks that higher
layers register at startup).

`compliance` registers its screening in its AppConfig.ready(); until it does, nothing is
found and no review is needed, so shares are approved at once. Screening's two hooks:

* `screen(...)`: the decision. Called from `content.services.sharing` at submit and edit,
  and by the composer's live check (nothing saved then).
* `screened(share=..., result=...)`: after a submitted share was routed (approved, in
  review or rejected), inside the same transaction: compliance keeps the findings with
  the version and opens the review task.
* `disclosure_for(organization=...)`: the policy's disclosure as `screen` appends it, for
  counting texts that are not being screened (the marketer's suggestions).

And one for analytics (registered in its AppConfig.ready(); nothing happens until it does):

* `delivery_posted(delivery=...)`: a delivery just became posted on its network (published,
  or posted with its id unknown). Called by `content.lifecycle.move_delivery`, the one place
  a delivery's status changes, inside the transaction: analytics refreshes the author's
  stats once it commits (issue 16, item 6: "My stats" shows a post as soon as it is live).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Finding:
    rule: str
    action: str  # "block" | "review" | "warn"
    message: str
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class ScreeningResult:
    """Per delivery text: findings; overall: does a human need to look, is it blocked."""

    findings: dict[str, list[Finding]] = field(default_factory=dict)  # network -> findings
    needs_review: bool = False
    blocked: bool = False
    texts: dict[str, str] = field(default_factory=dict)  # network -> final text (e.g. disclosure added)
    # The author's review mode ("all" | "findings" | "none"): the lifecycle sends a later
    # version to a human unless it is "none" (content.lifecycle.needs_human).
    review_mode: str = "none"


def _no_screening(*, organization, author, item, texts: dict[str, str], unchanged_suggestion: bool) -> ScreeningResult:
    return ScreeningResult(texts=dict(texts))


_screen: Callable[..., ScreeningResult] = _no_screening


def register_screening(function: Callable[..., ScreeningResult]) -> None:
    """Called once by compliance at startup."""
    global _screen
    _screen = function


def screen(
    *, organization, author, item, texts: dict[str, str], unchanged_suggestion: bool, language: str = ""
) -> ScreeningResult:
    """Screen the final text of every delivery (network -> text) under the org's policy;
    `language` is the words' language (its own lexicon terms apply besides the all-language ones)."""
    return _screen(
        organization=organization,
        author=author,
        item=item,
        texts=texts,
        unchanged_suggestion=unchanged_suggestion,
        language=language,
    )


def _as_typed(*, organization) -> Callable[[str, str], str]:
    return lambda network, text: text


_disclosed: Callable[..., Callable[[str, str], str]] = _as_typed


def register_disclosure(function: Callable[..., Callable[[str, str], str]]) -> None:
    """Called once by compliance at startup."""
    global _disclosed
    _disclosed = function


def disclosure_for(*, organization) -> Callable[[str, str], str]:
    """`apply(network, final_text) -> text as it goes out`: the organization's disclosure
    appended as `screen` appends it at submit, with the policy read once for any number of
    texts (the library editor counts every suggestion row with it)."""
    return _disclosed(organization=organization)


def _nothing_to_record(*, share, result: ScreeningResult) -> None:
    return None


_screened: Callable[..., None] = _nothing_to_record


def register_screened(function: Callable[..., None]) -> None:
    """Called once by compliance at startup."""
    global _screened
    _screened = function


def screened(*, share, result: ScreeningResult) -> None:
    """A share was screened and routed (its status says where); record it."""
    _screened(share=share, result=result)


def _nothing_to_count(*, delivery) -> None:
    return None


_delivery_posted: Callable[..., None] = _nothing_to_count


def register_delivery_posted(function: Callable[..., None]) -> None:
    """Called once by analytics at startup."""
    global _delivery_posted
    _delivery_posted = function


def delivery_posted(*, delivery) -> None:
    """A delivery is now on its network (the caller's transaction has not committed yet)."""
    _delivery_posted(delivery=delivery)
