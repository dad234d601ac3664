"""Exporting a search of posts and decisions (issue 19, item 4): the same hits as the search
page, with the same filters, as a CSV a spreadsheet opens safely; every export is audited."""

from __future__ import annotations

import io

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, network_label
from accounts.permissions import Permission, require
from advocacy import audit, csvsafe
from advocacy.timezones import format_when
from compliance.selectors.search import EXPORT_LIMIT, SearchFilters, decision_label, version_hits

# A report people open in a spreadsheet: its headers are in the reader's language (the
# archive export, a machine format, keeps its fixed English column names).
EXPORT_COLUMNS = [
    _("share"),
    _("version"),
    _("written at"),
    _("author"),
    _("author e-mail"),
    _("team"),
    _("networks"),
    _("words"),
    _("words per network"),
    _("decision"),
    _("decided by"),
    _("decided at"),
    _("reviewer's comment"),
]


def _network_words(names) -> str:
    return ", ".join(network_label(n) for n in names or ())


@transaction.atomic
def export_search(*, actor: Membership, filters: SearchFilters, zone: str = "UTC") -> tuple[str, int]:
    """The hits of `filters` (at most EXPORT_LIMIT, best match first) as CSV text (cells that
    a spreadsheet would run as a formula are neutralised, advocacy.csvsafe), times in `zone`
    with its label; returns (csv, number of rows) and records `archive.search_exported` with
    the words and filters. Raises NotAllowed without the audit permission. One query for the
    rows, whatever their number."""
    require(actor, Permission.COMPLIANCE_AUDIT)
    out = io.StringIO()
    writer = csvsafe.writer(out, lineterminator="\r\n")
    writer.writerow([str(column) for column in EXPORT_COLUMNS])
    count = 0
    for version in version_hits(actor.organization_id, filters, zone=zone, marks=False)[:EXPORT_LIMIT]:
        share = version.share
        writer.writerow(
            [
                share.pk,
                version.number,
                format_when(version.created_at, "Y-m-d H:i", zone),
                share.author.get_full_name(),
                share.author.email,
                share.team.name if share.team_id else "",
                _network_words(version.networks),
                version.commentary,
                "; ".join(f"{_network_words([n])}: {t}" for n, t in (version.network_texts or {}).items()),
                decision_label(version.decision_outcome, version.reviewer_name),
                version.reviewer_name or "",
                format_when(version.decided_at, "Y-m-d H:i", zone),
                version.decision_comment or "",
            ]
        )
        count += 1
    audit.record(
        "archive.search_exported",
        organization_id=actor.organization_id,
        after={"q": filters.q, "filters": filters.as_dict(), "rows": count},
    )
    return out.getvalue(), count
