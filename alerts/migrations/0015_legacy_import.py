"""Upgrade from v2.3: the record of what has been imported (import_v23 is idempotent through it)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("alerts", "0014_audit_log_keys")]

    operations = [
        migrations.CreateModel(
            name="LegacyImport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "key",
                    models.CharField(
                        help_text="e.g. alert_rules:12, redis:mutt:ingest_queue:<sha>", max_length=255, unique=True
                    ),
                ),
                (
                    "target_id",
                    models.BigIntegerField(blank=True, help_text="the MUTT row it became, when one", null=True),
                ),
                ("detail", models.JSONField(blank=True, default=dict)),
                ("imported_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"db_table": "legacy_imports", "ordering": ["id"]},
        ),
    ]
