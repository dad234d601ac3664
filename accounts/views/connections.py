"""Pages for organizations, members, teams, invitations and API tokens. Thin: parse, call, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import (
    AcceptInvitationForm,
    ApiTokenForm,
    InvitationCsvForm,
    InviteForm,
    MembershipForm,
    NetworkAppForm,
    OrganizationCreateForm,
    OrganizationSettingsForm,
    TeamForm,
)
from accounts.models import (
    ApiToken,
    Invitation,
    InvitationImport,
    Membership,
    Network,
    SignupDomain,
    SocialConnection,
    Team,
    User,
)
from accounts.services import connections as connection_services
from accounts.services import domains as domain_services
from advocacy.errors import ApplicationError
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view, paginate

# --- entry points -------------------------------------------------------------------------


@login_required
def home(request):
    """Send a signed-in user to the organization they last worked in, or offer to make one."""
    memberships = list(selectors.memberships_of(request.user))
    if not memberships:
        return render(request, "accounts/no_organization.html")
    chosen = next((m for m in memberships if m.organization_id == request.user.last_organization_id), memberships[0])
    return redirect("org_home", org_slug=chosen.organization.slug)


@login_required
def organization_create(request):
    form = OrganizationCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = call_service(
            request,
            form,
            lambda: services.create_organization(
                name=form.cleaned_data["name"], creator=request.user, timezone_name=form.cleaned_data["timezone"]
            ),
        )
        if org is not None:
            messages.success(request, f"{org.name} is ready. Invite your colleagues next.")
            return redirect("invitations", org_slug=org.slug)
    return render(request, "accounts/organization_create.html", {"form": form})


# --- members ------------------------------------------------------------------------------


@org_view("members.view")
def members(request):
    search = request.GET.get("q", "").strip()[:100]
    without_team = request.GET.get("team") == "none"
    found = selectors.members_of(request.organization, search=search, without_team=without_team)
    context = {"members": paginate(request, found), "q": search, "without_team": without_team}
    template = "accounts/_member_list.html" if request.htmx else "accounts/members.html"
    return render(request, template, context)


@org_view("members.manage")
def member_edit(request, membership_id):
    membership = get_for_org_or_404(Membership, request.organization, pk=membership_id, is_active=True)
    initial = {"roles": [r.value for r in membership.roles], "teams": list(membership.teams.all())}
    form = MembershipForm(request.POST or None, organization=request.organization, initial=initial)
    if request.method == "POST" and form.is_valid():
        done = call_service(
            request,
            form,
            lambda: services.update_membership(
                membership=membership, roles=form.cleaned_data["roles"], teams=form.cleaned_data["teams"]
            ),
        )
        if done is not None:
            messages.success(request, f"Saved {membership.user.email}.")
            return redirect("members", org_slug=request.organization.slug)
    return render(request, "accounts/member_edit.html", {"form": form, "member": membership})


@org_view("members.manage")
@require_POST
def member_remove(request, membership_id):
    membership = get_for_org_or_404(Membership, request.organization, pk=membership_id, is_active=True)
    if call_service(request, None, lambda: services.remove_member(membership=membership, by=request.user)):
        messages.success(request, f"Removed {membership.user.email}.")
    return redirect("members", org_slug=request.organization.slug)


# --- invitations --------------------------------------------------------------------------


@org_view("members.manage")
def invitations(request):
    org = request.organization
    invite_form = InviteForm(organization=org)
    csv_form = InvitationCsvForm()
    if request.method == "POST" and "email" in request.POST:
        invite_form = InviteForm(request.POST, organization=org)
        if invite_form.is_valid():
            data = invite_form.cleaned_data
            invitation = call_service(
                request,
                invite_form,
                lambda: services.invite_member(
                    organization=org,
                    invited_by=request.user,
                    email=data["email"],
                    roles=data["roles"],
                    teams=data["teams"],
                ),
            )
            if invitation is not None:
                messages.success(request, f"Invitation sent to {invitation.email}.")
                return redirect("invitations", org_slug=org.slug)
    elif request.method == "POST":
        csv_form = InvitationCsvForm(request.POST, request.FILES)
        if csv_form.is_valid():
            upload = csv_form.cleaned_data["file"]
            job = call_service(
                request,
                csv_form,
                lambda: services.start_invitation_import(
                    organization=org, created_by=request.user, filename=upload.name, data=upload.read()
                ),
            )
            if job is not None:
                return redirect("invitation_import", org_slug=org.slug, invitation_import_id=job.pk)
    context = {
        "invite_form": invite_form,
        "csv_form": csv_form,
        "pending": paginate(request, selectors.invitations_of(org)),
        "imports": selectors.invitation_imports_of(org)[:5],
    }
    return render(request, "accounts/invitations.html", context)


def _invitation_action(request, invitation_id, action, done_message):
    invitation = get_for_org_or_404(Invitation, request.organization, pk=invitation_id)
    if call_service(request, None, lambda: action(invitation=invitation)) is not None:
        messages.success(request, done_message.format(email=invitation.email))
    return redirect("invitations", org_slug=request.organization.slug)


@org_view("members.manage")
@require_POST
def invitation_revoke(request, invitation_id):
    return _invitation_action(request, invitation_id, services.revoke_invitation, "Invitation for {email} withdrawn.")


@org_view("members.manage")
@require_POST
def invitation_resend(request, invitation_id):
    return _invitation_action(request, invitation_id, services.resend_invitation, "A new link was sent to {email}.")


@org_view("members.manage")
def invitation_import(request, invitation_import_id):
    job = get_for_org_or_404(InvitationImport, request.organization, pk=invitation_import_id)
    template = "accounts/_import_progress.html" if request.htmx else "accounts/invitation_import.html"
    return render(request, template, {"job": job})


def invitation_accept(request, token):
    """The link from the e-mail: join as the signed-in user, or create the invited account."""
    try:
        invitation = selectors.invitation_by_token(token)
    except ApplicationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"message": exc.message}, status=404)
    user = request.user if request.user.is_authenticated else None
    form = AcceptInvitationForm(request.POST or None) if user is None else None
    account_exists = user is None and User.objects.filter(email__iexact=invitation.email).exists()
    if request.method == "POST" and (form is None or form.is_valid()):
        membership = call_service(
            request,
            form,
            lambda: services.accept_invitation(
                token=token,
                user=user,
                name=form.cleaned_data["name"] if form else "",
                password=form.cleaned_data["password1"] if form else "",
                timezone_name=form.cleaned_data["timezone"] if form else "",
            ),
        )
        if membership is not None:
            if user is None:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to {invitation.organization.name}.")
            return redirect("org_home", org_slug=invitation.organization.slug)
    context = {
        "invitation": invitation,
        "form": form,
        "account_exists": account_exists,
        "login_url": reverse("account_login") + "?next=" + request.path,
    }
    return render(request, "accounts/invitation_accept.html", context)


# --- teams --------------------------------------------------------------------------------


@org_view("teams.manage")
def teams(request):
    org = request.organization
    form = TeamForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = call_service(request, form, lambda: services.create_team(organization=org, **form.cleaned_data))
        if team is not None:
            messages.success(request, f"Team {team.name} created.")
            return redirect("teams", org_slug=org.slug)
    return render(request, "accounts/teams.html", {"form": form, "teams": selectors.teams_of(org)})


@org_view("teams.manage")
def team_edit(request, team_id):
    team = get_for_org_or_404(Team, request.organization, pk=team_id)
    form = TeamForm(request.POST or None, initial={"name": team.name, "kind": team.kind})
    saved = (
        request.method == "POST"
        and form.is_valid()
        and call_service(request, form, lambda: services.update_team(team=team, **form.cleaned_data))
    )
    if saved:
        messages.success(request, "Team saved.")
        return redirect("teams", org_slug=request.organization.slug)
    return render(request, "accounts/team_edit.html", {"form": form, "team": team})


@org_view("teams.manage")
@require_POST
def team_delete(request, team_id):
    team = get_for_org_or_404(Team, request.organization, pk=team_id)
    services.delete_team(team=team)
    messages.success(request, f"Team {team.name} deleted; its members stay in the organization.")
    return redirect("teams", org_slug=request.organization.slug)


# --- organization settings and API tokens -------------------------------------------------


@org_view("org.settings")
def org_settings(request):
    org = request.organization
    domains = selectors.signup_domains_of(org)
    initial = {
        "name": org.name,
        "timezone": org.timezone,
        "self_signup_domains": "\n".join(domains),
        "daily_share_cap": org.daily_share_cap,
        "posting_hours_start": org.posting_hours_start,
        "posting_hours_end": org.posting_hours_end,
    }
    form = OrganizationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = call_service(
            request,
            form,
            lambda: services.update_organization_settings(
                organization=org,
                name=data["name"],
                timezone_name=data["timezone"],
                self_signup_domains=data["self_signup_domains"],
                daily_share_cap=data["daily_share_cap"],
                posting_hours_start=data["posting_hours_start"],
                posting_hours_end=data["posting_hours_end"],
            ),
        )
        if saved is not None:
            messages.success(request, "Settings saved.")
            return redirect("org_settings", org_slug=org.slug)
    domains = [
        {"row": d, "txt_name": domain_services.txt_name(d.domain), "txt_value": domain_services.txt_value(d)}
        for d in selectors.signup_domain_rows(org)
    ]
    return render(request, "accounts/org_settings.html", {"form": form, "domains": domains})


@org_view("org.settings")
@require_POST
def org_domain_verify(request, signup_domain_id):
    """The admin published the TXT record: look it up and start using the domain."""
    get_for_org_or_404(SignupDomain, request.organization, pk=signup_domain_id)
    done = call_service(
        request,
        None,
        lambda: domain_services.verify_signup_domain(
            organization=request.organization, signup_domain_id=signup_domain_id
        ),
    )
    if done is not None:
        messages.success(request, f"{done.domain} is verified: people who confirm an address there join by themselves.")
    return redirect("org_settings", org_slug=request.organization.slug)


@org_view("tokens.manage_own")
def api_tokens(request):
    form = ApiTokenForm(request.POST or None)
    plain = None
    if request.method == "POST" and form.is_valid():
        created = call_service(
            request, form, lambda: services.create_api_token(membership=request.membership, **form.cleaned_data)
        )
        if created is not None:
            plain = created[1]
            form = ApiTokenForm()
    context = {"form": form, "plain": plain, "tokens": selectors.api_tokens_of(request.membership)}
    return render(request, "accounts/api_tokens.html", context)


@org_view("tokens.manage_own")
@require_POST
def api_token_revoke(request, api_token_id):
    token = get_for_org_or_404(ApiToken, request.organization, pk=api_token_id)
    if token.user_id != request.user.pk:
        raise Http404("No API token found")
    services.revoke_api_token(token=token)
    messages.success(request, f"Token {token.name} revoked.")
    return redirect("api_tokens", org_slug=request.organization.slug)


# --- connected social accounts ------------------------------------------------------------


@org_view("connections.manage_own")
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


@org_view("connections.manage_own")
@require_POST
def connection_start(request, network):
    url = call_service(
        request,
        None,
        lambda: connection_services.start_connection(
            membership=request.membership, network=network, session=request.session
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
        messages.success(request, "Facebook is connected. Choose the Pages you want to post to.")
        return redirect("facebook_pages", org_slug=slug)
    messages.success(request, f"{Network(network).label} is connected as {connected[0].name}.")
    return redirect("connections", org_slug=slug)


@org_view("connections.manage_own")
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
            lambda: connection_services.select_pages(
                membership=request.membership, page_ids=request.POST.getlist("pages")
            ),
        )
        if chosen is not None:
            names = ", ".join(p.name for p in chosen) or "no Page"
            messages.success(request, f"You will post to {names}.")
            return redirect("connections", org_slug=request.organization.slug)
    return render(request, "accounts/facebook_pages.html", {"pages": pages})


@org_view("connections.manage_own")
@require_POST
def connection_disconnect(request, social_connection_id):
    connection = get_for_org_or_404(
        SocialConnection, request.organization, pk=social_connection_id, user_id=request.user.pk
    )
    connection_services.disconnect(connection=connection)
    messages.success(request, f"{connection.get_network_display()} ({connection.name}) is disconnected.")
    return redirect("connections", org_slug=request.organization.slug)


@org_view("org.settings")
def network_settings(request):
    """Admins enable networks and enter the organization's own app credentials."""
    org = request.organization
    apps = selectors.network_apps_of(org)
    configs = connection_services.network_configs(org, apps)
    forms_by_network = {}
    for network in Network:
        app = apps.get(network)
        initial = {"is_enabled": app.is_enabled if app else True, "client_id": app.client_id if app else ""}
        bound = request.method == "POST" and request.POST.get("network") == network
        forms_by_network[network] = NetworkAppForm(request.POST if bound else None, initial=initial, prefix=network)
        if bound and forms_by_network[network].is_valid():
            data = forms_by_network[network].cleaned_data
            saved = call_service(
                request,
                forms_by_network[network],
                lambda network=network, data=data: connection_services.update_network_app(
                    organization=org, network=network, **data
                ),
            )
            if saved is not None:
                messages.success(request, f"{network.label} settings saved.")
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
