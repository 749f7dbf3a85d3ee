"""The configuration audit trail (who changed which rule, host or team, and how)."""

from django.db import models

from alerts.choices import AuditOperation


class ConfigAuditLog(models.Model):
    """One create/update/delete of configuration, written in the same transaction as the change."""

    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    changed_by = models.CharField(max_length=150)
    operation = models.CharField(max_length=10, choices=AuditOperation.choices)
    table_name = models.CharField(max_length=64, db_index=True)
    record_id = models.BigIntegerField(null=True)
    old_values = models.JSONField(null=True, blank=True)
    new_values = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    correlation_id = models.UUIDField(null=True, blank=True)

    class Meta:
        db_table = "config_audit_log"
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["table_name", "record_id"], name="config_audit_record")]

    def __str__(self) -> str:
        return f"{self.changed_at:%Y-%m-%d %H:%M} {self.changed_by} {self.operation} {self.table_name}#{self.record_id}"
