import pytest
from django.db import connection

from alerts.models import OidMapping
from alerts.trap_defaults import standard_traps_load


@pytest.fixture(autouse=True)
def lifecycle_fresh(transactional_db):
    """An empty audit log (unmanaged: flush leaves it) and the standard trap names (flush removes them)."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")
    standard_traps_load(OidMapping)
