"""Celery wiring: the three queues, routes by task name, a beat schedule of real tasks."""

from advocacy.celery import app


def test_queues_are_default_publish_metrics():
    assert sorted(q.name for q in app.conf.task_queues) == ["default", "metrics", "publish"]
    assert app.conf.task_default_queue == "default"


def test_routes_send_publishing_and_metrics_work_to_their_queues():
    router = app.amqp.router
    assert router.route({}, "content.tasks.publish_delivery")["queue"].name == "publish"
    assert router.route({}, "analytics.tasks.pull_metrics")["queue"].name == "metrics"
    assert router.route({}, "accounts.tasks.run_invitation_import")["queue"].name == "default"


def test_beat_schedule_names_registered_tasks():
    app.loader.import_default_modules()
    assert app.conf.beat_schedule, "the beat schedule is kept in code"
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks, entry["task"]


def test_the_settings_ack_tasks_late_requeue_them_if_the_worker_is_lost_and_prefetch_one():
    """The configuration only: no worker dies here. A real SIGKILL mid-task, and what it
    leaves behind, is tests/content/test_publishing_crash.py."""
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def _worker_log(tmp_path, pool: str, extra_env: dict) -> str:
    """Start a real worker with `pool` on a queue of its own, wait for its ping, stop it;
    its log."""
    import os
    import uuid

    from tests.conftest import start_worker

    node = f"switch-{uuid.uuid4().hex[:8]}@localhost"
    log = tmp_path / f"{pool}.log"
    args = ["-Q", f"nobody-{node}", f"--pool={pool}", "--concurrency=2"]
    process = start_worker(node, args, {**os.environ, **extra_env}, log)
    process.terminate()
    process.wait(timeout=30)
    return log.read_text()


def test_a_thread_pool_worker_switches_threads_at_the_configured_interval_and_prefork_is_left_alone(tmp_path):
    threads = _worker_log(tmp_path, "threads", {"WORKER_THREADS_SWITCH_INTERVAL": "0.002"})
    assert "Thread pool: the interpreter switches threads every 2.0 ms" in threads
    prefork = _worker_log(tmp_path, "prefork", {"WORKER_THREADS_SWITCH_INTERVAL": "0.002"})
    assert "celery@" in prefork or "ready" in prefork  # it started and logged
    assert "switches threads" not in prefork
