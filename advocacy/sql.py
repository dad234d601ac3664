"""The one door to raw SQL: every statement names its organization, or says why it does not.

The tenant manager (`advocacy.tenancy`) fails closed for the ORM; a raw cursor bypasses it.
So app code never opens `connection.cursor()` itself (tests/advocacy/test_sql.py checks the
source). It takes one of three doors, and the reader sees which:

* `tenant_cursor(organization)` / `tenant_rows` / `tenant_dicts`: the organization is
  required, every statement must contain the `%(org)s` placeholder, and the helper fills it
  from the organization's id. A statement without it, or an organization missing, raises
  `UnscopedSQL` before anything reaches the database.
* `all_organizations_cursor()`: maintenance that spans tenants on purpose (a click flush of
  every organization, the seeding of benchmarks).
* `global_cursor()`: statements about no tenant's rows: liveness, catalogue, DDL, locks and
  settings of the session.

Parameters are named (`%(name)s`, a mapping), as PostgreSQL's driver takes them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.db import connection as default_connection

ORG = "%(org)s"


class UnscopedSQL(Exception):
    """A statement sent through a tenant door without its organization."""


def organization_id(organization) -> int:
    """The id of `organization` (a model instance or an id); raises UnscopedSQL without one."""
    if isinstance(organization, bool):
        raise UnscopedSQL(f"not an organization: {organization!r}")
    if isinstance(organization, int):
        return organization
    pk = getattr(organization, "pk", None)
    if isinstance(pk, int) and not isinstance(pk, bool):
        return pk
    raise UnscopedSQL(f"raw SQL needs the organization it reads or writes, got {organization!r}")


def _scoped(org_id: int, sql: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    if ORG not in sql:
        raise UnscopedSQL(f"tenant SQL must filter on {ORG} (the organization's id): {sql.strip()[:120]!r}")
    if params is not None and not isinstance(params, Mapping):
        raise UnscopedSQL("tenant SQL takes named parameters (a mapping), so %(org)s can be filled")
    named = dict(params or {})
    if named.get("org", org_id) != org_id:
        raise UnscopedSQL(f"the parameters name organization {named['org']!r}, the cursor organization {org_id}")
    named["org"] = org_id
    return named


class TenantCursor:
    """A database cursor whose statements are all about one organization."""

    def __init__(self, cursor, org_id: int):
        self._cursor = cursor
        self.organization_id = org_id

    def execute(self, sql: str, params: Mapping[str, Any] | None = None):
        return self._cursor.execute(sql, _scoped(self.organization_id, sql, params))

    def executemany(self, sql: str, param_list):
        return self._cursor.executemany(sql, [_scoped(self.organization_id, sql, p) for p in param_list])

    def fetchone(self):
        return self._cursor.fetchone()

    def fetchall(self):
        return self._cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def description(self):
        return self._cursor.description

    def dicts(self) -> list[dict[str, Any]]:
        """The last statement's rows as dicts keyed by column name."""
        names = [column[0] for column in self._cursor.description]
        return [dict(zip(names, values, strict=True)) for values in self._cursor.fetchall()]


@contextlib.contextmanager
def tenant_cursor(organization, *, connection=None) -> Iterator[TenantCursor]:
    """A cursor for statements scoped to `organization` (see the module's note)."""
    org_id = organization_id(organization)
    with (connection or default_connection).cursor() as cursor:
        yield TenantCursor(cursor, org_id)


def tenant_rows(organization, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple]:
    """Run one statement scoped to `organization`; its rows as tuples. Raises UnscopedSQL,
    running nothing, when the statement lacks `%(org)s` or the organization is missing."""
    org_id = organization_id(organization)
    named = _scoped(org_id, sql, params)
    with default_connection.cursor() as cursor:
        cursor.execute(sql, named)
        return cursor.fetchall() if cursor.description is not None else []


def tenant_dicts(organization, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """As `tenant_rows`, the rows as dicts keyed by column name."""
    with tenant_cursor(organization) as cursor:
        cursor.execute(sql, params)
        return cursor.dicts()


@contextlib.contextmanager
def all_organizations_cursor(*, connection=None):
    """A plain cursor for maintenance that spans organizations on purpose; say why at the call."""
    with (connection or default_connection).cursor() as cursor:
        yield cursor


@contextlib.contextmanager
def global_cursor(*, connection=None):
    """A plain cursor for statements about no tenant's rows (liveness, catalogue, DDL, locks)."""
    with (connection or default_connection).cursor() as cursor:
        yield cursor


def model_columns(model, alias: str) -> str:
    """`alias.col, alias.col, ...`: the model's concrete columns in field order, for a
    hand-written statement whose rows `model_from_row` turns back into instances."""
    quote = default_connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def model_from_row(model, values):
    """An instance of `model` from its concrete columns in field order (`model_columns`),
    each value converted as the ORM converts it (a JSON column's text, for one)."""
    fields = model._meta.concrete_fields
    converted = [
        field.from_db_value(value, None, default_connection)
        if value is not None and hasattr(field, "from_db_value")
        else value
        for field, value in zip(fields, values, strict=True)
    ]
    return model.from_db(default_connection.alias, [field.attname for field in fields], converted)


def tenant_bulk_update(organization, rows: list, fields: Iterable[str]) -> int:
    """Save `fields` of many instances of one tenant model in one statement (each row its
    own values, from arrays), the organization's rows only. The ORM's `bulk_update` builds
    one CASE expression per field per row, which cost more CPU than PostgreSQL took to run
    it on the publishing hot path. Returns the number of rows updated."""
    if not rows:
        return 0
    org_id = organization_id(organization)
    if any(row.organization_id != org_id for row in rows):
        raise UnscopedSQL(f"tenant_bulk_update of organization {org_id} was given another organization's row")
    model = type(rows[0])
    meta = model._meta
    quote = default_connection.ops.quote_name
    columns = [meta.get_field(name) for name in fields]
    params: dict[str, Any] = {"pk": [row.pk for row in rows]}
    arrays, sets = [f"%(pk)s::{meta.pk.db_type(default_connection)}[]"], []
    for i, field in enumerate(columns):
        params[f"c{i}"] = [field.get_db_prep_save(getattr(row, field.attname), default_connection) for row in rows]
        arrays.append(f"%(c{i})s::{field.db_type(default_connection)}[]")
        sets.append(f"{quote(field.column)} = v.c{i}")
    names = ", ".join(["pk", *(f"c{i}" for i in range(len(columns)))])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {', '.join(sets)} "  # noqa: S608 (identifiers from the model)
        f"FROM unnest({', '.join(arrays)}) AS v({names}) "
        f"WHERE t.{quote(meta.pk.column)} = v.pk AND t.organization_id = {ORG}"
    )
    with tenant_cursor(org_id) as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
