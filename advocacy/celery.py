"""The Celery app: queues `default`, `publish`, `metrics`; the beat schedule is in settings."""

import logging
import os
import sys

from celery import Celery
from celery.signals import celeryd_after_setup
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advocacy.settings")

app = Celery("advocacy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "publish", "metrics")]
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@celeryd_after_setup.connect
def tune_thread_pool(sender=None, instance=None, **kwargs) -> None:
    """A worker of the thread pool (the publisher) switches threads every
    WORKER_THREADS_SWITCH_INTERVAL: its threads wait on answers, not on the CPU, and each
    answer's thread waits for the interpreter lock up to the interval. Other pools are left
    as they are (a prefork child runs one task at a time)."""
    pool = getattr(instance, "pool_cls", "")
    name = pool if isinstance(pool, str) else getattr(pool, "__module__", "")
    if "thread" not in name:
        return
    from django.conf import settings

    sys.setswitchinterval(settings.WORKER_THREADS_SWITCH_INTERVAL)
    logger.info("Thread pool: the interpreter switches threads every %.1f ms", sys.getswitchinterval() * 1000)
