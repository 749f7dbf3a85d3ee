"""Fixtures of the alerts tests."""

import pytest
from django.db import connection


@pytest.fixture
def empty_audit_log(transactional_db):
    """``event_audit_log`` is unmanaged (partitioned by raw SQL), so Django's flush leaves it alone."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE event_audit_log")
