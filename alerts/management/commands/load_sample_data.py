from django.core.management.base import BaseCommand
from django.db import transaction

from alerts.models import AlertRule, DevelopmentHost, DeviceTeam
from alerts.sample_data import SAMPLE_DEV_HOSTS, SAMPLE_DEVICE_TEAMS, SAMPLE_RULES


class Command(BaseCommand):
    help = "Load the reference documents' sample rules, development hosts and device teams (idempotent)."

    @transaction.atomic
    def handle(self, *args, **opts):
        created = 0
        for spec in SAMPLE_RULES:
            lookup = {k: spec.get(k) for k in ("match_string", "trap_oid", "match_type", "syslog_severity")}
            rule = AlertRule(**spec, created_by="sample-data")
            rule.full_clean()
            _, was_created = AlertRule.objects.get_or_create(
                **lookup, defaults={k: v for k, v in spec.items() if k not in lookup} | {"created_by": "sample-data"}
            )
            created += was_created
        for spec in SAMPLE_DEV_HOSTS:
            created += DevelopmentHost.objects.get_or_create(hostname=spec["hostname"], defaults=spec)[1]
        for spec in SAMPLE_DEVICE_TEAMS:
            created += DeviceTeam.objects.get_or_create(hostname=spec["hostname"], defaults=spec)[1]
        self.stdout.write(f"sample data: {created} rows created ({AlertRule.objects.count()} rules in total)")
