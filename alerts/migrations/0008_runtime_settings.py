"""Runtime settings (issue 11): operators' values, PostgreSQL as their source of truth."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("alerts", "0010_rule_lab")]

    operations = [
        migrations.CreateModel(
            name="RuntimeSetting",
            fields=[
                ("name", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("value", models.JSONField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("updated_by", models.CharField(blank=True, default="", max_length=150)),
            ],
            options={"db_table": "runtime_settings", "ordering": ["name"]},
        ),
    ]
