"""The policy editor's writes: settings, lexicon, patterns, allowed domains, review rules.

Guarantees:
* Only a member allowed `compliance.policy` changes the policy (PermissionDenied otherwise, from
  `accounts.permissions.require`).
* Bad input raises ValidationFailed in plain words and writes nothing: a bulk import is
  checked whole before any row is saved; a pattern is compiled by the screening engine
  (RE2, linear time) before it is stored, so a stored policy always compiles.
* Nobody weakens review alone: four-eyes off, a weaker default review mode, auto-approval
  on, a review rule asking for less, or removing a rule that lets a weaker default or rule
  apply waits as a PendingPolicyChange until another compliance officer or an org admin
  confirms it (never the one who asked); tightening applies at once.
* Every change writes an audit entry ("policy.*") with before/after inside its
  transaction, and bumps `Policy.updated_at`, which keys the compiled-policy cache
  (`compliance.services.screening`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Membership, Role, Team
from accounts.permissions import Permission, require
from advocacy import audit
from advocacy.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from advocacy.languages import CODES as LANGUAGE_CODES
from compliance import engine
from compliance.models import (
    REVIEW_STRICTNESS,
    Action,
    AllowedDomain,
    LexiconTerm,
    PatternRule,
    PendingPolicyChange,
    Policy,
    ReviewRule,
)

MAX_IMPORT_ROWS = 10_000
ACTIONS = {a.value for a in Action}
RELAXABLE_SETTINGS = ("review_mode", "auto_approve_suggestions", "four_eyes")
SETTINGS_FIELDS = (
    "review_mode",
    "auto_approve_suggestions",
    "four_eyes",
    "review_sla_hours",
    "disclosure",
    "disclosure_mode",
    "restrict_link_domains",
    "link_domain_action",
)


def _locked_policy(membership: Membership) -> Policy:
    """The organization's policy row, locked for this transaction (created when missing)."""
    org_id = membership.organization_id
    policy = Policy.objects.for_org(org_id).select_for_update().first()
    if policy is None:
        try:
            with transaction.atomic():
                policy = Policy.objects.create(organization_id=org_id, updated_by_id=membership.user_id)
            audit.record("policy.created", organization_id=org_id, target=policy, after=_settings_state(policy))
        except IntegrityError:  # created meanwhile by another request
            policy = Policy.objects.for_org(org_id).select_for_update().get()
    return policy


def _touch(policy: Policy, membership: Membership) -> None:
    """A rule list changed: a new policy version (the screening cache's key)."""
    policy.updated_by_id = membership.user_id
    policy.save(update_fields=["updated_at", "updated_by"])


@transaction.atomic
def get_or_create_policy(*, organization_id: int) -> Policy:
    """The organization's policy, created with the defaults the first time."""
    policy, created = Policy.objects.for_org(organization_id).get_or_create(organization_id=organization_id)
    if created:
        audit.record("policy.created", organization_id=organization_id, target=policy, after=_settings_state(policy))
    return policy


def _settings_state(policy: Policy) -> dict:
    return {name: getattr(policy, name) for name in SETTINGS_FIELDS}


def _choice(value, choices, field: str, words: str) -> str:
    if value not in {c.value for c in choices}:
        raise ValidationFailed(words, fields={field: [words]})
    return value


# --- settings -----------------------------------------------------------------------------


@transaction.atomic
def update_policy(
    *,
    actor: Membership,
    review_mode: str,
    auto_approve_suggestions: bool,
    four_eyes: bool,
    review_sla_hours: int,
    disclosure: str,
    disclosure_mode: str,
    restrict_link_domains: bool,
    link_domain_action: str,
) -> Policy:
    """Change the policy's settings. Relaxations (four-eyes off, a weaker default review mode,
    auto-approval on) are held back as a PendingPolicyChange for a second person; the rest
    applies at once. Raises PermissionDenied, ValidationFailed (unknown mode, a deadline outside
    1-720 hours, a disclosure mode without a disclosure)."""
    require(actor, Permission.COMPLIANCE_POLICY)
    _choice(review_mode, Policy.ReviewMode, "review_mode", _("Choose who needs review."))
    _choice(disclosure_mode, Policy.DisclosureMode, "disclosure_mode", _("Choose what happens with the disclosure."))
    _choice(link_domain_action, Action, "link_domain_action", _("Choose block, review or warn for links."))
    disclosure = (disclosure or "").strip()
    if not isinstance(review_sla_hours, int) or not 1 <= review_sla_hours <= 720:
        raise ValidationFailed(
            _("The review deadline is a number of hours between 1 and 720."),
            fields={"review_sla_hours": [_("Between 1 and 720 hours.")]},
        )
    if len(disclosure) > 100:
        raise ValidationFailed(
            _("A disclosure can have at most 100 characters."), fields={"disclosure": [_("At most 100 characters.")]}
        )
    if disclosure_mode != Policy.DisclosureMode.OFF and not disclosure:
        raise ValidationFailed(
            _("Write the disclosure (for example #employee) before asking for it on every post."),
            fields={"disclosure": [_("Required when the disclosure is appended or required.")]},
        )
    policy = _locked_policy(actor)
    before = _settings_state(policy)
    relaxed = _relaxations(
        policy,
        review_mode=review_mode,
        auto_approve_suggestions=bool(auto_approve_suggestions),
        four_eyes=bool(four_eyes),
    )
    if relaxed:
        _request_relaxation(
            actor,
            kind=PendingPolicyChange.Kind.SETTINGS,
            changes=relaxed,
            before={name: getattr(policy, name) for name in relaxed},
        )
    policy.review_mode = review_mode if "review_mode" not in relaxed else policy.review_mode
    policy.auto_approve_suggestions = (
        bool(auto_approve_suggestions) if "auto_approve_suggestions" not in relaxed else policy.auto_approve_suggestions
    )
    policy.four_eyes = bool(four_eyes) if "four_eyes" not in relaxed else policy.four_eyes
    policy.review_sla_hours = review_sla_hours
    policy.disclosure = disclosure
    policy.disclosure_mode = disclosure_mode
    policy.restrict_link_domains = bool(restrict_link_domains)
    policy.link_domain_action = link_domain_action
    policy.updated_by_id = actor.user_id
    after = _settings_state(policy)
    if after != before:
        policy.save()
        changed = [k for k in after if after[k] != before[k]]
        audit.record(
            "policy.updated",
            organization_id=policy.organization_id,
            target=policy,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return policy


# --- relaxations need a second person -----------------------------------------------------


def _weaker(mode: str, than: str) -> bool:
    return REVIEW_STRICTNESS[mode] < REVIEW_STRICTNESS[than]


def _relaxations(policy: Policy, *, review_mode: str, auto_approve_suggestions: bool, four_eyes: bool) -> dict:
    """The asked-for values that weaken review; tightening is not in here (it applies at once)."""
    relaxed = {}
    if policy.four_eyes and not four_eyes:
        relaxed["four_eyes"] = False
    if _weaker(review_mode, policy.review_mode):
        relaxed["review_mode"] = review_mode
    if auto_approve_suggestions and not policy.auto_approve_suggestions:
        relaxed["auto_approve_suggestions"] = True
    return relaxed


def _request_relaxation(membership: Membership, *, kind: str, changes: dict, before: dict) -> PendingPolicyChange:
    """A relaxation becomes a pending change, audited. It replaces the requester's own pending
    change for the same target (the settings, or one team's or role's rule); changes other
    people asked for, and the requester's changes to other targets, keep waiting beside it."""
    change = PendingPolicyChange(
        organization_id=membership.organization_id,
        requested_by_id=membership.user_id,
        kind=kind,
        changes=changes,
        before=before,
    )
    own = PendingPolicyChange.objects.for_org(membership.organization_id).filter(
        outcome=PendingPolicyChange.Outcome.PENDING, requested_by_id=membership.user_id
    )
    for old in own:
        if old.target_key == change.target_key:
            _decide(old, membership, PendingPolicyChange.Outcome.WITHDRAWN, reason="Replaced by a newer request.")
    change.save()
    audit.record(
        "policy.change_requested",
        organization_id=change.organization_id,
        target=change,
        before=before,
        after={"kind": kind, "description": _recorded(change), "changes": changes},
    )
    return change


_DECIDED_ACTIONS = {
    PendingPolicyChange.Outcome.CONFIRMED: "policy.change_confirmed",
    PendingPolicyChange.Outcome.WITHDRAWN: "policy.change_withdrawn",
}


def _recorded(change: PendingPolicyChange) -> str:
    """The change in words for the audit record: in one language, whoever asked."""
    with translation.override(settings.LANGUAGE_CODE):
        return change.describe()


def _decide(change: PendingPolicyChange, membership: Membership, outcome: str, reason: str = "") -> None:
    change.outcome = outcome
    change.decided_by_id = membership.user_id
    change.decided_at = timezone.now()
    change.save(update_fields=["outcome", "decided_by", "decided_at"])
    after = {"kind": change.kind, "description": _recorded(change), "changes": change.changes}
    if change.requested_by_id:
        after["requested_by_id"] = change.requested_by_id
    if reason:
        after["reason"] = reason
    audit.record(_DECIDED_ACTIONS[outcome], organization_id=change.organization_id, target=change, after=after)


def _locked_for_decision(membership: Membership, change_id: int) -> tuple[Policy, PendingPolicyChange]:
    """The policy, then the pending change, both locked (the order every policy write takes).
    NotFound for a change that is not this organization's or no longer waiting."""
    missing = NotFound(_("This policy change is not waiting for confirmation."))
    policy = Policy.objects.for_org(membership.organization_id).select_for_update().first()
    if policy is None:  # nobody ever asked for anything here
        raise missing
    change = (
        PendingPolicyChange.objects.for_org(membership.organization_id)
        .select_for_update()
        .filter(pk=change_id, outcome=PendingPolicyChange.Outcome.PENDING)
        .first()
    )
    if change is None:
        raise missing
    return policy, change


def _stale(change: PendingPolicyChange, what: str) -> Conflict:
    return Conflict(
        _(
            "“%(change)s” was not applied: %(what)s since it was asked. "
            "Withdraw it, and ask again if it is still wanted."
        )
        % {"change": change.describe(), "what": what}
    )


def _apply_settings(policy: Policy, change: PendingPolicyChange, membership: Membership) -> None:
    before = {name: getattr(policy, name) for name in change.changes}
    if change.before is not None and before != {name: change.before.get(name) for name in change.changes}:
        raise _stale(change, _("these settings changed"))
    for name, value in change.changes.items():
        setattr(policy, name, value)
    policy.updated_by_id = membership.user_id
    policy.save()
    audit.record(
        "policy.updated", organization_id=policy.organization_id, target=policy, before=before, after=change.changes
    )


def _apply_review_rule(policy: Policy, change: PendingPolicyChange, membership: Membership) -> None:
    asked = change.changes
    rule = _find_rule(policy.organization_id, team_id=asked.get("team_id"), role=asked.get("role") or "")
    if (rule.review_mode if rule else None) != (change.before or {}).get("review_mode"):
        raise _stale(change, _("the rule changed"))
    if change.kind == PendingPolicyChange.Kind.REVIEW_RULE_REMOVE:
        _delete_rule(policy, rule, membership)
        return
    if asked.get("team_id") and not Team.objects.for_org(policy.organization_id).filter(pk=asked["team_id"]).exists():
        raise _stale(change, _("the team was deleted"))
    _save_rule(
        policy,
        rule,
        membership,
        team_id=asked.get("team_id"),
        role=asked.get("role") or "",
        review_mode=asked["review_mode"],
    )


def _apply_term_update(policy: Policy, change: PendingPolicyChange, membership: Membership) -> None:
    term = LexiconTerm.objects.for_org(policy.organization_id).filter(pk=change.changes.get("term_id")).first()
    if term is None:
        raise _stale(change, _("the term was removed"))
    if _term_state(term) != change.before:
        raise _stale(change, _("the term changed"))
    _save_term(policy, term, membership, change.changes)


_APPLY = {
    PendingPolicyChange.Kind.SETTINGS: _apply_settings,
    PendingPolicyChange.Kind.TERM_UPDATE: _apply_term_update,
    PendingPolicyChange.Kind.REVIEW_RULE_SET: _apply_review_rule,
    PendingPolicyChange.Kind.REVIEW_RULE_REMOVE: _apply_review_rule,
}


@transaction.atomic
def confirm_policy_change(*, actor: Membership, change_id: int) -> PendingPolicyChange:
    """A second compliance officer or an org admin applies a pending relaxation exactly as it
    was asked, audited like a direct change, then the confirmation itself.

    Raises NotAllowed for the requester (whatever their roles), PermissionDenied for a
    member without the right; NotFound for a change that is not this organization's or no longer waiting;
    Conflict when its target changed since it was asked (nothing is applied then, and it
    keeps waiting until someone withdraws it)."""
    require(actor, Permission.COMPLIANCE_POLICY_CONFIRM)
    policy, change = _locked_for_decision(actor, change_id)
    if change.requested_by_id == actor.user_id:
        raise NotAllowed(_("Someone other than the person who asked must confirm this change."))
    _APPLY[change.kind](policy, change, actor)
    _decide(change, actor, PendingPolicyChange.Outcome.CONFIRMED)
    return change


@transaction.atomic
def withdraw_policy_change(*, actor: Membership, change_id: int) -> PendingPolicyChange:
    """The requester, another compliance officer or an org admin drops a pending relaxation
    (audited). Raises PermissionDenied for other members, NotFound as `confirm_policy_change`."""
    require(actor, Permission.COMPLIANCE_POLICY_CONFIRM)
    _, change = _locked_for_decision(actor, change_id)
    _decide(change, actor, PendingPolicyChange.Outcome.WITHDRAWN)
    return change


# --- lexicon ------------------------------------------------------------------------------


MAX_EXCEPTIONS = 20
TERM_FIELDS = ("action", "note", "match", "language", "near", "near_distance", "exceptions", "applies_to")


@dataclass(frozen=True)
class _TermInput:
    term: str
    action: str
    note: str
    key: str
    match: str = LexiconTerm.Match.INFLECTIONS
    language: str = LexiconTerm.Language.EN
    near: str = ""
    near_distance: int = 5
    exceptions: tuple[str, ...] = ()
    applies_to: str = ""  # the posts' language it screens ("" = every language; issue 23)

    def fields(self) -> dict:
        return {name: getattr(self, name) for name in TERM_FIELDS} | {"exceptions": list(self.exceptions)}


def _exception_list(exceptions) -> tuple[str, ...]:
    if isinstance(exceptions, str):
        exceptions = exceptions.splitlines()
    cleaned: list[str] = []
    for phrase in exceptions or ():
        phrase = " ".join(str(phrase).split())
        if phrase and phrase not in cleaned:
            cleaned.append(phrase)
    return tuple(cleaned)


def _term_input(
    term: str,
    action: str,
    note: str,
    where: str = "",
    *,
    match: str = "",
    language: str = "",
    near: str = "",
    near_distance: int | None = 5,
    exceptions=(),
    applies_to: str = "",
) -> _TermInput:
    """A term as the officer wrote it, checked the way screening will read it. A term with a *
    is a wildcard term; a wildcard term needs a *. Exceptions must contain the term (else
    they would never allow anything) and the partner of a proximity rule must differ from it."""
    term = " ".join((term or "").split())
    note = (note or "").strip()
    action = (action or "").strip().lower()
    near = " ".join((near or "").split())
    prefix = f"{where}: " if where else ""
    if not term:
        raise ValidationFailed(prefix + _("Write a word or phrase."), fields={"term": [_("Required.")]})
    if len(term) > 200:
        raise ValidationFailed(prefix + _("A term can have at most 200 characters."), fields={"term": [_("Too long.")]})
    key = " ".join(engine.term_words(term))
    if not key:
        raise ValidationFailed(
            prefix + _("“%(term)s” has no letter or digit, so it cannot be matched.") % {"term": term},
            fields={"term": [_("Needs a letter or a digit.")]},
        )
    if action not in ACTIONS:
        raise ValidationFailed(
            prefix + _("The action must be block, review or warn (not “%(action)s”).") % {"action": action},
            fields={"action": [_("Unknown.")]},
        )
    if len(note) > 300:
        raise ValidationFailed(prefix + _("A note can have at most 300 characters."), fields={"note": [_("Too long.")]})
    match = match or (LexiconTerm.Match.WILDCARD if "*" in term else LexiconTerm.Match.INFLECTIONS)
    _choice(match, LexiconTerm.Match, "match", prefix + _("Choose how the term matches."))
    if (match == LexiconTerm.Match.WILDCARD) != ("*" in term):
        words = (
            prefix + _("Put a * where any letters may follow or come before, for example “guarant*”.")
            if match == LexiconTerm.Match.WILDCARD
            else prefix + _("“%(term)s” has a *: choose “with wildcards”, or remove the *.") % {"term": term}
        )
        raise ValidationFailed(words, fields={"term": [words], "match": [words]})
    language = language or LexiconTerm.Language.EN
    _choice(language, LexiconTerm.Language, "language", prefix + _("Choose the term's language."))
    applies_to = (applies_to or "").strip().lower()
    if applies_to and applies_to not in LANGUAGE_CODES:
        words = _("Choose the language of the posts this term screens, or every language.")
        raise ValidationFailed(f"{prefix}{words}", fields={"applies_to": [words]})
    if len(near) > 200:
        words = prefix + _("The nearby word can have at most 200 characters.")
        raise ValidationFailed(words, fields={"near": [_("Too long.")]})
    if near and " ".join(engine.term_words(near)) == key:
        raise ValidationFailed(
            prefix + _("A term cannot be near itself; write another word."), fields={"near": [_("Same as the term.")]}
        )
    if not isinstance(near_distance, int) or not 1 <= near_distance <= engine.MAX_DISTANCE:
        words = _("The distance is a number of words between 1 and %(max)s.") % {"max": engine.MAX_DISTANCE}
        raise ValidationFailed(f"{prefix}{words}", fields={"near_distance": [words]})
    allowed = _exception_list(exceptions)
    if len(allowed) > MAX_EXCEPTIONS:
        raise ValidationFailed(
            prefix + _("At most %(count)s exceptions per term.") % {"count": MAX_EXCEPTIONS},
            fields={"exceptions": [_("Too many.")]},
        )
    wanted = _TermInput(term, action, note, key, match, language, near, near_distance, allowed, applies_to)
    rule = engine.TermRule(term, action, note, match, language, near, near_distance)
    try:
        alone = engine.compile_policy(terms=[rule])
        engine.compile_term(engine.TermRule(term, action, note, match, language, near, near_distance, allowed))
    except engine.PolicyError as exc:
        field = "exceptions" if "exception" in str(exc) else "near" if "distance" in str(exc) else "term"
        raise ValidationFailed(f"{prefix}{exc}", fields={field: [str(exc)]}) from None
    for phrase in allowed:
        if len(phrase) > 200:
            raise ValidationFailed(
                prefix + _("An exception can have at most 200 characters."), fields={"exceptions": [_("Too long.")]}
            )
        if not any(m.words for m in engine.lexicon_matches(phrase, _without_near(alone, rule))):
            words = _("The exception “%(phrase)s” does not contain “%(term)s”, so it would never allow it.") % {
                "phrase": phrase,
                "term": term,
            }
            raise ValidationFailed(f"{prefix}{words}", fields={"exceptions": [words]})
    return wanted


def _without_near(compiled: engine.CompiledPolicy, rule: engine.TermRule) -> engine.CompiledPolicy:
    """The term alone, without its proximity partner (an exception needs to hold the term only)."""
    return engine.compile_policy(terms=[replace(rule, near="")]) if rule.near else compiled


def _existing_keys(organization_id: int) -> dict[str, str]:
    return {
        " ".join(engine.term_words(term)): term
        for term in LexiconTerm.objects.for_org(organization_id).values_list("term", flat=True)
    }


def _term_state(term: LexiconTerm) -> dict:
    return (
        {"term": term.term}
        | {name: getattr(term, name) for name in TERM_FIELDS}
        | {"exceptions": list(term.exceptions or [])}
    )


@transaction.atomic
def add_term(
    *,
    actor: Membership,
    term: str,
    action: str = Action.REVIEW,
    note: str = "",
    match: str = "",
    language: str = "",
    near: str = "",
    near_distance: int = 5,
    exceptions=(),
    applies_to: str = "",
) -> LexiconTerm:
    """Add a word or phrase to the lexicon. `match`: "inflections" (the default; "wildcard"
    when the term has a *), "exact" or "wildcard"; `language` picks the stemmer; `near` and
    `near_distance` make it a proximity rule; `exceptions` are phrases that allow it.
    Raises ValidationFailed for an empty, too long or unmatchable term, an unknown action,
    kind or language, a misplaced *, an exception that does not contain the term, or a term
    that is already there (compared the way screening compares: "Guaranteed" and
    "g.u.a.r.a.n.t.e.e.d" are the same term)."""
    require(actor, Permission.COMPLIANCE_POLICY)
    wanted = _term_input(
        term, action, note, match=match, language=language, near=near, near_distance=near_distance,
        exceptions=exceptions, applies_to=applies_to,
    )  # fmt: skip
    policy = _locked_policy(actor)
    existing = _existing_keys(actor.organization_id).get(wanted.key)
    if existing is not None:
        raise ValidationFailed(
            _("“%(term)s” is already in the lexicon (as “%(existing)s”).")
            % {"term": wanted.term, "existing": existing},
            fields={"term": [_("Already there.")]},
        )
    created = LexiconTerm.objects.create(organization_id=actor.organization_id, term=wanted.term, **wanted.fields())
    _touch(policy, actor)
    audit.record(
        "policy.term_added", organization_id=created.organization_id, target=created, after=_term_state(created)
    )
    return created


def _term_relaxed(before: dict, after: dict) -> bool:
    """Whether the edited term lets through anything the term as it was flagged: a milder
    action, fewer word forms, another language, a new or changed partner (or fewer words of
    reach), a new exception. Tightening (a stricter action, exact to inflections, no partner,
    more reach, fewer exceptions) and a new note are not."""
    severity = engine.SEVERITY
    if severity[after["action"]] > severity[before["action"]]:
        return True
    if after["match"] != before["match"] and (before["match"], after["match"]) != ("exact", "inflections"):
        return True
    if after["language"] != before["language"] and after["match"] == "inflections":
        return True
    if after.get("applies_to") and after.get("applies_to") != before.get("applies_to"):
        return True  # it screens the posts of one language only, or of another one
    if after["near"] and (after["near"] != before["near"] or after["near_distance"] < before["near_distance"]):
        return True
    return bool(set(after["exceptions"]) - set(before["exceptions"]))


def _save_term(policy: Policy, term: LexiconTerm, membership: Membership, changes: dict) -> LexiconTerm:
    before = _term_state(term)
    for name in TERM_FIELDS:
        setattr(term, name, changes.get(name, getattr(term, name)))  # a change asked before a field existed
    term.save(update_fields=list(TERM_FIELDS))
    _touch(policy, membership)
    after = _term_state(term)
    changed = [name for name in after if after[name] != before[name]]
    audit.record(
        "policy.term_updated",
        organization_id=term.organization_id,
        target=term,
        before={name: before[name] for name in changed},
        after={"term": term.term} | {name: after[name] for name in changed},
    )
    return term


@transaction.atomic
def update_term(
    *,
    actor: Membership,
    lexicon_term_id: int,
    action: str,
    note: str = "",
    match: str = "",
    language: str = "",
    near: str = "",
    near_distance: int = 5,
    exceptions=(),
    applies_to: str = "",
) -> LexiconTerm | PendingPolicyChange:
    """Change how a lexicon term matches and what it does (its words stay: remove it and add
    another to change them). A change that lets through anything the term flagged before
    (`_term_relaxed`) is not applied but returned as a PendingPolicyChange for another
    compliance officer or an org admin to confirm; otherwise the saved term is returned.
    Raises NotFound for another organization's term, ValidationFailed as `add_term`."""
    require(actor, Permission.COMPLIANCE_POLICY)
    policy = _locked_policy(actor)
    term = LexiconTerm.objects.for_org(actor.organization_id).filter(pk=lexicon_term_id).first()
    if term is None:
        raise NotFound(_("No such term."))
    wanted = _term_input(
        term.term, action, note, match=match, language=language, near=near, near_distance=near_distance,
        exceptions=exceptions, applies_to=applies_to,
    )  # fmt: skip
    before = _term_state(term)
    changes = wanted.fields()
    if all(before[name] == changes[name] for name in TERM_FIELDS):
        return term
    if _term_relaxed(before, changes):
        return _request_relaxation(
            actor,
            kind=PendingPolicyChange.Kind.TERM_UPDATE,
            changes={"term_id": term.pk, "term": term.term, **changes},
            before=before,
        )
    return _save_term(policy, term, actor, changes)


@transaction.atomic
def remove_term(*, actor: Membership, lexicon_term_id: int) -> str:
    """Remove a lexicon term. Raises NotFound for a term that is not this organization's."""
    require(actor, Permission.COMPLIANCE_POLICY)
    policy = _locked_policy(actor)
    term = LexiconTerm.objects.for_org(actor.organization_id).filter(pk=lexicon_term_id).first()
    if term is None:
        raise NotFound(_("No such term."))
    audit.record("policy.term_removed", organization_id=term.organization_id, target=term, before=_term_state(term))
    term.delete()
    _touch(policy, actor)
    return str(term)


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_there: list[str]

    @property
    def summary(self) -> str:
        added = ngettext("%(count)s term added", "%(count)s terms added", self.added) % {"count": self.added}
        if not self.already_there:
            return _("%(added)s.") % {"added": added}
        names = ", ".join(self.already_there[:10]) + (", …" if len(self.already_there) > 10 else "")
        return _("%(added)s; %(count)s already in the lexicon: %(names)s.") % {
            "added": added,
            "count": len(self.already_there),
            "names": names,
        }


def parse_terms(text: str, default_action: str = Action.REVIEW) -> list[_TermInput]:
    """Lines of "term" or CSV "term,action,note" (a header line "term,action,note" is
    skipped; quote a term that contains a comma). Raises ValidationFailed naming the line."""
    rows = []
    reader = csv.reader(io.StringIO(text or ""))
    for number, row in enumerate(reader, start=1):
        cells = [cell.strip() for cell in row]
        if not cells or not any(cells):
            continue
        if number == 1 and [c.lower() for c in cells[:2]] == ["term", "action"]:
            continue
        if len(cells) > 3:
            raise ValidationFailed(
                _(
                    "Line %(number)s: expected at most three columns (term, action, note), found %(count)s. "
                    "Quote a term or note that contains a comma."
                )
                % {"number": number, "count": len(cells)},
                fields={
                    "text": [_("Line %(number)s has %(count)s columns.") % {"number": number, "count": len(cells)}]
                },
            )
        term = cells[0]
        action = cells[1] if len(cells) > 1 and cells[1] else default_action
        note = cells[2] if len(cells) > 2 else ""
        rows.append(_term_input(term, action, note, where=_("Line %(number)s") % {"number": number}))
        if len(rows) > MAX_IMPORT_ROWS:
            raise ValidationFailed(
                _("At most %(count)s terms at a time; split the list.") % {"count": f"{MAX_IMPORT_ROWS:,}"},
                fields={"text": [_("Too many lines.")]},
            )
    if not rows:
        raise ValidationFailed(_("Paste at least one term, one per line."), fields={"text": [_("Empty.")]})
    return rows


@transaction.atomic
def import_terms(*, actor: Membership, text: str, default_action: str = Action.REVIEW) -> ImportResult:
    """Add many terms at once (see `parse_terms`). All or nothing: one bad line and nothing
    is saved. Terms already in the lexicon (or twice in the list) are skipped and named."""
    require(actor, Permission.COMPLIANCE_POLICY)
    _choice(default_action, Action, "default_action", _("Choose block, review or warn."))
    rows = parse_terms(text, default_action)
    policy = _locked_policy(actor)
    existing = _existing_keys(actor.organization_id)
    fresh: dict[str, _TermInput] = {}
    skipped = []
    for row in rows:
        if row.key in existing or row.key in fresh:
            skipped.append(row.term)
            continue
        fresh[row.key] = row
    LexiconTerm.objects.bulk_create(
        LexiconTerm(organization_id=actor.organization_id, term=r.term, **r.fields()) for r in fresh.values()
    )
    if fresh:
        _touch(policy, actor)
        audit.record(
            "policy.terms_imported",
            organization_id=actor.organization_id,
            target=policy,
            after={"count": len(fresh), "terms": [[r.term, r.action, r.note] for r in fresh.values()]},
        )
    return ImportResult(added=len(fresh), already_there=skipped)


# --- patterns -----------------------------------------------------------------------------


def _pattern_state(rule: PatternRule) -> dict:
    return {"name": rule.name, "pattern": rule.pattern, "action": rule.action, "note": rule.note}


@transaction.atomic
def add_pattern(
    *, actor: Membership, name: str, pattern: str, action: str = Action.REVIEW, note: str = ""
) -> PatternRule:
    """Add a regular-expression rule. The pattern is compiled with RE2 first: back-references,
    look-around, programs too large and patterns matching empty text are refused with the
    reason (ValidationFailed); so is a name already used."""
    require(actor, Permission.COMPLIANCE_POLICY)
    name = " ".join((name or "").split())
    note = (note or "").strip()
    if not name:
        raise ValidationFailed(
            _("Give the rule a name, for example “Promised returns”."), fields={"name": [_("Required.")]}
        )
    if len(name) > 100:
        raise ValidationFailed(_("A name can have at most 100 characters."), fields={"name": [_("Too long.")]})
    if len(note) > 300:
        raise ValidationFailed(_("A note can have at most 300 characters."), fields={"note": [_("Too long.")]})
    _choice(action, Action, "action", _("Choose block, review or warn."))
    try:
        engine.compile_pattern(pattern or "")
    except engine.PolicyError as exc:
        raise ValidationFailed(str(exc), fields={"pattern": [str(exc)]}) from None
    policy = _locked_policy(actor)
    if PatternRule.objects.for_org(actor.organization_id).filter(name__iexact=name).exists():
        raise ValidationFailed(
            _("A rule named “%(name)s” exists already.") % {"name": name}, fields={"name": [_("Already used.")]}
        )
    rule = PatternRule.objects.create(
        organization_id=actor.organization_id, name=name, pattern=pattern, action=action, note=note
    )
    _touch(policy, actor)
    audit.record("policy.pattern_added", organization_id=rule.organization_id, target=rule, after=_pattern_state(rule))
    return rule


@transaction.atomic
def remove_pattern(*, actor: Membership, pattern_rule_id: int) -> str:
    """Remove a pattern rule. Raises NotFound for a rule that is not this organization's."""
    require(actor, Permission.COMPLIANCE_POLICY)
    policy = _locked_policy(actor)
    rule = PatternRule.objects.for_org(actor.organization_id).filter(pk=pattern_rule_id).first()
    if rule is None:
        raise NotFound(_("No such rule."))
    audit.record(
        "policy.pattern_removed", organization_id=rule.organization_id, target=rule, before=_pattern_state(rule)
    )
    rule.delete()
    _touch(policy, actor)
    return str(rule)


# --- allowed domains ----------------------------------------------------------------------


@transaction.atomic
def add_domain(*, actor: Membership, domain: str) -> AllowedDomain:
    """Allow links to a domain and its subdomains. Raises ValidationFailed for something that
    is not a domain name, or one already allowed."""
    require(actor, Permission.COMPLIANCE_POLICY)
    try:
        host = engine.normalise_domain(domain or "")
    except engine.PolicyError as exc:
        raise ValidationFailed(str(exc), fields={"domain": [str(exc)]}) from None
    policy = _locked_policy(actor)
    if AllowedDomain.objects.for_org(actor.organization_id).filter(domain=host).exists():
        raise ValidationFailed(
            _("%(domain)s is already allowed.") % {"domain": host}, fields={"domain": [_("Already allowed.")]}
        )
    allowed = AllowedDomain.objects.create(organization_id=actor.organization_id, domain=host)
    _touch(policy, actor)
    audit.record("policy.domain_added", organization_id=allowed.organization_id, target=allowed, after={"domain": host})
    return allowed


@transaction.atomic
def remove_domain(*, actor: Membership, allowed_domain_id: int) -> str:
    """Stop allowing a domain. Raises NotFound for one that is not this organization's."""
    require(actor, Permission.COMPLIANCE_POLICY)
    policy = _locked_policy(actor)
    allowed = AllowedDomain.objects.for_org(actor.organization_id).filter(pk=allowed_domain_id).first()
    if allowed is None:
        raise NotFound(_("No such domain."))
    audit.record(
        "policy.domain_removed",
        organization_id=allowed.organization_id,
        target=allowed,
        before={"domain": allowed.domain},
    )
    allowed.delete()
    _touch(policy, actor)
    return str(allowed)


# --- review rules -------------------------------------------------------------------------


def _rule_state(rule: ReviewRule) -> dict:
    return {"team_id": rule.team_id, "role": rule.role, "review_mode": rule.review_mode}


def _find_rule(organization_id: int, *, team_id: int | None, role: str) -> ReviewRule | None:
    rules = ReviewRule.objects.for_org(organization_id)
    return rules.filter(team_id=team_id).first() if team_id else rules.filter(role=role, team__isnull=True).first()


def _save_rule(
    policy: Policy,
    rule: ReviewRule | None,
    membership: Membership,
    *,
    team_id: int | None,
    role: str,
    review_mode: str,
) -> ReviewRule:
    """Create or change a rule, a new policy version, audited."""
    org_id = policy.organization_id
    before = _rule_state(rule) if rule else None
    if rule is None:
        rule = ReviewRule.objects.create(
            organization_id=org_id, team_id=team_id or None, role=role, review_mode=review_mode
        )
    else:
        rule.review_mode = review_mode
        rule.save(update_fields=["review_mode"])
    _touch(policy, membership)
    audit.record("policy.review_rule_set", organization_id=org_id, target=rule, before=before, after=_rule_state(rule))
    return rule


def _delete_rule(policy: Policy, rule: ReviewRule, membership: Membership) -> None:
    audit.record(
        "policy.review_rule_removed", organization_id=rule.organization_id, target=rule, before=_rule_state(rule)
    )
    rule.delete()
    _touch(policy, membership)


def _rule_target(team: Team | None, role: str) -> dict:
    return {"team_id": team.pk if team else None, "team_name": team.name if team else "", "role": role}


def _rule_before(policy: Policy, rule: ReviewRule | None, target: dict) -> dict:
    return {**target, "review_mode": rule.review_mode if rule else None, "default_review_mode": policy.review_mode}


@transaction.atomic
def set_review_rule(
    *, actor: Membership, review_mode: str, team_id: int | None = None, role: str = ""
) -> ReviewRule | PendingPolicyChange:
    """Set the review mode for one team or one role (replacing its earlier rule). Where several
    rules match an author, the strictest wins; authors no rule matches get the policy's
    default.

    A rule that asks for less review than before (than the rule it replaces, or than the
    default for a new rule) is a relaxation: it is not applied but returned as a
    PendingPolicyChange that another compliance officer or an org admin confirms. Otherwise
    the saved rule is returned. Raises ValidationFailed for neither or both of team and
    role, an unknown role or mode, and NotFound for another organization's team."""
    require(actor, Permission.COMPLIANCE_POLICY)
    _choice(review_mode, Policy.ReviewMode, "review_mode", _("Choose who needs review."))
    role = (role or "").strip()
    if bool(team_id) == bool(role):
        raise ValidationFailed(
            _("Choose either a team or a role for the rule."),
            fields={"team": [_("Team or role.")], "role": [_("Team or role.")]},
        )
    org_id = actor.organization_id
    if role and role not in {r.value for r in Role}:
        raise ValidationFailed(_("“%(role)s” is not a role.") % {"role": role}, fields={"role": [_("Unknown role.")]})
    team = Team.objects.for_org(org_id).filter(pk=team_id).first() if team_id else None
    if team_id and team is None:
        raise NotFound(_("No such team."))
    policy = _locked_policy(actor)
    rule = _find_rule(org_id, team_id=team_id, role=role)
    if _weaker(review_mode, rule.review_mode if rule else policy.review_mode):
        target = _rule_target(team, role)
        return _request_relaxation(
            actor,
            kind=PendingPolicyChange.Kind.REVIEW_RULE_SET,
            changes={**target, "review_mode": review_mode},
            before=_rule_before(policy, rule, target),
        )
    return _save_rule(policy, rule, actor, team_id=team_id, role=role, review_mode=review_mode)


@transaction.atomic
def remove_review_rule(*, actor: Membership, review_rule_id: int) -> ReviewRule | PendingPolicyChange:
    """Remove a team or role rule: its members get the policy's default again, or the
    strictest other rule that matches them. Returns the removed rule (no longer saved).

    When that fallback may be weaker than the rule (the default, or any other rule, asks
    for less review), removing is a relaxation: the rule stays and a PendingPolicyChange
    is returned, for another compliance officer or an org admin to confirm. Raises
    NotFound for a rule that is not this organization's."""
    require(actor, Permission.COMPLIANCE_POLICY)
    policy = _locked_policy(actor)
    org_id = actor.organization_id
    rule = ReviewRule.objects.for_org(org_id).select_related("team").filter(pk=review_rule_id).first()
    if rule is None:
        raise NotFound(_("No such rule."))
    others = ReviewRule.objects.for_org(org_id).exclude(pk=rule.pk).values_list("review_mode", flat=True)
    weakest_fallback = min([policy.review_mode, *others], key=REVIEW_STRICTNESS.__getitem__)
    if _weaker(weakest_fallback, rule.review_mode):
        target = _rule_target(rule.team, rule.role)
        return _request_relaxation(
            actor,
            kind=PendingPolicyChange.Kind.REVIEW_RULE_REMOVE,
            changes=target,
            before=_rule_before(policy, rule, target),
        )
    _delete_rule(policy, rule, actor)
    return rule
