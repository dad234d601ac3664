"""One review: the share with its versions, findings highlighted, decisions, deliveries and
the word diffs against its suggestion and earlier versions (5 queries)."""

from __future__ import annotations

import difflib
import itertools
import re
from dataclasses import dataclass, field

from django.utils.translation import gettext

from accounts.models import Network
from compliance.models import Action, Decision, ReviewTask, ReviewTaskSupervisor, Screening
from content.models import Delivery, Share


@dataclass(frozen=True)
class Segment:
    """A run of text: in a diff `kind` is equal / insert / delete; in highlighted text,
    `findings` lists the findings covering it (empty: plain text)."""

    text: str
    kind: str = "equal"
    findings: tuple = ()

    @property
    def action(self) -> str:
        """The most severe action among the findings covering this run."""
        order = {Action.BLOCK: 3, Action.REVIEW: 2, Action.WARN: 1}
        return max((f.get("action", "") for f in self.findings), key=lambda a: order.get(a, 0), default="")

    @property
    def title(self) -> str:
        return "; ".join(f.get("message") or f.get("rule", "") for f in self.findings)


_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


def diff_words(old: str, new: str) -> list[Segment]:
    """Word-level differences from `old` to `new` (difflib), readable rather than minimal:
    a change is shown as everything removed, then everything added; a lone unchanged space or
    word between two changes joins them; a text rewritten almost entirely is shown
    as replaced whole."""
    a, b = _TOKENS.findall(old or ""), _TOKENS.findall(new or "")
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    if a and b and matcher.ratio() < 0.3:
        return [Segment(old, "delete"), Segment(new, "insert")]
    runs = [
        [op == "equal", "".join(a[i1:i2]), "".join(b[j1:j2]), i2 - i1] for op, i1, i2, j1, j2 in matcher.get_opcodes()
    ]
    merged: list[list] = []
    for index, (same, old_text, new_text, size) in enumerate(runs):
        between_changes = 0 < index < len(runs) - 1 and not runs[index - 1][0] and not runs[index + 1][0]
        if same and size <= 1 and between_changes:
            same = False
        if merged and not same and not merged[-1][0]:
            merged[-1][1] += old_text
            merged[-1][2] += new_text
        else:
            merged.append([same, old_text, new_text])
    out: list[Segment] = []
    for same, old_text, new_text in merged:
        if same:
            out.append(Segment(old_text, "equal"))
            continue
        if old_text:
            out.append(Segment(old_text, "delete"))
        if new_text:
            out.append(Segment(new_text, "insert"))
    return out


def highlight(text: str, findings: list[dict]) -> list[Segment]:
    """The text cut at every finding boundary; each run knows the findings covering it."""
    spans = [f for f in findings if 0 <= f.get("start", 0) < f.get("end", 0) <= len(text)]
    cuts = sorted({0, len(text), *(f["start"] for f in spans), *(f["end"] for f in spans)})
    out = []
    for start, end in itertools.pairwise(cuts):
        covering = tuple(f for f in spans if f["start"] <= start and end <= f["end"])
        out.append(Segment(text[start:end], findings=covering))
    return out


@dataclass
class NetworkFindings:
    network: str
    label: str
    text: str
    findings: list[dict]
    segments: list[Segment]


@dataclass
class Review:
    share: Share
    task: ReviewTask | None
    versions: list
    screening: Screening | None
    decisions: list[Decision]
    deliveries: list[Delivery]
    networks: list[NetworkFindings] = field(default_factory=list)
    diff_suggestion: list[Segment] | None = None
    diff_previous: list[Segment] | None = None
    previous_number: int | None = None
    # The last "send back" or "reject" of an earlier version: its note, and the words since.
    sent_back: Decision | None = None
    diff_sent_back: list[Segment] | None = None
    # Who the review is routed to, and why (supervision; escalation adds to them).
    supervisors: list[ReviewTaskSupervisor] = field(default_factory=list)

    @property
    def finding_count(self) -> int:
        return sum(len(n.findings) for n in self.networks)


def review_for(organization, share_id: int) -> Review | None:
    """Everything a reviewer needs about one share (6 queries), or None if it is not this
    organization's: the share with author, item, team, suggestion and review task; the
    task's supervisors; every version; the latest screening's findings per network as highlighted runs; decisions;
    deliveries; the diff against the suggestion it started from and the previous version."""
    share = (
        Share.objects.for_org(organization)
        .select_related("author", "item", "team", "suggestion", "review_task", "review_task__assigned_to")
        .filter(pk=share_id)
        .first()
    )
    if share is None:
        return None
    try:
        task = share.review_task
    except ReviewTask.DoesNotExist:
        task = None
    versions = list(share.versions.all().order_by("number"))
    screening = Screening.objects.for_org(organization).filter(share_id=share.pk).order_by("-created_at", "-pk").first()
    decisions = list(
        Decision.objects.for_org(organization)
        .filter(share_id=share.pk)
        .select_related("reviewer")
        .order_by("-decided_at")
    )
    deliveries = list(Delivery.objects.for_org(organization).filter(share_id=share.pk).select_related("connection"))
    supervisors = []
    if task is not None:
        supervisors = list(
            ReviewTaskSupervisor.objects.for_org(organization).filter(task=task).select_related("user").order_by("pk")
        )
    review = Review(
        share=share,
        task=task,
        versions=versions,
        screening=screening,
        decisions=decisions,
        deliveries=deliveries,
        supervisors=supervisors,
    )
    if screening is not None:
        labels = dict(Network.choices)
        for network in sorted(set(screening.texts) | set(screening.findings)):
            text = screening.texts.get(network, "")
            found = sorted(
                (
                    {**f, "matched": text[f.get("start", 0) : f.get("end", 0)]}
                    for f in screening.findings.get(network, [])
                ),
                key=lambda f: (f.get("start", 0), f.get("end", 0)),
            )
            review.networks.append(
                NetworkFindings(network, labels.get(network, network), text, found, highlight(text, found))
            )
    if share.suggestion is not None:
        review.diff_suggestion = diff_words(share.suggestion.text.strip(), share.commentary)
    current = all_words(share.commentary, share.network_texts)
    earlier = [v for v in versions if v.number < share.version]
    if earlier:
        review.diff_previous = diff_words(all_words(earlier[-1].commentary, earlier[-1].network_texts), current)
        review.previous_number = earlier[-1].number
    refused = [d for d in decisions if d.outcome != Decision.Outcome.APPROVED and d.version < share.version]
    if refused:
        review.sent_back = refused[0]
        then = next((v for v in versions if v.number == refused[0].version), None)
        if then is not None:
            review.diff_sent_back = diff_words(all_words(then.commentary, then.network_texts), current)
    return review


def all_words(commentary: str, network_texts: dict | None) -> str:
    """A version's words for the diffs between versions: the common ones, then each network's
    own ("X only: ..."), so that a change made in one network's tab shows too."""
    labels = dict(Network.choices)
    own = [
        gettext("%(network)s only: %(words)s") % {"network": labels.get(net, net), "words": words}
        for net, words in sorted((network_texts or {}).items())
    ]
    return "\n\n".join([commentary.strip(), *own])
