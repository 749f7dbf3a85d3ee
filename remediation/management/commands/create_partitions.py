"""Create the monthly audit-log partitions ahead of time."""

from django.conf import settings
from django.core.management.base import BaseCommand

from remediation.partitions import partitions_ensure


class Command(BaseCommand):
    help = "Create event_audit_log partitions for this month and N months ahead (moves DEFAULT-partition rows)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--months",
            type=int,
            default=settings.PARTITION_MONTHS_AHEAD,
            help="months ahead of the current one (default PARTITION_MONTHS_AHEAD)",
        )

    def handle(self, *args, months, **options):
        created = partitions_ensure(months_ahead=months)
        self.stdout.write(f"created: {', '.join(created)}" if created else "all partitions exist")
