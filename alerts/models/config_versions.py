"""Configuration as code: numbered versions of the whole configuration, and lookup tables."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models

from alerts.models.rules import ConfigQuerySet

LOOKUP_NAME_RE = r"^[a-z][a-z0-9_]{0,62}$"


class ConfigVersion(models.Model):
    """One numbered state of the operator configuration: the exported file, who, when, why.

    Written by every apply and rollback (``alerts.services.config_apply``) and
    after every admin or API change (``alerts.services.config_versions``);
    ``content`` is the canonical export, so any two versions diff and any one
    can be applied again (a rollback is a new version).
    """

    number = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150)
    reason = models.TextField(blank=True, default="")
    source = models.CharField(max_length=16, default="apply")  # apply, rollback, admin
    content_hash = models.CharField(max_length=64)
    content = models.TextField()
    correlation_id = models.UUIDField(null=True, blank=True)

    class Meta:
        db_table = "config_versions"
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number} by {self.created_by} ({self.content_hash[:12]})"


class LookupTable(models.Model):
    """An enrichment table: ``key_column`` value of an event (e.g. hostname) → named values.

    Compiled into the rule cache as one dict, so a rule can match an enriched
    field (``criticality=high``) with one dict lookup per event.
    """

    name = models.CharField(max_length=63, unique=True)
    key_column = models.CharField(max_length=63, default="hostname")
    value_columns = models.JSONField(default=list)
    description = models.TextField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConfigQuerySet.as_manager()

    class Meta:
        db_table = "lookup_tables"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        import re

        errors = {}
        if not re.match(LOOKUP_NAME_RE, self.name or ""):
            errors["name"] = "Lower-case letters, digits and _ (a letter first)."
        if self.key_column not in ("hostname", "trap_oid", "source"):
            errors["key_column"] = "Key column must be an event field: hostname, trap_oid or source."
        columns = self.value_columns
        if (
            not isinstance(columns, list)
            or not columns
            or not all(isinstance(c, str) and re.match(LOOKUP_NAME_RE, c) for c in columns)
        ):
            errors["value_columns"] = "One or more column names (lower-case letters, digits and _)."
        elif len(set(columns)) != len(columns) or self.key_column in columns:
            errors["value_columns"] = "Column names must be distinct and differ from the key column."
        if errors:
            raise ValidationError(errors)


class LookupRow(models.Model):
    """One key of a lookup table and its values (a list in ``value_columns`` order).

    Loaded in bulk with COPY (``alerts.services.lookup_tables``); read whole when the rule cache compiles.
    """

    table = models.ForeignKey(LookupTable, on_delete=models.CASCADE, related_name="rows")
    key = models.TextField()
    values = models.JSONField()

    class Meta:
        db_table = "lookup_rows"
        constraints = [models.UniqueConstraint(fields=["table", "key"], name="lookup_rows_table_key_uniq")]

    def __str__(self) -> str:
        return f"{self.table_id}:{self.key}"
