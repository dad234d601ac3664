"""The audit log for compliance officers: search, filter, page through; verify the chain."""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts.permissions import Permission
from advocacy.views import org_view, paginate
from compliance.selectors.audit import ACTION_PREFIXES, AuditFilters, audit_entries, audit_table_protection
from compliance.services.audit import latest_anchor, verify_chain


class AuditFilterForm(forms.Form):
    q = forms.CharField(
        required=False, label="Search", max_length=200, help_text="Action, actor e-mail, target type or id"
    )
    action = forms.ChoiceField(required=False, label="Action", choices=ACTION_PREFIXES)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The last day is before the first day.")
        return data


@org_view(Permission.COMPLIANCE_AUDIT)
@require_http_methods(["GET"])
def audit_log(request):
    """Every recorded state change of the organization, newest first. Two queries for the
    list whatever the filters (a count and one page)."""
    form = AuditFilterForm(request.GET or None)
    filters = AuditFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = AuditFilters(
            q=data["q"] or "", action=data["action"] or "", date_from=data["date_from"], date_to=data["date_to"]
        )
    page = paginate(request, audit_entries(request.organization, filters))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "compliance/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode(), "filtered": any(vars(filters).values())},
    )


@org_view(Permission.COMPLIANCE_AUDIT)
@require_http_methods(["GET", "POST"])
def audit_verify(request):
    """Recompute the organization's hash chain (POST) and show the first broken link."""
    result, ran = None, False
    if request.method == "POST":
        result, ran = verify_chain(request.organization), True
    anchor = latest_anchor(request.organization.pk)
    protection = audit_table_protection()
    return render(
        request,
        "compliance/audit_verify.html",
        {"broken": result, "ran": ran, "anchor": anchor, "protection": protection},
    )
