"""Verify the audit trail's hash chain: every organization, or one with --org <slug>.

Exit code 0 when every chain holds, 1 when one is broken (the first broken link of each
organization is named: sequence, id, what differs), 2 for an unknown organization.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from compliance.services.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the tamper-evident audit chain of every organization (or --org <slug>)."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="the organization's slug (default: all organizations)")

    def handle(self, *args, **options):
        organizations = Organization.objects.order_by("pk")
        if options["org"]:
            organizations = organizations.filter(slug=options["org"])
            if not organizations.exists():
                raise CommandError(f"No organization with the slug {options['org']!r}.", returncode=2)
        broken = 0
        for organization in organizations.iterator():
            link = verify_chain(organization)
            if link is None:
                self.stdout.write(f"{organization.slug}: chain intact")
            else:
                broken += 1
                self.stderr.write(f"{organization.slug}: BROKEN at {link}")
        if broken:
            raise CommandError(f"{broken} organization(s) with a broken audit chain.", returncode=1)
