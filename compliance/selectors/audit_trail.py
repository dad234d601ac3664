"""The audit trail in words (issue 19, item 4): each entry as a sentence a compliance officer
reads ("Dana Officer approved Emma Employee's share 'Acme opens…' for LinkedIn"), its change
as a before/after table, its target linked to the page that shows it when the viewer may see
that page.

`SENTENCES` is the one registry of action codes: every code an app writes through
`advocacy.audit.record` has a sentence here (tests/compliance/test_audit.py walks the source
and fails on a code without one). A sentence is a `str.format` template over
  {actor}   who did it (their name, else the label stored on the entry),
  {target}  what it was done to, resolved from the database for the page's entries,
  {before[field]} / {after[field]}  a value of the change ("" when absent).

`entries_in_words` resolves a page of entries in a fixed number of queries: one per kind of
target present on the page (shares with their deliveries, deliveries, members, teams, items,
connections), whatever the number of entries.
"""

from __future__ import annotations

import string
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.dateparse import parse_datetime
from django.utils.text import Truncator, get_text_list
from django.utils.translation import gettext_noop

from accounts.models import Membership, SocialConnection, Team, network_label
from accounts.permissions import Permission, can
from advocacy.timezones import format_when
from compliance.models import AllowedDomain, AuditEntry, PatternRule, Policy, ReviewRule
from content.models import ContentItem, Delivery, Share

# Action code -> sentence. Keep it in step with what the apps record (the test says which is missing).
SENTENCES: dict[str, str] = {
    # shares: the lifecycle (content.lifecycle writes share.<status> for a move without its own code)
    "share.submitted": "{actor} submitted {target}",
    "share.edited": "{actor} edited {target} (version {after[version]})",
    "share.screened": "Screening found {after[findings]} finding(s) in version {after[version]} of {target}",
    "share.routed": "{actor} routed {target} to {after[status]}",
    "share.in_review": "{target} went to review",
    "share.approved": "{actor} approved {target}",
    "share.rejected": "{actor} rejected {target}",
    "share.sent_back": "{actor} sent {target} back for changes",
    "share.changes_requested": "{actor} sent {target} back for changes",
    "share.scheduled": "{target} was scheduled",
    "share.publishing": "{target} started publishing",
    "share.published": "{target} was published",
    "share.failed": "{target} failed on every account",
    "share.cancelled": "{actor} cancelled {target}",
    "share.held": "{target} was held: its author was suspended",
    "share.released": "{actor} released {target} from its hold",
    "share.text_changed_after_approval": "{target} changed after approval and went back to a reviewer",
    # deliveries: one post on one account
    "delivery.pending": "{target} is waiting to be posted",
    "delivery.publishing": "{target} is being posted",
    "delivery.published": "{target} was posted",
    "delivery.posted_id_unknown": "{target} was posted; its link is not known yet",
    "delivery.retrying": "{target} will be retried: {after[failure_reason]}",
    "delivery.failed": "{target} failed: {after[failure_reason]}",
    "delivery.needs_reconnect": "{target} waits for its account to be reconnected",
    "delivery.cancelled": "{target} was cancelled",
    "delivery.assisted_share_confirmed": "{actor} confirmed posting {target} in the network's window",
    "delivery.lease_expired": "Publishing {target} took too long; it will be checked on the network",
    "delivery.post_attached": "{actor} attached the link of {target}",
    "delivery.removed": "{actor} took {target} down from the network",
    "delivery.retry_requested": "{actor} asked to retry {target}",
    "delivery.image_uploaded": "The picture of {target} was uploaded to the network",
    "delivery.image_forgotten": "The network no longer had the picture of {target}; it is uploaded again",
    # the review queue
    "review_task.opened": "{target} entered the review queue",
    "review_task.reopened": "{target} entered the review queue again",
    "review_task.closed": "{target} left the review queue",
    "review_task.claimed": "{actor} took {target}",
    "review_task.assigned": "{actor} assigned {target}",
    "review_task.unassigned": "{actor} put {target} back in the common queue",
    "review_task.escalated": "{target} passed its review deadline and was escalated to more reviewers",
    # supervision (FINRA 3110)
    "supervision.assigned": "{actor} made a reviewer supervise {after[supervises]}",
    "supervision.removed": "{actor} ended a supervision of {before[supervises]}",
    # the policy
    "policy.created": "{actor} created the compliance policy",
    "policy.updated": "{actor} changed the policy settings",
    "policy.change_requested": "{actor} asked for a policy change that needs a second person: {after[description]}",
    "policy.change_confirmed": "{actor} confirmed a policy change: {after[description]}",
    "policy.change_withdrawn": "{actor} withdrew a policy change: {after[description]}",
    "policy.term_added": "{actor} added the term “{after[term]}” to the lexicon ({after[action]})",
    "policy.term_removed": "{actor} removed the term “{before[term]}” from the lexicon",
    "policy.term_updated": "{actor} changed the lexicon term “{after[term]}”",
    "policy.terms_imported": "{actor} imported {after[count]} lexicon term(s)",
    "policy.pattern_added": "{actor} added the pattern rule “{after[name]}”",
    "policy.pattern_removed": "{actor} removed the pattern rule “{before[name]}”",
    "policy.domain_added": "{actor} allowed links to {after[domain]}",
    "policy.domain_removed": "{actor} no longer allows links to {before[domain]}",
    "policy.review_rule_set": "{actor} set a review rule: {after[review_mode]}",
    "policy.review_rule_removed": "{actor} removed a review rule",
    "policy.retention_changed": "{actor} changed how long records are kept",
    # archive
    "archive.requested": "{actor} asked for an archive export",
    "archive.exported": "An archive export was built",
    "archive.downloaded": "{actor} downloaded an archive export",
    "archive.search_exported": "{actor} exported {after[rows]} search result(s) for “{after[q]}”",
    "archive_feed.destination_added": "{actor} added the archive feed destination “{after[name]}”",
    "archive_feed.destination_saved": "{actor} changed the archive feed destination {target}",
    "archive_feed.destination_tested": "{actor} tested the connection to {target}: {after[message]}",
    "archive_feed.run_requested": "{actor} asked to deliver the archive feed to {target} now",
    "archive_feed.delivered": "The archive feed delivered {after[uploaded]} message(s) to “{after[destination]}”",
    "archive_feed.failed": "The archive feed to “{after[destination]}” failed: {after[error]}",
    # legal holds and retention
    "legal_hold.placed": "{actor} placed the legal hold “{after[name]}” on {after[scope]}",
    "legal_hold.changed": "{actor} changed the legal hold {target}",
    "legal_hold.released": "{actor} released the legal hold “{after[name]}”: {after[release_reason]}",
    "retention.purged": "{after[shares_removed]} share(s) past the retention period were deleted",
    # content library
    "content_item.created": "{actor} added {target} to the library",
    "content_item.updated": "{actor} edited {target}",
    "content_item.published": "{actor} published {target}",
    "content_item.unpublished": "{actor} unpublished {target}",
    "content_item.archived": "{actor} archived {target}",
    "content_item.imported": "{target} was imported from a feed",
    "content_item.image_fetched": "The image of {target} was fetched",
    "content_item.preview_fetched": "The link preview of {target} was fetched",
    "content_item.preview_failed": "The link preview of {target} could not be fetched",
    "content_item.variant_added": gettext_noop("{actor} added the {after[language]} variant of {target}"),
    "content_item.variant_updated": gettext_noop("{actor} edited the {after[language]} variant of {target}"),
    "content_item.variant_removed": gettext_noop("{actor} removed the {after[language]} variant of {target}"),
    "content_item.language_set": gettext_noop("{actor} said {target} is written in {after[language]}"),
    "topic.created": "{actor} created the topic “{after[name]}”",
    "feed.added": "{actor} added the feed {after[url]}",
    "feed.paused": "{actor} paused a feed",
    "feed.resumed": "{actor} resumed a feed",
    "proposal.created": "{actor} proposed content for the library",
    "proposal.accepted": "{actor} accepted a content proposal",
    "proposal.declined": "{actor} declined a content proposal",
    # people and the organization
    "organization.created": "{actor} created the organization",
    "organization.settings_changed": "{actor} changed the organization's settings",
    "organization.signup_domains_changed": "{actor} changed the sign-up domains",
    "organization.signup_domain_verified": "{actor} verified a sign-up domain",
    "membership.created": "{target} joined",
    "membership.joined_by_domain": "{target} joined through the company's e-mail domain",
    "membership.updated": "{actor} changed {target}",
    "membership.roles_changed": "{actor} changed the roles of {target}",
    "membership.removed": "{actor} removed {target}",
    "membership.suspended": "{target} was suspended ({after[by]})",
    "membership.reactivated": "{target} was reactivated ({after[by]})",
    "sso.configured": "{actor} changed the single sign-on settings",
    "sso.tested": "{actor} ran a test sign-in through the identity provider",
    "sso.member_provisioned": "{target} joined through the company's single sign-on",
    "invitation.sent": "{actor} invited {after[email]}",
    "invitation.resent": "{actor} sent the invitation to {target} again",
    "invitation.revoked": "{actor} revoked the invitation to {target}",
    "invitation.accepted": "{actor} accepted the invitation",
    "invitation.expired": "The invitation to {target} expired",
    "team.created": "{actor} created the team “{after[name]}”",
    "team.updated": "{actor} changed {target}",
    "team.deleted": "{actor} deleted the team “{before[name]}”",
    "guidelines.published": "{actor} published new sharing guidelines",
    "guidelines.accepted": "{actor} accepted the sharing guidelines",
    "training_item.created": "{actor} added a training item",
    "training_item.updated": "{actor} changed a training item",
    "training_item.deleted": "{actor} removed a training item",
    "api_token.created": "{actor} created an API token",
    "api_token.revoked": "{actor} revoked an API token",
    # SCIM provisioning from the organization's directory (actor: "scim:<token name>")
    "scim.token_created": "{actor} created a SCIM token for the directory “{after[name]}”",
    "scim.token_revoked": "{actor} revoked the SCIM token “{after[name]}”",
    "scim.user_created": "The directory ({after[by]}) added {target} as {after[userName]}",
    "scim.user_linked": "The directory ({after[by]}) linked {target} as {after[userName]}",
    "scim.user_updated": "The directory ({after[by]}) changed {target}",
    "scim.user_deleted": "The directory ({after[by]}) deleted {target}; the membership is suspended and kept",
    "scim.group_created": "The directory ({after[by]}) created the group “{after[displayName]}”",
    "scim.group_updated": "The directory ({after[by]}) changed the group “{after[displayName]}”",
    "scim.group_deleted": "The directory ({after[by]}) deleted the group “{after[displayName]}”; the team is kept",
    "scim.group_roles_changed": "{actor} changed the roles the directory group {target} gives",
    # connected accounts and network apps
    "connection.connected": "{actor} connected {target}",
    "connection.reconnected": "{actor} reconnected {target}",
    "connection.disconnected": "{actor} disconnected {target}",
    "connection.refreshed": "The access of {target} was renewed",
    "connection.refresh_failed": "The access of {target} could not be renewed",
    "connection.needs_reconnect": "{target} needs to be reconnected",
    "connection.pages_selected": "{actor} chose the pages of {target}",
    "network_app.updated": "{actor} changed the settings of a network app",
    # analytics
    "analytics.settings_changed": "{actor} changed the ROI settings",
    "analytics.conversion_settings_changed": "{actor} changed the conversion settings",
    "analytics.points_rules_changed": "{actor} changed the points rules",
    "analytics.leaderboard_visibility_changed": "{actor} changed whether they appear on the leaderboard",
    "analytics.weekly_summary_changed": "{actor} changed their weekly summary e-mail",
    "conversion_key.created": "{actor} created a conversion key",
    "conversion_key.revoked": "{actor} revoked a conversion key",
    "crm.connected": "{actor} connected the CRM",
    "crm.disconnected": "{actor} disconnected the CRM",
    "crm.needs_reconnect": "The CRM connection needs to be reconnected",
    "deals.imported": "{actor} imported CRM deals from {target}",
    "slack.installed": "{actor} installed the Slack app in {after[team_name]}",
    "slack.uninstalled": "{actor} removed the Slack app",
    "slack.route_added": "{actor} sent new content to #{after[channel]} in Slack",
    "slack.route_removed": "{actor} stopped sending new content to #{before[channel]} in Slack",
    "slack.dm_digest": "{actor} changed their daily Slack message",
    "teams.channel_added": "{actor} sent new content to the Teams channel {after[name]}",
    "teams.channel_removed": "{actor} stopped sending new content to the Teams channel {before[name]}",
}

# Field names in a change, in words (others: the name with spaces).
FIELD_LABELS = {
    "status": "Status",
    "version": "Version",
    "commentary": "Words",
    "network_texts": "Words per network",
    "comment": "Reviewer's comment",
    "text_hashes": "Approved text fingerprints",
    "scheduled_for": "Scheduled for",
    "assigned_to": "Assigned to",
    "due_at": "Due",
    "closed_at": "Closed",
    "worst_action": "Most severe finding",
    "findings": "Findings",
    "outcome": "Outcome",
    "term": "Term",
    "action": "What it does",
    "note": "Note for the employee",
    "review_mode": "Review",
    "four_eyes": "Four eyes",
    "auto_approve_suggestions": "Auto-approve suggestions",
    "review_sla_hours": "Review within (hours)",
    "disclosure": "Disclosure",
    "disclosure_mode": "Disclosure mode",
    "retention_years": "Keep records (years)",
    "roles": "Roles",
    "email": "E-mail",
    "name": "Name",
}


class _Fields(dict):
    """A before/after dict that answers "" for a field the entry does not have."""

    def __missing__(self, key):
        return ""


class _Formatter(string.Formatter):
    def format_field(self, value, format_spec):
        return super().format_field(_plain(value), format_spec)


_FORMATTER = _Formatter()


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, str):
        moment = parse_datetime(value) if len(value) >= 16 and value[4:5] == "-" and "T" in value else None
        if moment is not None and moment.tzinfo is not None:
            return format_when(moment, "j M Y H:i:s")
        return value.replace("_", " ") if value.islower() and " " not in value and len(value) < 30 else value
    return str(value)


def sentence_for(action: str, *, actor: str, target: str, before: dict | None, after: dict | None) -> str:
    """The entry in words. An action the registry does not know reads as its code in words
    (the test keeps that from happening for codes the apps write)."""
    template = SENTENCES.get(action) or "{actor}: " + action.replace(".", " ").replace("_", " ") + " {target}"
    words = _FORMATTER.format(
        template, actor=actor, target=target, before=_Fields(before or {}), after=_Fields(after or {})
    ).strip()
    return words[:1].upper() + words[1:]


@dataclass
class ChangeRow:
    label: str
    before: str
    after: str
    changed: bool


def change_rows(before: dict | None, after: dict | None) -> list[ChangeRow]:
    """The change as rows (field label, before, after) in the order the entry has them; values
    in words, times in the viewer's zone."""
    before, after = before or {}, after or {}
    if not isinstance(before, dict):
        before = {"value": before}
    if not isinstance(after, dict):
        after = {"value": after}
    rows = []
    for name in dict.fromkeys([*before, *after]):
        old, new = _plain(before.get(name)), _plain(after.get(name))
        label = FIELD_LABELS.get(name) or str(name).replace("_", " ").capitalize()
        rows.append(ChangeRow(label, old, new, name in before and name in after and old != new))
    return rows


@dataclass
class Target:
    words: str
    url: str = ""


@dataclass
class EntryInWords:
    entry: AuditEntry
    sentence: str
    target: Target
    changes: list[ChangeRow] = field(default_factory=list)


def _title(text: str, length: int = 40) -> str:
    return Truncator((text or "").strip()).chars(length)


def _name(user) -> str:
    return user.get_full_name() if user is not None else "someone"


def _networks(labels: Iterable[str]) -> str:
    return str(get_text_list([network_label(n) for n in dict.fromkeys(labels)], "and"))


def share_words(share: Share, networks: Iterable[str] | None = None) -> str:
    """ "Emma Employee's share 'Acme opens…' for LinkedIn"."""
    if networks is None:
        networks = [d.network for d in share.deliveries.all()]
    title = share.item.title if share.item_id and share.item else share.commentary
    words = f"{_name(share.author)}'s share ‘{_title(title)}’"
    on = _networks(networks)
    return f"{words} for {on}" if on else words


# Target type -> (model, joined, prefetched): what a sentence names of it.
_LOADERS = {
    "content.share": (Share, ("author", "item"), ("deliveries",)),
    "content.delivery": (Delivery, ("share__author", "share__item"), ()),
    "accounts.membership": (Membership, ("user",), ()),
    "accounts.team": (Team, (), ()),
    "content.contentitem": (ContentItem, (), ()),
    "accounts.socialconnection": (SocialConnection, ("user",), ()),
}


# Entries about the policy's parts name the policy (model labels: "compliance.policy" is also a
# permission's name, which app code never spells).
_POLICY_TARGETS = frozenset(m._meta.label_lower for m in (Policy, PatternRule, AllowedDomain, ReviewRule))


class _Resolver:
    """Loads the targets of a page of entries: one query per kind of target present."""

    def __init__(self, organization, membership, entries: list[AuditEntry]):
        self.org_slug = organization.slug
        self.membership = membership
        ids: dict[str, set[int]] = defaultdict(set)
        for entry in entries:
            key = entry.target_type
            if key == "compliance.reviewtask":
                share_id = (entry.after or {}).get("share") or (entry.before or {}).get("share")
                if isinstance(share_id, int):
                    ids["content.share"].add(share_id)
                continue
            if entry.target_id.isdigit():
                ids[key].add(int(entry.target_id))
        self.loaded: dict[str, dict] = {}
        for kind, (model, joined, prefetched) in _LOADERS.items():
            rows = model.objects.for_org(organization.pk).filter(pk__in=ids[kind]) if ids[kind] else ()
            if ids[kind]:
                rows = rows.select_related(*joined).prefetch_related(*prefetched)
            self.loaded[kind] = {row.pk: row for row in rows}

    def _url(self, name: str, permission: Permission | None = None, **kwargs) -> str:
        if permission is not None and not can(self.membership, permission):
            return ""
        try:
            return reverse(name, kwargs={"org_slug": self.org_slug, **kwargs})
        except NoReverseMatch:
            return ""

    def share_link(self, share: Share) -> str:
        if can(self.membership, Permission.COMPLIANCE_REVIEW):
            return self._url("compliance:review", share_id=share.pk)
        if self.membership is not None and share.author_id == self.membership.user_id:
            return self._url("content:share_detail", share_id=share.pk)
        return ""

    def target(self, entry: AuditEntry) -> Target:
        kind, pk = entry.target_type, int(entry.target_id) if entry.target_id.isdigit() else None
        before, after = entry.before or {}, entry.after or {}
        both = {**before, **after} if isinstance(before, dict) and isinstance(after, dict) else {}
        if kind == "compliance.reviewtask":  # the task's share, named in the entry
            kind, pk = "content.share", both.get("share")
        row = self.loaded.get(kind, {}).get(pk)
        if kind == "content.share" and row is not None:
            return Target(share_words(row), self.share_link(row))
        if kind == "content.delivery" and row is not None:
            share = row.share
            words = f"{_name(share.author)}'s {row.get_network_display()} post of ‘{_title(share.item.title)}’"
            return Target(words, self.share_link(share))
        if kind == "accounts.membership" and row is not None:
            url = self._url("member_edit", Permission.MEMBERS_MANAGE, membership_id=pk)
            return Target(row.user.get_full_name(), url)
        if kind == "accounts.team" and row is not None:
            return Target(f"the team “{row.name}”", self._url("team_edit", Permission.TEAMS_MANAGE, team_id=pk))
        if kind == "content.contentitem" and row is not None:
            url = self._url("content:library_item", Permission.LIBRARY_MANAGE, content_item_id=pk)
            return Target(f"the item ‘{_title(row.title)}’", url)
        if kind == "accounts.socialconnection" and row is not None:
            return Target(f"{_name(row.user)}'s {row.get_network_display()} account")
        if kind == "compliance.lexiconterm":
            return Target(f"the term “{both.get('term', '')}”", self._url("compliance:policy_terms"))
        if kind in _POLICY_TARGETS:
            return Target("the policy", self._url("compliance:policy"))
        if kind == "compliance.pendingpolicychange":
            return Target("a policy change", self._url("compliance:policy_changes"))
        if kind == "compliance.archiveexport":
            return Target("an archive export", self._url("compliance:archive", Permission.COMPLIANCE_ARCHIVE))
        if kind == "compliance.legalhold":
            url = self._url("compliance:legal_hold", Permission.COMPLIANCE_HOLD, legal_hold_id=pk) if pk else ""
            return Target(f"“{both['name']}”" if both.get("name") else f"legal hold {entry.target_id}", url)
        if kind == "compliance.archivedestination":
            url = self._url(
                "compliance:archive_feed_edit", Permission.COMPLIANCE_ARCHIVE_FEEDS, archive_destination_id=pk
            )
            return Target(f"“{both['name']}”" if both.get("name") else "an archive feed destination", url)
        if kind == "compliance.archivefeedrun":
            return Target(
                "an archive feed run", self._url("compliance:archive_feeds", Permission.COMPLIANCE_ARCHIVE_FEEDS)
            )
        if kind == "compliance.supervisionassignment":
            return Target("a supervision", self._url("compliance:supervision", Permission.COMPLIANCE_POLICY))
        if kind == "accounts.invitation":
            return Target(str(both.get("email") or "an invitation"))
        label = kind.split(".")[-1].replace("_", " ") if kind else ""
        return Target(f"{label} {entry.target_id}".strip())


def _actor_words(entry: AuditEntry) -> str:
    if entry.actor_id and entry.actor is not None:
        return entry.actor.get_full_name()
    if entry.actor_label in ("", "system"):
        return "The system"
    return entry.actor_label


def entries_in_words(organization, membership, entries: Iterable[AuditEntry]) -> list[EntryInWords]:
    """A page of entries (fetched with `select_related("actor")`) with their sentences, change
    tables and linked targets: one query per kind of target on the page."""
    entries = list(entries)
    resolver = _Resolver(organization, membership, entries)
    rows = []
    for entry in entries:
        target = resolver.target(entry)
        sentence = sentence_for(
            entry.action, actor=_actor_words(entry), target=target.words, before=entry.before, after=entry.after
        )
        rows.append(EntryInWords(entry, sentence, target, change_rows(entry.before, entry.after)))
    return rows
