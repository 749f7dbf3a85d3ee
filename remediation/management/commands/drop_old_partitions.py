"""Archive then drop (or detach) audit-log partitions past retention."""

from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from remediation.partitions import partitions_detach_old
from remediation.retention import partitions_archive_and_drop


class Command(BaseCommand):
    help = (
        "Archive (AUDIT_ARCHIVE_URL), verify, then drop event_audit_log partitions entirely older than the "
        "retention period. A partition whose archive fails stays."
    )

    def add_arguments(self, parser):
        parser.add_argument("--retention-days", type=int, default=settings.EVENT_RETENTION_DAYS)
        parser.add_argument("--detach", action="store_true", help="DETACH instead (the table stays, no archive)")
        parser.add_argument("--dry-run", action="store_true", help="list the partitions, change nothing")
        parser.add_argument("--now", type=datetime.fromisoformat, help="pretend it is this time (rehearsals)")

    def handle(self, *args, retention_days, detach, dry_run, now=None, **options):
        if detach and not dry_run:
            names = partitions_detach_old(now=now, retention_days=retention_days)
            self.stdout.write(f"detached: {', '.join(names)}" if names else "no partition past retention")
            return
        run = partitions_archive_and_drop(now=now, retention_days=retention_days, dry_run=dry_run)
        verb = "would drop" if dry_run else "dropped"
        self.stdout.write(f"{verb}: {', '.join(run.dropped)}" if run.dropped else "no partition dropped")
        for key in run.archived:
            self.stdout.write(f"archived: {key}")
        for name, reason in run.kept.items():
            self.stderr.write(f"kept {name}: {reason}")
        if any(reason.startswith("archive failed") for reason in run.kept.values()):
            raise CommandError("some partitions could not be archived and were kept")
