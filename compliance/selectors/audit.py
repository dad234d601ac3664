"""Reads for the audit log and the archive pages (and the audit API): tenant-scoped, fixed
query counts (the audit log page: count + one page of entries, whatever the filters)."""

from __future__ import annotations

import datetime
import zoneinfo
from dataclasses import dataclass

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from advocacy.dbroles import TableProtection, table_protection
from advocacy.search import search_config, search_query
from compliance.models import ArchiveExport, AuditEntry


@dataclass(frozen=True)
class AuditFilters:
    """What the officer searches for. `q` matches action, actor, target type/id and IP;
    `action` is a prefix ("share." finds every share action); days are in the org's zone."""

    q: str = ""
    action: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


def audit_table_protection() -> TableProtection | None:
    """What the application's database role may do to the audit table (one query; None when
    the table is missing): the verify page says whether the database itself keeps the trail append-only."""
    return table_protection(connection, AuditEntry._meta.db_table)


def audit_entries(organization: Organization, filters: AuditFilters | None = None) -> QuerySet[AuditEntry]:
    """The organization's audit entries, newest first, filtered, with the acting user joined
    (their name for the sentence; the label at the time is stored on the entry). `q` also
    searches the entry's words (action, actor, target type, every string of the change) with
    full-text search, stemmed: "guarantee" finds an entry that added "guaranteed"."""
    filters = filters or AuditFilters()
    qs = AuditEntry.objects.for_org(organization).select_related("actor").defer("search_vector")
    q = filters.q.strip()
    if q:
        text = Q(action__icontains=q) | Q(actor_label__icontains=q) | Q(target_type__icontains=q) | Q(target_id=q)
        text |= Q(search_vector=search_query(q, search_config(organization)))
        qs = qs.filter(text)
    if filters.action.strip():
        qs = qs.filter(action__startswith=filters.action.strip())
    zone = zoneinfo.ZoneInfo(organization.timezone)
    if filters.date_from:
        qs = qs.filter(at__gte=datetime.datetime.combine(filters.date_from, datetime.time.min, tzinfo=zone))
    if filters.date_to:
        end = filters.date_to + datetime.timedelta(days=1)
        qs = qs.filter(at__lt=datetime.datetime.combine(end, datetime.time.min, tzinfo=zone))
    return qs.order_by("-sequence")


ACTION_PREFIXES = [
    ("", _("All actions")),
    ("share.", _("Shares")),
    ("delivery.", _("Deliveries")),
    ("screening.", _("Screening")),
    ("review.", _("Review and decisions")),
    ("decision.", _("Decisions")),
    ("policy.", _("Policy")),
    ("content_item.", _("Content items")),
    ("topic.", _("Topics")),
    ("feed.", _("Feeds")),
    ("proposal.", _("Proposals")),
    ("membership.", _("Members and roles")),
    ("invitation.", _("Invitations")),
    ("team.", _("Teams")),
    ("organization.", _("Organization settings")),
    ("connection.", _("Connections")),
    ("network_app.", _("Network apps")),
    ("api_token.", _("API tokens")),
    ("guidelines.", _("Guidelines")),
    ("training_item.", _("Training")),
    ("archive.", _("Archive exports")),
]


def archive_exports(organization: Organization) -> QuerySet[ArchiveExport]:
    """The organization's exports, newest first (one query; the requester's e-mail joined)."""
    return ArchiveExport.objects.for_org(organization).select_related("requested_by").order_by("-created_at", "-pk")
