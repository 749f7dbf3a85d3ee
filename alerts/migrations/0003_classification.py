"""Reserved for the classification work; add its schema changes here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_event_audit_log_partitioned")]
    operations: list = []
