"""Pages for organizations: the entry point, creating one, its settings and sign-up domains."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import (
    OrganizationCreateForm,
    OrganizationSettingsForm,
)
from accounts.models import (
    SignupDomain,
)
from accounts.permissions import Permission
from accounts.services import domains as domain_services
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view


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
            messages.success(
                request, _("%(organization)s is ready. Invite your colleagues next.") % {"organization": org.name}
            )
            return redirect("invitations", org_slug=org.slug)
    return render(request, "accounts/organization_create.html", {"form": form})


@org_view(Permission.ORG_SETTINGS)
def org_settings(request):
    org = request.organization
    domains = selectors.signup_domains_of(org)
    initial = {
        "name": org.name,
        "timezone": org.timezone,
        "default_language": org.default_language,
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
                actor=request.membership,
                name=data["name"],
                timezone_name=data["timezone"],
                self_signup_domains=data["self_signup_domains"],
                daily_share_cap=data["daily_share_cap"],
                posting_hours_start=data["posting_hours_start"],
                posting_hours_end=data["posting_hours_end"],
                default_language=data["default_language"] or None,
            ),
        )
        if saved is not None:
            messages.success(request, _("Settings saved."))
            return redirect("org_settings", org_slug=org.slug)
    domains = [
        {"row": d, "txt_name": domain_services.txt_name(d.domain), "txt_value": domain_services.txt_value(d)}
        for d in selectors.signup_domain_rows(org)
    ]
    return render(request, "accounts/org_settings.html", {"form": form, "domains": domains})


@org_view(Permission.ORG_SETTINGS)
@require_POST
def org_domain_verify(request, signup_domain_id):
    """The admin published the TXT record: look it up and start using the domain."""
    get_for_org_or_404(SignupDomain, request.organization, pk=signup_domain_id)
    done = call_service(
        request,
        None,
        lambda: domain_services.verify_signup_domain(actor=request.membership, signup_domain_id=signup_domain_id),
    )
    if done is not None:
        messages.success(
            request,
            _("%(domain)s is verified: people who confirm an address there join by themselves.")
            % {"domain": done.domain},
        )
    return redirect("org_settings", org_slug=request.organization.slug)
