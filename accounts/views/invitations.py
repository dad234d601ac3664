"""Pages for invitations: invite one or a CSV file, resend, revoke, follow an import, accept."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from accounts import selectors, services
from accounts.forms import (
    AcceptInvitationForm,
    InvitationCsvForm,
    InviteForm,
)
from accounts.models import (
    Invitation,
    InvitationImport,
)
from accounts.permissions import Permission
from advocacy.errors import ApplicationError
from advocacy.languages import browser_language
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view, paginate


@org_view(Permission.MEMBERS_MANAGE)
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
                    actor=request.membership,
                    email=data["email"],
                    roles=data["roles"],
                    teams=data["teams"],
                ),
            )
            if invitation is not None:
                messages.success(request, _("Invitation sent to %(email)s.") % {"email": invitation.email})
                return redirect("invitations", org_slug=org.slug)
    elif request.method == "POST":
        csv_form = InvitationCsvForm(request.POST, request.FILES)
        if csv_form.is_valid():
            upload = csv_form.cleaned_data["file"]
            job = call_service(
                request,
                csv_form,
                lambda: services.start_invitation_import(
                    actor=request.membership, filename=upload.name, data=upload.read()
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
    if call_service(request, None, lambda: action(actor=request.membership, invitation=invitation)) is not None:
        messages.success(request, _(done_message) % {"email": invitation.email})
    return redirect("invitations", org_slug=request.organization.slug)


@org_view(Permission.MEMBERS_MANAGE)
@require_POST
def invitation_revoke(request, invitation_id):
    return _invitation_action(
        request, invitation_id, services.revoke_invitation, gettext_noop("Invitation for %(email)s withdrawn.")
    )


@org_view(Permission.MEMBERS_MANAGE)
@require_POST
def invitation_resend(request, invitation_id):
    return _invitation_action(
        request, invitation_id, services.resend_invitation, gettext_noop("A new link was sent to %(email)s.")
    )


@org_view(Permission.MEMBERS_MANAGE)
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
    account_exists = user is None and selectors.account_exists(invitation.email)
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
                language=browser_language(request),
            ),
        )
        if membership is not None:
            if user is None:
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request, _("Welcome to %(organization)s.") % {"organization": invitation.organization.name}
            )
            return redirect("org_home", org_slug=invitation.organization.slug)
    context = {
        "invitation": invitation,
        "form": form,
        "account_exists": account_exists,
        "login_url": reverse("account_login") + "?next=" + request.path,
    }
    return render(request, "accounts/invitation_accept.html", context)
