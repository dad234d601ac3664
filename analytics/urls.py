from django.urls import path

from analytics import views
from analytics.views import conversions, crm, marketer, me

app_name = "analytics"
urlpatterns = [
    path("reports/", views.reports, name="reports"),
    path("reports/roi.csv", views.reports_csv, name="reports_csv"),
    path("reports/roi.pdf", views.reports_pdf, name="reports_pdf"),
    path("analytics/settings/", views.analytics_settings, name="settings"),
    path("analytics/conversion-keys/", conversions.conversion_keys, name="conversion_keys"),
    path(
        "analytics/conversion-keys/<int:conversion_key_id>/revoke/",
        conversions.conversion_key_revoke,
        name="conversion_key_revoke",
    ),
    path("analytics/crm/", crm.crm_page, name="crm"),
    path("analytics/crm/connect/", crm.crm_connect, name="crm_connect"),
    path("analytics/crm/disconnect/", crm.crm_disconnect, name="crm_disconnect"),
    path("analytics/crm/sync/", crm.crm_sync, name="crm_sync"),
    path("analytics/content/", marketer.content_performance_page, name="content_performance"),
    path("analytics/me/", me.my_stats_page, name="my_stats"),
    path("analytics/me/leaderboard-visibility/", me.leaderboard_visibility, name="leaderboard_visibility"),
    path("analytics/points/", me.points_rules, name="points_rules"),
    path("analytics/weekly-summary/", me.weekly_summary, name="weekly_summary"),
]
