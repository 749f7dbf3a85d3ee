"""``manage.py create_api_key --name NAME --scope read|write|admin``: prints the new key alone on its last line."""

from django.core.management.base import BaseCommand

from alerts.choices import ApiKeyScope
from alerts.services.api_keys import api_key_create


class Command(BaseCommand):
    help = "Create an operator API key. The key is printed once, alone on the last line; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Shown in the audit trail as changed_by.")
        parser.add_argument("--scope", required=True, choices=ApiKeyScope.values)
        parser.add_argument("--rate", default="", help="This key's own limit across all web processes, e.g. 10/s.")

    def handle(self, *args, name, scope, rate, **options):
        api_key, key = api_key_create(name=name, scope=scope, rate_limit=rate)
        self.stderr.write(f"API key {api_key.prefix}… named {name!r} with scope {scope}; store it now:")
        self.stdout.write(key)
