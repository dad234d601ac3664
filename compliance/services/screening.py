"""The decision at submit (and the composer's live check): registered as
`content.hooks.register_screening` in `ComplianceConfig.ready()`.

`screen_share` appends the disclosure where the policy says so, screens every network's
final text with the pure engine (`compliance.engine`) and decides:

* blocked: any blocking finding (a banned term or pattern, a missing required disclosure,
  a disclosure that does not fit, a link the policy blocks);
* needs review, from the review mode that applies to the author: the policy's default,
  overridden by the ReviewRules matching the author's teams and roles (where several
  match, the strictest: all > findings > none).
  - "all": every share; "findings": a share with a review or block finding (warnings
    alone are shown to the author, no review); "none": no review (only blocking findings
    stop a share).
  - An unchanged pre-approved suggestion with no findings at all skips review when the
    policy's `auto_approve_suggestions` is on, even under "all".

The compiled policy is cached in this process per organization, keyed by the policy's
`updated_at` (every policy service bumps it) and the count and highest id of each rule
list (so rows written by other means are seen too); a screen costs one query for that key
plus one for the review rules, and recompiles only when the key changed.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

from accounts.models import Membership
from advocacy.sql import model_columns, model_from_row, tenant_rows
from compliance import engine
from compliance.models import REVIEW_STRICTNESS, AllowedDomain, LexiconTerm, PatternRule, Policy, ReviewRule
from content.hooks import Finding, ScreeningResult

_CACHE_SIZE = 256
_cache: OrderedDict[int, tuple[tuple, engine.CompiledPolicy]] = OrderedDict()
_cache_lock = threading.Lock()
_RULE_MODELS = (("terms", LexiconTerm), ("patterns", PatternRule), ("domains", AllowedDomain))


@functools.cache
def _policy_sql() -> str:
    """The policy's row (none: NULLs) and each rule list's count and highest id, one statement.
    Every composer view and submit reads it, so it is written once, not rebuilt by the ORM
    (six subqueries: about 2 ms of CPU a call; bench/README.md, issue 21)."""
    quote = connection.ops.quote_name
    where = "WHERE organization_id = %(org)s"
    counts = ",\n".join(
        f"(SELECT count(*) FROM {quote(m._meta.db_table)} {where}) AS {kind}_n, "  # noqa: S608 (identifiers from the models)
        f"(SELECT max(id) FROM {quote(m._meta.db_table)} {where}) AS {kind}_top"
        for kind, m in _RULE_MODELS
    )
    return f"""
SELECT {model_columns(Policy, "p")},
{counts}
FROM (SELECT 1) AS one
LEFT JOIN {quote(Policy._meta.db_table)} p ON p.organization_id = %(org)s"""  # noqa: S608 (identifiers from the models)


def _policy_with_version(organization_id: int) -> tuple[Policy, tuple]:
    """The policy (unsaved defaults when the org has none) and its cache key, in one query."""
    (row,) = tenant_rows(organization_id, _policy_sql())
    width = len(Policy._meta.concrete_fields)
    policy = model_from_row(Policy, row[:width]) if row[0] is not None else Policy(organization_id=organization_id)
    names = [f"{kind}_{what}" for kind, _model in _RULE_MODELS for what in ("n", "top")]
    counts = dict(zip(names, row[width:], strict=True))
    key = (policy.updated_at, policy.pk, *(counts[name] or 0 for name in sorted(counts)))
    return policy, key


def _compile(organization_id: int, policy: Policy) -> engine.CompiledPolicy:
    terms = LexiconTerm.objects.for_org(organization_id).values_list(
        "term", "action", "note", "match", "language", "near", "near_distance", "exceptions", "applies_to"
    )
    patterns = PatternRule.objects.for_org(organization_id).values_list("name", "pattern", "action", "note")
    domains = AllowedDomain.objects.for_org(organization_id).values_list("domain", flat=True)
    return engine.compile_policy(
        terms=[engine.TermRule(*row[:7], exceptions=tuple(row[7] or ()), applies_to=row[8]) for row in terms],
        patterns=[engine.PatternRule(*row) for row in patterns],
        allowed_domains=list(domains),
        restrict_link_domains=policy.restrict_link_domains,
        link_domain_action=policy.link_domain_action,
        disclosure=policy.disclosure,
        disclosure_mode=policy.disclosure_mode,
        tracked_link_prefix=settings.SITE_URL + "/r/",
    )


def compiled_policy_for(organization_id: int) -> tuple[Policy, engine.CompiledPolicy]:
    """The organization's policy and its compiled form (compiled once per policy version)."""
    policy, key = _policy_with_version(organization_id)
    key = (*key, settings.SITE_URL, policy.restrict_link_domains, policy.link_domain_action, policy.disclosure,
           policy.disclosure_mode)  # fmt: skip
    with _cache_lock:
        cached = _cache.get(organization_id)
        if cached is not None and cached[0] == key:
            _cache.move_to_end(organization_id)
            return policy, cached[1]
    compiled = _compile(organization_id, policy)
    with _cache_lock:
        _cache[organization_id] = (key, compiled)
        _cache.move_to_end(organization_id)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return policy, compiled


def review_mode_for(policy: Policy, organization_id: int, user_id: int | None) -> str:
    """The review mode that applies to an author (see the module docstring)."""
    rules = list(ReviewRule.objects.for_org(organization_id).values_list("team_id", "role", "review_mode"))
    if not rules or user_id is None:
        return policy.review_mode
    membership = Membership.objects.for_org(organization_id).filter(user_id=user_id).prefetch_related("teams").first()
    if membership is None:
        return policy.review_mode
    team_ids = {team.pk for team in membership.teams.all()}
    roles = {role.value for role in membership.roles}
    matching = [mode for team_id, role, mode in rules if (team_id in team_ids) or (role and role in roles)]
    if not matching:
        return policy.review_mode
    return max(matching, key=lambda mode: REVIEW_STRICTNESS.get(mode, 2))


def decide(
    findings: dict[str, list[Finding]], *, review_mode: str, unchanged_suggestion: bool, auto_approve: bool
) -> tuple[bool, bool]:
    """(blocked, needs_review) from the findings and the author's review mode."""
    actions = {f.action for found in findings.values() for f in found}
    blocked = "block" in actions
    if blocked:
        return True, False
    if unchanged_suggestion and auto_approve and not actions:
        return False, False
    if review_mode == Policy.ReviewMode.ALL:
        return False, True
    if review_mode == Policy.ReviewMode.NONE:
        return False, False
    return False, "review" in actions


def disclosure_applier(*, organization):
    """`apply(network, text)`: the text with the policy's disclosure as `screen_share` appends
    it (unchanged outside "append" mode, or when it does not fit). One query for any number
    of texts."""
    org_id = organization.pk if hasattr(organization, "pk") else organization
    policy = Policy.objects.for_org(org_id).only("disclosure", "disclosure_mode").first() or Policy()

    def apply(network: str, text: str) -> str:
        return engine.apply_disclosure(text, network, policy.disclosure, policy.disclosure_mode)[0]

    return apply


def screen_share(
    *, organization, author, item, texts: dict[str, str], unchanged_suggestion: bool, language: str = ""
) -> ScreeningResult:
    """Screen the final text of every delivery (network -> text) under the org's policy.
    `language` is the words' language: the lexicon terms for every language apply, and
    those for that language ("" = only the all-language ones).

    Returns the findings per network (spans into the returned texts), the texts to publish
    (with the disclosure appended in "append" mode), and whether the share is blocked or
    needs a human. Writes nothing.
    """
    org_id = organization.pk if hasattr(organization, "pk") else organization
    policy, compiled = compiled_policy_for(org_id)
    final: dict[str, str] = {}
    findings: dict[str, list[Finding]] = {}
    for network, text in texts.items():
        published, problem = engine.apply_disclosure(text, network, policy.disclosure, policy.disclosure_mode)
        found = engine.screen_text(published, compiled, network, language=language)
        if problem is not None:
            found.insert(0, problem)
        final[network] = published
        findings[network] = found
    mode = review_mode_for(policy, org_id, getattr(author, "pk", author))
    blocked, needs_review = decide(
        findings,
        review_mode=mode,
        unchanged_suggestion=unchanged_suggestion,
        auto_approve=policy.auto_approve_suggestions,
    )
    return ScreeningResult(
        findings={network: found for network, found in findings.items() if found},
        needs_review=needs_review,
        blocked=blocked,
        texts=final,
        review_mode=mode,
    )


@dataclass(frozen=True)
class Explanation:
    """One rule that matched a tested text: what, where, and why in words."""

    rule: str
    action: str
    matched: str
    reasons: list[str]
    allowed_by: str = ""


@dataclass(frozen=True)
class TextCheck:
    text: str
    findings: list[Finding]
    explanations: list[Explanation]


def check_text(*, organization_id: int, text: str) -> TextCheck:
    """The policy page's "test a text": what the organization's policy finds in `text` (as
    the composer would, without a network's limits) and, for each lexicon match, why;
    matches an exception allows are listed too, marked. Writes nothing."""
    _policy, compiled = compiled_policy_for(organization_id)
    findings = engine.screen_text(text, compiled)
    explanations = [
        Explanation(
            rule=match.rule.term,
            action=match.rule.action,
            matched=text[match.start : match.end],
            reasons=engine.explain_match(match, text),
            allowed_by=match.allowed_by,
        )
        for match in engine.distinct_matches(engine.lexicon_matches(text, compiled))
    ]
    lexicon_rules = {f"lexicon:{e.rule}" for e in explanations}
    explanations += [
        Explanation(rule=f.rule.split(":", 1)[-1], action=f.action, matched=text[f.start : f.end], reasons=[f.message])
        for f in findings
        if f.rule not in lexicon_rules
    ]
    return TextCheck(text=text, findings=findings, explanations=explanations)
