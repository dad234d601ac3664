"""The database `make run` uses: DATABASE_URL when set; else a local PostgreSQL when one
answers on 127.0.0.1:5432 (database `advocacy_dev`, created when missing), because the
audit trail's guard and the analytics' set-based SQL are PostgreSQL's; else SQLite.

    python -m advocacy.devdb      # prints the URL for the Makefile

`ensure_database` is shared with the benchmarks (bench/_setup.py).
"""

from __future__ import annotations

import os
import socket
from urllib.parse import unquote, urlparse

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/advocacy_dev"
SQLITE = "sqlite:///var/advocacy.sqlite3"


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database `url` names when it does not exist (no-op otherwise)."""
    parts = urlparse(url)
    if not parts.scheme.startswith("postgres"):
        return
    import psycopg2
    from psycopg2 import sql

    name = unquote(parts.path.lstrip("/"))
    conn = psycopg2.connect(
        dbname="postgres",
        user=unquote(parts.username or "") or None,
        password=unquote(parts.password or "") or None,
        host=parts.hostname or None,
        port=parts.port or None,
    )
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def _postgres_answers() -> bool:
    local = urlparse(LOCAL_POSTGRES)
    try:
        with socket.create_connection((local.hostname, local.port), timeout=1):
            pass
    except OSError:
        return False
    try:
        ensure_database(LOCAL_POSTGRES)
    except Exception:  # a server that refuses us: fall back to SQLite
        return False
    return True


def development_url() -> str:
    return os.environ.get("DATABASE_URL") or (LOCAL_POSTGRES if _postgres_answers() else SQLITE)


if __name__ == "__main__":
    print(development_url())
