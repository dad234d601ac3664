"""The executive report page, cached per organization and period until any input changes.

`executive_report` costs the page a dozen statements and the Python that turns their rows
into figures; a repeated view of the same period costs one statement and one cache read
here instead. An entry holds the report and the *stamp* it was computed under:

- the organization's `ReportVersion`, which every analytics write the report reads moves
  once it commits (`analytics.services.report_version`: rollup rows, what the fold adds
  and the coverage it notes, the per-author days, discarded clicks, conversions and keys,
  deals, the CRM connection, the rates and costs), so the numbers are never older than the
  data;
- what lower layers own and the report uses, read live in the same statement: the count of
  active employee members (participation) and the teams' names.

The titles of the top content, the names of the top advocates and "numbers updated at"
(the fold's and the per-author refresh's watermarks, which move every minute even when
nothing changed) come from that statement too and replace the cached ones (an item or
person gone: computed again). The stamp is read
before a report is computed, so an entry is never labelled newer than its data. The key
holds the organization's id, and the entry its id again: one organization's report is
never served to another.

The version moves after the writing transaction commits (`report_version.bump`): a test
that changes the data between two views of the page must commit (`transaction=True`) or
clear the cache, as a test transaction that never commits never moves it.
"""

from __future__ import annotations

import hashlib
from datetime import date

from django.core.cache import cache
from django.utils.translation import get_language

from accounts.models import Membership, Team, User
from advocacy.sql import tenant_rows
from analytics.models import ActivityWatermark, ReportVersion, StatsRefresh
from analytics.selectors.freshness import older_of
from analytics.selectors.periods import Period
from analytics.selectors.roi import executive_report
from content.models import ContentItem

QUERIES = 1  # the stamp and the names; a view served from the cache runs only this (asserted by a test)
SHAPE = 2  # change when `executive_report`'s output changes shape: older entries are ignored
CACHE_SECONDS = 5 * 60  # bounds memory, and how long a version move lost with its process could matter

# One statement for everything the stamp and the cached names need; the ids of the items and
# people named are array parameters.
_LIVE_SQL = """
SELECT 'version' AS kind, version AS id, '' AS name, '' AS email, CAST(NULL AS TIMESTAMP WITH TIME ZONE) AS moment
FROM {versions} WHERE organization_id = %(org)s
UNION ALL
SELECT 'members', COUNT(*), '', '', NULL FROM {memberships}
WHERE organization_id = %(org)s AND is_active AND is_employee
UNION ALL
SELECT 'team', id, name, '', NULL FROM {teams} WHERE organization_id = %(org)s
UNION ALL
SELECT 'item', id, title, '', NULL FROM {items} WHERE organization_id = %(org)s AND id = ANY(%(item_ids)s)
UNION ALL
SELECT 'user', id, name, email, NULL FROM {users} WHERE id = ANY(%(user_ids)s)
UNION ALL
SELECT 'refreshed', 0, '', '', refreshed_until FROM {refreshes} WHERE organization_id = %(org)s
UNION ALL
SELECT 'folded', 0, '', '', published_through FROM {watermarks} WHERE organization_id = %(org)s
"""


def _key(organization, period: Period) -> str:
    return f"roi-report:{SHAPE}:{organization.pk}:{organization.timezone}:{period.start}:{period.end}:{get_language()}"


def _live(organization, item_ids: list[int], user_ids: list[int]) -> tuple[tuple, dict, dict]:
    """(stamp, {item id: title}, {user id: shown name}) in one statement."""
    sql = _LIVE_SQL.format(  # identifiers from the models; ids are parameters
        versions=ReportVersion._meta.db_table,
        memberships=Membership._meta.db_table,
        teams=Team._meta.db_table,
        items=ContentItem._meta.db_table,
        users=User._meta.db_table,
        refreshes=StatsRefresh._meta.db_table,
        watermarks=ActivityWatermark._meta.db_table,
    )
    rows = tenant_rows(organization, sql, {"item_ids": list(item_ids), "user_ids": list(user_ids)})
    version = next((row[1] for row in rows if row[0] == "version"), 0)
    members = next((row[1] for row in rows if row[0] == "members"), 0)
    teams = sorted((row[1], row[2]) for row in rows if row[0] == "team")
    teams_digest = hashlib.sha256(repr(teams).encode()).hexdigest()
    titles = {row[1]: row[2] for row in rows if row[0] == "item"}
    names = {row[1]: row[2] or row[3] for row in rows if row[0] == "user"}
    moments = {row[0]: row[4] for row in rows if row[0] in ("refreshed", "folded")}
    updated_at = older_of(moments.get("refreshed"), moments.get("folded"))
    return (int(version), int(members), teams_digest), titles, names, updated_at


VIEWED_SECONDS = 24 * 3600  # a period viewed in the last day is recomputed after each change
VIEWED_KEPT = 8  # ... the last ones viewed at most (presets and a few custom ranges)


def _viewed_key(organization_id: int) -> str:
    return f"roi-viewed:{SHAPE}:{organization_id}"


def _note_viewed(organization, period: Period) -> None:
    """Remember the period (and language) viewed, for `warm` (a cache read; a write only the
    first time a period is seen in a day)."""
    viewed = cache.get(_viewed_key(organization.pk)) or {}
    entry = (period.start.isoformat(), period.end.isoformat(), get_language() or "")
    if entry not in viewed:
        viewed[entry] = True
        kept = dict(list(viewed.items())[-VIEWED_KEPT:])  # the newest: a warming stays a few reports
        cache.set(_viewed_key(organization.pk), kept, VIEWED_SECONDS)


def viewed_periods(organization_id: int) -> list[tuple[Period, str]]:
    """The periods (and languages) of the organization's report viewed in the last day."""
    viewed = cache.get(_viewed_key(organization_id)) or {}
    return [(Period(date.fromisoformat(start), date.fromisoformat(end)), language) for start, end, language in viewed]


def report_for_page(organization, period: Period, *, note: bool = True) -> dict:
    """`executive_report(organization, period)`, from the cache when nothing it reads has
    changed since it was computed (one statement and one cache read), else computed and
    kept. Same figures, same definitions: the cached value *is* an `executive_report`."""
    if note:
        _note_viewed(organization, period)
    key = _key(organization, period)
    entry = cache.get(key)
    if entry is not None and entry.get("organization") != organization.pk:
        entry = None
    report = entry["report"] if entry else None
    item_ids = [row["item_id"] for row in report["top_content"]] if report else []
    user_ids = [row["user_id"] for row in report["top_advocates"]] if report else []
    stamp, titles, names, updated_at = _live(organization, item_ids, user_ids)
    if report is not None and entry["stamp"] == stamp and set(item_ids) <= set(titles) and set(user_ids) <= set(names):
        for row in report["top_content"]:
            row["title"] = titles[row["item_id"]]
        for row in report["top_advocates"]:
            row["name"] = names[row["user_id"]]
        report["updated_at"] = updated_at  # the watermarks move every minute; read live, not cached
        return report
    report = executive_report(organization, period)
    cache.set(key, {"organization": organization.pk, "stamp": stamp, "report": report}, CACHE_SECONDS)
    return report
