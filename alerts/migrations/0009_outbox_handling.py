"""Forwarding priority classes (issue 15): the outbox row's handling, derived from its payload, and
the index the claim query walks per handling (due rows oldest first)."""

import django.db.models.fields.json
import django.db.models.functions.comparison
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("alerts", "0008_runtime_settings")]

    operations = [
        migrations.AddField(
            model_name="alertoutbox",
            name="handling",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Coalesce(
                    django.db.models.fields.json.KT("payload__handling"),
                    models.Value(""),
                    output_field=models.TextField(),
                ),
                output_field=models.TextField(),
            ),
        ),
        migrations.AddIndex(
            model_name="alertoutbox",
            index=models.Index(fields=["handling", "next_attempt_at", "id"], name="alert_outbox_claim"),
        ),
    ]
