"""Dashboards: executive ROI, content performance, the employee's own stats."""

from django.shortcuts import render

from advocacy.views import org_view


@org_view("reports.view")
def reports(request):
    """The executive's landing page: the program's results and ROI."""
    return render(request, "analytics/reports.html")
