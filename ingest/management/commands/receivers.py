"""``manage.py receivers``: the native syslog (UDP, TCP, TLS) and SNMP trap receivers in the foreground."""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the native receivers: syslog over UDP, TCP and TLS, SNMP traps and informs (docs/receivers.md)."

    def handle(self, *args, **options):
        os.environ.setdefault("MUTT_SERVICE_NAME", "receivers")
        from ingest.receivers import main

        main()
