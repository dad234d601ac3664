"""The marketer's content performance page: items, topics, best time to share, suggestions.

Thin: parse the period, call `analytics.selectors.content.content_performance`, render.
The API (`analytics.api.content`) returns the same numbers.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.permissions import Permission
from advocacy.errors import ValidationFailed
from advocacy.views import org_view
from analytics.charts import chart
from analytics.selectors import periods
from analytics.selectors.content import content_performance


def period_for(request) -> periods.Period:
    """The asked-for period, or the default with the reason in a message (no query)."""
    try:
        return periods.period_from(request.GET, request.organization)
    except ValidationFailed as exc:
        messages.error(
            request,
            _("%(error)s Showing the last %(days)s days instead.")
            % {"error": exc.message, "days": periods.DEFAULT_DAYS},
        )
        return periods.last_days(request.organization)


def _charts(data) -> list[dict]:
    return [
        chart(
            "by-weekday",
            _("Engagement per post by day of the week (of publication)"),
            [row["label"] for row in data.by_weekday],
            {
                _("Engagement per post"): [row["engagement_per_post"] for row in data.by_weekday],
                _("Clicks per post"): [row["clicks_per_post"] for row in data.by_weekday],
            },
            kind="bar",
            label_heading=_("Day of the week"),
        ),
        chart(
            "by-hour",
            _("Engagement per post by hour of the day (organization's time)"),
            [row["label"] for row in data.by_hour],
            {
                _("Engagement per post"): [row["engagement_per_post"] for row in data.by_hour],
                _("Clicks per post"): [row["clicks_per_post"] for row in data.by_hour],
            },
            kind="bar",
            label_heading=_("Hour"),
        ),
    ]


@org_view(Permission.ANALYTICS_CONTENT)
def content_performance_page(request):
    """What performs: per content item and topic, when to share, which suggestions work."""
    period = period_for(request)
    data = content_performance(request.organization, period)
    context = {
        "data": data,
        "period": period,
        "charts": _charts(data),
        "presets": periods.PRESETS,
    }
    return render(request, "analytics/content_performance.html", context)
