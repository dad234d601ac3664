"""The executive ROI dashboard (page, CSV, PDF) and the organization's analytics settings.

Thin: parse the period, call the one selector (`analytics.selectors.roi.executive_report`),
render. The API (`analytics.api.roi`) returns the same report.
"""

from __future__ import annotations

import hashlib

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.permissions import Permission, allowed_actions
from advocacy.errors import ValidationFailed
from advocacy.views import call_service, org_view
from analytics import exports, formatting
from analytics.charts import chart
from analytics.models import AnalyticsSettings
from analytics.selectors import periods
from analytics.selectors.report_cache import CACHE_SECONDS, report_for_page
from analytics.selectors.roi import executive_report
from analytics.services import roi_settings


def _period(request):
    """The asked-for period, or the default with the reason in a message."""
    try:
        return periods.period_from(request.GET, request.organization)
    except ValidationFailed as exc:
        messages.error(
            request,
            _("%(error)s Showing the last %(days)s days instead.")
            % {"error": exc.message, "days": periods.DEFAULT_DAYS},
        )
        return periods.last_days(request.organization)


def _charts(report: dict) -> list[dict]:
    trend = report["trend"]
    return [
        chart(
            "activity",
            _("Shares and posts per day"),
            trend["days"],
            {_("Shares"): trend["shares"], _("Posts"): trend["posts"]},
            kind="bar",
            label_heading=_("Day"),
        ),
        chart(
            "results",
            _("Clicks and engagement per day"),
            trend["days"],
            {_("Clicks"): trend["clicks"], _("Engagement"): trend["engagement"]},
            label_heading=_("Day"),
        ),
        chart(
            "impressions",
            _("Impressions per day"),
            trend["days"],
            {_("Impressions"): trend["impressions"]},
            label_heading=_("Day"),
        ),
    ]


BASIS_TITLES = {
    "measured": gettext_lazy("Counted by the networks or by us"),
    "estimated": gettext_lazy("Computed from the organization's rates"),
}
ARROWS = {"up": "▲", "down": "▼"}  # and "=" for no change


def _shown(figures: list[dict], currency: str) -> list[dict]:
    """The key figures with their words for the page, written as in the CSV and PDF
    (`analytics.formatting`), the change with an arrow ("▲ +12.5%", "▼ -2.0 pts")."""
    shown = []
    for f in figures:
        direction = f["change"]["direction"]
        moved = "" if direction == "none" else f"{ARROWS.get(direction, '=')} {formatting.change(f['change'])}".strip()
        shown.append(
            {
                **f,
                "shown": formatting.figure(f["value"], f["unit"], currency),
                "previous_shown": formatting.figure(f["previous"], f["unit"], currency),
                "change_text": moved,
                "basis_title": BASIS_TITLES[f["basis"]],
                "basis_word": formatting.basis_word(f["basis"]),
            }
        )
    return shown


BODY_SHAPE = 1  # change when templates/analytics/_report_body.html reads something new


def _report_body(request, report: dict, shown: list[dict]) -> SafeString:
    """The report's figures, tables and charts as HTML. Rendering them was most of a repeated
    view's time, so the HTML is kept, keyed by everything it is made of: the report itself
    (every number, name and date in it, so a changed report is a new key and never an old
    page), the language, the organization and what the viewer may do (its links)."""
    organization = request.organization
    inputs = (BODY_SHAPE, organization.pk, organization.slug, translation.get_language(), report)
    inputs += (sorted(allowed_actions(request.membership).items()),)
    key = "roi-body:" + hashlib.sha256(repr(inputs).encode()).hexdigest()
    body = cache.get(key)
    if body is None:
        context = {
            "report": report,
            "shown_figures": shown,
            "outcome_tables": formatting.outcome_tables(report),
            "charts": _charts(report),
        }
        body = render_to_string("analytics/_report_body.html", context, request=request)
        cache.set(key, body, CACHE_SECONDS)
    return mark_safe(body)  # noqa: S308 (rendered by the template engine above, escaped there)


@org_view(Permission.REPORTS_VIEW)
def reports(request):
    """The executive's landing page: the program's results and ROI for a period."""
    period = _period(request)
    report = report_for_page(request.organization, period)
    shown = _shown(formatting.ordered(report["figures"]), report["currency"])
    by_key = {f["key"]: f for f in shown}
    context = {
        "report": report,
        "period": period,
        "lead_roi": by_key["roi"],
        "lead_text": formatting.lead_sentence(report),
        "report_body": _report_body(request, report, shown),
        "presets": periods.PRESETS,
        "query": request.GET.urlencode(),
    }
    return render(request, "analytics/reports.html", context)


@org_view(Permission.REPORTS_VIEW)
def reports_csv(request):
    """The dashboard's numbers as CSV (same selector, same period parameters), in the CSV's
    neutral format whatever the viewer's language (`exports.report_csv`)."""
    period = _period(request)
    with translation.override(exports.CSV_LANGUAGE):
        report = executive_report(request.organization, period)
        text = exports.report_csv(report)
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    name = f"{request.organization.slug}-roi-{period.start}-{period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@org_view(Permission.REPORTS_VIEW)
def reports_pdf(request):
    """The dashboard as a PDF report (same selector, same period parameters)."""
    period = _period(request)
    report = executive_report(request.organization, period)
    pdf = exports.report_pdf(report, organization_name=request.organization.name)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{request.organization.slug}-roi-{period.start}-{period.end}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# The rates' labels (the English ones the field names gave before issue 23).
RATE_LABELS = {
    "cpm_linkedin": gettext_lazy("CPM LinkedIn"),
    "cpm_x": gettext_lazy("CPM X"),
    "cpm_facebook": gettext_lazy("CPM Facebook"),
    "cpc": gettext_lazy("CPC"),
    "licence_per_month": gettext_lazy("Licence per month"),
    "people_hours_per_month": gettext_lazy("People hours per month"),
    "people_hourly_cost": gettext_lazy("People hourly cost"),
    "api_post_cost_linkedin": gettext_lazy("Api post cost LinkedIn"),
    "api_post_cost_x": gettext_lazy("Api post cost X"),
    "api_link_post_cost_x": gettext_lazy("Api link post cost X"),
    "api_post_cost_facebook": gettext_lazy("Api post cost Facebook"),
}


class AnalyticsSettingsForm(forms.Form):
    currency = forms.CharField(
        max_length=3,
        initial="USD",
        label=gettext_lazy("Currency"),
        help_text=gettext_lazy("Three letters, for example USD or EUR."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in AnalyticsSettings.RATE_FIELDS:
            model_field = AnalyticsSettings._meta.get_field(name)
            self.fields[name] = forms.DecimalField(
                required=False,
                min_value=0,
                max_digits=model_field.max_digits,
                decimal_places=model_field.decimal_places,
                label=RATE_LABELS[name],
                help_text=_("%(help)s Empty: not set.") % {"help": model_field.help_text},
            )


@org_view(Permission.ANALYTICS_SETTINGS)
def analytics_settings(request):
    """Admins set the EMV rates (CPM per network, CPC) and the program cost for ROI."""
    current = roi_settings.settings_for(request.organization)
    initial = {"currency": current.currency, **{n: getattr(current, n) for n in AnalyticsSettings.RATE_FIELDS}}
    form = AnalyticsSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            request,
            form,
            lambda: roi_settings.save_settings(actor=request.membership, **form.cleaned_data),
        )
        if saved is not None:
            messages.success(request, _("Analytics settings saved; the dashboards use them from now on."))
            return redirect("analytics:settings", org_slug=request.organization.slug)
    return render(request, "analytics/settings.html", {"form": form})
