"""docs/schema.md, the column-level schema reference, is what `manage.py schema_doc` writes from today's models."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from alerts.management.commands import schema_doc


def test_schema_reference_is_current():
    call_command("schema_doc", "--check")


def test_schema_reference_names_every_table_and_column():
    text = schema_doc.TARGET.read_text()
    assert "## `event_audit_log`" in text and "| `rule_id` | integer | yes |" in text
    assert "## `alert_outbox`" in text and "## `dead_letters`" in text


def test_a_stale_reference_fails_the_check(tmp_path, monkeypatch):
    stale = tmp_path / "schema.md"
    stale.write_text(schema_doc.schema_markdown().replace("| `rule_id` |", "| `rule` |"))
    monkeypatch.setattr(schema_doc, "TARGET", stale)
    with pytest.raises(CommandError, match="out of date"):
        call_command("schema_doc", "--check")
