"""``manage.py moog_breaker_reset --reason "Moogsoft back after maintenance"``: close the breaker now, audited."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand

from remediation.operator_actions import moog_breaker_reset


class Command(BaseCommand):
    help = "Reset the Moogsoft circuit breaker to closed (audited): the next alert is sent at once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--reason", default="", help="why (kept in the configuration audit)")
        parser.add_argument("--user", default="", help="who (default: the login name running the command)")

    def handle(self, *args, reason: str, user: str, **options) -> None:
        who = user or f"manage.py:{getpass.getuser()}"
        result = moog_breaker_reset(user=who, reason=reason or "manage.py moog_breaker_reset")
        before = result["before"]
        self.stdout.write(
            f"Moogsoft breaker reset: was {before['state']} ({before['failures']} failures), now {result['after']['state']}"
        )
