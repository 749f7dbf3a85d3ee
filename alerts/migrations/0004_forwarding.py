"""Reserved for the forwarding and remediation work; add its schema changes here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alerts", "0003_classification")]
    operations: list = []
