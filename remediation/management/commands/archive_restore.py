"""Bring an archived month of the event audit log back as a queryable partition."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from remediation.archive import ArchiveVerifyError
from remediation.archive_store import ArchiveStoreError
from remediation.retention import RestoreError, month_partition, month_restore


def _month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"--month {text!r}: use YYYY-MM") from None


class Command(BaseCommand):
    help = "Restore an archived month (AUDIT_ARCHIVE_URL) into event_audit_log, checked by count and content."

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument(
            "--hold-days", type=int, default=None, help="keep it this long before retention drops it again"
        )

    def handle(self, *args, month, hold_days, **options):
        first = _month(month)
        try:
            manifest = month_restore(first, hold_days=hold_days)
        except (RestoreError, ArchiveVerifyError, ArchiveStoreError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"restored {manifest.rows} rows into {month_partition(first)} (checksum and content verified)"
        )
