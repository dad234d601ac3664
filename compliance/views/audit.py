"""The audit log for compliance officers: search, filter, page through; verify the chain;
search posts and decisions in words and export the hits."""

from __future__ import annotations

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import network_label
from accounts.permissions import Permission, can
from advocacy.views import org_view, paginate
from compliance.selectors.audit import ACTION_PREFIXES, AuditFilters, audit_entries, audit_table_protection
from compliance.selectors.audit_trail import entries_in_words
from compliance.selectors.search import (
    DECISION_CHOICES,
    NETWORK_CHOICES,
    SearchFilters,
    decision_label,
    marked,
    people,
    teams,
    version_hits,
)
from compliance.services.audit import latest_anchor, verify_chain
from compliance.services.audit_search import export_search


class AuditFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label=_("Search"),
        max_length=200,
        help_text=_("Words of the entry (stemmed: “guarantee” finds “guaranteed”), the actor's e-mail, a target id"),
    )
    action = forms.ChoiceField(required=False, label=_("Action"), choices=ACTION_PREFIXES)
    date_from = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", gettext("The last day is before the first day."))
        return data


@org_view(Permission.COMPLIANCE_AUDIT)
@require_http_methods(["GET"])
def audit_log(request):
    """Every recorded state change of the organization, newest first, in words: a sentence,
    the change as a before/after table, the target linked. A count and one page, plus one
    query per kind of target on the page, whatever the filters and the page's size."""
    form = AuditFilterForm(request.GET or None)
    filters = AuditFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = AuditFilters(
            q=data["q"] or "", action=data["action"] or "", date_from=data["date_from"], date_to=data["date_to"]
        )
    page = paginate(request, audit_entries(request.organization, filters))
    rows = entries_in_words(request.organization, request.membership, page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "compliance/audit_log.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "filtered": any(vars(filters).values()),
            "zone": timezone.get_current_timezone_name(),
        },
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


class SearchForm(forms.Form):
    """The search of posts and decisions; people and teams are the organization's."""

    q = forms.CharField(
        required=False,
        label=_("Words"),
        max_length=200,
        help_text=_(
            "Found in every version's words, what screening saw, and reviewers' comments. "
            '“guarantee” also finds “guaranteed”; "a phrase", or, -without.'
        ),
    )
    person = forms.TypedChoiceField(required=False, label=_("Author"), coerce=int, empty_value=None)
    team = forms.TypedChoiceField(required=False, label=_("Team"), coerce=int, empty_value=None)
    network = forms.ChoiceField(required=False, label=_("Network"), choices=NETWORK_CHOICES)
    decision = forms.ChoiceField(required=False, label=_("Decision"), choices=DECISION_CHOICES)
    date_from = forms.DateField(required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = [("", "Anyone"), *people(organization)]
        self.fields["team"].choices = [("", "Any team"), *teams(organization)]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", gettext("The last day is before the first day."))
            data.pop("date_to", None)
        return data

    def filters(self) -> SearchFilters:
        """The valid filters; a bad value is left out (its error is shown beside it)."""
        if not self.is_bound:
            return SearchFilters()
        self.is_valid()
        data = self.cleaned_data
        return SearchFilters(
            q=data.get("q") or "",
            person=data.get("person"),
            team=data.get("team"),
            network=data.get("network") or "",
            decision=data.get("decision") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


@org_view(Permission.COMPLIANCE_AUDIT)
@require_http_methods(["GET"])
def audit_search(request):
    """Every share version that mentions the words, with its author, team, networks, date,
    decision and approver, the matched words marked. Fixed queries: the filters' people and
    teams, a count and one page."""
    form = SearchForm(request.GET or None, organization=request.organization)
    filters = form.filters()
    zone = timezone.get_current_timezone_name()
    searched = bool(filters.as_dict())
    page = paginate(request, version_hits(request.organization, filters, zone=zone)) if searched else None
    query = request.GET.copy()
    query.pop("page", None)
    hits = [
        {
            "version": v,
            "text": marked(v.text_marked) if filters.q else v.commentary,
            "comment": marked(v.comment_marked) if filters.q else (v.decision_comment or ""),
            "decision": decision_label(v.decision_outcome, v.reviewer_name),
            "networks": ", ".join(network_label(n) for n in v.networks or ()),
        }
        for v in (page.object_list if page else ())
    ]
    return render(
        request,
        "compliance/audit_search.html",
        {
            "form": form,
            "page": page,
            "hits": hits,
            "query": query.urlencode(),
            "searched": searched,
            "zone": zone,
            "can_review": can(request.membership, Permission.COMPLIANCE_REVIEW),
        },
    )


@org_view(Permission.COMPLIANCE_AUDIT)
@require_POST
def audit_search_export(request):
    """The search's hits (same filters, from the query string) as CSV; the export is audited."""
    form = SearchForm(request.GET or None, organization=request.organization)
    zone = timezone.get_current_timezone_name()
    text, _count = export_search(actor=request.membership, filters=form.filters(), zone=zone)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="search-{request.organization.slug}-{stamp}.csv"'
    return response
