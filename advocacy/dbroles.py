"""Two database roles: the owner runs the migrations, the application runs as a role that
owns nothing (DATABASE_APP_ROLE).

After every `migrate` run by the owner, `grant_app_role` gives the application role what it
needs and no more: SELECT, INSERT, UPDATE and DELETE on the product's tables, but only SELECT
and INSERT on the append-only tables (the audit trail), SELECT on `django_migrations`, and
the use of the sequences. A role that owns no table cannot ALTER it, disable or drop its
triggers, or TRUNCATE it; so the application, or whoever takes it over, cannot rewrite the
audit trail at the database level. The owner still can: that is what the keyed chain and
the anchors outside the database are for (`compliance.services.audit`).

    DATABASE_URL=postgres://owner@db/advocacy DATABASE_APP_ROLE=advocacy_app manage.py migrate
    DATABASE_URL=postgres://advocacy_app@db/advocacy gunicorn ...

The role is created when missing (LOGIN, with DATABASE_APP_PASSWORD when set; the owner
needs CREATEROLE for that, otherwise create it beforehand).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction

from advocacy.sql import global_cursor

# Tables the application may only read and append to (registered by the app that owns them).
APPEND_ONLY: set[str] = set()
READ_ONLY = {"django_migrations"}


def append_only(table: str) -> None:
    """Called by an app at startup for a table its rows are never changed in."""
    APPEND_ONLY.add(table)


def _identifier(connection, name: str) -> str:
    return connection.ops.quote_name(name)


def grant_app_role(connection, role: str, password: str | None = None) -> None:
    """Create `role` when missing and give it the application's privileges on every table
    of the connection's database (idempotent; run as the owner after each migration).
    Raises ImproperlyConfigured when `role` is the role running this (the owner)."""
    if not role:
        return
    quoted = _identifier(connection, role)
    with global_cursor(connection=connection) as cursor:  # roles and grants: the catalogue
        cursor.execute("SELECT current_user, current_database()")
        owner, database = cursor.fetchone()
        if owner == role:
            raise ImproperlyConfigured(
                f"DATABASE_APP_ROLE is {role!r}, the role running the migrations. The application "
                "must run as another role, one that owns no table."
            )
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            try:
                with transaction.atomic(using=connection.alias):
                    if password:
                        cursor.execute(f"CREATE ROLE {quoted} LOGIN PASSWORD %s", [password])
                    else:
                        cursor.execute(f"CREATE ROLE {quoted} LOGIN")
            except DatabaseError as exc:
                if getattr(exc.__cause__, "sqlstate", None) != "42710":  # created meanwhile by another migrate
                    raise
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        )
        tables = [row[0] for row in cursor.fetchall()]
        cursor.execute(f"GRANT CONNECT, TEMPORARY ON DATABASE {_identifier(connection, database)} TO {quoted}")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        for table in tables:
            granted = _privileges(table)
            name = _identifier(connection, table)
            # Revoke only what is not granted, so a running application never loses a right.
            cursor.execute(f"REVOKE {', '.join(sorted(ALL_PRIVILEGES - granted))} ON {name} FROM {quoted}")
            cursor.execute(f"GRANT {', '.join(sorted(granted))} ON {name} TO {quoted}")


ALL_PRIVILEGES = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"})


def _privileges(table: str) -> frozenset[str]:
    if table in READ_ONLY:
        return frozenset({"SELECT"})
    if table in APPEND_ONLY:
        return frozenset({"SELECT", "INSERT"})
    return frozenset({"SELECT", "INSERT", "UPDATE", "DELETE"})


@dataclass(frozen=True)
class TableProtection:
    """What the role the application connects as may do to one table."""

    role: str
    owns_table: bool
    superuser: bool
    can_update: bool
    can_delete: bool
    can_truncate: bool

    @property
    def append_only(self) -> bool:
        return not (self.owns_table or self.superuser or self.can_update or self.can_delete or self.can_truncate)


def table_protection(connection, table: str) -> TableProtection | None:
    """How the current connection's role stands to `table` (one query; None for no such table)."""
    with global_cursor(connection=connection) as cursor:  # the catalogue
        cursor.execute(
            """
            SELECT current_user,
                   pg_get_userbyid(c.relowner) = current_user OR pg_has_role(c.relowner, 'USAGE'),
                   r.rolsuper,
                   has_table_privilege(c.oid, 'UPDATE'),
                   has_table_privilege(c.oid, 'DELETE'),
                   has_table_privilege(c.oid, 'TRUNCATE')
              FROM pg_class c, pg_roles r
             WHERE c.oid = to_regclass(%s) AND r.rolname = current_user
            """,
            [table],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    return TableProtection(*row)
