"""The database `make run` uses: DATABASE_URL when set; else a local PostgreSQL when one
answers on 127.0.0.1:5432 (database `advocacy_dev`, created when missing); else it exits
with the command that starts one. PostgreSQL only: the audit trail's guard and the
analytics' set-based SQL are PostgreSQL's, and there is no second SQL to keep in step.

    eval "$(python -m advocacy.devdb)"   # sets OWNER_URL, APP_URL and APP_ROLE (the Makefile)

Locally, as in production, the migrations run as the owner (OWNER_URL) and the product as a
role that owns nothing (APP_URL, APP_ROLE; advocacy/dbroles.py). With a DATABASE_URL of
your own, DATABASE_APP_URL names the application's connection (else it is DATABASE_URL
itself, and the audit verify page says the database does not guard the trail).

`ensure_database` is shared with the benchmarks (bench/_setup.py).
"""

from __future__ import annotations

import os
import shlex
import socket
import sys
from urllib.parse import unquote, urlparse, urlunparse

LOCAL_POSTGRES = "postgres://postgres@127.0.0.1:5432/advocacy_dev"
APP_ROLE = "advocacy_app"


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database `url` names when it does not exist (no-op otherwise)."""
    parts = urlparse(url)
    if not parts.scheme.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    name = unquote(parts.path.lstrip("/"))
    conn = psycopg.connect(
        dbname="postgres",
        user=unquote(parts.username or "") or None,
        password=unquote(parts.password or "") or None,
        host=parts.hostname or None,
        port=parts.port or None,
        autocommit=True,  # CREATE DATABASE cannot run inside a transaction
    )
    try:
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
    except Exception:  # a server that refuses us: say how to start one
        return False
    return True


NO_DATABASE = """make run needs PostgreSQL, and none answers on 127.0.0.1:5432 (user postgres, no password).
Start one, e.g.
    docker compose --profile dev up -d devdb
or point DATABASE_URL at yours:
    DATABASE_URL=postgres://user:password@host:5432/advocacy make run"""


class NoDatabase(SystemExit):
    """No DATABASE_URL and no local PostgreSQL: the message says how to start one."""


def development_urls() -> tuple[str, str, str]:
    """(the owner's URL, the application's URL, the application's role or ""); raises
    NoDatabase when there is no DATABASE_URL and no local PostgreSQL answers."""
    own = os.environ.get("DATABASE_URL")
    if own:
        app = os.environ.get("DATABASE_APP_URL") or own
        return own, app, (unquote(urlparse(app).username or "") if app != own else "")
    if _postgres_answers():
        return LOCAL_POSTGRES, app_url(LOCAL_POSTGRES), APP_ROLE
    raise NoDatabase(NO_DATABASE)


def app_url(url: str, role: str = APP_ROLE) -> str:
    """`url` with `role` as its user (no password: the local server trusts loopback)."""
    parts = urlparse(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunparse(parts._replace(netloc=f"{role}@{host}"))


if __name__ == "__main__":
    try:
        owner, app, role = development_urls()
    except NoDatabase as missing:
        print(missing, file=sys.stderr)
        sys.exit(1)
    print(f"OWNER_URL={shlex.quote(owner)} APP_URL={shlex.quote(app)} APP_ROLE={shlex.quote(role)}")
