"""Daily rollups, updated incrementally: `add()` is the one writer every producer calls
(share submission, publishing, the click flush, the metric pulls)."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from django.db import connection

from analytics.models import DailyRollup


def local_day(when: datetime, tz_name: str) -> date:
    """The calendar day of `when` in the organization's timezone."""
    return when.astimezone(zoneinfo.ZoneInfo(tz_name)).date()


def add(*, organization_id: int, day: date, team_key: int, network: str, item_id: int, **counters: int) -> None:
    """Add to the counters of one rollup row (created at zero when missing), atomically.

    Runs as one INSERT ... ON CONFLICT DO UPDATE, so concurrent producers never lose an
    increment. Call it inside the transaction that records the raw event.
    """
    unknown = set(counters) - set(DailyRollup.COUNTERS)
    if unknown:
        raise ValueError(f"unknown rollup counters: {sorted(unknown)}")
    counters = {name: int(value) for name, value in counters.items() if value}
    if not counters:
        return
    table = DailyRollup._meta.db_table
    names = DailyRollup.COUNTERS  # column names come from the model, never from input
    columns = ", ".join(["organization_id", "day", "team_key", "network", "item_id", *names])
    placeholders = ", ".join(["%s"] * (5 + len(names)))
    updates = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in counters)
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "  # noqa: S608 (identifiers from the model)
        f"ON CONFLICT (organization_id, day, team_key, network, item_id) DO UPDATE SET {updates}"
    )
    params = [organization_id, day, team_key, network, item_id, *(counters.get(name, 0) for name in names)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
