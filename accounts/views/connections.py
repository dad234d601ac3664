"""Pages for the employee's connected social accounts and the organization's network apps."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors
from accounts.forms import (
    NetworkAppForm,
    XNetworkAppForm,
)
from accounts.models import (
    Network,
    SocialConnection,
)
from accounts.permissions import Permission
from accounts.services import connections as connection_services
from advocacy.errors import ApplicationError
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view


@org_view(Permission.CONNECTIONS_MANAGE_OWN)
def connections_page(request):
    """The employee's accounts per network, their health, and how each network can be used."""
    membership = request.membership
    rows = list(selectors.connections_of(membership))
    configs = connection_services.network_configs(request.organization)
    networks = []
    for network in Network:
        mine = [c for c in rows if c.network == network]
        networks.append(
            {
                "network": network,
                "configured": configs[network] is not None,
                "members": [
                    (c, *connection_services.connection_health(c))
                    for c in mine
                    if c.kind == SocialConnection.Kind.MEMBER
                ],
                "pages": [c for c in mine if c.kind == SocialConnection.Kind.PAGE],
            }
        )
    return render(request, "accounts/connections.html", {"networks": networks})


@org_view(Permission.CONNECTIONS_MANAGE_OWN)
@require_POST
def connection_start(request, network):
    url = call_service(
        request,
        None,
        lambda: connection_services.start_connection(
            actor=request.membership, network=network, session=request.session
        ),
    )
    if url is None:
        return redirect("connections", org_slug=request.organization.slug)
    return redirect(url)


@login_required
def connection_callback(request, network):
    """Where the network sends the employee back (one URL per network for every org)."""
    try:
        membership, connected = connection_services.finish_connection(
            user=request.user, network=network, session=request.session, params=request.GET
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("home")
    slug = membership.organization.slug
    if network == Network.FACEBOOK and any(c.kind == SocialConnection.Kind.PAGE for c in connected):
        messages.success(request, _("Facebook is connected. Choose the Pages you want to post to."))
        return redirect("facebook_pages", org_slug=slug)
    messages.success(
        request,
        _("%(network)s is connected as %(name)s.") % {"network": Network(network).label, "name": connected[0].name},
    )
    return redirect("connections", org_slug=slug)


@org_view(Permission.CONNECTIONS_MANAGE_OWN)
def facebook_pages(request):
    pages = [
        c
        for c in selectors.connections_of(request.membership)
        if c.network == Network.FACEBOOK and c.kind == SocialConnection.Kind.PAGE
    ]
    if request.method == "POST":
        chosen = call_service(
            request,
            None,
            lambda: connection_services.select_pages(actor=request.membership, page_ids=request.POST.getlist("pages")),
        )
        if chosen is not None:
            names = ", ".join(p.name for p in chosen) or "no Page"
            messages.success(request, _("You will post to %(names)s.") % {"names": names})
            return redirect("connections", org_slug=request.organization.slug)
    return render(request, "accounts/facebook_pages.html", {"pages": pages})


@org_view(Permission.CONNECTIONS_MANAGE_OWN)
@require_POST
def connection_disconnect(request, social_connection_id):
    connection = get_for_org_or_404(
        SocialConnection, request.organization, pk=social_connection_id, user_id=request.user.pk
    )
    connection_services.disconnect(actor=request.membership, connection=connection)
    messages.success(
        request,
        _("%(network)s (%(name)s) is disconnected.")
        % {"network": connection.get_network_display(), "name": connection.name},
    )
    return redirect("connections", org_slug=request.organization.slug)


@org_view(Permission.ORG_SETTINGS)
def network_settings(request):
    """Admins enable networks and enter the organization's own app credentials."""
    org = request.organization
    apps = selectors.network_apps_of(org)
    configs = connection_services.network_configs(org, apps)
    forms_by_network = {}
    for network in Network:
        app = apps.get(network)
        initial = {
            "is_enabled": app.is_enabled if app else True,
            "client_id": app.client_id if app else "",
            "api_key": app.api_key if app else "",
        }
        bound = request.method == "POST" and request.POST.get("network") == network
        form_class = XNetworkAppForm if network == Network.X else NetworkAppForm
        forms_by_network[network] = form_class(request.POST if bound else None, initial=initial, prefix=network)
        if bound and forms_by_network[network].is_valid():
            data = forms_by_network[network].cleaned_data
            saved = call_service(
                request,
                forms_by_network[network],
                lambda network=network, data=data: connection_services.update_network_app(
                    actor=request.membership, network=network, **data
                ),
            )
            if saved is not None:
                messages.success(request, _("%(network)s settings saved.") % {"network": network.label})
                return redirect("network_settings", org_slug=org.slug)
    rows = [
        {
            "network": network,
            "form": forms_by_network[network],
            "app": apps.get(network),
            "callback": connection_services.callback_url(network),
            "in_use": configs[network] is not None,
        }
        for network in Network
    ]
    return render(request, "accounts/network_settings.html", {"rows": rows})
