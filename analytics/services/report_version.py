"""Moving an organization's report version (see `analytics.models.ReportVersion`).

Every service that writes a row the executive report reads calls `bump` inside its own
transaction: the rollups (`rollups.add`, `fold_activity`, `rebuild`), the per-author stats
(`advocate_stats`), discarded clicks (`clicks`), conversions and conversion keys
(`conversions`), deals (`deals`), the CRM connection (`crm`) and the rates and costs
(`roi_settings`). What lower layers own and the report shows (active employee members, team
names, item titles, people's names) is read live by `selectors.report_cache` instead.

The version moves once the write has committed, in a statement of its own, once per
transaction and organization. Moving it inside the writer's transaction would make the
version row one more lock that every analytics write of an organization takes, in whatever
order its other rows come: a click flush that locks a rollup row then the version, and a
metric pull that holds the version and wants that rollup row, would deadlock. After the
commit nothing else is held. The cache stays right: a report computed between the commit
and the move is kept under the old version, which no view asks for once it moved; and
`report_cache.CACHE_SECONDS` bounds how long a lost move (a process killed in between)
could matter.
"""

from __future__ import annotations

from django.db import connection, transaction

from analytics.models import ReportVersion

_TABLE = ReportVersion._meta.db_table
# Portable upsert (PostgreSQL, and the SQLite of `make run`): concurrent moves queue on the
# one row for one statement each, and each adds 1, so no move is lost.
_BUMP_SQL = (
    f"INSERT INTO {_TABLE} (organization_id, version) VALUES (%s, 1) "  # noqa: S608 (model table)
    f"ON CONFLICT (organization_id) DO UPDATE SET version = {_TABLE}.version + 1"
)


def _move(organization_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_BUMP_SQL, [organization_id])


def bump(organization_id: int) -> None:
    """Move the organization's report version when the current transaction commits (at
    once outside one); several calls in one transaction move it once."""
    waiting = (getattr(func, "report_version_of", None) for _, func, _ in connection.run_on_commit)
    if connection.in_atomic_block and organization_id in waiting:
        return

    def move() -> None:
        _move(organization_id)

    move.report_version_of = organization_id
    transaction.on_commit(move, robust=True)
