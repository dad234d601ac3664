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

import logging

from celery import current_app
from django.conf import settings
from django.core.cache import cache

from advocacy.sql import tenant_cursor
from advocacy.transactions import on_commit_once
from analytics.models import ReportVersion

_TABLE = ReportVersion._meta.db_table
# An upsert: concurrent moves queue on the one row for one statement each, and each adds 1,
# so no move is lost.
_BUMP_SQL = (
    f"INSERT INTO {_TABLE} (organization_id, version) VALUES (%(org)s, 1) "  # noqa: S608 (model table)
    f"ON CONFLICT (organization_id) DO UPDATE SET version = {_TABLE}.version + 1"
)


log = logging.getLogger(__name__)


def warm(organization_id: int) -> int:
    """Compute again the organization's reports viewed in the last day whose inputs changed
    (the worker, a few seconds after a change: `queue_warming`), so the next view is served
    from the cache; returns how many periods it looked at."""
    from django.utils import translation

    from accounts.models import Organization
    from analytics.selectors import report_cache

    cache.delete(warming_key(organization_id))  # a change from now on queues another
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    periods = report_cache.viewed_periods(organization_id)
    for period, language in periods:
        with translation.override(language or None):
            report_cache.report_for_page(organization, period, note=False)
    return len(periods)


WARM_AFTER_SECONDS = 3  # changes of the next seconds are folded into the same recomputation


def _move(organization_id: int) -> None:
    with tenant_cursor(organization_id) as cursor:
        cursor.execute(_BUMP_SQL)
    if settings.REPORT_WARMING:
        queue_warming(organization_id)


def warming_key(organization_id: int) -> str:
    return f"roi-warm-queued:{organization_id}"


def queue_warming(organization_id: int) -> None:
    """Queue one recomputation of the organization's viewed reports unless one is waiting
    (that one has not started: it will see this change). By name: services do not import
    their tasks module."""
    if not cache.add(warming_key(organization_id), 1, timeout=WARM_AFTER_SECONDS + 60):
        return
    try:
        current_app.send_task("analytics.tasks.warm_reports", args=[organization_id], countdown=WARM_AFTER_SECONDS)
    except Exception:  # a broker down must not fail the write; the next view computes the report
        cache.delete(warming_key(organization_id))
        log.warning("could not queue the report warming of organization %s", organization_id, exc_info=True)


def bump(organization_id: int) -> None:
    """Move the organization's report version when the current transaction commits (at
    once outside one); several calls in one transaction move it once."""
    on_commit_once(("report_version", organization_id), lambda: _move(organization_id), robust=True)
