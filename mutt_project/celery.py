"""The MUTT Celery app: Redis broker, acks late, JSON only, routed queues."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")

app = Celery("mutt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# ---- issue 11: worker logs in MUTT's format (JSON when LOG_FORMAT=json, ids, no secrets) ----
@after_setup_logger.connect
@after_setup_task_logger.connect
def _mutt_log_format(logger=None, **_kwargs) -> None:
    from django.conf import settings

    from mutt_project.log_format import ContextFilter, JsonFormatter, RedactFilter

    for handler in logger.handlers:
        if settings.LOG_FORMAT == "json":
            handler.setFormatter(JsonFormatter())
        handler.addFilter(ContextFilter())
        handler.addFilter(RedactFilter())
