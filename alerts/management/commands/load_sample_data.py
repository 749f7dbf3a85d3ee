from django.core.management.base import BaseCommand
from django.db import transaction

from alerts.models import AlertRule, DevelopmentHost, DeviceTeam
from alerts.sample_data import SAMPLE_DEV_HOSTS, SAMPLE_DEVICE_TEAMS, SAMPLE_RULES
from alerts.services import ConfigChange
from alerts.services.config import config_save

_RULE_KEY = ("match_string", "trap_oid", "match_type", "syslog_severity")


class Command(BaseCommand):
    help = "Load the reference documents' sample rules, development hosts and device teams (idempotent, audited)."

    @transaction.atomic
    def handle(self, *args, **opts):
        # Every row created is audited like an operator's change (user "sample-data").
        change = ConfigChange(user="sample-data", reason="load_sample_data")
        created = 0
        for spec in SAMPLE_RULES:
            if not AlertRule.objects.filter(**{k: spec.get(k) for k in _RULE_KEY}).exists():
                config_save(instance=AlertRule(**spec), change=change)
                created += 1
        for spec in SAMPLE_DEV_HOSTS:
            if not DevelopmentHost.objects.filter(hostname=spec["hostname"]).exists():
                config_save(instance=DevelopmentHost(**spec), change=change)
                created += 1
        for spec in SAMPLE_DEVICE_TEAMS:
            if not DeviceTeam.objects.filter(hostname=spec["hostname"]).exists():
                config_save(instance=DeviceTeam(**spec), change=change)
                created += 1
        self.stdout.write(f"sample data: {created} rows created ({AlertRule.objects.count()} rules in total)")
