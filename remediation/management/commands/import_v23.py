"""Upgrade from MUTT v2.3: rules, development hosts, device teams, audit history, and queued events."""

from django.core.management.base import BaseCommand, CommandError

from remediation.legacy_import import import_v23


class Command(BaseCommand):
    help = (
        "Import a MUTT v2.3 database (--from postgres://...) and drain its Redis lists (--redis redis://...) "
        "into this MUTT. Idempotent: a second run changes nothing. Stop v2.3 first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="dsn", help="the v2.3 PostgreSQL, e.g. postgres://user@host/mutt")
        parser.add_argument("--redis", dest="redis_url", help="the v2.3 Redis, e.g. redis://host:6379/0")

    def handle(self, *args, dsn, redis_url, **options):
        if not dsn and not redis_url:
            raise CommandError("give --from postgres://... and/or --redis redis://...")
        try:
            report = import_v23(dsn=dsn, redis_url=redis_url)
        except Exception as exc:  # noqa: BLE001 - one clear line for the operator; the log has the traceback
            raise CommandError(f"import stopped: {type(exc).__name__}: {exc}") from exc
        self.stdout.write(
            f"rules {report.rules}, development hosts {report.dev_hosts}, device teams {report.device_teams}, "
            f"audit rows {report.audit_rows}, queued events {report.queued_events} "
            f"(unreadable {report.unreadable_messages}), already imported {report.skipped}"
        )
        for name, count in report.lists.items():
            self.stdout.write(f"drained {name}: {count} messages")
        if not report.changed():
            self.stdout.write("nothing new to import")
