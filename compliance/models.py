"""Policies, screening results, review decisions, the audit trail and archive exports.

Data and invariants only; the behaviour lives in `compliance.services` (writes),
`compliance.selectors` (reads) and `compliance.engine` (the pure screening engine).
"""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.fields import EncryptedTextField
from accounts.models import Organization, Role, Team, User
from advocacy.search import search_vector_field, words_of
from advocacy.storage import private_storage
from advocacy.tenancy import TenantModel
from content.models import Share, ShareVersion


class Action(models.TextChoices):
    """What a finding does to a share, most severe first."""

    BLOCK = "block", _("Block")
    REVIEW = "review", _("Needs review")
    WARN = "warn", _("Warn")


class Policy(TenantModel):
    """One per organization: everything screening and review need besides the rule lists."""

    class ReviewMode(models.TextChoices):
        ALL = "all", _("Every share is reviewed")
        FINDINGS = "findings", _("Only shares with findings")
        NONE = "none", _("No review")

    class DisclosureMode(models.TextChoices):
        OFF = "off", _("No disclosure")
        APPEND = "append", _("Append it to every post")
        REQUIRE = "require", _("Block posts without it")

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="policy")
    review_mode = models.CharField(max_length=20, choices=ReviewMode.choices, default=ReviewMode.FINDINGS)
    auto_approve_suggestions = models.BooleanField(
        default=True, help_text=_("Unchanged pre-approved suggestions with no findings skip the queue.")
    )
    four_eyes = models.BooleanField(default=True, help_text=_("Nobody reviews their own share."))
    review_sla_hours = models.PositiveIntegerField(default=24)
    disclosure = models.CharField(max_length=100, blank=True, help_text=_("For example #employee or #ad."))
    disclosure_mode = models.CharField(max_length=20, choices=DisclosureMode.choices, default=DisclosureMode.OFF)
    restrict_link_domains = models.BooleanField(
        default=False, help_text=_("Links to domains outside the allowed list are findings.")
    )
    link_domain_action = models.CharField(max_length=10, choices=Action.choices, default=Action.REVIEW)
    retention_years = models.PositiveSmallIntegerField(default=7)
    delete_after_retention = models.BooleanField(
        default=False,
        db_default=False,
        help_text=_("Delete shares and their history once the retention period ends (legal holds excepted)."),
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"policy of {self.organization_id}"


# How much review each mode asks for, higher is stricter: an author matched by several review
# rules gets the strictest, and a change to a lower number is a relaxation.
REVIEW_STRICTNESS = {Policy.ReviewMode.ALL: 2, Policy.ReviewMode.FINDINGS: 1, Policy.ReviewMode.NONE: 0}


# How a term matches, in the words of a sentence ("guarantee", matched with its other forms).
MATCH_WORDS = {"inflections": _("with its other forms"), "exact": _("exactly"), "wildcard": _("with wildcards")}


class LexiconTerm(TenantModel):
    """A word or phrase, matched case-insensitively on whole words after normalisation, as the
    officer says: with its inflections, exactly, or with wildcards; optionally only near
    another word (proximity) and never where one of its exceptions covers it
    (`compliance.engine` says precisely how)."""

    class Match(models.TextChoices):
        INFLECTIONS = "inflections", _("The word and its other forms (guarantee, guarantees, guaranteed)")
        EXACT = "exact", _("Exactly as written")
        WILDCARD = "wildcard", _("With wildcards (guarant* or *vest*)")

    class Language(models.TextChoices):
        EN = "en", _("English")
        FR = "fr", _("French")
        DE = "de", _("German")
        ES = "es", _("Spanish")

    term = models.CharField(max_length=200)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.REVIEW)
    note = models.CharField(max_length=300, blank=True, help_text=_("Shown to the employee: why it matters."))
    match = models.CharField(max_length=12, choices=Match.choices, default=Match.INFLECTIONS)
    language = models.CharField(
        max_length=5, choices=Language.choices, default=Language.EN, help_text=_("Whose word forms count.")
    )
    # Which posts it screens: those written in this language only, or every post ("").
    applies_to = models.CharField(max_length=8, blank=True, default="", db_default="")
    near = models.CharField(
        max_length=200, blank=True, help_text=_("Only when this word or phrase is close by (empty: anywhere).")
    )
    near_distance = models.PositiveSmallIntegerField(default=5, help_text=_("How many words apart, at most."))
    exceptions = models.JSONField(
        default=list, blank=True, help_text=_("Phrases that allow the term where they contain it (“not guaranteed”).")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["term"]
        constraints = [models.UniqueConstraint(fields=["organization", "term"], name="lexicon_unique_term")]

    def __str__(self) -> str:
        return self.term

    @property
    def match_words(self) -> str:
        """How it matches, for a sentence: "with its other forms (English)", "exactly"..."""
        words = MATCH_WORDS.get(self.match, self.match)
        return f"{words} ({self.get_language_display()})" if self.match == self.Match.INFLECTIONS else words


class PatternRule(TenantModel):
    """A regular expression (validated and bounded when saved)."""

    name = models.CharField(max_length=100)
    pattern = models.CharField(max_length=500)
    action = models.CharField(max_length=10, choices=Action.choices, default=Action.REVIEW)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="pattern_unique_name")]

    def __str__(self) -> str:
        return self.name


class AllowedDomain(TenantModel):
    """A link domain that needs no finding (subdomains included)."""

    domain = models.CharField(max_length=253)

    class Meta:
        ordering = ["domain"]
        constraints = [models.UniqueConstraint(fields=["organization", "domain"], name="allowed_domain_unique")]

    def __str__(self) -> str:
        return self.domain


class ReviewRule(TenantModel):
    """Review mode for one team or one role, overriding the policy's default.

    Where several rules match an author, the strictest wins (all > findings > none).
    """

    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, blank=True)
    review_mode = models.CharField(max_length=20, choices=Policy.ReviewMode.choices)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(team__isnull=False) & models.Q(role=""))
                | (models.Q(team__isnull=True) & ~models.Q(role="")),
                name="review_rule_team_xor_role",
            )
        ]


class Screening(TenantModel):
    """The findings screening produced for one version of a share, per network.

    `findings` is {network: [{"rule", "action", "message", "start", "end"}, ...]}.
    """

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="screenings")
    version = models.ForeignKey(ShareVersion, null=True, on_delete=models.CASCADE, related_name="screenings")
    findings = models.JSONField(default=dict)
    texts = models.JSONField(default=dict, help_text=_("network -> the exact text screened"))
    worst_action = models.CharField(max_length=10, blank=True)
    outcome = models.CharField(max_length=20, help_text=_("approved | in_review | rejected"))
    created_at = models.DateTimeField(auto_now_add=True)
    # The screened texts and the findings' words for full-text search (advocacy.search).
    search_vector = search_vector_field(jsonb=("texts", "findings"))

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organization", "share", "-created_at"], name="screening_share_idx"),
            GinIndex(fields=["search_vector"], name="screening_search_idx"),
        ]


class ReviewTask(TenantModel):
    """A share waiting for a human: one open task per share in review."""

    share = models.OneToOneField(Share, on_delete=models.CASCADE, related_name="review_task")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    worst_action = models.CharField(max_length=10, blank=True, help_text=_("Most severe finding, '' when none."))
    networks = models.JSONField(default=list)
    due_at = models.DateTimeField()
    assigned_to = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    claimed_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When it passed its deadline and went to the escalation pool.")
    )

    class Meta:
        indexes = [models.Index(fields=["organization", "closed_at", "due_at"], name="review_task_queue_idx")]


class Decision(TenantModel):
    """A reviewer's (or the policy's) decision on one version of a share."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CHANGES_REQUESTED = "changes_requested", _("Sent back")

    share = models.ForeignKey(Share, on_delete=models.CASCADE, related_name="decisions")
    version = models.PositiveIntegerField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reviewer = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the policy decided."),
    )
    comment = models.TextField(blank=True)
    text_hashes = models.JSONField(default=dict, help_text=_("delivery id -> sha256 of the approved text"))
    decided_at = models.DateTimeField()
    review_opened_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When this version entered the review queue (time to decision).")
    )
    # The reviewer's comment for full-text search (advocacy.search).
    search_vector = search_vector_field("comment")

    class Meta:
        ordering = ["-decided_at"]
        constraints = [
            models.UniqueConstraint(fields=["share", "version"], name="one_decision_per_version"),
        ]
        indexes = [
            models.Index(fields=["organization", "decided_at"], name="decision_org_decided_idx"),
            GinIndex(fields=["search_vector"], name="decision_search_idx"),
        ]


class AuditEntry(TenantModel):
    """One state change. Append-only; `hash` = sha256(previous hash + canonical entry).

    The database refuses UPDATE and DELETE on this table (a trigger, migration 0002).
    """

    sequence = models.PositiveBigIntegerField(help_text=_("1, 2, 3... per organization"))
    at = models.DateTimeField()
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True, help_text=_("e-mail at the time, or 'system'"))
    ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    key_id = models.CharField(
        max_length=16,
        blank=True,
        db_default="",
        help_text=_("Which AUDIT_HMAC_KEYS key signed the hash; empty = an unkeyed sha256 entry (before keys)."),
    )
    # The entry's words for full-text search: the action ("share approved"), who, the target's
    # type and every string of the change. Written by the database, outside the hash (which
    # covers `entry_payload` only), so the chain is untouched.
    search_vector = search_vector_field(
        words_of("action", blank="._"),
        words_of("actor_label", blank="@._-"),
        words_of("target_type", blank="._"),
        jsonb=("before", "after"),
    )

    class Meta:
        ordering = ["organization", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "sequence"], name="audit_unique_sequence"),
        ]
        indexes = [
            models.Index(fields=["organization", "-at"], name="audit_org_at_idx"),
            models.Index(fields=["organization", "target_type", "target_id"], name="audit_target_idx"),
            GinIndex(fields=["search_vector"], name="audit_search_idx"),
        ]


class ArchiveExport(TenantModel):
    """A zip of everything in scope for a date range, built by a task."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Building")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    date_from = models.DateField()
    date_to = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("percent"))
    total_shares = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="archives/%Y/%m/", blank=True, storage=private_storage)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


# Plain words for a review mode inside a sentence ("from every share reviewed to no review").
REVIEW_MODE_WORDS = {
    Policy.ReviewMode.ALL: _("every share reviewed"),
    Policy.ReviewMode.FINDINGS: _("only shares with findings reviewed"),
    Policy.ReviewMode.NONE: _("no review"),
}


class PendingPolicyChange(TenantModel):
    """A relaxation of review that waits for a second person (another compliance officer
    or an org admin), never applied by the one who asked.

    `kind` says what it changes:
    * settings: four-eyes off, a weaker default review mode, auto-approval on.
      `changes` is {setting: the value asked for}; `before` the same settings as they were.
    * review_rule_set: a team's or role's review rule set weaker than it was (or a new rule
      weaker than the default). `changes` is the rule asked for {team_id, team_name, role,
      review_mode}; `before` the same with the rule's mode then (None: no rule) and
      `default_review_mode`, the policy's default then.
    * review_rule_remove: removing a rule lets a weaker default or rule apply. `changes`
      names the rule {team_id, team_name, role}; `before` is as for review_rule_set.
    * term_update: a lexicon term changed so that it lets through something it flagged (a
      milder action, fewer word forms, a partner, an exception). `changes` is the term as
      asked {term_id, term, action, note, match, language, near, near_distance, exceptions};
      `before` the same fields as they were.

    Confirming applies `changes` only while the target still is as `before` says.
    """

    class Kind(models.TextChoices):
        SETTINGS = "settings", _("Policy settings")
        REVIEW_RULE_SET = "review_rule_set", _("Set a review rule")
        REVIEW_RULE_REMOVE = "review_rule_remove", _("Remove a review rule")
        TERM_UPDATE = "term_update", _("Change a lexicon term")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SETTINGS)
    requested_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    changes = models.JSONField(help_text=_("What is asked for; its shape depends on the kind (see the model)."))
    before = models.JSONField(null=True, blank=True, help_text=_("The target as it was when this was asked."))
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.PENDING)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.describe()

    @property
    def target_key(self) -> tuple:
        """What the change is about: the settings, or one team's or role's rule."""
        if self.kind == self.Kind.SETTINGS:
            return ("settings",)
        if self.kind == self.Kind.TERM_UPDATE:
            return ("term", self.changes.get("term_id"))
        return ("review_rule", self.changes.get("team_id"), self.changes.get("role") or "")

    def describe(self) -> str:
        """The change in plain words, for the policy page and the audit trail."""
        before = self.before or {}
        if self.kind == self.Kind.SETTINGS:
            return "; ".join(_describe_setting(name, value, before.get(name)) for name, value in self.changes.items())
        if self.kind == self.Kind.TERM_UPDATE:
            return _describe_term_change(self.changes, before)
        subject = _rule_subject(self.changes)
        if self.kind == self.Kind.REVIEW_RULE_REMOVE:
            was, default = before.get("review_mode"), before.get("default_review_mode")
            words = {"subject": subject, "mode": _mode_words(was), "default": _mode_words(default)}
            if was and default:
                return (
                    gettext(
                        "Remove the review rule for %(subject)s (%(mode)s); its members get the default "
                        "(%(default)s) or another rule"
                    )
                    % words
                )
            if was:
                return gettext("Remove the review rule for %(subject)s (%(mode)s)") % words
            if default:
                return (
                    gettext(
                        "Remove the review rule for %(subject)s; its members get the default (%(default)s) "
                        "or another rule"
                    )
                    % words
                )
            return gettext("Remove the review rule for %(subject)s") % words
        was = before.get("review_mode")
        if was:
            start = _mode_words(was)
        elif before.get("default_review_mode"):
            start = gettext("the default (%(mode)s)") % {"mode": _mode_words(before["default_review_mode"])}
        else:
            start = gettext("the default")
        return gettext("Review rule for %(subject)s: from %(start)s to %(mode)s") % {
            "subject": subject,
            "start": start,
            "mode": _mode_words(self.changes.get("review_mode")),
        }


def _mode_words(mode) -> str:
    return REVIEW_MODE_WORDS.get(mode, str(mode))


def _rule_subject(rule: dict) -> str:
    if rule.get("team_id"):
        return gettext("team %(team)s") % {"team": rule.get("team_name") or rule["team_id"]}
    role = rule.get("role") or ""
    return gettext("role %(role)s") % {"role": Role(role).label if role in Role.values else role}


def _describe_setting(name: str, value, was) -> str:
    if name == "four_eyes":
        return gettext("Turn four-eyes review off") if not value else gettext("Turn four-eyes review on")
    if name == "auto_approve_suggestions":
        return (
            gettext("Let unchanged pre-approved suggestions with no findings skip review")
            if value
            else gettext("Review unchanged pre-approved suggestions too")
        )
    if name == "review_mode":
        if was:
            return gettext("Default review: from %(was)s to %(mode)s") % {
                "was": _mode_words(was),
                "mode": _mode_words(value),
            }
        return gettext("Default review: to %(mode)s") % {"mode": _mode_words(value)}
    return f"{name.replace('_', ' ').capitalize()}: {value}"  # untranslated: a setting with no words yet


_TERM_FIELD_WORDS = {
    "action": _("action"),
    "note": _("note"),
    "match": _("matching"),
    "language": _("language"),
    "near": _("only near"),
    "near_distance": _("words apart"),
    "exceptions": _("exceptions"),
}


def _term_value_words(name: str, value) -> str:
    if name == "exceptions":
        return ", ".join(gettext("“%(phrase)s”") % {"phrase": phrase} for phrase in value) if value else gettext("none")
    if name == "match":
        return MATCH_WORDS.get(value, str(value))
    if name == "language":
        return LexiconTerm.Language(value).label if value in LexiconTerm.Language.values else str(value)
    if name == "action":
        return Action(value).label if value in Action.values else str(value)
    if value != "":
        return gettext("“%(value)s”") % {"value": value}
    return gettext("anywhere") if name == "near" else gettext("none")


def _describe_term_change(changes: dict, before: dict) -> str:
    parts = [
        # Translators: "action from Needs review to Warn", "exceptions from none to “not guaranteed”".
        gettext("%(field)s from %(was)s to %(value)s")
        % {
            "field": _TERM_FIELD_WORDS[name],
            "was": _term_value_words(name, before.get(name)),
            "value": _term_value_words(name, value),
        }
        for name, value in changes.items()
        if name in _TERM_FIELD_WORDS and before.get(name) != value
    ]
    return gettext("Lexicon term “%(term)s”: %(changes)s") % {
        "term": changes.get("term"),
        "changes": "; ".join(parts) or gettext("no change"),
    }


class SupervisionAssignment(TenantModel):
    """A reviewer who supervises (FINRA 3110) the posts of one team (a department or a
    location), of everyone holding one role, or who sits in the fallback pool: posts that no
    team or role assignment covers, and overdue reviews (escalation).

    A share entering review is routed to its author's supervisors
    (`compliance.services.supervision.route_review_task`); never to the author.
    """

    class Scope(models.TextChoices):
        TEAM = "team", _("Team or location")
        ROLE = "role", _("Role")
        FALLBACK = "fallback", _("Fallback pool")

    reviewer = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=10, choices=Scope.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=20, blank=True, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["scope", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(scope="team", team__isnull=False, role=""))
                | (models.Q(scope="role", team__isnull=True) & ~models.Q(role=""))
                | models.Q(scope="fallback", team__isnull=True, role=""),
                name="supervision_scope_matches",
            ),
            models.UniqueConstraint(
                fields=["organization", "reviewer", "team"],
                condition=models.Q(scope="team"),
                name="supervision_unique_team",
            ),
            models.UniqueConstraint(
                fields=["organization", "reviewer", "role"],
                condition=models.Q(scope="role"),
                name="supervision_unique_role",
            ),
            models.UniqueConstraint(
                fields=["organization", "reviewer"],
                condition=models.Q(scope="fallback"),
                name="supervision_unique_fallback",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer_id} supervises {self.describe_target()}"

    def describe_target(self) -> str:
        """What is supervised, in plain words ("the Paris location", "every marketer")."""
        if self.scope == self.Scope.TEAM:
            name = self.team.name if self.team else "?"
            if self.team and self.team.kind == Team.Kind.LOCATION:
                return gettext("the %(name)s location") % {"name": name}
            return gettext("the %(name)s team") % {"name": name}
        if self.scope == self.Scope.ROLE:
            if self.role in Role.values:
                return gettext("every %(role)s") % {"role": Role(self.role).label.lower()}
            return self.role
        return gettext("the fallback pool")


class ReviewTaskSupervisor(TenantModel):
    """A reviewer a review task was routed to, and why (kept for the record: who was
    responsible for the post when it waited)."""

    class Reason(models.TextChoices):
        TEAM = "team", _("Supervises the author's team")
        ROLE = "role", _("Supervises the author's role")
        FALLBACK = "fallback", _("Fallback pool")
        EVERYONE = "everyone", _("Every compliance officer (no supervision set)")
        ESCALATION = "escalation", _("Escalated past the deadline")

    task = models.ForeignKey(ReviewTask, on_delete=models.CASCADE, related_name="supervisors")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["task", "user"], name="review_task_supervisor_unique")]
        indexes = [models.Index(fields=["organization", "user", "task"], name="review_supervisor_user_idx")]


class LegalHold(TenantModel):
    """A legal hold: while it is active, no share it covers (with its versions, screenings,
    decisions and deliveries) may be deleted, whatever the retention period says.

    Its scope is a person (`membership`: shares they authored), a team (`team`: shares whose
    author was in it when they shared, `Share.team`), a range of days (`date_from`/`date_to`,
    inclusive, in the organization's time zone: shares active on some day of it), or a person
    or a team within a range. Every scope field that is set must match. The scope never
    changes once placed (a different scope is a new hold); releasing records who and when,
    and the hold stays listed. The database enforces it (migration 0011_legal_hold, the
    retention guard); `compliance.services.holds` places and releases holds.
    """

    name = models.CharField(max_length=200, help_text=_("The matter's name or reference, e.g. Matter 2026-14."))
    reason = models.TextField(help_text=_("Why the records are held."))
    membership = models.ForeignKey(
        "accounts.Membership",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Hold the shares this person authored."),
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text=_("Hold the team's shares.")
    )
    date_from = models.DateField(null=True, blank=True, help_text=_("First day (organization's time zone)."))
    date_to = models.DateField(null=True, blank=True, help_text=_("Last day (organization's time zone)."))
    placed_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    placed_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)
    released_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)
    release_reason = models.TextField(blank=True)
    shares_held_at_release = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(membership__isnull=False)
                | models.Q(team__isnull=False)
                | models.Q(date_from__isnull=False)
                | models.Q(date_to__isnull=False),
                name="legal_hold_has_scope",
            ),
            models.CheckConstraint(
                condition=models.Q(membership__isnull=True) | models.Q(team__isnull=True),
                name="legal_hold_person_or_team",
            ),
            models.CheckConstraint(
                condition=models.Q(date_from__isnull=True)
                | models.Q(date_to__isnull=True)
                | models.Q(date_to__gte=models.F("date_from")),
                name="legal_hold_range_in_order",
            ),
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=models.Q(released_at__isnull=True),
                name="legal_hold_unique_active_name",
            ),
        ]
        indexes = [models.Index(fields=["organization", "released_at"], name="legal_hold_org_active_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class ArchiveDestination(TenantModel):
    """Where the daily archive feed goes: an archiving vendor's SFTP drop or an S3-compatible
    bucket. The password, private key and secret are encrypted at rest (accounts.crypto) and
    never shown back. `delivered_until` is the watermark: every post published and every
    decision made before it is delivered; it only moves after a run that succeeded."""

    class Kind(models.TextChoices):
        SFTP = "sftp", _("SFTP server")
        S3 = "s3", _("S3-compatible bucket")

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    enabled = models.BooleanField(default=True, help_text=_("Delivered to every day."))
    # SFTP
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(default=22)
    username = models.CharField(max_length=255, blank=True)
    password = EncryptedTextField(blank=True)
    private_key = EncryptedTextField(blank=True)
    host_key_fingerprint = models.CharField(max_length=100, blank=True)
    remote_directory = models.CharField(max_length=500, blank=True)
    # S3-compatible
    endpoint_url = models.CharField(max_length=500, blank=True, help_text=_("Empty: AWS S3."))
    region = models.CharField(max_length=50, blank=True)
    bucket = models.CharField(max_length=255, blank=True)
    prefix = models.CharField(max_length=500, blank=True)
    access_key_id = models.CharField(max_length=255, blank=True)
    secret_access_key = EncryptedTextField(blank=True)

    delivered_until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="archive_destination_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def where(self) -> str:
        """The place in words, without any secret ("sftp://archive@drop.example:22/in")."""
        if self.kind == self.Kind.SFTP:
            return f"sftp://{self.username}@{self.host}:{self.port}/{self.remote_directory.lstrip('/')}"
        endpoint = self.endpoint_url or "AWS S3"
        return f"{endpoint} bucket {self.bucket}" + (f", prefix {self.prefix}" if self.prefix else "")


class ArchiveFeedRun(TenantModel):
    """One delivery of the archive feed to a destination: the EML messages of the posts
    published and the decisions made in [window_start, window_end), then the manifest,
    under `folder` (the day, in the organization's time zone)."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Delivering")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", _("Daily schedule")
        MANUAL = "manual", _("Run by an officer")

    destination = models.ForeignKey(ArchiveDestination, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    requested_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    folder = models.CharField(max_length=20)
    window_start = models.DateTimeField(null=True, blank=True, help_text=_("Empty: from the first record."))
    window_end = models.DateTimeField()
    posts = models.PositiveIntegerField(default=0)
    decisions = models.PositiveIntegerField(default=0)
    uploaded = models.PositiveIntegerField(default=0, help_text=_("Messages written in this run."))
    skipped = models.PositiveIntegerField(default=0, help_text=_("Messages an earlier run had delivered."))
    manifest = models.JSONField(default=list, help_text=_("name, sha256, bytes, record id and kind per file"))
    error = models.CharField(max_length=500, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["destination", "folder", "status"], name="feed_run_folder_idx")]


class PendingAuditEntry(TenantModel):
    """An audit entry written with its change but not yet linked into the chain.

    Hot paths (the publish engine) write here, in their own transaction and without the
    organization's chain lock; right after their commit `chain_pending` moves every pending
    entry of the organization, in id order, into `AuditEntry` under the lock, many at a time
    (compliance.services.audit explains why). A row lives here for milliseconds; the
    minute's `chain_pending_audit` task and `verify_chain` link whatever a dead process left.
    """

    at = models.DateTimeField()
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=80, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["organization", "pk"]
