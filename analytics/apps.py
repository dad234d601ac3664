from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self):
        from analytics.services.advocate_stats import refresh_soon
        from content import hooks as content_hooks

        # A post that goes live refreshes its author's stats (issue 16, item 6).
        content_hooks.register_delivery_posted(refresh_soon)
