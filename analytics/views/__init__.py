"""Dashboards: executive ROI, content performance, the employee's own stats."""

from analytics.views.roi import analytics_settings, reports, reports_csv, reports_pdf

__all__ = ["analytics_settings", "reports", "reports_csv", "reports_pdf"]
