from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        from accounts.services import unsubscribe
        from analytics.services.advocate_stats import refresh_soon
        from analytics.services.advocates import WEEKLY_SUMMARY_MAIL, stop_weekly_summary
        from content import hooks as content_hooks

        # The weekly summary e-mail gets the one-click unsubscribe of every other e-mail (issue 22).
        unsubscribe.register_kind(
            WEEKLY_SUMMARY_MAIL, label=gettext_lazy("Weekly summary of the program"), turn_off=stop_weekly_summary
        )

        # A post that goes live refreshes its author's stats (issue 16, item 6).
        content_hooks.register_delivery_posted(refresh_soon)
