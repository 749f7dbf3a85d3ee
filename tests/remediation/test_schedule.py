"""The Beat schedule: crontab entries with ``expires`` on the maintenance queue, every task registered."""

from datetime import timedelta

from celery.schedules import crontab
from django.conf import settings

from mutt_project.celery import app
from mutt_project.queues import TaskName


def test_every_remediation_job_is_scheduled_as_expiring_crontab_on_maintenance():
    schedule = {k: v for k, v in settings.CELERY_BEAT_SCHEDULE.items() if not k.startswith("heartbeat-")}
    assert {entry["task"] for entry in schedule.values()} == {
        TaskName.SWEEP_STALE,
        TaskName.REPLAY_DEAD_LETTERS,
        TaskName.ENSURE_PARTITIONS,
        TaskName.ENFORCE_RETENTION,
        TaskName.PRUNE_BATCHES,
        TaskName.RULE_HEALTH,  # rule lab (issue 10): rule health from the audit trail
        TaskName.EXPORT_OUTBOX_STATS,
        TaskName.EMAIL_DIGESTS,  # issue 14: every EMAIL_DIGEST_SECONDS (seconds, not a crontab)
        TaskName.PRUNE_SIGNATURES,  # issue 14
    }
    for name, entry in schedule.items():
        if name == "email-digests":  # an interval in seconds, expiring before the next run
            assert entry["schedule"] == 60.0 and 0 < entry["options"]["expires"] < entry["schedule"]
        else:
            # The outbox gauges are refreshed every 15 s, finer than a crontab can say.
            # Dead-letter replay every REMEDIATION_INTERVAL_SECONDS (60 by default).
            interval = name in ("export-outbox-stats", "replay-dead-letters")
            assert isinstance(entry["schedule"], timedelta if interval else crontab)
        assert entry["options"]["queue"] == "maintenance" and entry["options"]["expires"] > 0
        app.loader.import_default_modules()
        assert entry["task"] in app.tasks


def test_every_queue_gets_an_expiring_heartbeat_every_ten_seconds():
    beats = {k: v for k, v in settings.CELERY_BEAT_SCHEDULE.items() if k.startswith("heartbeat-")}
    assert {v["options"]["queue"] for v in beats.values()} == {"classify", "forward", "maintenance"}
    app.loader.import_default_modules()
    for entry in beats.values():
        assert entry["task"] == TaskName.QUEUE_HEARTBEAT and entry["task"] in app.tasks
        assert entry["schedule"] == 10.0 and entry["args"] == [entry["options"]["queue"]]
        assert entry["options"]["expires"] < entry["schedule"]
