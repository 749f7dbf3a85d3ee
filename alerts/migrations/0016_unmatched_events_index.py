"""Unmatched events (rule_id IS NULL) by time: the window of the unmatched summary and of
``/api/v2/events?rule_id=none`` reads this partial index, never the matched rows."""

from django.db import migrations

INDEX_SQL = """
CREATE INDEX IF NOT EXISTS event_audit_log_unmatched_idx
    ON event_audit_log (received_at DESC) WHERE rule_id IS NULL;
"""


class Migration(migrations.Migration):
    dependencies = [("alerts", "0015_legacy_import")]

    operations = [
        migrations.RunSQL(INDEX_SQL, reverse_sql="DROP INDEX IF EXISTS event_audit_log_unmatched_idx;"),
    ]
