"""The employee's own stats and the leaderboard; hiding from it; the points rules; the
executives' weekly summary opt-in.

Thin: parse, call a selector or a service, render. The API (`analytics.api.me`) returns
the same numbers.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import Permission
from advocacy.views import call_service, org_view
from analytics.charts import chart
from analytics.selectors import periods
from analytics.selectors.advocates import my_stats, points_rules_for, preference_for
from analytics.services import advocates as services
from analytics.views.marketer import period_for


def _charts(stats: dict) -> list[dict]:
    series = {row["day"]: row for row in stats["series"]}
    days = periods.Period(stats["start"], stats["end"]).each_day()
    labels = [day.isoformat() for day in days]
    return [
        chart(
            "my-activity",
            _("My posts, clicks and engagement per day (by the day each post was published)"),
            labels,
            {
                _("Posts"): [series[d]["posts"] if d in series else 0 for d in days],
                _("Clicks"): [series[d]["clicks"] if d in series else 0 for d in days],
                _("Engagement"): [series[d]["engagement"] if d in series else 0 for d in days],
            },
            kind="bar",
            label_heading=_("Day"),
        )
    ]


@org_view(Permission.ANALYTICS_OWN)
def my_stats_page(request):
    """My reach, clicks, engagement, points and rank for a period."""
    period = period_for(request)
    stats = my_stats(request.membership, period)
    context = {
        "stats": stats,
        "now": stats["current"],
        "before": stats["previous"],
        "board": stats["leaderboard"],
        "period": period,
        "charts": _charts(stats),
        "presets": periods.PRESETS,
        "query": request.GET.urlencode(),
    }
    return render(request, "analytics/my_stats.html", context)


@require_POST
@org_view(Permission.ANALYTICS_OWN)
def leaderboard_visibility(request):
    """Hide me from the leaderboard others see (I still see my rank), or show me again."""
    hidden = request.POST.get("hidden") == "1"
    if call_service(request, None, lambda: services.set_leaderboard_hidden(actor=request.membership, hidden=hidden)):
        messages.success(
            request,
            _("You are hidden from the leaderboard; only you see your rank.")
            if hidden
            else _("You are on the leaderboard again."),
        )
    # Back to the same period: only the period's own parameters are carried over.
    keep = {name: request.POST[name] for name in ("days", "start", "end") if request.POST.get(name)}
    url = reverse("analytics:my_stats", kwargs={"org_slug": request.organization.slug})
    return redirect(f"{url}?{urlencode(keep)}" if keep else url)


class PointsRulesForm(forms.Form):
    points_per_share = forms.IntegerField(
        min_value=0,
        max_value=1000,
        label=gettext_lazy("Points per share"),
        help_text=gettext_lazy("For each share submitted."),
    )
    points_per_post = forms.IntegerField(
        min_value=0,
        max_value=1000,
        label=gettext_lazy("Points per post"),
        help_text=gettext_lazy("For each post published on a network (each account counts)."),
    )
    points_per_click = forms.IntegerField(
        min_value=0,
        max_value=1000,
        label=gettext_lazy("Points per click"),
        help_text=gettext_lazy("For each unique visitor a day on the employee's tracked links."),
    )
    points_per_engagement = forms.IntegerField(
        min_value=0,
        max_value=1000,
        label=gettext_lazy("Points per engagement"),
        help_text=gettext_lazy("For each like, comment or repost the networks report."),
    )


@org_view(Permission.ANALYTICS_SETTINGS)
def points_rules(request):
    """Org admins set how advocates score on the leaderboard."""
    rules = points_rules_for(request.organization)
    initial = {name: getattr(rules, name) for name in services.RULE_FIELDS}
    form = PointsRulesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            request,
            form,
            lambda: services.update_points_rules(actor=request.membership, **form.cleaned_data),
        )
        if saved is not None:
            messages.success(request, _("Points rules saved; the leaderboard uses them for every period."))
            return redirect("analytics:points_rules", org_slug=request.organization.slug)
    return render(request, "analytics/points_rules.html", {"form": form})


@org_view(Permission.REPORTS_VIEW)
def weekly_summary(request):
    """Executives opt in to (or out of) the weekly e-mail summary of the program."""
    if request.method == "POST":
        enabled = request.POST.get("weekly_summary") == "1"
        if call_service(request, None, lambda: services.set_weekly_summary(actor=request.membership, enabled=enabled)):
            messages.success(
                request,
                _("You will get the summary every Monday morning.")
                if enabled
                else _("You will no longer get the summary."),
            )
        return redirect("analytics:weekly_summary", org_slug=request.organization.slug)
    preference = preference_for(request.membership)
    return render(request, "analytics/weekly_summary.html", {"preference": preference})
