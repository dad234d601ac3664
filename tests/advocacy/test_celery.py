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
