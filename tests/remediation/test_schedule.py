"""The Beat schedule: crontab entries with ``expires`` on the maintenance queue, every task registered."""

from datetime import timedelta

from celery.schedules import crontab
from django.conf import settings

from mutt_project.celery import app
from mutt_project.queues import TaskName


def test_every_remediation_job_is_scheduled_as_expiring_crontab_on_maintenance():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert {entry["task"] for entry in schedule.values()} == {
        TaskName.SWEEP_STALE,
        TaskName.REPLAY_DEAD_LETTERS,
        TaskName.ENSURE_PARTITIONS,
        TaskName.ENFORCE_RETENTION,
        TaskName.PRUNE_BATCHES,
        TaskName.EXPORT_OUTBOX_STATS,
    }
    for name, entry in schedule.items():
        # The outbox gauges are refreshed every 15 s, finer than a crontab can say.
        assert isinstance(entry["schedule"], timedelta if name == "export-outbox-stats" else crontab)
        assert entry["options"]["queue"] == "maintenance" and entry["options"]["expires"] > 0
        app.loader.import_default_modules()
        assert entry["task"] in app.tasks
