"""The month partitions of the raw clicks (issue 21, point 6): made ahead, dropped after the
retention once their clicks are in the rollups.

`analytics_click` is partitioned by month of the click's local day (migration
0017_click_partitions). The beat makes this month's partition and the next AHEAD_MONTHS every
day (`ensure_partitions`, idempotent), so the click flush always inserts into a month's own
partition; the default partition still takes a click whose month was not made (the beat down
for months), and making that month later moves its rows out of the default. The application's
role may not create or drop tables: it calls the two SECURITY DEFINER functions the migration
made, which do that and nothing else.

Retention: the raw clicks of an organization are kept for its retention period
(`compliance.models.Policy.retention_years`, the period of its archive; 7 years without a
policy). They are not archive records, so `delete_after_retention` (which governs shares)
does not keep them longer. A partition holds every organization's clicks of its month, so
`purge_expired_clicks` drops the whole partition only when the period has passed for every
organization with clicks in it and each of them is rolled up; otherwise it deletes the
rows of the organizations whose period has passed. "Rolled up" is checked, not assumed: the
flush adds a click to the rollups in the transaction that writes it, and a day whose counted
raw clicks outnumber its rollup clicks (a rollup lost, a rebuild that failed halfway) keeps
its raw clicks, the only way to rebuild it. After a drop or a delete the organization's
`ActivityWatermark.raw_clicks_from` moves past the days gone, so `rollups.rebuild` leaves
their rollups (now the only record of those clicks) as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from advocacy.sql import all_organizations_cursor, global_cursor, tenant_cursor
from analytics.models import Click, DailySummary
from analytics.services import rollups
from compliance.models import Policy
from compliance.services.retention import DEFAULT_RETENTION_YEARS, retained_until

AHEAD_MONTHS = 3
TABLE = Click._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"


def month_of(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def ensure_months(first: date, last: date) -> list[date]:
    """Make the partitions of the months from `first`'s to `last`'s (both included) that are
    missing; returns the months made. Safe to run at once from several processes."""
    months, month = [], month_of(first)
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    made = []
    with global_cursor() as cursor:  # DDL through the migration's function: no tenant's rows
        for month in months:
            cursor.execute("SELECT analytics_click_partition(%s)", [month])
            if cursor.fetchone()[0]:
                made.append(month)
    return made


def ensure_partitions(*, today: date | None = None, ahead: int = AHEAD_MONTHS) -> list[date]:
    """This month's partition and the next `ahead` (what the beat runs daily); a month's
    local days start at most a day apart across timezones, well inside a month ahead."""
    month = month_of(today or timezone.now().date())
    return ensure_months(month, add_months(month, ahead))


def partition_months() -> list[date]:
    """The months that have a partition, oldest first."""
    with global_cursor() as cursor:  # the catalogue
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass AND c.relname <> %s ORDER BY c.relname",
            [TABLE, DEFAULT_PARTITION],
        )
        names = [row[0] for row in cursor.fetchall()]
    return [date(int(name[-7:-3]), int(name[-2:]), 1) for name in names]


@dataclass
class ClickPurge:
    """What `purge_expired_clicks` did: months dropped whole, rows deleted per organization,
    and (organization, month) left alone because their days are not all rolled up."""

    dropped: list[date] = field(default_factory=list)
    deleted: dict[int, int] = field(default_factory=dict)
    not_rolled_up: list[tuple[int, date]] = field(default_factory=list)


def retention_cutoffs(today: date) -> dict[int, date]:
    """Per organization, the first local day whose raw clicks are still kept."""
    # Every tenant's period at once, on purpose: one pass over the whole table.
    years = dict(Policy.objects.all_organizations().values_list("organization_id", "retention_years"))
    return {
        org_id: retained_until(today, -(years.get(org_id) or DEFAULT_RETENTION_YEARS))
        for org_id in Organization.objects.values_list("pk", flat=True)
    }


ORGS_IN_MONTH_SQL = f"""
WITH RECURSIVE orgs AS (
    (SELECT organization_id FROM {TABLE} WHERE day >= %(lo)s AND day < %(hi)s ORDER BY organization_id LIMIT 1)
    UNION ALL
    SELECT (SELECT c.organization_id FROM {TABLE} c
            WHERE c.day >= %(lo)s AND c.day < %(hi)s AND c.organization_id > orgs.organization_id
            ORDER BY c.organization_id LIMIT 1)
    FROM orgs WHERE orgs.organization_id IS NOT NULL
)
SELECT organization_id FROM orgs WHERE organization_id IS NOT NULL
"""  # noqa: S608 (identifier from the model); a skip scan of the (organization, day) index

NOT_ROLLED_UP_SQL = f"""
SELECT 1 FROM (
    SELECT day, count(*) AS clicks FROM {TABLE}
    WHERE organization_id = %(org)s AND day >= %(lo)s AND day < %(hi)s AND discard_reason = ''
    GROUP BY day
) raw
WHERE raw.clicks > COALESCE((SELECT SUM(s.clicks) FROM {DailySummary._meta.db_table} s
                             WHERE s.organization_id = %(org)s AND s.day = raw.day), 0)
LIMIT 1
"""  # noqa: S608 (identifiers from the models)


def purge_expired_clicks(*, today: date | None = None) -> ClickPurge:
    """Drop or delete the raw clicks past their organization's retention, month by month,
    only where they are rolled up (see the module's docstring). Each month in its own
    transaction, with the watermarks it moves."""
    today = today or timezone.now().date()
    cutoffs = retention_cutoffs(today)
    if not cutoffs:
        return ClickPurge()
    latest, earliest = max(cutoffs.values()), min(cutoffs.values())
    with all_organizations_cursor() as cursor:  # what the default partition holds, whatever the tenant
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', day)::date FROM {DEFAULT_PARTITION} WHERE day < %s",  # noqa: S608
            [latest],
        )
        strays = [row[0] for row in cursor.fetchall()]
    for month in strays:  # expired clicks the beat had no partition for: their month gets one first
        ensure_months(month, month)
    purge = ClickPurge()
    for month in partition_months():
        if month < latest:
            _purge_month(month, cutoffs, earliest, purge)
    return purge


@transaction.atomic
def _purge_month(month: date, cutoffs: dict[int, date], earliest: date, purge: ClickPurge) -> None:
    lo, hi = month, add_months(month, 1)
    with all_organizations_cursor() as cursor:  # the organizations with clicks in the month
        cursor.execute(ORGS_IN_MONTH_SQL, {"lo": lo, "hi": hi})
        present = [row[0] for row in cursor.fetchall()]
    expiring = {}  # organization -> first day of the month it keeps
    for org_id in present:
        until = min(hi, cutoffs.get(org_id, lo))
        if until <= lo:
            continue
        with tenant_cursor(org_id) as cursor:
            cursor.execute(NOT_ROLLED_UP_SQL, {"lo": lo, "hi": until})
            if cursor.fetchone():
                purge.not_rolled_up.append((org_id, month))
                continue
        expiring[org_id] = until
    whole = len(expiring) == len(present) and all(until == hi for until in expiring.values())
    if whole and (present or hi <= earliest):
        with global_cursor() as cursor:  # DDL through the migration's function
            cursor.execute("SELECT analytics_click_drop_partition(%s)", [month])
        purge.dropped.append(month)
    else:
        for org_id, until in expiring.items():
            with tenant_cursor(org_id) as cursor:
                cursor.execute(
                    f"DELETE FROM {TABLE} WHERE organization_id = %(org)s AND day >= %(lo)s AND day < %(hi)s",  # noqa: S608
                    {"lo": lo, "hi": until},
                )
                purge.deleted[org_id] = purge.deleted.get(org_id, 0) + cursor.rowcount
    for org_id, until in expiring.items():
        rollups.note_raw_clicks_from(org_id, until)
