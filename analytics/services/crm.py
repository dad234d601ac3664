"""The organization's CRM connection (HubSpot): connect by OAuth, disconnect, keep the
access token fresh. The HubSpot calls go through `integrations.hubspot`.

Guarantees (as for the employees' social connections, `accounts.services.connections`):
* `state` is bound to the admin's session, single use, 15 minutes; the callback checks that
  the admin may still manage the organization's settings.
* Nothing is written until HubSpot has answered; a failed connect leaves the earlier
  connection as it was. Tokens are stored encrypted and never shown.
"""

from __future__ import annotations

from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.permissions import Permission, can, require
from advocacy import audit, oauth_state
from advocacy.errors import ValidationFailed
from analytics.models import CrmConnection, CrmProvider
from analytics.services import report_version
from integrations.hubspot import errors as hs
from integrations.hubspot.client import HubSpotClient, HubSpotConfig, Tokens

SESSION_KEY = "crm_oauth_pending"
REFRESH_AHEAD = timedelta(minutes=5)  # refresh an access token that ends sooner than this


def callback_url() -> str:
    """The one redirect URI the HubSpot app registers (the organization travels in the state)."""
    return settings.SITE_URL + reverse("crm_callback")


def hubspot_client() -> HubSpotClient:
    """The deployment's HubSpot app. Raises ValidationFailed when none is configured."""
    if not settings.HUBSPOT_CLIENT_ID:
        raise ValidationFailed(
            _(
                "HubSpot is not set up on this deployment: ask the operator to set HUBSPOT_CLIENT_ID and "
                "HUBSPOT_CLIENT_SECRET. You can still import deals from a CSV file."
            )
        )
    return HubSpotClient(
        HubSpotConfig(
            client_id=settings.HUBSPOT_CLIENT_ID,
            client_secret=settings.HUBSPOT_CLIENT_SECRET,
            redirect_uri=callback_url(),
            origin=settings.HUBSPOT_ORIGIN,
            timeout=settings.NETWORK_TIMEOUT,
        )
    )


# Enqueued by name: services do not import their tasks module (the layers contract).
SYNC_TASK = "analytics.tasks.sync_crm_connection"


def connection_of(organization) -> CrmConnection | None:
    return CrmConnection.objects.for_org(organization).filter(provider=CrmProvider.HUBSPOT).first()


def start_connect(*, actor: Membership, session) -> str:
    """Remember a fresh state in the session; return HubSpot's consent page URL."""
    require(actor, Permission.ANALYTICS_SETTINGS)
    membership = actor
    client = hubspot_client()
    return client.authorization_url(
        state=oauth_state.remember(session, SESSION_KEY, organization_id=membership.organization_id)
    )


def finish_connect(*, user, session, params) -> CrmConnection:
    """Handle HubSpot's redirect back: exchange the code, learn the portal, store the
    encrypted tokens. Raises ValidationFailed, with words for the admin, for a missing,
    replayed or foreign state, a cancelled consent or a refused code; nothing is written.

    No `actor` parameter: HubSpot's redirect carries no organization; the acting membership
    is the one the `state` names, checked here (analytics.settings) like an actor. The
    first sync is enqueued after commit."""
    started = oauth_state.take(session, SESSION_KEY, params.get("state", ""))  # single use
    if started is None:
        raise ValidationFailed(
            _(
                "This HubSpot connection attempt is not valid any more (it expired, was already used, or was "
                "started in another browser). Nothing was changed; please connect again."
            )
        )
    membership = (
        user.memberships.filter(organization_id=started["organization_id"], is_active=True)
        .select_related("organization")
        .first()
    )
    if membership is None or not can(membership, Permission.ANALYTICS_SETTINGS):
        raise ValidationFailed(_("Only an admin of the organization can connect its CRM. Nothing was changed."))
    if params.get("error"):
        raise ValidationFailed(_("You did not allow access on HubSpot, so nothing was connected."))
    client = hubspot_client()
    try:
        tokens = client.exchange_code(code=params.get("code", ""))
        portal = client.portal(access_token=tokens.access_token)
    except hs.HubSpotError as exc:
        raise ValidationFailed(
            _("HubSpot did not complete the connection (%(error)s). Nothing was changed; please try again.")
            % {"error": exc.message}
        ) from None
    organization = membership.organization
    with transaction.atomic():
        connection = CrmConnection.objects.for_org(organization).select_for_update().filter(
            provider=CrmProvider.HUBSPOT
        ).first() or CrmConnection(organization=organization, provider=CrmProvider.HUBSPOT)
        if connection.pk and connection.portal_id != portal.hub_id:
            connection.cursor_ms = 0  # another portal: its deals from the start
        connection.portal_id, connection.portal_domain = portal.hub_id, portal.hub_domain
        _store(connection, tokens)
        connection.status, connection.status_reason, connection.last_error = CrmConnection.Status.ACTIVE, "", ""
        connection.retry_after = None
        connection.connected_by = user
        connection.save()
        report_version.bump(organization.pk)  # a source of deals: "not set" turns into a figure
        audit.record(
            "crm.connected",
            organization_id=organization.pk,
            target=connection,
            after={"provider": connection.provider, "portal": portal.hub_id},
        )
        _enqueue_sync(organization.pk)
    return connection


def request_sync(*, actor: Membership) -> bool:
    """Start a sync of HubSpot's deals now (after commit); True once queued.
    ValidationFailed when no CRM is connected."""
    require(actor, Permission.ANALYTICS_SETTINGS)
    if connection_of(actor.organization) is None:
        raise ValidationFailed(_("Connect HubSpot first."))
    _enqueue_sync(actor.organization_id)
    return True


def _enqueue_sync(organization_id: int) -> None:
    transaction.on_commit(lambda: current_app.send_task(SYNC_TASK, args=[organization_id]))


def _store(connection: CrmConnection, tokens: Tokens) -> None:
    connection.access_token, connection.refresh_token = tokens.access_token, tokens.refresh_token
    connection.expires_at = tokens.expires_at


@transaction.atomic
def disconnect(*, actor: Membership) -> None:
    """Forget the tokens and the connection. Deals already synced stay, and so does their
    revenue: they happened. Reconnecting starts the sync from the beginning (re-run safe)."""
    require(actor, Permission.ANALYTICS_SETTINGS)
    organization, user = actor.organization, actor.user
    connection = connection_of(organization)
    if connection is None:
        raise ValidationFailed(_("No CRM is connected."))
    before = {"provider": connection.provider, "portal": connection.portal_id}
    connection.delete()
    report_version.bump(organization.pk)
    audit.record(
        "crm.disconnected",
        organization_id=organization.pk,
        target_type="crmconnection",
        target_id=before["portal"],
        before=before,
        after={"by": user.pk},
    )


def access_token(connection: CrmConnection, client: HubSpotClient, *, force: bool = False) -> str:
    """A valid access token, refreshed (and stored) when it ends within REFRESH_AHEAD or when
    `force`. Raises AuthRevoked (the connection is then marked needs_reconnect),
    RateLimited, TransientFailure."""
    now = timezone.now()
    if not force and connection.expires_at and connection.expires_at - now > REFRESH_AHEAD:
        return connection.access_token
    try:
        tokens = client.refresh(refresh_token=connection.refresh_token)
    except hs.AuthRevoked as exc:
        mark_needs_reconnect(connection, exc.message)
        raise
    _store(connection, tokens)
    connection.save(update_fields=["access_token", "refresh_token", "expires_at"])
    return tokens.access_token


@transaction.atomic
def mark_needs_reconnect(connection: CrmConnection, reason: str) -> None:
    connection.status, connection.status_reason = CrmConnection.Status.NEEDS_RECONNECT, reason[:300]
    connection.save(update_fields=["status", "status_reason"])
    audit.record(
        "crm.needs_reconnect",
        organization_id=connection.organization_id,
        target=connection,
        after={"reason": reason[:300]},
    )
