from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self):
        from advocacy import audit
        from compliance.services.audit import record_entry

        audit.register_recorder(record_entry)

        from compliance.services.review import record_screening
        from content import hooks as content_hooks

        content_hooks.register_screened(record_screening)

        from compliance.services.screening import screen_share

        content_hooks.register_screening(screen_share)
