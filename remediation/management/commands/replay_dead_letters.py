"""Replay due dead letters now (what the Beat task does every minute)."""

from django.core.management.base import BaseCommand

from alerts.choices import DeadLetterStage
from remediation.dead_letters import dead_letters_replay_due


class Command(BaseCommand):
    help = "Replay pending dead letters that are due (forward ones only while Moogsoft is healthy)."

    def add_arguments(self, parser):
        parser.add_argument("--stage", choices=DeadLetterStage.values)
        parser.add_argument("--dry-run", action="store_true", help="list what would be replayed, change nothing")
        parser.add_argument("--limit", type=int, default=None, help="default: DLQ_BATCH_SIZE")

    def handle(self, *args, stage=None, dry_run=False, limit=None, **options):
        run = dead_letters_replay_due(stage=stage, dry_run=dry_run, limit=limit)
        if dry_run:
            self.stdout.write(f"would replay {len(run.would_replay)} dead letters: {run.would_replay}")
            return
        if run.skipped_unhealthy:
            self.stdout.write(self.style.WARNING("Moogsoft is not healthy: forward dead letters left for later"))
        summary = ", ".join(f"{k}={v}" for k, v in sorted(run.results.items())) or "nothing due"
        self.stdout.write(summary)
