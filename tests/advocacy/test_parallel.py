"""pytest-xdist workers each on their own Redis databases and private files (tests/parallel.py)."""

import os

import pytest
from django.conf import settings

from tests.parallel import DERIVED, worker_environ

CI = {
    "REDIS_URL": "redis://127.0.0.1:6379/7",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/8",
    "PRIVATE_ROOT": "var/test-private",
}


def _dbs(env: dict) -> set[int]:
    return {int(env[name].rsplit("/", 1)[1]) for name in ("REDIS_URL", "CELERY_BROKER_URL")}


def test_four_workers_on_ci_take_eight_distinct_databases_below_sixteen():
    taken = [_dbs(worker_environ(CI, f"gw{k}")) for k in range(4)]
    assert taken == [{7, 8}, {9, 10}, {11, 12}, {13, 14}]
    assert len(set().union(*taken)) == 8 and max(set().union(*taken)) < 16


def test_worker_k_shifts_both_databases_by_the_stride_and_keeps_host_and_port():
    env = worker_environ(
        {"REDIS_URL": "redis://cache.local:6380/20", "CELERY_BROKER_URL": "redis://cache.local:6380/21"}, "gw3"
    )
    assert env["REDIS_URL"] == "redis://cache.local:6380/26"
    assert env["CELERY_BROKER_URL"] == "redis://cache.local:6380/27"


def test_databases_apart_do_not_collide_and_a_stride_can_be_set():
    base = {"REDIS_URL": "redis://h:1/1", "CELERY_BROKER_URL": "redis://h:1/5"}
    taken = [_dbs(worker_environ(base, f"gw{k}")) for k in range(4)]
    assert len(set().union(*taken)) == 8, taken
    forced = worker_environ({**base, "TEST_REDIS_STRIDE": "10"}, "gw1")
    assert _dbs(forced) == {11, 15}


def test_private_files_get_the_worker_suffix_and_worker_zero_keeps_its_databases():
    env = worker_environ(CI, "gw0")
    assert _dbs(env) == {7, 8}
    assert env["PRIVATE_ROOT"] == "var/test-private-gw0"
    assert worker_environ(CI, "gw2")["PRIVATE_ROOT"] == "var/test-private-gw2"


def test_a_derived_environment_is_not_shifted_twice():
    """A pytest started by a worker (tests/advocacy/test_harness.py) inherits its environment."""
    once = {**CI, **worker_environ(CI, "gw2")}
    assert worker_environ(once, "gw2") == {}


def test_a_database_less_url_counts_as_zero_and_other_brokers_are_left_alone():
    env = worker_environ({"REDIS_URL": "redis://h:1", "CELERY_BROKER_URL": "filesystem://"}, "gw1")
    assert env["REDIS_URL"] == "redis://h:1/1" and "CELERY_BROKER_URL" not in env


def test_not_an_xdist_worker_id_is_refused():
    with pytest.raises(ValueError):
        worker_environ(CI, "main")


def test_this_process_runs_on_what_the_derivation_gave_it():
    """Under `-n`, the settings Django loaded are the worker's derived ones; without it, the base."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        assert os.environ[DERIVED] == worker
        assert worker in {f"gw{k}" for k in range(int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))}
        assert str(settings.PRIVATE_ROOT).endswith(f"-{worker}")
    else:
        assert DERIVED not in os.environ
    assert os.environ["REDIS_URL"] == settings.REDIS_URL
    assert os.environ["CELERY_BROKER_URL"] == settings.CELERY_BROKER_URL
