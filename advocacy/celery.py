"""The Celery app: queues `default`, `publish`, `metrics`; the beat schedule is in settings."""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advocacy.settings")

app = Celery("advocacy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in ("default", "publish", "metrics")]
app.autodiscover_tasks()
