"""Intentionally empty: it changes nothing and never will.

It was reserved for schema work that turned out to need none. It stays
because deployed databases have recorded it and later migrations depend on
it; new schema changes go into new migrations.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("alerts", "0004_forwarding")]
    operations: list = []
