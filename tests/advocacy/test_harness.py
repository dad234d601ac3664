"""The test command itself: a service that is down stops the run with a way to start it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_pytest_with(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/advocacy/test_tenancy.py", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_postgres_down_fails_fast_with_the_command_to_start_it():
    result = run_pytest_with(DATABASE_URL="postgres://postgres@127.0.0.1:1/advocacy")
    assert result.returncode == 3
    assert "PostgreSQL is not reachable at 127.0.0.1:1" in result.stdout + result.stderr
    assert "pg_ctlcluster" in result.stdout + result.stderr


def test_redis_down_fails_fast_with_the_command_to_start_it():
    result = run_pytest_with(REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode == 3
    assert "Redis is not reachable at 127.0.0.1:1" in result.stdout + result.stderr
