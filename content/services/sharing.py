"""The employee's side of the share lifecycle: compose, submit, edit (a new version), cancel.

Submitting creates one Share, its first ShareVersion and one Delivery per chosen target
(a connected account the app posts to, or an assisted share through the network's own
window), then hands the final texts to screening through `content.hooks`. Publishing the
approved deliveries is the publishing pipeline's job.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import Membership, Network, SocialConnection
from accounts.permissions import Permission, require
from accounts.services.connections import (
    ORIGINS,
    connection_health,
    network_config,
    network_configs,
    refresh_connection,
)
from advocacy import audit
from advocacy.errors import Conflict, NotFound, ValidationFailed
from advocacy.languages import clean_language, language_for
from advocacy.timezones import format_when, zone_name_for
from content import hooks, lifecycle
from content.models import TRACKING_CODE_LENGTH, ContentItem, Delivery, Share, ShareVersion, Suggestion
from content.selectors import languages
from content.selectors.sharing import live_items, targeted_at
from content.services import publishing
from networks import errors as net
from networks import share as assisted
from networks.base import PublishedPost, client_for
from networks.text import measure

# --- what the employee may pick -----------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One place a share can go. `key` is what the composer's form posts back."""

    key: str  # "connection:<id>" or "assisted:<network>"
    network: str
    label: str
    mode: str  # Delivery.Mode
    connection: SocialConnection | None = None
    disabled_reason: str = ""


def targets_for(membership: Membership, connections: list[SocialConnection] | None = None) -> list[Target]:
    """Accounts the app posts to, accounts that need reconnecting (disabled, with why), and
    the assisted share for every network where the app cannot post for the employee."""
    if connections is None:
        connections = list(
            SocialConnection.objects.for_org(membership.organization_id).filter(user_id=membership.user_id)
        )
    configs = network_configs(membership.organization)
    targets: list[Target] = []
    for connection in connections:
        if not (connection.can_post and connection.is_selected) or not configs.get(connection.network):
            continue
        health, words = connection_health(connection)
        if health == "disconnected":
            continue
        label = f"{connection.get_network_display()}: {connection.name}"
        if connection.kind == SocialConnection.Kind.PAGE:
            label = _("%(account)s (Page)") % {"account": label}
        targets.append(
            Target(
                key=f"connection:{connection.pk}",
                network=connection.network,
                label=label,
                mode=Delivery.Mode.API,
                connection=connection,
                disabled_reason=words if health == "needs_reconnect" else "",
            )
        )
    for network in Network:
        targets.append(
            Target(
                key=f"assisted:{network.value}",
                network=network.value,
                label=_("%(network)s (opens %(network)s's share window)") % {"network": network.label}
                if network != Network.FACEBOOK
                else _("Facebook profile (opens Facebook's share window)"),
                mode=Delivery.Mode.ASSISTED,
            )
        )
    return targets


def preselected_targets(membership: Membership, targets: list[Target]) -> list[str]:
    """The composer's ticked boxes: the targets of the member's last share that are still
    usable, else every account the app posts to (not the assisted windows, which need the
    employee to post by hand)."""
    usable = [t for t in targets if not t.disabled_reason]
    remembered = set(membership.last_share_targets or [])
    chosen = [t.key for t in usable if t.key in remembered]
    return chosen or [t.key for t in usable if t.mode == Delivery.Mode.API]


def pick_suggestion(item: ContentItem, membership: Membership, suggestions: list[Suggestion] | None = None):
    """A suggestion among the item's variants, spread over colleagues (not always the first):
    stable for one member and item, different across members."""
    variants = [s for s in (suggestions if suggestions is not None else item.suggestions.all()) if not s.network]
    variants = variants or list(suggestions if suggestions is not None else item.suggestions.all())
    if not variants:
        return None
    digest = hashlib.sha256(f"{item.pk}:{membership.user_id}".encode()).digest()
    return variants[int.from_bytes(digest[:4], "big") % len(variants)]


def unchanged_suggestion(suggestions, commentary: str, network_texts: dict | None, networks) -> bool:
    """Whether every chosen network gets, word for word, a suggestion the marketer wrote for
    it (one for every network, or that network's own): the policy may approve such a
    share without a reviewer (version 1 only: content.lifecycle.needs_human)."""
    if not networks or not suggestions:
        return False
    offered: dict[str, set[str]] = {}
    for suggestion in suggestions:
        for network in [suggestion.network] if suggestion.network else Network.values:
            offered.setdefault(network, set()).add(suggestion.text.strip())
    return all(
        words_for(network, commentary, network_texts).strip() in offered.get(network, ()) for network in networks
    )


def network_suggestions(suggestions: list[Suggestion]) -> dict[str, str]:
    """The marketer's text for one network (the first one per network), which the composer
    puts in that network's tab: {"x": "..."}."""
    out: dict[str, str] = {}
    for suggestion in suggestions:
        if suggestion.network and suggestion.network not in out:
            out[suggestion.network] = suggestion.text
    return out


# --- the organization's sharing rules -----------------------------------------------------


def _org_zone(organization) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(organization.timezone)


def next_allowed_time(organization, when: datetime) -> datetime | None:
    """None if `when` is inside the org's posting hours, else the next moment that is."""
    start, end = organization.posting_hours_start, organization.posting_hours_end
    if start is None or end is None:
        return None
    local = when.astimezone(_org_zone(organization))
    clock = local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if inside:
        return None
    day = local.date() if clock < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=_org_zone(organization)).astimezone(UTC)


def _org_day(organization, moment: datetime) -> date:
    return moment.astimezone(_org_zone(organization)).date()


def _shares_per_day(membership: Membership, first: date, last: date) -> dict[date, int]:
    """How many of the member's shares go out on each of the org's days `first`..`last` (1 query).

    A share goes out on its scheduled day, or, without a time, on the day it was submitted
    (it goes out as soon as it is approved). Cancelled and rejected shares never go out."""
    zone = _org_zone(membership.organization)
    goes_out = Coalesce("scheduled_for", "submitted_at")
    rows = (
        Share.objects.for_org(membership.organization_id)
        .filter(author_id=membership.user_id)
        .exclude(status__in=[Share.Status.CANCELLED, Share.Status.REJECTED])
        .annotate(goes_out=goes_out)
        .filter(
            goes_out__gte=datetime.combine(first, time.min, tzinfo=zone),
            goes_out__lt=datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone),
        )
        .annotate(day=TruncDate("goes_out", tzinfo=zone))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {row["day"]: row["n"] for row in rows}


def shares_left_on(membership: Membership, moment: datetime) -> int | None:
    """How many more shares the cap allows to go out on the org's day of `moment`, or None
    without a cap."""
    cap = membership.organization.daily_share_cap
    if cap is None:
        return None
    day = _org_day(membership.organization, moment)
    return max(cap - _shares_per_day(membership, day, day).get(day, 0), 0)


def shares_left_today(membership: Membership, now: datetime | None = None) -> int | None:
    """How many more shares the cap allows to go out today (org's day), or None without a cap."""
    return shares_left_on(membership, now or timezone.now())


GATE_HORIZON = 31  # days ahead where the composer looks for a free time (the cap's days)


@dataclass(frozen=True)
class SharingGates:
    """What limits a share made now, for the feed and the composer to show before writing.

    `next_time` is None when a share may go out now; else the first moment it may (inside the
    posting hours, on a day the cap has room), or None with `blocked` when none is near."""

    cap: int | None
    left_today: int | None
    hours: str  # the posting hours in the viewer's zone, "" without
    later_because: str  # "" (now is fine), "hours" (outside them) or "cap" (today's are used)
    next_time: datetime | None
    next_words: str  # "Monday 09:00 CET", in the viewer's zone
    blocked: bool = False


def sharing_gates(membership: Membership, *, zone: str, now: datetime | None = None) -> SharingGates:
    """The cap, the posting hours and the next time a share may go out (1 query with a cap,
    none without)."""
    organization = membership.organization
    now = now or timezone.now()
    cap = organization.daily_share_cap
    today = _org_day(organization, now)
    per_day = _shares_per_day(membership, today, today + timedelta(days=GATE_HORIZON)) if cap is not None else {}
    left_today = None if cap is None else max(cap - per_day.get(today, 0), 0)
    moment, later_because, found = now, "", None
    for _attempt in range(GATE_HORIZON + 1):
        allowed = next_allowed_time(organization, moment) or moment
        day = _org_day(organization, allowed)
        if cap is None or per_day.get(day, 0) < cap:
            found = allowed
            break
        # This day is full: try the next one from its midnight (org's clock).
        moment = datetime.combine(day + timedelta(days=1), time.min, tzinfo=_org_zone(organization))
    if found is None or found > now:
        later_because = "hours" if next_allowed_time(organization, now) is not None else "cap"
    next_time = found if found is not None and found > now else None
    return SharingGates(
        cap=cap,
        left_today=left_today,
        hours=posting_hours_words(organization, zone, now),
        later_because=later_because,
        next_time=next_time,
        next_words=when_words(next_time, zone, now) if next_time else "",
        blocked=found is None,
    )


def when_words(moment: datetime, zone: str, now: datetime) -> str:
    """A near time as people say it, in the viewer's zone, labelled: "today 18:00 CET",
    "Monday 09:00 CET", or with the date beyond a week."""
    local, today = timezone.localtime(moment, zoneinfo.ZoneInfo(zone)), timezone.localtime(now, zoneinfo.ZoneInfo(zone))
    days = (local.date() - today.date()).days
    if days == 0:
        return _("today %(time)s") % {"time": format_when(moment, "H:i", zone)}
    return format_when(moment, "l H:i" if days < 7 else "l j F H:i", zone)


def _check_schedule(membership: Membership, scheduled_for: datetime | None, now: datetime) -> None:
    organization = membership.organization
    if scheduled_for is not None and scheduled_for < now - timedelta(minutes=1):
        raise ValidationFailed(
            _("Choose a time in the future, or share now."), fields={"scheduled_for": [_("In the past.")]}
        )
    later = next_allowed_time(organization, scheduled_for or now)
    if later is not None:
        # The rule is the organization's clock; the answer is in the author's (labelled).
        zone = zone_name_for(membership.user, organization)
        next_words = format_when(later, r"l j F \a\t H:i", zone)
        raise ValidationFailed(
            _(
                "%(organization)s shares only between %(start)s and %(end)s (%(zone)s). "
                "The next allowed time is %(next)s."
            )
            % {
                "organization": organization.name,
                "start": f"{organization.posting_hours_start:%H:%M}",
                "end": f"{organization.posting_hours_end:%H:%M}",
                "zone": organization.timezone,
                "next": next_words,
            },
            fields={"scheduled_for": [_("Next allowed: %(when)s") % {"when": format_when(later, "Y-m-d H:i", zone)}]},
        )


def _check_cap(membership: Membership, scheduled_for: datetime | None, now: datetime) -> None:
    """The cap counts the day the share goes out (the org's day), not the day it is written."""
    organization = membership.organization
    goes_out = scheduled_for or now
    if shares_left_on(membership, goes_out) != 0:
        return
    cap = organization.daily_share_cap
    if _org_day(organization, goes_out) == _org_day(organization, now):
        raise Conflict(
            ngettext(
                "You have shared %(count)s time today, the most %(organization)s allows in a day. "
                "Schedule this one for another day.",
                "You have shared %(count)s times today, the most %(organization)s allows in a day. "
                "Schedule this one for another day.",
                cap,
            )
            % {"count": cap, "organization": organization.name}
        )
    day = format_when(goes_out, "l j F", organization.timezone).rsplit(" ", 1)[0]
    # English keeps "go out" for one too (the sentence tests read); translations agree in number.
    raise Conflict(
        ngettext(
            "%(count)s of your shares already go out on %(day)s, the most %(organization)s allows in a day. "
            "Choose another day.",
            "%(count)s of your shares already go out on %(day)s, the most %(organization)s allows in a day. "
            "Choose another day.",
            cap,
        )
        % {"count": cap, "day": day, "organization": organization.name}
    )


# --- texts --------------------------------------------------------------------------------


def tracked_url(delivery: Delivery) -> str:
    """The delivery's own link (redirects to the item with UTM parameters, counts clicks)."""
    return settings.SITE_URL + f"/r/{delivery.tracking_code}"


def final_text(network: str, commentary: str, link: str) -> str:
    """What the network will show: the employee's words, then the tracked link (X counts it 23)."""
    return f"{commentary.strip()}\n\n{link}" if network != Network.FACEBOOK else commentary.strip()


def sample_link() -> str:
    """A stand-in for a tracked link, as long as a real one (for counts and the live check)."""
    return settings.SITE_URL + "/r/" + "X" * TRACKING_CODE_LENGTH


def preview_of(text: str) -> str:
    """A post built with `sample_link()` as people will read it: the link shown as "…/r/…"."""
    return text.replace(sample_link(), settings.SITE_URL + "/r/…")


def clean_network_texts(commentary: str, network_texts: dict | None, networks) -> dict[str, str]:
    """The per-network words worth keeping: for a chosen network, not empty and not the
    same as the words for every network. Raises ValidationFailed for an unknown network or
    a value that is not text."""
    out: dict[str, str] = {}
    for network, words in (network_texts or {}).items():
        if network not in Network.values:
            raise ValidationFailed(
                _("“%(network)s” is not a network; use linkedin, x or facebook.") % {"network": network},
                fields={"network_texts": [_("Unknown.")]},
            )
        if not isinstance(words, str):
            raise ValidationFailed(_("Each network's words must be text."), fields={"network_texts": [_("Not text.")]})
        words = words.strip()
        if network in networks and words and words != commentary.strip():
            out[network] = words
    return out


def words_for(network: str, commentary: str, network_texts: dict | None) -> str:
    """The words posted to `network`: its own where the employee adapted them, else the common ones."""
    return (network_texts or {}).get(network) or commentary


def length_sentence(network: str, length: int, limit: int) -> str:
    """ "Too long for X: 404 characters as posted, where X allows 280. Shorten it by 124 characters." """
    label = Network(network).label
    over = length - limit
    return ngettext(
        "Too long for %(network)s: %(length)s characters as posted, where %(network)s allows %(limit)s. "
        "Shorten it by %(over)s character.",
        "Too long for %(network)s: %(length)s characters as posted, where %(network)s allows %(limit)s. "
        "Shorten it by %(over)s characters.",
        over,
    ) % {"network": label, "length": f"{length:,}", "limit": f"{limit:,}", "over": f"{over:,}"}


def text_checks(texts: dict[str, str]) -> dict[str, dict]:
    """Per network, of the exact text to be posted (words, tracked link, the policy's
    disclosure: what `post_texts` or the deliveries hold): its length as the network
    counts it, the limit, whether it fits, and the sentence to show when it does not."""
    out = {}
    for network, text in texts.items():
        m = measure(network, text)
        out[network] = {
            "length": m.length,
            "limit": m.limit,
            "fits": m.fits,
            "remaining": m.remaining,
            "over": max(-m.remaining, 0),
            "problem": "" if m.fits else length_sentence(network, m.length, m.limit),
        }
    return out


def _check_lengths(texts: dict[str, str]) -> None:
    """Refuse (nothing saved) a text longer than its network allows, counted as posted."""
    problems = {network: c["problem"] for network, c in text_checks(texts).items() if not c["fits"]}
    if problems:
        raise ValidationFailed(" ".join(problems.values()), fields={"commentary": list(problems.values())})


def post_texts(
    membership: Membership, item: ContentItem, commentary: str, network_texts: dict, networks: list[str], suggestions
):
    """The composer's live check: the same screening as at submit, before anything is saved.
    Its `texts` are the posts as they will go out (a stand-in link as long as the tracked
    one, the disclosure where the policy appends it): the counts, the previews and the
    submit's length check are all of these."""
    texts = {
        network: final_text(network, words_for(network, commentary, network_texts), sample_link())
        for network in networks
    }
    unchanged = unchanged_suggestion(suggestions, commentary, network_texts, networks)
    return hooks.screen(
        organization=membership.organization,
        author=membership.user,
        item=item,
        texts=texts,
        unchanged_suggestion=unchanged,
        language=getattr(item, "shown_language", ""),  # the composer's item is in the reader's language
    )


def posting_hours_words(organization, zone: str | None = None, now: datetime | None = None) -> str:
    """ "Posts go out between 08:00 and 20:00 CET." in the viewer's zone (default: the
    organization's) with its abbreviation, or "" without posting hours."""
    start, end = organization.posting_hours_start, organization.posting_hours_end
    if start is None or end is None:
        return ""
    org_zone = _org_zone(organization)
    today = (now or timezone.now()).astimezone(org_zone).date()
    opens = datetime.combine(today, start, tzinfo=org_zone)
    closes = datetime.combine(today if start < end else today + timedelta(days=1), end, tzinfo=org_zone)
    zone = zone or organization.timezone
    first, last = format_when(opens, "H:i", zone), format_when(closes, "H:i", zone)
    if first.split(" ")[-1] == last.split(" ")[-1]:
        first = first.rsplit(" ", 1)[0]  # one label for both when the zone keeps its name all day
    if zone != organization.timezone:
        return _("Posts go out between %(first)s and %(last)s (%(start)s to %(end)s in %(zone)s).") % {
            "first": first,
            "last": last,
            "start": f"{start:%H:%M}",
            "end": f"{end:%H:%M}",
            "zone": organization.timezone,
        }
    return _("Posts go out between %(first)s and %(last)s.") % {"first": first, "last": last}


def assisted_copy_text(delivery: Delivery) -> str:
    """What the employee pastes in the network's share window: the approved, screened text
    (with the policy's disclosure) without the tracked link, which travels in the window's
    URL (the networks turn it into the link card)."""
    parts = [part.strip() for part in delivery.text.split(tracked_url(delivery))]
    return "\n\n".join(part for part in parts if part)


def assisted_window_text(delivery: Delivery) -> str:
    """The words the network's share window carries itself: X's intent takes them; empty
    where the window takes no text (LinkedIn's share-offsite, Facebook's sharer), so the
    employee pastes `assisted_copy_text` there."""
    return assisted_copy_text(delivery) if delivery.network == Network.X else ""


def assisted_share_url(delivery: Delivery) -> str:
    """The network's share window with this delivery's approved text and tracked link (on
    the network emulator's host where the deployment names one, as `make run` does)."""
    return assisted.share_url(
        delivery.network,
        link=tracked_url(delivery),
        text=assisted_window_text(delivery),
        origin=getattr(settings, ORIGINS[delivery.network], ""),
    )


def with_assisted_actions(share: Share, deliveries) -> None:
    """Give each assisted delivery of `share` what its page shows: the share window's URL,
    the text to copy, and whether it waits on "I posted it". Pure (no query)."""
    for delivery in deliveries:
        assisted_mode = delivery.mode == Delivery.Mode.ASSISTED
        delivery.assisted_waiting = (
            assisted_mode and delivery.status == Delivery.Status.PENDING and share.status in lifecycle.SHARE_CONFIRMABLE
        )
        delivery.assisted_url = assisted_share_url(delivery) if assisted_mode else ""
        delivery.assisted_text = assisted_copy_text(delivery) if assisted_mode else ""


# --- submit, edit, cancel -----------------------------------------------------------------


def _item_for(membership: Membership, item_id: int, now: datetime) -> ContentItem:
    item = targeted_at(live_items(membership.organization_id, now=now), membership).filter(pk=item_id).first()
    if item is None:
        raise NotFound(_("This content is not available for sharing (it may have expired)."))
    return item


def _resolve_targets(membership: Membership, keys: list[str]) -> list[Target]:
    available = {t.key: t for t in targets_for(membership)}
    chosen = []
    for key in dict.fromkeys(keys):
        target = available.get(key)
        if target is None:
            raise ValidationFailed(
                _("A chosen account is not one of yours any more; choose again."),
                fields={"targets": [_("Unknown account.")]},
            )
        if target.disabled_reason:
            raise ValidationFailed(
                f"{target.label}: {target.disabled_reason}", fields={"targets": [_("Reconnect it.")]}
            )
        chosen.append(target)
    if not chosen:
        raise ValidationFailed(_("Choose at least one account to share to."), fields={"targets": [_("Required.")]})
    return chosen


def _check_words(commentary: str) -> None:
    """The lengths are checked on the screened texts (`_screen_and_route`), as posted."""
    if not commentary.strip():
        raise ValidationFailed(_("Write a few words to go with the link."), fields={"commentary": [_("Required.")]})


def _screen_and_route(share: Share, deliveries: list[Delivery], *, unchanged_suggestion: bool) -> Share:
    """Screen the share's current version and move it on: rejected (a blocking finding),
    in review (a human must look: `lifecycle.needs_human`), or approved into publishing."""
    result = hooks.screen(
        organization=share.organization,
        author=share.author,
        item=share.item,
        texts={d.network: d.text for d in deliveries},
        unchanged_suggestion=unchanged_suggestion and share.version == 1,
        language=share.language,
    )
    # Counted as posted (the tracked link, the disclosure the policy appends): too long is
    # refused here, and the whole submit or edit with it (nothing is saved).
    _check_lengths({d.network: result.texts.get(d.network, d.text) for d in deliveries})
    texts_changed = []
    for delivery in deliveries:
        text = result.texts.get(delivery.network, delivery.text)
        if text != delivery.text:
            delivery.text = text
            delivery.save(update_fields=["text", "updated_at"])
            texts_changed.append(delivery.network)
    human = lifecycle.needs_human(share, screening_needs_review=result.needs_review, review_mode=result.review_mode)
    after = {
        "version": share.version,
        "blocked": result.blocked,
        "needs_review": human,
        "findings": {network: len(found) for network, found in result.findings.items() if found},
        **({"texts_changed_by_screening": texts_changed} if texts_changed else {}),
    }
    if result.blocked:
        share.review_comment = "; ".join(
            f.message for fs in result.findings.values() for f in fs if f.action == "block"
        )
        lifecycle.move_share(
            share, Share.Status.REJECTED, "route", action="share.routed", fields=["review_comment"], after=after
        )
    elif human:
        lifecycle.move_share(share, Share.Status.IN_REVIEW, "route", action="share.routed", after=after)
    else:
        publishing.approve(share, deliveries=deliveries, kind="route", audit_after=after)
    if human and not result.needs_review:
        result = dataclasses.replace(result, needs_review=True)
    hooks.screened(share=share, result=result)
    return share


def return_to_review(share: Share, delivery: Delivery) -> None:
    """The delivery's text differs from what was approved (found by the publisher under the
    share's lock): nothing is published; the share goes back to a human with fresh findings."""
    words = _(
        "The %(network)s text changed after it was approved, so it was not published. "
        "It went back to compliance review."
    ) % {"network": delivery.get_network_display()}
    lifecycle.move_deliveries(
        share, Delivery.Status.PENDING, "back_to_review", approved_text_hash="", next_attempt_at=None
    )
    delivery.refresh_from_db()
    delivery.last_error = words
    delivery.failure_reason = "text_changed"
    delivery.save(update_fields=["last_error", "failure_reason", "updated_at"])
    share.review_comment = words
    lifecycle.move_share(
        share,
        Share.Status.IN_REVIEW,
        "back_to_review",
        action="share.text_changed_after_approval",
        fields=["review_comment"],
        after={"delivery": delivery.pk},
    )
    deliveries = list(Delivery.objects.for_org(share.organization_id).filter(share=share))
    result = hooks.screen(
        organization=share.organization,
        author=share.author,
        item=share.item,
        texts={d.network: d.text for d in deliveries},
        unchanged_suggestion=False,
        language=share.language,
    )
    hooks.screened(share=share, result=dataclasses.replace(result, needs_review=True))


def record_decision(share: Share, *, outcome: str, comment: str) -> dict[int, str]:
    """A reviewer's decision on the share's current version (compliance calls this under
    the share's lock; it keeps the Decision row itself). "approved" goes into publishing
    and returns {delivery id: approved text hash}; "rejected" and "changes_requested"
    keep the comment for the employee. Raises IllegalTransition when it left review."""
    if outcome == Share.Status.APPROVED:
        return publishing.approve(share, kind="decide")
    if outcome not in (Share.Status.REJECTED, Share.Status.CHANGES_REQUESTED):
        raise ValidationFailed(_("Unknown decision %(outcome)r.") % {"outcome": outcome})
    share.review_comment = comment
    lifecycle.move_share(share, outcome, "decide", action="", fields=["review_comment"])
    return {}


# --- not twice: idempotent submits and the repeat question -------------------------------------


class RepeatShare(Conflict):
    """The same item went to the same account in the last day: ask before posting again."""

    code = "repeat_share"


REPEAT_WINDOW = timedelta(days=1)


def submit_fingerprint(*, item_id, commentary, target_keys, scheduled_for, suggestion_id, network_texts=None) -> str:
    """What a submit asked for, as a hash: the same key must come with the same request."""
    body = {
        "item": int(item_id),
        "commentary": (commentary or "").strip(),
        "network_texts": {k: (v or "").strip() for k, v in sorted((network_texts or {}).items())},
        "targets": sorted(dict.fromkeys(target_keys)),
        "scheduled_for": scheduled_for.astimezone(UTC).isoformat() if scheduled_for else None,
        "suggestion": int(suggestion_id) if suggestion_id else None,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _earlier_submit(membership: Membership, key: str, fingerprint: str) -> Share | None:
    """The share an earlier submit with this key made (the same request), or None. A key
    that came with another request is a Conflict."""
    if not key:
        return None
    share = (
        Share.objects.for_org(membership.organization_id)
        .filter(author_id=membership.user_id, submit_key=key)
        .select_related("item", "organization")
        .first()
    )
    if share is None:
        return None
    if share.submit_fingerprint != fingerprint:
        raise Conflict(
            _("This submit key was already used for a different share. Reload the page and share again."),
            code="idempotency_key_reused",
        )
    share.replayed = True
    return share


def _check_repeat(membership: Membership, item: ContentItem, targets: list[Target], now: datetime) -> None:
    """Refuse (RepeatShare) when this item went to one of these accounts in the last day."""
    connection_ids = [t.connection.pk for t in targets if t.connection is not None]
    assisted = [t.network for t in targets if t.connection is None]
    recent = (
        Delivery.objects.for_org(membership.organization_id)
        .filter(
            Q(connection_id__in=connection_ids) | Q(mode=Delivery.Mode.ASSISTED, network__in=assisted),
            share__author_id=membership.user_id,
            share__item=item,
            created_at__gte=now - REPEAT_WINDOW,
        )
        .exclude(status=Delivery.Status.CANCELLED)
        .exclude(share__status__in=[Share.Status.CANCELLED, Share.Status.REJECTED])
        .order_by("-created_at")
        .values_list("network", "created_at")
        .first()
    )
    if recent is None:
        return
    network, when = recent
    if now - when < timedelta(minutes=1):
        words = _("You shared this to %(network)s just now. Share again?")
    else:
        words = _("You shared this to %(network)s %(ago)s ago. Share again?")
    ago = timesince(when, now).split(",")[0]
    raise RepeatShare(words % {"network": Network(network).label, "ago": ago})


# Linked after commit (advocacy.audit.linked_after_commit), as publishing is: a submission
# that took the organization's chain lock held it through screening and routing until its
# commit, so one organization's submissions and decisions queued on it behind each other (under
# `make load`: 351 waits, 1.7 s each on average; bench/README.md, issue 21).
@audit.linked_after_commit()
@transaction.atomic
def submit_share(
    *,
    actor: Membership,
    item_id: int,
    commentary: str,
    target_keys: list[str],
    scheduled_for: datetime | None = None,
    suggestion_id: int | None = None,
    submit_key: str = "",
    confirm_repeat: bool = False,
    network_texts: dict[str, str] | None = None,
    image: File | None = None,
    image_alt_text: str = "",
    language: str = "",
) -> Share:
    """Create the share, its first version and one delivery per target, then screen it.

    `language` is the language the words are written in (issue 23); by default the one the
    composer offered the author: their own when the item has a variant in it, else the
    item's. The marketer's words in that language count as the suggestions (unchanged ones
    may skip review as the item's own do); screening applies that language's terms.

    `image` is the employee's own picture for this share (checked and re-encoded like a
    library upload), posted natively instead of the item's; it needs `image_alt_text`. A
    share with its own picture is never taken for an unchanged suggestion (it is screened
    as personal words).

    `commentary` goes to every network; `network_texts` ({"x": "..."}) adapts it for one
    (an entry for a network not chosen, empty, or the same as `commentary` is dropped).

    `submit_key` makes the submit idempotent (the composer's one-time token, the API's
    Idempotency-Key): the same key with the same request returns the share the first one
    made (its `replayed` is True) and writes nothing; the same key with another request is
    a Conflict. Without `confirm_repeat`, sharing the same item to an account it went to
    in the last day raises RepeatShare (a Conflict asking "Share again?").

    Raises ValidationFailed (empty or too long text, no or foreign target, a time outside
    the posting hours or in the past, guidelines not accepted) or Conflict (daily cap
    reached, a repeat, a reused key); nothing is written then.
    """
    require(actor, Permission.FEED_USE)
    now = timezone.now()
    submit_key = (submit_key or "").strip()
    if len(submit_key) > 100:
        raise ValidationFailed(_("The Idempotency-Key is too long (at most 100 characters)."))
    fingerprint = submit_fingerprint(
        item_id=item_id,
        commentary=commentary,
        target_keys=target_keys,
        scheduled_for=scheduled_for,
        suggestion_id=suggestion_id,
        network_texts=network_texts,
    )
    earlier = _earlier_submit(actor, submit_key, fingerprint)
    if earlier is not None:
        return earlier
    item = _item_for(actor, item_id, now)
    _require_guidelines(actor)
    targets = _resolve_targets(actor, target_keys)
    _check_words(commentary)
    networks = sorted({t.network for t in targets})
    network_texts = clean_network_texts(commentary, network_texts, networks)
    _check_schedule(actor, scheduled_for, now)
    _check_cap(actor, scheduled_for, now)
    if not confirm_repeat:
        _check_repeat(actor, item, targets, now)
    picture = _share_picture(image, image_alt_text)
    suggestions = list(Suggestion.objects.for_org(actor.organization_id).filter(item=item))
    suggestion = next((s for s in suggestions if suggestion_id and s.pk == int(suggestion_id)), None)
    language = _share_language(actor, item, language, commentary=commentary, own=suggestions)
    offered = languages.offered_suggestions(actor.organization, item, language, suggestions)
    unchanged = (
        suggestion is not None
        and picture is None
        and unchanged_suggestion(offered, commentary, network_texts, networks)
    )
    try:
        with transaction.atomic():
            share = Share.objects.create(
                organization_id=actor.organization_id,
                item=item,
                author_id=actor.user_id,
                commentary=commentary.strip(),
                network_texts=network_texts,
                team=actor.teams.order_by("kind", "name").first(),  # departments before locations
                suggestion=suggestion,
                is_personalised=not unchanged,
                language=language,
                scheduled_for=scheduled_for,
                submitted_at=now,
                submit_key=submit_key,
                submit_fingerprint=fingerprint if submit_key else "",
                image_alt_text=picture[2] if picture else "",
            )
            if picture:
                share.image.save(f"{uuid.uuid4().hex}.{picture[1]}", ContentFile(picture[0]), save=False)
                share.save(update_fields=["image"])
    except IntegrityError:
        # The same key, submitted at the same moment (a double click): the first one won.
        earlier = _earlier_submit(actor, submit_key, fingerprint)
        if earlier is None:
            raise
        return earlier
    share.replayed = False
    ShareVersion.objects.create(
        organization_id=share.organization_id,
        share=share,
        number=1,
        commentary=share.commentary,
        network_texts=network_texts,
    )
    deliveries = []
    for target in targets:
        delivery = Delivery(
            organization_id=share.organization_id,
            share=share,
            network=target.network,
            mode=target.mode,
            connection=target.connection,
            text="",
        )
        delivery.text = final_text(
            target.network, words_for(target.network, share.commentary, network_texts), tracked_url(delivery)
        )
        deliveries.append(delivery)
    # Remembered for the next composer (content.views.sharing.compose pre-selects them). Written
    # before the audit entry: the membership row, then the chain, the order the suspension's
    # account withdrawal takes them in (when submission took the chain's lock in its own
    # transaction, the other order deadlocked with it; it now links after its commit).
    keys = [t.key for t in targets]
    if actor.last_share_targets != keys:
        Membership.objects.for_org(actor.organization_id).filter(pk=actor.pk).update(last_share_targets=keys)
        actor.last_share_targets = keys
    Delivery.objects.bulk_create(deliveries)
    audit.record(
        "share.submitted",
        organization_id=share.organization_id,
        target=share,
        after={
            "version": 1,
            "item": item.pk,
            "commentary": share.commentary,
            **({"network_texts": network_texts} if network_texts else {}),
            "scheduled_for": scheduled_for,
            "suggestion": suggestion.pk if suggestion else None,
            "language": language,
            "deliveries": {str(d.pk): d.network for d in deliveries},
        },
    )
    share = _screen_and_route(share, deliveries, unchanged_suggestion=unchanged)
    return share


def _share_language(actor: Membership, item: ContentItem, language: str = "", *, commentary: str = "", own=()) -> str:
    """The language a share is written in: `language` when it is a shipped one, else the one
    the composer offers the author (theirs when the item has a variant in it, else the
    item's own), unless the words are one of the item's own suggestions word for word (a
    channel that offers only those, as Slack's modal does: the item's language)."""
    chosen = clean_language(language)
    if chosen:
        return chosen
    own_language = languages.own_language(item, actor.organization)
    reader = language_for(actor.user, actor.organization)
    if commentary.strip() in {s.text.strip() for s in own}:
        return own_language
    if reader != own_language and languages.variant_in(item, reader) is not None:
        return reader
    return own_language


ALT_TEXT_REQUIRED = gettext_lazy("Describe your picture for people who cannot see it: the words are posted with it.")


def _share_picture(image: File | None, alt_text: str) -> tuple[bytes, str, str] | None:
    """The employee's picture checked and re-encoded (bytes, extension, alt text), or None.
    Raises ValidationFailed for an unusable file or a missing description."""
    if not image:
        return None
    from content.services.library.images import _checked_image, reencoded_image

    _checked_image(image)
    alt = " ".join((alt_text or "").split())
    if not alt or len(alt) > 1000:
        raise ValidationFailed(
            ALT_TEXT_REQUIRED if not alt else _("The picture's description is too long: 1,000 characters at most."),
            fields={"image_alt_text": [_("Required with a picture.") if not alt else _("At most 1,000 characters.")]},
        )
    data, extension = reencoded_image(image)
    return data, extension, alt


def _require_guidelines(membership: Membership) -> None:
    try:
        from accounts.services.guidelines import needs_acceptance
    except ImportError:  # the guidelines feature is optional for this seam
        return
    current = needs_acceptance(membership)
    if current is not None:
        raise ValidationFailed(
            _("Read and accept %(organization)s's social media guidelines (version %(version)s) before sharing.")
            % {"organization": membership.organization.name, "version": current.version},
            fields={"guidelines": [reverse("guidelines", kwargs={"org_slug": membership.organization.slug})]},
        )


def _own_share(membership: Membership, share_id: int, *, lock: bool = False) -> Share:
    qs = Share.objects.for_org(membership.organization_id).filter(author_id=membership.user_id, pk=share_id)
    share = (qs.select_for_update() if lock else qs).select_related("item", "organization").first()
    if share is None:
        raise NotFound(_("No such share."))
    return share


@transaction.atomic
def edit_share(
    *,
    actor: Membership,
    share_id: int,
    commentary: str,
    scheduled_for: datetime | None = None,
    network_texts: dict[str, str] | None = None,
) -> Share:
    """New words (a new version; the old ones are kept) and screening again. A share sent
    back by compliance is resubmitted this way. Not possible once it is being published.
    `network_texts` replaces the per-network words; None keeps the ones the share has."""
    require(actor, Permission.FEED_USE)
    share = _own_share(actor, share_id, lock=True)
    lifecycle.check_share(share, "edit")
    deliveries = list(
        Delivery.objects.for_org(share.organization_id).filter(share=share).exclude(status=Delivery.Status.CANCELLED)
    )
    _check_words(commentary)
    networks = sorted({d.network for d in deliveries})
    network_texts = clean_network_texts(
        commentary, share.network_texts if network_texts is None else network_texts, networks
    )
    now = timezone.now()
    _check_schedule(actor, scheduled_for, now)
    organization = actor.organization
    if _org_day(organization, scheduled_for or now) != _org_day(
        organization, share.scheduled_for or share.submitted_at
    ):
        _check_cap(actor, scheduled_for, now)  # it moves to another day: that day's cap counts it
    before = {
        "version": share.version,
        "status": share.status,
        "commentary": share.commentary,
        "network_texts": share.network_texts,
        "scheduled_for": share.scheduled_for,
    }
    share.commentary = commentary.strip()
    share.network_texts = network_texts
    share.scheduled_for = scheduled_for
    share.version += 1
    share.is_personalised = share.suggestion is None or not unchanged_suggestion(
        list(Suggestion.objects.for_org(share.organization_id).filter(item_id=share.item_id)),
        share.commentary,
        network_texts,
        networks,
    )
    share.review_comment = ""
    share.submitted_at = now
    fields = [
        "commentary",
        "network_texts",
        "scheduled_for",
        "version",
        "is_personalised",
        "review_comment",
        "submitted_at",
    ]
    lifecycle.move_share(share, Share.Status.SUBMITTED, "edit", action="", fields=fields)
    # Whatever was approved before does not hold for the new words.
    lifecycle.move_deliveries(share, Delivery.Status.PENDING, "back_to_review", approved_text_hash="", due_at=None)
    ShareVersion.objects.create(
        organization_id=share.organization_id,
        share=share,
        number=share.version,
        commentary=share.commentary,
        network_texts=network_texts,
    )
    for delivery in deliveries:
        words = words_for(delivery.network, share.commentary, network_texts)
        delivery.text = final_text(delivery.network, words, tracked_url(delivery))
        delivery.save(update_fields=["text", "updated_at"])
    audit.record(
        "share.edited",
        organization_id=share.organization_id,
        target=share,
        before=before,
        after={
            "version": share.version,
            "status": share.status,
            "commentary": share.commentary,
            "network_texts": share.network_texts,
            "scheduled_for": share.scheduled_for,
        },
    )
    return _screen_and_route(share, deliveries, unchanged_suggestion=not share.is_personalised)


@transaction.atomic
def cancel_share(*, actor: Membership, share_id: int) -> Share:
    """Withdraw a share that is not published yet; its waiting deliveries are cancelled."""
    require(actor, Permission.FEED_USE)
    share = _own_share(actor, share_id, lock=True)
    cancel_with_deliveries(share)
    return share


def cancel_with_deliveries(share: Share, *, after: dict | None = None, fields: Iterable[str] = ()) -> None:
    """Cancel a (locked) share and its waiting deliveries; audited ("share.cancelled", with
    `after`). Raises IllegalTransition (published or on its way) and writes nothing then."""
    lifecycle.check_share(share, "cancel")
    cancelled_ids = lifecycle.move_deliveries(share, Delivery.Status.CANCELLED, "cancel")
    lifecycle.move_share(
        share,
        Share.Status.CANCELLED,
        "cancel",
        fields=fields,
        after={"deliveries_cancelled": cancelled_ids, **(after or {})},
    )


def confirm_assisted_share(*, actor: Membership, delivery_id: int, url: str = "") -> Delivery:
    """The employee says they posted it in the network's window: recorded as an assisted
    share. With `url` (the post's link, optional), the post is recorded too: the link is
    parsed into the network's id and, where the app can read the employee's posts (a
    connected account of that network, a Facebook Page), fetched to check it is theirs;
    where it cannot (a personal profile, no API access), the id is taken as given and the
    audit entry says so. A delivery already confirmed without a link can be given one later.

    Raises NotFound (not the member's assisted delivery), Conflict (not approved yet,
    cancelled, or already linked to another post), ValidationFailed (not a post link of that
    network, no such post, another account's post, already attached elsewhere, or the
    network did not answer). The network call happens outside any transaction; nothing is
    written unless everything succeeds."""
    require(actor, Permission.FEED_USE)
    url = (url or "").strip()
    post, verified = None, False
    if url:
        post = _post_named_by(_delivery_network(actor, delivery_id), url)
        with transaction.atomic():
            share, delivery = publishing.lock_own_delivery(actor, delivery_id, mode=Delivery.Mode.ASSISTED)
            _check_confirmable(share, delivery, post=post)
            if delivery.remote_id == post.remote_id:
                return delivery  # the same link twice (a double click): nothing new, no call
        post, verified = _verify_assisted_post(actor, delivery, post)
    with transaction.atomic():
        share, delivery = publishing.lock_own_delivery(actor, delivery_id, mode=Delivery.Mode.ASSISTED)
        _check_confirmable(share, delivery, post=post)
        if post is None:
            if delivery.status != Delivery.Status.PUBLISHED:
                _record_assisted(delivery, fields=[], after={})
            return delivery
        if delivery.remote_id == post.remote_id:
            return delivery
        publishing.refuse_attached_elsewhere(delivery, post.remote_id)
        delivery.remote_id, delivery.remote_url = post.remote_id, post.url
        _record_assisted(
            delivery,
            fields=["remote_id", "remote_url"],
            after={
                "remote_id": post.remote_id,
                "remote_url": post.url,
                "pasted": url[:500],
                "verified_on_the_network": verified,
            },
        )
    return delivery


def _delivery_network(membership: Membership, delivery_id: int) -> str:
    """The network of the member's own delivery; NotFound for anyone else's."""
    network = (
        Delivery.objects.for_org(membership.organization_id)
        .filter(pk=delivery_id, share__author_id=membership.user_id)
        .values_list("network", flat=True)
        .first()
    )
    if network is None:
        raise NotFound(_("No such share."))
    return network


def _check_confirmable(share: Share, delivery: Delivery, *, post: PublishedPost | None) -> None:
    if share.status not in lifecycle.SHARE_CONFIRMABLE:
        raise Conflict(_("This share is not approved yet; wait for the decision before posting it."))
    if not lifecycle.allows(lifecycle.DELIVERY_TRANSITIONS, delivery.status, "confirm"):
        raise Conflict(
            _("This post is %(status)s; there is nothing to record.")
            % {"status": delivery.get_status_display().lower()}
        )
    if post is not None and delivery.remote_id and delivery.remote_id != post.remote_id:
        raise Conflict(
            _("This share is already linked to its %(network)s post (see the share's page). Nothing was changed.")
            % {"network": delivery.get_network_display()}
        )


LEAVE_EMPTY = gettext_lazy("%(problem)s Or leave the box empty to record the share without its link.")


def _post_named_by(network: str, url: str) -> PublishedPost:
    try:
        return assisted.post_from_link(network, url)
    except net.PostLinkInvalid as exc:
        raise ValidationFailed(LEAVE_EMPTY % {"problem": exc.message}, fields={"url": [exc.message]}) from None


def _record_assisted(delivery: Delivery, *, fields: list[str], after: dict) -> None:
    delivery.published_at = delivery.published_at or timezone.now()
    lifecycle.move_delivery(
        delivery,
        Delivery.Status.PUBLISHED,
        "confirm",
        action="delivery.assisted_share_confirmed",
        fields=["published_at", *fields],
        after={
            "published_at": delivery.published_at,
            "network": delivery.network,
            "share": delivery.share_id,
            "window_text": assisted_window_text(delivery),
            "copied_text": assisted_copy_text(delivery),
            "window_link": tracked_url(delivery),
            **after,
        },
    )


def _verify_assisted_post(
    membership: Membership, delivery: Delivery, post: PublishedPost
) -> tuple[PublishedPost, bool]:
    """The pasted post as the network names it, and whether the network confirmed it is the
    employee's. Checked with the employee's own connected account of that network (for
    Facebook, the Page the post's id names) when the organization has API access to it;
    otherwise, or when the network does not let this app read posts, taken as given (False)."""
    label = Network(delivery.network).label
    config = network_config(membership.organization, delivery.network)
    accounts = SocialConnection.objects.for_org(membership.organization_id).filter(
        user_id=membership.user_id, network=delivery.network, status=SocialConnection.Status.ACTIVE
    )
    if delivery.network == Network.FACEBOOK:
        # Only a Page's posts can be read; a profile's link ("{user}_{post}") stays unchecked.
        accounts = accounts.filter(kind=SocialConnection.Kind.PAGE, remote_id=post.remote_id.split("_", 1)[0])
    else:
        accounts = accounts.filter(kind=SocialConnection.Kind.MEMBER)
    account = accounts.order_by("pk").first()
    if config is None or account is None:
        return post, False
    try:
        account = refresh_connection(connection_id=account.pk, organization_id=membership.organization_id)
        if account.status != SocialConnection.Status.ACTIVE:
            return post, False  # its token was revoked just now: no way to look
        found = client_for(delivery.network, config).verify_post(
            access_token=account.access_token, author_id=account.remote_id, remote_id=post.remote_id
        )
    except (net.PostUnverifiable, net.TokenExpired, net.TokenRevoked):
        # The network does not let this app read posts (LinkedIn without partner scopes), or
        # the account's token stopped working: there is no way to look.
        return post, False
    except net.PermanentRejection as exc:
        raise ValidationFailed(LEAVE_EMPTY % {"problem": exc.message}, fields={"url": [exc.message]}) from None
    except net.NetworkError as exc:
        raise ValidationFailed(
            _("%(network)s did not answer (%(problem)s); nothing was changed. Try again in a minute.")
            % {"network": label, "problem": exc.message},
            fields={"url": [_("Try again.")]},
        ) from None
    return found, True
