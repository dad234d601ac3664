"""Pages for the member's personal API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import (
    ApiTokenForm,
)
from accounts.models import (
    ApiToken,
)
from accounts.permissions import Permission
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view


def token_page(request, create, template: str, context: dict):
    """A page of bearer keys with a form for a new one (`create(actor=, name=)` returns (row,
    plain)): the plain key is shown once, on the answer to the POST that made it."""
    form = ApiTokenForm(request.POST or None)
    plain = None
    if request.method == "POST" and form.is_valid():
        created = call_service(request, form, lambda: create(actor=request.membership, **form.cleaned_data))
        if created is not None:
            plain = created[1]
            form = ApiTokenForm()
    return render(request, template, {"form": form, "plain": plain, **context})


@org_view(Permission.TOKENS_MANAGE_OWN)
def api_tokens(request):
    context = {"tokens": selectors.api_tokens_of(request.membership)}
    return token_page(request, services.create_api_token, "accounts/api_tokens.html", context)


@org_view(Permission.TOKENS_MANAGE_OWN)
@require_POST
def api_token_revoke(request, api_token_id):
    token = get_for_org_or_404(ApiToken, request.organization, pk=api_token_id)
    if token.user_id != request.user.pk:
        raise Http404("No API token found")
    services.revoke_api_token(actor=request.membership, token=token)
    messages.success(request, _("Token %(token)s revoked.") % {"token": token.name})
    return redirect("api_tokens", org_slug=request.organization.slug)
