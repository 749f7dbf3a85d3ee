"""Drop (or detach for archive) audit-log partitions past retention."""

from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from remediation.partitions import partitions_drop_old


class Command(BaseCommand):
    help = "Drop event_audit_log partitions entirely older than the retention period."

    def add_arguments(self, parser):
        parser.add_argument("--retention-days", type=int, default=settings.EVENT_RETENTION_DAYS)
        parser.add_argument("--archive", action="store_true", help="DETACH instead of DROP (the table stays)")
        parser.add_argument("--dry-run", action="store_true", help="list the partitions, change nothing")
        parser.add_argument("--now", type=datetime.fromisoformat, help="pretend it is this time (rehearsals)")

    def handle(self, *args, retention_days, archive, dry_run, now=None, **options):
        names = partitions_drop_old(now=now, retention_days=retention_days, archive=archive, dry_run=dry_run)
        verb = "would drop" if dry_run else ("detached" if archive else "dropped")
        self.stdout.write(f"{verb}: {', '.join(names)}" if names else "no partition past retention")
