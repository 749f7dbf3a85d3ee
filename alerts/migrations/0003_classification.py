"""Classification: drop an index the unique key already provides.

``event_audit_log_correlation_uniq`` is (correlation_id, received_at), so a
lookup by correlation id alone already uses it; the separate
``event_audit_log_correlation_idx`` only cost an extra index insert per
classified event (the hottest write in MUTT).
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_event_audit_log_partitioned")]
    operations = [
        migrations.RunSQL(
            "DROP INDEX IF EXISTS event_audit_log_correlation_idx",
            "CREATE INDEX IF NOT EXISTS event_audit_log_correlation_idx ON event_audit_log (correlation_id)",
        )
    ]
