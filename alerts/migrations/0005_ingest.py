"""Reserved for the ingest work; add its schema changes here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alerts", "0004_forwarding")]
    operations: list = []
