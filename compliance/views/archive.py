"""Archive exports: request one for a date range, watch it build, download it; the retention period."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.permissions import Permission, can
from advocacy.tenancy import get_for_org_or_404
from advocacy.views import call_service, org_view
from compliance.models import ArchiveExport
from compliance.selectors.archive_feed import feed_runs
from compliance.selectors.audit import archive_exports
from compliance.services import archive, retention

RECENT_EXPORTS = 20


class ExportForm(forms.Form):
    date_from = forms.DateField(label=gettext_lazy("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("Last day"), widget=forms.DateInput(attrs={"type": "date"}))


class RetentionForm(forms.Form):
    retention_years = forms.IntegerField(
        label=gettext_lazy("Keep records for (years)"),
        min_value=retention.MIN_RETENTION_YEARS,
        max_value=retention.MAX_RETENTION_YEARS,
        help_text=gettext_lazy(
            "Shares, their versions, findings, decisions and deliveries cannot be deleted before this ends."
        ),
    )
    delete_after_retention = forms.BooleanField(
        label=gettext_lazy("Delete records once their retention period ends"),
        required=False,
        help_text=gettext_lazy("Checked daily. Shares under an active legal hold are kept whatever their age."),
    )


def _rows_context(request) -> dict:
    exports = list(archive_exports(request.organization)[:RECENT_EXPORTS])
    return {"exports": exports, "building": any(e.status in ("queued", "running") for e in exports)}


@org_view(Permission.COMPLIANCE_ARCHIVE)
@require_http_methods(["GET", "POST"])
def archive_page(request):
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        export = call_service(
            request,
            form,
            lambda: archive.request_export(
                actor=request.membership,
                date_from=form.cleaned_data["date_from"],
                date_to=form.cleaned_data["date_to"],
            ),
        )
        if export is not None:
            messages.success(request, _("The export is being built; it appears below when it is ready."))
            return redirect("compliance:archive", org_slug=request.organization.slug)
    years, purging = retention.retention_settings(request.organization)
    context = {
        "form": form,
        "retention_form": RetentionForm(initial={"retention_years": years, "delete_after_retention": purging}),
        "retention_years": years,
        "delete_after_retention": purging,
        "can_edit_retention": can(request.membership, Permission.COMPLIANCE_POLICY),
        "feed_runs": list(feed_runs(request.organization)[:RECENT_EXPORTS]),
        **_rows_context(request),
    }
    return render(request, "compliance/archive.html", context, status=400 if form.errors else 200)


@org_view(Permission.COMPLIANCE_ARCHIVE)
@require_http_methods(["GET"])
def archive_rows(request):
    """The list of exports alone (htmx polls it every 2 s while one is building)."""
    return render(request, "compliance/_archive_rows.html", _rows_context(request))


@org_view(Permission.COMPLIANCE_POLICY)
@require_POST
def retention_update(request):
    form = RetentionForm(request.POST)
    if form.is_valid():
        policy = call_service(
            request,
            form,
            lambda: retention.set_retention(
                actor=request.membership,
                years=form.cleaned_data["retention_years"],
                delete_after_retention=form.cleaned_data["delete_after_retention"],
            ),
        )
        if policy is not None:
            if policy.delete_after_retention:
                words = _("Records are now kept for %(years)s years, then deleted.")
            else:
                words = _("Records are now kept for %(years)s years, then kept until someone deletes them.")
            messages.success(request, words % {"years": policy.retention_years})
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("compliance:archive", org_slug=request.organization.slug)


@org_view(Permission.COMPLIANCE_ARCHIVE)
@require_http_methods(["GET"])
def archive_download(request, archive_export_id):
    export = get_for_org_or_404(ArchiveExport, request.organization, pk=archive_export_id)
    if export.status != ArchiveExport.Status.READY or not export.file:
        raise Http404("This export is not ready.")
    try:
        handle = export.file.open("rb")
    except FileNotFoundError:
        raise Http404("The export's file is missing.") from None
    archive.record_download(actor=request.membership, export=export)
    filename = export.file.name.rsplit("/", 1)[-1]
    return FileResponse(handle, as_attachment=True, filename=filename, content_type="application/zip")
