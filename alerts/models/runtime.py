"""Runtime settings stored in PostgreSQL (their source of truth)."""

from django.db import models


class RuntimeSetting(models.Model):
    """An operator's value for one runtime setting (``alerts.runtime_catalog``).

    A setting without a row, or with ``value`` null, uses its environment
    default. Changed only through ``alerts.services.runtime.runtime_setting_set``,
    which validates, audits in ``config_audit_log`` and bumps the version key
    that ``alerts.dynamic_config`` watches.
    """

    name = models.CharField(max_length=64, primary_key=True)
    value = models.JSONField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        db_table = "runtime_settings"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
