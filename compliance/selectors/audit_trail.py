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
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, SocialConnection, Team, network_label
from accounts.permissions import Permission, can
from advocacy.timezones import format_when
from compliance.models import AllowedDomain, AuditEntry, PatternRule, Policy, ReviewRule
from content.models import ContentItem, Delivery, Share

# Action code -> sentence. Keep it in step with what the apps record (the test says which is missing).
# Translated when read (the viewer's language); a translation keeps every {placeholder}.
SENTENCES: dict[str, str] = {
    # shares: the lifecycle (content.lifecycle writes share.<status> for a move without its own code)
    "share.submitted": _("{actor} submitted {target}"),
    "share.edited": _("{actor} edited {target} (version {after[version]})"),
    "share.screened": _("Screening found {after[findings]} finding(s) in version {after[version]} of {target}"),
    "share.routed": _("{actor} routed {target} to {after[status]}"),
    "share.in_review": _("{target} went to review"),
    "share.approved": _("{actor} approved {target}"),
    "share.rejected": _("{actor} rejected {target}"),
    "share.sent_back": _("{actor} sent {target} back for changes"),
    "share.changes_requested": _("{actor} sent {target} back for changes"),
    "share.scheduled": _("{target} was scheduled"),
    "share.publishing": _("{target} started publishing"),
    "share.published": _("{target} was published"),
    "share.failed": _("{target} failed on every account"),
    "share.cancelled": _("{actor} cancelled {target}"),
    "share.held": _("{target} was held: its author was suspended"),
    "share.released": _("{actor} released {target} from its hold"),
    "share.text_changed_after_approval": _("{target} changed after approval and went back to a reviewer"),
    # deliveries: one post on one account
    "delivery.pending": _("{target} is waiting to be posted"),
    "delivery.publishing": _("{target} is being posted"),
    "delivery.published": _("{target} was posted"),
    "delivery.posted_id_unknown": _("{target} was posted; its link is not known yet"),
    "delivery.retrying": _("{target} will be retried: {after[failure_reason]}"),
    "delivery.failed": _("{target} failed: {after[failure_reason]}"),
    "delivery.needs_reconnect": _("{target} waits for its account to be reconnected"),
    "delivery.cancelled": _("{target} was cancelled"),
    "delivery.assisted_share_confirmed": _("{actor} confirmed posting {target} in the network's window"),
    "delivery.lease_expired": _("Publishing {target} took too long; it will be checked on the network"),
    "delivery.post_attached": _("{actor} attached the link of {target}"),
    "delivery.removed": _("{actor} took {target} down from the network"),
    "delivery.retry_requested": _("{actor} asked to retry {target}"),
    "delivery.image_uploaded": _("The picture of {target} was uploaded to the network"),
    "delivery.image_forgotten": _("The network no longer had the picture of {target}; it is uploaded again"),
    # the review queue
    "review_task.opened": _("{target} entered the review queue"),
    "review_task.reopened": _("{target} entered the review queue again"),
    "review_task.closed": _("{target} left the review queue"),
    "review_task.claimed": _("{actor} took {target}"),
    "review_task.assigned": _("{actor} assigned {target}"),
    "review_task.unassigned": _("{actor} put {target} back in the common queue"),
    "review_task.escalated": _("{target} passed its review deadline and was escalated to more reviewers"),
    # supervision (FINRA 3110)
    "supervision.assigned": _("{actor} made a reviewer supervise {after[supervises]}"),
    "supervision.removed": _("{actor} ended a supervision of {before[supervises]}"),
    # the policy
    "policy.created": _("{actor} created the compliance policy"),
    "policy.updated": _("{actor} changed the policy settings"),
    "policy.change_requested": _("{actor} asked for a policy change that needs a second person: {after[description]}"),
    "policy.change_confirmed": _("{actor} confirmed a policy change: {after[description]}"),
    "policy.change_withdrawn": _("{actor} withdrew a policy change: {after[description]}"),
    "policy.term_added": _("{actor} added the term “{after[term]}” to the lexicon ({after[action]})"),
    "policy.term_removed": _("{actor} removed the term “{before[term]}” from the lexicon"),
    "policy.term_updated": _("{actor} changed the lexicon term “{after[term]}”"),
    "policy.terms_imported": _("{actor} imported {after[count]} lexicon term(s)"),
    "policy.pattern_added": _("{actor} added the pattern rule “{after[name]}”"),
    "policy.pattern_removed": _("{actor} removed the pattern rule “{before[name]}”"),
    "policy.domain_added": _("{actor} allowed links to {after[domain]}"),
    "policy.domain_removed": _("{actor} no longer allows links to {before[domain]}"),
    "policy.review_rule_set": _("{actor} set a review rule: {after[review_mode]}"),
    "policy.review_rule_removed": _("{actor} removed a review rule"),
    "policy.retention_changed": _("{actor} changed how long records are kept"),
    # archive
    "archive.requested": _("{actor} asked for an archive export"),
    "archive.exported": _("An archive export was built"),
    "archive.downloaded": _("{actor} downloaded an archive export"),
    "archive.search_exported": _("{actor} exported {after[rows]} search result(s) for “{after[q]}”"),
    "archive_feed.destination_added": _("{actor} added the archive feed destination “{after[name]}”"),
    "archive_feed.destination_saved": _("{actor} changed the archive feed destination {target}"),
    "archive_feed.destination_tested": _("{actor} tested the connection to {target}: {after[message]}"),
    "archive_feed.run_requested": _("{actor} asked to deliver the archive feed to {target} now"),
    "archive_feed.delivered": _("The archive feed delivered {after[uploaded]} message(s) to “{after[destination]}”"),
    "archive_feed.failed": _("The archive feed to “{after[destination]}” failed: {after[error]}"),
    # legal holds and retention
    "legal_hold.placed": _("{actor} placed the legal hold “{after[name]}” on {after[scope]}"),
    "legal_hold.changed": _("{actor} changed the legal hold {target}"),
    "legal_hold.released": _("{actor} released the legal hold “{after[name]}”: {after[release_reason]}"),
    "retention.purged": _("{after[shares_removed]} share(s) past the retention period were deleted"),
    # content library
    "content_item.created": _("{actor} added {target} to the library"),
    "content_item.updated": _("{actor} edited {target}"),
    "content_item.published": _("{actor} published {target}"),
    "content_item.unpublished": _("{actor} unpublished {target}"),
    "content_item.archived": _("{actor} archived {target}"),
    "content_item.imported": _("{target} was imported from a feed"),
    "content_item.image_fetched": _("The image of {target} was fetched"),
    "content_item.preview_fetched": _("The link preview of {target} was fetched"),
    "content_item.preview_failed": _("The link preview of {target} could not be fetched"),
    "topic.created": _("{actor} created the topic “{after[name]}”"),
    "feed.added": _("{actor} added the feed {after[url]}"),
    "feed.paused": _("{actor} paused a feed"),
    "feed.resumed": _("{actor} resumed a feed"),
    "proposal.created": _("{actor} proposed content for the library"),
    "proposal.accepted": _("{actor} accepted a content proposal"),
    "proposal.declined": _("{actor} declined a content proposal"),
    "content_item.variant_added": _("{actor} added the {after[language]} variant of {target}"),
    "content_item.variant_updated": _("{actor} edited the {after[language]} variant of {target}"),
    "content_item.variant_removed": _("{actor} removed the {after[language]} variant of {target}"),
    "content_item.language_set": _("{actor} said {target} is written in {after[language]}"),
    # people and the organization
    "organization.created": _("{actor} created the organization"),
    "organization.settings_changed": _("{actor} changed the organization's settings"),
    "organization.signup_domains_changed": _("{actor} changed the sign-up domains"),
    "organization.signup_domain_verified": _("{actor} verified a sign-up domain"),
    "membership.created": _("{target} joined"),
    "membership.joined_by_domain": _("{target} joined through the company's e-mail domain"),
    "membership.updated": _("{actor} changed {target}"),
    "membership.roles_changed": _("{actor} changed the roles of {target}"),
    "membership.removed": _("{actor} removed {target}"),
    "membership.suspended": _("{target} was suspended ({after[by]})"),
    "membership.reactivated": _("{target} was reactivated ({after[by]})"),
    "sso.configured": _("{actor} changed the single sign-on settings"),
    "sso.tested": _("{actor} ran a test sign-in through the identity provider"),
    "sso.member_provisioned": _("{target} joined through the company's single sign-on"),
    "invitation.sent": _("{actor} invited {after[email]}"),
    "invitation.resent": _("{actor} sent the invitation to {target} again"),
    "invitation.revoked": _("{actor} revoked the invitation to {target}"),
    "invitation.accepted": _("{actor} accepted the invitation"),
    "invitation.expired": _("The invitation to {target} expired"),
    "team.created": _("{actor} created the team “{after[name]}”"),
    "team.updated": _("{actor} changed {target}"),
    "team.deleted": _("{actor} deleted the team “{before[name]}”"),
    "guidelines.published": _("{actor} published new sharing guidelines"),
    "guidelines.accepted": _("{actor} accepted the sharing guidelines"),
    "training_item.created": _("{actor} added a training item"),
    "training_item.updated": _("{actor} changed a training item"),
    "training_item.deleted": _("{actor} removed a training item"),
    "api_token.created": _("{actor} created an API token"),
    "api_token.revoked": _("{actor} revoked an API token"),
    # SCIM provisioning from the organization's directory (actor: "scim:<token name>")
    "scim.token_created": _("{actor} created a SCIM token for the directory “{after[name]}”"),
    "scim.token_revoked": _("{actor} revoked the SCIM token “{after[name]}”"),
    "scim.user_created": _("The directory ({after[by]}) added {target} as {after[userName]}"),
    "scim.user_linked": _("The directory ({after[by]}) linked {target} as {after[userName]}"),
    "scim.user_updated": _("The directory ({after[by]}) changed {target}"),
    "scim.user_deleted": _("The directory ({after[by]}) deleted {target}; the membership is suspended and kept"),
    "scim.group_created": _("The directory ({after[by]}) created the group “{after[displayName]}”"),
    "scim.group_updated": _("The directory ({after[by]}) changed the group “{after[displayName]}”"),
    "scim.group_deleted": _("The directory ({after[by]}) deleted the group “{after[displayName]}”; the team is kept"),
    "scim.group_roles_changed": _("{actor} changed the roles the directory group {target} gives"),
    # connected accounts and network apps
    "connection.connected": _("{actor} connected {target}"),
    "connection.reconnected": _("{actor} reconnected {target}"),
    "connection.disconnected": _("{actor} disconnected {target}"),
    "connection.refreshed": _("The access of {target} was renewed"),
    "connection.refresh_failed": _("The access of {target} could not be renewed"),
    "connection.needs_reconnect": _("{target} needs to be reconnected"),
    "connection.pages_selected": _("{actor} chose the pages of {target}"),
    "network_app.updated": _("{actor} changed the settings of a network app"),
    # analytics
    "analytics.settings_changed": _("{actor} changed the ROI settings"),
    "analytics.conversion_settings_changed": _("{actor} changed the conversion settings"),
    "analytics.points_rules_changed": _("{actor} changed the points rules"),
    "analytics.leaderboard_visibility_changed": _("{actor} changed whether they appear on the leaderboard"),
    "analytics.weekly_summary_changed": _("{actor} changed their weekly summary e-mail"),
    "conversion_key.created": _("{actor} created a conversion key"),
    "conversion_key.revoked": _("{actor} revoked a conversion key"),
    "crm.connected": _("{actor} connected the CRM"),
    "crm.disconnected": _("{actor} disconnected the CRM"),
    "crm.needs_reconnect": _("The CRM connection needs to be reconnected"),
    "deals.imported": _("{actor} imported CRM deals from {target}"),
    "slack.installed": _("{actor} installed the Slack app in {after[team_name]}"),
    "slack.uninstalled": _("{actor} removed the Slack app"),
    "slack.route_added": _("{actor} sent new content to #{after[channel]} in Slack"),
    "slack.route_removed": _("{actor} stopped sending new content to #{before[channel]} in Slack"),
    "slack.dm_digest": _("{actor} changed their daily Slack message"),
    "teams.channel_added": _("{actor} sent new content to the Teams channel {after[name]}"),
    "teams.channel_removed": _("{actor} stopped sending new content to the Teams channel {before[name]}"),
}

# Field names in a change, in words (others: the name with spaces).
FIELD_LABELS = {
    "status": _("Status"),
    "version": _("Version"),
    "commentary": _("Words"),
    "network_texts": _("Words per network"),
    "comment": _("Reviewer's comment"),
    "text_hashes": _("Approved text fingerprints"),
    "scheduled_for": _("Scheduled for"),
    "assigned_to": _("Assigned to"),
    "due_at": _("Due"),
    "closed_at": _("Closed"),
    "worst_action": _("Most severe finding"),
    "findings": _("Findings"),
    "outcome": _("Outcome"),
    "term": _("Term"),
    "action": _("What it does"),
    "note": _("Note for the employee"),
    "review_mode": _("Review"),
    "four_eyes": _("Four eyes"),
    "auto_approve_suggestions": _("Auto-approve suggestions"),
    "review_sla_hours": _("Review within (hours)"),
    "disclosure": _("Disclosure"),
    "disclosure_mode": _("Disclosure mode"),
    "retention_years": _("Keep records (years)"),
    "roles": _("Roles"),
    "email": _("E-mail"),
    "name": _("Name"),
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
        return gettext("yes") if value else gettext("no")
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
    template = str(SENTENCES.get(action) or "{actor}: " + action.replace(".", " ").replace("_", " ") + " {target}")
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
        label = str(FIELD_LABELS.get(name) or str(name).replace("_", " ").capitalize())
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
    return user.get_full_name() if user is not None else gettext("someone")


def _networks(labels: Iterable[str]) -> str:
    return str(get_text_list([network_label(n) for n in dict.fromkeys(labels)], gettext("and")))


def share_words(share: Share, networks: Iterable[str] | None = None) -> str:
    """ "Emma Employee's share 'Acme opens…' for LinkedIn"."""
    if networks is None:
        networks = [d.network for d in share.deliveries.all()]
    title = share.item.title if share.item_id and share.item else share.commentary
    words = {"name": _name(share.author), "title": _title(title), "networks": _networks(networks)}
    if words["networks"]:
        return gettext("%(name)s's share ‘%(title)s’ for %(networks)s") % words
    return gettext("%(name)s's share ‘%(title)s’") % words


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
            words = gettext("%(name)s's %(network)s post of ‘%(title)s’") % {
                "name": _name(share.author),
                "network": row.get_network_display(),
                "title": _title(share.item.title),
            }
            return Target(words, self.share_link(share))
        if kind == "accounts.membership" and row is not None:
            url = self._url("member_edit", Permission.MEMBERS_MANAGE, membership_id=pk)
            return Target(row.user.get_full_name(), url)
        if kind == "accounts.team" and row is not None:
            words = gettext("the team “%(name)s”") % {"name": row.name}
            return Target(words, self._url("team_edit", Permission.TEAMS_MANAGE, team_id=pk))
        if kind == "content.contentitem" and row is not None:
            url = self._url("content:library_item", Permission.LIBRARY_MANAGE, content_item_id=pk)
            return Target(gettext("the item ‘%(title)s’") % {"title": _title(row.title)}, url)
        if kind == "accounts.socialconnection" and row is not None:
            return Target(
                gettext("%(name)s's %(network)s account")
                % {"name": _name(row.user), "network": row.get_network_display()}
            )
        if kind == "compliance.lexiconterm":
            words = gettext("the term “%(term)s”") % {"term": both.get("term", "")}
            return Target(words, self._url("compliance:policy_terms"))
        if kind in _POLICY_TARGETS:
            return Target(gettext("the policy"), self._url("compliance:policy"))
        if kind == "compliance.pendingpolicychange":
            return Target(gettext("a policy change"), self._url("compliance:policy_changes"))
        if kind == "compliance.archiveexport":
            return Target(gettext("an archive export"), self._url("compliance:archive", Permission.COMPLIANCE_ARCHIVE))
        if kind == "compliance.legalhold":
            url = self._url("compliance:legal_hold", Permission.COMPLIANCE_HOLD, legal_hold_id=pk) if pk else ""
            if both.get("name"):
                return Target(gettext("“%(name)s”") % {"name": both["name"]}, url)
            return Target(gettext("legal hold %(id)s") % {"id": entry.target_id}, url)
        if kind == "compliance.archivedestination":
            url = self._url(
                "compliance:archive_feed_edit", Permission.COMPLIANCE_ARCHIVE_FEEDS, archive_destination_id=pk
            )
            if both.get("name"):
                return Target(gettext("“%(name)s”") % {"name": both["name"]}, url)
            return Target(gettext("an archive feed destination"), url)
        if kind == "compliance.archivefeedrun":
            url = self._url("compliance:archive_feeds", Permission.COMPLIANCE_ARCHIVE_FEEDS)
            return Target(gettext("an archive feed run"), url)
        if kind == "compliance.supervisionassignment":
            return Target(gettext("a supervision"), self._url("compliance:supervision", Permission.COMPLIANCE_POLICY))
        if kind == "accounts.invitation":
            return Target(str(both.get("email") or gettext("an invitation")))
        label = kind.split(".")[-1].replace("_", " ") if kind else ""
        return Target(f"{label} {entry.target_id}".strip())


def _actor_words(entry: AuditEntry) -> str:
    if entry.actor_id and entry.actor is not None:
        return entry.actor.get_full_name()
    if entry.actor_label in ("", "system"):
        return gettext("The system")
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
