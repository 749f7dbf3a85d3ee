"""The MUTT Celery app: Redis broker, acks late, JSON only, routed queues."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")

app = Celery("mutt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
