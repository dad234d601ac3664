"""The admin's SCIM page (under Settings): the endpoint's base URL, the directory's tokens
(created, shown once, revoked), and the roles each directory group gives its members."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Role, ScimGroup, ScimToken
from accounts.permissions import Permission
from accounts.scim import selectors
from accounts.services import scim as services
from accounts.views.api_tokens import token_page
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view


@org_view(Permission.ORG_SETTINGS)
def scim_settings(request):
    context = {
        "tokens": selectors.scim_tokens(request.organization),
        "groups": selectors.scim_groups(request.organization),
        "roles": list(Role),
        "base_url": request.build_absolute_uri(reverse("scim-root", kwargs={"org_slug": request.organization.slug})),
    }
    return token_page(request, services.create_scim_token, "accounts/scim_settings.html", context)


@org_view(Permission.ORG_SETTINGS)
@require_POST
def scim_token_revoke(request, scim_token_id):
    token = get_for_org_or_404(ScimToken, request.organization, pk=scim_token_id)
    services.revoke_scim_token(actor=request.membership, token=token)
    messages.success(request, _("The SCIM token %(token)s no longer works.") % {"token": token.name})
    return redirect("scim_settings", org_slug=request.organization.slug)


@org_view(Permission.ORG_SETTINGS)
@require_POST
def scim_group_roles(request, scim_group_id):
    group = get_for_org_or_404(ScimGroup, request.organization, pk=scim_group_id)
    if call_service(
        request,
        None,
        lambda: services.set_scim_group_roles(
            actor=request.membership, scim_group=group, roles=request.POST.getlist("roles")
        ),
    ):
        messages.success(request, _("The group's roles are saved; its members hold them now."))
    return redirect("scim_settings", org_slug=request.organization.slug)
