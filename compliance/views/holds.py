"""Legal holds: the list with the form to place one, a hold's page to change or release it."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import Membership, Team
from accounts.permissions import Permission
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view
from compliance.forms import LegalHoldChangeForm, LegalHoldForm, LegalHoldReleaseForm
from compliance.models import LegalHold
from compliance.selectors.holds import hold_scope_words, legal_holds
from compliance.services import holds


def _place_form(request) -> LegalHoldForm:
    org = request.organization
    return LegalHoldForm(
        request.POST or None,
        memberships=Membership.objects.for_org(org).select_related("user").order_by("user__email"),
        teams=Team.objects.for_org(org),
    )


@org_view(Permission.COMPLIANCE_HOLD)
@require_http_methods(["GET", "POST"])
def hold_list(request):
    form = _place_form(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        hold = call_service(
            request,
            form,
            lambda: holds.place_hold(
                actor=request.membership,
                name=data["name"],
                reason=data["reason"],
                membership_id=data["membership"],
                team_id=data["team"],
                date_from=data["date_from"],
                date_to=data["date_to"],
            ),
        )
        if hold is not None:
            messages.success(
                request,
                _("Legal hold '%(name)s' placed: %(scope)s.") % {"name": hold.name, "scope": hold_scope_words(hold)},
            )
            return redirect("compliance:legal_holds", org_slug=request.organization.slug)
    rows = [(hold, hold_scope_words(hold)) for hold in legal_holds(request.organization)]
    status = 400 if form.errors else 200
    return render(request, "compliance/legal_holds.html", {"form": form, "rows": rows}, status=status)


@org_view(Permission.COMPLIANCE_HOLD)
@require_http_methods(["GET", "POST"])
def hold_detail(request, legal_hold_id):
    hold = legal_holds(request.organization).filter(pk=legal_hold_id).first()  # with its people and share_count
    if hold is None:
        raise Http404("No such legal hold.")
    form = LegalHoldChangeForm(request.POST or None, initial={"name": hold.name, "reason": hold.reason})
    if request.method == "POST" and form.is_valid():
        changed = call_service(
            request,
            form,
            lambda: holds.change_hold(
                actor=request.membership,
                hold_id=hold.pk,
                name=form.cleaned_data["name"],
                reason=form.cleaned_data["reason"],
            ),
        )
        if changed is not None:
            messages.success(request, _("Legal hold '%(name)s' saved.") % {"name": changed.name})
            return redirect("compliance:legal_hold", org_slug=request.organization.slug, legal_hold_id=hold.pk)
    context = {
        "hold": hold,
        "scope": hold_scope_words(hold),
        "share_count": hold.share_count,
        "form": form,
        "release_form": LegalHoldReleaseForm(),
    }
    return render(request, "compliance/legal_hold.html", context, status=400 if form.errors else 200)


@org_view(Permission.COMPLIANCE_HOLD)
@require_POST
def hold_release(request, legal_hold_id):
    hold = get_for_org_or_404(LegalHold, request.organization, pk=legal_hold_id)
    form = LegalHoldReleaseForm(request.POST)
    if form.is_valid():
        released = call_service(
            request,
            None,
            lambda: holds.release_hold(
                actor=request.membership, hold_id=hold.pk, reason=form.cleaned_data["release_reason"]
            ),
        )
        if released is not None:
            count = released.shares_held_at_release
            messages.success(
                request,
                ngettext(
                    "Legal hold '%(name)s' released; it held %(count)s share.",
                    "Legal hold '%(name)s' released; it held %(count)s shares.",
                    count,
                )
                % {"name": released.name, "count": count},
            )
            return redirect("compliance:legal_holds", org_slug=request.organization.slug)
    else:
        messages.error(request, _("Say why the hold is released (e.g. the matter closed)."))
    return redirect("compliance:legal_hold", org_slug=request.organization.slug, legal_hold_id=hold.pk)
