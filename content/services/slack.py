"""Featured content in Slack, shared from a Slack modal (issue 22, point 1).

The Slack calls go through `integrations.slack`; this module owns the organization's side:
* install (OAuth v2): `state` bound to the installer's session, single use, 15 minutes; the
  bot token stored encrypted; nothing written until Slack has answered;
* channel routes: which channels get which featured items (all, one topic's, one team's);
* posting: one SlackPost per (item, channel), posted once; Slack's 429 leaves it pending
  with `not_before` = now + Retry-After, and the task comes back then;
* the interactivity endpoint: every request is verified (v0 signature, timestamp within
  five minutes, a signature seen before refused: kept in the cache, Redis, for the window);
  the Slack user is linked to a member by the e-mail Slack has verified (users.info), never
  by a display name; the Share button opens a modal, whose submission goes through
  `content.services.sharing.submit_share` (the composer's own service: screening, review,
  caps, idempotency by the view's id); its refusals go back as `response_action: errors`.
* after a share: the channel message is updated (chat.update) to list who shared it, and
  the member gets an ephemeral "You shared this" (chat.postEphemeral). chat.update changes
  the message for everyone in the channel, so the words "You shared this" can only be said
  to one person in an ephemeral message (Slack has no per-viewer message).
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from accounts.models import Membership, Network, Team
from accounts.permissions import Permission, can, require
from advocacy import audit, oauth_state
from advocacy.errors import ApplicationError, NotFound, ValidationFailed
from advocacy.languages import for_recipient
from content.models import (
    ContentItem,
    Delivery,
    Share,
    SlackChannelRoute,
    SlackInstallation,
    SlackMemberLink,
    SlackPost,
    Topic,
)
from content.selectors.sharing import live_items, targeted_at
from content.services import sharing
from integrations.slack import errors as sl
from integrations.slack import signing
from integrations.slack.client import SlackClient, SlackConfig

SESSION_KEY = "slack_install_pending"
SHARE_ACTION = "share_item"
MODAL_CALLBACK = "share_modal"
POST_TASK = "content.tasks.post_to_slack"
CONFIRM_TASK = "content.tasks.confirm_slack_share"
REPLAY_PREFIX = "slack:seen-signature:"


def callback_url() -> str:
    """The one redirect URI the Slack app registers (the organization travels in the state)."""
    return settings.SITE_URL + reverse("slack_oauth_callback")


def interactivity_url() -> str:
    return settings.SITE_URL + reverse("slack_interactivity")


def slack_client() -> SlackClient:
    """The deployment's Slack app. Raises ValidationFailed when none is configured."""
    if not settings.SLACK_CLIENT_ID:
        raise ValidationFailed(
            _(
                "Slack is not set up on this deployment: ask the operator to set SLACK_CLIENT_ID, "
                "SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET."
            )
        )
    return SlackClient(
        SlackConfig(
            client_id=settings.SLACK_CLIENT_ID,
            client_secret=settings.SLACK_CLIENT_SECRET,
            redirect_uri=callback_url(),
            origin=settings.SLACK_ORIGIN,
            timeout=settings.NETWORK_TIMEOUT,
        )
    )


def installation_of(organization) -> SlackInstallation | None:
    # With its organization: a channel's messages are in the organization's language (issue 23).
    return SlackInstallation.objects.for_org(organization).select_related("organization").first()


# --- install ---------------------------------------------------------------------------------


def start_install(*, actor: Membership, session) -> str:
    """Remember a fresh state in the session; return Slack's install page URL."""
    require(actor, Permission.SLACK_MANAGE)
    client = slack_client()
    return client.authorization_url(
        state=oauth_state.remember(session, SESSION_KEY, organization_id=actor.organization_id)
    )


def finish_install(*, user, session, params) -> SlackInstallation:
    """Handle Slack's redirect back: check the state (single use, this browser, 15 minutes),
    exchange the code, store the encrypted bot token. Raises ValidationFailed with words for
    the installer; nothing is written then. The acting membership is the one the state names,
    checked here like an actor (Slack's redirect carries no organization)."""
    started = oauth_state.take(session, SESSION_KEY, params.get("state", ""))
    if started is None:
        raise ValidationFailed(
            _(
                "This Slack installation attempt is not valid any more (it expired, was already used, or was "
                "started in another browser). Nothing was changed; please install again."
            )
        )
    membership = (
        user.memberships.filter(organization_id=started["organization_id"], is_active=True)
        .select_related("organization")
        .first()
    )
    if membership is None or not can(membership, Permission.SLACK_MANAGE):
        raise ValidationFailed(_("Only a marketer or an admin of the organization can install Slack. Nothing changed."))
    if params.get("error"):
        raise ValidationFailed(_("You did not allow the app on Slack, so nothing was installed."))
    try:
        granted = slack_client().exchange_code(code=params.get("code", ""))
    except sl.SlackError as exc:
        raise ValidationFailed(
            _("Slack did not complete the installation (%(code)s). Nothing was changed; try again.")
            % {"code": exc.code or exc.message}
        ) from None
    organization = membership.organization
    taken = SlackInstallation.objects.all_organizations().filter(team_id=granted.team_id)
    if taken.exclude(organization=organization).exists():
        raise ValidationFailed(
            _("The Slack workspace %(team_name)s is already connected to another organization. Nothing changed.")
            % {"team_name": granted.team_name}
        )
    with transaction.atomic():
        installation = SlackInstallation.objects.for_org(organization).select_for_update().first()
        if installation is None:
            installation = SlackInstallation(organization=organization)
        if installation.pk and installation.team_id != granted.team_id:
            SlackChannelRoute.objects.for_org(organization).delete()  # the old workspace's channels
        installation.team_id, installation.team_name = granted.team_id, granted.team_name
        installation.bot_user_id, installation.app_id = granted.bot_user_id, granted.app_id
        installation.bot_token, installation.scopes = granted.bot_token, ",".join(granted.scopes)
        installation.status, installation.status_reason = SlackInstallation.Status.ACTIVE, ""
        installation.installed_by = user
        installation.save()
        audit.record(
            "slack.installed",
            organization_id=organization.pk,
            target=installation,
            after={"team": granted.team_id, "team_name": granted.team_name, "scopes": installation.scopes},
        )
    return installation


@transaction.atomic
def uninstall(*, actor: Membership) -> None:
    """Forget the bot token and the channel routes. Messages already posted stay in Slack."""
    require(actor, Permission.SLACK_MANAGE)
    installation = installation_of(actor.organization_id)
    if installation is None:
        raise ValidationFailed(_("Slack is not installed."))
    before = {"team": installation.team_id}
    SlackChannelRoute.objects.for_org(actor.organization_id).delete()
    installation.delete()
    audit.record(
        "slack.uninstalled",
        organization_id=actor.organization_id,
        target_type="slackinstallation",
        target_id=before["team"],
        before=before,
        after={"by": actor.user_id},
    )


def _mark_needs_reinstall(installation: SlackInstallation, reason: str) -> None:
    SlackInstallation.objects.for_org(installation.organization_id).filter(pk=installation.pk).update(
        status=SlackInstallation.Status.NEEDS_REINSTALL, status_reason=reason[:300]
    )


# --- channel routes ----------------------------------------------------------------------------


def channels_to_pick(*, actor: Membership):
    """The workspace's public channels (conversations.list), for the settings page. Raises
    ValidationFailed (not installed, reinstall needed, Slack busy) in words for the marketer."""
    require(actor, Permission.SLACK_MANAGE)
    installation = installation_of(actor.organization_id)
    if installation is None:
        return []
    try:
        return slack_client().channels(installation.bot_token)
    except sl.AuthRevoked as exc:
        _mark_needs_reinstall(installation, exc.code)
        raise ValidationFailed(_("Slack no longer accepts the app's token: install the app again.")) from None
    except (sl.RateLimited, sl.TransientFailure):
        raise ValidationFailed(_("Slack is busy; the channel list could not be read. Try again in a minute.")) from None


def add_route(
    *, actor: Membership, channel_id: str, topic_id=None, team_id=None, cadence: str = SlackChannelRoute.Cadence.EACH
) -> SlackChannelRoute:
    """Send new featured content (all, a topic's, a team's) to a channel of the workspace,
    each item as it is featured or in a daily round-up. Raises ValidationFailed for a channel
    Slack does not list, a foreign topic or team, or an unknown cadence."""
    if cadence not in SlackChannelRoute.Cadence.values:
        raise ValidationFailed(_("Pick how often the channel gets content."), fields={"cadence": [_("Unknown.")]})
    channels = {c.id: c for c in channels_to_pick(actor=actor)}
    if installation_of(actor.organization_id) is None:
        raise ValidationFailed(_("Install the Slack app first."))
    channel = channels.get(channel_id or "")
    if channel is None:
        raise ValidationFailed(_("Pick one of the workspace's channels."), fields={"channel": [_("Unknown channel.")]})
    topic = Topic.objects.for_org(actor.organization_id).filter(pk=topic_id).first() if topic_id else None
    team = Team.objects.for_org(actor.organization_id).filter(pk=team_id).first() if team_id else None
    if (topic_id and topic is None) or (team_id and team is None):
        raise ValidationFailed(_("Pick a topic and a team of your organization."))
    try:
        with transaction.atomic():
            route = SlackChannelRoute.objects.create(
                organization_id=actor.organization_id,
                channel_id=channel.id,
                channel_name=channel.name,
                topic=topic,
                team=team,
                cadence=cadence,
                created_by_id=actor.user_id,
            )
    except IntegrityError:
        raise ValidationFailed(_("#%(channel)s already gets this content.") % {"channel": channel.name}) from None
    audit.record(
        "slack.route_added",
        organization_id=actor.organization_id,
        target=route,
        after={
            "channel": channel.name,
            "topic": topic.name if topic else None,
            "team": team.name if team else None,
            "cadence": cadence,
        },
    )
    return route


@transaction.atomic
def remove_route(*, actor: Membership, route_id: int) -> None:
    require(actor, Permission.SLACK_MANAGE)
    route = SlackChannelRoute.objects.for_org(actor.organization_id).filter(pk=route_id).first()
    if route is None:
        raise NotFound(_("No such channel setting."))
    audit.record(
        "slack.route_removed",
        organization_id=actor.organization_id,
        target=route,
        before={"channel": route.channel_name},
    )
    route.delete()


# --- posting featured content ----------------------------------------------------------------


def _route_wants(route: SlackChannelRoute, topics: set[int], teams: set[int]) -> bool:
    """A topic route wants the topic's items; a team route the items for that team and the
    items for everyone (no target teams)."""
    return (route.topic_id is None or route.topic_id in topics) and (
        route.team_id is None or not teams or route.team_id in teams
    )


def routes_for_item(item: ContentItem) -> list[SlackChannelRoute]:
    """The item-by-item routes that want the item (3 queries)."""
    topics = set(item.topics.values_list("pk", flat=True))
    teams = set(item.target_teams.values_list("pk", flat=True))
    routes = SlackChannelRoute.objects.for_org(item.organization_id).filter(cadence=SlackChannelRoute.Cadence.EACH)
    return [r for r in routes if _route_wants(r, topics, teams)]


def queue_item(*, item: ContentItem) -> list[SlackPost]:
    """Plan the item's messages (one per matching channel, never twice) and post them after
    commit. Called when an item is published or featured; only a live, featured item goes (one
    whose start is ahead is not offered yet, so its Share button could not work); nothing
    happens without an install."""
    if not (item.featured and item.is_live()):
        return []
    installation = installation_of(item.organization_id)
    if installation is None or installation.status != SlackInstallation.Status.ACTIVE:
        return []
    planned = []
    for route in routes_for_item(item):
        post, created = SlackPost.objects.for_org(item.organization_id).get_or_create(
            organization_id=item.organization_id,
            item=item,
            channel_id=route.channel_id,
            defaults={"channel_name": route.channel_name},
        )
        if created:
            planned.append(post)
    if planned:
        organization_id, item_id = item.organization_id, item.pk
        transaction.on_commit(lambda: current_app.send_task(POST_TASK, args=[organization_id, item_id]))
    return planned


def _mrkdwn_escape(text: str) -> str:
    """Slack's three control characters in mrkdwn, escaped as Slack asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def message_blocks(item: ContentItem, shared_by: list[str]) -> tuple[str, list[dict]]:
    """The channel message: title, description, link, a Share button; who shared it."""
    link = (item.canonical_url or item.url).replace("|", "%7C").replace(">", "%3E")
    title, description = _mrkdwn_escape(item.title), _mrkdwn_escape(item.description[:600])
    text = _("New to share: %(title)s") % {"title": item.title}
    blocks: list[dict] = [
        {
            "type": "section",
            "block_id": "item",
            "text": {"type": "mrkdwn", "text": f"*<{link}|{title}>*\n{description}".strip()},
        },
        {
            "type": "actions",
            "block_id": "share",
            "elements": [
                {
                    "type": "button",
                    "action_id": SHARE_ACTION,
                    "style": "primary",
                    "text": {"type": "plain_text", "text": pgettext("verb", "Share")},
                    "value": str(item.pk),
                }
            ],
        },
    ]
    if shared_by:
        people = ", ".join(f"<@{u}>" for u in shared_by[:20])
        if len(shared_by) > 20:
            more = len(shared_by) - 20
            shared = ngettext(
                "✅ Shared by %(people)s and %(count)s more", "✅ Shared by %(people)s and %(count)s more", more
            ) % {"people": people, "count": more}
        else:
            shared = _("✅ Shared by %(people)s") % {"people": people}
        blocks.append(
            {
                "type": "context",
                "block_id": "shared",
                "elements": [{"type": "mrkdwn", "text": shared}],
            }
        )
    return text, blocks


@dataclass(frozen=True)
class PostRun:
    posted: int
    retry_after: float | None  # Slack's Retry-After when it asked us to wait


def post_pending(*, organization_id: int, item_id: int) -> PostRun:
    """Post the item's pending messages whose time has come. Slack's 429 stops the run and
    records `not_before` on the rest (the caller comes back after `retry_after`); a channel
    that is gone fails its post with the reason; a revoked token marks the install."""
    installation = installation_of(organization_id)
    if installation is None or installation.status != SlackInstallation.Status.ACTIVE:
        return PostRun(0, None)
    client = slack_client()
    now = timezone.now()
    pending = list(
        SlackPost.objects.for_org(organization_id)
        .filter(item_id=item_id, status=SlackPost.Status.PENDING)
        .filter(Q(not_before__isnull=True) | Q(not_before__lte=now))
        .select_related("item")
    )
    posted = 0
    for post in pending:
        with for_recipient(None, installation.organization):  # a channel: the organization's language
            text, blocks = message_blocks(post.item, post.shared_by)
        try:
            ts = client.post_message(installation.bot_token, channel=post.channel_id, text=text, blocks=blocks)
        except sl.RateLimited as exc:
            wait = max(exc.retry_after, 1.0)
            SlackPost.objects.for_org(organization_id).filter(item_id=item_id, status=SlackPost.Status.PENDING).update(
                not_before=now + timedelta(seconds=wait)
            )
            return PostRun(posted, wait)
        except sl.ChannelNotFound as exc:
            with for_recipient(None, installation.organization):
                error = _("Slack: %(code)s (invite the app or pick another channel)") % {"code": exc.code}
            post.status, post.error = SlackPost.Status.FAILED, error
            post.save(update_fields=["status", "error"])
            continue
        except sl.AuthRevoked as exc:
            _mark_needs_reinstall(installation, exc.code)
            return PostRun(posted, None)
        post.status, post.ts, post.posted_at, post.error = SlackPost.Status.POSTED, ts, timezone.now(), ""
        post.save(update_fields=["status", "ts", "posted_at", "error"])
        posted += 1
    return PostRun(posted, None)


# --- the daily round-ups: channels that asked for one, and members who opted in to a DM ---------

ROUND_UP_MAX = 10  # items in one message (2 blocks each, under Slack's 50)
ROUND_UP_WINDOW = timedelta(days=1)  # a first round-up looks back one day


def round_up_blocks(title: str, items: list[ContentItem]) -> tuple[str, list[dict]]:
    """One message listing `items`, each with its own Share button."""
    blocks: list[dict] = [{"type": "section", "block_id": "head", "text": {"type": "mrkdwn", "text": f"*{title}*"}}]
    for item in items[:ROUND_UP_MAX]:
        _text, single = message_blocks(item, [])
        blocks.append({**single[0], "block_id": f"item-{item.pk}"})
        blocks.append({**single[1], "block_id": f"share-{item.pk}"})
    return _("%(title)s: %(count)s to share") % {"title": title, "count": len(items)}, blocks


def _fresh_featured(organization_id: int, since):
    return (
        live_items(organization_id)
        .filter(featured=True, published_at__gt=since)
        .prefetch_related("topics", "target_teams")
        .order_by("published_at", "pk")
    )


def installed_organizations() -> list[int]:
    """The organizations with a working Slack install (for the daily round-ups)."""
    return list(
        SlackInstallation.objects.all_organizations()  # the schedule serves every organization
        .filter(status=SlackInstallation.Status.ACTIVE)
        .values_list("organization_id", flat=True)
    )


def send_round_ups(*, organization_id: int) -> int:
    """Post the daily round-ups due: to each daily channel, the featured items published
    since its last round-up that it wants and has not had; to each member who opted in, a
    DM of those meant for them (the feed's targeting). Messages sent; a channel with nothing
    new gets nothing. Slack's 429 or a failure leaves the rest for the next run."""
    installation = installation_of(organization_id)
    if installation is None or installation.status != SlackInstallation.Status.ACTIVE:
        return 0
    client, now, sent = slack_client(), timezone.now(), 0
    routes = SlackChannelRoute.objects.for_org(organization_id).filter(cadence=SlackChannelRoute.Cadence.DAILY)
    try:
        for route in routes:
            had = set(
                SlackPost.objects.for_org(organization_id)
                .filter(channel_id=route.channel_id)
                .values_list("item_id", flat=True)
            )
            items = [
                item
                for item in _fresh_featured(organization_id, route.last_digest_at or now - ROUND_UP_WINDOW)
                if item.pk not in had
                and _route_wants(route, {t.pk for t in item.topics.all()}, {t.pk for t in item.target_teams.all()})
            ][:ROUND_UP_MAX]
            if items:
                with for_recipient(None, installation.organization):  # a channel
                    text, blocks = round_up_blocks(_("New to share today"), items)
                ts = client.post_message(installation.bot_token, channel=route.channel_id, text=text, blocks=blocks)
                SlackPost.objects.bulk_create(
                    [
                        SlackPost(
                            organization_id=organization_id,
                            item=item,
                            channel_id=route.channel_id,
                            channel_name=route.channel_name,
                            status=SlackPost.Status.POSTED,
                            ts=ts,
                            in_round_up=True,
                            posted_at=now,
                        )
                        for item in items
                    ],
                    ignore_conflicts=True,
                )
                sent += 1
            route.last_digest_at = now
            route.save(update_fields=["last_digest_at"])
        links = (
            SlackMemberLink.objects.for_org(organization_id)
            .filter(dm_digest=True)
            .select_related("membership__organization", "membership__user")
        )
        for link in links:
            since = link.last_digest_at or now - ROUND_UP_WINDOW
            items = list(
                targeted_at(live_items(organization_id), link.membership)
                .filter(featured=True, published_at__gt=since)
                .order_by("published_at", "pk")[:ROUND_UP_MAX]
            )
            if items:
                with for_recipient(link.membership.user, link.membership.organization):  # a person
                    text, blocks = round_up_blocks(_("New for you to share"), items)
                client.post_message(installation.bot_token, channel=link.slack_user_id, text=text, blocks=blocks)
                sent += 1
            link.last_digest_at = now
            link.save(update_fields=["last_digest_at"])
    except sl.AuthRevoked as exc:
        _mark_needs_reinstall(installation, exc.code)
    except (sl.RateLimited, sl.TransientFailure, sl.ChannelNotFound, sl.UserNotFound):
        pass  # what was sent is recorded; the rest goes with the next run
    return sent


def set_dm_digest(*, actor: Membership, enabled: bool) -> SlackMemberLink:
    """The member's opt-in to (or out of) the daily DM of new content in Slack. Opting in
    finds the member's Slack user by their account's e-mail (users.lookupByEmail), and only
    one whose e-mail Slack has verified. Raises ValidationFailed in words for the member."""
    require(actor, Permission.FEED_USE)
    installation = installation_of(actor.organization_id)
    if installation is None or installation.status != SlackInstallation.Status.ACTIVE:
        raise ValidationFailed(
            _("%(organization)s has not installed the Slack app.") % {"organization": actor.organization.name}
        )
    link = SlackMemberLink.objects.for_org(actor.organization_id).filter(membership=actor).first()
    if enabled:
        try:
            person = slack_client().user_by_email(installation.bot_token, email=actor.user.email)
        except sl.UserNotFound:
            raise ValidationFailed(
                _("Nobody in the Slack workspace %(team_name)s uses %(email)s.")
                % {"team_name": installation.team_name, "email": actor.user.email}
            ) from None
        except sl.SlackError:
            raise ValidationFailed(_("Slack did not answer; try again in a minute.")) from None
        if person.verified_email != actor.user.email.lower():
            raise ValidationFailed(_("Your Slack e-mail address is not verified: verify it in Slack first."))
        link = link or SlackMemberLink(organization_id=actor.organization_id, membership=actor)
        link.slack_user_id = person.id
    elif link is None:
        raise ValidationFailed(_("You do not get the Slack digest."))
    link.dm_digest = enabled
    link.save()
    audit.record("slack.dm_digest", organization_id=actor.organization_id, target=link, after={"enabled": enabled})
    return link


# --- requests from Slack -----------------------------------------------------------------------


class BadSlackRequest(ApplicationError):
    """Not a request Slack signed now (401): a wrong signature, a stale timestamp, a replay."""

    code = "bad_signature"
    status = 401


def verify_request(*, body: bytes, timestamp: str | None, signature: str | None) -> None:
    """Raise BadSlackRequest unless Slack signed `body` within the last five minutes and this
    signature was not seen before (Redis keeps each for the five minutes it could be replayed)."""
    if not signing.verify(settings.SLACK_SIGNING_SECRET, body, timestamp, signature, now=time.time()):
        raise BadSlackRequest(_("The request is not signed by Slack, or is older than five minutes."))
    if not cache.add(REPLAY_PREFIX + signature, 1, timeout=signing.WINDOW_SECONDS * 2):
        raise BadSlackRequest(_("This request was already received (a replay)."))


class UnknownSlackUser(ApplicationError):
    code = "unknown_slack_user"


def member_for(installation: SlackInstallation, slack_user_id: str) -> Membership:
    """The active member whose account e-mail is the one Slack has verified for this Slack user
    (users.info; never a display name). Raises UnknownSlackUser in words for the person."""
    try:
        person = slack_client().user(installation.bot_token, user_id=slack_user_id)
    except sl.UserNotFound:
        raise UnknownSlackUser(_("Slack does not know you in this workspace.")) from None
    email = person.verified_email
    if not email:
        raise UnknownSlackUser(
            _(
                "Your Slack e-mail address is not verified, so we cannot tell which advocacy account is yours. "
                "Verify it in Slack, or share from the web."
            )
        )
    membership = (
        Membership.objects.for_org(installation.organization_id)
        .filter(user__email__iexact=email, is_active=True)
        .select_related("organization", "user")
        .first()
    )
    if membership is None or not can(membership, Permission.FEED_USE):
        raise UnknownSlackUser(
            _(
                "No employee account of %(organization)s uses %(email)s. "
                "Ask your admin for an invitation, or sign in with that address."
            )
            % {"organization": installation.organization.name, "email": email}
        )
    return membership


def handle_interaction(payload: dict) -> dict | None:
    """One verified interactivity payload: the Share button (block_actions) or the modal's
    submit (view_submission). Returns the JSON body to answer Slack with (None: empty 200)."""
    team_id = (payload.get("team") or {}).get("id") or ""
    installation = (
        SlackInstallation.objects.all_organizations()  # Slack names the workspace; it finds the tenant
        .filter(team_id=team_id, status=SlackInstallation.Status.ACTIVE)
        .select_related("organization")
        .first()
    )
    if installation is None:
        return None
    kind = payload.get("type")
    # The organization's language until the person is known (then theirs: for_recipient below).
    with for_recipient(None, installation.organization):
        if kind == "block_actions":
            action = next((a for a in payload.get("actions") or [] if a.get("action_id") == SHARE_ACTION), None)
            if action is not None:
                open_share_modal(installation, payload, action)
            return None
        if kind == "view_submission" and (payload.get("view") or {}).get("callback_id") == MODAL_CALLBACK:
            return submit_from_modal(installation, payload)
    return None


def _tell(installation: SlackInstallation, payload: dict, text: str) -> None:
    """An ephemeral note to the person who clicked, in the message's channel."""
    channel = (payload.get("channel") or {}).get("id") or (payload.get("container") or {}).get("channel_id")
    if not channel:
        return
    with contextlib.suppress(sl.SlackError):  # nobody else to tell; the click simply did nothing
        slack_client().post_ephemeral(installation.bot_token, channel=channel, user=payload["user"]["id"], text=text)


def _plain(text: str, limit: int = 75) -> dict:
    return {"type": "plain_text", "text": text[:limit]}


def share_modal(membership: Membership, item: ContentItem, metadata: dict) -> dict:
    """The modal: the suggestion the composer would start with, the accounts the composer
    would tick (the app-posted ones; Slack cannot open a network's share window), and each
    network's count of the text as posted (link included) against its limit."""
    suggestions = list(item.suggestions.all())
    start = sharing.pick_suggestion(item, membership, suggestions)
    targets = [t for t in sharing.targets_for(membership) if t.mode == Delivery.Mode.API and not t.disabled_reason]
    chosen = set(sharing.preselected_targets(membership, targets))
    text = start.text if start else ""
    meta = json.dumps({**metadata, "item": item.pk, "suggestion": start.pk if start else None})
    base = {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "title": _plain(pgettext("verb", "Share"), 24),
        "close": _plain(_("Cancel"), 24),
        "private_metadata": meta,
    }
    if not targets:
        url = settings.SITE_URL + reverse("connections", kwargs={"org_slug": membership.organization.slug})
        return {
            **base,
            "blocks": [
                {
                    "type": "section",
                    "text": {
                        "type": "mrkdwn",
                        "text": _("Connect LinkedIn, X or a Facebook Page first: <%(url)s|your connections>.")
                        % {"url": url},
                    },
                }
            ],
        }
    checks = sharing.text_checks(
        {n: sharing.final_text(n, text, sharing.sample_link()) for n in sorted({t.network for t in targets})}
    )
    counts = " · ".join(f"{Network(n).label} {c['length']:,}/{c['limit']:,}" for n, c in checks.items())
    hint = _("%(counts)s characters as posted, link included. Each network counts your final text when you share.") % {
        "counts": counts
    }
    options = [{"text": _plain(t.label), "value": t.key} for t in targets[:10]]
    accounts: dict = {"type": "checkboxes", "action_id": "targets", "options": options}
    initial = [o for o in options if o["value"] in chosen]
    if initial:
        accounts["initial_options"] = initial
    return {
        **base,
        "submit": _plain(pgettext("verb", "Share"), 24),
        "blocks": [
            {
                "type": "section",
                "block_id": "item",
                "text": {"type": "mrkdwn", "text": f"*{_mrkdwn_escape(item.title)}*"},
            },
            {
                "type": "input",
                "block_id": "commentary",
                "label": _plain(_("Your words")),
                "hint": _plain(hint, 150),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": 3000,
                    "initial_value": text,
                },
            },
            {"type": "input", "block_id": "targets", "label": _plain(_("Post to")), "element": accounts},
        ],
    }


def open_share_modal(installation: SlackInstallation, payload: dict, action: dict) -> None:
    """The Share button: link the person, find the item (live and meant for them), open the
    modal with the click's trigger_id (single use, 3 seconds). A person we cannot link, an
    item gone, or Slack refusing the modal gets an ephemeral message instead."""
    try:
        membership = member_for(installation, payload["user"]["id"])
        item = (
            targeted_at(live_items(membership.organization), membership)
            .filter(pk=int(action.get("value") or 0))
            .first()
        )
        if item is None:
            raise UnknownSlackUser(_("This content is no longer offered to you."))
    except (UnknownSlackUser, ValueError) as exc:
        _tell(installation, payload, getattr(exc, "message", _("This button does not work any more.")))
        return
    container = payload.get("container") or {}
    metadata = {"channel": container.get("channel_id", ""), "ts": container.get("message_ts", "")}
    with for_recipient(membership.user, membership.organization):  # the modal in the person's language
        try:
            slack_client().open_view(
                installation.bot_token,
                trigger_id=payload.get("trigger_id", ""),
                view=share_modal(membership, item, metadata),
            )
        except sl.TriggerExpired:
            _tell(installation, payload, _("That took too long for Slack; click Share again."))
        except sl.SlackError as exc:
            _tell(
                installation,
                payload,
                _("Slack could not open the share window (%(problem)s); try again.") % {"problem": exc.code or "busy"},
            )


def _values(view: dict) -> tuple[str, list[str]]:
    state = (view.get("state") or {}).get("values") or {}
    text = ((state.get("commentary") or {}).get("text") or {}).get("value") or ""
    options = ((state.get("targets") or {}).get("targets") or {}).get("selected_options") or []
    return text, [o.get("value") for o in options if o.get("value")]


def _errors(exc: ApplicationError) -> dict:
    """The service's refusal on the modal's fields (Slack shows each under its block)."""
    on_targets = any(k in exc.fields for k in ("targets", "target_keys"))
    return {"response_action": "errors", "errors": {"targets" if on_targets else "commentary": exc.message[:300]}}


def submit_from_modal(installation: SlackInstallation, payload: dict) -> dict | None:
    """The modal's Share: the same `submit_share` as the web composer (screening, review,
    caps, repeat check), idempotent by the view's id (Slack may send a submission twice).
    Refusals go back onto the modal; a share made updates the message after commit."""
    view = payload.get("view") or {}
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    text, keys = _values(view)
    try:
        membership = member_for(installation, payload["user"]["id"])
        with for_recipient(membership.user, membership.organization):  # refusals in the person's language
            if not keys:
                raise ValidationFailed(_("Pick at least one account."), fields={"targets": [_("Required.")]})
            share = sharing.submit_share(
                actor=membership,
                item_id=int(metadata.get("item") or 0),
                commentary=text,
                target_keys=keys,
                suggestion_id=metadata.get("suggestion"),
                submit_key=f"slack:{view.get('id', '')}",
            )
    except ApplicationError as exc:
        return _errors(exc)
    if not share.replayed:
        args = [
            installation.organization_id,
            share.pk,
            payload["user"]["id"],
            metadata.get("channel", ""),
            metadata.get("ts", ""),
        ]
        transaction.on_commit(lambda: current_app.send_task(CONFIRM_TASK, args=args))
    return None


def confirm_share(*, organization_id: int, share_id: int, slack_user: str, channel: str, ts: str) -> None:
    """After a share from Slack: the channel message lists the person among those who shared
    it (chat.update), and the person reads "You shared this" with where it stands
    (chat.postEphemeral). Slack errors end quietly: the share itself is already made."""
    installation = installation_of(organization_id)
    share = Share.objects.for_org(organization_id).filter(pk=share_id).select_related("item", "author").first()
    if installation is None or share is None:
        return
    client = slack_client()
    with transaction.atomic():
        post = (
            SlackPost.objects.for_org(organization_id)
            .select_for_update()
            .filter(item_id=share.item_id, channel_id=channel, ts=ts)
            .first()
        )
        if post is not None and slack_user not in post.shared_by:
            post.shared_by = [*post.shared_by, slack_user]
            post.save(update_fields=["shared_by"])
    if post is not None and not post.in_round_up:  # a round-up lists many items: left as it is
        with for_recipient(None, installation.organization):  # the channel's message
            text, blocks = message_blocks(share.item, post.shared_by)
        with contextlib.suppress(sl.SlackError):
            client.update_message(installation.bot_token, channel=channel, ts=ts, text=text, blocks=blocks)
    with for_recipient(share.author, installation.organization):  # the note to the person who shared
        words = {
            Share.Status.APPROVED: _("✅ You shared “%(title)s”: it is approved and goes out shortly."),
            Share.Status.SCHEDULED: _("✅ You shared “%(title)s”: it is approved and scheduled."),
            Share.Status.IN_REVIEW: _("✅ You shared “%(title)s”: a reviewer checks it before it goes out."),
        }.get(share.status) or _("✅ You shared “%(title)s”: it is %(status)s.")
        note = words % {"title": share.item.title, "status": share.get_status_display().lower()}
    if channel:
        with contextlib.suppress(sl.SlackError):
            client.post_ephemeral(installation.bot_token, channel=channel, user=slack_user, text=note)
