"""Employees' connected social accounts: connect (OAuth), reconnect, pick Pages, disconnect,
refresh before expiry. The network calls go through the `networks` clients.

Guarantees:
* `state` is bound to the session and single-use; the PKCE verifier stays in the session
  (server side) and is sent only to the network's token endpoint.
* Nothing is written until the network has answered; a failed (re)connect leaves the old
  tokens as they were, and never touches the employee's other connections.
* Refreshes of one connection are serialised by a row lock held across the network call
  (X's refresh tokens are single-use: two refreshes at once would break the account).
"""

from __future__ import annotations

import secrets
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import crypto
from accounts.models import Membership, Network, NetworkApp, Organization, SocialConnection
from accounts.permissions import Permission, require
from accounts.services.notifications import notify_needs_reconnect
from advocacy import audit
from advocacy.errors import NotFound, ValidationFailed
from advocacy.languages import for_recipient
from networks import errors as net
from networks.base import NetworkClient, NetworkConfig, TokenSet, client_for

SESSION_KEY = "oauth_pending"
STATE_TTL_SECONDS = 15 * 60
REFRESH_AHEAD = timedelta(minutes=10)  # refresh tokens that expire sooner than this
WARN_AHEAD = timedelta(days=7)  # tell the employee this long before a token without refresh expires

ORIGINS = {"linkedin": "LINKEDIN_ORIGIN", "x": "X_ORIGIN", "facebook": "FACEBOOK_ORIGIN"}


def callback_url(network: str) -> str:
    """The one redirect URI per network the apps register (the org travels in the state)."""
    from django.urls import reverse

    return settings.SITE_URL + reverse("connection_callback", kwargs={"network": network})


def network_configs(
    organization: Organization, apps: dict[str, NetworkApp] | None = None
) -> dict[str, NetworkConfig | None]:
    """Every network's config for this org (None: share assisted only): one query, or none
    when the caller already holds the org's apps (`selectors.network_apps_of`)."""
    if apps is None:
        apps = {app.network: app for app in NetworkApp.objects.for_org(organization)}
    return {network: _config(network, apps.get(network)) for network in Network.values}


def network_config(organization: Organization | int, network: str) -> NetworkConfig | None:
    """The app credentials to use for this org and network, or None: share assisted only."""
    if network not in Network.values:
        raise NotFound(_("No such network."))
    return _config(network, NetworkApp.objects.for_org(organization).filter(network=network).first())


def _config(network: str, app: NetworkApp | None) -> NetworkConfig | None:
    if app is not None and not app.is_enabled:
        return None
    app_key = app_secret = ""
    if app is not None and app.client_id:
        client_id, client_secret = app.client_id, app.client_secret
        app_key, app_secret = app.api_key, app.api_secret
    else:
        client_id, client_secret = settings.NETWORK_APPS[network]
        if network == "x":  # the deployment's X app: its API Key and Secret for app-only reads
            app_key, app_secret = settings.X_API_KEY, settings.X_API_SECRET
    if not client_id:
        return None
    return NetworkConfig(
        client_id=client_id,
        client_secret=client_secret,
        redirect_uri=callback_url(network),
        origin=getattr(settings, ORIGINS[network]),
        timeout=settings.NETWORK_TIMEOUT,
        linkedin_version=settings.LINKEDIN_API_VERSION,
        facebook_graph_version=settings.FACEBOOK_GRAPH_VERSION,
        app_key=app_key,
        app_secret=app_secret,
    )


def _client(organization: Organization, network: str) -> NetworkClient:
    config = network_config(organization, network)
    if config is None:
        raise ValidationFailed(
            _(
                "%(network)s is not set up for %(organization)s: share through %(network)s's own share window "
                "instead, or ask your admin to enable it."
            )
            % {"network": Network(network).label, "organization": organization.name}
        )
    return client_for(network, config)


# --- connecting ---------------------------------------------------------------------------


def start_connection(*, actor: Membership, network: str, session) -> str:
    """Remember a fresh `state` (and PKCE verifier) in the session; return the consent URL."""
    require(actor, Permission.CONNECTIONS_MANAGE_OWN)
    membership = actor
    client = _client(membership.organization, network)
    state = secrets.token_urlsafe(24)
    request = client.authorization_url(state=state)
    pending = {
        key: value
        for key, value in session.get(SESSION_KEY, {}).items()
        if value["created"] > time.time() - STATE_TTL_SECONDS
    }
    pending[state] = {
        "network": network,
        "organization_id": membership.organization_id,
        # Encrypted like stored tokens (accounts.crypto): the session table never holds it in clear.
        "verifier": crypto.encrypt(request.code_verifier) if request.code_verifier else "",
        "created": time.time(),
    }
    session[SESSION_KEY] = pending
    return request.url


def _verifier(started: dict) -> str | None:
    """The PKCE verifier kept (encrypted) with the state; one that does not decrypt (keys
    rotated away, a tampered session) is sent as is and refused by the network."""
    if not started.get("verifier"):
        return None
    try:
        return crypto.decrypt(started["verifier"])
    except crypto.DecryptionFailed:
        return started["verifier"]


def _denied_message(network: str, error: str, description: str) -> str:
    label = Network(network).label
    if error in ("access_denied", "user_cancelled_login", "user_cancelled_authorize"):
        return _("You did not allow access on %(network)s, so nothing was connected.") % {"network": label}
    return _("%(network)s did not connect: %(reason)s.") % {"network": label, "reason": description or error}


def finish_connection(*, user, network: str, session, params) -> tuple[Membership, list[SocialConnection]]:
    """Handle the network's redirect back. Returns the membership and what was (re)connected.

    Raises ValidationFailed with a message for the employee for a missing, replayed or
    foreign state, a denied consent, or a refused code; nothing is written then.

    No `actor` parameter: the network's redirect carries no organization; the acting
    membership is the one the signed `state` names, and is checked here like an actor.
    """
    state = params.get("state", "")
    pending = session.get(SESSION_KEY, {})
    started = pending.pop(state, None) if state else None
    session[SESSION_KEY] = pending  # single use, whatever happens next
    if started is None or started["network"] != network or started["created"] < time.time() - STATE_TTL_SECONDS:
        raise ValidationFailed(
            _(
                "This connection attempt is not valid any more (it expired, was already used, or was started in "
                "another browser). Nothing was changed; please connect again."
            )
        )
    membership = (
        user.memberships.filter(organization_id=started["organization_id"], is_active=True)
        .select_related("organization")
        .first()
    )
    if membership is None:
        raise ValidationFailed(_("You are no longer a member of that organization."))
    require(membership, Permission.CONNECTIONS_MANAGE_OWN)
    if params.get("error"):
        raise ValidationFailed(_denied_message(network, params["error"], params.get("error_description", "")))
    client = _client(membership.organization, network)
    try:
        tokens = client.exchange_code(code=params.get("code", ""), code_verifier=_verifier(started))
        profile = client.profile(access_token=tokens.access_token)
        pages = client.managed_pages(access_token=tokens.access_token) if network == Network.FACEBOOK else []
    except net.NetworkError as exc:
        raise ValidationFailed(
            _("%(network)s did not complete the connection (%(message)s). Nothing was changed; please try again.")
            % {"network": Network(network).label, "message": exc.message}
        ) from None
    with transaction.atomic():
        member = _upsert(
            membership,
            network,
            SocialConnection.Kind.MEMBER,
            profile.remote_id,
            profile.name,
            profile.username,
            tokens,
            parent=None,
            can_post=network != Network.FACEBOOK,  # personal Facebook timelines: assisted share only
        )
        connected = [member]
        for page in pages:
            page_tokens = TokenSet(access_token=page.access_token, expires_at=None)
            connected.append(
                _upsert(
                    membership,
                    network,
                    SocialConnection.Kind.PAGE,
                    page.remote_id,
                    page.name,
                    "",
                    page_tokens,
                    parent=member,
                    can_post=page.can_post,
                )
            )
    return membership, connected


def _upsert(membership, network, kind, remote_id, name, username, tokens: TokenSet, *, parent, can_post):
    existing = (
        SocialConnection.objects.for_org(membership.organization_id)
        .select_for_update()
        .filter(user_id=membership.user_id, network=network, remote_id=remote_id)
        .first()
    )
    before = {"status": existing.status, "name": existing.name} if existing else None
    connection = existing or SocialConnection(
        organization_id=membership.organization_id,
        user_id=membership.user_id,
        network=network,
        remote_id=remote_id,
        kind=kind,
        # A Page found for the first time waits for the employee to pick it.
        is_selected=kind == SocialConnection.Kind.MEMBER,
    )
    connection.kind = kind
    connection.parent = parent
    connection.name = name
    connection.username = username
    connection.can_post = can_post
    connection.status = SocialConnection.Status.ACTIVE
    connection.status_reason = ""
    _store_tokens(connection, tokens)
    connection.expiry_warned_at = None
    connection.save()
    audit.record(
        "connection.reconnected" if existing else "connection.connected",
        organization_id=membership.organization_id,
        target=connection,
        before=before,
        after={"status": connection.status, "network": network, "kind": kind, "name": name, "remote_id": remote_id},
    )
    return connection


def _store_tokens(connection: SocialConnection, tokens: TokenSet) -> None:
    connection.access_token = tokens.access_token
    connection.expires_at = tokens.expires_at
    if tokens.refresh_token:
        connection.refresh_token = tokens.refresh_token
        connection.refresh_expires_at = tokens.refresh_expires_at
    connection.scopes = " ".join(tokens.scopes)


@transaction.atomic
def select_pages(*, actor: Membership, page_ids: list[int]) -> list[SocialConnection]:
    """Choose which of the employee's Facebook Pages to post to (the others are kept, unselected)."""
    require(actor, Permission.CONNECTIONS_MANAGE_OWN)
    membership = actor
    pages = SocialConnection.objects.for_org(membership.organization_id).filter(
        user_id=membership.user_id, network=Network.FACEBOOK, kind=SocialConnection.Kind.PAGE
    )
    wanted = {int(p) for p in page_ids}
    unknown = wanted - set(pages.values_list("pk", flat=True))
    if unknown:
        raise ValidationFailed(_("A chosen Page is not one of yours."))
    refused = pages.filter(pk__in=wanted, can_post=False)
    if refused.exists():
        names = ", ".join(refused.values_list("name", flat=True))
        raise ValidationFailed(
            _("You may not create posts on %(names)s: ask that Page's admin for the right to.") % {"names": names}
        )
    selected_before = sorted(pages.filter(is_selected=True).values_list("pk", flat=True))
    pages.filter(pk__in=wanted).update(is_selected=True)
    pages.exclude(pk__in=wanted).update(is_selected=False)
    if selected_before != sorted(wanted):
        audit.record(
            "connection.pages_selected",
            organization_id=membership.organization_id,
            target_type="accounts.socialconnection",
            target_id="",
            before={"selected_pages": selected_before},
            after={"selected_pages": sorted(wanted)},
        )
    return list(pages.filter(is_selected=True))


@transaction.atomic
def disconnect(*, actor: Membership, connection: SocialConnection) -> SocialConnection:
    """Forget the tokens (and those of the Pages found through it); the rows stay for history.
    Someone else's connection, or another organization's: SocialConnection.DoesNotExist."""
    require(actor, Permission.CONNECTIONS_MANAGE_OWN)
    connection = SocialConnection.objects.for_org(actor.organization_id).get(pk=connection.pk, user_id=actor.user_id)
    _forget_tokens(connection, reason=_("Disconnected by you."))
    connection.refresh_from_db()
    return connection


def _forget_tokens(
    connection: SocialConnection, *, reason: str, after: dict | None = None, seen: dict[int, str] | None = None
) -> None:
    """Inside a transaction: the connection's tokens and those of its Pages forgotten, each
    row locked, disconnected with `reason` and audited ("connection.disconnected", with
    `after`). With `seen` ({row id: access token as read earlier}), a row whose token changed
    since (the member connected it again) is left alone."""
    rows = SocialConnection.objects.for_org(connection.organization_id).filter(pk=connection.pk)
    if connection.kind == SocialConnection.Kind.MEMBER:
        rows = SocialConnection.objects.for_org(connection.organization_id).filter(
            pk__in=[connection.pk, *connection.pages.values_list("pk", flat=True)]
        )
    for row in rows.select_for_update().order_by("pk"):
        if seen is not None and seen.get(row.pk, row.access_token) != row.access_token:
            continue
        status_before = row.status
        row.access_token = ""
        row.refresh_token = ""
        row.status = SocialConnection.Status.DISCONNECTED
        row.status_reason = reason
        row.save(update_fields=["access_token", "refresh_token", "status", "status_reason", "updated_at"])
        audit.record(
            "connection.disconnected",
            organization_id=row.organization_id,
            target=row,
            before={"status": status_before},
            after={"status": row.status, "network": row.network, "name": row.name, **(after or {})},
        )


SUSPENDED_REASON = gettext_lazy("Disconnected because your membership was suspended; reconnect once it is restored.")


def _suspended_membership(organization_id: int, user_id: int, *, lock: bool = False) -> Membership | None:
    rows = Membership.objects.for_org(organization_id).select_related("organization")
    if lock:
        rows = rows.select_for_update(of=("self",))
    return rows.filter(user_id=user_id, is_active=False, suspended_at__isnull=False).first()


def accounts_to_withdraw(*, organization_id: int, user_id: int) -> list[SocialConnection]:
    """System operation: a suspended member's connected accounts still to withdraw (their
    tokens as read now); none when the membership is active again."""
    if _suspended_membership(organization_id, user_id) is None:
        return []
    return list(
        SocialConnection.objects.for_org(organization_id)
        .select_related("organization")
        .filter(user_id=user_id, kind=SocialConnection.Kind.MEMBER)
        .exclude(status=SocialConnection.Status.DISCONNECTED)
        .order_by("pk")
    )


def withdraw_account(connection: SocialConnection, *, last_try: bool = True) -> str | None:
    """System operation: withdraw one account read by `accounts_to_withdraw` at its network
    (outside any transaction), then forget its tokens in a transaction that first locks the
    membership and checks it is still suspended, and skips any row whose token changed
    meanwhile: a member reactivated and reconnected during the network call keeps the new
    tokens. Returns what happened in words, or None when nothing was forgotten (reactivated).
    Raises TransientFailure / RateLimited unless `last_try` (then recorded and forgotten)."""
    seen = {connection.pk: connection.access_token}
    seen.update(connection.pages.values_list("pk", "access_token"))
    try:
        outcome = _withdraw_at_network(connection.organization, connection)
    except (net.TransientFailure, net.RateLimited) as exc:
        if not last_try:
            raise
        outcome = _not_withdrawn(connection, exc)
    with transaction.atomic():
        if _suspended_membership(connection.organization_id, connection.user_id, lock=True) is None:
            return None
        _forget_tokens(connection, reason=str(SUSPENDED_REASON), after={"at_the_network": outcome}, seen=seen)
    return outcome


def withdraw_accounts_of_suspended_member(
    *, organization_id: int, user_id: int, last_try: bool = True
) -> dict[int, str]:
    """System operation (the task after a suspension, and the sweep): a suspended member's
    connected accounts in the organization: the app's access is withdrawn at each network
    that lets an app do it (X revokes the tokens, Facebook de-authorizes the app, Pages
    included; LinkedIn offers apps no revocation), then the tokens are forgotten here and
    each connection marked disconnected, audited with what the network answered. Returns
    {connection id: outcome} for the connections done in this call.

    The network calls happen outside any transaction. A membership reactivated before this
    runs, or while it runs, keeps its accounts (`withdraw_account`). A network that is down
    or throttling (TransientFailure, RateLimited) is raised for the task to retry, the other
    accounts being done already, unless `last_try`: then its tokens are forgotten anyway and
    the failure recorded; so is a network's refusal at once."""
    outcomes: dict[int, str] = {}
    try_again: net.NetworkError | None = None
    for connection in accounts_to_withdraw(organization_id=organization_id, user_id=user_id):
        try:
            outcome = withdraw_account(connection, last_try=last_try)
        except (net.TransientFailure, net.RateLimited) as exc:
            try_again = exc
            continue
        if outcome is None:
            break  # reactivated meanwhile: everything else is kept too
        outcomes[connection.pk] = outcome
    if try_again is not None:
        raise try_again
    return outcomes


def suspended_members_holding_tokens() -> list[tuple[int, int]]:
    """System operation (the periodic sweep): (organization id, user id) of every suspended
    membership whose member connections still hold a token: a withdrawal that was never
    scheduled (the broker was down) or never finished."""
    # Every tenant's, on purpose: the sweep serves the whole deployment.
    connected = (
        SocialConnection.objects.all_organizations()
        .filter(
            organization_id=OuterRef("organization_id"), user_id=OuterRef("user_id"), kind=SocialConnection.Kind.MEMBER
        )
        .exclude(status=SocialConnection.Status.DISCONNECTED)
    )
    return list(
        Membership.objects.all_organizations()
        .filter(Exists(connected), is_active=False, suspended_at__isnull=False)
        .order_by("organization_id", "user_id")
        .values_list("organization_id", "user_id")
    )


def _withdraw_at_network(organization: Organization, connection: SocialConnection) -> str:
    """What happened at the network, in words for the audit trail. Raises TransientFailure
    and RateLimited (worth another try); records any other refusal."""
    name = connection.get_network_display()
    if not connection.access_token:
        return "no token to withdraw"
    config = network_config(organization, connection.network)
    if config is None:
        return f"not withdrawn: the organization has no {name} app"
    token = TokenSet(access_token=connection.access_token, expires_at=None, refresh_token=connection.refresh_token)
    try:
        withdrawn = client_for(connection.network, config).revoke(token=token)
    except (net.TransientFailure, net.RateLimited):
        raise
    except net.NetworkError as exc:
        return _not_withdrawn(connection, exc)
    return "access withdrawn" if withdrawn else f"{name} offers apps no way to withdraw access; tokens forgotten here"


def _not_withdrawn(connection: SocialConnection, exc: net.NetworkError) -> str:
    return f"not withdrawn: {connection.get_network_display()} answered {exc.message[:200]}"


# --- keeping tokens fresh -----------------------------------------------------------------


def mark_needs_reconnect(connection: SocialConnection, reason: str, *, notify: bool = True) -> None:
    """System operation: the connection stops being used until the employee reconnects it: status and words
    saved, audit entry written, and (unless `notify` is False, for a caller that already
    told the employee about the same cause) a notification asking them to reconnect."""
    SocialConnection.objects.for_org(connection.organization_id).filter(pk=connection.pk).update(
        status=SocialConnection.Status.NEEDS_RECONNECT, status_reason=reason[:500], updated_at=timezone.now()
    )
    audit.record(
        "connection.needs_reconnect",
        organization_id=connection.organization_id,
        target=connection,
        before={"status": connection.status},
        after={"status": SocialConnection.Status.NEEDS_RECONNECT, "reason": reason[:500]},
    )
    if notify:
        notify_needs_reconnect(connection, reason)


def _save_refreshed(connection: SocialConnection, tokens: TokenSet, *, source: str = "") -> SocialConnection:
    """Store fresh tokens on the locked row and audit it (`source`: where they came from)."""
    expires_before = connection.expires_at
    _store_tokens(connection, tokens)
    connection.last_refreshed_at = timezone.now()
    connection.save()
    audit.record(
        "connection.refreshed",
        organization_id=connection.organization_id,
        target=connection,
        before={"expires_at": expires_before},
        after={"expires_at": connection.expires_at, **({"from": source} if source else {})},
    )
    return connection


def _refresh_due(connection: SocialConnection) -> bool:
    return connection.expires_at is not None and connection.expires_at - timezone.now() < REFRESH_AHEAD


def refresh_connection(
    *, connection_id: int, organization_id: int, force: bool = False, read: SocialConnection | None = None
) -> SocialConnection:
    """System operation (tasks, publishing): refresh the tokens if they expire soon (or `force`),
    one refresh per connection at a time.

    The row lock is held across the network call: a second caller waits, then finds fresh
    tokens and does nothing. A revoked or unrefreshable token marks the connection
    `needs_reconnect` (with the network's reason) instead of raising; a transient failure
    or rate limit is raised for the caller (a task) to retry.

    A Facebook Page is never exchanged itself (see `_refresh_facebook_page`): its token is
    read again from /me/accounts with its member's user token, which is left unchanged.

    Tokens not due are read without a lock or a transaction: locking rows makes even an
    unchanged transaction write and flush its commit, and publishing asks on every delivery.
    `read` is the row as the caller has just read it (publishing's claim reads it with its
    delivery): taken as it is, without reading it again, when no refresh is due.
    """
    if not force:
        if read is not None and read.pk == connection_id and read.organization_id == organization_id:
            connection = read
        else:
            connection = (
                SocialConnection.objects.for_org(organization_id).select_related("organization").get(pk=connection_id)
            )
        if connection.status != SocialConnection.Status.ACTIVE or not _refresh_due(connection):
            return connection
    with transaction.atomic():
        rows = SocialConnection.objects.for_org(organization_id)
        parent_id = (
            rows.filter(pk=connection_id, network=Network.FACEBOOK, kind=SocialConnection.Kind.PAGE)
            .values_list("parent_id", flat=True)
            .first()
        )
        # The member before its Page: the order disconnect() locks them in.
        parent = rows.select_for_update().filter(pk=parent_id).first() if parent_id else None
        connection = rows.select_for_update().select_related("organization").get(pk=connection_id)
        if connection.status != SocialConnection.Status.ACTIVE:
            return connection
        if not (force or _refresh_due(connection)):
            return connection
        if connection.network == Network.FACEBOOK and connection.kind == SocialConnection.Kind.PAGE:
            return _refresh_facebook_page(connection, parent)
        client = _client(connection.organization, connection.network)
        current = TokenSet(
            access_token=connection.access_token,
            expires_at=connection.expires_at,
            refresh_token=connection.refresh_token or None,
            refresh_expires_at=connection.refresh_expires_at,
        )
        try:
            fresh = client.refresh(token=current)
        except (net.TokenExpired, net.TokenRevoked, net.AuthorizationFailed) as exc:
            connection.status = SocialConnection.Status.NEEDS_RECONNECT
            connection.status_reason = f"{connection.get_network_display()} asks you to reconnect ({exc.message})."
            connection.save(update_fields=["status", "status_reason", "updated_at"])
            audit.record(
                "connection.refresh_failed",
                organization_id=connection.organization_id,
                target=connection,
                before={"status": SocialConnection.Status.ACTIVE},
                after={"status": connection.status, "reason": connection.status_reason},
            )
            notify_needs_reconnect(connection)
            return connection
        return _save_refreshed(connection, fresh)


def _refresh_facebook_page(page: SocialConnection, member: SocialConnection | None) -> SocialConnection:
    """A new token for a Facebook Page row, locked by the caller with its member row.

    fb_exchange_token takes user tokens only, so the Page token is never sent there: the
    Page's entry in GET /me/accounts, read with the member's long-lived user token (whose
    Page tokens do not expire), gives it. Only a Page token is ever stored on the Page row;
    the member's user token is not touched. A user token Facebook refuses (190), or a member
    that is not active, puts both rows in `needs_reconnect` and tells the employee once; a
    Page gone from the list, or without CREATE_CONTENT, puts the Page alone there. Raises
    RateLimited, TransientFailure and the other NetworkErrors with nothing written.
    """
    label = page.get_network_display()
    if member is None or member.status != SocialConnection.Status.ACTIVE or not member.access_token:
        reason = _(
            "Your %(network)s sign-in needs reconnecting, so %(page)s cannot be posted to. Reconnect %(network)s."
        ) % {"network": label, "page": page.name}
        return _page_needs_reconnect(page, reason)
    client = _client(page.organization, page.network)
    try:
        listed = client.managed_pages(access_token=member.access_token)
    except (net.TokenExpired, net.TokenRevoked) as exc:
        mark_needs_reconnect(
            member,
            _("%(network)s no longer accepts your sign-in (%(reason)s). Reconnect %(network)s to keep posting.")
            % {"network": label, "reason": exc.message},
        )
        reason = _(
            "%(network)s no longer accepts your sign-in, so %(page)s cannot be posted to. Reconnect %(network)s."
        ) % {"network": label, "page": page.name}
        return _page_needs_reconnect(page, reason, notify=False)
    except net.PermanentRejection as exc:  # pages_show_list was taken back
        reason = _(
            "%(network)s no longer lets us list your Pages (%(reason)s). Reconnect %(network)s and allow it."
        ) % {
            "network": label,
            "reason": exc.message,
        }
        return _page_needs_reconnect(page, reason)
    found = next((p for p in listed if p.remote_id == page.remote_id), None)
    if found is None:
        reason = _(
            "%(page)s is no longer among the Pages you manage on %(network)s. Reconnect %(network)s to post to it."
        ) % {"network": label, "page": page.name}
        return _page_needs_reconnect(page, reason)
    if not found.can_post:
        reason = _(
            "You may no longer create posts on %(page)s (the CREATE_CONTENT task): ask that Page's admin, "
            "then reconnect %(network)s."
        ) % {"network": label, "page": page.name}
        return _page_needs_reconnect(page, reason)
    if not found.access_token or found.access_token == member.access_token:
        reason = _("%(network)s did not give a token for %(page)s. Reconnect %(network)s to post to it.") % {
            "network": label,
            "page": page.name,
        }
        return _page_needs_reconnect(page, reason)
    tokens = TokenSet(access_token=found.access_token, expires_at=None, scopes=tuple(page.scopes.split()))
    return _save_refreshed(page, tokens, source="me/accounts")


def _page_needs_reconnect(page: SocialConnection, reason: str, *, notify: bool = True) -> SocialConnection:
    mark_needs_reconnect(page, reason, notify=notify)
    page.status, page.status_reason = SocialConnection.Status.NEEDS_RECONNECT, reason[:500]
    return page


def connections_due_for_refresh():
    """Active connections with a refresh token whose access token expires soon (housekeeping)."""
    return (
        SocialConnection.objects.all_organizations()
        .filter(  # every tenant's, by design
            status=SocialConnection.Status.ACTIVE,
            expires_at__lt=timezone.now() + REFRESH_AHEAD,
        )
        .exclude(refresh_token="")
        .values_list("pk", "organization_id")
    )


def connection_health(connection: SocialConnection, now=None) -> tuple[str, str]:
    """("active" | "expiring" | "needs_reconnect" | "disconnected", words for the employee)."""
    now = now or timezone.now()
    if connection.status == SocialConnection.Status.DISCONNECTED:
        return "disconnected", _("Disconnected.")
    if connection.status == SocialConnection.Status.NEEDS_RECONNECT:
        return "needs_reconnect", connection.status_reason or _("Reconnect to keep sharing.")
    if connection.expires_at and not connection.refresh_token:
        if connection.expires_at <= now:
            return "needs_reconnect", _("Access expired: reconnect to keep sharing.")
        if connection.expires_at - now < WARN_AHEAD:
            return "expiring", _("Access ends on %(date)s: reconnect before then.") % {
                "date": f"{connection.expires_at:%-d %B %Y}"
            }
    return "active", _("Connected.")


def warn_expiring_connections() -> int:
    """System operation (beat): e-mail employees whose LinkedIn/Facebook access ends within a
    week (once per token)."""
    from django.core.mail import send_mail
    from django.template.loader import render_to_string
    from django.urls import reverse

    now = timezone.now()
    due = (
        SocialConnection.objects.all_organizations()  # housekeeping across tenants, by design
        .filter(
            status=SocialConnection.Status.ACTIVE,
            refresh_token="",
            kind=SocialConnection.Kind.MEMBER,
            expires_at__gt=now,
            expires_at__lt=now + WARN_AHEAD,
            expiry_warned_at__isnull=True,
        )
        .select_related("user", "organization")
    )
    sent = 0
    for connection in due:
        url = settings.SITE_URL + reverse("connections", kwargs={"org_slug": connection.organization.slug})
        with for_recipient(connection.user, connection.organization):
            message = render_to_string("accounts/email/connection_expiring.txt", {"connection": connection, "url": url})
            expires = timezone.localtime(connection.expires_at)
            subject = _("Reconnect %(network)s before %(date)s") % {
                "network": connection.get_network_display(),
                "date": f"{expires:%-d %B}",
            }
        send_mail(
            subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
            message=message,
            from_email=None,
            recipient_list=[connection.user.email],
        )
        SocialConnection.objects.for_org(connection.organization_id).filter(pk=connection.pk).update(
            expiry_warned_at=now
        )
        sent += 1
    return sent


# --- the organization's network apps -------------------------------------------------------


def _app_state(app: NetworkApp) -> dict:
    """What the audit trail keeps of a network app: never a secret, only whether one is set."""
    state = {"is_enabled": app.is_enabled, "client_id": app.client_id, "has_secret": bool(app.client_secret)}
    if app.network == "x":
        state.update(api_key=app.api_key, has_api_secret=bool(app.api_secret))
    return state


@transaction.atomic
def update_network_app(
    *,
    actor: Membership,
    network: str,
    is_enabled: bool,
    client_id: str,
    client_secret: str,
    api_key: str = "",
    api_secret: str = "",
) -> NetworkApp:
    """Enable or disable a network and set the org's own app credentials.

    An empty client id means "use the deployment's app"; an empty secret keeps the one
    stored (secrets are never shown back). A client id needs a secret. X only: the app's
    API Key and Secret (for the app-only token that reads metrics), by the same rules.
    """
    require(actor, Permission.ORG_SETTINGS)
    organization = actor.organization
    if network not in Network.values:
        raise NotFound(_("No such network."))
    app, _created = (
        NetworkApp.objects.for_org(organization)
        .select_for_update()
        .get_or_create(organization=organization, network=network)
    )
    before = _app_state(app)
    client_id, api_key = client_id.strip(), api_key.strip() if network == "x" else ""
    if client_id and not (client_secret.strip() or (app.client_secret and app.client_id == client_id)):
        raise ValidationFailed(
            _("Enter the app's client secret together with its client id."), fields={"client_secret": [_("Required.")]}
        )
    if api_key and not (api_secret.strip() or (app.api_secret and app.api_key == api_key)):
        raise ValidationFailed(
            _("Enter the app's API Key Secret together with its API Key."), fields={"api_secret": [_("Required.")]}
        )
    app.is_enabled = is_enabled
    app.client_id = client_id
    if client_secret.strip():
        app.client_secret = client_secret.strip()
    if not client_id:
        app.client_secret = ""
    app.api_key = api_key if client_id else ""
    if api_secret.strip() and app.api_key:
        app.api_secret = api_secret.strip()
    if not app.api_key:
        app.api_secret = ""
    secret_changed = bool(client_secret.strip()) and before["has_secret"]
    secret_changed |= bool(api_secret.strip()) and before.get("has_api_secret", False)
    app.save()
    after = _app_state(app)
    if before != after or secret_changed:
        # Secrets never enter the trail: only whether one is set (and that it changed).
        audit.record(
            "network_app.updated",
            organization_id=organization.pk,
            target=app,
            before=before,
            after={**after, **({"secret_replaced": True} if secret_changed else {})},
        )
    return app
