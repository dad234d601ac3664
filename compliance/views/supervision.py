"""The supervision page: which compliance officers supervise which teams, locations and
roles, and the fallback pool. Thin: the form checks shape, `compliance.services.supervision`
decides and audits, the reads come from `compliance.selectors.supervision`."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import Permission
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view
from compliance.forms import SupervisionForm
from compliance.models import SupervisionAssignment
from compliance.selectors import supervision as supervision_selectors
from compliance.services import supervision as services


@org_view(Permission.COMPLIANCE_POLICY)
@require_http_methods(["GET", "POST"])
def supervision(request):
    """The assignments, and a form to add one (a refused one re-renders with what was typed)."""
    page = supervision_selectors.supervision_page(request.organization.pk)
    form = SupervisionForm(request.POST or None, officers=page.officers, teams=page.teams)
    if request.method == "POST":
        data = form.cleaned_data if form.is_valid() else None
        added = data and call_service(
            request,
            form,
            lambda: services.add_supervisor(
                actor=request.membership,
                reviewer_id=data["reviewer"],
                scope=data["scope"],
                team_id=data["team"],
                role=data["role"],
            ),
        )
        if added:
            messages.success(
                request,
                _("%(name)s now supervises %(target)s.")
                % {"name": added.reviewer.get_full_name(), "target": added.describe_target()},
            )
            return redirect("compliance:supervision", org_slug=request.organization.slug)
    status = 400 if form.errors else 200
    return render(request, "compliance/supervision.html", {"page": page, "form": form}, status=status)


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def supervision_delete(request, supervision_assignment_id):
    assignment = get_for_org_or_404(SupervisionAssignment, request.organization, pk=supervision_assignment_id)
    removed = call_service(
        request,
        None,
        lambda: services.remove_supervisor(actor=request.membership, supervision_assignment_id=assignment.pk),
    )
    if removed:
        messages.success(request, _("Supervision of %(target)s removed.") % {"target": removed.describe_target()})
    return redirect("compliance:supervision", org_slug=request.organization.slug)
