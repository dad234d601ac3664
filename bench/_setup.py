"""Shared by the benchmarks: a PostgreSQL database of their own, migrated, and Django set up.

BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/advocacy_bench) is created
when missing and reused afterwards; a development DATABASE_URL is never touched.

Benchmarks that request pages use Django's test client without `setup_test_environment()`:
that would instrument every template render to copy its context for assertions, a cost
production never pays and one that grows with how many templates a page includes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _bench_secrets() -> dict:
    """The benchmark database's own keys, made once and kept beside it (var/, not in git): data
    seeded by one run (audit chains signed with a key derived from SECRET_KEY, encrypted tokens)
    stays readable by the next. Keys new to each run made a reused seed's chain unverifiable."""
    import json

    from cryptography.fernet import Fernet

    path = ROOT / "var" / "bench-secrets.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        keys = {
            "SECRET_KEY": "bench-only-" + os.urandom(16).hex(),
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        }
        path.write_text(json.dumps(keys))
        path.chmod(0o600)
    return json.loads(path.read_text())


def _configure() -> None:
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/advocacy_bench"
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advocacy.settings")
    os.environ.setdefault("DEBUG", "0")
    for name, value in _bench_secrets().items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("REPORT_WARMING", "0")  # no worker here: the benches time the page itself
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")


def setup_django() -> None:
    _configure()
    from advocacy.devdb import ensure_database

    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
