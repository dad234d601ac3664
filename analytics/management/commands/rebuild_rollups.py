"""Recompute the daily rollups from raw rows (shares, publications, clicks, metric pulls)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organization
from advocacy.errors import ValidationFailed
from analytics.services import rollups


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date like 2026-11-30.") from None


class Command(BaseCommand):
    help = "Rebuild the daily rollups of one organization (or all) for a range of local days."

    def add_arguments(self, parser):
        parser.add_argument("--org", help="The organization's slug (default: every organization).")
        parser.add_argument("--from", dest="date_from", help="First local day, YYYY-MM-DD (default: the beginning).")
        parser.add_argument("--to", dest="date_to", help="Last local day, YYYY-MM-DD (default: the end).")

    def handle(self, *args, org=None, date_from=None, date_to=None, **options):
        start, end = _day(date_from), _day(date_to)
        organizations = Organization.objects.order_by("pk")
        if org:
            organizations = organizations.filter(slug=org)
            if not organizations.exists():
                raise CommandError(f"No organization with the slug {org!r}.")
        for organization in organizations:
            try:
                written = rollups.rebuild(organization, date_from=start, date_to=end)
            except ValidationFailed as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(
                f"{organization.slug}: {written} rollup rows rebuilt for {start or 'the beginning'} – {end or 'today'}."
            )
