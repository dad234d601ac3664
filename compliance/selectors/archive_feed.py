"""Reads of the archive feed pages: destinations and their runs, scoped and joined."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.models import Organization
from compliance.models import ArchiveDestination, ArchiveFeedRun


def archive_destinations(organization: Organization) -> QuerySet[ArchiveDestination]:
    """The organization's destinations by name (one query)."""
    return ArchiveDestination.objects.for_org(organization).order_by("name", "pk")


def feed_runs(organization: Organization) -> QuerySet[ArchiveFeedRun]:
    """The organization's feed runs, newest first, with the destination and who asked (one
    query; the manifest, which can be long, is not loaded)."""
    return (
        ArchiveFeedRun.objects.for_org(organization)
        .select_related("destination", "requested_by")
        .defer("manifest")
        .order_by("-started_at", "-pk")
    )
