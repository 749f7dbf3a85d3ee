"""The MUTT Celery app: Redis broker, acks late, JSON only, routed queues."""

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutt_project.settings")

app = Celery("mutt")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _broker_url_from_settings(sender=None, **_kwargs) -> None:
    """Celery prefers a CELERY_BROKER_URL environment variable to its settings; with Sentinel the
    settings hold that URL's ``sentinel://`` form, which must win (the settings have read the variable)."""
    from django.conf import settings

    if settings.REDIS_SENTINEL_HOSTS:
        os.environ.pop("CELERY_BROKER_URL", None)


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


# ---- issue 13: bounded database sessions in workers; every retry logged with its reason ----
from celery.signals import task_retry, worker_init  # noqa: E402


@worker_init.connect
def _mutt_worker_db_limits(sender=None, **_kwargs) -> None:
    """statement_timeout / lock_timeout on every session of this worker (mutt_project.worker_db)."""
    from mutt_project.worker_db import worker_limits_enable

    try:
        queues = list(sender.app.amqp.queues.consume_from or {})
    except AttributeError:
        queues = []
    worker_limits_enable(queues)


@task_retry.connect
def _mutt_task_retry_log(request=None, reason=None, **_kwargs) -> None:
    import logging

    logging.getLogger("mutt.tasks").warning(
        "task %s retries: %s: %s", getattr(request, "task", "?"), type(reason).__name__, str(reason).strip()[:500]
    )


# ---- Redis through Sentinel: a worker or Beat with Sentinel settings that cannot work stops at once ----
from celery.signals import beat_init  # noqa: E402


@worker_init.connect
@beat_init.connect
def _mutt_sentinel_check(**_kwargs) -> None:
    from mutt_project.redis_client import startup_check

    startup_check()


# ---- every worker observable: its own /metrics, /livez and /readyz (MUTT_WORKER_METRICS_PORT) ----
from celery.signals import worker_ready  # noqa: E402

from mutt_project.worker_metrics import WorkerMetricsStep  # noqa: E402

app.steps["worker"].add(WorkerMetricsStep)


@worker_ready.connect
def _mutt_worker_ready(sender=None, **_kwargs) -> None:
    heartbeat = getattr(getattr(sender, "controller", None), "mutt_heartbeat", None)
    if heartbeat is not None:
        heartbeat.ready = True
