"""Configuration as code: a natural key per rule, numbered configuration versions, lookup tables."""

import django.db.models.deletion
from django.db import migrations, models

import alerts.models.rules

MATCH_TYPES = ["contains", "regex", "oid_prefix", "severity", "trap_name", "lookup"]


class Migration(migrations.Migration):
    dependencies = [("alerts", "0018_ingest_keys")]

    operations = [
        migrations.AddField(
            model_name="alertrule",
            name="key",
            field=models.CharField(
                blank=True, help_text="Name in the configuration file", max_length=100, null=True, unique=True
            ),
        ),
        migrations.RunSQL(
            "UPDATE alert_rules SET key = 'rule-' || id WHERE key IS NULL", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.RemoveConstraint(model_name="alertrule", name="alert_rules_valid_match_type"),
        migrations.AlterField(
            model_name="alertrule",
            name="match_type",
            field=models.CharField(
                choices=[
                    ("contains", "Contains (substring)"),
                    ("regex", "Regex (RE2)"),
                    ("oid_prefix", "SNMP trap OID prefix"),
                    ("severity", "Syslog severity only"),
                    ("trap_name", "SNMP trap name (from the OID mappings)"),
                    ("lookup", "Enriched field from a lookup table (field=value)"),
                ],
                default="contains",
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="alertrule",
            constraint=models.CheckConstraint(
                condition=models.Q(("match_type__in", MATCH_TYPES)), name="alert_rules_valid_match_type"
            ),
        ),
        migrations.CreateModel(
            name="ConfigVersion",
            fields=[
                ("number", models.BigAutoField(primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("created_by", models.CharField(max_length=150)),
                ("reason", models.TextField(blank=True, default="")),
                ("source", models.CharField(default="apply", max_length=16)),
                ("content_hash", models.CharField(max_length=64)),
                ("content", models.TextField()),
                ("correlation_id", models.UUIDField(blank=True, null=True)),
            ],
            options={"db_table": "config_versions", "ordering": ["-number"]},
        ),
        migrations.CreateModel(
            name="LookupTable",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=63, unique=True)),
                ("key_column", models.CharField(default="hostname", max_length=63)),
                ("value_columns", models.JSONField(default=list)),
                ("description", models.TextField(blank=True, default="")),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"db_table": "lookup_tables", "ordering": ["name"]},
            managers=[("objects", alerts.models.rules.ConfigQuerySet.as_manager())],
        ),
        migrations.CreateModel(
            name="LookupRow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.TextField()),
                ("values", models.JSONField()),
                (
                    "table",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="rows", to="alerts.lookuptable"
                    ),
                ),
            ],
            options={
                "db_table": "lookup_rows",
                "constraints": [models.UniqueConstraint(fields=("table", "key"), name="lookup_rows_table_key_uniq")],
            },
        ),
        # The audit table is partitioned and unmanaged: its column is added in SQL.
        migrations.RunSQL(
            "ALTER TABLE event_audit_log ADD COLUMN IF NOT EXISTS enrichment JSONB",
            reverse_sql="ALTER TABLE event_audit_log DROP COLUMN IF EXISTS enrichment",
        ),
    ]
