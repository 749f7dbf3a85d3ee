"""issue 13: count outbox leases that ended without an outcome (a poison row kills its worker)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("alerts", "0012_lifecycle")]

    operations = [
        migrations.AddField(
            model_name="alertoutbox",
            name="deliveries",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
    ]
