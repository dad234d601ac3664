"""Each pytest-xdist worker on its own Redis databases and private files.

pytest-django gives each worker its own test database (test_<name>_gw<k>); Redis and
PRIVATE_ROOT come from the environment, so this plugin rewrites them in the worker before
Django reads its settings. tests/conftest.py loads it into every worker
(`pytest_xdist_setupnodes`); the controller and a run without `-n` keep the base values.

Worker k takes Redis databases A + k*s and B + k*s, where A and B are the base REDIS_URL and
CELERY_BROKER_URL databases and s (the stride) is |B - A| + 1, so no two workers share one:
CI's 7 and 8 give workers 0..3 the databases 7..14, all below a default Redis's 16.
TEST_REDIS_STRIDE overrides s. PRIVATE_ROOT gains the suffix "-gw<k>".
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit, urlunsplit

import pytest

# Set in a worker once its environment is derived: a pytest the worker starts (it inherits
# PYTEST_XDIST_WORKER) does not shift the numbers a second time.
DERIVED = "TEST_PARALLEL_DERIVED"


def _db(url: str) -> int:
    path = urlsplit(url).path.strip("/")
    return int(path) if path.isdigit() else 0


def _with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


def worker_index(worker_id: str) -> int:
    match = re.fullmatch(r"gw(\d+)", worker_id)
    if not match:
        raise ValueError(f"not a pytest-xdist worker id: {worker_id!r}")
    return int(match.group(1))


def worker_environ(environ: dict[str, str] | os._Environ, worker_id: str) -> dict[str, str]:
    """The variables to change for worker `worker_id` ("gw0", "gw1", ...) given the base environment."""
    if environ.get(DERIVED) == worker_id:
        return {}
    k = worker_index(worker_id)
    changed = {DERIVED: worker_id}
    redis_url, broker_url = environ.get("REDIS_URL", ""), environ.get("CELERY_BROKER_URL", "")
    redis_ok, broker_ok = redis_url.startswith("redis"), broker_url.startswith("redis")
    a = _db(redis_url) if redis_ok else 0
    b = _db(broker_url) if broker_ok else a
    stride = int(environ.get("TEST_REDIS_STRIDE") or (abs(b - a) + 1 if redis_ok and broker_ok else 1))
    if redis_ok:
        changed["REDIS_URL"] = _with_db(redis_url, a + k * stride)
    if broker_ok:
        changed["CELERY_BROKER_URL"] = _with_db(broker_url, b + k * stride)
    if environ.get("PRIVATE_ROOT"):
        changed["PRIVATE_ROOT"] = f"{environ['PRIVATE_ROOT'].rstrip('/')}-{worker_id}"
    return changed


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # After pytest-env (its defaults are the base), before pytest-django loads the settings.
    worker_id = os.environ.get("PYTEST_XDIST_WORKER")
    if worker_id:
        os.environ.update(worker_environ(os.environ, worker_id))
