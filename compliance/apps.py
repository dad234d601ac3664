from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ComplianceConfig(AppConfig):
    name = "compliance"
    verbose_name = "Compliance"

    def ready(self):
        from advocacy import audit, dbroles
        from compliance.models import AuditEntry

        # The application's database role may read and append to the trail, nothing more.
        dbroles.append_only(AuditEntry._meta.db_table)
        post_migrate.connect(_grant_app_role, sender=self, dispatch_uid="compliance.grant_app_role")
        from compliance.services.audit import record_entries, record_entry

        audit.register_recorder(record_entry, many=record_entries)

        from compliance.services.review import record_screening
        from content import hooks as content_hooks

        content_hooks.register_screened(record_screening)

        from compliance.services.screening import disclosure_applier, screen_share

        content_hooks.register_screening(screen_share)
        content_hooks.register_disclosure(disclosure_applier)


def _grant_app_role(sender, using, **kwargs):
    """After the owner migrated: the application's role gets its privileges (advocacy.dbroles)."""
    from django.conf import settings
    from django.db import connections

    from advocacy import dbroles

    dbroles.grant_app_role(connections[using], settings.DATABASE_APP_ROLE, settings.DATABASE_APP_PASSWORD or None)
